"""The verify stage (``wheels-verify``): rebuild, repair, compare with the run record.

The repaired wheels the run record names for the current sdist (narrowed by ``python``)
are rebuilt from that same recorded sdist (its sha256 checked) with the recorded
``SOURCE_DATE_EPOCH``, in fresh containers with the caches off (no host cache mounts, no
committed before-all image), and repaired the same way (``repair-command``, the
canonical rewrite of ``reproducible``). The rebuild has its own dist-dir and output-dir,
``<output-dir>/verify/dist`` and ``<output-dir>/verify/wheelhouse`` (logs and rebuilt
wheels kept there for inspection, replaced by the next verify). Each rebuilt wheel's
sha256 is compared with the record's; a wheel that differs fails its identifier with one
line naming the differing members (:func:`differing_members`), and the stage fails
(:class:`~manywheels.errors.StageFailedError`, exit 1). The result is recorded as the
``verify`` stage of each identifier.
"""

from __future__ import annotations

import shutil
import time
import zipfile
from functools import partial
from pathlib import Path

from manywheels._fsutil import sha256_file, writing
from manywheels.errors import ManywheelsError, NothingToDoError
from manywheels.plan._record import StageRecord
from manywheels.stages._common import Job, StageResult, run_jobs, select_recorded
from manywheels.stages._run import Run
from manywheels.stages._sdist import read_sdist

__all__ = ["VERIFY_DIR", "VerifyMismatchError", "differing_members", "verify"]

VERIFY_DIR = "verify"
"""The rebuild's directory under output-dir (``dist`` and ``wheelhouse`` inside)."""


class VerifyMismatchError(ManywheelsError):
    """A rebuilt wheel is not byte-identical to the recorded one (exit 1, as any failed
    identifier of a stage)."""


def _entries(path: Path) -> dict[str, tuple[bytes, tuple[object, ...]]]:
    with zipfile.ZipFile(path) as archive:
        return {i.filename: (archive.read(i), (i.date_time, i.external_attr, i.compress_type,
                                               i.create_system, i.extra, i.comment))
                for i in archive.infolist()}


def differing_members(recorded: Path, rebuilt: Path) -> list[str]:
    """What differs between two wheels, one short phrase each, sorted by member: a member
    whose content differs (its path), one present in a single wheel (``<path> (only in
    the recorded wheel)`` / ``(only in the rebuild)``), one whose zip metadata (time,
    mode, compression) differs (``<path> (zip metadata)``); ``entry order`` when only
    the order differs, ``zip container`` when nothing else explains it.

    Raises:
        zipfile.BadZipFile, OSError: a file is not a readable zip archive.
    """
    old, new = _entries(recorded), _entries(rebuilt)
    found = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            found.append(f"{name} (only in the recorded wheel)")
        elif name not in old:
            found.append(f"{name} (only in the rebuild)")
        elif old[name][0] != new[name][0]:
            found.append(name)
        elif old[name][1] != new[name][1]:
            found.append(f"{name} (zip metadata)")
    if not found:
        found.append("entry order" if list(old) != list(new) else "zip container")
    return found


def _compare(run: Run, rebuild: Run, identifier: str, record: StageRecord) -> str:
    started = time.monotonic()
    recorded = run.config.output_dir / str(record.wheel)
    target = rebuild.report.target(identifier)
    again = target.stages.get("repair") if target else None
    if again is None or again.status != "passed" or not again.wheel:
        reason = (again.reason if again else None) or (
            "not rebuilt: not selected by the current build/skip, or stopped before it")
        logs = rebuild.log_dir(identifier)
        msg = f"{record.wheel}: the rebuild failed ({reason}); logs in {logs}"
        run.report.record(identifier, "verify", status="failed", wheel=record.wheel,
                          reason=msg, run_id=run.run_id)
        raise VerifyMismatchError(msg)
    rebuilt = rebuild.config.output_dir / again.wheel
    sha256 = sha256_file(rebuilt)
    seconds = round(time.monotonic() - started, 3)
    if sha256 == record.sha256 and again.wheel == record.wheel:
        run.report.record(identifier, "verify", status="passed", wheel=record.wheel,
                          sha256=sha256, duration_s=seconds, run_id=run.run_id)
        return f"{record.wheel}: identical (sha256 {sha256[:12]})"
    try:
        members = differing_members(recorded, rebuilt)
    except (zipfile.BadZipFile, OSError) as error:
        members = [f"(not comparable as zip archives: {error})"]
    if again.wheel != record.wheel:
        members.insert(0, f"file name {again.wheel}")
    msg = f"{record.wheel} differs from the rebuild {rebuilt}: " + ", ".join(members)
    run.report.record(identifier, "verify", status="failed", wheel=record.wheel, sha256=sha256,
                      duration_s=seconds, reason=msg, run_id=run.run_id)
    raise VerifyMismatchError(msg)


