"""Troubleshoot's reading of the run's files: the project tree and its sdist, the logs the
stages kept, and the raw wheels of dist-dir with their audits (``auditwheel show``
runs in the image they were built in; nothing is rebuilt).
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from manywheels.config._project import EXCLUDED_PATHS, Project
from manywheels.diagnose import LogText, ProjectFacts, WheelAudit
from manywheels.diagnose.elf import wheel_versioned_symbols
from manywheels.errors import ConfigError, ManywheelsError
from manywheels.stages._common import is_pure
from manywheels.stages._run import CONTAINER_ROOT, Run
from manywheels.stages._sdist import SDIST_SECTION

__all__ = ["project_facts", "stage_logs", "wheel_audits"]

_MAX_TREE_FILES = 50_000
_SCM_REQUIRES = ("setuptools_scm", "setuptools-scm", "hatch-vcs", "hatch_vcs",
                 "setuptools-git-versioning", "versioningit", "pdm-backend[scm]")


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


def project_facts(run: Run) -> ProjectFacts:
    """The project tree (its files, stale build products, build backend, whether the
    sdist's file list comes from git) and the sdist this project's run record names, with
    its files (an sdist the record does not name is not looked at)."""
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
    if sdist_path is not None and not sdist_path.is_file():
        sdist_path = None
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


def _named_log(output: Path, relative: object) -> Path | None:
    """The log file a run record entry names (``logs/…``, relative to output-dir), or
    ``None``: not a string, outside ``<output-dir>/logs``, or not a file."""
    if not isinstance(relative, str) or not relative:
        return None
    logs = (output / "logs").resolve()
    path = (output / relative).resolve()
    if not path.is_relative_to(logs) or not path.is_file():
        return None
    return path


def stage_logs(run: Run, only: Mapping[str, str] | None = None, stage: str | None = None
               ) -> tuple[LogText, ...]:
    """The logs the run record names, and only those: each current identifier's stage logs
    (a stage record's ``log``, with its status), the before-all log of each image of this run
    (the record's ``before_all`` section: ``ran`` → ``passed``, ``failed``) and the host sdist
    build's (the ``sdist`` section). A directory under ``<output-dir>/logs`` the record does
    not name (an older run's identifier, a copied-in log) is never read, nor is the log of a
    stage recorded without one (a reused wheel, a skipped test).

    Args:
        run: the run (its output-dir, record and images).
        only: restrict to these identifiers (a failed stage's failures).
        stage: restrict to this stage (``build``, ``before-all``, ``sdist``, …).
    """
    output = run.config.output_dir
    found: list[LogText] = []
    for identifier, target in sorted(run.report.targets.items()):
        if only is not None and identifier not in only:
            continue
        if not run.report.is_current(identifier):
            continue  # an older sdist's logs explain nothing of the last run
        for name, record in sorted(target.get("stages", {}).items()):
            if stage is not None and name != stage:
                continue
            path = _named_log(output, record.get("log"))
            if path is not None:
                found.append(LogText(identifier, name, str(record["log"]), _read(path),
                                     record.get("status")))
    seen: set[Path] = set()
    before_all = run.report.sections.get("before_all", {})
    for image in run.images() if stage in {None, "before-all"} else ():
        entry = before_all.get(image)
        if not isinstance(entry, dict) or entry.get("status") not in {"ran", "failed"}:
            continue  # cached (nothing ran), or never recorded for this image
        path = _named_log(output, entry.get("log"))
        if path is not None and path not in seen:
            seen.add(path)
            relative = str(entry["log"])
            status = "failed" if entry["status"] == "failed" else "passed"
            found.append(LogText(Path(relative).parent.name, "before-all", relative,
                                 _read(path), status))
    sdist = run.report.sections.get(SDIST_SECTION, {}).get("build")
    if stage in {None, "sdist"} and isinstance(sdist, dict):
        path = _named_log(output, sdist.get("log"))
        if path is not None:
            found.append(LogText("sdist", "sdist", str(sdist["log"]), _read(path),
                                 sdist.get("status")))
    return tuple(found)


def _recorded_raw_wheels(run: Run) -> list[tuple[str, str]]:
    """(identifier, raw wheel name) of the current sdist's builds, from the run record."""
    return sorted(
        (identifier, str(record.wheel))
        for identifier, record in run.report.current("build").items() if record.wheel
    )


def wheel_audits(run: Run, *, show: bool) -> tuple[WheelAudit, ...]:
    """The non-pure raw wheels the run record names for the current sdist: their
    versioned symbols and, with ``show``, ``auditwheel show --json`` run in the image that
    built them."""
    audits = []
    for identifier, name in _recorded_raw_wheels(run):
        wheel = run.config.dist_dir / name
        if is_pure(wheel.name) or not wheel.is_file():
            continue
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
    target = run.report.target(identifier or "")
    image = (target.image if target else None) or run.config.image
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
