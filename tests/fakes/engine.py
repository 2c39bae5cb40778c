"""An in-memory container engine implementing :class:`manywheels.engine.Engine`.

No engine library, no socket: images are :class:`FakeImage` entries (their ``ENV``
and the ``/opt/python`` interpreters they list), a container's file system is a
:class:`FakeFS`, and a command is answered by a pluggable *handler*::

    def handler(call: Call) -> Reply | None:
        if call.script and "build the wheel of" in call.script:
            call.fs.write("/manywheels/x/dist/p-1-cp312-cp312-linux_x86_64.whl", b"wheel")
            return 0, ["/manywheels/x/dist/p-1-cp312-cp312-linux_x86_64.whl"]
        return None  # the built-in answers: ls, cat, mkdir -p, df; anything else exits 0

Everything done is recorded for assertions: ``engine.containers`` (every container
created, with its image, env, labels and volumes), each container's ``commands``,
``engine.commits``, volumes, removed images and leftovers.
"""

from __future__ import annotations

import os
import posixpath
import shlex
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from manywheels._lock import owner_token
from manywheels.config._create_args import CreateOptions
from manywheels.engine import (
    CA_BUNDLE_PATH,
    LABEL,
    OWNER_LABEL,
    RUN_LABEL,
    EngineError,
    EngineInfo,
    ImageInfo,
    ImageSummary,
    LeftoverInfo,
    Sink,
    StdoutLines,
    VolumeInfo,
    new_run_id,
)
from manywheels.errors import CommandError, ImageNotFoundError

if TYPE_CHECKING:
    from manywheels.engine import Container, Engine

__all__ = ["Call", "FakeContainer", "FakeEngine", "FakeFS", "FakeImage", "Handler", "Reply"]

Reply = tuple[int, Sequence[str]]
"""A handler's answer: exit code and output lines (stdout; ``"stderr:"``-prefixed lines
go to stderr, without the prefix)."""


class FakeFS:
    """A container file system: absolute POSIX paths -> bytes (and modes)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, int] = {}
        self.dirs: set[str] = {"/"}
        self._lock = threading.Lock()

    @staticmethod
    def _norm(path: str) -> str:
        if not path.startswith("/"):
            msg = f"container path must be absolute: {path!r}"
            raise ValueError(msg)
        return posixpath.normpath(path)

    def mkdir(self, path: str) -> None:
        """Create a directory and its parents."""
        path = self._norm(path)
        with self._lock:
            while path not in self.dirs:
                self.dirs.add(path)
                path = posixpath.dirname(path)

    def write(self, path: str, data: bytes | str, *, mode: int = 0o644) -> None:
        """Write a file (parents created)."""
        path = self._norm(path)
        self.mkdir(posixpath.dirname(path))
        with self._lock:
            self.files[path] = data.encode() if isinstance(data, str) else data
            self.modes[path] = mode

    def read(self, path: str) -> bytes:
        """A file's bytes. Raises FileNotFoundError."""
        path = self._norm(path)
        with self._lock:
            if path not in self.files:
                raise FileNotFoundError(path)
            return self.files[path]

    def is_file(self, path: str) -> bool:
        """Whether ``path`` is a file."""
        return self._norm(path) in self.files

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory."""
        return self._norm(path) in self.dirs

    def listdir(self, path: str) -> list[str]:
        """Sorted names directly in a directory. Raises FileNotFoundError."""
        path = self._norm(path)
        if path not in self.dirs:
            raise FileNotFoundError(path)
        with self._lock:
            entries = [*self.files, *self.dirs]
        return sorted({posixpath.basename(p) for p in entries
                       if p != path and posixpath.dirname(p) == path})

    def walk_files(self, top: str) -> list[str]:
        """Every file below ``top`` (or ``top`` itself when it is a file)."""
        top = self._norm(top)
        with self._lock:
            return sorted(p for p in self.files if p == top or p.startswith(top.rstrip("/") + "/"))

    def remove(self, path: str) -> None:
        """Remove a file or a tree (``rm -rf``)."""
        path = self._norm(path)
        prefix = path.rstrip("/") + "/"
        with self._lock:
            for name in [p for p in self.files if p == path or p.startswith(prefix)]:
                del self.files[name]
                self.modes.pop(name, None)
            self.dirs -= {d for d in self.dirs if d == path or d.startswith(prefix)}
            self.dirs.add("/")

    def copy(self) -> FakeFS:
        """An independent copy (what a commit keeps)."""
        clone = FakeFS()
        with self._lock:
            clone.files, clone.modes, clone.dirs = dict(self.files), dict(self.modes), set(self.dirs)
        return clone


@dataclass
class Call:
    """One command a container runs, as its handler sees it.

    Attributes:
        container: the container running it (``container.fs`` is its file system).
        command: the command as given: a script string or an argv list.
        env: the container's environment plus the command's own.
        cwd: its working directory, if given.
    """

    container: FakeContainer
    command: str | list[str]
    env: dict[str, str]
    cwd: str | None

    @property
    def script(self) -> str | None:
        """The script of a ``bash -c`` command (or of a script string), else ``None``."""
        if isinstance(self.command, str):
            return self.command
        if len(self.command) == 3 and self.command[1] == "-c" and self.command[0] in {"sh",
                                                                                      "bash"}:
            return self.command[2]
        return None

    @property
    def argv(self) -> list[str]:
        """The argv that runs (``["bash", "-c", script]`` for a script string)."""
        return ["bash", "-c", self.command] if isinstance(self.command, str) else self.command

    @property
    def fs(self) -> FakeFS:
        """The container's file system."""
        return self.container.fs


