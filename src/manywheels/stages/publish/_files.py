"""Which files to publish, and their checks.

Every ``*.whl`` directly in output-dir and the sdist of dist-dir (the one the run record
names, else the only ``*.tar.gz`` there). A failing check uploads nothing; each raises
:class:`~manywheels.errors.PublishError` naming the files: no wheel has a ``linux_*``
platform tag; every wheel is recorded as repaired and tested (unless ``allow-untested``);
all files are one project and one version; ``twine check --strict`` passes for every
file. Nothing at all to publish is :class:`~manywheels.errors.NothingToDoError`.

The run record is read in one place, :func:`read_record`; everything else here works
on the :class:`PublishRecord` it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from manywheels._fsutil import sha256_file
from manywheels.config._config import Config
from manywheels.errors import NothingToDoError, PublishError
from manywheels.plan._record import RunReport
from manywheels.stages.publish._twine import TWINE_TARGET_VARS, Redactor, Sink, run_twine

__all__ = [
    "PublishRecord",
    "RecordedSdist",
    "RecordedWheel",
    "check_platform_tags",
    "check_release",
    "check_tested",
    "collect_files",
    "find_sdist",
    "read_record",
    "twine_check",
]


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class RecordedWheel:
    """A repaired wheel the run record knows of.

    Attributes:
        identifier: the build identifier (``cp312-manylinux_x86_64``).
        wheel: the repaired wheel's file name (in output-dir).
        status: its test status: ``passed``, ``failed``, ``skipped``, ``interrupted`` or
            ``not run``.
        sha256: the repaired wheel's lower-case hex sha256, when recorded.
    """

    identifier: str
    wheel: str
    status: str
    sha256: str | None = None


@dataclass(frozen=True)
class RecordedSdist:
    """The sdist the run record names.

    Attributes:
        name: its file name (in dist-dir).
        sha256: its lower-case hex sha256, when recorded.
    """

    name: str
    sha256: str | None = None


@dataclass(frozen=True)
class PublishRecord:
    """What the run record says publish needs to know.

    Attributes:
        location: the record's path for messages (``… (missing)`` when absent).
        sdist: the sdist the wheels were built from, if recorded.
        wheels: the repaired wheels, with their test status (one per identifier).
    """

    location: str
    sdist: RecordedSdist | None = None
    wheels: tuple[RecordedWheel, ...] = ()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read_record(report: RunReport) -> PublishRecord:
    """The one read of the run record in publish: the sdist and the repaired wheels.

    A wheel is listed for each identifier whose ``stages.repair.wheel`` names a file;
    its status is that identifier's ``stages.test.status`` (``not run`` when absent).

    Args:
        report: the run report of output-dir (read, never written).

    Returns:
        The record (empty when the report is missing or unreadable).
    """
    location = str(report.path) if report.path.is_file() else f"{report.path} (missing)"
    project = report.data.get("project")
    project = project if isinstance(project, Mapping) else {}
    name = _text(project.get("sdist"))
    sha = _text(project.get("sdist_sha256"))
    sdist = RecordedSdist(Path(name).name, sha.lower() if sha else None) if name else None
    wheels: list[RecordedWheel] = []
    for identifier, target in report.targets.items():
        stages = target.get("stages") if isinstance(target, Mapping) else None
        repair = stages.get("repair") if isinstance(stages, Mapping) else None
        if not isinstance(repair, Mapping) or not _text(repair.get("wheel")):
            continue
        test = stages.get("test") if isinstance(stages, Mapping) else None
        status = test.get("status") if isinstance(test, Mapping) else None
        wheel_sha = _text(repair.get("sha256"))
        wheels.append(RecordedWheel(
            str(identifier), str(repair["wheel"]), str(status) if status else "not run",
            wheel_sha.lower() if wheel_sha else None,
        ))
    return PublishRecord(location, sdist, tuple(wheels))


# --------------------------------------------------------------------------- selection


def find_sdist(dist_dir: Path, record: PublishRecord) -> Path | None:
    """The sdist to publish: the one the record names, else the only ``*.tar.gz``.

    Args:
        dist_dir: the dist-dir (absolute).
        record: the run record (:func:`read_record`).

    Returns:
        The sdist path, or ``None`` when dist-dir has no ``*.tar.gz`` and the record
        names none.

    Raises:
        PublishError: the sdist the record names is missing or differs from the recorded
            sha256, or the record names none and dist-dir holds several.
    """
    if record.sdist is not None:
        path = dist_dir / record.sdist.name
        if not path.is_file():
            msg = (
                f"the run report names the sdist {record.sdist.name}, but it is not in "
                f"dist-dir {dist_dir}; run wheels-build again"
            )
            raise PublishError(msg)
        if record.sdist.sha256 and sha256_file(path) != record.sdist.sha256:
            msg = (
                f"sdist {path.name} in {dist_dir} is not the one the run report recorded "
                "(its sha256 differs); run wheels-build again"
            )
            raise PublishError(msg)
        return path
    candidates = sorted(p for p in dist_dir.glob("*.tar.gz") if p.is_file())
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        msg = (
            f"dist-dir {dist_dir} holds {len(candidates)} sdists ({names}) and the run "
            "report names none; keep only the one to publish"
        )
        raise PublishError(msg)
    return candidates[0] if candidates else None


def collect_files(config: Config, record: PublishRecord) -> tuple[list[Path], Path | None]:
    """The files to publish: every ``*.whl`` directly in output-dir, and the sdist.

    Args:
        config: uses ``output_dir`` and ``dist_dir`` (absolute paths).
        record: the run record (:func:`read_record`).

    Returns:
        ``(wheels sorted by name, sdist or None)``.

    Raises:
        NothingToDoError: no wheel and no sdist.
        PublishError: see :func:`find_sdist`.
    """
    output_dir = config.output_dir
    wheels = sorted(p for p in output_dir.glob("*.whl") if p.is_file())
    sdist = find_sdist(config.dist_dir, record)
    if not wheels and sdist is None:
        msg = (
            f"nothing to publish: no wheels in output-dir {output_dir} and no sdist in "
            f"dist-dir {config.dist_dir}; run wheels-build, wheels-repair and wheels-test first"
        )
        raise NothingToDoError(msg)
    return wheels, sdist


# --------------------------------------------------------------------------- checks


def _parse_wheel(path: Path) -> tuple[str, Version, frozenset[str]]:
    try:
        name, version, _, tags = parse_wheel_filename(path.name)
    except InvalidWheelFilename:
        msg = (
            f"{path.name} is not a valid wheel file name "
            "(name-version[-build]-python-abi-platform.whl, PEP 427)"
        )
        raise PublishError(msg) from None
    return str(name), version, frozenset(tag.platform for tag in tags)


def check_platform_tags(wheels: Sequence[Path]) -> None:
    """Refuse wheels with a ``linux_*`` platform tag (unrepaired; PyPI rejects them too).

    Args:
        wheels: wheel paths.

    Raises:
        PublishError: naming every such wheel and its tag, or an invalid wheel name.
    """
    refused: list[str] = []
    for wheel in wheels:
        platforms = sorted(p for p in _parse_wheel(wheel)[2] if p.startswith("linux_"))
        if platforms:
            refused.append(f"{wheel.name} ({', '.join(platforms)})")
    if refused:
        msg = (
            f"refusing {', '.join(refused)}: a linux_* platform tag means the wheel was not "
            "repaired; publish only manylinux_*/musllinux_* wheels from wheels-repair"
        )
        raise PublishError(msg)


def _untested_reason(
    wheel: Path, entries: Sequence[RecordedWheel], sha256: Callable[[Path], str]
) -> str | None:
    """Why ``wheel`` does not count as tested (``None``: it does)."""
    passed = [entry.sha256 for entry in entries if entry.status == "passed"]
    if passed and any(sha is None or sha == sha256(wheel) for sha in passed):
        return None
    if passed:
        return f"{wheel.name} (changed since it was tested)"
    if entries:
        statuses = ", ".join(sorted({entry.status for entry in entries}))
        return f"{wheel.name} (test {statuses})"
    return f"{wheel.name} (not in the run report)"


def check_tested(
    wheels: Sequence[Path],
    record: PublishRecord,
    *,
    allow_untested: bool = False,
    warn: Callable[[str], None] | None = None,
    sha256: Callable[[Path], str] = sha256_file,
) -> list[Path]:
    """The wheels the record does not show as tested; refused unless allowed.

    A wheel is tested when some recorded wheel of that file name has test status
    ``passed`` (and, when the record has the repaired wheel's ``sha256``, the file still
    has it).

    Args:
        wheels: wheel paths.
        record: the run record (:func:`read_record`).
        allow_untested: only warn (through ``warn``) instead of raising.
        warn: receives the warning when ``allow_untested``.
        sha256: hex sha256 of a file (injectable for tests).

    Returns:
        The untested wheels (empty when all are tested).

    Raises:
        PublishError: some wheels are untested and ``allow_untested`` is false.
    """
    untested: list[Path] = []
    reasons: list[str] = []
    for wheel in wheels:
        entries = [entry for entry in record.wheels if entry.wheel == wheel.name]
        reason = _untested_reason(wheel, entries, sha256)
        if reason is not None:
            untested.append(wheel)
            reasons.append(reason)
    if not untested:
        return []
    if allow_untested:
        if warn is not None:
            warn(f"publishing untested wheels (allow-untested): {', '.join(reasons)}")
        return untested
    msg = (
        f"refusing untested wheels: {', '.join(reasons)}; the run report {record.location} "
        "must record each as repaired and tested (test passed): run wheels-test, or pass "
        "--allow-untested"
    )
    raise PublishError(msg)


def check_release(files: Sequence[Path]) -> tuple[str, Version]:
    """All files must be one project (:pep:`503` normalized name) and one version.

    Args:
        files: wheel and sdist paths (``.whl``, ``.tar.gz``).

    Returns:
        ``(normalized project name, version)``.

    Raises:
        PublishError: the files are of several projects or versions (naming them), a
            file name is not a valid wheel or sdist name, or ``files`` is empty.
    """
    groups: dict[tuple[str, Version], list[str]] = {}
    for path in files:
        if path.name.endswith(".whl"):
            name, version, _ = _parse_wheel(path)
        else:
            try:
                parsed_name, version = parse_sdist_filename(path.name)
            except InvalidSdistFilename:
                msg = f"{path.name} is not a valid sdist file name (name-version.tar.gz)"
                raise PublishError(msg) from None
            name = str(parsed_name)
        groups.setdefault((canonicalize_name(name), version), []).append(path.name)
    if not groups:
        msg = "no files to check"
        raise PublishError(msg)
    if len(groups) > 1:
        found = "; ".join(
            f"{name} {version}: {', '.join(names)}" for (name, version), names in groups.items()
        )
        msg = (
            f"all files must be one project and one version, found {len(groups)}: {found}; "
            "remove the stray files from output-dir / dist-dir"
        )
        raise PublishError(msg)
    return next(iter(groups))


def twine_check(
    files: Sequence[Path], *, env: Mapping[str, str], sink: Sink, redact: Redactor
) -> None:
    """``twine check --strict`` on every file (metadata and long description render).

    Args:
        files: the files to publish.
        env: the environment (the ``TWINE_*`` target variables are left out).
        sink: receives twine's output.
        redact: masks secrets.

    Raises:
        PublishError: naming the failing files and twine's first complaint.
    """
    check_env = {k: v for k, v in env.items() if k not in TWINE_TARGET_VARS}
    returncode, lines = run_twine(
        ["check", "--strict", *map(str, files)], env=check_env, sink=sink, redact=redact
    )
    if returncode == 0:
        return
    failed = [
        f.name for f in files
        if any(f.name in line and ("FAILED" in line or "warning" in line) for line in lines)
    ] or [f.name for f in files if not any(f.name in ln and "PASSED" in ln for ln in lines)]
    complaint = next(
        (line.strip() for line in lines if line.startswith(("ERROR", "WARNING"))), ""
    )
    detail = f": {' '.join(complaint.split())}" if complaint else ""
    msg = (
        f"twine check --strict failed for {', '.join(failed or [f.name for f in files])}"
        f"{detail}; fix the metadata (long_description and its content type)"
    )
    raise PublishError(msg)
