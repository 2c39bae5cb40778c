"""Startup cost, pinned by structure (never by time): the front ends and the paths that start
no engine import neither ``docker`` (with ``requests``/``urllib3``) nor ``jinja2``, nor the
run and its stages; the CLI imports ``rich`` only once a command runs; an engine created
through :func:`manywheels.engine.connect` does import ``docker``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import manywheels.engine

HEAVY = ("docker", "requests", "urllib3", "jinja2")
"""Third-party packages imported only when an engine or a template is used."""

RUN_MODULES = ("manywheels.engine._docker", "manywheels.stages._run", "manywheels.stages.build",
               "manywheels.stages.repair", "manywheels.stages.test")
"""Our own modules imported only when a stage runs."""


def _loaded_after(code: str) -> set[str]:
    """The top-level packages and manywheels modules in ``sys.modules`` after ``code``, run in
    a fresh interpreter."""
    report = ("import sys; print('\\n'.join(m for m in sys.modules "
              "if '.' not in m or m.startswith('manywheels.')))")
    out = subprocess.run([sys.executable, "-c", f"{code}\n{report}"], capture_output=True,
                         text=True, check=True).stdout
    return set(out.split())


def _imported_by_command(args: list[str], cwd: Path) -> tuple[int, set[str]]:
    """The exit code of ``python -m manywheels ARGS`` and every module it imported (read from
    ``-X importtime``, which names each module on stderr)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "manywheels", *args],
                          cwd=cwd, capture_output=True, text=True, check=False)
    modules = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:") and line.count("|") == 2}
    return done.returncode, modules


@pytest.mark.parametrize("module", ["manywheels.nox", "manywheels.invoke",
                                    "manywheels.frontends._cli", "manywheels.__main__"])
def test_importing_a_front_end_starts_nothing_heavy(module: str) -> None:
    loaded = _loaded_after(f"import {module}")
    assert module in loaded  # the report itself works
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert loaded.isdisjoint(RUN_MODULES), sorted(loaded & set(RUN_MODULES))


def test_the_cli_imports_rich_only_for_a_command() -> None:
    assert "rich" not in _loaded_after("import manywheels.frontends._cli")


def test_help_and_a_configuration_error_import_no_engine(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.12"\n')
    code, modules = _imported_by_command(["--help"], tmp_path)
    assert code == 0
    assert "manywheels.frontends._cli" in modules  # importtime was read
    assert modules.isdisjoint({*HEAVY, *RUN_MODULES, "rich"}), sorted(
        modules & {*HEAVY, *RUN_MODULES, "rich"})

    code, modules = _imported_by_command(["build", "--archs", "bogus"], tmp_path)
    assert code == 2  # ExitCode.CONFIG
    assert "manywheels.config._load" in modules
    assert modules.isdisjoint({*HEAVY, *RUN_MODULES}), sorted(modules & {*HEAVY, *RUN_MODULES})


def test_the_docker_names_are_there_when_asked_for() -> None:
    loaded = _loaded_after(
        "import manywheels.engine as e\n"
        "from manywheels.engine._docker import DockerContainer, DockerEngine\n"
        "assert e.DockerEngine is DockerEngine and e.DockerContainer is DockerContainer")
    assert "docker" in loaded
    with pytest.raises(AttributeError, match="no attribute 'bogus'"):
        _ = manywheels.engine.bogus


def test_connect_imports_docker() -> None:
    # an engine that is not there: the connection fails, but only after docker was imported
    loaded = _loaded_after(
        "import manywheels.engine as e\n"
        "from manywheels.errors import EngineUnavailableError\n"
        "try:\n"
        "    e.connect({'DOCKER_HOST': 'unix:///nonexistent/manywheels-test.sock'})\n"
        "except EngineUnavailableError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('connected to a socket that does not exist')")
    assert "docker" in loaded
