"""The repair stage: ``auditwheel repair`` the raw wheels the run record names.

Each wheel of the current sdist that the build stage recorded is repaired in the image it
was built in, for the policy recorded with it, into ``output-dir``. External shared
libraries are vendored into ``<name>.libs/`` and the wheel gets the policy's platform tag
(PEP 600). auditwheel may put several platform tags in one file name, so the names it
writes are read from its output directory, not predicted. Pure-Python wheels are copied
unchanged. Files in dist-dir the record does not name are ignored with a warning. The
record of each repaired wheel lists the SBOMs inside it (PEP 770: :mod:`._sbom`). The
audit-command checks each repaired wheel before it is copied out (:mod:`._audit`); an abi3
wheel that later identifiers reused at build time is repaired and audited once, for the
identifier that built it, and recorded for the others with ``reused_from``
(:mod:`._abi3_repair`).
With ``reproducible = true`` (the default) each wheel written to output-dir is then rewritten
canonically (:mod:`._canonical`) and the record's sha256 is the rewritten file's.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterable
from functools import partial

from manywheels._fsutil import atomic_copy, sha256_file
from manywheels.config._options import DEFAULT_REPAIR_COMMAND
from manywheels.config._placeholders import fill_placeholders
from manywheels.errors import ConfigError, NoWheelBuiltError
from manywheels.naming._tags import parse_python_tag
from manywheels.plan._record import StageRecord
from manywheels.plan._targets import StepOptions, interpreter_path, step_options
from manywheels.stages._abi3 import RepairGate
from manywheels.stages._abi3_repair import (
    gate_order,
    repair_gate,
    repair_reused,
    repair_source,
    reusable,
)
from manywheels.stages._audit import AuditError, audit_commands, audit_wheel
from manywheels.stages._canonical import rewrite_repaired
from manywheels.stages._common import (
    Job,
    StageResult,
    run_jobs,
    run_stage_script,
    select_recorded,
)
from manywheels.stages._pipeline import collect
from manywheels.stages._render import render
from manywheels.stages._run import CONTAINER_ROOT, Run
from manywheels.stages._sbom import wheel_sboms
from manywheels.stages._script_env import export_lines
from manywheels.stages._wheel_cache import WheelCache, note_hit
from manywheels.stages.test import PROJECT_IN_CONTAINER, copy_project, needs_project

__all__ = ["repair", "repair_job", "repair_script"]


def repair_command(template: str, plat: str) -> str:
    """The repair-command with ``{wheel}``, ``{dest_dir}``, ``{plat}``, ``{project}`` and
    ``{package}`` filled for the repair script (any other brace text kept)."""
    project = shlex.quote(PROJECT_IN_CONTAINER)
    return fill_placeholders(template, wheel='"$WHEEL"', dest_dir='"$OUT"',
                             plat=shlex.quote(plat), project=project, package=project)


def repair_script(identifier: str, wheel_in_container: str, plat: str,
                  environment: Iterable[tuple[str, str]] = (),
                  command: str = DEFAULT_REPAIR_COMMAND, *, rewritten: bool = False) -> str:
    """The in-container repair script of one wheel (``templates/repair.sh.j2``): the build
    markers and ``environment`` (the build's, evaluated in order), then ``command`` (the
    repair-command, :func:`repair_command`).

    ``rewritten``: the repaired wheel is rewritten canonically on the host afterwards
    (``reproducible``, :mod:`._canonical`), which compresses it; auditwheel (6.3 and
    later, ``AUDITWHEEL_ZIP_COMPRESSION_LEVEL=0``; older versions ignore the variable)
    then writes it uncompressed, so it is compressed once, not twice."""
    return render(
        "repair.sh.j2", identifier=identifier, wheel=wheel_in_container,
        out_dir=f"{CONTAINER_ROOT}/{identifier}/repaired", plat=plat,
        environment=export_lines(shlex.quote(identifier), environment),
        command=repair_command(command, plat), rewritten=rewritten,
    )


def _repair_pure(run: Run, identifier: str, wheel: str, *, pure: bool = True) -> str:
    """Copy a wheel unchanged: a pure one, or any with an empty repair-command (audited
    first, in its image's container, when an audit-command applies to it)."""
    started = time.monotonic()
    config = run.config
    options = step_options(config, identifier)
    if audit_commands(options, wheel):
        target = run.report.target(identifier)
        raw = f"{CONTAINER_ROOT}/{identifier}/raw/{wheel}"
        container = run.container((target.image if target else None) or config.image)
        container.copy_into(config.dist_dir / wheel, raw)
        try:
            audit_wheel(run, container, identifier, options, wheel=wheel,
                        wheel_in_container=raw, interpreter=_interpreter(run, identifier))
        except AuditError as error:
            run.report.record(identifier, "repair", status="failed", reason=str(error),
                              source=wheel, pure=pure, run_id=run.run_id)
            raise
    atomic_copy(config.dist_dir / wheel, config.output_dir / wheel)
    rewrite_repaired(run, identifier, config.output_dir / wheel)
    run.report.record(
        identifier, "repair", status="passed", duration_s=round(time.monotonic() - started, 3),
        wheel=wheel, sha256=sha256_file(config.output_dir / wheel), pure=pure, source=wheel,
        run_id=run.run_id, sboms=wheel_sboms(config.output_dir / wheel),
    )
    if not pure:
        return f"{wheel} (repair-command is empty: kept unrepaired)"
    return f"{wheel} (pure Python: copied, nothing to repair)"


def _from_cache(run: Run, identifier: str, wheel: str, script: str,
                cached: tuple[WheelCache, str]) -> str | None:
    """The repaired wheel of ``cached`` (cache, key) copied into output-dir and recorded
    with ``cached``; ``None`` when the cache has none (:mod:`._wheel_cache`)."""
    hit = cached[0].restore(cached[1], run.config.output_dir)
    if hit is None:
        return None
    if audit_commands(step_options(run.config, identifier), hit.wheel):  # passed when cached
        run.report.record(identifier, "audit", status="passed", wheel=hit.wheel, cached=True,
                          duration_s=0.0, run_id=run.run_id)
    run.report.record(
        identifier, "repair", status="passed", duration_s=0.0, wheel=hit.wheel,
        sha256=hit.sha256, log=note_hit(run, identifier, "repair", hit, script), source=wheel,
        cached=True, run_id=run.run_id, sboms=wheel_sboms(hit.path),
    )
    return f"{hit.wheel} (from the wheel cache: not repaired again)"


def _repair_one(run: Run, identifier: str, wheel: str, image: str, *, plat: str,
                script: str, cached: tuple[WheelCache, str] | None = None) -> str:
    config = run.config
    started = time.monotonic()
    if cached is not None and (detail := _from_cache(run, identifier, wheel, script, cached)):
        return detail
    container = run.container(image)
    base = f"{CONTAINER_ROOT}/{identifier}"
    out_dir = f"{base}/repaired"
    container.copy_into(config.dist_dir / wheel, f"{base}/raw/{wheel}")
    listed = run_stage_script(
        run, container, identifier, "repair", script,
        note=f"repair {wheel} for {plat}", started=started, wheel_dir=out_dir,
    )
    names = listed or [
        n for n in container.output(["ls", "-1", out_dir]).split() if n.endswith(".whl")]
    if len(names) != 1:
        msg = (f"{identifier}: the repair-command wrote {len(names)} wheels to {out_dir}, "
               "expected one")
        run.report.record(identifier, "repair", status="failed", reason=msg,
                          log=f"logs/{identifier}/repair.log", run_id=run.run_id)
        raise NoWheelBuiltError(msg)
    repaired = names[0]
    try:  # before the copy: a wheel that fails its audit never reaches output-dir
        audited = audit_wheel(run, container, identifier, step_options(config, identifier),
                              wheel=repaired, wheel_in_container=f"{out_dir}/{repaired}",
                              interpreter=_interpreter(run, identifier),
                              also_log=run.log_dir(identifier) / "repair.log")
    except AuditError as error:
        run.report.record(identifier, "repair", status="failed", reason=str(error),
                          source=wheel, log=f"logs/{identifier}/repair.log", run_id=run.run_id)
        raise
    container.copy_out(f"{out_dir}/{repaired}", config.output_dir / repaired)
    rewrite_repaired(run, identifier, config.output_dir / repaired)
    if cached is not None:
        cached[0].store(cached[1], config.output_dir / repaired, kind="repair",
                        identifier=identifier)
    run.report.record(
        identifier, "repair", status="passed", duration_s=round(time.monotonic() - started, 3),
        wheel=repaired, sha256=sha256_file(config.output_dir / repaired),
        log=f"logs/{identifier}/repair.log", source=wheel, run_id=run.run_id,
        sboms=wheel_sboms(config.output_dir / repaired),
    )
    return f"{repaired} (audited)" if audited else repaired


def _cache_key(run: Run, identifier: str, record: StageRecord, *, plat: str,
               options: StepOptions, script: str) -> tuple[WheelCache, str] | None:
    """The wheel cache and the key of one repair (``None``: the cache is off)."""
    cache = WheelCache.for_run(run)
    if cache is None or record.sha256 is None:
        return None
    target = run.report.target(identifier)
    project = needs_project(options.repair_command)
    key = cache.repair_key(
        identifier=identifier, raw_sha256=record.sha256, plat=plat, options=options,
        digest=target.image_digest if target else None, script=script,
        sdist_sha256=run.report.project.sdist_sha256 if project else None)
    return cache, key


def _interpreter(run: Run, identifier: str) -> str:
    """The identifier's interpreter in its image (the audit venv's fallback Python)."""
    target = run.report.target(identifier)
    tag = (target.python if target else None) or identifier.split("-", maxsplit=1)[0]
    try:
        return interpreter_path(parse_python_tag(tag))
    except ConfigError:  # not a CPython tag: the image's python3
        return "python3"


def _job(run: Run, identifier: str, record: StageRecord, gate: RepairGate) -> Job:
    wheel = str(record.wheel)
    options = step_options(run.config, identifier)
    command = options.repair_command
    source = record.reused_from
    if source is not None and reusable(run, source, wheel, gate):
        return Job(identifier, partial(repair_reused, run, identifier, wheel, source, gate))
    if record.pure or not command:
        work = partial(_repair_pure, run, identifier, wheel, pure=bool(record.pure))
        if identifier in gate:
            work = partial(repair_source, run, identifier, gate, work)
        return Job(identifier, work)
    target = run.report.target(identifier)
    image = (target.image if target else None) or run.config.image
    plat = (target.plat if target else None) or run.config.plat or ""
    script = repair_script(identifier, f"{CONTAINER_ROOT}/{identifier}/raw/{wheel}", plat,
                           options.environment, command, rewritten=run.config.reproducible)
    log = None if run.config.dry_run else run.log_dir(identifier) / "repair.log"
    cached = _cache_key(run, identifier, record, plat=plat, options=options, script=script)
    work = partial(_repair_one, run, identifier, wheel, image, plat=plat, script=script,
                   cached=cached)
    if identifier in gate:
        work = partial(repair_source, run, identifier, gate, work)
    return Job(identifier, work, log, script=script, label="repair.sh")


def repair_job(run: Run, identifier: str, gate: RepairGate) -> Job:
    """The repair job of one identifier whose build passed (the pipelined chain:
    :mod:`._pipeline`; ``gate``: the hand-over of shared wheels' repairs, every
    identifier of the plan in it).

    Raises:
        KeyError: the record names no passed build of the identifier.
    """
    return _job(run, identifier, run.report.current("build")[identifier], gate)


def _dry_run_plan(run: Run) -> list[Job]:
    """Jobs for the wheels the build stage would make (a dry run before any build)."""
    jobs = []
    for step in run.plan(run.config.requires_python).steps:
        name = f"<the wheel built for {step.identifier}>"
        if not step.options.repair_command:  # the raw wheel is kept: no script runs
            jobs.append(Job(step.identifier, lambda: "", label="repair.sh"))
            continue
        script = repair_script(step.identifier, f"{CONTAINER_ROOT}/{step.identifier}/raw/{name}",
                               step.plat, step.options.environment, step.options.repair_command,
                               rewritten=run.config.reproducible)
        jobs.append(Job(step.identifier, lambda: "", script=script, label="repair.sh"))
    return jobs


def repair(run: Run) -> StageResult:
    """Repair the raw wheels of the current sdist (from the run record) into output-dir.

    Only wheels the record names for the current sdist, narrowed by ``python``, are
    repaired; each in its build image for its recorded policy. With ``dry-run`` the
    scripts are printed on stdout and nothing is repaired or written.

    Raises:
        NothingToDoError: the record names no raw wheel of the current sdist.
        NotBuiltError: a ``python`` tag asked for was never built from the current sdist.
        ForeignRecordError: the output-dir holds another project's record.
        EngineUnavailableError, ImageNotFoundError: no engine, or no image.
        StageFailedError: auditwheel failed for one or more identifiers.
    """
    config = run.config
    run.ui.heading("manywheels: repair")
    if (pipelined := collect(run, "repair")) is not None:
        return pipelined
    if config.dry_run and not run.report.current("build"):
        return run_jobs(run, "repair", _dry_run_plan(run))
    inputs = select_recorded(run, "build", config.dist_dir)
    if not config.dry_run:
        run.lock_outputs()
        config.output_dir.mkdir(parents=True, exist_ok=True)
    gate = repair_gate(inputs)
    jobs = [_job(run, identifier, record, gate)
            for identifier, record in gate_order(inputs)]
    # auditwheel must see the libraries before-all installed (a no-op after the build
    # stage of the same run, or when the container started from the cached before-all image).
    images = dict.fromkeys(str(t.image) for i, _ in inputs
                           if (t := run.report.target(i)) and t.image)
    for image in images:
        run.ensure_before_all(image)
    if not config.dry_run and any(
            needs_project(step_options(config, i).repair_command) for i, _ in inputs):
        for image in images:
            copy_project(run, image)
    return run_jobs(run, "repair", jobs)
