"""engine = "none": the stages run directly on the machine, inside a manylinux-layout
image (manywheels installed there from this worktree), without any engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import extract_sdist

ROOT = Path(__file__).resolve().parents[2]
CA = Path(os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
          or "/etc/ssl/certs/ca-certificates.crt")
TEST = 'python -c "import markupsafe._speedups, sys; print(sys.version_info[:2])"'


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], text=True, capture_output=True, check=check,
                          timeout=1800)


@pytest.fixture
def inside(test_image: str, tmp_path: Path) -> Iterator[str]:
    """A labelled container of the test image with manywheels installed (a wheel of this
    worktree) in /mw and the proxy's CA at /ca.crt; removed afterwards."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("manywheels-*.whl")
    name = f"mwtest-engine-none-{uuid.uuid4().hex[:8]}"
    _docker("run", "-d", "--name", name, "--label", "io.manywheels.test=engine-none",
            test_image, "tail", "-f", "/dev/null")
    try:
        _docker("cp", str(CA), f"{name}:/ca.crt")
        _docker("cp", str(wheel), f"{name}:/{wheel.name}")
        _docker("exec", "-e", "PIP_CERT=/ca.crt", name, "bash", "-c",
                "/opt/python/cp312-cp312/bin/python -m venv /mw && "
                f"/mw/bin/pip install -q /{wheel.name}")
        yield name
    finally:
        _docker("rm", "-f", name, check=False)


def test_engine_none_builds_repairs_and_tests_inside_the_image(
        inside: str, pypi_sdists: dict[str, Path], tmp_path: Path) -> None:
    project = extract_sdist(pypi_sdists["markupsafe"], tmp_path / "src")
    _docker("cp", str(project), f"{inside}:/project")
    done = _docker("exec", "-w", "/project", "-e", "PIP_CERT=/ca.crt", "-e",
                   "SSL_CERT_FILE=/ca.crt", "-e", "MANYWHEELS_ENGINE=none", inside,
                   "/mw/bin/manywheels", "wheels", "--python", "cp311", "cp312",
                   "--test-command", TEST, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads(_docker("exec", inside, "cat",
                                "/project/wheelhouse/manywheels-report.json").stdout)
    tests = {i: t["stages"]["test"]["status"] for i, t in record["targets"].items()}
    assert tests == {"cp311-manylinux_x86_64": "passed", "cp312-manylinux_x86_64": "passed"}
    wheels = _docker("exec", inside, "bash", "-c", "ls /project/wheelhouse/*.whl").stdout
    names = sorted(Path(w).name for w in wheels.split())
    assert len(names) == 2
    assert all("manylinux_2_36_x86_64" in n for n in names), names
    # The scratch tree is removed at the end, like a container would be.
    assert _docker("exec", inside, "test", "-e", "/manywheels", check=False).returncode == 1
    logs = _docker("exec", inside, "cat",
                   "/project/wheelhouse/logs/cp312-manylinux_x86_64/test.log").stdout
    assert "(3, 12)" in logs


def test_engine_none_outside_an_image_is_one_line_exit_3(tmp_path: Path) -> None:
    """On this (non-manylinux) machine: one line naming what is missing, exit 3."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    done = subprocess.run([sys.executable, "-m", "manywheels", "build", "--engine", "none"],
                          cwd=tmp_path, text=True, capture_output=True, check=False,
                          env={k: v for k, v in os.environ.items()
                               if not k.startswith("MANYWHEELS_")})
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(lines) == 1, done.stderr
    assert "engine none: this machine is not a manylinux/musllinux image" in lines[0]
    assert "/opt/python" in lines[0]
