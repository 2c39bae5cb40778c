"""The CI job summary: a markdown table per stage appended to ``$GITHUB_STEP_SUMMARY``.

GitHub Actions sets ``GITHUB_STEP_SUMMARY`` to a file path; markdown appended to it is
shown on the run's summary page ("Adding a job summary", GitHub Actions docs: workflow
commands). Each container stage (build, repair, test) appends one heading and one table
(identifier, status, seconds, wheel, sha256) when it ends; the file is never truncated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from manywheels._ui import SummaryRow
from manywheels.plan._record import RunReport
from manywheels.stages._run import Run

__all__ = ["STEP_SUMMARY_ENV", "append_step_summary", "render_step_summary"]

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
"""The environment variable naming the summary file (GitHub Actions)."""


def _cell(text: str) -> str:
    """A markdown table cell: pipes escaped, one line."""
    return " ".join(text.replace("|", "\\|").split())


def _wheel_of(report: RunReport, identifier: str, stage: str) -> tuple[str, str]:
    """(wheel, sha256) the run record has for ``stage`` of ``identifier``; the test stage
    records no sha256, so the repair record's (same wheel) is used. Empty when absent."""
    record = report.stage(identifier, stage)
    wheel = str(record.get("wheel") or "")
    sha256 = str(record.get("sha256") or "")
    if wheel and not sha256:
        repaired = report.stage(identifier, "repair")
        if repaired.get("wheel") == wheel:
            sha256 = str(repaired.get("sha256") or "")
    return wheel, sha256


def render_step_summary(stage: str, rows: Sequence[SummaryRow],
                        wheels: Mapping[str, tuple[str, str]]) -> str:
    """The markdown of one stage: a ``### manywheels: <stage>`` heading and a table.

    Args:
        stage: the stage name (``build``, ``repair``, ``test``).
        rows: the stage summary rows (seconds in ``duration_s``).
        wheels: identifier -> (wheel file name, sha256 hex); missing: empty cells.
    """
    lines = [f"### manywheels: {stage}", "",
             "| identifier | status | seconds | wheel | sha256 |",
             "| --- | --- | ---: | --- | --- |"]
    for row in rows:
        seconds = "" if row.duration_s is None else f"{row.duration_s:.1f}"
        wheel, sha256 = wheels.get(row.identifier, ("", ""))
        cells = [row.identifier, row.status, seconds,
                 f"`{wheel}`" if wheel else "", f"`{sha256}`" if sha256 else ""]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n\n"


def append_step_summary(run: Run, stage: str, rows: Sequence[SummaryRow]) -> None:
    """Append the stage's table to the file ``GITHUB_STEP_SUMMARY`` names (from the run's
    host environment); nothing when it is unset or empty, or in a dry run. A file that
    cannot be written is one warning, never a failed stage (the summary is a side output).
    """
    target = run.host_env.get(STEP_SUMMARY_ENV, "")
    if not target or run.config.dry_run or not rows:
        return
    report = run.report
    wheels = {row.identifier: _wheel_of(report, row.identifier, stage) for row in rows}
    text = render_step_summary(stage, rows, wheels)
    try:
        with open(target, "a", encoding="utf-8") as summary:  # noqa: PTH123 - append only
            summary.write(text)
    except OSError as error:
        run.ui.warn(f"cannot append the {stage} summary to {STEP_SUMMARY_ENV} ({target}): "
                    f"{error.strerror or error}")
