"""The build stage: the sdist on the host, then one wheel per identifier in the container.

Wheels are built *from the sdist*, never from the working tree: this proves the sdist
is complete, and stale build products of the host (``.so`` files, ``build/``) cannot
leak in. Each raw wheel lands in ``dist-dir`` as soon as its identifier finishes
(written under a temporary name and renamed).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from packaging.metadata import parse_email

from manywheels._fsutil import sha256_file
from manywheels._ui import SummaryRow
from manywheels.config._config import read_pyproject
from manywheels.errors import CommandError, ProjectError, SdistBuildError
from manywheels.plan._targets import Target
from manywheels.stages._common import Job, StageResult, is_pure, run_jobs, run_stage_script
from manywheels.stages._render import render
from manywheels.stages._run import CONTAINER_ROOT, Run, host_build_environment

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


_NOT_SOURCES = {".nox", ".tox", ".venv", "venv", "__pycache__", ".mypy_cache", ".pytest_cache",
                ".ruff_cache", "node_modules"}
"""Directories never copied for the sdist build (``.git`` is: setuptools-scm needs it)."""


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
    (:func:`~manywheels.stages._run.host_build_environment`). Uses ``--installer uv`` when uv is
    available (faster build environments). The sdist is written to a temporary
    directory and moved into ``dist-dir`` atomically. An interrupt stops the build
    process and everything it started.

    Raises:
        SdistBuildError: the sdist build failed (the log path is named).
    """
    config = run.config
    log = run.log_dir("sdist") / "sdist.log"
    command = [sys.executable, "-m", "build", "--sdist"]
    if shutil.which("uv") or _has_uv_module():
        command += ["--installer", "uv"]
    config.dist_dir.mkdir(parents=True, exist_ok=True)
    outputs = {config.dist_dir.resolve(), config.output_dir.resolve()}

    def skip(path: Path) -> bool:
        return path.name in _NOT_SOURCES or path.resolve() in outputs

    with tempfile.TemporaryDirectory(dir=config.dist_dir, prefix=".sdist-") as tmp, \
            tempfile.TemporaryDirectory(prefix="manywheels-sdist-src-") as scratch:
        source = Path(scratch) / config.project_dir.name
        copy_project_tree(config.project_dir, source, skip)
        command += ["--outdir", tmp, str(source)]
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
    run.report.set_project(
        name=info.name, version=info.version, sdist=target.name, sdist_sha256=sha256_file(target),
        build_run=run.run_id,
    )
    return info


def _has_uv_module() -> bool:
    return importlib.util.find_spec("uv") is not None


def build_script(run: Run, target: Target, sdist_in_container: str) -> str:
    """The in-container build script of one target (``templates/build.sh.j2``)."""
    base = f"{CONTAINER_ROOT}/{target.identifier}"
    return render(
        "build.sh.j2",
        identifier=target.identifier,
        image=target.image,
        interpreter=target.interpreter,
        sdist=sdist_in_container,
        src_dir=f"{base}/src",
        out_dir=f"{base}/dist",
        before_build=run.config.before_build.strip(),
        frontend=run.config.frontend,
    )


def _dry_run(run: Run) -> StageResult:
    """``dry-run``: print the build scripts; build nothing, write nothing."""
    config = run.config
    pyproject = read_pyproject(config.project_dir).get("project", {})
    name, version = pyproject.get("name"), pyproject.get("version")
    sdist = (
        f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}.tar.gz"
        if isinstance(name, str) and isinstance(version, str) else "<sdist>.tar.gz"
    )
    run.ui.info(
        f"dry run: would build the sdist on the host: {sys.executable} -m build --sdist "
        f"--outdir {config.dist_dir} {config.project_dir}"
    )
    targets = run.targets(config.requires_python)
    run.ensure_before_all(config.image)
    rows = []
    for target in targets:
        script = build_script(run, target, f"{CONTAINER_ROOT}/sdist/{sdist}")
        run.show_script(f"{target.identifier} build.sh", script)
        rows.append(SummaryRow(target.identifier, "skipped", None, "dry run: script printed"))
    run.ui.summary("build summary (dry run)", rows)
    return StageResult("build", rows)


def _build_one(run: Run, target: Target, sdist_in_container: str) -> str:
    config = run.config
    container = run.container(target.image)
    base = f"{CONTAINER_ROOT}/{target.identifier}"
    out_dir = f"{base}/dist"
    script = build_script(run, target, sdist_in_container)
    started = time.monotonic()
    listed = run_stage_script(
        run, container, target.identifier, "build", script,
        note=f"build {target.identifier} with {target.interpreter} ({config.frontend})",
        started=started, wheel_dir=out_dir,
    )
    names = listed or container.output(["ls", "-1", out_dir]).split()
    wheels = [name for name in names if name.endswith(".whl")]
    if len(wheels) != 1:
        msg = f"{target.identifier}: expected one wheel in {out_dir}, found {wheels or 'none'}"
        raise CommandError(msg, 1, [msg])
    wheel = wheels[0]
    dest = config.dist_dir / wheel
    container.copy_out(f"{out_dir}/{wheel}", dest)
    pure = is_pure(wheel)
    duration = time.monotonic() - started
    run.report.record(
        target.identifier, "build", status="passed", duration_s=round(duration, 3),
        wheel=wheel, sha256=sha256_file(dest), pure=pure, log=f"logs/{target.identifier}/build.log",
        run_id=run.run_id,
    )
    if pure:
        run.ui.warn(
            f"{target.identifier}: {wheel} is a pure-Python wheel (platform 'any'): "
            "no compiled extension was built"
        )
        return f"{wheel} (pure Python: no compiled extension)"
    return wheel


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
    # Check the input before writing anything: engine, image, policy, tags in the image.
    run.targets(run.config.requires_python)
    run.lock_outputs()
    # before-all first, in the fresh container (its result may be committed as an image),
    # and before the sdist: a failing before-all stops the run at once.
    run.ensure_before_all(run.config.image)
    sdist = build_sdist(run)
    targets = run.targets(sdist.requires_python)
    run.ui.info(
        f"{len(targets)} identifier(s) in {run.config.image}: "
        + ", ".join(t.identifier for t in targets)
    )
    image = run.image(run.config.image)
    container = run.container(run.config.image)
    sdist_in_container = f"{CONTAINER_ROOT}/sdist/{sdist.path.name}"
    container.copy_into(sdist.path, sdist_in_container)
    for target in targets:
        run.report.set_target(
            target.identifier, python=target.python.tag, image=target.image,
            image_digest=image.digest, plat=target.plat,
        )
    jobs = [
        Job(t.identifier, partial(_build_one, run, t, sdist_in_container),
            run.log_dir(t.identifier) / "build.log")
        for t in targets
    ]
    return run_jobs(run, "build", jobs)
