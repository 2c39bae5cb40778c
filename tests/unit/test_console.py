"""Issue 14's console contract (pure formatting and the pieces behind it): one line per
identifier and stage outside a terminal, failing logs' tails, tallies, GitHub Actions
groups, tables that never break a wheel name, hints naming the front end in use, the
closing lines of a chain, ``-v``/``build-verbosity``, file modes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from manywheels._commands import stage_command, using_frontend
from manywheels._fsutil import atomic_write_text
from manywheels._ui import UI, SummaryRow
from manywheels.config import load_config
from manywheels.errors import ConfigError
from manywheels.stages._outcome import closing_lines
from manywheels.stages._run import Run

WHEEL = ("markupsafe-3.0.4-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64."
         "manylinux_2_36_x86_64.whl")


def plain_ui(*, live: bool = False, github: bool = False, width: int = 80,
             ) -> tuple[UI, StringIO]:
    out = StringIO()
    console = Console(file=out, width=width, highlight=False, soft_wrap=True,
                      color_system=None)
    return UI(console, echo=False, live=live, github=github), out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1.0"\n')
    return root


# ------------------------------------------------------------------ lines outside a terminal


def test_one_line_per_identifier_with_status_seconds_and_wheel() -> None:
    ui, out = plain_ui()
    row = SummaryRow("cp312-manylinux_x86_64", "passed", 4.25, WHEEL)
    ui.result("repair", row)
    ui.summary("repair summary", [row], reported=True)
    lines = out.getvalue().splitlines()
    assert lines == [
        f"manywheels: repair cp312-manylinux_x86_64 passed 4.2 s: {WHEEL}",
        "manywheels: repair summary: 1 passed",
    ]


def test_failure_shows_the_tail_of_its_log(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text("".join(f"line {n}\n" for n in range(100)))
    ui, out = plain_ui()
    rows = [SummaryRow("cp311-manylinux_x86_64", "passed", 1.0, "a.whl"),
            SummaryRow("cp312-manylinux_x86_64", "failed", 2.0, "exit code 3", log=log)]
    ui.summary("build summary", rows)
    text = out.getvalue()
    assert "manywheels: build cp312-manylinux_x86_64 failed 2.0 s: exit code 3" in text
    assert "manywheels: build summary: 1 passed, 1 failed" in text
    assert f"last {UI.TAIL_LINES} lines of {log}" in text
    assert "  | line 99\n" in text
    assert "| line 84\n" not in text  # only the last 15 lines
    assert "| line 85\n" in text


def test_streamed_output_is_not_echoed_by_default(tmp_path: Path) -> None:
    quiet = UI.for_run(verbosity=0)
    verbose = UI.for_run(verbosity=1)
    assert not quiet.echo
    assert verbose.echo and not verbose.live


def test_github_actions_groups_each_stage() -> None:
    ui, out = plain_ui(github=True)
    ui.heading("manywheels: build")
    ui.info("building the sdist")
    ui.summary("build summary", [SummaryRow("cp312-manylinux_x86_64", "passed", 1.0, "a.whl")])
    ui.heading("manywheels: repair")
    ui.end_group()
    ui.end_group()  # closing twice prints one endgroup
    lines = out.getvalue().splitlines()
    assert lines[0] == "::group::manywheels: build"
    assert lines.index("::endgroup::") < lines.index("manywheels: build summary: 1 passed")
    assert lines[-2:] == ["::group::manywheels: repair", "::endgroup::"]
    assert lines.count("::endgroup::") == 2


def test_github_groups_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert UI(Console(file=StringIO())).github
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert not UI(Console(file=StringIO())).github


def test_tables_never_break_a_wheel_name() -> None:
    ui, out = plain_ui(live=True, width=80)
    rows = [SummaryRow(f"cp3{n}-manylinux_x86_64", "passed", 1.5,
                       WHEEL.replace("cp312-cp312", f"cp3{n}-cp3{n}")) for n in (10, 11, 12)]
    ui.summary("repair summary", rows)
    text = out.getvalue()
    for row in rows:
        assert row.detail in text, text


# ------------------------------------------------------------------ hints and closing lines


@pytest.mark.parametrize(("frontend", "expected", "chain"), [
    ("nox", "nox -s wheels-build", "nox -s wheels"),
    ("invoke", "invoke wheels.build", "invoke wheels"),
    ("cli", "manywheels build", "manywheels wheels"),
])
def test_hints_name_the_front_end_in_use(frontend: str, expected: str, chain: str) -> None:
    with using_frontend(frontend):  # type: ignore[arg-type]
        assert stage_command("build") == expected
        assert stage_command() == chain
    assert stage_command("build") == "nox -s wheels-build"  # restored


def _run_with(project: Path, statuses: dict[str, dict[str, str]], **overrides: object,
              ) -> Iterator[Run]:
    config = load_config(project, env={}, overrides=overrides)
    run = Run(config, UI(Console(file=StringIO()), echo=False))
    run.report.set_project(name="demo", version="1.0", project_dir=str(project),
                           sdist="demo-1.0.tar.gz", sdist_sha256="0" * 64)
    for identifier, stages in statuses.items():
        run.report.reset_target(identifier, sdist_sha256="0" * 64)
        for stage, status in stages.items():
            run.report.record(identifier, stage, status=status,
                              wheel=f"{identifier}.whl" if status == "passed" else None)
    yield run


def test_closing_lines_count_per_status_and_name_the_absolute_output_dir(project: Path) -> None:
    passed = {"build": "passed", "repair": "passed", "test": "passed"}
    (run,) = _run_with(project, {
        "cp311-manylinux_x86_64": passed, "cp312-manylinux_x86_64": passed,
        "cp313-manylinux_x86_64": {"build": "failed"},
    }, output_dir="out")
    (line,) = closing_lines(run)
    where = (project / "out").resolve()
    assert line == f"manywheels: wheels: 2 passed, 1 failed (build); 2 wheel(s) in {where}"


def test_closing_lines_say_publish_refuses_untested_wheels(project: Path) -> None:
    untested = {"build": "passed", "repair": "passed", "test": "skipped"}
    (run,) = _run_with(project, {"cp312-manylinux_x86_64": untested})
    with using_frontend("invoke"):
        lines = closing_lines(run)
    assert lines[0].startswith("manywheels: wheels: 1 untested; 1 wheel(s) in /")
    assert "invoke wheels.publish will refuse them unless --allow-untested" in lines[1]


def test_closing_lines_of_a_dry_run(project: Path) -> None:
    (run,) = _run_with(project, {}, dry_run=True)
    assert closing_lines(run) == ["manywheels: dry run: nothing built"]


# ------------------------------------------------------------------ options and files


def test_build_verbosity_option_and_v_flag(project: Path) -> None:
    assert load_config(project, env={}).build_verbosity == 0
    assert load_config(project, env={}, argv=["-v"]).build_verbosity == 1
    assert load_config(project, env={}, argv=["-vv"]).build_verbosity == 2
    assert load_config(project, env={}, argv=["--build-verbosity", "3"]).build_verbosity == 3
    env = {"MANYWHEELS_BUILD_VERBOSITY": "1"}
    assert load_config(project, env=env).build_verbosity == 1
    with pytest.raises(ConfigError, match=r"build-verbosity .*a whole number from -3 to 3"):
        load_config(project, env={"MANYWHEELS_BUILD_VERBOSITY": "loud"})


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_respect_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        path = tmp_path / "manywheels-report.json"
        atomic_write_text(path, "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_terminal_gets_the_table_then_the_failing_tail(tmp_path: Path) -> None:
    log = tmp_path / "test.log"
    log.write_text("collected 3 items\nE   AssertionError: planted\n")
    ui, out = plain_ui(live=True)
    ui.result("test", SummaryRow("cp312-manylinux_x86_64", "failed", 1.0, "exit code 1"))
    ui.summary("test summary", [SummaryRow("cp312-manylinux_x86_64", "failed", 1.0,
                                           "exit code 1", log=log)], reported=True)
    text = out.getvalue()
    assert "manywheels: test cp312" not in text  # the live board showed it
    assert "┃ identifier" in text
    assert text.rstrip().endswith("  | E   AssertionError: planted")
