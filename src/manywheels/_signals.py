"""Interrupts: SIGINT and SIGTERM end a run cleanly.

Python turns SIGINT (Ctrl-C, which reaches the whole process group) into
:class:`KeyboardInterrupt`. SIGTERM (what CI runners, ``timeout`` and
``docker stop`` send) kills a Python process outright by default, so nothing
would remove the run's containers. :func:`install` and :func:`handling` make
SIGTERM raise :class:`Terminated` in the main thread instead: a
:class:`SystemExit` with code 143, so generic ``except Exception`` handlers do
not swallow it, ``with`` blocks and ``finally`` clauses run (containers are
removed, temporary files deleted) and the process exits 143.

Cleanup itself must not be cut short by a second signal (an impatient second
Ctrl-C): :func:`deferred` postpones SIGINT and SIGTERM while a block runs.

Exit codes (:class:`~manywheels.errors.ExitCode`): 130 after SIGINT, 143 after
SIGTERM.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from manywheels.errors import ExitCode

__all__ = ["Terminated", "deferred", "exit_code_for", "handling", "install"]

_Handler = Callable[[int, FrameType | None], Any] | int | None

_installed = False


class Terminated(SystemExit):
    """SIGTERM was received: raised in the main thread; exits with code 143.

    Attributes:
        signum: the signal number.
    """

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(128 + int(signum))
        self.signum = int(signum)

    def __str__(self) -> str:
        return f"terminated by {signal.Signals(self.signum).name}"


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def install() -> bool:
    """Make SIGTERM raise :class:`Terminated` for the rest of the process (idempotent).

    Front ends whose runs outlive one call (the nox sessions share a run, and its
    containers, until the ``wheels`` chain ends) use this. A SIGTERM handler the
    application set itself (anything but the default) is left alone.

    Returns:
        True when the handler is (now) installed; False outside the main thread or
        when another handler is in place.
    """
    global _installed  # noqa: PLW0603 - one process-wide switch
    if _installed:
        return True
    if not _main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        return False
    signal.signal(signal.SIGTERM, _raise_terminated)
    _installed = True
    return True


@contextmanager
def handling() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated`; the previous handler is
    restored afterwards. A no-op outside the main thread."""
    if not _main_thread():
        yield
        return
    previous: _Handler = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def deferred(*, reraise: bool = True) -> Iterator[list[int]]:
    """Postpone SIGINT and SIGTERM while the block runs (cleanup that must finish).

    Signals arriving meanwhile are recorded in the yielded list, not acted on; the
    previous handlers are restored at the end. If a signal arrived, ``reraise`` is true
    and no exception is propagating or being handled, it is then raised
    (``KeyboardInterrupt`` or :class:`Terminated`). A no-op outside the main thread.
    """
    if not _main_thread():
        yield []
        return
    received: list[int] = []

    def record(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, record) for sig in (signal.SIGINT, signal.SIGTERM)}
    failed = True
    try:
        yield received
        failed = False
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received and reraise and not failed and sys.exc_info()[1] is None:
            if received[0] == signal.SIGINT:
                raise KeyboardInterrupt
            raise Terminated(received[0])


def exit_code_for(error: BaseException) -> int | None:
    """The exit code for an interrupt: 130 for ``KeyboardInterrupt``, 128 + signal
    number for :class:`Terminated` (143 for SIGTERM); ``None`` for anything else."""
    if isinstance(error, Terminated):
        return 128 + error.signum
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.SIGINT
    return None
