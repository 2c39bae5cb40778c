"""Interrupting a real multi-tag build: Ctrl-C (SIGINT to the whole process group)
and SIGTERM (to the nox process alone, as CI runners and ``timeout`` send it).

Three identifiers build at once; cp311 finishes, cp312 and cp313 sleep in their
before-build. Then the signal. Expected: exit 130 / 143 within seconds, every
container of the run removed, the cp311 wheel kept (complete), no partial or
temporary file in dist-dir or output-dir, the others recorded as interrupted.
"""

from __future__ import annotations

import os
import signal
import time
import zipfile
from pathlib import Path

import pytest

from manywheels._lock import LOCK_NAME
from manywheels.engine._docker import DockerEngine as Engine
from tests.integration.test_reliability import (
    build_status,
    make_project,
    nox_env,
    project_containers,
    start_nox,
    stray_files,
    wait_for,
)

SLOW_BUT_CP311 = (
    'case "$PYTHON" in *cp311*) ;; '
    '*) echo "manywheels-test: sleeping"; sleep 600;; esac'
)


@pytest.mark.parametrize(
    ("signum", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_interrupt_mid_build(engine: Engine, test_image: str, tmp_path: Path,
                             signum: signal.Signals, expected: int) -> None:
    project = make_project(tmp_path)
    env = nox_env(test_image, MANYWHEELS_PYTHON="cp311 cp312 cp313", MANYWHEELS_JOBS="3",
                  MANYWHEELS_BEFORE_BUILD=SLOW_BUT_CP311)
    log = tmp_path / "nox.log"
    process = start_nox(project, "-s", "wheels-build", env=env, log=log)
    logs = project / "wheelhouse" / "logs"
    try:
        def ready() -> bool:
            done = list((project / "dist").glob("*-cp311-*.whl"))
            sleeping = [
                (logs / f"{tag}-manylinux_x86_64" / "build.log") for tag in ("cp312", "cp313")
            ]
            return bool(done) and all(
                p.is_file() and "manywheels-test: sleeping" in p.read_text() for p in sleeping)

        wait_for(ready, 240, "cp311 built while cp312 and cp313 sleep", process, log)
        assert len(project_containers(engine, project)) == 1
        sent = time.monotonic()
        if signum == signal.SIGINT:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the group
        else:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=90)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    out = log.read_text(errors="replace")
    assert code == expected, out[-5000:]
    assert took < 45, f"took {took:.1f} s to stop"
    assert "Traceback" not in out, out[-5000:]
    assert project_containers(engine, project) == []

    dist = project / "dist"
    names = sorted(p.name for p in dist.iterdir())
    wheel = next(n for n in names if n.endswith(".whl"))
    assert names == [LOCK_NAME, wheel, "mwdemo-0.1.0.tar.gz"], names
    assert "-cp311-" in wheel
    with zipfile.ZipFile(dist / wheel) as archive:
        assert archive.testzip() is None
        assert any(n.startswith("mwdemo/_core") for n in archive.namelist())
    assert stray_files(dist) == [] and stray_files(project / "wheelhouse") == []
    assert not list((project / "wheelhouse").glob("*.whl"))

    assert build_status(project, "cp311-manylinux_x86_64") == "passed"
    for identifier in ("cp312-manylinux_x86_64", "cp313-manylinux_x86_64"):
        assert build_status(project, identifier) == "interrupted"
    assert "build summary (interrupted)" in out


SLOW_SETUP_PY = """\
import os, pathlib, time
from setuptools import setup
pathlib.Path(os.environ["MW_TEST_PIDFILE"]).write_text(str(os.getpid()))
time.sleep(600)
setup()
"""


def test_sigterm_during_the_sdist_build_stops_it(engine: Engine, test_image: str,
                                                 tmp_path: Path) -> None:
    """The host-side sdist build (python -m build and its backend) is stopped with the
    run: no build process outlives it, no temporary directory stays in dist-dir."""
    project = make_project(tmp_path)
    (project / "setup.py").write_text(SLOW_SETUP_PY)
    pidfile = tmp_path / "backend.pid"
    env = nox_env(test_image, MANYWHEELS_PYTHON="cp312", MW_TEST_PIDFILE=str(pidfile))
    log = tmp_path / "nox.log"
    process = start_nox(project, "-s", "wheels-build", env=env, log=log)
    try:
        wait_for(lambda: pidfile.is_file() and pidfile.read_text().isdigit(), 240,
                 "the sdist build backend to start", process, log)
        backend = int(pidfile.read_text())
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    out = log.read_text(errors="replace")
    assert code == 143, out[-4000:]
    assert "Traceback" not in out
    deadline = time.monotonic() + 10
    while Path(f"/proc/{backend}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{backend}").exists(), "the sdist build backend outlived the run"
    assert project_containers(engine, project) == []
    dist = project / "dist"
    assert sorted(p.name for p in dist.iterdir()) == [LOCK_NAME]
    assert stray_files(project / "wheelhouse") == []
