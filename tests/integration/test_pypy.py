"""PyPy identifiers (issue 13, item 2) with a real PyPy in a real container.

The ``pypy_image`` fixture derives an image from the test image with Debian 12's pypy3
(7.3.11, Python 3.9) at the manylinux path ``/opt/python/pp39-pypy39_pp73`` (recipe:
tests/image/pypy/Dockerfile, tag ``manywheels-test-pypy:<hash of recipe and base>``,
labelled ``io.manywheels.test-image=pypy``). The ``ppext`` fixture project (one C
extension) is built, repaired and tested for ``pp39`` next to ``cp312``; ``enable =
["pypy"]`` decides whether ``pp39`` is selected by default.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PACKAGES

RECIPE = Path(__file__).parent.parent / "image" / "pypy" / "Dockerfile"
CA_DEFAULT = Path("/etc/ssl/certs/ca-certificates.crt")
LABEL = "io.manywheels.test-image=pypy"


def _ca_bundle() -> Path:
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return CA_DEFAULT


@pytest.fixture(scope="session")
def pypy_image(test_image: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test image plus a real PyPy at /opt/python/pp39-pypy39_pp73 (built once per
    recipe and base image; Debian's mirrors and PyPI needed to build it)."""
    digest = hashlib.sha256(RECIPE.read_bytes() + test_image.encode()).hexdigest()[:12]
    tag = f"manywheels-test-pypy:{digest}"
    present = subprocess.run(["docker", "image", "inspect", tag], capture_output=True,
                             check=False)
    if present.returncode == 0:
        return tag
    context = tmp_path_factory.mktemp("pypy-image")
    shutil.copy(RECIPE, context / "Dockerfile")
    shutil.copy(_ca_bundle(), context / "build-ca.crt")
    built = subprocess.run(
        ["docker", "build", "--force-rm", "--tag", tag, "--build-arg",
         f"BASE_IMAGE={test_image}", "--label", LABEL, str(context)],
        capture_output=True, text=True, check=False)
    if built.returncode != 0:
        pytest.fail(f"cannot build {tag}: {built.stdout[-3000:]}{built.stderr[-2000:]}",
                    pytrace=False)
    return tag


def manywheels(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "manywheels", *args], cwd=cwd,
                          env=dict(os.environ), text=True, capture_output=True, check=False)


def test_pypy_wheel_built_repaired_and_tested_with_pypy(pypy_image: str,
                                                        tmp_path: Path) -> None:
    project = tmp_path / "ppext"
    shutil.copytree(PACKAGES / "ppext", project)
    command = ("python -c 'import sys, ppext; print(\"impl\", sys.implementation.name, "
               "ppext.add(2, 3))'")
    done = manywheels(project, "wheels", "--image", pypy_image, "--enable", "pypy",
                      "--build", "pp39-*", "cp312-*", "--test-command", command)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    wheels = sorted(w.name for w in (project / "wheelhouse").glob("*.whl"))
    assert [w.split("-")[2:4] for w in wheels] == [["cp312", "cp312"], ["pp39", "pypy39_pp73"]]
    assert all("manylinux_2_36_x86_64" in w for w in wheels), wheels  # repaired
    record = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    target = record["targets"]["pp39-manylinux_x86_64"]
    assert target["python"] == "pp39"
    assert {s: target["stages"][s]["status"] for s in ("build", "repair", "test")} == {
        "build": "passed", "repair": "passed", "test": "passed"}
    logs = project / "wheelhouse" / "logs"
    assert "/opt/python/pp39-pypy39_pp73/bin/python" in (
        logs / "pp39-manylinux_x86_64" / "build.sh").read_text()
    assert "\nimpl pypy 5\n" in (logs / "pp39-manylinux_x86_64" / "test.log").read_text()
    assert "\nimpl cpython 5\n" in (logs / "cp312-manylinux_x86_64" / "test.log").read_text()


def test_pypy_is_selected_only_with_enable(pypy_image: str, tmp_path: Path) -> None:
    project = tmp_path / "ppext"
    shutil.copytree(PACKAGES / "ppext", project)
    without = manywheels(project, "plan", "--image", pypy_image)
    enabled = manywheels(project, "plan", "--image", pypy_image, "--enable", "pypy")
    assert without.returncode == 0 and enabled.returncode == 0, without.stderr + enabled.stderr
    assert "pp39-manylinux_x86_64" not in without.stdout
    assert "cp312-manylinux_x86_64" in without.stdout
    assert "pp39-manylinux_x86_64" in enabled.stdout
