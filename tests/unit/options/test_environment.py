"""Issue 13, item 2: environment evaluated in order as a shell would, literal values
injection-safe; markers in builds and tests; test-environment for tests only."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from manywheels.commands._export import render_script
from manywheels.config import load_config
from manywheels.errors import ConfigError
from manywheels.naming._tags import PythonTag
from manywheels.plan._targets import BuildStep, StepOptions
from manywheels.stages._environment import container_environment, reproducible_environment
from manywheels.stages._script_env import export_lines, leaked_names
from manywheels.stages.build import build_script
from manywheels.stages.repair import repair_script
from manywheels.stages.test import test_script

ID = "cp312-manylinux_x86_64"


def evaluate(lines: str, *names: str) -> list[str]:
    """Run the lines in bash (HOME=/home/u, PATH=/usr/bin:/bin) and print the names."""
    shown = "; ".join(f'printf "%s\\n" "${{{n}-<unset>}}"' for n in names)
    done = subprocess.run(["bash", "-euc", f"{lines}\n{shown}"], text=True, check=True,
                          stdout=subprocess.PIPE,
                          env={"HOME": "/home/u", "PATH": "/usr/bin:/bin", "OLD": "old"})
    return done.stdout.splitlines()


def test_values_expand_in_order_and_literals_stay_literal(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    environment = [
        ("PATH", "/opt/x/bin:$PATH"),
        ("A", "${HOME}/a"),
        ("B", "$A-$(echo sub)-`echo bq`-$((1 + 2))"),
        ("C", f"x; touch {marker}; echo"),
        ("D", "say \"hi\" 'there' \\ && | * $"),
        ("E", f"$(printf '%s' \"q  d\") \"; touch {marker}\""),
    ]
    values = evaluate(export_lines(f"'{ID}'", environment, unset=["OLD"]),
                      "PATH", "A", "B", "C", "D", "E", "OLD", "MANYWHEELS",
                      "CIBUILDWHEEL_BUILD_IDENTIFIER")
    assert values == [
        "/opt/x/bin:/usr/bin:/bin", "/home/u/a", "/home/u/a-sub-bq-3",
        f"x; touch {marker}; echo", "say \"hi\" 'there' \\ && | * $",
        f"q  d \"; touch {marker}\"", "<unset>", "1", ID,
    ]
    assert not marker.exists()


@pytest.mark.parametrize("value", ["$(echo", "${HOME", "`date"])
def test_an_unbalanced_substitution_is_a_one_line_error(tmp_path: Path, value: str) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "d"\nversion = "1"\n[tool.manywheels.test-environment]\n'
        f"X = '{value}'\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={})
    text = str(caught.value)
    assert text.startswith("test-environment (pyproject.toml):") and "shell value" in text
    assert "\n" not in text


def test_build_repair_and_test_scripts(tmp_path: Path) -> None:
    options = StepOptions(environment=(("CFLAGS", "-O2"), ("P", "/x:$PATH")),
                          test_command="true", test_environment=(("T", "$HOME/t"),))
    step = BuildStep(ID, PythonTag(3, 12), "/py", "img", "manylinux_2_28_x86_64",
                     options=options)
    build = build_script(step, "/s.tar.gz")
    assert "export CFLAGS=-O2\nexport P=\"/x:$PATH\"" in build
    assert "export MANYWHEELS_BUILD_IDENTIFIER=cp312-manylinux_x86_64" in build
    assert "export CIBUILDWHEEL=1" in build
    repair = repair_script(ID, "/w.whl", "manylinux_2_28_x86_64", options.environment)
    assert "export P=\"/x:$PATH\"" in repair and "CIBUILDWHEEL_BUILD_IDENTIFIER" in repair
    script, _ = test_script(options, ID, "w.whl", "/py", unset=["CFLAGS"])
    assert "unset CFLAGS" in script and "export T=\"$HOME/t\"" in script
    assert "CFLAGS=-O2" not in script and "/x:$PATH" not in script
    assert "export MANYWHEELS=1" in script and "export CIBUILDWHEEL_BUILD_IDENTIFIER=" in script


def test_container_environment_keeps_literals_only_and_tests_unset_them(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "d"\nversion = "1"\n')
    config = load_config(tmp_path, env={}, overrides={
        "environment": {"LIT": "1", "EXP": "$HOME/x", "PIP_INDEX_URL": "http://mine"},
    })
    host = {"PIP_INDEX_URL": "http://host", "SOURCE_DATE_EPOCH": "1700000000"}
    env = container_environment(config, host)
    assert env["LIT"] == "1" and "EXP" not in env and env["PIP_INDEX_URL"] == "http://mine"
    assert "SOURCE_DATE_EPOCH" not in env  # not in the before-all key: started beside it
    assert reproducible_environment(1700000000) == {"SOURCE_DATE_EPOCH": "1700000000"}
    assert reproducible_environment(None) == {}
    base = container_environment(config.with_(environment={}), host)
    assert leaked_names(config.environment, base) == ["LIT"]


def test_the_export_keeps_the_build_environment_out_of_tests(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "d"\nversion = "1"\n[tool.manywheels]\n'
        'test-command = "true"\nenvironment = {P = "/x:$PATH"}\n'
        'test-environment = {T = "1"}\n'
    )
    script = render_script(load_config(tmp_path, env={}))
    build_one = script[script.index("build_one() {"):script.index("repair_one() {")]
    test_one = script[script.index("test_one() {"):]
    assert 'export P="/x:$PATH"' in build_one
    assert 'export MANYWHEELS_BUILD_IDENTIFIER="$ID"' in build_one
    assert "/x:$PATH" not in test_one and "export T=1" in test_one
    assert "export CIBUILDWHEEL=1" in test_one
