"""The sdist, built on the host: a copy of the tree, pypa/build in its own process group.

:func:`build_sdist` builds the project's sdist from a temporary copy of the project tree
(never the tree itself) with the host environment minus credentials, and moves it into
``dist-dir`` atomically. An interrupt stops the build's whole process group, waits for it,
and removes pypa/build's temporary environments with the run's scratch directory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.metadata import parse_email

from manywheels.config._project import is_excluded
from manywheels.errors import ProjectError, SdistBuildError
from manywheels.stages._environment import host_build_environment
from manywheels.stages._run import Run

__all__ = ["SDIST_LOG", "SDIST_SECTION", "SdistInfo", "build_sdist", "copy_project_tree",
           "read_sdist", "sdist_command"]


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


_GROUP_GRACE_S = 5.0


def _kill_group(process: subprocess.Popen[str]) -> None:
    """Stop a build process and everything it started (its own session), and wait until
    every process of the group is gone (SIGTERM, then SIGKILL after
    ``_GROUP_GRACE_S`` seconds)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_GROUP_GRACE_S)
        if _group_gone(process.pid, _GROUP_GRACE_S):
            break
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_GROUP_GRACE_S)


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group ``pgid`` still runs (zombies, dead but not yet
    reaped by whoever inherited them, do not count; ``/proc``, else ``killpg(pgid, 0)``)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in {"Z", "X"}:
            return True
    return False


def _group_gone(pgid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the process group ``pgid`` to be empty."""
    deadline = time.monotonic() + timeout
    while _group_alive(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


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


def build_sdist(run: Run) -> SdistInfo:
    """Build the project's sdist on the host with pypa/build into ``dist-dir``.

    The build runs in a temporary copy of the project tree (``dist-dir``, ``output-dir``,
    virtual environments and caches left out), so the tree itself is never written
    (setuptools writes ``*.egg-info``), with the host environment minus credentials
    (:func:`~manywheels.stages._environment.host_build_environment`). Uses
    ``--installer uv`` when uv is available (faster build environments). The sdist is
    written to a temporary directory and moved into ``dist-dir`` atomically. An interrupt
    stops the build's whole process group and waits for it.

    Raises:
        SdistBuildError: the sdist build failed (the log path is named).
    """
    config = run.config
    log = run.log_dir("sdist") / "sdist.log"
    log.unlink(missing_ok=True)  # this build's log only, never an older run's success
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
                env=_sdist_environment(Path(scratch), run.source_date_epoch()),
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
            run.ui.log_tail(log)
            msg = f"building the sdist failed with exit code {code}; log: {log}"
            raise _failed(run, msg, log, exit_code=code)
        built = sorted(Path(tmp).glob("*.tar.gz"))
        if len(built) != 1:
            msg = f"the sdist build produced {len(built)} .tar.gz files; log: {log}"
            raise _failed(run, msg, log)
        target = config.dist_dir / built[0].name
        built[0].replace(target)
    info = read_sdist(target)
    run.report.set_section(SDIST_SECTION, "build", status="passed", sdist=target.name,
                           log=SDIST_LOG, run_id=run.run_id)
    run.ui.info(f"sdist {target.name} built in {time.monotonic() - started:.1f} s")
    return info


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
