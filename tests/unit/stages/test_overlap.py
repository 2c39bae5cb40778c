"""The host sdist build beside before-all (stages/_overlap.py) on the in-memory engine:
before-all runs while the sdist builds; a failing before-all or an interrupt stops the
sdist build and nothing reaches dist-dir or the record."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from manywheels.errors import BeforeAllError
from manywheels.stages import _overlap
from manywheels.stages._run import Run
from manywheels.stages._sdist import SdistGate, SdistInfo, SdistStopped, read_sdist
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
        run.plan(None)
        info = _overlap.sdist_beside_before_all(run, sdist)
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
        run.plan(None)
        with pytest.raises(expected):
            _overlap.sdist_beside_before_all(run, sdist)
        assert seen == [True] and sdist.stopped.is_set()
        assert not list(config.dist_dir.glob("*.tar.gz"))
        assert "sdist" not in run.report.data


def test_without_before_all_the_sdist_builds_here(project: Path) -> None:  # noqa: F811
    threads: list[str] = []

    def build(run: Run) -> SdistInfo:
        threads.append(threading.current_thread().name)
        return read_sdist(write_sdist(run.config.dist_dir))

    with make_run(make_config(project), engine_with()) as run:
        run.plan(None)
        _overlap.sdist_beside_before_all(run, build)
    assert threads == [threading.main_thread().name]
