"""The ``sdist`` option (issue 13, item 6): the configuration read from the given sdist."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from manywheels.config import load_config
from manywheels.errors import ExitCode, ProjectError

CIBW = """\
[project]
name = "demo"
version = "1.0"
requires-python = ">=3.10"

[tool.cibuildwheel]
test-requires = "pytest"
test-command = ["python -c 'import demo'", "pytest {project}/tests"]
"""


def _sdist(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _demo(tmp_path: Path, pyproject: str = CIBW) -> Path:
    return _sdist(tmp_path / "demo-1.0.tar.gz", {
        "demo-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "demo-1.0/pyproject.toml": pyproject,
    })


def test_configuration_comes_from_the_sdist_when_the_project_dir_has_none(
        tmp_path: Path) -> None:
    sdist = _demo(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    config = load_config(empty, env={}, argv=["--sdist", str(sdist)])
    assert config.sdist == sdist
    assert config.test_requires == ("pytest",)
    assert config.test_command == "python -c 'import demo' && pytest {project}/tests"
    assert config.requires_python == ">=3.10"
    assert config.read_project().name == "demo"
    assert any("tool.cibuildwheel" in source for source in config.sources.values())


def test_relative_sdist_from_the_environment_is_relative_to_the_project_dir(
        tmp_path: Path) -> None:
    _demo(tmp_path)
    config = load_config(tmp_path, env={"MANYWHEELS_SDIST": "demo-1.0.tar.gz"})
    assert config.sdist == tmp_path / "demo-1.0.tar.gz"
    assert config.test_requires == ("pytest",)


def test_the_project_dirs_own_table_wins(tmp_path: Path) -> None:
    sdist = _demo(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n[tool.manywheels]\ntest-requires = ["hypothesis"]\n')
    config = load_config(project, env={}, overrides={"sdist": str(sdist)})
    assert config.test_requires == ("hypothesis",)
    assert config.test_command is None


@pytest.mark.parametrize("case", ["missing", "not-gzip", "no-pkg-info"])
def test_a_missing_or_foreign_sdist_is_one_project_error(tmp_path: Path, case: str) -> None:
    path = tmp_path / "x-1.0.tar.gz"
    if case == "not-gzip":
        path.write_text("not an archive")
    elif case == "no-pkg-info":
        _sdist(path, {"x-1.0/setup.py": ""})
    with pytest.raises(ProjectError) as caught:
        load_config(tmp_path, env={}, argv=["--sdist", str(path)])
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert caught.value.exit_code == ExitCode.PROJECT


def test_no_project_and_no_sdist_still_says_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="give an sdist file: sdist"):
        load_config(tmp_path, env={})
