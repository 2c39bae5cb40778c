from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from manywheels.config import DEFAULT_IMAGE, Config, load_config
from manywheels.errors import ConfigError, ProjectError, PythonTagMissingError
from manywheels.naming._tags import PythonTag
from manywheels.plan._targets import select_targets


def project(tmp_path: Path, table: str = "", extra: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\nversion = "1"\n{extra}\n[tool.manywheels]\n{table}\n'
    )
    return tmp_path


def test_defaults(tmp_path: Path) -> None:
    config = load_config(project(tmp_path), env={})
    assert config.image == DEFAULT_IMAGE
    assert config.python is None
    assert config.frontend == "build"
    assert config.dist_dir == tmp_path / "dist"
    assert config.output_dir == tmp_path / "wheelhouse"
    assert config.sources["image"] == "default"


def test_precedence_defaults_toml_code_env_argv(tmp_path: Path) -> None:
    root = project(tmp_path, 'image = "toml"\nfrontend = "pip"\nplat = "manylinux_2_17_x86_64"\n'
                             'test-command = "t-toml"\nbefore-all = "b-toml"')
    config = load_config(
        root,
        env={"MANYWHEELS_IMAGE": "env", "MANYWHEELS_PLAT": "manylinux_2_28_x86_64", "MANYWHEELS_TEST_COMMAND": "t-env"},
        overrides={"image": "code", "before_all": "b-code", "plat": "manylinux_2_34_x86_64"},
        argv=["--image", "argv"],
    )
    assert config.image == "argv"
    assert config.plat == "manylinux_2_28_x86_64"
    assert config.test_command == "t-env"
    assert config.before_all == "b-code"
    assert config.frontend == "pip"
    assert config.sources["image"] == "command line"
    assert config.sources["plat"] == "MANYWHEELS_PLAT"
    assert config.sources["before-all"] == "code"
    assert config.sources["frontend"] == "pyproject.toml"


def test_lists_tables_and_python(tmp_path: Path) -> None:
    root = project(tmp_path, 'python = ["3.11", "cp312-cp312"]\nenvironment = { A = "1", B = 2 }\n'
                             'test-requires = ["pytest", "numpy>=2"]')
    config = load_config(root, env={"MANYWHEELS_ENVIRONMENT_PASS": "HOME TERM",
                                    "MANYWHEELS_TEST_EXTRAS": "test speedups"})
    assert config.python == (PythonTag(3, 11), PythonTag(3, 12))
    assert config.environment == {"A": "1", "B": "2"}
    assert config.environment_pass == ("HOME", "TERM")
    assert config.test_requires == ("pytest", "numpy>=2")
    assert config.test_extras == ("test", "speedups")
    argv = load_config(root, env={}, argv=["--python", "cp310", "3.13", "--environment", "X=1 2",
                                           "--jobs", "3", "--fail-fast"])
    assert [t.tag for t in argv.python or ()] == ["cp310", "cp313"]
    assert argv.environment == {"X": "1 2"}
    assert argv.jobs == 3 and argv.fail_fast is True


def test_env_python_space_separated(tmp_path: Path) -> None:
    config = load_config(project(tmp_path), env={"MANYWHEELS_PYTHON": "cp311 cp312"})
    assert [t.tag for t in config.python or ()] == ["cp311", "cp312"]


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ('imag = "x"', "unknown key 'imag'"),
        ("python = 312", "python (pyproject.toml): got 312"),
        ('frontend = "poetry"', "one of build, pip, uv"),
        ('python = ["cp2"]', "invalid python tag 'cp2'"),
        ("jobs = 0", "jobs"),
        ('environment = ["A"]', "KEY=VALUE"),
        ("[tool.manywheels.publish]\nrepo = 1", "unknown key 'repo' in [tool.manywheels.publish]"),
    ],
)
def test_bad_toml_is_one_line_naming_key(tmp_path: Path, table: str, needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(project(tmp_path, table), env={})
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_env_and_argv(tmp_path: Path) -> None:
    root = project(tmp_path)
    with pytest.raises(ConfigError, match="MANYWHEELS_FAIL_FAST"):
        load_config(root, env={"MANYWHEELS_FAIL_FAST": "maybe"})
    with pytest.raises(ConfigError, match=r"unrecognized arguments: --pythn"):
        load_config(root, env={}, argv=["--pythn", "cp312"])
    with pytest.raises(ConfigError, match=r"invalid TOML"):
        (root / "pyproject.toml").write_text("[tool.manywheels\n")
        load_config(root, env={})


def test_project_dir_errors(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"does not exist"):
        load_config(tmp_path / "missing", env={})
    with pytest.raises(ProjectError, match=r"neither pyproject\.toml nor setup\.py"):
        load_config(tmp_path, env={})
    (tmp_path / "setup.py").write_text("")
    assert load_config(tmp_path, env={}).project_dir == tmp_path.resolve()


@given(
    toml_image=st.one_of(st.none(), st.sampled_from(["a", "b"])),
    env_image=st.one_of(st.none(), st.sampled_from(["c", "d"])),
    argv_image=st.one_of(st.none(), st.sampled_from(["e", "f"])),
)
def test_merge_highest_set_layer_wins(tmp_path_factory: pytest.TempPathFactory,
                                      toml_image: str | None, env_image: str | None,
                                      argv_image: str | None) -> None:
    root = tmp_path_factory.mktemp("p")
    project(root, f'image = "{toml_image}"' if toml_image else "")
    env = {"MANYWHEELS_IMAGE": env_image} if env_image else {}
    argv = ["--image", argv_image] if argv_image else []
    expected = argv_image or env_image or toml_image or DEFAULT_IMAGE
    assert load_config(root, env=env, argv=argv).image == expected


def test_select_targets(tmp_path: Path) -> None:
    available = [PythonTag(3, m) for m in (8, 9, 10, 11, 12, 13)] + [PythonTag(3, 13, True)]
    config = Config(project_dir=tmp_path)
    targets = select_targets(config, image="img", plat="manylinux_2_28_x86_64",
                             available=available, requires_python=">=3.10")
    assert [t.identifier for t in targets] == [
        "cp310-manylinux_x86_64", "cp311-manylinux_x86_64", "cp312-manylinux_x86_64",
        "cp313-manylinux_x86_64",
    ]
    assert targets[0].interpreter == "/opt/python/cp310-cp310/bin/python"
    chosen = Config(project_dir=tmp_path, python=(PythonTag(3, 13, True),))
    assert [t.identifier for t in select_targets(chosen, image="i", plat="manylinux_2_28_x86_64",
                                                 available=available, requires_python=None)] == [
        "cp313t-manylinux_x86_64"]
    with pytest.raises(PythonTagMissingError,
                       match="cp314 is not in image i; the image has: cp38, cp39"):
        select_targets(Config(project_dir=tmp_path, python=(PythonTag(3, 14),)), image="i",
                       plat="manylinux_2_28_x86_64", available=available, requires_python=None)
