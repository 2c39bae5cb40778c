"""What the container stages share: running identifiers (in parallel) and summaries."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import parse_wheel_filename

from manywheels.errors import CommandError, ManywheelsError, StageFailedError
from manywheels.run import Run
from manywheels.tags import PythonTag, identifier, parse_python_tag
from manywheels.ui import SummaryRow

__all__ = ["Job", "StageResult", "is_pure", "run_jobs", "wheel_identifier"]


@dataclass(frozen=True)
class Job:
    """One identifier's work in a stage: ``work`` returns a detail string."""

    identifier: str
    work: Callable[[], str]
    log: Path | None = None


@dataclass
class StageResult:
    """What a stage did: one row per identifier, failures by identifier."""

    stage: str
    rows: list[SummaryRow] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


def is_pure(wheel_name: str) -> bool:
    """True when every tag of the wheel is platform ``any``."""
    _, _, _, tags = parse_wheel_filename(wheel_name)
    return all(tag.platform == "any" for tag in tags)


def wheel_identifier(wheel_name: str, plat_fallback: str) -> tuple[str, PythonTag | None]:
    """Derive an identifier from a wheel's tags (when the run report does not know it)."""
    _, _, _, tags = parse_wheel_filename(wheel_name)
    tag = sorted(tags, key=str)[0]
    try:
        python: PythonTag | None = parse_python_tag(tag.interpreter)
    except ManywheelsError:
        python = None
    platform = plat_fallback if tag.platform in {"any"} else tag.platform
    name = identifier(python, platform) if python else f"{tag.interpreter}-{platform}"
    return name, python


def run_jobs(run: Run, stage: str, jobs: Sequence[Job]) -> StageResult:
    """Run the jobs, ``jobs`` at a time, and print the stage summary.

    A failing identifier does not stop the others unless ``fail-fast``.

    Raises:
        StageFailedError: one or more identifiers failed (after all finished).
    """
    result = StageResult(stage)
    rows: dict[str, SummaryRow] = {}
    workers = max(1, min(run.config.effective_jobs, len(jobs)))

    def execute(job: Job) -> SummaryRow:
        started = time.monotonic()
        try:
            detail = job.work()
        except CommandError as error:
            where = f"; log: {job.log}" if job.log else ""
            last = next((line for line in reversed(error.tail) if line.strip()), "")
            reason = f"exit code {error.returncode}{where}" + (f" — {last.strip()}" if last else "")
            return SummaryRow(job.identifier, "failed", time.monotonic() - started, reason)
        except ManywheelsError as error:
            return SummaryRow(job.identifier, "failed", time.monotonic() - started, str(error))
        return SummaryRow(job.identifier, "passed", time.monotonic() - started, detail)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"mw-{stage}") as pool:
        pending: dict[Future[SummaryRow], Job] = {}
        queue = list(jobs)
        stop = False
        while queue or pending:
            while queue and len(pending) < workers and not stop:
                job = queue.pop(0)
                pending[pool.submit(execute, job)] = job
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                row = future.result()
                rows[job.identifier] = row
                if row.status == "failed":
                    result.failures[job.identifier] = row.detail
                    if run.config.fail_fast:
                        stop = True
            if stop:
                for job in queue:
                    rows[job.identifier] = SummaryRow(job.identifier, "skipped", None, "fail-fast")
                queue = []

    result.rows = [rows[job.identifier] for job in jobs if job.identifier in rows]
    run.ui.summary(f"{stage} summary", result.rows)
    if result.failures:
        raise StageFailedError(stage, result.failures)
    return result
