"""The CI job summary: each stage appends a markdown table to ``$GITHUB_STEP_SUMMARY``
(rendering, run_jobs, and build + repair on the in-memory engine)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from manywheels._ui import UI, SummaryRow
from manywheels.errors import StageFailedError
from manywheels.stages._common import Job, run_jobs
from manywheels.stages._run import Run
from manywheels.stages._step_summary import render_step_summary
from manywheels.stages.repair import repair
from manywheels.stages.test import test as stage_test
from tests.unit.stages.test_orchestration import (
    KIND,
    NOWHERE,
    PLAT,
    Builder,
    build_stage,
    engine_with,
    host_sdist,  # noqa: F401 - fixture
    make_config,
    project,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.usefixtures("_no_engine_here")


@pytest.fixture
def _no_engine_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)


def run_with_summary(config: object, engine: object, summary: Path | None) -> Run:
    env = {"DOCKER_HOST": NOWHERE}
    if summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(summary)
    ui = UI(Console(file=StringIO(), width=300), echo=False, live=False)
    return Run(config, ui, engine=engine, host_env=env)  # type: ignore[arg-type]


def test_render_is_one_heading_and_a_row_per_identifier() -> None:
    rows = [SummaryRow("cp312-x", "passed", 2.345, "ok"),
            SummaryRow("cp313-x", "failed", None, "exit 1 | boom")]
    text = render_step_summary("build", rows, {"cp312-x": ("p-1-cp312.whl", "ab" * 32)})
    lines = text.splitlines()
    assert lines[0] == "### manywheels: build"
    assert lines[2] == "| identifier | status | seconds | wheel | sha256 |"
    assert lines[4] == f"| cp312-x | passed | 2.3 | `p-1-cp312.whl` | `{'ab' * 32}` |"
    assert lines[5] == "| cp313-x | failed |  |  |  |"
    assert text.endswith("\n\n")


def test_run_jobs_appends_never_truncates(project: Path, tmp_path: Path) -> None:  # noqa: F811
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    run = run_with_summary(make_config(project), engine_with(), summary)
    run_jobs(run, "build", [Job("a", lambda: "ok")])
    run_jobs(run, "repair", [Job("a", lambda: "ok")])
    text = summary.read_text()
    assert text.startswith("earlier step\n")
    assert text.count("### manywheels: build") == 1
    assert text.count("### manywheels: repair") == 1
    assert "| a | passed |" in text


def test_no_variable_no_file(project: Path, tmp_path: Path) -> None:  # noqa: F811
    run = run_with_summary(make_config(project), engine_with(), None)
    run_jobs(run, "build", [Job("a", lambda: "ok")])
    assert list(tmp_path.glob("*.md")) == []


def test_unwritable_summary_is_a_warning_not_a_failure(project: Path,  # noqa: F811
                                                       tmp_path: Path) -> None:
    run = run_with_summary(make_config(project), engine_with(), tmp_path / "no" / "such.md")
    result = run_jobs(run, "build", [Job("a", lambda: "ok")])
    assert [row.status for row in result.rows] == ["passed"]


@pytest.mark.usefixtures("host_sdist")
def test_build_and_repair_tables_name_wheels_and_hashes(project: Path,  # noqa: F811
                                                        tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    engine = engine_with(Builder(fail="cp313"))
    config = make_config(project)
    with run_with_summary(config, engine, summary) as run:
        with pytest.raises(StageFailedError):  # cp313 fails
            build_stage.build(run)
        repair(run)
        records = run.report.targets
    text = summary.read_text()
    build_part, repair_part = text.split("### manywheels: repair")
    raw = records[f"cp312-{KIND}"]["stages"]["build"]
    assert f"`{raw['wheel']}` | `{raw['sha256']}`" in build_part
    assert f"| cp313-{KIND} | failed |" in build_part
    fixed = records[f"cp312-{KIND}"]["stages"]["repair"]
    assert fixed["wheel"].endswith(f"{PLAT}.whl")
    assert f"`{fixed['wheel']}` | `{fixed['sha256']}`" in repair_part


@pytest.mark.usefixtures("host_sdist")
def test_the_test_table_lists_identifiers_test_skip_left_out(project: Path,  # noqa: F811
                                                             tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    config = make_config(project, test_command="python -c pass", test_skip=["cp313-*"])
    with run_with_summary(config, engine_with(Builder()), summary) as run:
        build_stage.build(run)
        repair(run)
        result = stage_test(run)
        repaired = run.report.stage(f"cp313-{KIND}", "repair")
    assert [(row.identifier, row.status) for row in result.rows] == [
        (f"cp313-{KIND}", "skipped"), (f"cp312-{KIND}", "passed")]
    (test_part,) = summary.read_text().split("### manywheels: test")[1:]
    assert test_part.count("\n| cp3") == 2  # one table, both identifiers
    assert f"| cp312-{KIND} | passed |" in test_part
    assert (f"| cp313-{KIND} | skipped |  | `{repaired['wheel']}` | `{repaired['sha256']}` |"
            in test_part)
