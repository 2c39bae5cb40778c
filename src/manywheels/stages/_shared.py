"""The runs of this process that front ends share between chained stages (nox's
``requires=``, invoke's ``pre=``): one :class:`~manywheels.stages._run.Run` per
configuration, so one container per image serves the whole chain."""

from __future__ import annotations

import atexit
import contextlib

from manywheels.config import Config
from manywheels.stages._run import Run

__all__ = ["close_shared_runs", "shared_run"]

_SHARED: dict[str, Run] = {}


def shared_run(config: Config) -> Run:
    """The :class:`Run` of this process for ``config`` (created on first use).

    Front ends chain stages as separate sessions or tasks in one process (nox's
    ``requires=``, invoke's ``pre=``); sharing one Run per configuration keeps one
    container per image for the whole chain. :func:`close_shared_runs` removes them
    (also called at interpreter exit).
    """
    key = repr(config)
    run = _SHARED.get(key)
    if run is None:
        run = _SHARED[key] = Run(config)
    return run


def close_shared_runs() -> None:
    """Close every shared Run (best effort: the engine may already be gone)."""
    while _SHARED:
        _, run = _SHARED.popitem()
        with contextlib.suppress(Exception):
            run.close()


atexit.register(close_shared_runs)
