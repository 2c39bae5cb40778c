"""The pipelined chain with real containers (``nox -s wheels``): an identifier is tested
while another still builds, and Ctrl-C in the middle stops every stage at once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from manywheels.engine._docker import DockerEngine as Engine
from tests.conftest import PACKAGES
from tests.integration.test_reliability import (
    make_project,
    nox_env,
    project_containers,
    start_nox,
    wait_for,
)

MARKER = "/manywheels/mw-tested"
# cp312's build waits (at most two minutes) for the marker only a test writes: it passes
# only when cp311 was repaired and tested while cp312 was still building.
WAIT_FOR_A_TEST = (
    'case "$PYTHON" in *cp311*) ;; *) '
    f"for i in $(seq 600); do test -e {MARKER} && break; sleep 0.2; done; "
    f'test -e {MARKER} || echo "mw: no identifier was tested before this build"; '
    f"test -e {MARKER} || exit 1;; esac"
)


def report(project: Path) -> dict[str, dict[str, str]]:
    data = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    return {identifier: {stage: record["status"] for stage, record in target["stages"].items()}
            for identifier, target in data["targets"].items()}


def test_an_identifier_is_tested_while_another_builds(test_image: str, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    env = nox_env(test_image, MANYWHEELS_PYTHON="cp311 cp312", MANYWHEELS_JOBS="2",
                  MANYWHEELS_BEFORE_BUILD=WAIT_FOR_A_TEST,
                  MANYWHEELS_CACHE_DIR=str(tmp_path / "cache"),
                  MANYWHEELS_TEST_COMMAND=f"python -c 'import mwdemo._core' && touch {MARKER}")
    result = subprocess.run([sys.executable, "-m", "nox", "--no-color", "-s", "wheels"],
                            cwd=project, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, check=False)
    assert result.returncode == 0, result.stdout[-5000:]
    statuses = report(project)
    assert statuses == {identifier: {"build": "passed", "repair": "passed", "test": "passed"}
                        for identifier in ("cp311-manylinux_x86_64", "cp312-manylinux_x86_64")}
    out = result.stdout
    # The summaries still come stage by stage, after their sessions.
    assert out.index("build summary") < out.index("repair summary") < out.index("test summary")


def test_ctrl_c_in_the_pipelined_chain(engine: Engine, test_image: str, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    env = nox_env(test_image, MANYWHEELS_PYTHON="cp311 cp312", MANYWHEELS_JOBS="2",
                  MANYWHEELS_CACHE_DIR=str(tmp_path / "cache"),
                  MANYWHEELS_BEFORE_BUILD='case "$PYTHON" in *cp311*) ;; '
                                          '*) echo mw-waiting; sleep 600;; esac',
                  MANYWHEELS_TEST_COMMAND="echo mw-testing; sleep 600")
    log = tmp_path / "nox.log"
    logs = project / "wheelhouse" / "logs"
    process = start_nox(project, "-s", "wheels", env=env, log=log)

    def both_waiting() -> bool:
        return (_has(logs / "cp311-manylinux_x86_64" / "test.log", "mw-testing")
                and _has(logs / "cp312-manylinux_x86_64" / "build.log", "mw-waiting"))

    try:
        wait_for(both_waiting, 240, "cp311 testing while cp312 builds", process, log)
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    out = log.read_text(errors="replace")
    assert code == 130, out[-5000:]
    assert "Traceback" not in out, out[-5000:]
    assert project_containers(engine, project) == []
    statuses = report(project)
    assert statuses["cp311-manylinux_x86_64"] == {
        "build": "passed", "repair": "passed", "test": "interrupted"}
    assert statuses["cp312-manylinux_x86_64"] == {"build": "interrupted"}
    assert "build summary (interrupted)" in out


def _has(path: Path, text: str) -> bool:
    try:
        return text in path.read_text(errors="replace")
    except OSError:
        return False


def test_an_abi3_wheel_in_the_pipelined_chain_then_from_the_wheel_cache(
        test_image: str, tmp_path: Path) -> None:
    """`manywheels wheels` on the abi3 fixture, twice: built and repaired once and tested on
    three Pythons; the second run takes the wheel and its repair from the wheel cache."""
    project = tmp_path / "limitedapi"
    shutil.copytree(PACKAGES / "limitedapi", project)
    identifiers = [f"cp{v}-manylinux_x86_64" for v in (39, 310, 311)]
    argv = [sys.executable, "-m", "manywheels", "wheels", "--image", test_image,
            "--python", "cp39", "cp310", "cp311", "--jobs", "2",
            "--cache-dir", str(tmp_path / "cache"),
            "--test-command", 'python -c "import limitedapi; assert limitedapi.add(2, 3) == 5"']
    for run in ("cold", "warm"):
        result = subprocess.run(argv, cwd=project, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, check=False, env=dict(os.environ))
        assert result.returncode == 0, f"{run}: {result.stdout[-5000:]}"
        data = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
        first, *later = (data["targets"][i]["stages"] for i in identifiers)
        for stages in later:
            assert stages["build"]["reused_from"] == identifiers[0]
            assert stages["repair"]["reused_from"] == identifiers[0]
            assert stages["repair"]["sha256"] == first["repair"]["sha256"]
        for stages in (first, *later):
            assert stages["test"]["status"] == "passed"
        assert first["audit"]["status"] == "passed"
        cached = run == "warm"
        assert first["build"].get("cached", False) is cached
        assert first["repair"].get("cached", False) is cached
        assert first["audit"].get("cached", False) is cached
