"""The pipelined chain (stages/_pipeline.py) on the in-memory engine: an identifier is
repaired and tested as soon as its own build passed, while another still builds; single
stages keep their barriers; failures keep the chain's behaviour."""

from __future__ import annotations

import re
import threading
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from manywheels.errors import EngineUnavailableError, StageFailedError
from manywheels.stages import _pipeline
from manywheels.stages._run import Run
from manywheels.stages.repair import repair
from manywheels.stages.test import test as stage_test
from tests.fakes.engine import Call, Reply
from tests.unit.stages.test_orchestration import (
    KIND,
    Builder,
    build_stage,
    engine_with,
    host_sdist,  # noqa: F401 - fixture
    make_config,
    make_run,
    project,  # noqa: F401 - fixture
)

FIRST, SECOND = f"cp312-{KIND}", f"cp313-{KIND}"
TEST = re.compile(r"test the repaired wheel of (\S+) in a fresh")


class Recorder(Builder):
    """A :class:`Builder` that also answers test scripts, notes the order of events
    (``build-start cp312…``, ``build-end …``, ``test …``) and holds the build of
    ``held`` until the test of ``release`` started (or a generous deadline passed:
    then ``released`` stays unset and the test fails on the order, not on time)."""

    def __init__(self, held: str | None = None, release: str | None = None,
                 fail: str | None = None, fail_test: str | None = None) -> None:
        super().__init__(fail=fail)
        self.held, self.release, self.fail_test = held, release, fail_test
        self.events: list[str] = []
        self.released = threading.Event()

    def note(self, event: str) -> None:
        with self.lock:
            self.events.append(event)

    def __call__(self, call: Call) -> Reply | None:
        script = call.script or ""
        if (match := TEST.search(script)) is not None:
            identifier = match.group(1)
            self.note(f"test {identifier}")
            if identifier == self.release:
                self.released.set()
            return (1, ["AssertionError: boom"]) if identifier == self.fail_test else (0, ["ok"])
        if (match := self.BUILD.search(script)) is not None:
            identifier = match.group(1)
            self.note(f"build-start {identifier}")
            if identifier == self.held:
                self.released.wait(timeout=60)
            reply = self.build(call, identifier)
            self.note(f"build-end {identifier}")
            return reply
        return super().__call__(call)


def chain(run: Run) -> list[Any]:
    """The chain as the front ends run it: request, then build, repair, test; errors of
    identifiers that failed let it go on."""
    results: list[Any] = []
    _pipeline.request(run)
    for stage in (build_stage.build, repair, stage_test):
        try:
            results.append(stage(run))
        except StageFailedError as error:  # noqa: PERF203 - one per stage
            results.append(error)
    return results


def test_an_identifiers_test_starts_before_anothers_build_ends(
        project: Path, host_sdist: list[Path]) -> None:  # noqa: F811
    recorder = Recorder(held=SECOND, release=FIRST)
    config = make_config(project, test_command="python -c 'import purepkg'")
    with make_run(config, engine_with(recorder)) as run:
        build, repaired, tested = chain(run)
        assert recorder.released.is_set()
        events = recorder.events
        assert events.index(f"test {FIRST}") < events.index(f"build-end {SECOND}")
        for result, stage in ((build, "build"), (repaired, "repair"), (tested, "test")):
            assert [(row.identifier, row.status) for row in result.rows] == [
                (FIRST, "passed"), (SECOND, "passed")], stage
        # The record is the one the stages make one after another.
        for identifier in (FIRST, SECOND):
            stages = run.report.targets[identifier]["stages"]
            assert {stage: stages[stage]["status"] for stage in stages} == {
                "build": "passed", "repair": "passed", "test": "passed"}
            assert stages["repair"]["source"] == stages["build"]["wheel"]
            assert stages["test"]["wheel"] == stages["repair"]["wheel"]
            assert set(stages["test"]["timing"]) == {"wall_s", "command_s", "tool_s", "commands"}


def test_single_stages_keep_their_barrier(project: Path, host_sdist: list[Path]) -> None:  # noqa: F811
    recorder = Recorder()
    config = make_config(project, test_command="python -c 'import purepkg'")
    with make_run(config, engine_with(recorder)) as run:
        build_stage.build(run)
        built = list(recorder.events)
        assert sorted(built) == sorted([f"build-start {FIRST}", f"build-end {FIRST}",
                                        f"build-start {SECOND}", f"build-end {SECOND}"])
        repair(run)
        assert recorder.events == built  # repair ran no test
        stage_test(run)
        assert recorder.events[len(built):] in (
            [f"test {FIRST}", f"test {SECOND}"], [f"test {SECOND}", f"test {FIRST}"])


