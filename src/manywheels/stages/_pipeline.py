"""Per-identifier pipelining of the ``wheels`` chain: an identifier is repaired as soon as
its own build passed, and tested as soon as its own repair passed, while other
identifiers still build (no stage barrier).

Only the chain asks for it (:func:`request`: ``manywheels wheels``, ``invoke wheels``,
``nox -s wheels``); a single stage runs as before. The build stage runs its jobs as
always (:func:`run_build_jobs`) and hands each identifier whose build passed to a pool
of ``jobs`` workers that runs that identifier's repair job, then its test job — the
same jobs, scripts, logs and record entries the repair and test stages make. When the
chain then calls the repair and the test stage, each waits for its pipelined jobs and
prints its summary and raises as :func:`~manywheels.stages._common.run_jobs` would
(:func:`collect`): the record, the exit codes and what the chain does after failed
identifiers are the same as without pipelining.

Not pipelined (the stages then run one after another, as single stages do): a dry run,
``fail-fast``; the tests also not when an identifier has no test-command, is in
``test-skip``, is tested in a ``test-image``, or a ``test-sources`` path or a
``test-groups`` group is wrong (the test stage then runs as a stage, and reports it).
Ctrl-C or SIGTERM while pipelined jobs run removes the run's containers, waits for the
jobs and records the unfinished ones ``interrupted``.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from manywheels import _signals as signals
from manywheels._fsutil import sha256_file
from manywheels._ui import SummaryRow
from manywheels.config._selectors import group_requirements, matches_any
from manywheels.errors import (
    ConfigError,
    ManywheelsError,
    StageFailedError,
)
from manywheels.plan._targets import step_options
from manywheels.stages._abi3 import Repaired, RepairGate
from manywheels.stages._common import (
    Job,
    StageResult,
    job_row,
    run_jobs,
    warn_unrecorded,
)
from manywheels.stages._step_summary import append_step_summary

if TYPE_CHECKING:
    from manywheels.plan._targets import BuildPlan
    from manywheels.stages._run import Run

__all__ = ["Pipeline", "collect", "request", "run_build_jobs"]

_REQUESTED: weakref.WeakSet[Run] = weakref.WeakSet()
_ACTIVE: weakref.WeakKeyDictionary[Run, Pipeline] = weakref.WeakKeyDictionary()
_GRACE_S = 60.0


def request(run: Run) -> None:
    """Pipeline the next build stage of ``run`` (the chain's front ends call this)."""
    _REQUESTED.add(run)


def run_build_jobs(run: Run, plan: BuildPlan, jobs: Sequence[Job]) -> StageResult:
    """The build stage's jobs: :func:`~manywheels.stages._common.run_jobs`, pipelined
    into repair and test when the chain asked for it (:func:`request`)."""
    asked = run in _REQUESTED
    _REQUESTED.discard(run)
    _ACTIVE.pop(run, None)
    if not asked or run.config.dry_run or run.config.fail_fast:
        return run_jobs(run, "build", jobs)
    pipeline = Pipeline(run, plan)
    _ACTIVE[run] = pipeline
    wrapped = [replace(job, work=pipeline.then_repair(job)) for job in jobs]
    try:
        return run_jobs(run, "build", wrapped)
    except StageFailedError:
        raise  # identifiers failed: the others go on being repaired and tested
    except BaseException as error:
        _ACTIVE.pop(run, None)
        pipeline.abort(error)
        raise


def collect(run: Run, stage: str) -> StageResult | None:
    """The result of ``stage`` (``repair`` or ``test``) when its jobs were pipelined:
    waits for them, prints the stage summary; ``None`` when the stage has to run as a
    stage (not pipelined, or no job to wait for).

    Raises:
        StageFailedError: the stage failed for one or more identifiers.
        EngineUnavailableError, OutputError: the engine went away, an output could not
            be written.
    """
    pipeline = _ACTIVE.get(run)
    if pipeline is None:
        return None
    if stage == "test" or not pipeline.tests:
        _ACTIVE.pop(run, None)
    return pipeline.collect(stage)


class Pipeline:
    """The repair and test jobs of one pipelined chain.

    Args:
        run: the run.
        plan: the build plan (the identifiers, their images and options).
    """

    def __init__(self, run: Run, plan: BuildPlan) -> None:
        self.run = run
        self.order = [step.identifier for step in plan.steps]
        self.pool = ThreadPoolExecutor(max_workers=max(1, run.config.effective_jobs),
                                       thread_name_prefix="mw-pipeline")
        self.futures: dict[str, dict[str, Future[SummaryRow | None]]] = {
            "repair": {}, "test": {}}
        self.fatal: list[ManywheelsError] = []
        self.lock = threading.Lock()
        self.stopped = False
        self.gate = RepairGate(self.order)
        """Shared wheels' repairs handed over (:mod:`._abi3`): every identifier in it."""
        self.deferred: dict[str, list[str]] = {}
        """identifier -> the identifiers reusing its wheel whose repair waits for its own."""
        self.tests = self._prepare(plan)

    def _prepare(self, plan: BuildPlan) -> bool:
        """What the repair and test stages do before their jobs (output-dir, the project
        copy); whether the tests are pipelined too."""
        from manywheels.stages._test_image import test_image_for  # noqa: PLC0415
        from manywheels.stages.test import copy_project, needs_project, test_source_paths  # noqa: PLC0415

        config = self.run.config
        config.output_dir.mkdir(parents=True, exist_ok=True)
        tests = True
        needs = False
        pyproject = config.read_project().pyproject
        for step in plan.steps:
            options = step_options(config, step.identifier)
            needs = needs or needs_project(options.repair_command)
            if options.test_command is None or matches_any(step.identifier, config.test_skip):
                tests = False
                continue
            needs = needs or needs_project(f"{options.test_command} {options.before_test}")
            try:
                test_source_paths(config.with_(test_sources=options.test_sources))
                if options.test_groups:
                    group_requirements(pyproject, options.test_groups)
                if test_image_for(config, step.identifier, step.image) is not None:
                    tests = False  # a clean test container: the test stage prepares it
            except ConfigError:
                tests = False  # the test stage reports it, as a stage
        if needs:
            for image in dict.fromkeys(step.image for step in plan.steps):
                copy_project(self.run, image)
        return tests

    # ------------------------------------------------------------------ jobs

    def then_repair(self, job: Job) -> Callable[[], str]:
        """``job``'s work, then the identifier's repair job queued when it passed."""
        work = job.work

        def build_then_queue() -> str:
            try:
                detail = work()
            except BaseException:
                self._unblock(job.identifier, f"the build of {job.identifier} failed")
                raise
            self._submit_repair(job.identifier)
            return detail

        return build_then_queue

    def _submit(self, stage: str, identifier: str) -> None:
        with self.lock:
            self._submit_locked(stage, identifier)

    def _submit_locked(self, stage: str, identifier: str) -> None:
        if not self.stopped:
            self.futures[stage][identifier] = self.pool.submit(self._run, stage, identifier)

    def _submit_repair(self, identifier: str) -> None:
        """Queue the identifier's repair; one that reuses another identifier's wheel (pure,
        abi3: its build record's ``reused_from``) waits for that one's repair to be queued
        first, so it never holds a worker while the repair it waits for is queued behind it
        (the pool runs in order)."""
        record = self.run.report.current("build").get(identifier)
        source = record.reused_from if record is not None else None
        with self.lock:
            if source not in (None, identifier) and source not in self.futures["repair"]:
                self.deferred.setdefault(str(source), []).append(identifier)
                return
            self._submit_locked("repair", identifier)
            for later in self.deferred.pop(identifier, []):
                self._submit_locked("repair", later)

    def _unblock(self, identifier: str, reason: str) -> None:
        """The identifier's repair will not run: identifiers reusing its wheel stop
        waiting for it (they fail with ``reason``)."""
        with contextlib.suppress(Exception):
            self.gate.publish(identifier, Repaired(None, reason=reason))

    def _stop_queue(self) -> None:
        """No more jobs: the queued ones are dropped, and identifiers waiting for a repair
        that will not run now stop waiting."""
        with self.lock:
            self.stopped = True
            repairs = dict(self.futures["repair"])
        self.pool.shutdown(wait=False, cancel_futures=True)
        for identifier in self.order:
            future = repairs.get(identifier)
            if future is None or future.cancelled():
                self._unblock(identifier, f"the chain stopped before {identifier} was repaired")

    def _input(self, stage: str) -> tuple[Path, str]:
        """The directory of a stage's input wheels and the stage that wrote them."""
        config = self.run.config
        return (config.dist_dir, "build") if stage == "repair" else (config.output_dir, "repair")

    def _changed(self, stage: str, identifier: str) -> bool:
        """Whether the identifier's input wheel is missing or changed since its stage wrote
        it (warned and left out, as :func:`~manywheels.stages._common.select_recorded`
        leaves it out)."""
        directory, before = self._input(stage)
        record = self.run.report.current(before).get(identifier)
        path = directory / str(record.wheel if record else "")
        if record is not None and path.is_file() and sha256_file(path) == record.sha256:
            return False
        self.run.ui.warn(f"{identifier}: {path} is missing or changed since the {before} stage "
                         "wrote it; skipped (run that stage again)")
        return True

    def _run(self, stage: str, identifier: str) -> SummaryRow | None:
        from manywheels.stages.repair import repair_job  # noqa: PLC0415
        from manywheels.stages.test import test_job  # noqa: PLC0415

        if self._changed(stage, identifier):
            if stage == "repair":
                self._unblock(identifier, f"the raw wheel of {identifier} changed")
            return None
        started = time.monotonic()
        try:
            job = repair_job(self.run, identifier, self.gate) if stage == "repair" \
                else test_job(self.run, identifier)
        except Exception as error:  # noqa: BLE001 - reported as the identifier's failure
            job = Job(identifier, _raise(error))
        row = self._execute(stage, job, started)
        self.run.ui.result(stage, row)
        if stage == "repair" and row.status == "passed" and self.tests:
            self._submit("test", identifier)
        return row

    def _execute(self, stage: str, job: Job, started: float) -> SummaryRow:
        """One job as :func:`~manywheels.stages._common.run_jobs` runs it: its row; an
        error that stops the stage stops the chain."""
        return job_row(self.run, stage, job, started, self._stop)

    def _stop(self, error: ManywheelsError) -> None:
        with self.lock:
            self.fatal.append(error)
            self.stopped = True

    # ------------------------------------------------------------------ results

    def collect(self, stage: str) -> StageResult | None:
        """Wait for the stage's jobs; the summary, as ``run_jobs`` prints it."""
        directory, before = self._input(stage)
        named = {record.wheel for record in self.run.report.current(before).values()}
        warn_unrecorded(self.run, directory, named)
        with self.lock:
            futures = dict(self.futures[stage])
        if not futures and not self.fatal:
            if stage == "test" or not self.tests:
                self.pool.shutdown(wait=True)
            return None
        try:
            wait(futures.values())
        except BaseException as error:
            self.abort(error)
            raise
        if stage == "test" or not self.tests:
            self.pool.shutdown(wait=True)
        run = self.run
        rows = {identifier: row for identifier, future in futures.items()
                if (row := future.result()) is not None}
        result = StageResult(stage, [rows[i] for i in self.order if i in rows])
        result.failures = {row.identifier: row.detail for row in result.rows
                           if row.status == "failed"}
        run.ui.summary(f"{stage} summary", result.rows, reported=True)
        append_step_summary(run, stage, result.rows)
        if self.fatal:  # the chain stops: no job outlives it
            _ACTIVE.pop(run, None)
            self._stop_queue()
            self.pool.shutdown(wait=True)
            raise self.fatal[0]
        if result.failures:
            raise StageFailedError(stage, result.failures)
        return result

    def abort(self, error: BaseException) -> None:
        """The chain stops (an interrupt, the engine gone): queued jobs are dropped; on an
        interrupt the run's containers are removed first. The running jobs are waited for
        and the unfinished ones recorded ``interrupted``."""
        with signals.deferred(reraise=False):
            with self.lock:
                pending = {(stage, identifier): future
                           for stage, futures in self.futures.items()
                           for identifier, future in futures.items()}
            self._stop_queue()
            interrupted = signals.exit_code_for(error) is not None
            if interrupted:
                self.run.cancel()
            wait(pending.values(), timeout=_GRACE_S)
            for (stage, identifier), future in pending.items():
                if _finished(future):
                    continue
                with contextlib.suppress(Exception):
                    self.run.report.record(identifier, stage, status="interrupted")


def _finished(future: Future[SummaryRow | None]) -> bool:
    """Whether a pipelined job ended by itself (not cancelled, still running or ended by
    the interrupt that removed its container)."""
    if not future.done() or future.cancelled():
        return False
    try:
        row = future.result()
    except Exception:  # noqa: BLE001 - a job that raised did not end by itself either
        return False
    return row is None or row.status != "interrupted"


def _raise(error: Exception) -> Callable[[], str]:
    def work() -> str:
        raise error

    return work
