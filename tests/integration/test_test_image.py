"""test-image: a wheel that does not vendor a library passes in the build container (after
before-all installed it) and fails, with the cause named, in a clean test container."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PACKAGES, extract_sdist

BEFORE_ALL = ("apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
              "apt-get install -y -qq --no-install-recommends libyaml-dev")
REPAIR = "auditwheel repair --exclude 'libyaml*' --plat {plat} -w {dest_dir} {wheel}"
TEST = 'python -c "import yaml; assert yaml.__with_libyaml__, yaml.__file__"'


def _manywheels(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "manywheels", *args], cwd=project,
                          text=True, capture_output=True, check=False)


def _statuses(project: Path, stage: str) -> dict[str, str]:
    record = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    return {i: t["stages"][stage]["status"] for i, t in record["targets"].items()}


def test_pyyaml_without_libyaml_fails_in_the_clean_test_image(
        pypi_sdists: dict[str, Path], test_image: str, tmp_path: Path) -> None:
    """pyyaml 6.0.3 with libyaml from before-all, excluded from the repair: its test passes
    in the build image and fails in a test-image (the build image without before-all),
    naming the missing libyaml-0.so.2."""
    project = extract_sdist(pypi_sdists["pyyaml"], tmp_path)
    common = ["--python", "cp312", "--image", test_image, "--before-all", BEFORE_ALL,
              "--repair-command", REPAIR, "--test-command", TEST, "--no-cache"]
    done = _manywheels(project, "wheels", *common)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert _statuses(project, "test") == {"cp312-manylinux_x86_64": "passed"}

    clean = _manywheels(project, "test", *common, "--test-image", "build")
    output = clean.stdout + clean.stderr
    assert clean.returncode == 1, output[-4000:]
    assert _statuses(project, "test") == {"cp312-manylinux_x86_64": "failed"}
    assert "libyaml-0.so.2" in output, output[-4000:]
    assert "in test-image " + test_image in output
    assert "needs libyaml-0.so.2 at run time" in output  # the automatic diagnosis
    log = (project / "wheelhouse" / "logs" / "cp312-manylinux_x86_64" / "test.log").read_text()
    assert "yaml/_yaml" in log
    assert ": yaml/_yaml" in output, output[-4000:]  # the module, not its venv path
    assert "libyaml-0.so.2" in log


@pytest.fixture(scope="session")
def debian_python_image(test_image: str) -> str:
    """A plain-distribution test image: the test image's Debian 12 without /opt/python,
    with Debian's python3 (3.11) and venv (a stand-in for python:3.11-slim, which this
    machine cannot pull). Built once, labelled, tagged after the base."""
    tag = f"manywheels-test-debianpy:{test_image.rpartition(':')[2]}"
    if subprocess.run(["docker", "image", "inspect", tag], capture_output=True,
                      check=False).returncode == 0:
        return tag
    recipe = (f"FROM {test_image}\n"
              "RUN rm -rf /opt/python && apt-get update -qq && DEBIAN_FRONTEND=noninteractive"
              " apt-get install -y -qq --no-install-recommends python3 python3-venv"
              " && rm -rf /var/lib/apt/lists/*\n")
    subprocess.run(["docker", "build", "-q", "--label", "io.manywheels.test=debianpy", "-t",
                    tag, "-"], input=recipe, text=True, check=True, capture_output=True)
    return tag


def test_a_plain_distribution_image_tests_with_its_python3(
        test_image: str, debian_python_image: str, tmp_path: Path) -> None:
    """A test-image without /opt/python: cp311 is tested with its python3 (3.11); for
    cp312 the stage stops with one line naming the identifier and what the image has."""
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    command = ["--test-command",
               'python -c "import sys, purepkg; print(sys.version_info[:2])"']
    built = _manywheels(project, "wheels", "--python", "cp311", "cp312", "--image",
                        test_image, *command)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    clean = ["--image", test_image, "--test-image", debian_python_image, *command]
    done = _manywheels(project, "test", "--python", "cp311", *clean)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    logs = project / "wheelhouse" / "logs" / "cp311-manylinux_x86_64"
    assert "(3, 11)" in (logs / "test.log").read_text()
    assert "PYTHON=/usr/bin/python3" in (logs / "test.sh").read_text()
    wrong = _manywheels(project, "test", "--python", "cp312", *clean)
    assert wrong.returncode == 2, wrong.stdout[-3000:] + wrong.stderr[-3000:]
    line = wrong.stderr.strip().splitlines()[-1]
    assert f"test-image {debian_python_image}: cp312-manylinux_x86_64 needs CPython 3.12" in line
    assert "the image has cpython 3 11 0" in line
