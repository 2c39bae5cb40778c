"""`manywheels init` in existing projects: what it writes, what it leaves alone, and that
the results work (`nox -l`, `invoke --list`, the pyproject table loads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from manywheels.commands._scaffold import add_register_call
from manywheels.config import OPTIONS, load_config
from manywheels.errors import ConfigError, ExitCode

PYPROJECT = '[project]\nname = "demo"\nversion = "1"\n\n[tool.black]\nline-length = 90\n'
USER_NOXFILE = '''"""The user's own sessions."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint"]


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """Lint the code."""
    session.log("linting")
'''
SESSIONS = ("wheels-build", "wheels-repair", "wheels-test", "wheels-publish", "wheels ")


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MANYWHEELS_", "INVOKE_"))}
    environ["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=environ, text=True,
                          capture_output=True, check=False, timeout=120)


def init(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(cwd, "manywheels", "init", *args)


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "demo.py").write_text("X = 1\n")
    return tmp_path


def test_init_in_a_fresh_project(fresh: Path) -> None:
    result = init(fresh)
    assert result.returncode == 0, result.stderr
    for name in ("noxfile.py", "tasks.py", ".github/workflows/wheels.yml"):
        assert (fresh / name).is_file(), name
        assert f"created {name}" in result.stdout
        assert oct((fresh / name).stat().st_mode & 0o777) != oct(0o600)
    assert "updated pyproject.toml" in result.stdout

    listed = run(fresh, "nox", "-l")
    assert listed.returncode == 0, listed.stderr
    for session in SESSIONS:
        assert f"- {session}" in listed.stdout, listed.stdout

    tasks = run(fresh, "invoke", "--list")
    assert tasks.returncode == 0, tasks.stderr
    for task in ("wheels.all (wheels)", "wheels.build", "wheels.repair", "wheels.test"):
        assert task in tasks.stdout


def test_pyproject_table_is_commented_and_keeps_the_rest(fresh: Path) -> None:
    assert init(fresh).returncode == 0
    text = (fresh / "pyproject.toml").read_text()
    assert text.startswith(PYPROJECT)
    table = text[len(PYPROJECT):]
    assert "\n[tool.manywheels]\n" in table
    for option in OPTIONS:
        if option.stage_only or option.key == "project-dir":
            continue
        key = option.key.split(".")[-1]
        assert f"\n# {key} = " in table, key
    # Every key is commented out: the configuration is still the defaults.
    assert load_config(fresh, env={}) == load_config(fresh, env={}, overrides={})
    assert all(source == "default" for source in load_config(fresh, env={}).sources.values())


def test_uncommented_examples_are_valid_configuration(fresh: Path) -> None:
    assert init(fresh).returncode == 0
    lines = (fresh / "pyproject.toml").read_text().splitlines()
    start = lines.index("[tool.manywheels]")
    enabled = []
    for line in lines[start:]:
        if line.startswith("# [tool.manywheels.publish]"):
            enabled.append("[tool.manywheels.publish]")
        elif line.startswith("# ") and " = " in line and not line.startswith("# ["):
            enabled.append(line[2:])
        else:
            enabled.append(line)
    (fresh / "pyproject.toml").write_text("\n".join(lines[:start] + enabled) + "\n")
    config = load_config(fresh, env={})
    assert config.image == "quay.io/pypa/manylinux_2_28_x86_64"
    assert [t.tag for t in config.python or ()] == ["cp311", "cp312", "cp313"]
    assert config.repository == "testpypi"


def test_existing_noxfile_gets_the_call_and_keeps_its_sessions(fresh: Path) -> None:
    (fresh / "noxfile.py").write_text(USER_NOXFILE)
    result = init(fresh)
    assert result.returncode == 0, result.stderr
    assert "updated noxfile.py" in result.stdout
    text = (fresh / "noxfile.py").read_text()
    assert text.count("manywheels.nox.register()") == 1
    assert text.index("import nox\n") < text.index("import manywheels.nox")
    assert text.index("manywheels.nox.register()") < text.index("nox.options.sessions")
    listed = run(fresh, "nox", "-l")
    assert listed.returncode == 0, listed.stderr
    assert "* lint -> Lint the code." in listed.stdout
    for session in SESSIONS:
        assert f"- {session}" in listed.stdout
    assert run(fresh, "nox").returncode == 0  # the user's default sessions still run


def test_script_mode_noxfile(fresh: Path) -> None:
    (fresh / "noxfile.py").write_text(
        USER_NOXFILE + '\n\nif __name__ == "__main__":\n    nox.main()\n'
    )
    assert init(fresh).returncode == 0
    listed = run(fresh, "nox", "-l")
    assert "- wheels-build" in listed.stdout, listed.stdout + listed.stderr


def test_never_overwrites_without_force(fresh: Path) -> None:
    (fresh / "tasks.py").write_text("# my tasks\n")
    workflow = fresh / ".github" / "workflows" / "wheels.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: mine\n")
    result = init(fresh)
    assert result.returncode == 0
    assert (fresh / "tasks.py").read_text() == "# my tasks\n"
    assert workflow.read_text() == "name: mine\n"
    assert "skipped tasks.py: exists; use --force" in result.stderr
    assert "skipped .github/workflows/wheels.yml" in result.stderr
    forced = init(fresh, "--force")
    assert forced.returncode == 0
    assert "manywheels.invoke" in (fresh / "tasks.py").read_text()
    assert "manywheels matrix" in workflow.read_text()
    assert "overwrote tasks.py" in forced.stdout


def test_second_run_changes_nothing(fresh: Path) -> None:
    assert init(fresh).returncode == 0
    before = {p: p.read_bytes() for p in fresh.rglob("*") if p.is_file()}
    again = init(fresh)
    assert again.returncode == 0
    assert again.stdout.count("unchanged") == 4
    assert {p: p.read_bytes() for p in fresh.rglob("*") if p.is_file()} == before


def test_existing_manywheels_table_is_kept(fresh: Path) -> None:
    (fresh / "pyproject.toml").write_text(PYPROJECT + '\n[tool.manywheels]\njobs = 3\n')
    assert init(fresh).returncode == 0
    assert (fresh / "pyproject.toml").read_text().endswith("[tool.manywheels]\njobs = 3\n")


def test_invalid_noxfile_stops_before_writing_anything(fresh: Path) -> None:
    (fresh / "noxfile.py").write_text("def broken(:\n")
    before = (fresh / "pyproject.toml").read_text()
    result = init(fresh)
    assert result.returncode == ExitCode.CONFIG
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "noxfile.py: not valid Python" in result.stderr
    assert not (fresh / "tasks.py").exists()
    assert not (fresh / ".github").exists()
    assert (fresh / "pyproject.toml").read_text() == before
    assert init(fresh, "--force").returncode == 0
    assert "manywheels.nox.register()" in (fresh / "noxfile.py").read_text()


def test_pyproject_that_cannot_take_the_table(fresh: Path) -> None:
    project_table = PYPROJECT.split("\n\n", maxsplit=1)[0]
    (fresh / "pyproject.toml").write_text("tool = { black = {} }\n\n" + project_table)
    result = init(fresh)
    assert result.returncode == ExitCode.CONFIG
    assert "add the table by hand" in result.stderr
    assert not (fresh / "noxfile.py").exists()


def test_dry_run_writes_nothing(fresh: Path) -> None:
    before = sorted(p.name for p in fresh.rglob("*"))
    result = init(fresh, "--dry-run")
    assert result.returncode == 0
    assert "would create noxfile.py" in result.stdout
    assert sorted(p.name for p in fresh.rglob("*")) == before


def test_no_workflow_and_setup_py_project(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(name='x')\n")
    result = init(tmp_path, "--no-workflow")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / ".github").exists()
    assert "created pyproject.toml" in result.stdout
    assert load_config(tmp_path, env={}).image  # the new pyproject.toml loads


def test_tasks_package_is_not_shadowed(fresh: Path) -> None:
    (fresh / "tasks").mkdir()
    (fresh / "tasks" / "__init__.py").write_text("")
    result = init(fresh)
    assert not (fresh / "tasks.py").exists()
    assert "a tasks/ package exists" in result.stderr


def test_not_a_project(tmp_path: Path) -> None:
    result = init(tmp_path)
    assert result.returncode == ExitCode.PROJECT
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "source",
    [
        "import nox\n",
        '"""Doc."""\nimport nox\n',
        ("from __future__ import annotations\n\ntry:\n    import nox\nexcept ImportError:\n"
         "    raise\n\nX = 1\n"),
        "X = 1\n",
        "",
        "import nox",  # no trailing newline
    ],
)
def test_add_register_call_keeps_valid_python(source: str) -> None:
    new = add_register_call(source, Path("noxfile.py"))
    assert new is not None
    compile(new, "noxfile.py", "exec")
    assert new.count("manywheels.nox.register()") == 1
    assert add_register_call(new, Path("noxfile.py")) is None


def test_add_register_call_refuses_broken_python() -> None:
    with pytest.raises(ConfigError, match="line 1"):
        add_register_call("if:\n", Path("noxfile.py"))


CIBW_TABLE = """
[tool.cibuildwheel]
build = "cp311-* cp312-*"
skip = ["*-musllinux*"]
test-command = "pytest {project}/tests"
build-frontend = "pip"
environment = { CFLAGS = "-O2" }
manylinux-x86_64-image = "manylinux_2_28"

[tool.cibuildwheel.linux]
archs = ["x86_64"]
before-all = ["yum install -y zlib-devel", "echo done"]

[tool.cibuildwheel.macos]
archs = ["arm64"]

[[tool.cibuildwheel.overrides]]
select = "cp312-*"
test-requires = ["numpy"]
inherit.test-requires = "append"
"""


def test_init_from_cibuildwheel_writes_the_equivalent_table(fresh: Path) -> None:
    """Issue 13: --from-cibuildwheel translates like a table-less project is read."""
    from manywheels.commands._scaffold import apply, plan_init

    (fresh / "pyproject.toml").write_text(PYPROJECT + CIBW_TABLE)
    translated = load_config(fresh, env={})
    actions = plan_init(load_config(fresh, env={}), workflow=False, from_cibuildwheel=True)
    pyproject = next(a for a in actions if a.path.name == "pyproject.toml")
    assert pyproject.note.endswith(
        "[tool.cibuildwheel] keys not translated: manylinux-x86_64-image, linux.archs, macos")
    apply(actions)
    config = load_config(fresh, env={})
    assert config.sources["build"] == "pyproject.toml" and config.notes == ()
    for attr in ("build", "skip", "test_command", "frontend", "environment", "archs",
                 "manylinux_x86_64_image", "before_all", "overrides"):
        assert getattr(config, attr) == getattr(translated, attr), attr
    assert config.before_all == "yum install -y zlib-devel && echo done"


def test_init_from_cibuildwheel_needs_the_table(fresh: Path) -> None:
    from manywheels.commands._scaffold import plan_init

    with pytest.raises(ConfigError, match=r"needs a \[tool\.cibuildwheel\] table"):
        plan_init(load_config(fresh, env={}), from_cibuildwheel=True)
