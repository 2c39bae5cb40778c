"""Bad input through the nox front end: one clear line naming the bad value and what is
allowed, the error's own exit code, no traceback, and nothing written to the project.

Each case runs real ``nox`` on a real project (and, where the mistake is only visible
there, against the real engine and image).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from manywheels.errors import ExitCode
from tests.integration.test_reliability import make_project, nox_env, run_nox, snapshot

Setup = Callable[[Path], None]


def _nothing(project: Path) -> None:
    pass


def _append_table(text: str) -> Setup:
    """Add a line to the project's [tool.manywheels] table."""
    def setup(project: Path) -> None:
        path = project / "pyproject.toml"
        content = path.read_text()
        assert "\n[tool.manywheels]\n" in content
        path.write_text(content.replace("\n[tool.manywheels]\n", f"\n[tool.manywheels]\n{text}\n"))
    return setup


def _break_toml(project: Path) -> None:
    with (project / "pyproject.toml").open("a") as stream:
        stream.write("\n[tool.manywheels\npython = 3.12\n")


def _no_project_files(project: Path) -> None:
    (project / "pyproject.toml").unlink()


def error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The one error line; checks the exit code and that no traceback was printed."""
    out = result.stdout
    assert result.returncode == code, out[-4000:]
    assert "Traceback" not in out, out[-4000:]
    lines = [line for line in out.splitlines() if " aborted: " in line]
    assert len(lines) == 1, out[-4000:]
    assert lines[0].endswith(f"[exit code {code}]"), lines[0]
    return lines[0]


CASES: list[tuple[str, str, Setup, list[str], dict[str, str], int, list[str]]] = [
    # id, session, setup, posargs, environment, exit code, fragments of the one line
    ("unknown-tag", "wheels-build", _nothing, ["--python", "cp3x"], {}, ExitCode.CONFIG,
     ["'cp3x'", "allowed are cpXY"]),
    ("unknown-tag-env", "wheels-build", _nothing, [], {"MANYWHEELS_PYTHON": "py312"},
     ExitCode.CONFIG, ["'py312'", "allowed are cpXY"]),
    ("malformed-toml", "wheels-build", _break_toml, [], {}, ExitCode.CONFIG,
     ["pyproject.toml: invalid TOML"]),
    ("unknown-key", "wheels-build", _append_table('pythn = ["cp312"]'), [], {}, ExitCode.CONFIG,
     ["unknown key 'pythn' in [tool.manywheels]", "allowed are", "python"]),
    ("unknown-publish-key", "wheels-build", _append_table('publish = { token = "x" }'), [], {},
     ExitCode.CONFIG, ["unknown key 'token' in [tool.manywheels.publish]", "repository-url"]),
    ("wrong-type", "wheels-build", _append_table('jobs = "many"'), [], {}, ExitCode.CONFIG,
     ["jobs (pyproject.toml): got 'many', expected a whole number >= 1"]),
    ("wrong-type-env", "wheels-build", _nothing, [], {"MANYWHEELS_FAIL_FAST": "maybe"},
     ExitCode.CONFIG, ["fail-fast (MANYWHEELS_FAIL_FAST): got 'maybe'", "true/false"]),
    ("bad-choice", "wheels-build", _nothing, ["--frontend", "poetry"], {}, ExitCode.CONFIG,
     ["frontend (command line): got 'poetry', expected one of build, pip, uv"]),
    ("unknown-flag", "wheels-build", _nothing, ["--pyton", "cp312"], {}, ExitCode.CONFIG,
     ["--pyton"]),
    ("missing-project-dir", "wheels-build", _nothing, ["--project-dir", "/nonexistent/proj"], {},
     ExitCode.PROJECT, ["'/nonexistent/proj' does not exist or is not a directory"]),
    ("not-a-python-project", "wheels-build", _no_project_files, [], {}, ExitCode.PROJECT,
     ["neither pyproject.toml nor setup.py"]),
    ("output-dir-is-the-tree", "wheels-build", _nothing, ["--output-dir", "."], {},
     ExitCode.CONFIG, ["output-dir", "is the project directory", "allowed is a directory"]),
    ("dist-dir-contains-the-tree", "wheels-repair", _nothing, ["--dist-dir", ".."], {},
     ExitCode.CONFIG, ["dist-dir", "contains the project directory"]),
    ("empty-dist-dir", "wheels-repair", _nothing, [], {}, ExitCode.NOTHING_TO_DO,
     ["no raw wheels to repair in dist-dir", "/dist", "wheels-build"]),
    ("no-repaired-wheels", "wheels-test", _nothing, [], {}, ExitCode.NOTHING_TO_DO,
     ["no repaired wheels to test in output-dir", "/wheelhouse", "wheels-repair"]),
    ("no-engine", "wheels-build", _nothing, [], {"DOCKER_HOST": "unix:///nonexistent/d.sock"},
     ExitCode.ENGINE, ["unix:///nonexistent/d.sock", "no container engine answers"]),
    # Visible only in the engine: the image and its interpreters.
    ("image-not-found", "wheels-build", _nothing, [],
     {"MANYWHEELS_IMAGE": "localhost:1/manywheels/absent:never"}, ExitCode.IMAGE,
     ["'localhost:1/manywheels/absent:never'", "could not be pulled"]),
    ("tag-absent-from-image", "wheels-build", _nothing, ["--python", "cp38"], {},
     ExitCode.CONFIG, ["python tag cp38 is not in image", "the image has: cp39, cp310"]),
]


@pytest.mark.parametrize("case", [pytest.param(case[1:], id=case[0]) for case in CASES])
def test_bad_input_is_one_clear_line(
    test_image: str, tmp_path: Path,
    case: tuple[str, Setup, list[str], dict[str, str], int, list[str]],
) -> None:
    session, setup, posargs, environment, code, fragments = case
    project = make_project(tmp_path)
    setup(project)
    before = snapshot(tmp_path)
    result = run_nox(project, "-s", session, "--", *posargs,
                     env=nox_env(test_image, **environment), timeout=300)
    line = error_line(result, code)
    for fragment in fragments:
        assert fragment in line, line
    assert snapshot(tmp_path) == before, "the project was written"


def test_failing_before_all_shows_its_exit_code_and_last_lines(
    test_image: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path)
    script = "echo preparing; echo 'E: Unable to locate package libfoo-dev' >&2; exit 42"
    result = run_nox(project, "-s", "wheels-build",
                     env=nox_env(test_image, MANYWHEELS_BEFORE_ALL=script))
    line = error_line(result, ExitCode.COMMAND)
    assert "before-all failed with exit code 42" in line
    lines = result.stdout.splitlines()
    at = next(i for i, text in enumerate(lines) if "before-all failed with exit code 42; log:"
              in text)
    shown = "\n".join(lines[at:at + 4])
    assert "preparing" in shown and "E: Unable to locate package libfoo-dev" in shown, shown
    log = project / "wheelhouse" / "logs" / "before-all" / "before-all.log"
    assert str(log) in lines[at]
    # Stopped before the sdist: no build product anywhere.
    assert not (project / "dist").exists() or not any((project / "dist").glob("*.tar.gz"))
