"""The build stage: the sdist on the host, then one wheel per identifier in the container.

Wheels are built *from the sdist*, never from the working tree: this proves the sdist
is complete, and stale build products of the host (``.so`` files, ``build/``) cannot
leak in. Each raw wheel lands in ``dist-dir`` as soon as its identifier finishes
(written under a temporary name and renamed).
"""

from __future__ import annotations

import contextlib
import re
import shlex
import time
from collections.abc import Collection
from dataclasses import replace
from functools import partial

from manywheels._fsutil import sha256_file
from manywheels.errors import NoWheelBuiltError
from manywheels.plan._targets import BuildPlan, BuildStep
from manywheels.stages._abi3 import Built, WheelShare, is_abi3, may_build_abi3
from manywheels.stages._common import Job, StageResult, is_pure, run_jobs, run_stage_script
from manywheels.stages._frontend_args import frontend_extra_args
from manywheels.stages._interpreters import ensure_interpreters
from manywheels.stages._overlap import sdist_beside_start
from manywheels.stages._pipeline import run_build_jobs
from manywheels.stages._render import render
from manywheels.stages._run import CONTAINER_ROOT, Run
from manywheels.stages._script_env import export_lines
from manywheels.stages._sdist import SdistInfo, build_sdist, read_sdist, sdist_command
from manywheels.stages._sdist_given import check_given_sdist, given_sdist
from manywheels.stages._wheel_cache import WheelCache, note_hit, prune_for_run, sdist_digest

__all__ = ["SdistInfo", "build", "build_script", "build_sdist", "build_wheels", "read_sdist"]


def build_script(target: BuildStep, sdist_in_container: str) -> str:
    """The in-container build script of one step (``templates/build.sh.j2``)."""
    base = f"{CONTAINER_ROOT}/{target.identifier}"
    return render(
        "build.sh.j2",
        identifier=target.identifier,
        image=target.image,
        interpreter=target.interpreter,
        sdist=sdist_in_container,
        src_dir=f"{base}/src",
        out_dir=f"{base}/dist",
        before_build=target.options.before_build,
        frontend=target.options.frontend,
        environment=export_lines(shlex.quote(target.identifier), target.options.environment),
        extra_args=frontend_extra_args(
            target.options.frontend, verbosity=target.options.build_verbosity,
            settings=target.options.config_settings, args=target.options.frontend_args),
    )


def predicted_sdist_name(run: Run) -> str:
    """The sdist file name a dry run shows: from the project's static name and version
    (normalised as pypa/build names it), else ``<sdist>.tar.gz``."""
    project = run.config.read_project()
    name, version = project.name, project.version
    if name and version:
        return f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}.tar.gz"
    return "<sdist>.tar.gz"


def _reuse(run: Run, target: BuildStep, reused: Built) -> str:
    run.report.record(
        target.identifier, "build", status="passed", duration_s=0.0, wheel=reused.wheel,
        sha256=reused.sha256, pure=is_pure(reused.wheel), reused_from=reused.identifier,
        run_id=run.run_id,
    )
    return f"{reused.wheel} ({reused.kind}: reused from {reused.identifier})"


def _from_cache(run: Run, target: BuildStep, script: str, share: WheelShare,
                cached: tuple[WheelCache, str]) -> str | None:
    """The raw wheel of ``cached`` (cache, key) copied into dist-dir and recorded with
    ``cached``; ``None`` when the cache has none (:mod:`._wheel_cache`)."""
    cache, key = cached
    hit = cache.restore(key, run.config.dist_dir)
    if hit is None:
        return None
    is_pure_wheel = is_pure(hit.wheel)
    shared = is_pure_wheel or is_abi3(hit.wheel)
    with share.lock if shared else contextlib.nullcontext():
        if shared and (earlier := share.earlier(target)) is not None:
            return _reuse(run, target, earlier)
        share.add(Built(target.identifier, hit.wheel, hit.sha256))
    log = note_hit(run, target.identifier, "build", hit, script)
    run.report.record(target.identifier, "build", status="passed", duration_s=0.0,
                      wheel=hit.wheel, sha256=hit.sha256, pure=is_pure_wheel, cached=True,
                      log=log, run_id=run.run_id)
    return f"{hit.wheel} (from the wheel cache: not built again)"


