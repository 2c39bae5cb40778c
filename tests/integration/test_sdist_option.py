"""Building from a given sdist (issue 13, item 6) and test-commands with braces (item 8), on
real PyPI sdists in real containers.

- contourpy 1.3.1 (meson-python): its host sdist build needs git (``meson dist``); with
  ``--sdist`` it builds from its own sdist, its ``[tool.cibuildwheel]`` table (read from the
  sdist: the project dir is empty) giving test-requires (pytest) and the test-command
  (``pytest -v {project}/tests/test_minimal.py``, ``{project}`` the unpacked sdist).
- the same sdist unpacked, without git: the host sdist build fails with exit 6 and the
  diagnosis quotes meson's line and suggests ``sdist``.
- ujson 5.10.0 with ``print(ujson.dumps({1: 2}))``: the dict literal passes unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PACKAGES, extract_sdist

NOXFILE = "import manywheels.nox\n\nmanywheels.nox.register()\n"

PINNED = {"contourpy": "contourpy==1.3.1", "ujson": "ujson==5.10.0"}


@pytest.fixture(scope="module")
def sdists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real, pinned sdists from PyPI (``--no-binary`` for these two only: their build
    requirements come as wheels), as tests/conftest.py's ``pypi_sdists``."""
    dest = tmp_path_factory.mktemp("sdists")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(dest),
         "--no-binary", ",".join(PINNED), *PINNED.values()],
        check=True, stdout=subprocess.DEVNULL,
    )
    found = {}
    for name in PINNED:
        (found[name],) = sorted(dest.glob(f"{name}-*.tar.gz"))
    return found


def manywheels(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "manywheels", *args], cwd=cwd,
                          env=dict(os.environ), text=True, capture_output=True, check=False)


def _record(output_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((output_dir / "manywheels-report.json").read_text())
    return data


def test_contourpy_builds_from_its_own_sdist_with_its_cibuildwheel_table(
        sdists: dict[str, Path], test_image: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"  # no pyproject.toml, no git: the configuration is the sdist's
    empty.mkdir()
    sdist = sdists["contourpy"]
    done = manywheels(empty, "wheels", "--sdist", str(sdist), "--image", test_image,
                      "--python", "cp312")
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    assert "[tool.cibuildwheel]" in done.stdout + done.stderr
    identifier = "cp312-manylinux_x86_64"
    record = _record(empty / "wheelhouse")
    assert record["project"]["sdist"] == sdist.name
    assert record["project"]["sdist_sha256"] == hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert record["sdist"]["build"]["status"] == "given"
    assert (empty / "dist" / sdist.name).read_bytes() == sdist.read_bytes()
    target = record["targets"][identifier]
    assert target["sdist_sha256"] == record["project"]["sdist_sha256"]
    assert {s: target["stages"][s]["status"] for s in ("build", "repair", "test")} == {
        "build": "passed", "repair": "passed", "test": "passed"}
    (wheel,) = sorted((empty / "wheelhouse").glob("*.whl"))
    assert wheel.name.startswith("contourpy-1.3.1-cp312-cp312-manylinux")
    test_log = (empty / "wheelhouse" / "logs" / identifier / "test.log").read_text()
    test_script = (empty / "wheelhouse" / "logs" / identifier / "test.sh").read_text()
    assert "pytest" in test_script  # test-requires from [tool.cibuildwheel]
    assert "/manywheels/project/tests/test_minimal.py" in test_log
    assert "'mesonpy'" in test_log or "build_config" in test_script  # build_config() printed
    assert " passed" in test_log and " failed" not in test_log


def test_contourpy_unpacked_without_git_diagnoses_meson_dist(
        sdists: dict[str, Path], test_image: str, tmp_path: Path) -> None:
    project = extract_sdist(sdists["contourpy"], tmp_path)
    assert not (project / ".git").exists()
    done = manywheels(project, "wheels", "--image", test_image, "--python", "cp312")
    output = done.stdout + done.stderr
    assert done.returncode == 6, output[-4000:]
    assert "Dist currently only works with Git or Mercurial repos" in output
    assert "--sdist PATH" in output
    assert "sdist.sh" not in output
    assert "Traceback" not in output


@pytest.mark.parametrize("case", ["missing", "not-an-sdist"])
def test_a_bad_sdist_is_one_line_exit_6(tmp_path: Path, case: str) -> None:
    path = tmp_path / "nothing-1.0.tar.gz"
    if case == "not-an-sdist":
        path.write_text("plain text")
    done = manywheels(tmp_path, "wheels", "--sdist", str(path))
    assert done.returncode == 6, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if str(path) in line]
    assert len(lines) == 1 and "Traceback" not in done.stderr


def test_ujson_test_command_with_a_dict_literal(sdists: dict[str, Path], test_image: str,
                                                tmp_path: Path) -> None:
    project = extract_sdist(sdists["ujson"], tmp_path)
    command = 'python -c "import ujson; print(ujson.dumps({1: 2}))"'
    done = manywheels(project, "wheels", "--image", test_image, "--python", "cp312",
                      "--test-command", command)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    logs = project / "wheelhouse" / "logs" / "cp312-manylinux_x86_64"
    assert command in (logs / "test.sh").read_text()
    assert '\n{"1":2}\n' in (logs / "test.log").read_text()


def test_nox_wheels_with_sdist_and_no_project_dir(test_image: str, tmp_path: Path) -> None:
    """``nox -s wheels -- --sdist PATH`` next to a noxfile with no pyproject.toml: the
    sdist's own [tool.manywheels] table (test-command) drives the run."""
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    with (project / "pyproject.toml").open("a") as stream:
        stream.write("\n[tool.manywheels]\ntest-command = \"python -c 'import purepkg; "
                     "print(6 * 7)'\"\n")
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir",
                    str(tmp_path / "sdists"), str(project)], check=True,
                   stdout=subprocess.DEVNULL)
    (sdist,) = sorted((tmp_path / "sdists").glob("*.tar.gz"))
    runner = tmp_path / "runner"  # a noxfile and nothing else
    runner.mkdir()
    (runner / "noxfile.py").write_text(NOXFILE)
    done = subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", "-s", "wheels", "--", "--sdist",
         str(sdist), "--image", test_image, "--python", "cp312"],
        cwd=runner, env=dict(os.environ), text=True, capture_output=True, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    log = (runner / "wheelhouse" / "logs" / "cp312-manylinux_x86_64" / "test.log").read_text()
    assert "\n42\n" in log
    record = _record(runner / "wheelhouse")
    assert record["project"]["sdist_sha256"] == hashlib.sha256(sdist.read_bytes()).hexdigest()
