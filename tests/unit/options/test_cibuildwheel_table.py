"""Issue 13, item 7: [tool.cibuildwheel] read when there is no [tool.manywheels]."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.errors import ConfigError
from manywheels.plan._targets import step_options
from manywheels.stages._run import Run

CIBW = """
[tool.cibuildwheel]
build = "cp312-*"
skip = "*-musllinux*"
test-command = "pytest {project}/tests"
test-requires = "pytest hypothesis"
build-frontend = "build[uv]"
environment = { CFLAGS = "-O2" }
repair-wheel-command = ["auditwheel show {wheel}", "auditwheel repair -w {dest_dir} {wheel}"]
manylinux-x86_64-image = "manylinux_2_28"

[tool.cibuildwheel.linux]
before-all = "yum install -y libyaml-devel"
environment = "CFLAGS='-O3 -g' LIBS=$HOME/lib"
archs = ["x86_64"]

[tool.cibuildwheel.macos]
before-all = "brew install libyaml"

[[tool.cibuildwheel.overrides]]
select = "cp312-*"
test-extras = ["fast"]
inherit.test-requires = "append"
test-requires = ["numpy"]
musllinux-x86_64-image = "musllinux_1_2"
"""


def project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "d"\nversion = "1"\n{text}')
    return tmp_path


def test_the_cibuildwheel_table_is_read_with_one_line(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, CIBW), env={"CIBW_TEST_COMMAND": "false"})
    assert config.test_command == "pytest {project}/tests"
    assert config.test_requires == ("pytest", "hypothesis")
    assert config.frontend == "build"
    assert config.environment == {"CFLAGS": "-O3 -g", "LIBS": "$HOME/lib"}
    assert config.before_all == "yum install -y libyaml-devel"
    assert config.repair_command == ("auditwheel show {wheel} && auditwheel repair "
                                     "-w {dest_dir} {wheel}")
    assert config.sources["test-command"] == "[tool.cibuildwheel] in pyproject.toml"
    options = step_options(config, "cp312-manylinux_x86_64")
    assert options.test_extras == ("fast",)
    assert options.test_requires == ("pytest", "hypothesis", "numpy")
    (note,) = config.notes
    assert "\n" not in note
    assert note.startswith("no [tool.manywheels] table: read [tool.cibuildwheel]")
    used, ignored = note.split("; used: ")[1].split("; ignored: ")
    for key in ("test-command", "build-frontend", "linux.before-all", "linux.environment",
                "overrides.test-extras", "build", "skip"):
        assert key in used
    # a cibuildwheel table's arches and images are for its CI runners: not read
    for key in ("macos", "overrides.musllinux-x86_64-image", "manylinux-x86_64-image",
                "linux.archs"):
        assert key in ignored
    assert (config.build, config.skip, config.archs) == (("cp312-*",), ("*-musllinux*",), ())
    assert config.manylinux_x86_64_image is None
    assert "CIBW_* variables are not read" in note
    out = StringIO()
    Run(config, UI(Console(file=out, width=400), echo=False, live=False), host_env={})
    assert "read [tool.cibuildwheel]" in out.getvalue()


def test_manywheels_wins_and_errors_name_the_table(tmp_path: Path) -> None:
    both = project(tmp_path, '[tool.manywheels]\ntest-command = "true"\n' + CIBW)
    config = load_config(both, env={})
    assert config.test_command == "true" and config.notes == ()
    bad = project(tmp_path, '[tool.cibuildwheel]\nbuild-verbosity = 9\n')
    with pytest.raises(ConfigError, match=r"build-verbosity \(\[tool.cibuildwheel\] in "):
        load_config(bad, env={})
    bad_override = project(tmp_path, "[[tool.cibuildwheel.overrides]]\ntest-extras = []\n")
    with pytest.raises(ConfigError, match=r"\[\[tool.cibuildwheel.overrides\]\] #1"):
        load_config(bad_override, env={})


def test_selection_keys_are_read_the_linux_table_winning(tmp_path: Path) -> None:
    """Issue 13: build, skip and enable under their cibuildwheel names (the linux table
    winning); archs and image keys are reported ignored, and do not conflict with a run's
    own ``image``."""
    config = load_config(project(tmp_path, """
[tool.cibuildwheel]
build = ["cp311-*", "cp312-*"]
archs = "x86_64 aarch64"
enable = ["cpython-freethreading"]
musllinux-aarch64-image = "musllinux_1_1"
[tool.cibuildwheel.linux]
archs = ["aarch64"]
skip = "*-musllinux_*"
"""), env={})
    assert config.build == ("cp311-*", "cp312-*")
    assert config.archs == ()
    assert config.skip == ("*-musllinux_*",)
    assert config.enable == ("cpython-freethreading",)
    assert config.musllinux_aarch64_image is None
    ignored = config.notes[0].split("; ignored: ")[1]
    for key in ("archs", "linux.archs", "musllinux-aarch64-image"):
        assert key in ignored
