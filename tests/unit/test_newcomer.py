"""Issue 14's newcomer papercuts: ``manywheels init`` refuses a noxfile that already
defines a session named like manywheels' (one line, exit code 10, nothing written), and
the README's ``nox -l`` sample is what ``nox -l`` prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from manywheels.errors import ExitCode

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
PYPROJECT = '[project]\nname = "demo"\nversion = "1"\n'
CLASHING = {
    "own-wheels": '@nox.session(python=False)\ndef wheels(session):\n    session.log("mine")\n',
    "named": '@nox.session(name="wheels-build")\ndef build(session):\n    pass\n',
    "bare-decorator": "from nox import session\n\n@session\ndef wheels(s):\n    pass\n",
}


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MANYWHEELS_", "INVOKE_"))}
    environ["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=environ, text=True,
                          capture_output=True, check=False, timeout=120)


@pytest.mark.parametrize("case", sorted(CLASHING))
@pytest.mark.parametrize("force", [False, True])
def test_init_refuses_a_noxfile_with_a_wheels_session(tmp_path: Path, case: str,
                                                      force: bool) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    noxfile = "import nox\n\n" + CLASHING[case]
    (tmp_path / "noxfile.py").write_text(noxfile)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run(tmp_path, "manywheels", "init", *(["--force"] if force else []))
    assert result.returncode == ExitCode.SESSION_CLASH == 10, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.match(r"manywheels: error: .*noxfile\.py:\d+ already defines the nox session "
                    r"'wheels(-build)?'", lines[0]), lines[0]
    assert "register(prefix=" in lines[0]
    assert (tmp_path / "noxfile.py").read_text() == noxfile
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_init_still_adds_register_to_other_noxfiles(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "noxfile.py").write_text(
        "import nox\n\n@nox.session(name='docs')\ndef wheels_docs(session):\n    pass\n")
    result = run(tmp_path, "manywheels", "init", "--no-workflow")
    assert result.returncode == 0, result.stderr
    assert "manywheels.nox.register()" in (tmp_path / "noxfile.py").read_text()


def _readme_nox_list() -> list[str]:
    block = README.split("$ nox -l\n", 1)[1].split("\n$ ", 1)[0]
    return block.splitlines()


def test_the_readme_nox_l_sample_is_what_nox_prints(tmp_path: Path) -> None:
    project = tmp_path / "your-project"
    project.mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "noxfile.py").write_text("import manywheels.nox\n\nmanywheels.nox.register()\n")
    listed = run(project, "nox", "-l")
    assert listed.returncode == 0, listed.stderr
    printed = (listed.stdout + listed.stderr).replace(str(project), "/src/your-project")
    assert printed.strip().splitlines() == _readme_nox_list()


@pytest.mark.parametrize(("command", "hint"), [
    (("manywheels", "repair"), "(manywheels build)"),
    (("invoke", "wheels.repair"), "(invoke wheels.build)"),
    (("nox", "-s", "wheels-repair"), "(nox -s wheels-build)"),
])
def test_hints_name_the_front_end_in_use(tmp_path: Path, command: tuple[str, ...],
                                         hint: str) -> None:
    """Nothing built yet: repair says how to build, in the words of the front end used."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "noxfile.py").write_text("import manywheels.nox\n\nmanywheels.nox.register()\n")
    (tmp_path / "tasks.py").write_text(
        "from invoke import Collection\n\nimport manywheels.invoke\n\n"
        "ns = Collection()\nns.add_collection(manywheels.invoke.ns)\n")
    result = run(tmp_path, *command)
    assert result.returncode == ExitCode.NOTHING_TO_DO, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert f"run the build stage first {hint}" in out, out
