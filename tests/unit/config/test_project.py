"""The project read once (config.Project) and the one list of excluded paths."""

from __future__ import annotations

from pathlib import Path

import pytest

import manywheels.config._project as project_module
from manywheels.commands._export import render_script
from manywheels.commands._scaffold import plan_init
from manywheels.config import EXCLUDED_PATHS, VCS_PATHS, Project, is_excluded, load_config
from manywheels.errors import ConfigError
from manywheels.stages._troubleshoot_files import _tree

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64", "setuptools-scm>=8"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "1.2"
requires-python = ">=3.10"

[tool.manywheels]
python = ["cp312"]
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(text)
    return tmp_path


def test_read_parses_what_manywheels_needs(tmp_path: Path) -> None:
    project = Project.read(write(tmp_path, PYPROJECT))
    assert project.path == tmp_path
    assert (project.name, project.version, project.requires_python) == ("demo", "1.2", ">=3.10")
    assert project.build_requires == ("setuptools>=64", "setuptools-scm>=8")
    assert project.build_backend == "setuptools.build_meta"
    assert project.tool == {"python": ["cp312"]}
    assert project.pyproject["project"]["name"] == "demo"
    assert project.display_name == "demo"


def test_a_dynamic_version_is_none(tmp_path: Path) -> None:
    text = '[project]\nname = "demo"\nversion = "1"\ndynamic = ["version"]\n'
    assert Project.read(write(tmp_path, text)).version is None


def test_no_pyproject_reads_as_empty(tmp_path: Path) -> None:
    project = Project.read(tmp_path)
    assert project == Project(tmp_path)
    assert (project.name, project.version, project.build_requires, dict(project.tool)) == (
        None, None, (), {})
    assert project.display_name == tmp_path.name


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "[project\n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml: invalid TOML"):
        Project.read(tmp_path)


@pytest.mark.parametrize(("text", "table"), [
    ('project = "demo"\n', "[project]"),
    ("[tool]\nmanywheels = 3\n", "[tool.manywheels]"),
])
def test_a_key_that_must_be_a_table(tmp_path: Path, text: str, table: str) -> None:
    with pytest.raises(ConfigError, match=rf"^\{table[:-1]}\] in pyproject\.toml must be a table"):
        Project.read(write(tmp_path, text))


def test_load_config_reads_the_project_once(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, PYPROJECT)
    reads: list[Path] = []
    load = project_module._load_toml

    def counting(path: Path) -> dict[str, object]:
        reads.append(path)
        return load(path)

    monkeypatch.setattr(project_module, "_load_toml", counting)
    config = load_config(tmp_path, env={})
    assert config.read_project() is config.project
    assert config.requires_python == ">=3.10"
    render_script(config)
    plan_init(config)
    assert reads == [tmp_path / "pyproject.toml"]


def test_one_list_of_excluded_paths() -> None:
    for name in (".nox", ".tox", ".venv", "venv", "__pycache__", ".mypy_cache",
                 ".pytest_cache", ".ruff_cache", "node_modules", ".eggs", ".git", ".hg"):
        assert is_excluded(name)
    assert VCS_PATHS <= EXCLUDED_PATHS
    # The sdist build's copy keeps version-control metadata (setuptools-scm).
    assert not any(is_excluded(name, sdist=True) for name in VCS_PATHS)
    assert not is_excluded("src")
    assert not is_excluded("env")  # a package may be called env; venvs are found by pyvenv.cfg


def test_the_export_copies_vcs_metadata_for_the_sdist_only(tmp_path: Path) -> None:
    script = render_script(load_config(write(tmp_path, PYPROJECT), env={}))
    excludes = {line.strip()[len("--exclude="):].rstrip(" \\")
                for line in script.splitlines() if line.strip().startswith("--exclude=")}
    assert excludes == (EXCLUDED_PATHS - VCS_PATHS) | {"./wheelhouse", "./dist"}
    assert '-name .git -o -name .hg -o -name .svn \\) -prune -exec rm -rf' in script
    assert script.index("-m build --sdist") < script.index("-name .git")


def test_troubleshoot_lists_the_tree_without_excluded_paths_and_venvs(tmp_path: Path) -> None:
    for relative in ("pkg/env/mod.py", "pkg/_core.so", "env/pyvenv.cfg",
                     "env/lib/site-packages/x.so", ".git/HEAD", "node_modules/a.js"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    files, stale = _tree(tmp_path, set())
    assert files == {"pkg/env/mod.py", "pkg/_core.so"}
    assert stale == ("pkg/_core.so",)