Handler = Callable[[Call], Reply | None]
"""Answers a command (``None``: let the built-in answers handle it)."""


@dataclass
class FakeImage:
    """An image: its ``ENV``, the interpreters under ``/opt/python`` and its files."""

    ref: str
    env: dict[str, str] = field(default_factory=lambda: {
        "AUDITWHEEL_PLAT": "manylinux_2_28_x86_64", "PATH": "/usr/bin:/bin"})
    pythons: tuple[str, ...] = ("cp311-cp311", "cp312-cp312", "cp313-cp313")
    labels: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: "sha256:" + uuid.uuid4().hex * 2)
    fs: FakeFS | None = None
    created: str = "2026-01-01T00:00:00Z"

    def info(self, ref: str | None = None) -> ImageInfo:
        """The :class:`ImageInfo` the engine reports, named ``ref`` (default its own)."""
        return ImageInfo(ref=ref or self.ref, id=self.id, digest=f"{self.ref}@{self.id}",
                         env=dict(self.env), labels=dict(self.labels), cmd=("/bin/bash",))

    def summary(self) -> ImageSummary:
        """The :class:`ImageSummary` of a listing."""
        return ImageSummary(self.id, (self.ref,), dict(self.labels), dict(self.env), self.created)

    def filesystem(self) -> FakeFS:
        """A fresh file system for a container of this image."""
        fs = self.fs.copy() if self.fs is not None else FakeFS()
        for name in self.pythons:
            fs.write(f"/opt/python/{name}/bin/python", b"#!fake", mode=0o755)
        return fs


