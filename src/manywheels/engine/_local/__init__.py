"""``engine = "none"``: the engine seam on the current machine, for CI systems that start
the job inside a manylinux/musllinux image (cibuildwheel #2875).

:class:`LocalEngine` and :class:`LocalContainer` implement the protocols of
:mod:`manywheels.engine._protocol` without an engine: a "container" is this machine,
commands are subprocesses (in a process group of their own, killed when the container is
removed), copies are the same tar streams as the docker engine's
(:mod:`manywheels.engine._tar`), so the stages and their templates do not change. The
machine must have the manylinux layout (:func:`check_layout`). Removing a container
deletes the top-level paths its copies created (``/manywheels``, the CA bundle) and
the cache links; nothing else. Images, volumes and leftovers do not exist: listings are
empty, commits are refused (before-all is not cached).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from manywheels.config._create_args import CreateOptions
from manywheels.engine._env import CA_BUNDLE_PATH, new_run_id
from manywheels.engine._protocol import (
    LABEL,
    RUN_LABEL,
    EngineError,
    EngineInfo,
    ImageInfo,
    ImageSummary,
    LeftoverInfo,
    Sink,
    StdoutLines,
    VolumeInfo,
)
from manywheels.engine._tar import SPOOL_BYTES, pack_tree, safe_extract, unpack_stream
from manywheels.errors import CommandError, EngineUnavailableError

if TYPE_CHECKING:
    from manywheels.engine._protocol import Container, Engine

__all__ = ["LocalContainer", "LocalEngine", "check_layout"]

HOST = "this machine (engine none)"


def check_layout(env: Mapping[str, str]) -> None:
    """Check that this machine is a manylinux/musllinux-layout image.

    Raises:
        EngineUnavailableError: ``/opt/python``, ``auditwheel`` on ``PATH`` or
            ``AUDITWHEEL_PLAT`` is missing (the line names what is missing).
    """
    missing = [what for what, ok in (
        ("/opt/python", Path("/opt/python").is_dir()),
        ("auditwheel on PATH", shutil.which("auditwheel", path=env.get("PATH")) is not None),
        ("AUDITWHEEL_PLAT", bool(env.get("AUDITWHEEL_PLAT"))),
    ) if not ok]
    if missing:
        msg = (f"engine none: this machine is not a manylinux/musllinux image (no "
               f"{', no '.join(missing)}); run inside such an image, or use engine docker")
        raise EngineUnavailableError(msg)


class LocalContainer:
    """This machine as a :class:`~manywheels.engine.Container` (see the module)."""

    def __init__(self, image: str, *, env: Mapping[str, str] | None = None,
                 ca_bundle: Path | None = None, run_id: str | None = None,
                 labels: Mapping[str, str] | None = None,
                 volumes: Mapping[str, str] | None = None, name: str | None = None) -> None:
        self.image = image
        self.env = dict(env or {})
        self.ca_bundle = ca_bundle
        self.run_id = run_id or new_run_id()
        self.labels = {LABEL: "1", RUN_LABEL: self.run_id, **(labels or {})}
        self.volumes = dict(volumes or {})
        self.name = name or f"manywheels-local-{self.run_id}-{uuid.uuid4().hex[:6]}"
        self._created: list[Path] = []  # top-level paths this container created
        self._processes: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._started = False
        self._removed = False

    @property
    def id(self) -> str:
        """The name (this machine has no container id)."""
        return self.name

    def __enter__(self) -> LocalContainer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()

    def _note(self, path: str) -> None:
        """Remember the first component of ``path`` when it does not exist yet."""
        top = Path("/", *PurePosixPath(path).parts[1:2])
        with self._lock:
            if not top.exists() and top not in self._created:
                self._created.append(top)

    def start(self) -> None:
        """Link the cache volumes (host directory -> path) and place the CA bundle."""
        if self._started:
            return
        self._started = True
        for source, target in self.volumes.items():
            self._note(target)
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            if not Path(target).exists():
                Path(target).symlink_to(Path(source).resolve())
        if self.ca_bundle is not None:
            self.copy_into(self.ca_bundle, CA_BUNDLE_PATH, mode=0o444)

    def remove(self) -> None:
        """Kill the commands still running, delete what this container created."""
        with self._lock:
            self._removed = True
            processes, created = list(self._processes), list(self._created)
            self._created = []
        for process in processes:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        for path in created:
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
            elif path.is_dir():
                shutil.rmtree(path, ignore_errors=True)

    def _environment(self, env: Mapping[str, str] | None) -> dict[str, str]:
        return {**os.environ, **self.env, **(env or {})}

    def run(self, command: Sequence[str] | str, *, env: Mapping[str, str] | None = None,
            cwd: str | None = None, sink: Sink | None = None, check: bool = True,
            tail_lines: int = 50) -> int:
        """Run an argv list, or a script with ``bash -c``, as a subprocess; stream its
        lines to ``sink``. Raises CommandError when ``check`` and it exits non-zero."""
        argv = ["bash", "-c", command] if isinstance(command, str) else list(command)
        tail: deque[str] = deque(maxlen=tail_lines)
        with self._lock:
            if self._removed:
                msg = f"{self.name} was removed: no command runs"
                raise RuntimeError(msg)
            try:
                process = subprocess.Popen(
                    argv, cwd=cwd, env=self._environment(env), stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            except OSError as error:
                raise CommandError(command, 127, [str(error)]) from None
            self._processes.add(process)
        lock = threading.Lock()

        def pump(stream: IO[bytes], name: str) -> None:
            for raw in stream:
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                with lock:
                    tail.append(line)
                    if sink is not None:
                        sink(line, name)

        assert process.stdout is not None
        assert process.stderr is not None
        err = threading.Thread(target=pump, args=(process.stderr, "stderr"), daemon=True)
        err.start()
        try:
            pump(process.stdout, "stdout")
            err.join()
            code = process.wait()
        finally:
            with self._lock:
                self._processes.discard(process)
        if check and code != 0:
            raise CommandError(command, code, list(tail))
        return code

    def output(self, command: Sequence[str] | str, *, env: Mapping[str, str] | None = None,
               cwd: str | None = None, check: bool = True) -> str:
        """A command's stdout (lines joined by newlines)."""
        collected = StdoutLines()
        self.run(command, env=env, cwd=cwd, sink=collected, check=check)
        return str(collected)

    def copy_into(self, src: Path, dest: str, *, exclude: Callable[[Path], bool] | None = None,
                  mode: int | None = None) -> list[Path]:
        """Copy a file or tree to ``dest`` (the docker engine's tar stream, extracted at
        ``/``). Raises ValueError (``dest`` not absolute), OSError."""
        dest_path = PurePosixPath(dest)
        if not dest_path.is_absolute():
            msg = f"path must be absolute: {dest!r}"
            raise ValueError(msg)
        self._note(dest)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as buffer:
            skipped = pack_tree(buffer, src, dest_path, exclude=exclude, mode=mode)
            buffer.seek(0)
            safe_extract(buffer, Path("/"))
        return skipped

    def copy_out(self, src: str, dest: Path) -> None:
        """Copy a file or tree to ``dest`` (atomically). Raises EngineError (no ``src``)."""
        if not os.path.lexists(src):
            msg = f"cannot copy {src} out of {self.name}: no such file or directory"
            raise EngineError(msg)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as buffer:
            pack_tree(buffer, Path(src), PurePosixPath("/", PurePosixPath(src).name))
            buffer.seek(0)
            unpack_stream(iter(lambda: buffer.read(1 << 20), b""), src, dest)

    def write_text(self, path: str, text: str, *, mode: int = 0o644) -> None:
        """Write ``text`` to ``path`` (parents created)."""
        self._note(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
        Path(path).chmod(mode)

    def read_text(self, path: str) -> str:
        """The text of ``path``. Raises CommandError when it cannot be read."""
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise CommandError(["cat", path], 1, [str(error)]) from None

    def commit(self, repository: str, tag: str, *,
               conf: Mapping[str, Any] | None = None,  # noqa: ARG002 - nothing to commit
               message: str | None = None) -> str:  # noqa: ARG002
        """Refused: this machine is no container. Raises EngineError."""
        msg = f"engine none cannot commit {repository}:{tag} (this machine is no container)"
        raise EngineError(msg)

    def interactive_command(self, argv: Sequence[str], *, cwd: str | None = None,
                            tty: bool = True) -> list[str]:  # noqa: ARG002 - the caller's
        """``env K=V… [sh -c 'cd cwd && exec "$@"'] argv`` on this machine."""
        prefix = ["env", *(f"{key}={value}" for key, value in self.env.items())]
        if cwd:
            prefix += ["sh", "-c", 'cd "$0" && exec "$@"', cwd]
        return [*prefix, *argv]


class LocalEngine:
    """This machine as an :class:`~manywheels.engine.Engine` (see the module).

    Args:
        env: the environment (``AUDITWHEEL_PLAT``, ``PATH``); default ``os.environ``.
    """

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = dict(os.environ if env is None else env)
        self.host = HOST

    @classmethod
    def connect(cls, env: Mapping[str, str] | None = None) -> LocalEngine:
        """The engine of this machine. Raises EngineUnavailableError (:func:`check_layout`)."""
        engine = cls(env)
        check_layout(engine.env)
        return engine

    @property
    def is_local(self) -> bool:
        """Always: host directories are this machine's."""
        return True

    def info(self) -> EngineInfo:
        """``host``: this machine; name ``none``."""
        return EngineInfo(HOST, True, None, None, "none")

    def image(self, ref: str, *, pull: bool = True,  # noqa: ARG002 - nothing to pull
              progress: Callable[[str], None] | None = None,  # noqa: ARG002
              arch: str | None = None) -> ImageInfo:  # noqa: ARG002
        """This machine as the image ``ref``: its ``AUDITWHEEL_PLAT`` and environment."""
        return ImageInfo(ref=ref, id="local", digest=f"local:{self.env.get('AUDITWHEEL_PLAT')}",
                         env={k: v for k, v in self.env.items()
                              if k.startswith("AUDITWHEEL_") or k == "PATH"})

    def pull(self, ref: str, *, progress: Callable[[str], None] | None = None,
             arch: str | None = None) -> ImageInfo:
        """As :meth:`image`."""
        return self.image(ref, progress=progress, arch=arch)

    def find_image(self, ref: str) -> ImageSummary | None:  # noqa: ARG002
        """No images: ``None``."""
        return None

    def images(self, label: str | None = None) -> list[ImageSummary]:  # noqa: ARG002
        """No images."""
        return []

    def remove_image(self, image_id: str) -> None:
        """Refused: there are no images. Raises EngineError."""
        msg = f"engine none has no image {image_id}"
        raise EngineError(msg)

    def container(self, image: str, *, env: Mapping[str, str] | None = None,
                  ca_bundle: Path | None = None, run_id: str | None = None,
                  labels: Mapping[str, str] | None = None,
                  volumes: Mapping[str, str] | None = None, name: str | None = None,
                  arch: str | None = None,  # noqa: ARG002 - this machine's
                  create: CreateOptions | None = None,  # noqa: ARG002 - nothing is created
                  ) -> LocalContainer:
        """A :class:`LocalContainer` (``arch`` is this machine's; ``create``, the
        ``container-create-args``, has nothing to apply to: configuration refuses it with
        ``engine = "none"``)."""
        return LocalContainer(image, env=env, ca_bundle=ca_bundle, run_id=run_id,
                              labels=labels, volumes=volumes, name=name)

    def leftovers(self, run_id: str | None = None) -> list[LeftoverInfo]:  # noqa: ARG002
        """None: the containers of this machine end with their process."""
        return []

    def remove_leftover(self, name: str) -> None:
        """Nothing to remove."""

    def create_volume(self, name: str,
                      labels: Mapping[str, str] | None = None) -> None:  # noqa: ARG002
        """Refused: no volumes (host caches are directories). Raises EngineError."""
        msg = f"engine none has no volumes ({name})"
        raise EngineError(msg)

    def volumes(self, label: str | None = None) -> list[VolumeInfo]:  # noqa: ARG002
        """No volumes."""
        return []

    def remove_volume(self, name: str) -> None:
        """Nothing to remove."""

    def close(self) -> None:
        """Nothing to close."""


if TYPE_CHECKING:  # mypy checks that the classes implement the protocols
    _ENGINE: type[Engine] = LocalEngine
    _CONTAINER: type[Container] = LocalContainer
