"""Issue 13 (cibuildwheel's per-build options) with real containers, on the pure fixture
project (fast: one pure wheel, repaired by copying)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.stages import build, repair
from manywheels.stages import test as stage_test
from manywheels.stages._run import Run
from tests.conftest import PACKAGES


def purepkg(tmp_path: Path, table: str = "") -> Path:
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    if table:
        with (project / "pyproject.toml").open("a") as stream:
            stream.write(f"\n[tool.manywheels]\n{table}\n")
    return project


def run_all(project: Path, **overrides: Any) -> Run:
    config = load_config(project, env={}, overrides=overrides)
    with Run(config, UI(echo=False)) as run:
        build(run)
        repair(run)
        stage_test(run)
    return run


def log(project: Path, identifier: str, stage: str) -> str:
    return (project / "wheelhouse" / "logs" / identifier / f"{stage}.log").read_text()


def test_test_command_with_a_dict_literal_and_shell_braces(test_image: str,
                                                           tmp_path: Path) -> None:
    project = purepkg(tmp_path)
    command = ("python -c 'import json, purepkg; print(\"dict\", json.dumps({1: 2}))' "
               "&& echo \"home=${HOME}\" && test -f {wheel}")
    run_all(project, image=test_image, python=["cp312"], test_command=command)
    text = log(project, "cp312-manylinux_x86_64", "test")
    assert 'dict {"1": 2}' in text
    assert "\nhome=/" in text  # expanded by the shell (the note line shows it as written)
