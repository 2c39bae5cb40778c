"""The docker-py container: :class:`DockerContainer`."""

from __future__ import annotations

import contextlib
import posixpath
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import TYPE_CHECKING, Any

import docker.errors
import requests
from docker.models.containers import Container as ApiContainer
from docker.utils.socket import STDERR, frames_iter

from manywheels._lock import owner_token
from manywheels._timing import command_timer
from manywheels.engine._docker._arch import probe_personality
from manywheels.engine._docker._common import engine_call, gone_message, short
from manywheels.engine._docker._create import create_kwargs
from manywheels.engine._docker._stream import GATE, LineSplitter, open_gate
from manywheels.engine._env import CA_BUNDLE_PATH, new_run_id
from manywheels.engine._personality import Personality
from manywheels.engine._protocol import (
    LABEL,
    OWNER_LABEL,
    RUN_LABEL,
    EngineError,
    Sink,
    StdoutLines,
)
from manywheels.engine._tar import SPOOL_BYTES, file_archive, pack_tree, unpack_stream
from manywheels.errors import CommandError, EngineUnavailableError, ImageNotFoundError
from manywheels.naming._platforms import OCI_PLATFORMS

if TYPE_CHECKING:
    from manywheels.config._create_args import CreateOptions
    from manywheels.engine._docker._engine import DockerEngine

__all__ = ["DockerContainer"]


