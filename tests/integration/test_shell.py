"""manywheels shell: a container of an identifier's image, as its build sees it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PACKAGES

NOXFILE = "import manywheels.nox\n\nmanywheels.nox.register()\n"


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MANYWHEELS_")}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=environ, text=True,
                          capture_output=True, check=False, timeout=900,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", dest)
    (dest / "noxfile.py").write_text(NOXFILE)
    return dest


def test_shell_runs_a_command_with_the_identifiers_python(project: Path,
                                                          test_image: str) -> None:
    done = _run(project, "manywheels", "shell", "cp312-manylinux_x86_64", "--image",
                test_image, "--", "python", "-c", "import sys; print(sys.version_info[:2])")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "(3, 12)\n"


def test_shell_after_a_build_has_the_sdist_and_build_script(project: Path,
                                                            test_image: str) -> None:
    """After a build: the recorded sdist unpacked in $SRC (the cwd), the last build script
    beside it, the build environment set; COMMAND's exit code is the command's."""
    built = _run(project, "manywheels", "build", "--python", "cp312", "--image", test_image,
                 "--environment", "MYFLAG=on")
    assert built.returncode == 0, built.stderr[-3000:]
    done = _run(project, "manywheels", "shell", "cp312-manylinux_x86_64", "--image",
                test_image, "--environment", "MYFLAG=on", "--", "bash", "-c",
                'test -f pyproject.toml && test -f ../build.sh && echo "$PWD $MYFLAG"; exit 7')
    assert done.returncode == 7, done.stderr
    assert done.stdout == "/manywheels/cp312-manylinux_x86_64/src on\n"


def test_shell_names_an_unknown_identifier(project: Path, test_image: str) -> None:
    done = _run(project, "manywheels", "shell", "cp399-manylinux_x86_64", "--image",
                test_image)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert "'cp399-manylinux_x86_64' is not an identifier" in lines[-1]
    assert "cp312-manylinux_x86_64" in lines[-1]


def test_nox_wheels_shell_runs_a_command(project: Path, test_image: str) -> None:
    done = _run(project, "nox", "-s", "wheels-shell", "--", "cp311-manylinux_x86_64",
                "--image", test_image, "--", "python", "-c",
                "import sys; print('py', *sys.version_info[:2])")
    assert done.returncode == 0, done.stderr
    assert "py 3 11\n" in done.stdout


def test_invoke_wheels_shell_runs_a_command(project: Path, test_image: str) -> None:
    (project / "tasks.py").write_text("from invoke import Collection\n\nimport manywheels.invoke"
                                      "\n\nns = Collection()\n"
                                      "ns.add_collection(manywheels.invoke.ns)\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MANYWHEELS_")}
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "wheels.shell", "cp313-manylinux_x86_64", "--command",
         'python -c "import sys; print(sys.version_info[:2]); sys.exit(4)"'],
        cwd=project, env={**environ, "MANYWHEELS_IMAGE": test_image}, text=True,
        capture_output=True, check=False, timeout=900, stdin=subprocess.DEVNULL)
    assert done.returncode == 4, done.stderr
    assert done.stdout == "(3, 13)\n"
