"""The host sdist build overlapped with the run's start: the sdist builds in a worker
thread while the main thread checks the input (the plan: images inspected or pulled,
containers started, tags and policies checked), locks the outputs and runs
``before-all`` in every image's container.

:class:`~manywheels.stages._sdist_gate.SdistGate` keeps the order a user sees as if the
steps ran one after another: the sdist build's log and console output appear only once
the input passed (bad input leaves no trace of it), and the sdist reaches ``dist-dir``
(a failed build the record) only once every ``before-all`` passed, so a failing
``before-all`` still stops the run before any build product is written and before the
record changes. An interrupt stops the sdist build's process group too and waits for it
(its temporary directories go with it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from manywheels import _signals as signals
from manywheels.stages._run import Run
from manywheels.stages._sdist import SdistInfo
from manywheels.stages._sdist_gate import SdistGate

__all__ = ["sdist_beside_start"]

_GRACE_S = 60.0

SdistBuild = Callable[..., SdistInfo]
"""``build_sdist(run, gate=None)`` (:func:`manywheels.stages._sdist.build_sdist`)."""


def sdist_beside_start(run: Run, build: SdistBuild) -> SdistInfo:
    """``build(run, gate=...)`` builds the sdist in a worker thread while this thread
    plans the run (:meth:`Run.plan`), locks its outputs and runs ``before-all`` in every
    image's container; the sdist once all are done.

    Raises:
        the plan's errors (ConfigError, PythonTagMissingError, PolicyError,
            ImageNotFoundError, EngineUnavailableError, EmulationUnavailableError),
            LockedError, BeforeAllError: the sdist build is stopped; nothing written.
        SdistBuildError: the sdist build failed.
        KeyboardInterrupt, Terminated: after the sdist build's processes are gone.
    """
    run.source_date_epoch()  # found here: the worker thread reads it without the run's lock
    gate = SdistGate()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mw-sdist")
    future = pool.submit(build, run, gate=gate)
    try:
        run.plan(run.config.requires_python)
        run.lock_outputs()
        gate.check()
        for image in run.images():
            run.ensure_before_all(image)
        gate.open()
        info = future.result()
    except BaseException:
        with signals.deferred(reraise=False):
            gate.stop()
            wait([future], timeout=_GRACE_S)
            with contextlib.suppress(BaseException):
                future.result(timeout=0)  # SdistStopped, or its own failure: ours wins
        pool.shutdown(wait=False)
        raise
    pool.shutdown(wait=True)
    return info
