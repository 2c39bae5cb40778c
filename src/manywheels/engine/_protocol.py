"""The engine seam: what the rest of manywheels needs from a container engine.

:class:`Engine` and :class:`Container` are :class:`typing.Protocol` classes; the
docker-py implementation (:mod:`manywheels.engine._docker`, Docker or Podman through its
Docker API) is the production one, ``tests/fakes/engine.py`` an in-memory one. Callers
(:class:`~manywheels.stages._run.Run`, the stages, the caches) are typed against these
protocols only, and get plain frozen dataclasses back, never an engine library's objects.

Failures an engine reports (a refused commit, a volume in use, a container it cannot
create or start) raise :class:`EngineError` with a one-line message; an engine that
stopped answering (gone mid-run) :class:`~manywheels.errors.EngineUnavailableError`; an
absent image :class:`~manywheels.errors.ImageNotFoundError`; a command exiting non-zero
under ``check`` :class:`~manywheels.errors.CommandError`. Nothing of the engine library
(its exceptions included) crosses the seam.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from manywheels.config._create_args import CreateOptions
from manywheels.errors import ExitCode, ManywheelsError

__all__ = [
    "LABEL",
    "OWNER_LABEL",
    "RUN_LABEL",
    "Container",
    "Engine",
    "EngineError",
    "EngineInfo",
    "ImageInfo",
    "ImageSummary",
    "LeftoverInfo",
    "Sink",
    "StdoutLines",
    "VolumeInfo",
]

LABEL = "io.manywheels"
"""Label set (to ``"1"``) on every container manywheels starts."""
RUN_LABEL = "io.manywheels.run"
"""Label holding the run id, shared by every container of one run."""
OWNER_LABEL = "io.manywheels.owner"
"""Label naming the process that started the container (``host:pid:start-time``, see
:func:`manywheels._lock.owner_token`): a leftover whose owner is gone was left by a crash."""


class EngineError(ManywheelsError):
    """The engine refused an operation (commit, remove, create a volume...); one line."""

    exit_code = ExitCode.ENGINE


class Sink(Protocol):
    """Receives a command's output, one line at a time (without the newline).

    ``stream`` is ``"stdout"`` or ``"stderr"``.
    """

    def __call__(self, line: str, stream: str) -> None: ...


class StdoutLines:
    """A :class:`Sink` keeping the stdout lines: what every ``Container.output`` returns
    (``str(sink)``: the lines joined with newlines)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str, stream: str) -> None:
        if stream == "stdout":
            self.lines.append(line)

    def __str__(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class ImageInfo:
    """An image present in the engine.

    Attributes:
        ref: the reference the user gave (``quay.io/pypa/manylinux_2_28_x86_64``).
        id: the image id (``sha256:…``).
        digest: the repository digest when the image came from a registry, else the id.
        env: the image's ``ENV`` settings (``AUDITWHEEL_PLAT`` among them), in order.
        labels: the image's labels.
        cmd: the image's ``CMD`` (``None`` when unset).
        entrypoint: the image's ``ENTRYPOINT`` (``None`` when unset).
    """

    ref: str
    id: str
    digest: str
    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None

    @property
    def plat(self) -> str | None:
        """The image's ``AUDITWHEEL_PLAT`` policy, if it sets one."""
        return self.env.get("AUDITWHEEL_PLAT")


@dataclass(frozen=True)
class ImageSummary:
    """An image in a listing (:meth:`Engine.images`).

    Attributes:
        id: the image id.
        tags: its ``repository:tag`` names (may be empty).
        labels: its labels.
        env: its ``ENV`` settings.
        created: creation time as the engine reports it (ISO 8601 text; sorts by time).
    """

    id: str
    tags: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    created: str = ""


@dataclass(frozen=True)
class VolumeInfo:
    """A named volume: its name and labels."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LeftoverInfo:
    """A container carrying the manywheels label (:meth:`Engine.leftovers`).

    Attributes:
        name: the container name.
        labels: its labels (:data:`OWNER_LABEL`, :data:`RUN_LABEL` among them).
        status: as the engine reports it: ``running``, ``exited``, ``created``...
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    status: str = ""


@dataclass(frozen=True)
class EngineInfo:
    """What troubleshooting reports about the engine.

    Attributes:
        host: where it answers (``DOCKER_HOST``, or the default socket), for messages.
        local: whether it runs on this machine (host directories can be bind-mounted).
        data_root: where it keeps images and containers, when it says.
        version: its version, when it says.
        name: its product name (``Docker``, ``Podman``...), when it says.

    Free space is not an engine fact: troubleshooting measures it with ``df`` in a
    container of the image (whose root lies on the data root).
    """

    host: str
    local: bool
    data_root: str | None = None
    version: str | None = None
    name: str | None = None


class Container(Protocol):
    """A long-lived container; a context manager that starts it and removes it on exit.

    Commands run one at a time or concurrently; output streams line by line to a sink.
    """

    @property
    def name(self) -> str:
        """The container name (``manywheels-<run_id>-<random>`` by default)."""

    @property
    def image(self) -> str:
        """The image reference it runs."""

    @property
    def labels(self) -> Mapping[str, str]:
        """Its labels (:data:`LABEL`, :data:`RUN_LABEL`, :data:`OWNER_LABEL`, extras)."""

    @property
    def id(self) -> str:
        """The container id. Raises RuntimeError before :meth:`start`."""

    def __enter__(self) -> Container: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def start(self) -> None:
        """Create and start the container (idempotent). Raises ImageNotFoundError,
        EngineError (the engine cannot create or start it), EngineUnavailableError."""

    def remove(self) -> None:
        """Remove the container (force), ignoring one that is already gone. Raises
        EngineError."""

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
        """Run an argv list, or a script string with ``bash -c``; stream its output to
        ``sink``; return the exit code. Raises CommandError when ``check`` and non-zero."""

    def output(
        self,
        command: Sequence[str] | str,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        check: bool = True,
    ) -> str:
        """Run a command and return its stdout as text (lines joined by newlines)."""

    def copy_into(
        self,
        src: Path,
        dest: str,
        *,
        exclude: Callable[[Path], bool] | None = None,
        mode: int | None = None,
    ) -> list[Path]:
        """Copy a host file or tree to the absolute container path ``dest``; return the
        symbolic links skipped because they point outside ``src``. Raises OSError (a host
        file cannot be read), EngineError (the engine refused the archive)."""

    def copy_out(self, src: str, dest: Path) -> None:
        """Copy a container file or tree to the host path ``dest`` (atomically). Raises
        EngineError (no such ``src``)."""

    def write_text(self, path: str, text: str, *, mode: int = 0o644) -> None:
        """Write ``text`` to the container file ``path`` (parents created)."""

    def read_text(self, path: str) -> str:
        """The text of a container file. Raises CommandError when it is absent."""

    def interactive_command(self, argv: Sequence[str], *, cwd: str | None = None,
                            tty: bool = True) -> list[str]:
        """The host command that runs ``argv`` in this started container attached to the
        caller's terminal (``docker exec -it``; ``tty=False``: ``-i`` only), from ``cwd``,
        with the container's personality; the caller runs it and gets its exit code."""

    def commit(
        self,
        repository: str,
        tag: str,
        *,
        conf: Mapping[str, Any] | None = None,
        message: str | None = None,
    ) -> str:
        """Commit the file system as ``repository:tag`` (``conf``: ``Env``, ``Cmd``,
        ``Entrypoint``, ``Labels`` overriding the container's); return the image id.
        Raises EngineError."""


class Engine(Protocol):
    """A connection to a container engine."""

    @property
    def host(self) -> str:
        """Where it answers, for messages (``DOCKER_HOST`` or the default socket)."""

    @property
    def is_local(self) -> bool:
        """Whether it runs on this machine, so host directories can be bind-mounted."""

    def info(self) -> EngineInfo:
        """Facts for troubleshooting. Raises EngineError."""

    def image(
        self, ref: str, *, pull: bool = True, progress: Callable[[str], None] | None = None,
        arch: str | None = None,
    ) -> ImageInfo:
        """The image ``ref``, pulled only when absent (and ``pull``), for ``arch``'s platform
        when given (``aarch64`` → ``linux/arm64``); ``progress`` gets progress lines. Raises
        ImageNotFoundError."""

    def pull(self, ref: str, *, progress: Callable[[str], None] | None = None,
             arch: str | None = None) -> ImageInfo:
        """Pull ``ref`` from its registry, present or not (``arch``: as :meth:`image`).
        Raises ImageNotFoundError."""

    def find_image(self, ref: str) -> ImageSummary | None:
        """The local image ``ref`` (a tag or id), or ``None``; never pulls."""

    def images(self, label: str | None = None) -> list[ImageSummary]:
        """Local images (carrying the label ``label``, when given). Raises EngineError."""

    def remove_image(self, image_id: str) -> None:
        """Remove an image (not forced). Raises EngineError (e.g. in use)."""

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
    ) -> Container:
        """A (not yet started) container of ``image``: ``env`` for every command, the host
        CA bundle placed read-only after start, labels, volumes (host path or named volume
        -> container path). With ``arch``, created for that arch's platform; its start
        checks the host runs the arch (EmulationUnavailableError otherwise) and every command
        runs with the personality the image's entrypoint gives (``linux32`` for i686 and
        armv7l, :mod:`manywheels.engine._personality`). ``create``: the
        ``container-create-args`` allowlist's options (``None``: the engine's defaults)."""

    def leftovers(self, run_id: str | None = None) -> list[LeftoverInfo]:
        """Containers carrying :data:`LABEL` (of one run, when given), running or not.
        Raises EngineError."""

    def remove_leftover(self, name: str) -> None:
        """Remove a container by name (force); one already gone is fine. Raises
        EngineError."""

    def create_volume(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        """Create the named volume (an existing one is kept). Raises EngineError."""

    def volumes(self, label: str | None = None) -> list[VolumeInfo]:
        """Named volumes (carrying ``label``, when given). Raises EngineError."""

    def remove_volume(self, name: str) -> None:
        """Remove a named volume. Raises EngineError (e.g. in use)."""

    def close(self) -> None:
        """Close the connection (idempotent)."""
