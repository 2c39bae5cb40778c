"""Issue 13, item 4: audit-command and audit-requires (cibuildwheel's names, default and
placeholders), from every source, per identifier through overrides, from [tool.cibuildwheel];
the audit script runs for real in a shell (abi3audit stood in for by a script on PATH)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from manywheels.config import load_config
from manywheels.config._options import DEFAULT_AUDIT_COMMAND
from manywheels.errors import ConfigError, ExitCode
from manywheels.plan._targets import step_options
from manywheels.stages._audit import audit_script

ID = "cp39-manylinux_x86_64"


def project(tmp_path: Path, table: str = "", tool: str = "manywheels") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "d"\nversion = "1"\n[tool.{tool}]\n{table}\n')
    return tmp_path


def test_the_default_is_cibuildwheels(tmp_path: Path) -> None:
    config = load_config(project(tmp_path), env={})
    assert config.audit_command == (DEFAULT_AUDIT_COMMAND,)
    assert DEFAULT_AUDIT_COMMAND == "abi3audit --strict --report {abi3_wheel}"
    assert config.audit_requires == ("abi3audit",)


def test_commands_are_a_list_or_joined_by_and_and_empty_turns_the_audit_off(
        tmp_path: Path) -> None:
    root = project(tmp_path, 'audit-command = ["abi3audit {abi3_wheel}", "twine check {wheel}"]'
                   '\naudit-requires = "abi3audit twine"')
    config = load_config(root, env={})
    assert config.audit_command == ("abi3audit {abi3_wheel}", "twine check {wheel}")
    assert config.audit_requires == ("abi3audit", "twine")
    env = {"MANYWHEELS_AUDIT_COMMAND": "a {wheel} && b {abi3_wheel}"}
    assert load_config(root, env=env).audit_command == ("a {wheel}", "b {abi3_wheel}")
    assert load_config(root, env={}, argv=["--audit-command", ""]).audit_command == ()


@pytest.mark.parametrize("command", ["abi3audit --strict", "x {wheel} {abi3_wheel}"])
def test_each_command_names_one_placeholder(tmp_path: Path, command: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(project(tmp_path, f"audit-command = {command!r}"), env={})
    assert caught.value.exit_code == ExitCode.CONFIG
    assert str(caught.value).startswith("audit-command (pyproject.toml): got")
    assert "either {wheel} or {abi3_wheel}" in str(caught.value)


def test_an_override_appends_a_command_for_some_identifiers(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, '''
[[tool.manywheels.overrides]]
select = "cp310-*"
audit-command = "twine check {wheel}"
inherit.audit-command = "append"
audit-requires = ["abi3audit", "twine"]
'''), env={})
    assert step_options(config, ID).audit_command == (DEFAULT_AUDIT_COMMAND,)
    options = step_options(config, "cp310-manylinux_x86_64")
    assert options.audit_command == (DEFAULT_AUDIT_COMMAND, "twine check {wheel}")
    assert options.audit_requires == ("abi3audit", "twine")


def test_the_cibuildwheel_table_gives_them_too(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, 'audit-command = "twine check {wheel}"\n'
                                 'audit-requires = ["twine"]', tool="cibuildwheel"), env={})
    assert config.audit_command == ("twine check {wheel}",)
    assert config.audit_requires == ("twine",)


def test_the_script_uses_the_images_abi3audit_and_stops_at_a_failing_command(
        tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "abi3audit").write_text('#!/bin/sh\necho "audited $*"\n')
    (tools / "abi3audit").chmod(0o755)
    wheel = tmp_path / "x-1-cp39-abi3-manylinux_2_28_x86_64.whl"
    script = audit_script(ID, str(wheel), [
        "abi3audit --strict --report {abi3_wheel}", "test -e {wheel} || exit 4", "echo never"],
        ["abi3audit"], "/nonexistent/python")
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                          check=False)
    assert done.returncode == 4
    assert f"abi3audit from the image: {tools}/abi3audit" in done.stdout
    assert f"audited --strict --report {wheel}" in done.stdout
    assert "never" not in done.stdout  # set -e: the first failing command ends the audit
