"""The troubleshoot stage: gather facts from a run and diagnose them.

:func:`troubleshoot` (the ``wheels-troubleshoot`` session) gathers everything: the
engine (socket, data-root free space), the image (present or pullable, its Pythons,
its package manager), the project tree and sdist, the logs and run report the stages
kept, and ``auditwheel show --json`` of every raw wheel in dist-dir (run in the image;
the raw wheel is copied in, nothing is rebuilt). It prints the full report, or a JSON
document on stdout with ``--json``.

:func:`quick_diagnosis` is the automatic diagnosis after a failing stage: the same
checks over the failing stage's logs and the facts already at hand, with no extra
container work beyond asking the image which package manager it has when a compile
lacked a header or library.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from manywheels.config._project import EXCLUDED_PATHS, Project
from manywheels.diagnose import (
    EngineFacts,
    Facts,
    Finding,
    ImageFacts,
    LogText,
    ProjectFacts,
    WheelAudit,
    diagnose,
    report_lines,
    short_lines,
    to_json,
)
from manywheels.diagnose import logs as log_patterns
from manywheels.diagnose.elf import wheel_versioned_symbols
from manywheels.engine._docker import find_ca_bundle
from manywheels.errors import (
    CommandError,
    ConfigError,
    EngineUnavailableError,
    ImageNotFoundError,
    ManywheelsError,
    ProjectError,
    StageFailedError,
)
from manywheels.plan._record import REPORT_NAME
from manywheels.stages._common import is_pure
from manywheels.stages._run import CONTAINER_ROOT, Run
from manywheels.stages.repair import raw_wheels

__all__ = [
    "DEFAULT_MIN_FREE_GIB",
    "ProblemsFoundError",
    "TroubleshootOptions",
    "gather",
    "print_quick_diagnosis",
    "quick_diagnosis",
    "split_args",
    "troubleshoot",
]

DEFAULT_MIN_FREE_GIB = 5.0
"""Below this much free space (GiB) for the engine, troubleshoot warns."""

_HOST_VARIABLES = (
    "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "https_proxy", "http_proxy",
    "no_proxy", "all_proxy", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL",
    "UV_DEFAULT_INDEX", "SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE",
)
_ENGINE_PROGRAMS = ("docker", "dockerd", "podman")
_DEFAULT_SOCKET = "/var/run/docker.sock"
_MAX_TREE_FILES = 50_000
_SCM_REQUIRES = ("setuptools_scm", "setuptools-scm", "hatch-vcs", "hatch_vcs",
                 "setuptools-git-versioning", "versioningit", "pdm-backend[scm]")
_PACKAGE_MANAGER_PROBE = (
    "for m in dnf yum apk apt-get; do "
    "if command -v $m >/dev/null 2>&1; then echo $m; exit 0; fi; done"
)


class ProblemsFoundError(ManywheelsError):
    """``wheels-troubleshoot`` found one or more problems of severity ``error``."""

    exit_code = 1

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        errors = [f for f in findings if f.severity == "error"]
        super().__init__(
            f"troubleshoot found {len(errors)} problem(s); first: {errors[0].cause}"
            if errors else "troubleshoot found no problem"
        )


@dataclass(frozen=True)
class TroubleshootOptions:
    """Options of the troubleshoot stage (command line: ``--json``, ``--min-free-gib``).

    Attributes:
        json: print a JSON document on stdout instead of the report.
        min_free_gib: warn when the engine has less free space than this (GiB).
    """

    json: bool = False
    min_free_gib: float = DEFAULT_MIN_FREE_GIB


def split_args(argv: Sequence[str]) -> tuple[TroubleshootOptions, list[str]]:
    """Take the troubleshoot flags out of command-line arguments.

    ``--json`` and ``--min-free-gib N`` (or ``--min-free-gib=N``) are the stage's own;
    the rest are configuration flags for :func:`manywheels.config._config.load_config`.

    Raises:
        ConfigError: ``--min-free-gib`` without a non-negative number.
    """
    json_output = False
    min_free = DEFAULT_MIN_FREE_GIB
    rest: list[str] = []
    args = list(argv)
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--json":
            json_output = True
        elif arg == "--min-free-gib" or arg.startswith("--min-free-gib="):
            if "=" in arg:
                value = arg.split("=", 1)[1]
            else:
                index += 1
                value = args[index] if index < len(args) else ""
            try:
                min_free = float(value)
            except ValueError:
                min_free = -1.0
            if min_free < 0:
                msg = f"command line: --min-free-gib: got {value!r}, expected a number >= 0"
                raise ConfigError(msg)
        else:
            rest.append(arg)
        index += 1
    return TroubleshootOptions(json_output, min_free), rest


# ------------------------------------------------------------------ gathering


def _default_host(env: Mapping[str, str]) -> str:
    return env.get("DOCKER_HOST") or f"unix://{_DEFAULT_SOCKET}"


def _engine_facts(
    run: Run, *, measure: bool, error: ManywheelsError | None = None
) -> tuple[EngineFacts, bool]:
    env = run.host_env
    host = _default_host(env)
    parsed = urlsplit(host)
    socket_path = parsed.path if parsed.scheme in {"unix", "npipe"} else None
    installed = tuple(
        name for name in _ENGINE_PROGRAMS if shutil.which(name, path=env.get("PATH", ""))
    )
    exists = socket_path is not None and Path(socket_path).exists()
    if isinstance(error, EngineUnavailableError):
        # The stage just failed to connect: do not try (and wait) again.
        return EngineFacts(host, str(error), socket_path, exists, installed), False
    try:
        engine = run.engine
    except EngineUnavailableError as failure:
        return EngineFacts(host, str(failure), socket_path, exists, installed), False
    data_root = None
    free = None
    if measure:
        with contextlib.suppress(Exception):
            data_root = str(engine.client.info().get("DockerRootDir") or "") or None
    return EngineFacts(host, None, socket_path, exists, installed, data_root, free), True


def _local_images(run: Run) -> tuple[str, ...]:
    """Tags of local images that can build wheels (their ENV sets AUDITWHEEL_PLAT, as the
    manylinux and musllinux images do), newest first."""
    found: list[tuple[str, str]] = []
    with contextlib.suppress(Exception):
        for image in run.engine.client.images.list()[:200]:
            attrs: dict[str, Any] = image.attrs
            env = (attrs.get("Config") or {}).get("Env") or []
            if any(item.startswith("AUDITWHEEL_PLAT=") for item in env):
                found.extend((str(attrs.get("Created", "")), str(tag)) for tag in image.tags)
    return tuple(tag for _, tag in sorted(found, key=lambda item: item[0], reverse=True))


def _free_bytes(run: Run, ref: str) -> int | None:
    """Free bytes of the engine's storage, from ``df`` in a container of the image (the
    container's root is on the engine's data root)."""
    try:
        text = run.container(ref).output(["df", "-Pk", "/"], check=False)
    except ManywheelsError:
        return None
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4 and fields[3].isdigit():
            return int(fields[3]) * 1024
    return None


def _package_manager(run: Run, ref: str) -> str | None:
    try:
        found = run.container(ref).output(["sh", "-c", _PACKAGE_MANAGER_PROBE], check=False)
    except ManywheelsError:
        return None
    return found.strip() or None


def _image_facts(
    run: Run, *, error: ManywheelsError | None, full: bool, need_package_manager: bool
) -> ImageFacts:
    ref = run.config.image
    if isinstance(error, ImageNotFoundError):
        return ImageFacts(ref, present=False, error=str(error), local_images=_local_images(run))
    try:
        info = run.image(ref)
    except ImageNotFoundError as failure:
        return ImageFacts(ref, present=False, error=str(failure),
                          local_images=_local_images(run))
    pythons: tuple[str, ...] | None = None
    if full or run.config.python:
        with contextlib.suppress(ManywheelsError):
            pythons = tuple(tag.tag for tag in run.pythons(ref))
    manager = _package_manager(run, ref) if (full or need_package_manager) else None
    return ImageFacts(ref, present=True, env=dict(info.env), pythons=pythons,
                      package_manager=manager)


def _skipped(path: Path, skip: set[Path]) -> bool:
    """Left out of the tree listing: :data:`EXCLUDED_PATHS`, ``skip`` (the output
    directories) and any virtual environment, whatever its name (``env/``)."""
    return (path.name in EXCLUDED_PATHS or (path / "pyvenv.cfg").is_file()
            or path.resolve() in skip)


def _walk(root: Path, skip: set[Path]) -> Iterator[tuple[Path, list[str], list[str]]]:
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        dirnames[:] = sorted(d for d in dirnames if not _skipped(here / d, skip))
        yield here, dirnames, sorted(filenames)


def _tree(root: Path, skip: set[Path]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(every file, stale build products) of a project tree, as relative POSIX paths."""
    files: list[str] = []
    stale: list[str] = []
    for here, dirnames, filenames in _walk(root, skip):
        relative = here.relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        for name in list(dirnames):
            top_build = not prefix and name in {"build", "_skbuild"}
            if top_build and not (here / name / "__init__.py").exists():
                stale.append(f"{prefix}{name}/")
                dirnames.remove(name)
            elif name.endswith(".egg-info"):
                dirnames.remove(name)
                if _stale_egg_info(root, here / name):
                    stale.append(f"{prefix}{name}/")
        for name in filenames:
            path = prefix + name
            if len(files) < _MAX_TREE_FILES:
                files.append(path)
            if name.endswith(".so") or ".so." in name:
                stale.append(path)
    return frozenset(files), tuple(stale)


