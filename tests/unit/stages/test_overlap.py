"""The host sdist build beside the run's start (stages/_overlap.py) on the in-memory
engine: the plan and before-all run while the sdist builds; bad input, a failing
before-all or an interrupt stops the sdist build and nothing reaches dist-dir, the logs
or the record. The held log (stages/_sdist_gate.HeldLog) writes nothing before the
gate's check."""

from __future__ import annotations

import threading
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from manywheels._ui import UI
from manywheels.errors import BeforeAllError, PythonTagMissingError
from manywheels.naming import PythonTag
from manywheels.stages import _overlap
from manywheels.stages._run import Run
from manywheels.stages._sdist import SdistGate, SdistInfo, SdistStopped, read_sdist
from manywheels.stages._sdist_gate import HeldLog
from tests.fakes.engine import Call, Reply
from tests.unit.stages.test_orchestration import (
    IMAGE,
    engine_with,
    make_config,
    make_run,
    project,  # noqa: F401 - fixture
    write_sdist,
)


class Sdist:
    """A host sdist build that notes when it started, then waits for its gate."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.stopped = threading.Event()

    def __call__(self, run: Run, gate: SdistGate | None = None) -> SdistInfo:
        self.started.set()
        assert gate is not None
        try:
            gate.wait_open()
        except SdistStopped:
            self.stopped.set()
            raise
        return read_sdist(write_sdist(run.config.dist_dir))


def before_all(sdist: Sdist, *, code: int = 0, interrupt: bool = False,
               ) -> tuple[Callable[[Call], Reply | None], list[bool]]:
    """A handler whose before-all waits for the sdist build to have started (a generous
    deadline; ``seen`` says whether it had), then exits with ``code``."""
    seen: list[bool] = []

    def handler(call: Call) -> Reply | None:
        if "zlib-devel" not in (call.script or ""):
            return None
        seen.append(sdist.started.wait(timeout=60))
        if interrupt:
            raise KeyboardInterrupt
        return code, ["installing"]

    return handler, seen


def test_before_all_runs_while_the_sdist_builds(project: Path) -> None:  # noqa: F811
    sdist = Sdist()
    handler, seen = before_all(sdist)
    config = make_config(project, before_all="yum install -y zlib-devel")
    with make_run(config, engine_with(handler)) as run:
        info = _overlap.sdist_beside_start(run, sdist)
        assert seen == [True]
        assert info.path.parent == config.dist_dir and info.path.is_file()
        assert run.report.data["before_all"][IMAGE]["status"] == "ran"


@pytest.mark.parametrize("interrupt", [False, True], ids=["before-all fails", "Ctrl-C"])
def test_a_stop_in_before_all_stops_the_sdist(project: Path, interrupt: bool) -> None:  # noqa: F811
    sdist = Sdist()
    handler, seen = before_all(sdist, code=0 if interrupt else 3, interrupt=interrupt)
    config = make_config(project, before_all="yum install -y zlib-devel")
    expected = KeyboardInterrupt if interrupt else BeforeAllError
    with make_run(config, engine_with(handler)) as run:
        with pytest.raises(expected):
            _overlap.sdist_beside_start(run, sdist)
        assert seen == [True] and sdist.stopped.is_set()
        assert not list(config.dist_dir.glob("*.tar.gz"))
        assert "sdist" not in run.report.data


def test_bad_input_stops_the_sdist_before_it_writes(project: Path) -> None:  # noqa: F811
    """A tag the image lacks: the plan fails while the sdist builds; the build is stopped
    at its gate's check and leaves no log, no dist-dir and no record."""
    checked: list[bool] = []

    def build(run: Run, gate: SdistGate | None = None) -> SdistInfo:
        assert gate is not None
        try:
            gate.wait_checked()
        except SdistStopped:
            checked.append(False)
            raise
        checked.append(True)
        return read_sdist(write_sdist(run.config.dist_dir))

    config = make_config(project, python=(PythonTag(3, 99),))
    with make_run(config, engine_with()) as run:
        with pytest.raises(PythonTagMissingError, match="cp399"):
            _overlap.sdist_beside_start(run, build)
        assert checked == [False]
        assert not config.dist_dir.exists() and not config.output_dir.exists()
        assert "sdist" not in run.report.data


def test_without_before_all_the_plan_runs_beside_the_sdist(project: Path) -> None:  # noqa: F811
    threads: list[str] = []

    def build(run: Run, gate: SdistGate | None = None) -> SdistInfo:
        assert gate is not None
        threads.append(threading.current_thread().name)
        gate.wait_open()
        return read_sdist(write_sdist(run.config.dist_dir))

    with make_run(make_config(project), engine_with()) as run:
        info = _overlap.sdist_beside_start(run, build)
    assert threads and threads[0].startswith("mw-sdist")
    assert info.path.is_file()


def test_the_held_log_writes_nothing_before_the_check(tmp_path: Path) -> None:
    gate = SdistGate()
    log = tmp_path / "logs" / "sdist" / "sdist.log"
    log.parent.mkdir(parents=True)
    log.write_text("an older run's log\n")
    released: list[str] = []
    console = StringIO()
    ui = UI(Console(file=console, width=200), echo=True, live=False)
    with HeldLog(ui, log, gate, lambda: released.append("announced")) as sink:
        sink.note("python -m build --sdist")
        sink("line 1", "stdout")
        assert log.read_text() == "an older run's log\n" and not released
        assert console.getvalue() == ""
        gate.check()
        sink("line 2", "stdout")
        sink.release()
    assert released == ["announced"]
    assert log.read_text() == "+ python -m build --sdist\nline 1\nline 2\n"
    assert console.getvalue().splitlines() == ["+ python -m build --sdist", "line 1", "line 2"]


def test_a_stopped_gate_releases_nothing(tmp_path: Path) -> None:
    gate = SdistGate()
    log = tmp_path / "sdist.log"
    ui = UI(Console(file=StringIO(), width=200), echo=False, live=False)
    with HeldLog(ui, log, gate, lambda: None) as sink:
        sink("line", "stdout")
        gate.stop()
        with pytest.raises(SdistStopped):
            sink.release()
    assert not log.exists()
