"""test-image: a wheel that does not vendor a library passes in the build container (after
before-all installed it) and fails, with the cause named, in a clean test container."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import extract_sdist

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