def _stale_egg_info(root: Path, egg_info: Path) -> bool:
    """An ``*.egg-info`` directory is stale when its SOURCES.txt lists files the tree no
    longer has: setuptools reads that list back and keeps putting them in the sdist.
    (A fresh one is rewritten by every sdist build, manywheels' own included.)"""
    sources = egg_info / "SOURCES.txt"
    if not sources.is_file():
        return False
    for line in _read(sources).splitlines():
        name = line.strip()
        if name and not (root / name).exists() and not name.startswith(egg_info.name):
            return True
    return False


def _sdist_files(path: Path) -> frozenset[str] | None:
    try:
        with tarfile.open(path) as archive:
            names = [m.name for m in archive.getmembers() if m.isfile()]
    except (OSError, tarfile.TarError):
        return None
    return frozenset(name.split("/", 1)[1] for name in names if "/" in name)


def _project_facts(run: Run) -> ProjectFacts:
    config = run.config
    try:
        project = config.read_project()
    except ConfigError:
        project = Project(config.project_dir)
    backend = project.build_backend
    requires = " ".join(project.build_requires).lower()
    uses_scm = any(name in requires for name in _SCM_REQUIRES) or backend == "mesonpy"
    skip = {config.dist_dir.resolve(), config.output_dir.resolve()}
    files, stale = _tree(config.project_dir, skip)
    sdist_name = run.report.data.get("project", {}).get("sdist")
    sdist_path = config.dist_dir / sdist_name if sdist_name else None
    if sdist_path is None or not sdist_path.is_file():
        candidates = sorted(config.dist_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
        sdist_path = candidates[-1] if candidates else None
    return ProjectFacts(
        build_backend=str(backend) if backend else None,
        stale=stale,
        tree_files=files,
        sdist=sdist_path.name if sdist_path else None,
        sdist_files=_sdist_files(sdist_path) if sdist_path else None,
        uses_scm=uses_scm,
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _logs(run: Run, only: Mapping[str, str] | None = None, stage: str | None = None
          ) -> tuple[LogText, ...]:
    """The stage logs: those the run report records (with their status), plus the
    before-all and sdist logs. ``only``/``stage`` restrict to one stage's failures."""
    output = run.config.output_dir
    found: list[LogText] = []
    seen: set[Path] = set()
    for identifier, target in sorted(run.report.targets.items()):
        if only is not None and identifier not in only:
            continue
        for name, record in sorted(target.get("stages", {}).items()):
            if stage is not None and name != stage:
                continue
            relative = record.get("log") or f"logs/{identifier}/{name}.log"
            path = output / relative
            if path.is_file():
                seen.add(path.resolve())
                found.append(LogText(identifier, name, str(relative), _read(path),
                                     record.get("status")))
    for special in ("before-all", "sdist"):
        if stage is not None and stage != special:
            continue
        path = output / "logs" / special / f"{special}.log"
        if path.is_file() and path.resolve() not in seen:
            text = _read(path)
            status = None
            if special == "sdist":
                status = "passed" if "Successfully built" in text else "failed"
            elif stage == special:
                status = "failed"
            found.append(LogText(special, special, f"logs/{special}/{special}.log", text, status))
    return tuple(found)


def _audits(run: Run, *, show: bool) -> tuple[WheelAudit, ...]:
    audits = []
    for wheel in raw_wheels(run.config.dist_dir):
        if is_pure(wheel.name):
            continue
        identifier = run.report.find_wheel("build", wheel.name)
        try:
            symbols = wheel_versioned_symbols(wheel)
        except (OSError, ValueError):
            symbols = ()
        document: dict[str, Any] | None = None
        error = None
        if show:
            document, error = _auditwheel_show(run, wheel, identifier)
        audits.append(WheelAudit(wheel.name, identifier, document, error, symbols))
    return tuple(audits)


def _auditwheel_show(run: Run, wheel: Path, identifier: str | None
                     ) -> tuple[dict[str, Any] | None, str | None]:
    """``auditwheel show --json`` of a raw wheel, in the image it was built in."""
    import json  # noqa: PLC0415

    target = run.report.targets.get(identifier or "", {})
    image = str(target.get("image") or run.config.image)
    inside = f"{CONTAINER_ROOT}/troubleshoot/{wheel.name}"
    try:
        container = run.container(image)
        container.copy_into(wheel, inside)
        text = container.output(["auditwheel", "show", "--json", inside], check=False)
    except ManywheelsError as failure:
        return None, str(failure)
    start = text.find("{")
    try:
        document = json.loads(text[start:]) if start >= 0 else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return None, (text.strip().splitlines() or ["no output"])[-1]
    return document, document.get("error")


def gather(
    run: Run,
    *,
    error: ManywheelsError | None = None,
    min_free_gib: float = DEFAULT_MIN_FREE_GIB,
) -> Facts:
    """Gather the facts for a diagnosis.

    Args:
        run: the run (its configuration, engine connection, containers, report).
        error: the error that stopped a stage: gather only what explains it (the
            automatic diagnosis); ``None`` gathers everything (``wheels-troubleshoot``).
        min_free_gib: the free-space threshold for the engine, in GiB.

    Returns:
        The facts. Nothing here raises for an unavailable engine or image: those are
        facts too.
    """
    config = run.config
    full = error is None
    only = error.failures if isinstance(error, StageFailedError) else None
    stage = error.stage if isinstance(error, StageFailedError) else None
    if isinstance(error, ProjectError) and "sdist" in str(error):
        stage = "sdist"
    elif error is not None and "before-all" in str(error):
        stage = "before-all"
    logs = _logs(run) if full else _logs(run, only, stage) if stage else ()
    if stage == "repair":
        # The link lines of the build tell where a library auditwheel cannot find lives.
        logs += _logs(run, only, "build")
    needs_manager = any(
        log_patterns.missing_headers(log.text) or log_patterns.missing_libraries(log.text)
        or log_patterns.missing_pkgconfig(log.text)
        for log in logs if log.status == "failed"
    ) or stage == "before-all"
    engine, engine_ok = _engine_facts(run, measure=full, error=error)
    image = None
    if engine_ok:
        image = _image_facts(run, error=error, full=full, need_package_manager=needs_manager)
        if full and image.present:
            engine = EngineFacts(
                engine.host, engine.error, engine.socket_path, engine.socket_exists,
                engine.installed, engine.data_root, _free_bytes(run, config.image),
            )
    project = _project_facts(run) if full or stage in {"build", "sdist"} else None
    show = full and image is not None and image.present
    audits = _audits(run, show=show) if full or stage == "repair" else ()
    plat = config.plat
    if plat is None and image is not None:
        plat = image.env.get("AUDITWHEEL_PLAT")
    ca_bundle = find_ca_bundle(run.host_env)
    return Facts(
        project_dir=str(config.project_dir),
        output_dir=str(config.output_dir),
        requested_pythons=tuple(t.tag for t in config.python) if config.python else None,
        plat=plat,
        before_all=config.before_all,
        environment=dict(config.environment),
        environment_pass=tuple(config.environment_pass),
        host_variables=tuple(v for v in _HOST_VARIABLES if run.host_env.get(v)),
        ca_bundle=str(ca_bundle) if ca_bundle else None,
        engine=engine,
        image=image,
        project=project,
        logs=logs,
        report=run.report.data,
        audits=audits,
        error=str(error) if error is not None else None,
        min_free_bytes=int(min_free_gib * 1024**3),
    )


# ------------------------------------------------------------------ front doors


def troubleshoot(
    run: Run, options: TroubleshootOptions | None = None, *, stdout: TextIO | None = None
) -> list[Finding]:
    """Diagnose the project, its last run and the build environment; print the report.

    Reads ``<output-dir>/logs/<identifier>/<stage>.log`` and
    ``<output-dir>/manywheels-report.json``; probes the engine and the image; runs
    ``auditwheel show --json`` on the raw wheels of dist-dir in their image. Never
    rebuilds anything.

    Args:
        run: the run.
        options: ``json`` prints a JSON document (see
            :func:`manywheels.diagnose.to_json`) on ``stdout`` instead of the report;
            ``min_free_gib`` is the engine free-space threshold in GiB.
        stdout: where the JSON goes; default ``sys.stdout``.

    Returns:
        The findings, most severe first.

    Raises:
        ProblemsFoundError: one or more findings have severity ``error`` (after
            printing them).
    """
    options = options or TroubleshootOptions()
    if not options.json:
        run.ui.heading("manywheels: troubleshoot")
        run.ui.info(
            f"reading {run.config.output_dir / 'logs'} and "
            f"{run.config.output_dir / REPORT_NAME}; probing the engine and {run.config.image}"
        )
    facts = gather(run, min_free_gib=options.min_free_gib)
    findings = diagnose(facts)
    if options.json:
        out = stdout or sys.stdout
        out.write(to_json(findings, facts) + "\n")
        out.flush()
    else:
        styles = {"[error]": "bold red", "[warning]": "yellow", "[info]": "cyan"}
        for line in report_lines(findings):
            style = next((v for k, v in styles.items() if line.startswith(k)), None)
            run.ui.console.print(line, style=style, markup=False, highlight=False)
    if any(f.severity == "error" for f in findings):
        raise ProblemsFoundError(findings)
    return findings


def quick_diagnosis(run: Run, error: ManywheelsError) -> list[Finding]:
    """The diagnosis of a stage that just failed with ``error``: the checks over that
    stage's logs and the facts at hand. Never raises (a diagnosis that fails yields
    nothing)."""
    diagnosable = (
        isinstance(error, EngineUnavailableError | ImageNotFoundError)
        or (isinstance(error, StageFailedError) and error.stage in {"build", "repair", "test"})
        or (isinstance(error, ConfigError) and str(error).startswith("python tag"))
        or (isinstance(error, ProjectError) and "sdist" in str(error))
        or (isinstance(error, CommandError) and "before-all" in str(error))
    )
    if not diagnosable:
        return []
    try:
        return diagnose(gather(run, error=error))
    except Exception:  # noqa: BLE001 - diagnosis must never hide the real error
        return []


def print_quick_diagnosis(run: Run, error: ManywheelsError, limit: int = 3) -> list[str]:
    """Print the automatic diagnosis (top findings, one line each) with the UI.

    Returns:
        The lines printed (empty when nothing was diagnosed).
    """
    lines = short_lines(quick_diagnosis(run, error), limit=limit)
    if lines:
        run.ui.error("diagnosis (full report: nox -s wheels-troubleshoot):")
        for line in lines:
            run.ui.error(f"  {line}")
    return lines

