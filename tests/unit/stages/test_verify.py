"""wheels-verify's comparison: the differing members of two wheels, and a recorded sdist
that is gone (exit 7) on the in-memory engine."""

from __future__ import annotations

import io
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from manywheels._ui import UI
from manywheels.errors import NothingToDoError, StageFailedError
from manywheels.stages._run import Run
from manywheels.stages.repair import repair
from manywheels.stages.verify import differing_members, verify
from tests.fakes.engine import Call, Reply
from tests.unit.stages.test_orchestration import (
    KIND,
    NOWHERE,
    Builder,
    build_stage,
    engine_with,
    host_sdist,  # noqa: F401 - fixture
    make_config,
    project,  # noqa: F401 - fixture
)


def zipped(path: Path, files: list[tuple[str, bytes]], *, when: int = 2020) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files:
            archive.writestr(zipfile.ZipInfo(name, date_time=(when, 1, 1, 0, 0, 0)), data)
    path.write_bytes(buffer.getvalue())
    return path


def test_the_differing_members_are_named(tmp_path: Path) -> None:
    base = [("p/__init__.py", b""), ("p/_t.py", b"T = 1\n"), ("p-1.dist-info/RECORD", b"")]
    recorded = zipped(tmp_path / "a.whl", base)
    changed = [("p/__init__.py", b""), ("p/_t.py", b"T = 2\n"), ("p/new.py", b""),
               ("p-1.dist-info/RECORD", b"")]
    assert differing_members(recorded, zipped(tmp_path / "b.whl", changed)) == [
        "p/_t.py", "p/new.py (only in the rebuild)"]
    assert differing_members(recorded, zipped(tmp_path / "c.whl", base[:2])) == [
        "p-1.dist-info/RECORD (only in the recorded wheel)"]
    assert differing_members(recorded, zipped(tmp_path / "d.whl", base, when=2021)) == [
        "p-1.dist-info/RECORD (zip metadata)", "p/__init__.py (zip metadata)",
        "p/_t.py (zip metadata)"]
    assert differing_members(recorded, zipped(tmp_path / "e.whl", base[::-1])) == [
        "entry order"]


@pytest.mark.usefixtures("host_sdist")
def test_a_recorded_sdist_that_is_gone_is_nothing_to_verify(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    config = make_config(project, python=["cp312"])
    ui = UI(Console(file=StringIO(), width=300), echo=False, live=False)
    with Run(config, ui, engine=engine_with(Builder()),
             host_env={"DOCKER_HOST": NOWHERE}) as run:
        build_stage.build(run)
        repair(run)
        sdist = config.dist_dir / str(run.report.project.sdist)
        sdist.write_bytes(b"changed")
        with pytest.raises(NothingToDoError, match=r"the recorded sdist .* is missing or "
                           "changed since it was built"):
            verify(run)


class Stamping(Builder):
    """Builds whose wheel holds a counter: every build differs (from the second one on,
    when ``stamp`` is set)."""

    def __init__(self, *, stamp: bool) -> None:
        super().__init__()
        self.stamp, self.builds = stamp, 0

    def build(self, call: Call, identifier: str) -> Reply:
        code, lines = super().build(call, identifier)
        self.builds += 1
        if self.stamp:
            (raw,) = call.fs.listdir(f"/manywheels/{identifier}/dist")
            path = f"/manywheels/{identifier}/dist/{raw}"
            call.fs.write(path, call.fs.read(path) + str(self.builds).encode())
        return code, lines


@pytest.mark.usefixtures("host_sdist")
@pytest.mark.parametrize("stamp", [False, True])
def test_verify_rebuilds_in_fresh_containers_and_compares(
        project: Path, monkeypatch: pytest.MonkeyPatch, stamp: bool) -> None:  # noqa: F811
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    config = make_config(project, python=["cp312"], cache=True)
    builder = Stamping(stamp=stamp)
    engine = engine_with(builder)
    ui = UI(Console(file=StringIO(), width=300), echo=False, live=False)
    host = {"DOCKER_HOST": NOWHERE, "SOURCE_DATE_EPOCH": "1700000000"}
    with Run(config, ui, engine=engine, host_env=host) as run:
        build_stage.build(run)
        repair(run)
    # Later, another SOURCE_DATE_EPOCH on the host: the rebuild uses the recorded one.
    with Run(config, ui, engine=engine, host_env={**host, "SOURCE_DATE_EPOCH": "5"}) as run:
        if stamp:
            with pytest.raises(StageFailedError) as caught:
                verify(run)
            (reason,) = caught.value.failures.values()
            assert "differs from the rebuild" in reason and "not comparable" in reason
        else:
            result = verify(run)
            assert [row.status for row in result.rows] == ["passed"]
        target = run.report.target(f"cp312-{KIND}")
    assert builder.builds == 2
    first, fresh = engine.containers  # the rebuild had its own container, caches off
    assert first.volumes and not fresh.volumes
    assert fresh.env["SOURCE_DATE_EPOCH"] == first.env["SOURCE_DATE_EPOCH"] == "1700000000"
    assert target is not None
    assert target.stages["verify"].status == ("failed" if stamp else "passed")
    assert (config.output_dir / "verify" / "wheelhouse" / "manywheels-report.json").is_file()
