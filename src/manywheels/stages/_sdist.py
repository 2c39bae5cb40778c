"""The sdist, built on the host: a copy of the tree, pypa/build in its own process group.

:func:`build_sdist` builds the project's sdist from a temporary copy of the project tree
(never the tree itself) with the host environment minus credentials, and copies it into
``dist-dir`` atomically (beside the run's start, only once the gate of
:mod:`._sdist_gate` opens). An interrupt stops the build's whole process group, waits for
it, and removes pypa/build's temporary environments with the run's scratch directory.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.metadata import parse_email

from manywheels._fsutil import atomic_copy
from manywheels.config._project import is_excluded
from manywheels.errors import ProjectError, SdistBuildError
from manywheels.stages._environment import host_build_environment
from manywheels.stages._run import Run
from manywheels.stages._sdist_gate import HeldLog, SdistGate, SdistStopped, kill_group

__all__ = ["SDIST_LOG", "SDIST_SECTION", "SdistGate", "SdistInfo", "SdistStopped",
           "build_sdist", "copy_project_tree", "read_sdist", "sdist_command"]


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


def _sdist_environment(scratch: Path, epoch: int | None = None) -> dict[str, str]:
    """The sdist build's environment: the host's minus credentials
    (:func:`~manywheels.stages._environment.host_build_environment`), with ``TMPDIR`` in
    the run's scratch directory, so pypa/build's temporary ``build-env-*`` environments are removed
    with it, also when an interrupt kills the build, and the run's ``SOURCE_DATE_EPOCH``."""
    tmp = scratch / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**host_build_environment(os.environ), "TMPDIR": str(tmp)}
    if epoch is not None:  # the run's (reproducible), also when the host has none
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    return env


def build_sdist(run: Run, gate: SdistGate | None = None) -> SdistInfo:
    """Build the project's sdist on the host with pypa/build into ``dist-dir``.

    The build runs in a temporary copy of the project tree (``dist-dir``, ``output-dir``,
    virtual environments and caches left out), so the tree itself is never written
    (setuptools writes ``*.egg-info``), with the host environment minus credentials
    (:func:`~manywheels.stages._environment.host_build_environment`). Uses
    ``--installer uv`` when uv is available (faster build environments). The sdist is
    written to a scratch directory and copied into ``dist-dir`` atomically. An interrupt
    stops the build's whole process group and waits for it.

    ``gate`` (a build in a worker thread, :mod:`manywheels.stages._overlap`): the log
    and console output wait for :meth:`SdistGate.check`, the sdist (or a failure's
    record) for :meth:`SdistGate.open`; another thread may stop the build. Without a
    gate the build writes as it goes.

    Raises:
        SdistBuildError: the sdist build failed (the log path is named).
        SdistStopped: stopped through ``gate``.
    """
    config = run.config
    gate = gate or SdistGate.opened()
    outputs = {config.dist_dir.resolve(), config.output_dir.resolve()}

    def skip(path: Path) -> bool:
        return is_excluded(path.name, sdist=True) or path.resolve() in outputs

    with tempfile.TemporaryDirectory(prefix="manywheels-sdist-src-") as scratch:
        source = Path(scratch) / config.project_dir.name
        out = Path(scratch) / "out"
        copy_project_tree(config.project_dir, source, skip)
        command = sdist_command(str(out), str(source))
        started = time.monotonic()
        log = run.config.output_dir / SDIST_LOG

        def announce() -> None:
            run.ui.info(f"building the sdist of {config.project_dir}")

        with HeldLog(run.ui, log, gate, announce) as sink:
            sink.note(" ".join(command))
            code = _run_build(command, source, _sdist_environment(
                Path(scratch), run.source_date_epoch()), sink, gate)
            sink.release()
        if gate.stopped:
            raise SdistStopped
        built = sorted(out.glob("*.tar.gz"))
        gate.wait_open()  # before-all passed: the run may record and write its products
        if code != 0:
            run.ui.log_tail(log)
            msg = f"building the sdist failed with exit code {code}; log: {log}"
            raise _failed(run, msg, log, exit_code=code)
        if len(built) != 1:
            msg = f"the sdist build produced {len(built)} .tar.gz files; log: {log}"
            raise _failed(run, msg, log)
        target = config.dist_dir / built[0].name
        atomic_copy(built[0], target)
    info = read_sdist(target)
    run.report.set_section(SDIST_SECTION, "build", status="passed", sdist=target.name,
                           log=SDIST_LOG, run_id=run.run_id)
    run.ui.info(f"sdist {target.name} built in {time.monotonic() - started:.1f} s")
    return info


def _run_build(command: list[str], cwd: Path, env: dict[str, str],
               sink: HeldLog, gate: SdistGate) -> int:
    """Run the build in its own process group, its output to ``sink``; its exit code.
    An interrupt (or an error here) kills the group and waits for it."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, cwd=cwd, env=env, start_new_session=True)
    gate.started(process)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            sink(line.rstrip("\n"), "stdout")
        return process.wait()
    except BaseException:
        kill_group(process)
        raise
    finally:
        if process.stdout is not None:
            process.stdout.close()


SDIST_SECTION = "sdist"
"""The run record's section of the host sdist build: ``{"build": {"status": ...}}``."""
SDIST_LOG = "logs/sdist/sdist.log"
"""The sdist build's log, relative to the output-dir."""


def _failed(run: Run, message: str, log: Path, exit_code: int | None = None) -> SdistBuildError:
    """Record a failed sdist build in the run record, replacing the previous status: the
    section says ``failed``, and the project has no current sdist any more (the wheels of
    the previous one are stale)."""
    run.report.set_section(SDIST_SECTION, "build", status="failed", log=SDIST_LOG,
                           exit_code=exit_code, run_id=run.run_id)
    run.report.set_project(sdist=None, sdist_sha256=None, build_run=run.run_id)
    return SdistBuildError(message, log)


def sdist_command(outdir: str, source: str) -> list[str]:
    """The host command that builds the sdist (pypa/build; ``--installer uv`` when uv is
    available: faster build environments). The real run and the dry run both use it."""
    command = [sys.executable, "-m", "build", "--sdist"]
    if shutil.which("uv") or importlib.util.find_spec("uv") is not None:
        command += ["--installer", "uv"]
    return [*command, "--outdir", outdir, source]