def test_failures_keep_the_chains_behaviour(project: Path, host_sdist: list[Path]) -> None:  # noqa: F811
    """A failed build is neither repaired nor tested; a failed test fails the test stage;
    the others pass; each stage raises StageFailedError naming its own failures."""
    recorder = Recorder(fail="cp313", fail_test=FIRST)
    config = make_config(project, test_command="python -c 'import purepkg'")
    with make_run(config, engine_with(recorder)) as run:
        build, repaired, tested = chain(run)
        assert isinstance(build, StageFailedError) and list(build.failures) == [SECOND]
        assert [(row.identifier, row.status) for row in repaired.rows] == [
            (FIRST, "passed")]
        assert isinstance(tested, StageFailedError) and list(tested.failures) == [FIRST]
        assert "exit code 1" in tested.failures[FIRST]
        assert f"test {SECOND}" not in recorder.events
        assert run.report.targets[SECOND]["stages"] == {
            "build": run.report.targets[SECOND]["stages"]["build"]}
        assert run.report.stage(FIRST, "test")["status"] == "failed"


def test_without_a_test_command_the_test_stage_runs_as_a_stage(
        project: Path, host_sdist: list[Path]) -> None:  # noqa: F811
    recorder = Recorder()
    config = make_config(project)
    with make_run(config, engine_with(recorder)) as run:
        _, repaired, tested = chain(run)
        assert [row.status for row in repaired.rows] == ["passed", "passed"]
        assert [row.status for row in tested.rows] == ["skipped", "skipped"]
        assert run.report.stage(FIRST, "test")["reason"] == "no test-command"


def test_fail_fast_is_not_pipelined(project: Path, host_sdist: list[Path]) -> None:  # noqa: F811
    recorder = Recorder()
    config = make_config(project, fail_fast=True, test_command="true")
    with make_run(config, engine_with(recorder)) as run:
        _pipeline.request(run)
        build_stage.build(run)
        assert not any(event.startswith("test") for event in recorder.events)
        assert [row.status for row in repair(run).rows] == ["passed", "passed"]
        assert [row.status for row in stage_test(run).rows] == ["passed", "passed"]


@pytest.mark.parametrize(("argv", "env", "expected"), [
    (["-s", "wheels"], {}, True),
    (["--session", "wheels-build", "wheels"], {}, True),
    (["-s", "wheels-build"], {}, False),
    (["--sessions=wheels-build,wheels"], {}, True),
    (["-e", "wheels-test"], {}, False),
    ([], {"NOXSESSION": "wheels"}, True),
    (["-s", "mw"], {}, False),
])
def test_nox_asks_for_the_chain(argv: list[str], env: dict[str, str], expected: bool) -> None:
    from manywheels.frontends._nox import chain_requested

    assert chain_requested("wheels", argv, env) is expected


def test_an_engine_gone_in_a_pipelined_job_stops_the_chain(
        project: Path, host_sdist: list[Path]) -> None:  # noqa: F811
    recorder = Recorder()

    def handler(call: Call) -> Reply | None:
        if "repair the raw wheel of" in (call.script or ""):
            msg = "the container engine at unix:///nowhere went away"
            raise EngineUnavailableError(msg)
        return recorder(call)

    config = make_config(project, test_command="true")
    with make_run(config, engine_with(handler)) as run:
        _pipeline.request(run)
        build_stage.build(run)
        with pytest.raises(EngineUnavailableError, match="went away"):
            repair(run)
        assert not [t for t in threading.enumerate() if t.name.startswith("mw-pipeline")]
        assert not any(event.startswith("test") for event in recorder.events)


def test_stray_wheels_are_named_as_the_stages_name_them(
        project: Path, host_sdist: list[Path]) -> None:  # noqa: F811
    console = StringIO()
    config = make_config(project, test_command="true")
    config.dist_dir.mkdir(parents=True)
    (config.dist_dir / "other-1.0-cp312-cp312-linux_x86_64.whl").write_bytes(b"PK stray")
    with make_run(config, engine_with(Recorder()), console) as run:
        chain(run)
    text = console.getvalue()
    assert text.count("ignoring 1 file(s)") == 1
    assert "other-1.0-cp312-cp312-linux_x86_64.whl" in text


class PureBuilder(Recorder):
    """Builds a pure-Python wheel: one identifier builds, the other reuses it."""

    def build(self, call: Call, identifier: str) -> Reply:
        out = f"/manywheels/{identifier}/dist"
        call.fs.write(f"{out}/purepkg-1.0.0-py3-none-any.whl", b"pure wheel")
        return 0, [f"{out}/purepkg-1.0.0-py3-none-any.whl"]


def test_a_shared_wheel_is_repaired_once_and_tested_on_each(
        project: Path, host_sdist: list[Path]) -> None:  # noqa: F811
    recorder = PureBuilder()
    config = make_config(project, test_command="true")
    with make_run(config, engine_with(recorder)) as run:
        build, repaired, tested = chain(run)
        for result in (build, repaired, tested):
            assert [row.status for row in result.rows] == ["passed", "passed"]
        targets = run.report.targets
        (reuser,) = [i for i, t in targets.items() if "reused_from" in t["stages"]["build"]]
        (source,) = set(targets) - {reuser}  # whichever built first (built concurrently)
        stages = targets[reuser]["stages"]
        assert stages["build"]["reused_from"] == source
        assert stages["repair"]["reused_from"] == source
        assert sorted(e for e in recorder.events if e.startswith("test")) == [
            f"test {FIRST}", f"test {SECOND}"]
