"""Issue 13, item 1: only the known placeholders are filled; other braces pass through."""

from __future__ import annotations

from pathlib import Path

import pytest

from manywheels.commands._export import render_script
from manywheels.config import load_config
from manywheels.config._placeholders import fill_placeholders, uses_placeholder
from manywheels.plan._targets import StepOptions
from manywheels.stages.test import needs_project, test_script


@pytest.mark.parametrize(
    "command",
    [
        'python -c "import ujson; print(ujson.dumps({1: 2}))"',
        'echo "${HOME}" ${VAR:-x}',
        r"find . -name '*.so' -exec ls {} \;",
        "python -c 'print({tests})'",
        "echo {{double}} {",
        "echo }{",
    ],
)
def test_other_braces_pass_through(command: str) -> None:
    assert fill_placeholders(command, project="/p", package="/p", wheel="/w.whl") == command


def test_known_placeholders_are_filled_and_escapes_kept() -> None:
    filled = fill_placeholders("pytest {project}/t {package} {wheel} #{wheel} {1: {wheel}}",
                               project="/p", package="/q", wheel="/w.whl")
    assert filled == "pytest /p/t /q /w.whl {wheel} {1: /w.whl}"
    assert fill_placeholders("{wheel}", wheel=r"a\1 \g<0>") == r"a\1 \g<0>"
    assert uses_placeholder("pytest {package}", "package")
    assert not uses_placeholder("echo #{project}", "project")
    assert needs_project("pytest {package}/tests") and not needs_project("echo ${project}x")
    assert needs_project("cd {project}")


def test_any_brace_text_is_accepted_by_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\n[tool.manywheels]\n'
        "test-command = \"pytest {tests} && python -c 'print({1: 2})' ${HOME}\"\n"
    )
    config = load_config(tmp_path, env={})
    assert config.test_command == "pytest {tests} && python -c 'print({1: 2})' ${HOME}"
    export = render_script(config)
    assert "pytest {tests} && python -c 'print({1: 2})' ${HOME}" in export


def test_the_test_script_keeps_brace_text() -> None:
    options = StepOptions(test_command='python -c "print({1: 2})" {wheel} ${HOME} {package}')
    script, command = test_script(options, "cp312-manylinux_x86_64", "d.whl", "/py")
    assert command == ('python -c "print({1: 2})" /manywheels/cp312-manylinux_x86_64/test/d.whl '
                       "${HOME} /manywheels/project")
    assert command in script
