"""The host sdist build overlapped with ``before-all``: the sdist builds in a worker
thread while ``before-all`` runs in every image's container.

The containers are started (images inspected or pulled, the plan checked) before; then
:func:`sdist_beside_before_all` starts the host sdist build in a worker thread and runs
``before-all`` here. The sdist reaches ``dist-dir`` only after every ``before-all``
passed (:class:`~manywheels.stages._sdist.SdistGate`), so a failing ``before-all`` still
stops the run before any build product is written and before the record changes, as
when the two ran one after another; an interrupt stops the sdist build's process group
too and waits for it (its temporary directories go with it). Without ``before-all``
(or in a dry run) the sdist is built here, as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from manywheels import _signals as signals
from manywheels.stages._run import Run
from manywheels.stages._sdist import SdistGate, SdistInfo

__all__ = ["sdist_beside_before_all"]

_GRACE_S = 60.0

SdistBuild = Callable[..., SdistInfo]
"""``build_sdist(run, gate=None)`` (:func:`manywheels.stages._sdist.build_sdist`)."""


def sdist_beside_before_all(run: Run, build: SdistBuild) -> SdistInfo:
    """``before-all`` in every image's container while ``build(run, gate=...)`` builds
    the sdist in a worker thread; the sdist once both are done.

    Raises:
        BeforeAllError: before-all failed (the sdist build is stopped; nothing written).
        SdistBuildError: the sdist build failed.
        KeyboardInterrupt, Terminated: after the sdist build's processes are gone.
    """
    images = run.images()
    if run.config.dry_run or not run.config.before_all.strip():
        for image in images:
            run.ensure_before_all(image)
        return build(run)
    run.source_date_epoch()  # found here: the worker thread reads it without the run's lock
    gate = SdistGate()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mw-sdist")
    future = pool.submit(build, run, gate=gate)
    try:
        for image in images:
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

