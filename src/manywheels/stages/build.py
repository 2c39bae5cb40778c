"""The build stage: the sdist on the host, then one wheel per identifier in the container.

Wheels are built *from the sdist*, never from the working tree: this proves the sdist
is complete, and stale build products of the host (``.so`` files, ``build/``) cannot
leak in. Each raw wheel lands in ``dist-dir`` as soon as its identifier finishes
(written under a temporary name and renamed).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from packaging.metadata import parse_email

from manywheels._fsutil import sha256_file
from manywheels.config._project import is_excluded
from manywheels.errors import NoWheelBuiltError, ProjectError, SdistBuildError
from manywheels.plan._targets import BuildPlan, BuildStep
from manywheels.stages._common import Job, StageResult, is_pure, run_jobs, run_stage_script
from manywheels.stages._environment import host_build_environment
from manywheels.stages._frontend_args import frontend_extra_args
from manywheels.stages._render import render
from manywheels.stages._run import CONTAINER_ROOT, Run
from manywheels.stages._script_env import export_lines

__all__ = ["SdistInfo", "build", "build_script", "build_sdist", "read_sdist"]


@dataclass(frozen=True)
class SdistInfo:
    """A built sdist and the metadata the plan needs (from its ``PKG-INFO``)."""

    path: Path
    name: str
    version: str
    requires_python: str | None


def read_sdist(path: Path) -> SdistInfo:
    """Read name, version and Requires-Python from an sdist's ``PKG-INFO``.

    Raises:
        ProjectError: the file is not a readable sdist with PKG-INFO.
    """
    try:
        with tarfile.open(path) as archive:
            member = next(
                (m for m in archive.getmembers() if m.name.count("/") == 1
                 and m.name.endswith("/PKG-INFO")),
                None,
            )
            stream = archive.extractfile(member) if member else None
            text = stream.read().decode("utf-8", "replace") if stream else ""
    except (OSError, tarfile.TarError) as error:
        msg = f"{path} is not a readable sdist: {error}"
        raise ProjectError(msg) from None
    if not text:
        msg = f"{path} has no PKG-INFO: not an sdist"
        raise ProjectError(msg)
    raw, _ = parse_email(text)
    return SdistInfo(
        path=path,
        name=str(raw.get("name", "")),
        version=str(raw.get("version", "")),
        requires_python=raw.get("requires_python"),
    )



def copy_project_tree(src: Path, dest: Path, skip: Callable[[Path], bool]) -> None:
    """Copy the project tree to ``dest`` (which must not exist) for the sdist build.

    Files keep their modes and times. Symbolic links pointing inside the tree stay
    links; links pointing outside it are replaced by a copy of their target (what a
    build backend reading the tree would see); dangling outward links are left out.
    ``skip`` (on host paths) leaves files and directories out.
    """
    root = src.resolve()
    outward: list[Path] = []

    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = set()
        for name in names:
            path = Path(directory) / name
            if skip(path):
                ignored.add(name)
            elif path.is_symlink():
                target = path.resolve()
                if target != root and root not in target.parents:
                    ignored.add(name)
                    outward.append(path)
        return ignored

    shutil.copytree(root, dest, symlinks=True, ignore=ignore)
    for link in outward:
        copy = dest / link.relative_to(root)
        if link.is_dir():
            shutil.copytree(link, copy, symlinks=True)
        elif link.exists():
            shutil.copy2(link, copy)


def _kill_group(process: subprocess.Popen[str]) -> None:
    """Stop a build process and everything it started (its own session)."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue


def build_sdist(run: Run) -> SdistInfo:
    """Build the project's sdist on the host with pypa/build into ``dist-dir``.

    The build runs in a temporary copy of the project tree (``dist-dir``, ``output-dir``,
    virtual environments and caches left out), so the tree itself is never written
    (setuptools writes ``*.egg-info``), with the host environment minus credentials
    (:func:`~manywheels.stages._environment.host_build_environment`). Uses
    ``--installer uv`` when uv is available (faster build environments). The sdist is
    written to a temporary directory and moved into ``dist-dir`` atomically. An interrupt
    stops the build process and everything it started.

    Raises:
        SdistBuildError: the sdist build failed (the log path is named).
    """
    config = run.config
    log = run.log_dir("sdist") / "sdist.log"
    config.dist_dir.mkdir(parents=True, exist_ok=True)
    outputs = {config.dist_dir.resolve(), config.output_dir.resolve()}

    def skip(path: Path) -> bool:
        return is_excluded(path.name, sdist=True) or path.resolve() in outputs

    with tempfile.TemporaryDirectory(dir=config.dist_dir, prefix=".sdist-") as tmp, \
            tempfile.TemporaryDirectory(prefix="manywheels-sdist-src-") as scratch:
        source = Path(scratch) / config.project_dir.name
        copy_project_tree(config.project_dir, source, skip)
        command = sdist_command(tmp, str(source))
        run.ui.info(f"building the sdist of {config.project_dir}")
        started = time.monotonic()
        with run.ui.target_output("sdist", log) as sink:
            sink.note(" ".join(command))
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                cwd=source,
                env=host_build_environment(os.environ),
                start_new_session=True,
            )
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    sink(line.rstrip("\n"), "stdout")
                code = process.wait()
            except BaseException:
                _kill_group(process)
                raise
            finally:
                if process.stdout is not None:
                    process.stdout.close()
        if code != 0:
            msg = f"building the sdist failed with exit code {code}; log: {log}"
            raise SdistBuildError(msg, log)
        built = sorted(Path(tmp).glob("*.tar.gz"))
        if len(built) != 1:
            msg = f"the sdist build produced {len(built)} .tar.gz files; log: {log}"
            raise SdistBuildError(msg, log)
        target = config.dist_dir / built[0].name
        built[0].replace(target)
    info = read_sdist(target)
    run.ui.info(f"sdist {target.name} built in {time.monotonic() - started:.1f} s")
    return info