def _build_one(run: Run, target: BuildStep, script: str, share: WheelShare,
               cached: tuple[WheelCache, str] | None = None) -> str:
    try:
        return _build_or_reuse(run, target, script, share, cached)
    finally:
        share.finish(target.identifier)


def _build_or_reuse(run: Run, target: BuildStep, script: str, share: WheelShare,
                    cached: tuple[WheelCache, str] | None) -> str:
    config = run.config
    reused = share.wait(target, run.cancelled)
    if reused is not None:  # a pure or abi3 wheel is built once (stages/_abi3.py)
        return _reuse(run, target, reused)
    if cached is not None and (detail := _from_cache(run, target, script, share, cached)):
        return detail
    started = time.monotonic()
    container = run.container(target.image)
    out_dir = f"{CONTAINER_ROOT}/{target.identifier}/dist"
    listed = run_stage_script(
        run, container, target.identifier, "build", script,
        note=f"build {target.identifier} with {target.interpreter} ({target.options.frontend})",
        started=started, wheel_dir=out_dir,
    )
    names = listed or container.output(["ls", "-1", out_dir]).split()
    wheels = [name for name in names if name.endswith(".whl")]
    if len(wheels) != 1:
        msg = f"{target.identifier}: expected one wheel in {out_dir}, found {wheels or 'none'}"
        run.report.record(target.identifier, "build", status="failed", reason=msg,
                          log=f"logs/{target.identifier}/build.log", run_id=run.run_id)
        raise NoWheelBuiltError(msg)
    wheel = wheels[0]
    dest = config.dist_dir / wheel
    is_pure_wheel = is_pure(wheel)
    shared = is_pure_wheel or is_abi3(wheel)
    with share.lock if shared else contextlib.nullcontext():
        if shared and (earlier := share.earlier(target)) is not None:
            return _reuse(run, target, earlier)  # built concurrently: the first one is kept
        container.copy_out(f"{out_dir}/{wheel}", dest)
        sha256 = sha256_file(dest)
        if cached is not None:
            cached[0].store(cached[1], dest, kind="build", identifier=target.identifier)
        share.add(Built(target.identifier, wheel, sha256))
    run.report.record(
        target.identifier, "build", status="passed",
        duration_s=round(time.monotonic() - started, 3), wheel=wheel, sha256=sha256,
        pure=is_pure_wheel, log=f"logs/{target.identifier}/build.log", run_id=run.run_id,
    )
    if is_pure_wheel:
        run.ui.warn(
            f"{target.identifier}: {wheel} is a pure-Python wheel (platform 'any'): "
            "no compiled extension was built; the other identifiers reuse it"
        )
        return f"{wheel} (pure Python: no compiled extension)"
    return wheel


def _jobs(run: Run, plan: BuildPlan, sdist_in_container: str, *, gate: bool = True,
          sdist: str | None = None) -> list[Job]:
    """One job per step; ``sdist``: the sdist's :func:`sdist_digest` (wheel cache on)."""
    share = WheelShare(plan.steps, gate=gate)
    cache = WheelCache.for_run(run) if sdist is not None else None
    jobs = []
    for step in share.order(plan.steps):
        script = build_script(step, sdist_in_container)
        cached = None if cache is None or sdist is None else (cache, cache.build_key(
            identifier=step.identifier, sdist=sdist, image=step.image, digest=step.digest,
            options=step.options, script=script))
        jobs.append(Job(step.identifier, partial(_build_one, run, step, script, share, cached),
                        run.log_dir(step.identifier) / "build.log" if not run.config.dry_run
                        else None, script=script, label="build.sh"))
    return jobs


def _dry_run(run: Run) -> StageResult:
    """``dry-run``: print the host sdist command and each step's build script; build
    nothing, write nothing."""
    config = run.config
    if config.sdist is not None:
        sdist = check_given_sdist(config.sdist).path.name
        run.ui.info(f"dry run: would build from the given sdist {config.sdist}")
        return run_jobs(run, "build", _jobs(run, run.plan(config.requires_python),
                                            f"{CONTAINER_ROOT}/sdist/{sdist}"))
    sdist = predicted_sdist_name(run)
    command = sdist_command(f"<temporary dir in {config.dist_dir}>",
                            f"<temporary copy of {config.project_dir}>")
    run.ui.info("dry run: would build the sdist on the host (in a temporary copy of the "
                "project): " + shlex.join(command))
    plan = run.plan(config.requires_python)
    for image in run.images():
        run.ensure_before_all(image)
    return run_jobs(run, "build", _jobs(run, plan, f"{CONTAINER_ROOT}/sdist/{sdist}",
                                        gate=False))  # plan order


