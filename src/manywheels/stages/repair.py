"""The repair stage: ``auditwheel repair`` every raw platform wheel of ``dist-dir``.

Each wheel is repaired in the image it was built in (from the run report; else the
configured image) into ``output-dir``. External shared libraries are vendored into
``<name>.libs/`` and the wheel gets the policy's platform tag (PEP 600). auditwheel
may put several platform tags in one file name, so outputs are found by globbing,
not by predicting names. Pure-Python wheels are copied unchanged.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from packaging.utils import parse_wheel_filename

from manywheels._fsutil import atomic_copy, sha256_file
from manywheels._ui import SummaryRow
from manywheels.errors import CommandError, NothingToDoError
from manywheels.stages._common import (
    Job,
    StageResult,
    is_pure,
    run_jobs,
    run_stage_script,
    wheel_identifier,
)
from manywheels.stages._render import render
from manywheels.stages._run import CONTAINER_ROOT, Run

__all__ = ["raw_wheels", "repair", "repair_script"]


def raw_wheels(dist_dir: Path) -> list[Path]:
    """The wheels in ``dist-dir`` that need repair (``linux_*`` platform) or are pure."""
    result = []
    for path in sorted(dist_dir.glob("*.whl")):
        try:
            _, _, _, tags = parse_wheel_filename(path.name)
        except ValueError:
            continue
        if all(t.platform == "any" or t.platform.startswith("linux_") for t in tags):
            result.append(path)
    return result


def repair_script(identifier: str, wheel_in_container: str, plat: str) -> str:
    """The in-container repair script of one wheel (``templates/repair.sh.j2``)."""
    return render(
        "repair.sh.j2", identifier=identifier, wheel=wheel_in_container,
        out_dir=f"{CONTAINER_ROOT}/{identifier}/repaired", plat=plat,
    )


def _dry_run(run: Run, wheels: list[Path]) -> StageResult:
    """``dry-run``: print the repair scripts (for the raw wheels of dist-dir, or for the
    wheels the build stage would make); repair nothing, write nothing."""
    config = run.config
    planned: list[tuple[str, str, str]] = []
    for wheel in wheels:
        identifier = run.report.find_wheel("build", wheel.name)
        target = run.report.targets.get(identifier or "", {})
        plat = config.plat or str(target.get("plat") or "") or run.plat(
            str(target.get("image") or config.image)
        )
        identifier = identifier or wheel_identifier(wheel.name, plat)[0]
        planned.append((identifier, wheel.name, plat))
    if not wheels:
        planned += [(t.identifier, f"<the wheel built for {t.identifier}>", t.plat)
                    for t in run.targets(config.requires_python)]
    rows = []
    for identifier, name, plat in planned:
        script = repair_script(identifier, f"{CONTAINER_ROOT}/{identifier}/raw/{name}", plat)
        run.show_script(f"{identifier} repair.sh", script)
        rows.append(SummaryRow(identifier, "skipped", None, "dry run: script printed"))
    run.ui.summary("repair summary (dry run)", rows)
    return StageResult("repair", rows)


def _repair_one(run: Run, wheel: Path, identifier: str, image: str, plat: str) -> str:
    config = run.config
    started = time.monotonic()
    if is_pure(wheel.name):
        atomic_copy(wheel, config.output_dir / wheel.name)
        run.report.record(
            identifier, "repair", status="passed", duration_s=round(time.monotonic() - started, 3),
            wheel=wheel.name, sha256=sha256_file(config.output_dir / wheel.name), pure=True,
        )
        return f"{wheel.name} (pure Python: copied, nothing to repair)"
    container = run.container(image)
    base = f"{CONTAINER_ROOT}/{identifier}"
    wheel_in = f"{base}/raw/{wheel.name}"
    out_dir = f"{base}/repaired"
    container.copy_into(wheel, wheel_in)
    script = repair_script(identifier, wheel_in, plat)
    listed = run_stage_script(
        run, container, identifier, "repair", script,
        note=f"auditwheel repair --plat {plat} {wheel.name}", started=started, wheel_dir=out_dir,
    )
    names = listed or [
        n for n in container.output(["ls", "-1", out_dir]).split() if n.endswith(".whl")]
    if not names:
        msg = f"{identifier}: auditwheel wrote no wheel to {out_dir}"
        raise CommandError(msg, 1, [msg])
    for name in names:
        container.copy_out(f"{out_dir}/{name}", config.output_dir / name)
    repaired = names[0]
    run.report.record(
        identifier, "repair", status="passed", duration_s=round(time.monotonic() - started, 3),
        wheel=repaired, sha256=sha256_file(config.output_dir / repaired),
        log=f"logs/{identifier}/repair.log", source=wheel.name,
    )
    return repaired


def repair(run: Run) -> StageResult:
    """Repair every raw wheel of ``dist-dir`` into ``output-dir`` with auditwheel.

    With ``dry-run`` the scripts are printed on stdout and nothing is repaired or written.

    Raises:
        NothingToDoError: ``dist-dir`` holds no raw wheels.
        EngineUnavailableError, ImageNotFoundError: no engine, or no image.
        StageFailedError: auditwheel failed for one or more identifiers.
    """
    config = run.config
    run.ui.heading("manywheels: repair")
    wheels = raw_wheels(config.dist_dir)
    if config.dry_run:
        return _dry_run(run, wheels)
    if not wheels:
        msg = (
            f"no raw wheels to repair in dist-dir {config.dist_dir}: run the build stage "
            "first (nox -s wheels-build)"
        )
        raise NothingToDoError(msg)
    config.output_dir.mkdir(parents=True, exist_ok=True)
    jobs = []
    images: list[str] = []
    stale = [w for w in wheels if run.report.is_stale(run.report.find_wheel("build", w.name))]
    for wheel in stale:
        run.ui.warn(f"skipping {wheel.name}: left over from an earlier build run (delete it, "
                    "or rebuild its identifier)")
    wheels = [w for w in wheels if w not in stale]
    if not wheels:
        msg = f"dist-dir {config.dist_dir} holds only wheels left over from earlier build runs"
        raise NothingToDoError(msg)
    run.lock_outputs()
    for wheel in wheels:
        identifier = run.report.find_wheel("build", wheel.name)
        target = run.report.targets.get(identifier or "", {})
        image = str(target.get("image") or config.image)
        images.append(image)
        plat = config.plat or str(target.get("plat") or "") or run.plat(image)
        if identifier is None:
            identifier, _ = wheel_identifier(wheel.name, plat)
            run.report.set_target(identifier, image=image, plat=plat)
        jobs.append(
            Job(identifier, partial(_repair_one, run, wheel, identifier, image, plat),
                run.log_dir(identifier) / "repair.log")
        )
    # auditwheel must see the libraries before-all installed (a no-op after the build
    # stage of the same run, or when the container started from the cached before-all image).
    for image in dict.fromkeys(images):
        run.ensure_before_all(image)
    return run_jobs(run, "repair", jobs)