class FakeEngine:
    """An in-memory :class:`manywheels.engine.Engine`.

    Args:
        images: the images present.
        handler: answers commands before the built-in answers (see :data:`Handler`).
        pullable: images absent locally that a pull would fetch.
        local: :attr:`is_local` (a remote engine gets named cache volumes).
        leftovers: labelled containers of earlier runs (crashed ones, other hosts'...).
    """

    host = "fake://engine"

    def __init__(
        self,
        images: Iterable[FakeImage] = (),
        *,
        handler: Handler | None = None,
        pullable: Iterable[FakeImage] = (),
        local: bool = True,
        leftovers: Iterable[LeftoverInfo] = (),
    ) -> None:
        self.images_by_ref: dict[str, FakeImage] = {image.ref: image for image in images}
        self.pullable: dict[str, FakeImage] = {image.ref: image for image in pullable}
        self.handler = handler
        self.local = local
        self.containers: list[FakeContainer] = []
        self.commits: list[tuple[str, str, dict[str, Any]]] = []
        self.pulls: list[str] = []
        self.image_archs: dict[str, str | None] = {}
        """Image reference -> the arch it was last asked for (``image``/``pull``)."""
        self.volume_labels: dict[str, dict[str, str]] = {}
        self.removed_images: list[str] = []
        self.removed_leftovers: list[str] = []
        self.stale: dict[str, LeftoverInfo] = {item.name: item for item in leftovers}
        self.closed = False
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ facts

    @property
    def is_local(self) -> bool:
        """As given to the constructor."""
        return self.local

    def info(self) -> EngineInfo:
        """Fixed facts: data root ``/var/lib/fake``, version ``0.0``."""
        return EngineInfo(self.host, self.local, "/var/lib/fake", "0.0", "FakeEngine")

    # ------------------------------------------------------------------ images

    def _find(self, ref: str) -> FakeImage | None:
        with self._lock:
            found = self.images_by_ref.get(ref)
            return found or next((i for i in self.images_by_ref.values() if i.id == ref), None)

    def image(
        self, ref: str, *, pull: bool = True, progress: Callable[[str], None] | None = None,
        arch: str | None = None,
    ) -> ImageInfo:
        """The image, "pulled" from :attr:`pullable` when absent. Raises ImageNotFoundError."""
        self.image_archs[ref] = arch
        found = self._find(ref)
        if found is not None:
            return found.info(ref)
        if not pull:
            msg = f"image {ref!r} is not present locally (pulling disabled)"
            raise ImageNotFoundError(msg)
        return self.pull(ref, progress=progress)

    def pull(self, ref: str, *, progress: Callable[[str], None] | None = None,
             arch: str | None = None) -> ImageInfo:
        """Move ``ref`` from :attr:`pullable` to the local images. Raises ImageNotFoundError."""
        self.image_archs[ref] = arch
        with self._lock:
            self.pulls.append(ref)
            image = self.pullable.get(ref) or self.images_by_ref.get(ref)
            if image is None:
                msg = f"image {ref!r} is not present locally and could not be pulled: not found"
                raise ImageNotFoundError(msg)
            self.images_by_ref[ref] = image
        if progress is not None:
            progress(f"pulled {ref}")
        return image.info(ref)

    def find_image(self, ref: str) -> ImageSummary | None:
        """The local image ``ref``, or ``None``."""
        found = self._find(ref)
        return found.summary() if found is not None else None

    def images(self, label: str | None = None) -> list[ImageSummary]:
        """Local images (with ``label``, when given)."""
        with self._lock:
            every = list(self.images_by_ref.values())
        return [i.summary() for i in every if label is None or label in i.labels]

    def remove_image(self, image_id: str) -> None:
        """Remove an image. Raises EngineError when absent or used by a live container."""
        with self._lock:
            refs = [ref for ref, image in self.images_by_ref.items() if image.id == image_id]
            if not refs:
                msg = f"cannot remove the image {image_id}: no such image"
                raise EngineError(msg)
            if any(c.started and c.image in refs for c in self.containers):
                msg = f"cannot remove the image {image_id}: image is being used"
                raise EngineError(msg)
            for ref in refs:
                del self.images_by_ref[ref]
            self.removed_images.append(image_id)

    # ------------------------------------------------------------------ containers

    def container(
        self,
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
    ) -> FakeContainer:
        """A new (not started) container, recorded in :attr:`containers` (``arch`` kept as
        :attr:`FakeContainer.arch`)."""
        container = FakeContainer(self, image, env=env, ca_bundle=ca_bundle, run_id=run_id,
                                  labels=labels, volumes=volumes, name=name)
        container.arch = arch
        container.create = create
        with self._lock:
            self.containers.append(container)
        return container

    def live(self) -> list[FakeContainer]:
        """The containers started and not removed."""
        with self._lock:
            return [c for c in self.containers if c.started]

    def leftovers(self, run_id: str | None = None) -> list[LeftoverInfo]:
        """Live containers and :attr:`stale` ones (of one run, when given)."""
        found = [LeftoverInfo(c.name, dict(c.labels), "running") for c in self.live()]
        found += list(self.stale.values())
        return [item for item in found
                if run_id is None or item.labels.get(RUN_LABEL) == run_id]

    def remove_leftover(self, name: str) -> None:
        """Remove a stale or live container by name (one already gone is fine)."""
        with self._lock:
            self.removed_leftovers.append(name)
            self.stale.pop(name, None)
            live = [c for c in self.containers if c.name == name]
        for container in live:
            container.remove()

    # ------------------------------------------------------------------ volumes

    def create_volume(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        """Record a named volume (an existing one is kept)."""
        with self._lock:
            self.volume_labels.setdefault(name, dict(labels or {}))

    def volumes(self, label: str | None = None) -> list[VolumeInfo]:
        """The named volumes (with ``label``, when given)."""
        with self._lock:
            return [VolumeInfo(name, dict(labels)) for name, labels in self.volume_labels.items()
                    if label is None or label in labels]

    def remove_volume(self, name: str) -> None:
        """Remove a named volume. Raises EngineError when absent."""
        with self._lock:
            if self.volume_labels.pop(name, None) is None:
                msg = f"cannot remove the volume {name}: no such volume"
                raise EngineError(msg)

    def close(self) -> None:
        """Mark the connection closed (:attr:`closed`)."""
        self.closed = True

    # ------------------------------------------------------------------ commits

    def _commit(self, container: FakeContainer, repository: str, tag: str,
                conf: Mapping[str, Any]) -> str:
        env = dict(item.split("=", 1) for item in conf.get("Env") or [] if "=" in item)
        image = FakeImage(f"{repository}:{tag}", env=env, pythons=(),
                          labels=dict(conf.get("Labels") or {}), fs=container.fs.copy())
        with self._lock:
            self.images_by_ref[image.ref] = image
            self.commits.append((container.name, image.ref, dict(conf)))
        return image.id


class FakeContainer:
    """An in-memory :class:`manywheels.engine.Container` of a :class:`FakeEngine`.

    Attributes:
        fs: its file system (the image's, from :meth:`start` on).
        commands: every command it ran, as given.
        started: started and not removed.
    """

    def __init__(
        self,
        engine: FakeEngine,
        image: str,
        *,
        env: Mapping[str, str] | None = None,
        ca_bundle: Path | None = None,
        run_id: str | None = None,
        labels: Mapping[str, str] | None = None,
        volumes: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        self.engine = engine
        self.image = image
        self.env = dict(env or {})
        self.ca_bundle = ca_bundle
        self.run_id = run_id or new_run_id()
        self.labels = {LABEL: "1", RUN_LABEL: self.run_id, OWNER_LABEL: owner_token(),
                       **(labels or {})}
        self.volumes = dict(volumes or {})
        self.name = name or f"manywheels-{self.run_id}-{uuid.uuid4().hex[:6]}"
        self.fs = FakeFS()
        self.arch: str | None = None
        self.create: CreateOptions | None = None  # container-create-args, as passed
        self.commands: list[str | list[str]] = []
        self.started = False
        self.removed = False

    @property
    def id(self) -> str:
        """The name (after start)."""
        if not self.started:
            msg = "container not started"
            raise RuntimeError(msg)
        return self.name

    def __enter__(self) -> FakeContainer:
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
        """Take the image's file system. Raises ImageNotFoundError, RuntimeError (removed)."""
        if self.started:
            return
        if self.removed:
            msg = f"container {self.name} was removed"
            raise RuntimeError(msg)
        image = self.engine._find(self.image)
        if image is None:
            msg = f"image {self.image!r} is not present locally"
            raise ImageNotFoundError(msg)
        self.fs = image.filesystem()
        self.started = True
        if self.ca_bundle is not None:
            self.copy_into(self.ca_bundle, CA_BUNDLE_PATH, mode=0o444)

    def remove(self) -> None:
        """Forget the container (idempotent)."""
        self.started = False
        self.removed = True

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
        """Answer with the engine's handler, else the built-in answers; stream the lines."""
        if not self.started:
            msg = f"container {self.name} is not running"
            raise RuntimeError(msg)
        given: str | list[str] = command if isinstance(command, str) else list(command)
        self.commands.append(given)
        call = Call(self, given, {**self.env, **(env or {})}, cwd)
        reply = self.engine.handler(call) if self.engine.handler is not None else None
        code, lines = reply if reply is not None else _builtin(call)
        tail: deque[str] = deque(maxlen=tail_lines)
        for raw in lines:
            stream, line = ("stderr", raw[7:]) if raw.startswith("stderr:") else ("stdout", raw)
            tail.append(line)
            if sink is not None:
                sink(line, stream)
        if check and code != 0:
            raise CommandError(given if isinstance(given, str) else call.argv, code, tail)
        return code

    def output(
        self,
        command: Sequence[str] | str,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        check: bool = True,
    ) -> str:
        """The stdout lines of a command, joined."""
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
        """Copy a host file or tree into :attr:`fs`; links pointing outside are skipped."""
        if not dest.startswith("/"):
            msg = f"container path must be absolute: {dest!r}"
            raise ValueError(msg)
        if src.is_file():
            self.fs.write(dest, src.read_bytes(), mode=mode or src.stat().st_mode & 0o777)
            return []
        root = src.resolve()
        skipped: list[Path] = []
        self.fs.mkdir(dest)
        for directory, dirnames, filenames in os.walk(src):
            here = Path(directory)
            dirnames[:] = [d for d in dirnames if exclude is None or not exclude(here / d)]
            for name in filenames:
                path = here / name
                if exclude is not None and exclude(path):
                    continue
                if path.is_symlink() and root not in path.resolve().parents:
                    skipped.append(path)
                    continue
                inside = posixpath.join(dest, path.relative_to(src).as_posix())
                self.fs.write(inside, path.read_bytes(), mode=path.stat().st_mode & 0o777)
        return skipped

    def copy_out(self, src: str, dest: Path) -> None:
        """Copy a file or tree of :attr:`fs` to the host (each file via a temporary name).

        Raises:
            EngineError: ``src`` does not exist.
        """
        files = self.fs.walk_files(src)
        if not files:
            msg = f"cannot copy {src} out of the container: no such file or directory"
            raise EngineError(msg)
        for path in files:
            relative = posixpath.relpath(path, src)
            target = dest if relative == "." else dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.tmp")
            temporary.write_bytes(self.fs.read(path))
            temporary.chmod(self.fs.modes.get(path, 0o644))
            temporary.replace(target)

    def write_text(self, path: str, text: str, *, mode: int = 0o644) -> None:
        """Write a file of :attr:`fs`."""
        self.fs.write(path, text, mode=mode)

    def read_text(self, path: str) -> str:
        """Read a file of :attr:`fs`. Raises CommandError when absent."""
        try:
            return self.fs.read(path).decode()
        except FileNotFoundError:
            raise CommandError(["cat", path], 1, [f"cat: {path}: No such file"]) from None

    def interactive_command(self, argv: Sequence[str], *, cwd: str | None = None,
                            tty: bool = True) -> list[str]:
        """The docker CLI command a real container would give (never run by the fakes)."""
        return ["docker", "exec", "-it" if tty else "-i", *(["-w", cwd] if cwd else []),
                self.name, *argv]

    def commit(
        self,
        repository: str,
        tag: str,
        *,
        conf: Mapping[str, Any] | None = None,
        message: str | None = None,  # noqa: ARG002 - the docker one keeps it in the image
    ) -> str:
        """Keep a copy of :attr:`fs` as the image ``repository:tag`` (recorded in
        ``engine.commits``)."""
        if not self.started:
            msg = "container not started"
            raise RuntimeError(msg)
        return self.engine._commit(self, repository, tag, conf or {})

    def __repr__(self) -> str:
        return f"FakeContainer(image={self.image!r}, name={self.name!r})"


def _builtin(call: Call) -> Reply:
    """``ls [-1] DIR``, ``cat FILE``, ``mkdir -p DIR``, ``rm -rf PATH``, ``df`` (as argv or a
    one-command script); any other command, every real script included, succeeds silently."""
    script = call.script
    if script is not None and any(mark in script for mark in ";|&$<>\n`"):
        return 0, []  # a real script: the handler's business
    try:
        argv = call.argv if script is None else shlex.split(script)
    except ValueError:
        return 0, []
    if not argv:
        return 0, []
    program, args = argv[0], [a for a in argv[1:] if not a.startswith("-")]
    if program == "ls" and args:
        try:
            return 0, call.fs.listdir(args[0])
        except FileNotFoundError:
            return 2, [f"stderr:ls: cannot access '{args[0]}': No such file or directory"]
    if program == "cat" and args:
        try:
            return 0, call.fs.read(args[0]).decode().splitlines()
        except FileNotFoundError:
            return 1, [f"stderr:cat: {args[0]}: No such file or directory"]
    if program == "mkdir":
        for path in args:
            call.fs.mkdir(path)
    if program == "rm":
        for path in args:
            call.fs.remove(path)
    if program == "df":
        return 0, ["Filesystem 1024-blocks Used Available Capacity Mounted on",
                   "overlay 100000000 50000000 50000000 50% /"]
    return 0, []


if TYPE_CHECKING:  # mypy checks that the fakes implement the protocols
    _ENGINE: type[Engine] = FakeEngine
    _CONTAINER: type[Container] = FakeContainer
