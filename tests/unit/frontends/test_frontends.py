"""The stage registry and the front ends generated from it (nox sessions, invoke
collection, CLI subcommands), and the shared adapter's chain and error handling,
without a container engine."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nox
import pytest

import manywheels.invoke
import manywheels.nox
from manywheels.config import OPTIONS, load_config
from manywheels.errors import ConfigError, ExitCode, NothingToDoError, StageFailedError
from manywheels.frontends._adapter import (
    Chain,
    ChainFailedError,
    parse_stage_args,
    run_stage,
)
from manywheels.frontends._cli import build_parser
from manywheels.stages import CHAIN, STAGES, Stage, StageOption, stage_named
from manywheels.stages._registry import MIN_FREE_GIB
from manywheels.stages._run import Run
from manywheels.stages.troubleshoot import DEFAULT_MIN_FREE_GIB

NAMES = ["build", "repair", "test", "verify", "publish", "troubleshoot", "clean-cache"]


def test_the_registry() -> None:
    assert [stage.name for stage in STAGES] == NAMES
    assert [stage.name for stage in CHAIN] == ["build", "repair", "test"]
    assert all(stage.help.endswith(".") and "\n" not in stage.help for stage in STAGES)
    troubleshoot = stage_named("troubleshoot")
    assert [o.flag for o in troubleshoot.options] == ["--json", "--min-free-gib"]
    assert MIN_FREE_GIB == DEFAULT_MIN_FREE_GIB
    with pytest.raises(KeyError):
        stage_named("nope")


def test_stage_option_values() -> None:
    stage = stage_named("troubleshoot")
    assert stage.option_values({}) == {"json": False, "min_free_gib": DEFAULT_MIN_FREE_GIB}
    assert stage.option_values({"json": True, "min_free_gib": "2.5"}) == {
        "json": True, "min_free_gib": 2.5}
    for bad in ("lots", "-1", -0.5):
        with pytest.raises(ConfigError, match=r"^command line: --min-free-gib: got .*, "
                                              r"expected a number >= 0$"):
            stage.option_values({"min_free_gib": bad})


def test_posargs_are_parsed_once_with_the_stage_options() -> None:
    flags, options = parse_stage_args(stage_named("troubleshoot"),
                                      ["--json", "--python", "cp312", "--min-free-gib", "2"])
    assert flags == {"python": ["cp312"]}
    assert options == {"json": True, "min_free_gib": 2.0}
    with pytest.raises(ConfigError, match="unrecognized arguments: --json"):
        parse_stage_args(stage_named("build"), ["--json"])


def test_flags_layer_of_load_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    config = load_config(tmp_path, env={"MANYWHEELS_IMAGE": "env"},
                         flags={"python": ["cp311", "3.12"], "image": "flag", "jobs": None,
                                "fail_fast": True, "test-command": "true"})
    assert [t.tag for t in config.python or ()] == ["cp311", "cp312"]
    assert config.image == "flag" and config.sources["image"] == "command line"
    assert config.jobs is None and config.fail_fast and config.test_command == "true"
    with pytest.raises(ConfigError, match=r"jobs \(command line\)"):
        load_config(tmp_path, env={}, flags={"jobs": "zero"})
    with pytest.raises(ConfigError, match="unknown option 'bogus'"):
        load_config(tmp_path, env={}, flags={"bogus": 1})


# ------------------------------------------------------------------ generated front ends


def test_nox_sessions_come_from_the_registry(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nox.registry, "_REGISTRY", {})
    manywheels.nox.register("mw", project_dir=tmp_path)
    manywheels.nox.register("mw", project_dir=tmp_path)  # idempotent
    registered = nox.registry.get()
    assert list(registered) == [f"mw-{stage.name}" for stage in STAGES] + ["mw-shell", "mw"]
    assert registered["mw"].requires == ["mw-build", "mw-repair", "mw-test"]
    assert registered["mw-clean-cache"].__doc__ == stage_named("clean-cache").help
    for name in ("build", "repair", "test", "publish", "troubleshoot", "clean_cache"):
        assert callable(getattr(manywheels.nox, name))


def test_invoke_tasks_come_from_the_registry() -> None:
    ns = manywheels.invoke.ns
    assert sorted(ns.task_names) == sorted([*(stage.name for stage in STAGES), "all", "shell"])
    assert ns.default == "all"
    for stage in STAGES:
        task = ns[stage.name]
        params = inspect.signature(task.body).parameters
        for option in OPTIONS:
            assert option.attr in params, (stage.name, option.attr)
        for own in stage.options:
            assert own.name in params
            assert task.help[own.name] == own.help
    assert [call.task.name for call in ns["all"].pre] == ["build", "repair", "test"]


def test_cli_help_lists_the_stages_and_the_chain() -> None:
    result = subprocess.run([sys.executable, "-m", "manywheels", "--help"], text=True,
                            capture_output=True, check=True)
    for name in ["wheels", *(stage.name for stage in STAGES), "plan", "matrix", "init",
                 "export-script"]:
        assert f"\n    {name}" in result.stdout, name
    for stage in STAGES:
        assert stage.help.split()[0] in result.stdout
    sub = build_parser().parse_args(["troubleshoot", "--json", "--python", "cp312"])
    assert sub.json is True and sub.python == ["cp312"]


# ------------------------------------------------------------------ the adapter


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    return tmp_path


def _stage(name: str, error: Exception | None, calls: list[str]) -> Stage:
    def function(run: Run, options: Mapping[str, Any]) -> object:
        calls.append(f"{name}:{run.config.project_dir.name}:{dict(options)}")
        if error is not None:
            raise error
        return None

    return Stage(name, f"{name}.", function,
                 options=(StageOption("flag", "bool", False, "a switch"),))


def test_run_stage_success_and_options(project: Path) -> None:
    calls: list[str] = []
    failure = run_stage(_stage("a", None, calls), lambda: (load_config(project), {"flag": 1}))
    assert failure is None
    assert calls == [f"a:{project.name}:{{'flag': True}}"]


def test_run_stage_reports_bad_configuration_as_a_failure(project: Path) -> None:
    calls: list[str] = []

    def prepare() -> tuple[Any, Mapping[str, Any]]:
        return load_config(project, flags={"jobs": "0"}), {}

    failure = run_stage(_stage("a", None, calls), prepare)
    assert failure is not None and not failure.goes_on
    assert failure.code == ExitCode.CONFIG
    assert failure.line.startswith("manywheels: error: jobs (command line)")
    assert calls == []


def test_the_chain_goes_on_past_failed_identifiers_and_ends_with_1(project: Path) -> None:
    calls: list[str] = []
    chain = Chain()
    failed = StageFailedError("build", {"cp312-manylinux_x86_64": "boom"})
    stages = [_stage("build", failed, calls),
              _stage("repair", NothingToDoError("no raw wheels to repair"), calls),
              _stage("test", None, calls)]
    results = [run_stage(stage, lambda: (load_config(project), {}), chain=chain)
               for stage in stages]
    assert [r.goes_on if r else None for r in results] == [True, True, None]
    assert len(calls) == 3
    error = chain.finish()
    assert isinstance(error, ChainFailedError) and error.exit_code == ExitCode.STAGE_FAILED
    assert chain.finish() is None  # reset for the next chain


def test_other_errors_stop_the_chain_with_their_own_code(project: Path) -> None:
    chain = Chain()
    failure = run_stage(_stage("build", NothingToDoError("nothing"), []),
                        lambda: (load_config(project), {}), chain=chain)
    assert failure is not None and not failure.goes_on
    assert failure.code == ExitCode.NOTHING_TO_DO
    assert chain.finish() is None
