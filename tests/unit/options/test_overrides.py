"""Issue 13, item 6: [[tool.manywheels.overrides]] applied in order, with inherit."""

from __future__ import annotations

from pathlib import Path

import pytest

from manywheels.config import load_config
from manywheels.errors import ConfigError
from manywheels.naming._tags import PythonTag
from manywheels.plan._targets import ImageFacts, plan_build, step_options

OVERRIDES = """
[tool.manywheels]
test-command = "pytest"
test-requires = ["pytest"]
environment = {A = "1"}
before-build = "echo base"
test-environment = {T = "base"}

[[tool.manywheels.overrides]]
select = "cp312-*"
test-environment = {T = "mine"}
test-requires = ["hypothesis"]
inherit.test-requires = "append"

[[tool.manywheels.overrides]]
select = ["cp3{12,13}-*"]
environment = {B = "$A-2"}
inherit.environment = "append"
before-build = "echo first"
inherit.before-build = "prepend"
frontend = "uv; args: --offline"
test-timeout = 5

[[tool.manywheels.overrides]]
select = "cp313-*"
test-command = "python -c 1"
"""


def project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "d"\nversion = "1"\n{text}')
    return tmp_path


def test_entries_apply_in_order_with_inherit(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, OVERRIDES), env={})
    facts = {config.image: ImageFacts(config.image, None, "manylinux_2_28_x86_64",
                                      (PythonTag(3, 11), PythonTag(3, 12), PythonTag(3, 13)))}
    plan = plan_build(config, facts, None)
    by_id = {step.identifier.split("-")[0]: step.options for step in plan.steps}
    assert by_id["cp311"] == step_options(config, "cp311-manylinux_x86_64")
    assert by_id["cp311"].test_environment == (("T", "base"),)
    assert by_id["cp311"].frontend == "build" and by_id["cp311"].test_timeout is None
    cp312 = by_id["cp312"]
    assert cp312.test_environment == (("T", "mine"),)
    assert cp312.test_requires == ("pytest", "hypothesis")
    assert cp312.environment == (("A", "1"), ("B", "$A-2"))
    assert cp312.before_build == "echo first\necho base"
    assert (cp312.frontend, cp312.frontend_args, cp312.test_timeout) == ("uv", ("--offline",), 5)
    assert cp312.test_command == "pytest"
    assert by_id["cp313"].test_command == "python -c 1"
    assert by_id["cp313"].test_requires == ("pytest",)
    # different environments: different container groups
    assert len({step.group_key for step in plan.steps}) == 2


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ('image = "x"', "'image' cannot be overridden"),
        ('before-all = "x"', "'before-all' cannot be overridden"),
        ("test-timeout = 0", "test-timeout ([[tool.manywheels.overrides]] #1 in pyproject.toml)"),
        ('test-requires = ["a"]\ninherit.test-requires = "merge"', "inherit.test-requires"),
        ('inherit.environment = "append"', "inherit.environment"),
        ("test-timeout = 3\ninherit.test-timeout = \"append\"", "inherit.test-timeout"),
    ],
)
def test_bad_entries_are_one_line(tmp_path: Path, entry: str, needle: str) -> None:
    text = f'[[tool.manywheels.overrides]]\nselect = "cp312-*"\n{entry}\n'
    with pytest.raises(ConfigError) as caught:
        load_config(project(tmp_path, text), env={})
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_select_is_required(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="select"):
        load_config(project(tmp_path, "[[tool.manywheels.overrides]]\ntest-timeout = 3\n"),
                    env={})
    with pytest.raises(ConfigError, match="array of tables"):
        load_config(project(tmp_path, "[tool.manywheels]\noverrides = 3\n"), env={})