def sdist_command(outdir: str, source: str) -> list[str]:
    """The host command that builds the sdist (pypa/build; ``--installer uv`` when uv is
    available: faster build environments). The real run and the dry run both use it."""
    command = [sys.executable, "-m", "build", "--sdist"]
    if shutil.which("uv") or importlib.util.find_spec("uv") is not None:
        command += ["--installer", "uv"]
    return [*command, "--outdir", outdir, source]


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


class _PureWheel:
    """The first pure-Python wheel of a run: later identifiers reuse it (built once).

    ``lock`` is held while a pure wheel is copied out and claimed, so builds that ran
    concurrently keep the first wheel and never overwrite it.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.built: tuple[str, str, str] | None = None  # identifier, wheel, sha256

    def get(self) -> tuple[str, str, str] | None:
        with self.lock:
            return self.built


def _reuse(run: Run, target: BuildStep, reused: tuple[str, str, str]) -> str:
    source, wheel, sha256 = reused
    run.report.record(
        target.identifier, "build", status="passed", duration_s=0.0, wheel=wheel,
        sha256=sha256, pure=True, reused_from=source, run_id=run.run_id,
    )
    return f"{wheel} (pure Python: reused from {source})"


def _build_one(run: Run, target: BuildStep, script: str, pure: _PureWheel) -> str:
    config = run.config
    started = time.monotonic()
    reused = pure.get()
    if reused is not None:  # a pure wheel is built once
        return _reuse(run, target, reused)
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
    with pure.lock if is_pure_wheel else contextlib.nullcontext():
        if is_pure_wheel and (earlier := pure.get()) is not None:
            return _reuse(run, target, earlier)  # built concurrently: the first one is kept
        container.copy_out(f"{out_dir}/{wheel}", dest)
        sha256 = sha256_file(dest)
        if is_pure_wheel:
            pure.built = (target.identifier, wheel, sha256)
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


def _jobs(run: Run, plan: BuildPlan, sdist_in_container: str) -> list[Job]:
    pure = _PureWheel()
    jobs = []
    for step in plan.steps:
        script = build_script(step, sdist_in_container)
        jobs.append(Job(step.identifier, partial(_build_one, run, step, script, pure),
                        run.log_dir(step.identifier) / "build.log" if not run.config.dry_run
                        else None, script=script, label="build.sh"))
    return jobs


def _dry_run(run: Run) -> StageResult:
    """``dry-run``: print the host sdist command and each step's build script; build
    nothing, write nothing."""
    config = run.config
    sdist = predicted_sdist_name(run)
    command = sdist_command(f"<temporary dir in {config.dist_dir}>",
                            f"<temporary copy of {config.project_dir}>")
    run.ui.info("dry run: would build the sdist on the host (in a temporary copy of the "
                "project): " + shlex.join(command))
    plan = run.plan(config.requires_python)
    run.ensure_before_all(config.image)
    return run_jobs(run, "build", _jobs(run, plan, f"{CONTAINER_ROOT}/sdist/{sdist}"))


def build(run: Run) -> StageResult:
    """Build the sdist on the host, then every target's wheel from it in the container.

    ``before-all`` runs once per container, ``before-build`` once per target. The
    frontend is ``build`` (``python -m build``, with ``--installer uv`` when the image
    has uv), ``pip`` (``pip wheel``) or ``uv`` (``uv build``). With ``dry-run`` the
    scripts are printed on stdout and nothing is built or written.

    Raises:
        ProjectError: the sdist could not be built.
        EngineUnavailableError, ImageNotFoundError: no engine, or no image.
        ConfigError: a requested tag is not in the image.
        CommandError: before-all failed.
        StageFailedError: one or more identifiers failed (the others' wheels are kept).
    """
    run.ui.heading("manywheels: build")
    if run.config.dry_run:
        return _dry_run(run)
    # Check the input before writing anything: record, engine, image, policy, tags.
    run.check_record()
    run.plan(run.config.requires_python)
    run.lock_outputs()
    # before-all first, in the fresh container (its result may be committed as an image),
    # and before the sdist: a failing before-all stops the run at once.
    run.ensure_before_all(run.config.image)
    sdist = build_sdist(run)
    sdist_sha256 = sha256_file(sdist.path)
    run.report.set_project(
        name=sdist.name, version=sdist.version, project_dir=str(run.config.project_dir),
        sdist=sdist.path.name, sdist_sha256=sdist_sha256, build_run=run.run_id,
    )
    plan = run.plan(sdist.requires_python)
    run.ui.info(
        f"{len(plan.steps)} identifier(s) in {run.config.image}: " + ", ".join(plan.identifiers)
    )
    container = run.container(run.config.image)
    sdist_in_container = f"{CONTAINER_ROOT}/sdist/{sdist.path.name}"
    container.copy_into(sdist.path, sdist_in_container)
    for step in plan.steps:
        run.report.reset_target(
            step.identifier, python=step.python.tag, image=step.image, image_digest=step.digest,
            arch=step.arch, plat=step.plat, sdist_sha256=sdist_sha256,
        )
    return run_jobs(run, "build", _jobs(run, plan, sdist_in_container))