def build(run: Run) -> StageResult:
    """Build the sdist on the host (or take the ``sdist`` option's file), then every
    target's wheel from it in the container.

    ``before-all`` runs once per container (one per platform group: image and arch), the
    jobs run across groups, ``before-build`` once per target. A pure wheel, or an abi3 wheel
    for the later CPythons of its platform, is built once and reused (:mod:`._abi3`). The
    frontend is ``build`` (``python -m build``, with ``--installer uv`` when the image
    has uv), ``pip`` (``pip wheel``) or ``uv`` (``uv build``). With ``dry-run`` the
    scripts are printed on stdout and nothing is built or written.

    Raises:
        ProjectError: the sdist could not be built, or the given ``sdist`` is missing,
            unreadable or not an sdist.
        EngineUnavailableError, ImageNotFoundError: no engine, or no image.
        ConfigError: a requested tag is not in the image.
        EmulationUnavailableError: the host cannot run a platform's arch (before anything
            is built).
        CommandError: before-all failed.
        StageFailedError: one or more identifiers failed (the others' wheels are kept).
    """
    run.ui.heading("manywheels: build")
    if run.config.dry_run:
        return _dry_run(run)
    # Check the input before writing anything: record, engine, image, policy, tags.
    run.check_record()
    if run.config.sdist is None:
        # The sdist builds on the host while the plan is checked (images inspected or
        # pulled, containers started) and before-all runs; it writes nothing before the
        # plan passed and lands only after before-all passed (stages/_overlap.py).
        return build_wheels(run, sdist_beside_start(run, build_sdist))
    check_given_sdist(run.config.sdist)
    run.plan(run.config.requires_python)
    run.lock_outputs()
    # before-all first, in the fresh container (its result may be committed as an
    # image), and before the given sdist is copied: a failing before-all stops the run.
    for image in run.images():
        run.ensure_before_all(image)
    return build_wheels(run, given_sdist(run))


def build_wheels(run: Run, sdist: SdistInfo, only: Collection[str] | None = None,
                 ) -> StageResult:
    """Build every planned identifier's wheel (those in ``only`` when given) from
    ``sdist``, recording the sdist as the project's current one. :func:`build` after its
    sdist; ``wheels-verify`` (:mod:`manywheels.stages.verify`) with the recorded sdist.

    Raises:
        the errors of :func:`build` after the sdist build.
    """
    prune_for_run(run)  # the wheel cache within wheel-cache-max-mib
    sdist_sha256 = sha256_file(sdist.path)
    run.report.set_project(
        name=sdist.name, version=sdist.version, project_dir=str(run.config.project_dir),
        sdist=sdist.path.name, sdist_sha256=sdist_sha256, build_run=run.run_id,
        source_date_epoch=run.source_date_epoch(),
    )
    plan = run.plan(sdist.requires_python)
    if only is not None:
        plan = replace(plan, steps=tuple(s for s in plan.steps if s.identifier in only))
    sdist_in_container = f"{CONTAINER_ROOT}/sdist/{sdist.path.name}"
    for group in plan.groups():
        run.ui.info(f"{len(group.steps)} identifier(s) in {group.image} ({group.arch}): "
                    + ", ".join(s.identifier for s in group.steps))
        run.container(group.image).copy_into(sdist.path, sdist_in_container)
        ensure_interpreters(run.container(group.image), (s.interpreter for s in group.steps),
                            run.ui.info)  # PyPy / GraalPy on demand
    for step in plan.steps:
        run.report.reset_target(
            step.identifier, python=step.python.tag, image=step.image, image_digest=step.digest,
            arch=step.arch, plat=step.plat, sdist_sha256=sdist_sha256,
        )
    return run_build_jobs(run, plan, _jobs(run, plan, sdist_in_container,
                                           gate=may_build_abi3(sdist.path),
                                           sdist=sdist_digest(sdist.path)))
