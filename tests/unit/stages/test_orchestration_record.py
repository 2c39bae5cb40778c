# ruff: noqa: F811 - the fixtures imported from test_orchestration are parameters here
"""Record-driven planning on the in-memory engine (no container engine: ``DOCKER_HOST``
points nowhere): repair and test take only the current sdist's recorded wheels, stale and
stray files are ignored, `--python` narrows and names a tag never built, another
project's record is refused, a pure wheel is built once and tested per identifier."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest

from manywheels.errors import ExitCode, ForeignRecordError, NotBuiltError, NothingToDoError
from manywheels.stages._run import Run
from manywheels.stages.build import SdistInfo
from manywheels.stages.repair import repair
from manywheels.stages.test import test as stage_test
from tests.fakes.engine import Call, Reply
from tests.unit.stages.test_orchestration import (
    KIND,
    Builder,
    _no_engine,  # noqa: F401 - an autouse fixture
    build_stage,
    engine_with,
    host_sdist,  # noqa: F401 - a fixture
    make_config,
    make_run,
    project,  # noqa: F401 - a fixture
)

TESTED = re.compile(r"test the repaired wheel of (\S+) in a fresh")


class Stages(Builder):
    """Builder that also answers test scripts (recording which wheel each tested)."""

    def __init__(self, fail: str | None = None, *, pure: bool = False) -> None:
        super().__init__(fail)
        self.pure = pure
        self.tested: list[tuple[str, str]] = []

    def __call__(self, call: Call) -> Reply | None:
        script = call.script or ""
        if (match := TESTED.search(script)) is not None:
            identifier = match.group(1)
            (wheel,) = call.fs.listdir(f"/manywheels/{identifier}/test")
            with self.lock:
                self.tested.append((identifier, wheel))
            return 0, ["ok"]
        return super().__call__(call)

    def build(self, call: Call, identifier: str) -> Reply:
        if not self.pure:
            return super().build(call, identifier)
        with self.lock:
            self.sdists.append(call.fs.listdir("/manywheels/sdist"))
        out = f"/manywheels/{identifier}/dist"
        call.fs.write(f"{out}/purepkg-1.0.0-py3-none-any.whl", b"pure")
        return 0, [f"{out}/purepkg-1.0.0-py3-none-any.whl"]


def test_repair_and_test_take_only_the_recorded_wheels_of_the_current_sdist(
        project: Path, host_sdist: list[Path]) -> None:
    tester = Stages()
    engine = engine_with(tester)
    config = make_config(project, test_command="python -c pass")
    console = StringIO()
    with make_run(config, engine, console) as run:
        build_stage.build(run)
        stray = config.dist_dir / "other-1.0-cp312-cp312-linux_x86_64.whl"
        stray.write_bytes(b"not a wheel")
        stale = config.output_dir / "purepkg-0.9-cp312-cp312-manylinux_2_28_x86_64.whl"
        stale.parent.mkdir(parents=True, exist_ok=True)
        stale.write_bytes(b"old")
        repaired = repair(run)
        tested = stage_test(run)
    assert [r.status for r in repaired.rows] == ["passed", "passed"]
    assert sorted(i for i, _ in tester.tested) == [f"cp312-{KIND}", f"cp313-{KIND}"]
    assert all("purepkg-1.0.0" in wheel for _, wheel in tester.tested)
    assert [r.status for r in tested.rows] == ["passed", "passed"]
    text = console.getvalue()
    assert stray.name in text and stale.name in text  # named in one warning each
    assert stray.read_bytes() == b"not a wheel" and stale.read_bytes() == b"old"


def test_a_new_sdist_makes_the_older_wheels_stale(project: Path, host_sdist: list[Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    engine = engine_with(Stages())
    with make_run(make_config(project), engine) as run:
        build_stage.build(run)
        repair(run)
    # The project changes: a new sdist (another sha256), cp313 only.
    original = build_stage.build_sdist

    def changed(run_: Run, gate: object = None) -> SdistInfo:
        info: SdistInfo = original(run_, gate)
        info.path.write_bytes(info.path.read_bytes() + b"\0")  # another sha256
        return info

    monkeypatch.setattr(build_stage, "build_sdist", changed)
    with make_run(make_config(project, python=["cp313"]), engine_with(Stages())) as run:
        build_stage.build(run)
        result = repair(run)
        assert [r.identifier for r in result.rows] == [f"cp313-{KIND}"]
        assert not run.report.is_current(f"cp312-{KIND}")
        assert sorted(run.report.current("repair")) == [f"cp313-{KIND}"]


def test_python_narrows_and_a_tag_never_built_is_exit_7(project: Path,
                                                        host_sdist: list[Path]) -> None:
    with make_run(make_config(project), engine_with(Stages())) as run:
        build_stage.build(run)
    with make_run(make_config(project, python=["cp313"]), engine_with(Stages())) as run:
        assert [r.identifier for r in repair(run).rows] == [f"cp313-{KIND}"]
    with make_run(make_config(project, python=["cp39"]), engine_with(Stages())) as run, \
            pytest.raises(NotBuiltError, match="cp39") as caught:
        repair(run)
    assert caught.value.exit_code == ExitCode.NOTHING_TO_DO


def test_a_failed_identifier_is_left_out_not_an_error(project: Path,
                                                      host_sdist: list[Path]) -> None:
    with make_run(make_config(project, python=["cp312", "cp313"]),
                  engine_with(Stages(fail="cp313"))) as run:
        with pytest.raises(Exception, match="build failed"):
            build_stage.build(run)
        assert [r.identifier for r in repair(run).rows] == [f"cp312-{KIND}"]


def test_nothing_recorded_is_nothing_to_do(project: Path) -> None:
    with make_run(make_config(project), engine_with(Stages())) as run, \
            pytest.raises(NothingToDoError, match="no raw wheels to repair in dist-dir"):
        repair(run)


def test_another_projects_record_is_refused_unless_replaced(
        project: Path, tmp_path: Path, host_sdist: list[Path]) -> None:
    shared = tmp_path / "shared"
    with make_run(make_config(project, output_dir=str(shared)), engine_with(Stages())) as run:
        build_stage.build(run)
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "other"\nversion = "1"\n')
    before = (shared / "manywheels-report.json").read_bytes()
    with make_run(make_config(other, output_dir=str(shared)), engine_with(Stages())) as run, \
            pytest.raises(ForeignRecordError, match="another project") as caught:
        build_stage.build(run)
    assert caught.value.exit_code == ExitCode.CONFIG
    assert (shared / "manywheels-report.json").read_bytes() == before
    assert not (other / "dist").exists()
    config = make_config(other, output_dir=str(shared), replace_record=True)
    with make_run(config, engine_with(Stages())) as run:
        build_stage.build(run)
        assert run.report.project.project_dir == str(other)


def test_a_pure_wheel_is_built_once_and_tested_with_every_interpreter(
        project: Path, host_sdist: list[Path]) -> None:
    tester = Stages(pure=True)
    config = make_config(project, jobs=1, test_command="python -c pass")
    with make_run(config, engine_with(tester)) as run:
        build_stage.build(run)
        repair(run)
        stage_test(run)
        builds = {i: run.report.stage(i, "build") for i in run.report.current("build")}
    assert len(tester.sdists) == 1  # built once
    assert [b.get("reused_from") for b in builds.values()] == [None, f"cp312-{KIND}"]
    assert sorted(tester.tested) == [(f"cp312-{KIND}", "purepkg-1.0.0-py3-none-any.whl"),
                                     (f"cp313-{KIND}", "purepkg-1.0.0-py3-none-any.whl")]
