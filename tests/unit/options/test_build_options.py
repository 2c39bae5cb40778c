"""Issue 13, item 5: config-settings, frontend args ("build; args: ..."), build-verbosity."""

from __future__ import annotations

from pathlib import Path

import pytest

from manywheels.commands._export import render_script
from manywheels.config import argument_parser, load_config
from manywheels.errors import ConfigError
from manywheels.naming._tags import PythonTag
from manywheels.plan._targets import BuildStep, StepOptions
from manywheels.stages._frontend_args import frontend_extra_args
from manywheels.stages.build import build_script


def project(tmp_path: Path, table: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "d"\nversion = "1"\n[tool.manywheels]\n{table}\n')
    return tmp_path


@pytest.mark.parametrize(
    ("table", "name", "args"),
    [
        ('frontend = "pip"', "pip", ()),
        ('frontend = "build; args: --no-isolation -x"', "build", ("--no-isolation", "-x")),
        ('frontend = {name = "uv", args = ["--no-build-isolation"]}', "uv",
         ("--no-build-isolation",)),
    ],
)
def test_frontend_forms(tmp_path: Path, table: str, name: str, args: tuple[str, ...]) -> None:
    config = load_config(project(tmp_path, table), env={})
    assert (config.frontend, config.frontend_args) == (name, args)
    assert StepOptions.from_config(config).frontend_args == args


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ('frontend = "poetry"', "one of build, pip, uv"),
        ('frontend = "build; flags: -x"', "'NAME; args: ARGS'"),
        ("build-verbosity = 4", ("build-verbosity (pyproject.toml): got 4, expected a whole "
                                 "number from -3 to 3")),
        ("config-settings = {a = true}", "config-settings (pyproject.toml)"),
        ('config-settings = "novalue"', "KEY=VALUE"),
    ],
)
def test_bad_values_are_one_line(tmp_path: Path, table: str, needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(project(tmp_path, table), env={})
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_settings_and_verbosity_from_every_source(tmp_path: Path) -> None:
    root = project(tmp_path, 'config-settings = {setup-args = ["-Da=1", "-Db=2"], x = "y z"}\n'
                             "build-verbosity = -2")
    config = load_config(root, env={})
    assert config.config_settings == (("setup-args", "-Da=1"), ("setup-args", "-Db=2"),
                                      ("x", "y z"))
    assert config.build_verbosity == -2
    env = load_config(root, env={"MANYWHEELS_CONFIG_SETTINGS": "k=v 'q=a b'",
                                 "MANYWHEELS_BUILD_VERBOSITY": "3"})
    assert env.config_settings == (("k", "v"), ("q", "a b")) and env.build_verbosity == 3
    argv = load_config(root, env={}, argv=["--config-settings", "a=1", "b=2",
                                           "--frontend", "pip; args: --no-clean"])
    assert argv.config_settings == (("a", "1"), ("b", "2"))
    assert (argv.frontend, argv.frontend_args) == ("pip", ("--no-clean",))
    assert argument_parser().parse_args(["--build-verbosity", "-1"])


def test_extra_args_per_frontend() -> None:
    settings = (("setup-args", "-Da=1"), ("k", "a b"))
    assert frontend_extra_args("build", verbosity=2, settings=settings, args=["-n"]) == (
        "-v --config-setting=setup-args=-Da=1 '--config-setting=k=a b' -n")
    assert frontend_extra_args("pip", verbosity=-2, settings=settings[:1]) == (
        "-qq --config-settings=setup-args=-Da=1")
    assert frontend_extra_args("uv", verbosity=3) == "-vvv"
    assert frontend_extra_args("build", verbosity=-3) == ""


def test_build_script_and_export_carry_them(tmp_path: Path) -> None:
    options = StepOptions(frontend="pip", config_settings=(("k", "v"),), build_verbosity=1,
                          frontend_args=("--no-clean",))
    step = BuildStep("cp312-manylinux_x86_64", PythonTag(3, 12), "/py", "img",
                     "manylinux_2_28_x86_64", options=options)
    script = build_script(step, "/s.tar.gz")
    assert '-m pip wheel --no-deps --wheel-dir "$OUT" -v --config-settings=k=v --no-clean .' \
        in script
    config = load_config(project(tmp_path, 'frontend = "uv; args: --offline"\n'
                                           'config-settings = {k = "v"}'), env={})
    assert ('uv build --wheel --python "$PYTHON" --out-dir "$OUT" --config-setting=k=v '
            "--offline .") in render_script(config)
