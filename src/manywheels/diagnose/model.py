"""What diagnosis works on and what it returns: plain, immutable data.

:class:`Facts` is everything a diagnosis may look at, gathered beforehand (by
:mod:`manywheels.stages.troubleshoot` from a real run, or by a unit test from captured
logs). :class:`Finding` is one diagnosed problem: the cause in one line and the fix as
a concrete configuration change or command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "SEVERITIES",
    "EngineFacts",
    "Facts",
    "Finding",
    "ImageFacts",
    "LogText",
    "ProjectFacts",
    "Severity",
    "VersionedSymbol",
    "WheelAudit",
]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
"""Most to least severe: ``error`` stops a build (or will), ``warning`` is likely a
problem, ``info`` is a fact worth knowing (what repair will vendor)."""


@dataclass(frozen=True)
class Finding:
    """One diagnosed problem.

    Attributes:
        check: the check that found it (stable name, e.g. ``missing-header``).
        cause: what is wrong, one line.
        fix: what to do, one line: a configuration change or a command.
        severity: ``error``, ``warning`` or ``info``.
        identifier: the build identifier it concerns (``cp312-manylinux_x86_64``), or
            ``None`` for the whole run.
        log: the log the evidence comes from (relative to output-dir when inside it).
        evidence: the log line (or fact) that shows the cause.
    """

    check: str
    cause: str
    fix: str
    severity: Severity = "error"
    identifier: str | None = None
    log: str | None = None
    evidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (every attribute, ``None`` kept)."""
        return asdict(self)


@dataclass(frozen=True)
class EngineFacts:
    """The container engine, as seen from the host.

    Attributes:
        host: the endpoint tried (``DOCKER_HOST`` or the default socket URL).
        error: ``None`` when the engine answered, else the reason it did not.
        socket_path: the unix socket path when ``host`` is ``unix://...``.
        socket_exists: whether ``socket_path`` exists.
        installed: engine programs found on the host's PATH (``docker``, ``podman``...).
        data_root: where the engine keeps images and containers (``docker info``).
        free_bytes: free space there in bytes (measured in a container), if known.
    """

    host: str
    error: str | None = None
    socket_path: str | None = None
    socket_exists: bool = False
    installed: tuple[str, ...] = ()
    data_root: str | None = None
    free_bytes: int | None = None


@dataclass(frozen=True)
class ImageFacts:
    """The build image.

    Attributes:
        ref: the reference configured (``image``).
        present: whether the engine has it (locally or after a pull).
        error: why it could not be had (absent and not pullable), else ``None``.
        local_images: tags of images the engine has that can build wheels (they set
            ``AUDITWHEEL_PLAT``), newest first.
        env: the image's ENV (``AUDITWHEEL_PLAT``, ``AUDITWHEEL_POLICY``...).
        pythons: the Python tags under ``/opt/python`` (``cp312``...), if listed.
        package_manager: ``dnf``, ``yum``, ``apk`` or ``apt-get``, if known.
    """

    ref: str
    present: bool = True
    error: str | None = None
    local_images: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    pythons: tuple[str, ...] | None = None
    package_manager: str | None = None


@dataclass(frozen=True)
class LogText:
    """One stage log of one identifier.

    Attributes:
        identifier: ``cp312-manylinux_x86_64``, or ``sdist`` / ``before-all``.
        stage: ``build``, ``repair``, ``test``, ``sdist`` or ``before-all``.
        path: where it is (relative to output-dir when inside it).
        text: its content.
        status: the stage's status in the run report (``failed``...), if recorded.
    """

    identifier: str
    stage: str
    path: str
    text: str
    status: str | None = None


@dataclass(frozen=True)
class ProjectFacts:
    """The project tree and its sdist.

    Attributes:
        build_backend: ``build-system.build-backend`` of pyproject.toml (``None``: legacy
            setuptools).
        stale: build products in the tree (``*.so``, ``build/``, ``*.egg-info``), as
            paths relative to the project directory (directories end with ``/``).
        tree_files: every file of the tree (relative POSIX paths; VCS, virtualenv and
            output directories left out).
        sdist: the sdist's file name, if one was built.
        sdist_files: the sdist's files, relative to its top directory.
        uses_scm: the build derives the sdist's file list from git (setuptools-scm,
            hatch-vcs, meson-python...).
    """

    build_backend: str | None = None
    stale: tuple[str, ...] = ()
    tree_files: frozenset[str] = frozenset()
    sdist: str | None = None
    sdist_files: frozenset[str] | None = None
    uses_scm: bool = False


@dataclass(frozen=True)
class VersionedSymbol:
    """A dynamic symbol an ELF file imports with a version (``arc4random@GLIBC_2.36``).

    Attributes:
        name: the symbol name.
        version: the version needed (``GLIBC_2.36``).
        library: the library it is versioned against (``libc.so.6``).
        file: the ELF file inside the wheel.
    """

    name: str
    version: str
    library: str
    file: str


@dataclass(frozen=True)
class WheelAudit:
    """What is known about one raw wheel of dist-dir.

    Attributes:
        wheel: the file name.
        identifier: the identifier that built it, if known.
        show: the ``auditwheel show --json`` document, if it ran.
        error: why ``auditwheel show`` could not run or what it reported as an error.
        symbols: the versioned symbols its ELF files import (from the host's ELF reader).
    """

    wheel: str
    identifier: str | None = None
    show: Mapping[str, Any] | None = None
    error: str | None = None
    symbols: tuple[VersionedSymbol, ...] = ()


@dataclass(frozen=True)
class Facts:
    """Everything a diagnosis looks at.

    Attributes:
        project_dir: the project directory (for messages).
        output_dir: the output directory (for messages).
        requested_pythons: the ``python`` tags configured, or ``None`` (all).
        plat: the auditwheel policy repairs aim at (``plat`` or the image's).
        before_all: the configured ``before-all`` script.
        environment: the ``environment`` table.
        environment_pass: the ``environment-pass`` names.
        host_variables: names of proxy/index/CA variables set on the host.
        ca_bundle: the host CA bundle passed into containers, if any.
        engine: the engine facts, if probed.
        image: the image facts, if probed.
        project: the project facts, if read.
        logs: the stage logs kept under ``<output-dir>/logs``.
        report: the run report document.
        audits: the raw wheels of dist-dir with their audits.
        error: the error that stopped the stage just run, one line (automatic diagnosis).
        min_free_bytes: below this much free engine space, warn (bytes).
    """

    project_dir: str = "."
    output_dir: str = "wheelhouse"
    requested_pythons: tuple[str, ...] | None = None
    plat: str | None = None
    before_all: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)
    environment_pass: tuple[str, ...] = ()
    host_variables: tuple[str, ...] = ()
    ca_bundle: str | None = None
    engine: EngineFacts | None = None
    image: ImageFacts | None = None
    project: ProjectFacts | None = None
    logs: tuple[LogText, ...] = ()
    report: Mapping[str, Any] = field(default_factory=dict)
    audits: tuple[WheelAudit, ...] = ()
    error: str | None = None
    min_free_bytes: int = 5 * 1024**3
