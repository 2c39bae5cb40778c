"""One flow: the per-stage scripts and the exported build-wheels.sh share their steps
(``templates/_steps.sh.j2``), so a change to a step changes both."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from manywheels.commands._export import render_script
from manywheels.config import Config, load_config
from manywheels.naming._tags import PythonTag
from manywheels.plan._targets import StepOptions, Target
from manywheels.stages._render import render, render_step
from manywheels.stages.build import build_script
from manywheels.stages.repair import repair_script
from manywheels.stages.test import test_script

HEREDOC = "cat <<EOF\nindented heredocs break: this one is not\nEOF"


def configure(tmp_path: Path, frontend: str, before_build: str) -> Config:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\n[tool.manywheels]\npython = ["cp312"]\n'
    )
    return load_config(tmp_path, env={}, overrides={
        "frontend": frontend, "before_build": before_build, "before_all": "echo once",
        "test_command": f"pytest {{project}}/tests {{wheel}}\n{HEREDOC}",
        "test_requires": ["pytest>=8"], "test_extras": ["fast"],
    })


@pytest.mark.parametrize("frontend", ["build", "pip", "uv"])
@pytest.mark.parametrize("before_build", ["", "echo each", HEREDOC])
def test_the_export_runs_the_stage_scripts_steps(tmp_path: Path, frontend: str,
                                                 before_build: str) -> None:
    config = configure(tmp_path, frontend, before_build)
    target = Target("cp312-manylinux_x86_64", PythonTag(3, 12), "/opt/python/cp312-cp312/bin/python",
                    "img", "manylinux_2_28_x86_64", options=StepOptions.from_config(config))
    export = render_script(config)
    stages = {
        "before_all": (render("before_all.sh.j2", before_all="echo once"), ("echo once",),
                       ("echo once",)),
        "build_wheel": (build_script(target, "/manywheels/sdist/demo-1.tar.gz"),
                        (before_build, frontend), (before_build, frontend)),
        "repair_wheel": (repair_script(target.identifier, "/w/demo.whl", target.plat),
                         (target.plat,), ('"$PLAT"',)),
    }
    script, command = test_script(target.options, target.identifier, "demo.whl", target.interpreter)
    base = f"/manywheels/{target.identifier}"
    stages["test_wheel"] = (
        script, (f"'{base}/test/demo.whl[fast]' 'pytest>=8'", f"{base}/testcwd", command),
        ('"$WHEEL[fast]" \'pytest>=8\'', '"$WORK/$ID/testcwd"',
         command.replace(f"{base}/test/demo.whl", '"$WHEEL"').replace(
             "/manywheels/project", '"$PROJECT"')),
    )
    for step, (stage_script, stage_args, export_args) in stages.items():
        body = render_step(step, *stage_args)
        assert stage_script.count(f"\n{body}\n") == 1, step
        exported = render_step(step, *export_args)
        assert export.count(f"\n{exported}\n") == 1, step
        if stage_args == export_args:  # the very same text in both scripts
            assert body == exported
    subprocess.run(["bash", "-n"], input=export, text=True, check=True)


def test_step_bodies_are_at_column_0_in_the_export(tmp_path: Path) -> None:
    export = render_script(configure(tmp_path, "build", HEREDOC))
    assert f"\n{HEREDOC}\n" in export  # before-build and the test-command, not indented
    assert export.count(f"\n{HEREDOC}\n") == 2



def test_build_script_does_not_walk_a_tools_private_cache(tmp_path: Path) -> None:
    configure(tmp_path, "build", "")
    target = Target("cp312-manylinux_x86_64", PythonTag(3, 12), "/opt/python/cp312-cp312/bin/python",
                    "img", "manylinux_2_28_x86_64")
    script = build_script(target, "/manywheels/sdist/demo-1.tar.gz")
    assert "archive-v0" not in script
    assert "MANYWHEELS_CACHE_STAMP" not in script
