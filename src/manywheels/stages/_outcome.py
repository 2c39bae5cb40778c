"""The closing lines of a ``wheels`` chain (build -> repair -> test): counts per
status, the absolute output-dir and what publish will make of the wheels."""

from __future__ import annotations

from manywheels._commands import stage_command
from manywheels.errors import CommandError, ManywheelsError
from manywheels.plan._record import RunReport, TargetRecord
from manywheels.stages._run import Run

__all__ = ["closing_lines", "failure_reason", "outcome"]

_CHAIN = ("build", "repair", "test")
_ORDER = ("passed", "untested", "failed", "interrupted", "skipped")


def outcome(target: TargetRecord) -> tuple[str, str | None]:
    """One identifier's outcome over the chain and the stage that decided it.

    Returns:
        ``("passed", None)`` when build, repair and test passed; ``("untested",
        "test")`` when the test stage skipped; else the first stage that did not pass
        with its status (``failed``, ``interrupted``, ``skipped``; ``skipped`` too for a
        stage never reached).
    """
    for stage in _CHAIN:
        record = target.stages.get(stage)
        status = record.status if record is not None else "skipped"
        if status == "passed":
            continue
        if stage == "test" and status == "skipped":
            return "untested", stage
        return status, stage
    return "passed", None


def _counts(report: RunReport) -> tuple[dict[str, list[str]], set[str]]:
    """identifiers by outcome, and the repaired wheel files, of the current sdist."""
    by_outcome: dict[str, list[str]] = {}
    wheels: set[str] = set()
    for identifier, target in sorted(report.target_records.items()):
        if not report.is_current(identifier):
            continue
        status, stage = outcome(target)
        label = status if stage is None or status == "untested" else f"{status} ({stage})"
        by_outcome.setdefault(label, []).append(identifier)
        repaired = target.stages.get("repair")
        if repaired is not None and repaired.status == "passed" and repaired.wheel:
            wheels.add(repaired.wheel)
    return by_outcome, wheels


def closing_lines(run: Run) -> list[str]:
    """What the end of a chain prints.

    ``dry run: nothing built`` in a dry run; else one line with the identifiers' counts
    per outcome and the wheels in the absolute output-dir, and, when tests were skipped,
    one line saying publish will refuse those wheels.
    """
    config = run.config
    if config.dry_run:
        return ["manywheels: dry run: nothing built"]
    by_outcome, wheels = _counts(run.report)
    order = sorted(by_outcome, key=lambda label: (_ORDER.index(label.split()[0]), label))
    counts = ", ".join(f"{len(by_outcome[label])} {label}" for label in order) or "nothing"
    where = config.output_dir.resolve()
    lines = [f"manywheels: wheels: {counts}; {len(wheels)} wheel(s) in {where}"]
    untested = by_outcome.get("untested", [])
    if untested:
        lines.append(
            f"manywheels: {len(untested)} wheel(s) untested (no test-command): "
            f"{stage_command('publish')} will refuse them unless --allow-untested"
        )
    return lines


def failure_reason(error: BaseException, where: str = "") -> str:
    """One identifier's failure on its summary line: a command's exit code and its last
    non-blank output line, a manywheels error's message, else the exception's type and
    message; ``where`` (e.g. ``" (log: …)"``) follows the first part."""
    if isinstance(error, CommandError):
        last = next((line for line in reversed(error.tail) if line.strip()), "")
        return f"exit code {error.returncode}{where}" + (f" — {last.strip()}" if last else "")
    if isinstance(error, ManywheelsError):
        return f"{error}{where}"
    return f"{type(error).__name__}: {error}{where}"