class DockerContainer:
    """A long-lived container; a context manager (implements
    :class:`~manywheels.engine.Container`).

    Args:
        engine: the engine to run it on.
        image: image reference; must be present (see :meth:`DockerEngine.image`).
        env: variables set for every command (the caller decides the allowlist; see
            :func:`index_environment`).
        ca_bundle: host CA bundle placed at :data:`CA_BUNDLE_PATH` (read-only) after start,
            for package index access through TLS-intercepting proxies; ``None`` for none.
        run_id: the run this container belongs to (label :data:`RUN_LABEL`).
        labels: extra labels.
        volumes: host path or named volume -> container path, mounted read-write.
        name: container name; default ``manywheels-<run_id>-<random>``.
        arch: the image's arch (``i686``, ``aarch64``...): created with its platform
            (``linux/386``...), checked to run after start, and every command run with the
            personality the image's entrypoint would give it (``linux32`` for i686/armv7l:
            :mod:`manywheels.engine._personality`); ``None``: none of that.
        create: ``container-create-args`` (:mod:`._create`), ``None``: the defaults.

    The container runs ``tail -f /dev/null`` under the image's entrypoint and is removed
    with ``force=True`` on exit, whatever the exit reason. Commands run through
    ``docker exec``, which bypasses the entrypoint: hence ``arch``.
    """

    def __init__(
        self,
        engine: DockerEngine,
        image: str,
        *,
        env: Mapping[str, str] | None = None,
        ca_bundle: Path | None = None,
        run_id: str | None = None,
        labels: Mapping[str, str] | None = None,
        volumes: Mapping[str, str] | None = None,
        name: str | None = None,
        arch: str | None = None,
        create: CreateOptions | None = None,
    ) -> None:
        self.engine = engine
        self.arch = arch
        self.create = create
        self.personality = Personality()
        self.image = image
        self.env = dict(env or {})
        self.ca_bundle = ca_bundle
        self.run_id = run_id or new_run_id()
        self.labels = {LABEL: "1", RUN_LABEL: self.run_id, OWNER_LABEL: owner_token(),
                       **(labels or {})}
        self.volumes = dict(volumes or {})
        self.name = name or f"manywheels-{self.run_id}-{uuid.uuid4().hex[:6]}"
        self._container: ApiContainer | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def id(self) -> str:
        """The container id (after start)."""
        if self._container is None:
            msg = "container not started"
            raise RuntimeError(msg)
        return str(self._container.id)

    def __enter__(self) -> DockerContainer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    def start(self) -> None:
        """Create and start the container (idempotent). Raises ImageNotFoundError,
        EngineError (the engine cannot create or start it: a missing network, ...),
        EngineUnavailableError (it no longer answers)."""
        if self._container is not None:
            return
        mounts = {source: {"bind": target, "mode": "rw"} for source, target in self.volumes.items()}
        platform = OCI_PLATFORMS.get(self.arch) if self.arch is not None else None
        try:
            container = self.engine.client.containers.create(
                self.image,
                command=["tail", "-f", "/dev/null"],
                name=self.name,
                labels=self.labels,
                environment=self.env,
                volumes=mounts,
                detach=True,
                stdin_open=False,
                tty=False,
                platform=platform,
                **create_kwargs(self.create),
            )
            self._container = container
            container.start()
            if self.arch is not None:
                self.personality = probe_personality(self, self.arch, container)
        except docker.errors.ImageNotFound:
            self._remove_quietly()
            msg = f"image {self.image!r} is not present locally"
            raise ImageNotFoundError(msg) from None
        except (docker.errors.DockerException, requests.RequestException, OSError) as error:
            self._remove_quietly()
            with self._call(f"cannot start a container of {self.image}"):
                raise error from None
        except BaseException:
            self._remove_quietly()
            raise
        if self.ca_bundle is not None:
            self.copy_into(self.ca_bundle, CA_BUNDLE_PATH, mode=0o444)

    def remove(self) -> None:
        """Remove the container (force), ignoring one that is already gone.

        Raises:
            EngineError: the engine refused.
            EngineUnavailableError: the engine no longer answers.
        """
        container, self._container = self._container, None
        if container is None:
            return
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            if "is already in progress" not in str(error):
                msg = f"cannot remove the container {self.name}: {short(error)}"
                raise EngineError(msg) from None
        except (requests.RequestException, OSError) as error:
            raise EngineUnavailableError(gone_message(
                self.engine.host, f"cannot remove the container {self.name}", error)) from None

    def _remove_quietly(self) -> None:
        """Remove after a failed start (the start's error is the one to report)."""
        with contextlib.suppress(EngineError, EngineUnavailableError):
            self.remove()

    def _call(self, what: str) -> contextlib.AbstractContextManager[None]:
        """Errors of an engine call as manywheels errors (:func:`engine_call`)."""
        return engine_call(what, self.engine.host, self.engine.answers)

    # ------------------------------------------------------------------ commands

    def run(
        self,
        command: Sequence[str] | str,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        sink: Sink | None = None,
        check: bool = True,
        tail_lines: int = 50,
    ) -> int:
        """Run a command and stream its output.

        Args:
            command: an argv list, or a shell script string run with ``bash -c``.
            env: extra variables for this command only.
            cwd: working directory in the container (default: the image's).
            sink: receives each output line as it arrives.
            check: raise on a non-zero exit code.
            tail_lines: how many last lines :class:`CommandError` keeps.

        Returns:
            The exit code.

        Raises:
            CommandError: ``check`` is true and the command exited non-zero; carries
                the command, the code and the last output lines.
            EngineError: the engine refused the command.
            EngineUnavailableError: the engine went away before the command ended.
        """
        argv = ["bash", "-c", command] if isinstance(command, str) else list(command)
        api = self.engine.client.api
        what = f"cannot run a command in {self.name}"
        with self._call(what):
            exec_id = api.exec_create(
                self.id,
                ["sh", "-c", GATE, "sh", *self.personality.prefix, *argv],
                stdin=True,
                stdout=True,
                stderr=True,
                environment={**self.personality.env, **(env or {})},
                workdir=cwd,
            )["Id"]
        tail: deque[str] = deque(maxlen=tail_lines)
        out = LineSplitter("stdout", sink, tail)
        err = LineSplitter("stderr", sink, tail)
        with command_timer():  # the command's own time (manywheels._timing)
            with self._call(what):
                stream = api.exec_start(exec_id, socket=True)
            try:
                with self._call(what):
                    open_gate(stream)
                    frames = frames_iter(stream, tty=False)  # type: ignore[no-untyped-call]
                while True:  # the sink's own errors (a full log disk) are not the engine's
                    with self._call(what):
                        frame = next(frames, None)
                    if frame is None:
                        break
                    (err if frame[0] == STDERR else out).feed(frame[1])
            finally:
                with contextlib.suppress(OSError):
                    stream.close()
        out.close()
        err.close()
        with self._call(what):
            code = api.exec_inspect(exec_id).get("ExitCode")
        returncode = int(code) if code is not None else -1
        if returncode != 0 and not self.engine.answers():  # killed as the engine went down
            ended = RuntimeError(f"the command ended with exit code {returncode}")
            raise EngineUnavailableError(gone_message(self.engine.host, what, ended))
        if check and returncode != 0:
            raise CommandError(command if isinstance(command, str) else argv, returncode, tail)
        return returncode

    def output(
        self,
        command: Sequence[str] | str,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        check: bool = True,
    ) -> str:
        """Run a command and return its stdout as text. Raises CommandError (``check``)."""
        collected = StdoutLines()
        self.run(command, env=env, cwd=cwd, sink=collected, check=check)
        return str(collected)

    # ------------------------------------------------------------------ files

    def copy_into(
        self,
        src: Path,
        dest: str,
        *,
        exclude: Callable[[Path], bool] | None = None,
        mode: int | None = None,
    ) -> list[Path]:
        """Copy a host file or directory to ``dest`` in the container.

        File modes are kept. Symbolic links are copied as links when they point inside
        the tree and skipped when they point outside it (never followed).

        Args:
            src: host file or directory.
            dest: absolute container path the file or directory will have.
            exclude: predicate on host paths under ``src``; true skips the path (and,
                for a directory, everything below it).
            mode: override the mode of a single copied file (e.g. ``0o444``).

        Returns:
            The symlinks that were skipped because they point outside ``src``.

        Raises:
            ValueError: ``dest`` is not absolute.
            OSError: a host file cannot be read.
            EngineError: the engine did not take the archive.
            EngineUnavailableError: the engine went away.
        """
        dest_path = PurePosixPath(dest)
        if not dest_path.is_absolute():
            msg = f"container path must be absolute: {dest!r}"
            raise ValueError(msg)
        # Members carry the whole path below /: the engine creates missing parent
        # directories itself, which saves a `mkdir -p` round trip per copy.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as buffer:
            skipped = pack_tree(buffer, src, dest_path, exclude=exclude, mode=mode)
            buffer.seek(0)
            what = f"cannot copy {src} into {self.name}"
            with self._call(what):
                try:
                    ok = self.engine.client.api.put_archive(self.id, "/", buffer)
                except docker.errors.APIError:
                    ok = False
            if not ok:  # an engine that wants the parent to exist
                self.run(["mkdir", "-p", str(dest_path.parent)])
                buffer.seek(0)
                with self._call(what):
                    ok = self.engine.client.api.put_archive(self.id, "/", buffer)
        if not ok:
            msg = f"{what} at {dest}: the engine did not take the archive"
            raise EngineError(msg)
        return skipped

    def copy_out(self, src: str, dest: Path) -> None:
        """Copy a container file or directory to the host path ``dest``.

        The copy is written under a temporary name beside ``dest`` and renamed into
        place, so ``dest`` never exists half-written. An existing ``dest`` file is
        replaced; an existing directory is merged into. Members that would land outside
        ``dest`` (absolute paths, ``..``, links pointing outside) are skipped.

        Raises:
            EngineError: ``src`` does not exist, or the engine refused.
        """
        with self._call(f"cannot copy {src} out of the container"):
            stream, _stat = self.engine.client.api.get_archive(self.id, src)
        unpack_stream(stream, src, dest)

    def write_text(self, path: str, text: str, *, mode: int = 0o644) -> None:
        """Write ``text`` to the container file ``path`` (parents created)."""
        parent = posixpath.dirname(path) or "/"
        self.run(["mkdir", "-p", parent])
        archive = file_archive(posixpath.basename(path), text.encode(), mode=mode)
        with self._call(f"cannot write {path} in {self.name}"):
            self.engine.client.api.put_archive(self.id, parent, archive)

    def read_text(self, path: str) -> str:
        """The text of a container file. Raises CommandError when it cannot be read."""
        return self.output(["cat", path])

    def interactive_command(self, argv: Sequence[str], *, cwd: str | None = None,
                            tty: bool = True) -> list[str]:
        """``docker exec -it [-w cwd] <name> [linux32] argv``: the docker CLI, which reads
        ``DOCKER_HOST`` and the docker context as :meth:`DockerEngine.connect` does."""
        command = ["docker", "exec", "-it" if tty else "-i"]
        if cwd:
            command += ["-w", cwd]
        for key, value in self.personality.env.items():
            command += ["-e", f"{key}={value}"]
        return [*command, self.name, *self.personality.prefix, *argv]

    def commit(
        self, repository: str, tag: str, *, conf: Mapping[str, Any] | None = None,
        message: str | None = None,
    ) -> str:
        """Commit the container's file system as the image ``repository:tag`` and return
        the new image id (:meth:`manywheels.engine.Container.commit` documents the
        arguments; ``RuntimeError`` before start, ``EngineError`` on a refusal)."""
        if self._container is None:
            msg = "container not started"
            raise RuntimeError(msg)
        with self._call(f"cannot commit {repository}:{tag}"):
            image = self._container.commit(repository=repository, tag=tag, message=message,
                                           conf=dict(conf) if conf is not None else None)
        return str(image.id)

    def __repr__(self) -> str:
        return f"DockerContainer(image={self.image!r}, name={self.name!r})"
