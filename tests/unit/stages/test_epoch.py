"""SOURCE_DATE_EPOCH of a run: the host's, the last git commit touching the project, the
newest project file; ``reproducible = false``; the sbom-components option's values."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from manywheels.config import load_config
from manywheels.config._components import SbomComponent, parse_components
from manywheels.errors import ConfigError
from manywheels.stages._epoch import git_commit_time, host_epoch, newest_mtime, run_epoch


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "e"\nversion = "1"\n')
    (root / "src.py").write_text("")
    os.utime(root / "pyproject.toml", (1600000000, 1600000000))
    os.utime(root / "src.py", (1650000000, 1650000000))
    return root


def test_the_host_value_wins_and_a_bad_one_is_one_line(tmp_path: Path) -> None:
    config = load_config(make_project(tmp_path / "p"), env={})
    assert run_epoch(config, {"SOURCE_DATE_EPOCH": "1234"}) == 1234
    assert host_epoch({"SOURCE_DATE_EPOCH": ""}) is None
    with pytest.raises(ConfigError, match=r"SOURCE_DATE_EPOCH='yesterday': expected a whole"):
        run_epoch(config, {"SOURCE_DATE_EPOCH": "yesterday"})


def test_without_git_the_newest_file_of_the_tree_counts(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    for skipped in (root / "wheelhouse", root / ".venv", root / "dist"):
        skipped.mkdir()
        (skipped / "new").write_text("")  # now: never counted
    config = load_config(root, env={})
    assert run_epoch(config, {"PATH": os.environ["PATH"]}) == 1650000000
    assert newest_mtime(tmp_path / "empty-does-not-exist") is None
    assert run_epoch(config.with_(reproducible=False), {}) is None
    assert run_epoch(config.with_(reproducible=False), {"SOURCE_DATE_EPOCH": "7"}) == 7


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_last_commit_touching_the_project_counts(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo" / "p")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_AUTHOR_NAME": "a",
           "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b"}

    def git(*args: str, when: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path / "repo", check=True, capture_output=True,
                       env={**env, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": when})

    git("init", "-q", when="@1")
    git("add", "p", when="@1")
    git("commit", "-q", "-m", "p", when="@1700000000 +0000")
    (tmp_path / "repo" / "other").write_text("")
    git("add", "other", when="@1")
    git("commit", "-q", "-m", "other", when="@1800000000 +0000")  # not the project's
    assert git_commit_time(root, env) == 1700000000
    assert run_epoch(load_config(root, env={}), env) == 1700000000
    assert git_commit_time(tmp_path, env) is None  # not a work tree


def test_sbom_components_from_toml_json_and_their_errors(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    with (root / "pyproject.toml").open("a") as stream:
        stream.write('[[tool.manywheels.sbom-components]]\nname = "libyaml"\n'
                     'version = "0.2.5"\nfiles = ["*/libyaml*.so*"]\n')
    config = load_config(root, env={})
    assert config.sbom_components == (SbomComponent("libyaml", "0.2.5", "",
                                                    ("*/libyaml*.so*",)),)
    assert config.sbom_components[0].package_url == "pkg:generic/libyaml@0.2.5"
    env = {"MANYWHEELS_SBOM_COMPONENTS": '{"name": "z", "version": "1", "purl": "pkg:x/z@1"}'}
    assert load_config(root, env=env).sbom_components == (SbomComponent("z", "1", "pkg:x/z@1"),)
    for bad, expected in [("[1]", "a table with name and version"),
                          ('[{"name": "z"}]', "a table with name and version"),
                          ('[{"name": "z", "version": "1", "url": "u"}]', "a table with"),
                          ('[{"name": "z", "version": "1", "purl": "http://x"}]', "pkg:"),
                          ("{oops", "a JSON array of objects"),
                          ('[{"name": "z", "version": "1"}, {"name": "z", "version": "2"}]',
                           "each component name once")]:
        with pytest.raises(ConfigError, match=r"^sbom-components \(environment\): got .*"
                           + expected.replace("(", r"\(")):
            parse_components("sbom-components", "environment", bad)
