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
from docker.models.containers import Container as ApiContainer
from docker.utils.socket import STDERR, frames_iter

from manywheels._lock import owner_token
from manywheels._timing import command_timer
from manywheels.engine._docker._arch import probe_personality
from manywheels.engine._docker._common import refused, short
from manywheels.engine._env import CA_BUNDLE_PATH, new_run_id
from manywheels.engine._personality import Personality
from manywheels.engine._protocol import LABEL, OWNER_LABEL, RUN_LABEL, EngineError, Sink
from manywheels.engine._tar import SPOOL_BYTES, file_archive, pack_tree, unpack_stream
from manywheels.errors import CommandError, ImageNotFoundError
from manywheels.naming._platforms import OCI_PLATFORMS

if TYPE_CHECKING:
    from manywheels.engine._docker._engine import DockerEngine

__all__ = ["DockerContainer"]


_GATE = 'IFS= read -r _ || true; exec "$@" </dev/null'
"""Every command waits for one line on its stdin, then runs with stdin from /dev/null.

The client sends that line once it holds the attached stream (:func:`_open_gate`), so no
output can arrive in the same read as the HTTP upgrade response: docker-py reads the
stream from the raw socket and loses bytes its HTTP reader buffered with the headers
(docker/docker-py#2042, #3332; seen over TCP and forwarded sockets, where fast commands
such as ``ls /opt/python`` then print nothing)."""


def _open_gate(stream: Any) -> None:
    """Release a command started under :data:`_GATE` (``stream``: the attached socket)."""
    # docker-py hands back the socket itself, or a read-only socket.SocketIO around it
    # (TCP and unix sockets through requests): writing goes to the socket (docker-py's
    # documented way to write to an attached stream).
    raw = stream if hasattr(stream, "sendall") else stream._sock
    raw.sendall(b"\n")


class _LineSplitter:
    """Turns a byte stream into lines; keeps the last ``tail`` lines."""

    def __init__(self, stream: str, sink: Sink | None, tail: deque[str]) -> None:
        self.stream = stream
        self.sink = sink
        self.tail = tail
        self.buffer = b""

    def feed(self, data: bytes) -> None:
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        for raw in lines:
            self._emit(raw)

    def close(self) -> None:
        if self.buffer:
            self._emit(self.buffer)
            self.buffer = b""

    def _emit(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        self.tail.append(line)
        if self.sink is not None:
            self.sink(line, self.stream)


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
    ) -> None:
        self.engine = engine
        self.arch = arch
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
        """Create and start the container (idempotent). Raises ImageNotFoundError."""
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
            )
            self._container = container
            container.start()
            if self.arch is not None:
                self.personality = probe_personality(self, self.arch, container)
        except docker.errors.ImageNotFound:
            self.remove()
            msg = f"image {self.image!r} is not present locally"
            raise ImageNotFoundError(msg) from None
        except BaseException:
            self.remove()
            raise
        if self.ca_bundle is not None:
            self.copy_into(self.ca_bundle, CA_BUNDLE_PATH, mode=0o444)

    def remove(self) -> None:
        """Remove the container (force), ignoring one that is already gone.

        Raises:
            EngineError: the engine refused.
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
        """
        argv = ["bash", "-c", command] if isinstance(command, str) else list(command)
        api = self.engine.client.api
        exec_id = api.exec_create(
            self.id,
            ["sh", "-c", _GATE, "sh", *self.personality.prefix, *argv],
            stdin=True,
            stdout=True,
            stderr=True,
            environment={**self.personality.env, **(env or {})},
            workdir=cwd,
        )["Id"]
        tail: deque[str] = deque(maxlen=tail_lines)
        out = _LineSplitter("stdout", sink, tail)
        err = _LineSplitter("stderr", sink, tail)
        with command_timer():  # the command's own time (manywheels._timing)
            stream = api.exec_start(exec_id, socket=True)
            try:
                _open_gate(stream)
                for kind, data in frames_iter(stream, tty=False):  # type: ignore[no-untyped-call]
                    (err if kind == STDERR else out).feed(data)
            finally:
                with contextlib.suppress(OSError):
                    stream.close()
        out.close()
        err.close()
        code = api.exec_inspect(exec_id).get("ExitCode")
        returncode = int(code) if code is not None else -1
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
        lines: list[str] = []

        def collect(line: str, stream: str) -> None:
            if stream == "stdout":
                lines.append(line)

        self.run(command, env=env, cwd=cwd, sink=collect, check=check)
        return "\n".join(lines)

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
            OSError: the engine did not take the archive.
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
            try:
                ok = self.engine.client.api.put_archive(self.id, "/", buffer)
            except docker.errors.APIError:
                ok = False
            if not ok:  # an engine that wants the parent to exist
                self.run(["mkdir", "-p", str(dest_path.parent)])
                buffer.seek(0)
                ok = self.engine.client.api.put_archive(self.id, "/", buffer)
        if not ok:
            msg = f"copy of {src} into the container at {dest} failed"
            raise OSError(msg)
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
        with refused(f"cannot copy {src} out of the container"):
            stream, _stat = self.engine.client.api.get_archive(self.id, src)
        unpack_stream(stream, src, dest)

    def write_text(self, path: str, text: str, *, mode: int = 0o644) -> None:
        """Write ``text`` to the container file ``path`` (parents created)."""
        parent = posixpath.dirname(path) or "/"
        self.run(["mkdir", "-p", parent])
        archive = file_archive(posixpath.basename(path), text.encode(), mode=mode)
        self.engine.client.api.put_archive(self.id, parent, archive)

    def read_text(self, path: str) -> str:
        """The text of a container file. Raises CommandError when it cannot be read."""
        return self.output(["cat", path])

    def commit(
        self, repository: str, tag: str, *, conf: Mapping[str, Any] | None = None,
        message: str | None = None,
    ) -> str:
        """Commit the container's file system as the image ``repository:tag``.

        Args:
            repository: image repository, e.g. ``manywheels-before-all``.
            tag: image tag.
            conf: image configuration overriding the container's (``Env``, ``Cmd``,
                ``Labels``, ...; fields left out are taken from the container).
            message: commit message.

        Returns:
            The new image id.

        Raises:
            RuntimeError: the container is not started.
            EngineError: the engine refused.
        """
        if self._container is None:
            msg = "container not started"
            raise RuntimeError(msg)
        with refused(f"cannot commit {repository}:{tag}"):
            image = self._container.commit(repository=repository, tag=tag, message=message,
                                           conf=dict(conf) if conf is not None else None)
        return str(image.id)

    def __repr__(self) -> str:
        return f"DockerContainer(image={self.image!r}, name={self.name!r})"
