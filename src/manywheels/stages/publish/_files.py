"""Which files to publish, and their checks.

Only what the run record names: the sdist it records and the repaired wheels of that
sdist (one per identifier; a wheel of an older sdist is stale and never published).
Other files in output-dir and dist-dir are left alone (:func:`unrecorded_files` names
them for a warning). A failing check uploads nothing; each raises
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

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from manywheels._commands import stage_command
from manywheels._fsutil import sha256_file
from manywheels.config import Config
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
    "unrecorded_files",
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


def read_record(report: RunReport) -> PublishRecord:
    """The one read of the run record in publish: the sdist and its repaired wheels.

    A wheel is listed for each identifier of the current sdist (its ``sdist_sha256`` is
    the project's) whose repair stage passed and named a file; its status is that
    identifier's test status (``not run`` when absent). Identifiers of older sdists are
    stale and left out.

    Args:
        report: the run record of output-dir (read, never written).

    Returns:
        The record (empty when the report is missing or unreadable).
    """
    location = str(report.path) if report.path.is_file() else f"{report.path} (missing)"
    project = report.project
    sdist = (RecordedSdist(Path(project.sdist).name, (project.sdist_sha256 or "").lower()
                           or None) if project.sdist else None)
    wheels: list[RecordedWheel] = []
    for identifier, repair in sorted(report.current("repair").items()):
        if not repair.wheel:
            continue
        target = report.target(identifier)
        test = target.stages.get("test") if target is not None else None
        wheels.append(RecordedWheel(
            identifier, repair.wheel, test.status if test is not None else "not run",
            repair.sha256.lower() if repair.sha256 else None,
        ))
    return PublishRecord(location, sdist, tuple(wheels))


def unrecorded_files(config: Config, record: PublishRecord) -> list[Path]:
    """Wheels in output-dir and sdists in dist-dir the record does not name (ignored)."""
    wheels = {wheel.wheel for wheel in record.wheels}
    sdist = record.sdist.name if record.sdist else None
    stray = [p for p in sorted(config.output_dir.glob("*.whl")) if p.name not in wheels]
    stray += [p for p in sorted(config.dist_dir.glob("*.tar.gz")) if p.name != sdist]
    return stray


# --------------------------------------------------------------------------- selection


def find_sdist(dist_dir: Path, record: PublishRecord) -> Path | None:
    """The sdist to publish: the one the record names (``None`` when it names none).

    Args:
        dist_dir: the dist-dir (absolute).
        record: the run record (:func:`read_record`).

    Returns:
        The sdist path, or ``None`` when the record names no sdist.

    Raises:
        PublishError: the sdist the record names is missing or differs from the recorded
            sha256.
    """
    if record.sdist is None:
        return None
    path = dist_dir / record.sdist.name
    if not path.is_file():
        msg = (
            f"the run report names the sdist {record.sdist.name}, but it is not in "
            f"dist-dir {dist_dir}; run {stage_command('build')} again"
        )
        raise PublishError(msg)
    if record.sdist.sha256 and sha256_file(path) != record.sdist.sha256:
        msg = (
            f"sdist {path.name} in {dist_dir} is not the one the run report recorded "
            f"(its sha256 differs); run {stage_command('build')} again"
        )
        raise PublishError(msg)
    return path


def collect_files(config: Config, record: PublishRecord) -> tuple[list[Path], Path | None]:
    """The files to publish: the repaired wheels of the current sdist and that sdist.

    Args:
        config: uses ``output_dir`` and ``dist_dir`` (absolute paths).
        record: the run record (:func:`read_record`).

    Returns:
        ``(wheels sorted by name, sdist or None)``; a pure wheel several identifiers
        share is listed once.

    Raises:
        NothingToDoError: the record names no wheel and no sdist.
        PublishError: a recorded wheel is missing from output-dir; see :func:`find_sdist`.
    """
    output_dir = config.output_dir
    names = sorted({wheel.wheel for wheel in record.wheels})
    missing = [name for name in names if not (output_dir / name).is_file()]
    if missing:
        msg = (f"the run record names {', '.join(missing)}, but it is not in output-dir "
               f"{output_dir}; run {stage_command('repair')} again")
        raise PublishError(msg)
    wheels = [output_dir / name for name in names]
    sdist = find_sdist(config.dist_dir, record)
    if not wheels and sdist is None:
        msg = (
            f"nothing to publish: the run record ({record.location}) names no repaired "
            f"wheel and no sdist; run {stage_command()} first"
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
            f"repaired; publish only manylinux_*/musllinux_* wheels from {stage_command('repair')}"
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
        "must record each as repaired and tested (test passed): run "
        f"{stage_command('test')}, or pass --allow-untested"
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
