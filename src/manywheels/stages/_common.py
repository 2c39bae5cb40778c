"""What the container stages share: running identifiers (in parallel) and summaries."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import parse_wheel_filename

from manywheels import _signals as signals
from manywheels._commands import stage_command
from manywheels._fsutil import output_error, sha256_file
from manywheels._timing import Timing, measure
from manywheels._ui import SummaryRow
from manywheels.engine import Container, Sink
from manywheels.errors import (
    CommandError,
    EngineUnavailableError,
    ManywheelsError,
    NotBuiltError,
    NothingToDoError,
    OutputError,
    StageFailedError,
)
from manywheels.plan._record import StageRecord
from manywheels.stages._environment import masked_sink, secret_masker
from manywheels.stages._keep import keep_failed
from manywheels.stages._outcome import failure_reason
from manywheels.stages._run import Run
from manywheels.stages._step_summary import append_step_summary

__all__ = ["Job", "StageResult", "WheelListing", "fatal_error", "is_pure", "job_row", "run_jobs",
           "run_stage_script", "select_recorded", "warn_unrecorded"]


@dataclass(frozen=True)
class Job:
    """One identifier's work in a stage.

    Attributes:
        identifier: the build identifier.
        work: runs the job; returns a one-line detail for the summary.
        log: the job's log file.
        script: the in-container script the job runs, rendered (a dry run prints it
            instead of running ``work``: one code path for both).
        label: the script's name in dry-run headers (``build.sh``).
    """

    identifier: str
    work: Callable[[], str]
    log: Path | None = None
    script: str | None = None
    label: str = ""


@dataclass
class StageResult:
    """What a stage did: one row per identifier, failures by identifier."""

    stage: str
    rows: list[SummaryRow] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


class WheelListing:
    """A sink in front of another that notes the wheels a stage script lists as it ends
    (``ls \"$OUT\"/*.whl`` prints their paths), so the stage needs no ``ls`` round trip.

    Attributes:
        names: file names of the wheels listed directly in ``out_dir``.
    """

    def __init__(self, sink: Sink, out_dir: str) -> None:
        self.sink = sink
        self.prefix = out_dir.rstrip("/") + "/"
        self.names: list[str] = []

    def __call__(self, line: str, stream: str) -> None:
        name = line[len(self.prefix):] if line.startswith(self.prefix) else ""
        if stream == "stdout" and name.endswith(".whl") and "/" not in name:
            self.names.append(name)
        self.sink(line, stream)


def run_stage_script(
    run: Run,
    container: Container,
    identifier: str,
    stage: str,
    script: str,
    *,
    note: str,
    started: float,
    wheel_dir: str | None = None,
    **failed_fields: object,
) -> list[str]:
    """Run one identifier's stage script, keeping its script and log side by side.

    ``<output-dir>/logs/<identifier>/<stage>.log`` is started afresh, the script is saved
    beside it as ``<stage>.sh``, and the output streams to the log (and console). When the
    script fails, the run report records the stage as ``failed`` (duration in seconds since
    ``started``, a ``time.monotonic()`` value; the log; ``failed_fields``) and the
    :class:`~manywheels.errors.CommandError` propagates.

    Returns:
        The wheel file names the script listed in ``wheel_dir`` (empty when ``wheel_dir``
        is ``None`` or nothing was listed).
    """
    log_dir = run.log_dir(identifier)
    log = log_dir / f"{stage}.log"
    log.unlink(missing_ok=True)
    run.save_script(log_dir / f"{stage}.sh", script)
    mask = secret_masker(run.config, run.host_env)
    with run.ui.target_output(identifier, log) as sink:
        sink.note(note)
        output = masked_sink(sink, mask)
        listing = WheelListing(output, wheel_dir) if wheel_dir is not None else None
        try:
            container.run(script, sink=listing or output)
        except CommandError as error:
            error.tail = [mask(line) for line in error.tail]
            keep_failed(run, identifier, container, stage)  # keep-failed; never raises
            run.report.record(
                identifier, stage, status="failed",
                duration_s=round(time.monotonic() - started, 3),
                log=f"logs/{identifier}/{stage}.log", **failed_fields,
            )
            raise
    return listing.names if listing is not None else []


def is_pure(wheel_name: str) -> bool:
    """True when every tag of the wheel is platform ``any``."""
    _, _, _, tags = parse_wheel_filename(wheel_name)
    return all(tag.platform == "any" for tag in tags)


def select_recorded(run: Run, stage: str, directory: Path) -> list[tuple[str, StageRecord]]:
    """The inputs of a stage, from the run record only.

    The identifiers of the current sdist whose ``stage`` passed (``build`` for repair,
    ``repair`` for test), narrowed to the configured ``python`` tags when set, and whose
    wheel file in ``directory`` still has the recorded sha256. Wheels in ``directory`` the
    record does not name (stray files, older builds, another tool's) are ignored with one
    warning naming them; nothing is deleted.

    Returns:
        (identifier, stage record) pairs, in identifier order.

    Raises:
        ForeignRecordError: the output-dir holds another project's record.
        NotBuiltError: a ``python`` tag asked for has no such wheel of the current sdist.
        NothingToDoError: no input at all.
    """
    run.check_record()
    report = run.report
    current = report.current(stage)
    chosen = _narrow(run, stage, current)
    named = {record.wheel for record in report.current(stage).values()}
    warn_unrecorded(run, directory, named)
    result = []
    for identifier, record in sorted(chosen.items()):
        path = directory / str(record.wheel)
        if not path.is_file() or sha256_file(path) != record.sha256:
            run.ui.warn(f"{identifier}: {path} is missing or changed since the {stage} stage "
                        "wrote it; skipped (run that stage again)")
            continue
        result.append((identifier, record))
    if not result:
        what, where, before = _NOTHING[stage]
        msg = (f"no {what} in {where} {directory}: the run record ({report.path}) names none "
               f"of the current sdist; run the {before} stage first ({stage_command(before)})")
        raise NothingToDoError(msg)
    return result


_NOTHING = {
    "build": ("raw wheels to repair", "dist-dir", "build"),
    "repair": ("repaired wheels to test", "output-dir", "repair"),
}
"""What a stage lacks when the record names no input: (what, directory role, stage before)."""


def _narrow(run: Run, stage: str, current: dict[str, StageRecord]) -> dict[str, StageRecord]:
    """Keep the identifiers of the configured ``python`` tags (all when unset).

    Raises:
        NotBuiltError: a tag asked for has no identifier of the current sdist at all (the
            build stage never tried it); one whose earlier stage failed is just left out.
    """
    wanted = run.config.python
    if wanted is None:
        return current
    report = run.report
    tried: dict[str, list[str]] = {}
    for identifier, target in report.target_records.items():
        if report.is_current(identifier):
            tag = target.python or identifier.split("-")[0]
            tried.setdefault(tag, []).append(identifier)
    missing = [tag.tag for tag in wanted if tag.tag not in tried]
    if missing:
        have = ", ".join(sorted(current)) or "none"
        msg = (f"python {missing[0]}: the run record has no wheel of the current sdist for it "
               f"(wheels that passed the {stage} stage: {have}); build it first "
               f"(--python {' '.join(missing)})")
        raise NotBuiltError(msg)
    keep = {identifier for tag in wanted for identifier in tried[tag.tag]}
    return {identifier: record for identifier, record in current.items() if identifier in keep}


def warn_unrecorded(run: Run, directory: Path, named: set[str | None]) -> None:
    """One warning naming the wheels in ``directory`` the run record does not name."""
    stray = sorted(p.name for p in directory.glob("*.whl") if p.name not in named)
    if stray:
        run.ui.warn(f"ignoring {len(stray)} file(s) in {directory} that this run record does "
                    f"not name for the current sdist: {', '.join(stray)}")


def run_jobs(run: Run, stage: str, jobs: Sequence[Job],
             skipped: Sequence[SummaryRow] = ()) -> StageResult:
    """Run the jobs, ``jobs`` at a time, and print the stage summary (also appended to
    ``$GITHUB_STEP_SUMMARY`` when set: :mod:`manywheels.stages._step_summary`); ``skipped``:
    rows of identifiers the stage left out (``test-skip``), first in both.

    A failing identifier does not stop the others unless ``fail-fast``.

    Raises:
        StageFailedError: one or more identifiers failed (after all finished).
    """
    if run.config.dry_run:
        return _show_jobs(run, stage, jobs)
    result = StageResult(stage)
    rows: dict[str, SummaryRow] = {}
    workers = max(1, min(run.config.effective_jobs, len(jobs)))
    fatal: list[ManywheelsError] = []  # the engine went away, an output cannot be written

    def execute(job: Job) -> SummaryRow:
        board.start(job.identifier)
        return job_row(run, stage, job, time.monotonic(), fatal.append)

    display = contextlib.ExitStack()  # the live table (a terminal) until the summary
    board = display.enter_context(run.ui.progress(stage, [job.identifier for job in jobs]))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"mw-{stage}")
    pending: dict[Future[SummaryRow], Job] = {}
    try:
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
                board.finish(job.identifier, row.status)
                run.ui.result(stage, row)
                if row.status == "failed":
                    result.failures[job.identifier] = row.detail
                    if run.config.fail_fast or fatal:
                        stop = True
            if stop:
                why = "stopped: " + str(fatal[0]) if fatal else "fail-fast"
                for job in queue:
                    rows[job.identifier] = SummaryRow(job.identifier, "skipped", None, why)
                    run.ui.result(stage, rows[job.identifier])
                queue = []
    except BaseException as error:
        display.close()
        _stop_on_interrupt(run, stage=stage, jobs=jobs, rows=rows, pending=pending, pool=pool,
                           error=error)
        raise
    pool.shutdown(wait=True)
    display.close()

    result.rows = [*skipped, *(rows[job.identifier] for job in jobs if job.identifier in rows)]
    run.ui.summary(f"{stage} summary", result.rows, reported=True)
    append_step_summary(run, stage, result.rows)
    if fatal:
        raise fatal[0]
    if result.failures:
        raise StageFailedError(stage, result.failures)
    return result


def job_row(run: Run, stage: str, job: Job, started: float,
            on_fatal: Callable[[ManywheelsError], None]) -> SummaryRow:
    """Run one job and return its summary row: passed, interrupted, or failed with
    :func:`~manywheels.stages._outcome.failure_reason`; an error that stops the whole
    stage (:func:`fatal_error`) goes to ``on_fatal`` too. ``started``: ``time.monotonic()``."""
    where = f"; log: {job.log}" if job.log else ""
    try:
        detail = _timed(run, stage, job)
    except Exception as error:  # noqa: BLE001 - one identifier's failure never loses the others
        took = time.monotonic() - started
        if run.cancelled.is_set():
            return SummaryRow(job.identifier, "interrupted", took, "interrupted")
        stop = fatal_error(error, run)
        if stop is not None:
            on_fatal(stop)
            return SummaryRow(job.identifier, "failed", took, str(stop))
        return SummaryRow(job.identifier, "failed", took, failure_reason(error, where),
                          log=job.log)
    return SummaryRow(job.identifier, "passed", time.monotonic() - started, detail)


def fatal_error(error: BaseException, run: Run) -> ManywheelsError | None:
    """The error that stops a whole stage, not just one identifier: the engine went away
    (:class:`~manywheels.errors.EngineUnavailableError`), or an output cannot be written
    (:class:`~manywheels.errors.OutputError`, or an :class:`OSError` of the host, as one).
    ``None`` for an identifier's own failure."""
    if isinstance(error, EngineUnavailableError | OutputError):
        return error
    if isinstance(error, OSError):
        if error.filename:
            return output_error(error, "the file", verb="use")
        where = f"dist-dir {run.config.dist_dir} or output-dir {run.config.output_dir}"
        return output_error(error, f"into {where}", "")
    return None


def _show_jobs(run: Run, stage: str, jobs: Sequence[Job]) -> StageResult:
    """``dry-run``: print each job's script (exactly what :func:`run_jobs` would run)."""
    rows = []
    for job in jobs:
        if job.script is None:
            rows.append(SummaryRow(job.identifier, "skipped", None, "dry run: nothing to run"))
            continue
        run.show_script(f"{job.identifier} {job.label or stage + '.sh'}", job.script)
        rows.append(SummaryRow(job.identifier, "skipped", None, "dry run: script printed"))
    run.ui.summary(f"{stage} summary (dry run)", rows)
    return StageResult(stage, rows)


def _timed(run: Run, stage: str, job: Job) -> str:
    """Run one job; record in the report (``timing``) how its wall time split between
    the commands it ran and the tool itself (:mod:`manywheels._timing`)."""
    spent: Timing | None = None
    try:
        with measure() as spent:
            return job.work()
    finally:
        if spent is not None and not run.config.dry_run:
            with contextlib.suppress(Exception):
                run.report.update(job.identifier, stage, timing=spent.as_record())


_INTERRUPT_GRACE_S = 60.0


def _stop_on_interrupt(
    run: Run,
    *,
    stage: str,
    jobs: Sequence[Job],
    rows: dict[str, SummaryRow],
    pending: dict[Future[SummaryRow], Job],
    pool: ThreadPoolExecutor,
    error: BaseException,
) -> None:
    """Ctrl-C or SIGTERM (or an unexpected error) in the main thread while jobs run.

    Queued jobs are cancelled and the run's containers removed, which ends the
    commands the worker threads stream from; the workers are then waited for (their
    wheels land complete or not at all: every copy goes through a temporary name), so
    no thread outlives the stage. Finished identifiers keep their results; the others
    are recorded as ``interrupted`` and the summary is printed. A second signal
    meanwhile is ignored.
    """
    with signals.deferred(reraise=False):
        pool.shutdown(wait=False, cancel_futures=True)
        run.cancel()
        wait(pending, timeout=_INTERRUPT_GRACE_S)
        reason = "interrupted" if signals.exit_code_for(error) else f"stopped: {error!r}"
        for job in pending.values():
            rows[job.identifier] = SummaryRow(job.identifier, "interrupted", None, reason)
            with contextlib.suppress(Exception):
                run.report.record(job.identifier, stage, status="interrupted")
        for job in jobs:
            rows.setdefault(job.identifier, SummaryRow(job.identifier, "interrupted", None,
                                                       "not started"))
        with contextlib.suppress(Exception):
            run.ui.summary(f"{stage} summary (interrupted)",
                           [rows[job.identifier] for job in jobs])
