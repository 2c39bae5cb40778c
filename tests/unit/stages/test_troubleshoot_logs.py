"""Troubleshoot reads only the logs the run record names: a log directory under
``<output-dir>/logs`` that the record does not name (an old identifier, a before-all of
another platform, a copied-in sdist log) gives no finding. On the in-memory engine."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.diagnose import diagnose
from manywheels.errors import BeforeAllError
from manywheels.stages._before_all import run_before_all
from manywheels.stages._run import Run
from manywheels.stages._sdist import SDIST_LOG, SDIST_SECTION
from manywheels.stages._troubleshoot_files import stage_logs
from manywheels.stages.troubleshoot import gather
from tests.fakes.engine import Call, FakeEngine, FakeImage, Reply

IMAGE = "quay.io/pypa/manylinux_2_28_x86_64"
OTHER = "quay.io/pypa/manylinux_2_28_aarch64"
ID = "cp312-manylinux_x86_64"
STRAY = "cp27-manylinux_x86_64"
NOWHERE = "unix:///nonexistent.sock"
DATA = Path(__file__).resolve().parents[1] / "data" / "diagnose"
HEADER_LOG = (DATA / "missing-header.build.log").read_text()
UNKNOWN_PACKAGE = "Reading package lists...\nE: Unable to locate package libfrob-devel\n"


@pytest.fixture(autouse=True)
def _no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)


def _dnf(call: Call) -> Reply | None:
    if call.script and "command -v $m" in call.script:
        return 0, ["dnf"]
    return None


def _run(tmp_path: Path) -> Run:
    project = tmp_path / "pkg"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "pkg"\nversion = "1.0.0"\nrequires-python = ">=3.9"\n')
    config = load_config(project, env={}, overrides={"image": IMAGE, "cache": False})
    ui = UI(Console(file=StringIO(), width=300), echo=False, live=False)
    engine = FakeEngine([FakeImage(IMAGE)], handler=_dnf)
    return Run(config, ui, engine=engine, host_env={"DOCKER_HOST": NOWHERE})


def _write(output: Path, relative: str, text: str) -> None:
    path = output / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _record_failed_build(run: Run) -> None:
    run.report.set_project(sdist="pkg-1.0.0.tar.gz", sdist_sha256="0" * 64)
    run.report.set_target(ID, python="cp312", image=IMAGE, sdist_sha256="0" * 64)
    run.report.record(ID, "build", status="failed", log=f"logs/{ID}/build.log")
    _write(run.config.output_dir, f"logs/{ID}/build.log", HEADER_LOG)


def _strays(output: Path) -> None:
    """Logs nobody recorded, each of which would give a finding if it were read."""
    _write(output, f"logs/{STRAY}/build.log", HEADER_LOG)
    _write(output, "logs/before-all/before-all.log", UNKNOWN_PACKAGE)
    _write(output, "logs/before-all-manylinux_aarch64/before-all.log", UNKNOWN_PACKAGE)
    _write(output, SDIST_LOG, HEADER_LOG)


def test_a_stray_log_directory_next_to_a_recorded_one_gives_no_finding(tmp_path: Path) -> None:
    with _run(tmp_path) as run:
        _record_failed_build(run)
        _strays(run.config.output_dir)
        logs = stage_logs(run)
        findings = diagnose(gather(run))
    assert [(log.identifier, log.stage, log.path, log.status) for log in logs] == [
        (ID, "build", f"logs/{ID}/build.log", "failed")]
    headers = [f for f in findings if f.check == "missing-header"]
    assert [(f.identifier, f.log) for f in headers] == [(ID, f"logs/{ID}/build.log")]
    named = {f.log for f in findings if f.log}
    assert named == {f"logs/{ID}/build.log"}, findings
    assert not [f for f in findings if f.check == "before-all-package"]


def test_the_stray_logs_are_read_once_the_record_names_them(tmp_path: Path) -> None:
    # the same files, now recorded: the restriction is the record, not the file names
    with _run(tmp_path) as run:
        _record_failed_build(run)
        _strays(run.config.output_dir)
        run.report.set_section("before_all", IMAGE, status="failed",
                               log="logs/before-all/before-all.log")
        run.report.set_section(SDIST_SECTION, "build", status="passed", log=SDIST_LOG)
        logs = stage_logs(run)
        findings = diagnose(gather(run))
        failed = stage_logs(run, stage="before-all")
    assert {(log.stage, log.path, log.status) for log in logs} == {
        ("build", f"logs/{ID}/build.log", "failed"),
        ("before-all", "logs/before-all/before-all.log", "failed"),
        ("sdist", SDIST_LOG, "passed"),
    }
    assert [log.path for log in failed] == ["logs/before-all/before-all.log"]
    packages = [f for f in findings if f.check == "before-all-package"]
    assert [f.log for f in packages] == ["logs/before-all/before-all.log"]


def test_only_what_the_record_says_ran_for_this_runs_images(tmp_path: Path) -> None:
    with _run(tmp_path) as run:
        _record_failed_build(run)
        output = run.config.output_dir
        _strays(output)
        # another image's before-all (not an image of this run), and a cached one (nothing
        # ran: the log on disk is an older run's)
        run.report.set_section("before_all", OTHER, status="failed",
                               log="logs/before-all-manylinux_aarch64/before-all.log")
        run.report.set_section("before_all", IMAGE, status="cached", image="x",
                               log="logs/before-all/before-all.log")
        # a build that reused another's wheel has no log of its own: an old one is not read
        run.report.set_target("cp313-manylinux_x86_64", python="cp313", image=IMAGE,
                              sdist_sha256="0" * 64)
        run.report.record("cp313-manylinux_x86_64", "build", status="passed",
                          reused_from=ID)
        _write(output, "logs/cp313-manylinux_x86_64/build.log", HEADER_LOG)
        # a record naming a file outside <output-dir>/logs is not followed
        run.report.set_target("cp311-manylinux_x86_64", python="cp311", image=IMAGE,
                              sdist_sha256="0" * 64)
        run.report.record("cp311-manylinux_x86_64", "build", status="failed",
                          log="../outside.log")
        _write(output.parent, "outside.log", HEADER_LOG)
        logs = stage_logs(run)
    assert [log.path for log in logs] == [f"logs/{ID}/build.log"]


def test_a_failed_before_all_is_recorded_with_its_log(tmp_path: Path) -> None:
    def fail(call: Call) -> Reply | None:
        if call.script and "mw-frob" in call.script:
            return 100, ["E: Unable to locate package libfrob-devel"]
        return _dnf(call)

    with _run(tmp_path) as run:
        engine = run.engine
        assert isinstance(engine, FakeEngine)
        engine.handler = fail
        with engine.container(IMAGE) as container, pytest.raises(BeforeAllError):
            run_before_all(run, IMAGE, container, "echo mw-frob; apt-get install -y libfrob-devel")
        section = run.report.data["before_all"][IMAGE]
        logs = stage_logs(run, stage="before-all")
    assert section["status"] == "failed"
    assert section["log"] == "logs/before-all/before-all.log"
    assert [(log.path, log.status) for log in logs] == [
        ("logs/before-all/before-all.log", "failed")]
    assert "libfrob-devel" in logs[0].text