def _rebuild(run: Run, identifiers: list[str]) -> Run:
    """Rebuild and repair ``identifiers`` from the recorded sdist in a new run (fresh
    containers, caches off, the recorded SOURCE_DATE_EPOCH); failures are left in its
    record for :func:`_compare`."""
    from manywheels.errors import StageFailedError  # noqa: PLC0415
    from manywheels.stages.build import build_wheels  # noqa: PLC0415
    from manywheels.stages.repair import repair  # noqa: PLC0415

    config, project = run.config, run.report.project
    sdist = config.dist_dir / str(project.sdist)
    if not sdist.is_file() or sha256_file(sdist) != project.sdist_sha256:
        msg = (f"the recorded sdist {sdist} is missing or changed since it was built; "
               "nothing to verify against (run the build stage again)")
        raise NothingToDoError(msg)
    base = config.output_dir / VERIFY_DIR
    with writing("the verify directory", base):
        shutil.rmtree(base, ignore_errors=True)
        (base / "dist").mkdir(parents=True)
        shutil.copy2(sdist, base / "dist" / sdist.name)
    host_env = {k: v for k, v in run.host_env.items() if k != "SOURCE_DATE_EPOCH"}
    if project.source_date_epoch is not None:
        host_env["SOURCE_DATE_EPOCH"] = str(project.source_date_epoch)
    fresh = config.with_(dist_dir=base / "dist", output_dir=base / "wheelhouse", cache=False,
                         ccache=False, replace_record=True, dry_run=False)
    rebuild = Run(fresh, run.ui, engine=run.engine, host_env=host_env)
    try:
        rebuild.lock_outputs()
        for image in rebuild.images():
            rebuild.ensure_before_all(image)
        build_wheels(rebuild, read_sdist(base / "dist" / sdist.name), only=identifiers)
        repair(rebuild)
    except StageFailedError:
        pass  # the identifiers that failed are compared as failed
    except BaseException:
        rebuild.close()
        raise
    return rebuild


def verify(run: Run) -> StageResult:
    """Rebuild the recorded repaired wheels and compare them byte for byte (module doc).

    Raises:
        NothingToDoError: the record names no repaired wheel of the current sdist, or the
            recorded sdist is gone or changed.
        NotBuiltError: a ``python`` tag asked for was never repaired from the current sdist.
        EngineUnavailableError, ImageNotFoundError: no engine, or no image.
        BeforeAllError: before-all failed in the fresh container.
        StageFailedError: a rebuilt wheel differs from the record, or its rebuild failed.
    """
    config = run.config
    run.ui.heading("manywheels: verify")
    inputs = select_recorded(run, "repair", config.output_dir)
    if config.dry_run:
        run.ui.info("dry run: would rebuild and compare " + ", ".join(i for i, _ in inputs))
        return StageResult("verify")
    run.lock_outputs()
    rebuild = _rebuild(run, [identifier for identifier, _ in inputs])
    try:
        jobs = [Job(identifier, partial(_compare, run, rebuild, identifier, record))
                for identifier, record in inputs]
        return run_jobs(run, "verify", jobs)
    finally:
        rebuild.close()
