"""The host sdist build's gate and process group.

The sdist builds in a worker thread from the start of the build stage, while the main
thread checks the run's input (record, plan: images inspected or pulled, containers
started), locks the outputs and runs ``before-all`` (:mod:`manywheels.stages._overlap`).
:class:`SdistGate` keeps the build from writing before the run may: its log and console
output are held (:class:`HeldLog`) until the run's input passed (:meth:`SdistGate.check`),
and the sdist reaches ``dist-dir`` (and a failure the record) only once ``before-all``
passed (:meth:`SdistGate.open`). Bad input or a failing ``before-all`` leaves no trace of
the sdist build. :meth:`SdistGate.stop` kills the build's process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType

    from manywheels._ui import UI

__all__ = ["HeldLog", "SdistGate", "SdistStopped", "kill_group"]


_GROUP_GRACE_S = 5.0


def kill_group(process: subprocess.Popen[str]) -> None:
    """Stop a build process and everything it started (its own session), and wait until
    every process of the group is gone (SIGTERM, then SIGKILL after
    ``_GROUP_GRACE_S`` seconds)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_GROUP_GRACE_S)
        if _group_gone(process.pid, _GROUP_GRACE_S):
            break
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_GROUP_GRACE_S)


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group ``pgid`` still runs (zombies, dead but not yet
    reaped by whoever inherited them, do not count; ``/proc``, else ``killpg(pgid, 0)``)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in {"Z", "X"}:
            return True
    return False


def _group_gone(pgid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the process group ``pgid`` to be empty."""
    deadline = time.monotonic() + timeout
    while _group_alive(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


class SdistGate:
    """Lets another thread stop a host sdist build (run in a worker thread), hold its
    output until the run's input passed (:meth:`check`) and its sdist until
    ``before-all`` passed (:meth:`open`). :meth:`opened` is a gate with nothing to wait
    for (the build runs alone)."""

    def __init__(self) -> None:
        self._state = threading.Condition()
        self._process: subprocess.Popen[str] | None = None
        self._stopped = False
        self._checked = False
        self._opened = False

    @classmethod
    def opened(cls) -> SdistGate:
        """A gate already checked and open."""
        gate = cls()
        gate.open()
        return gate

    def started(self, process: subprocess.Popen[str]) -> None:
        """The build's process started (stopped at once when :meth:`stop` came first)."""
        with self._state:
            self._process = process
            stopped = self._stopped
        if stopped:
            kill_group(process)

    def stop(self) -> None:
        """Stop the build: its process group is killed, nothing reaches ``dist-dir`` and
        the record is left alone (the build raises :class:`SdistStopped`)."""
        with self._state:
            self._stopped = True
            process = self._process
            self._state.notify_all()
        if process is not None:
            kill_group(process)

    def check(self) -> None:
        """The run's input passed and its outputs are locked: the build may write its log
        and show its output."""
        with self._state:
            self._checked = True
            self._state.notify_all()

    def open(self) -> None:
        """Let the built sdist into ``dist-dir`` (implies :meth:`check`)."""
        with self._state:
            self._checked = self._opened = True
            self._state.notify_all()

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        with self._state:
            return self._stopped

    @property
    def checked(self) -> bool:
        """Whether :meth:`check` (or :meth:`open`) was called."""
        with self._state:
            return self._checked

    def wait_checked(self) -> None:
        """Wait for :meth:`check` (raises :class:`SdistStopped` when :meth:`stop` came
        instead)."""
        self._wait(lambda: self._checked)

    def wait_open(self) -> None:
        """Wait for :meth:`open` (raises :class:`SdistStopped` when :meth:`stop` came
        instead)."""
        self._wait(lambda: self._opened)

    def _wait(self, passed: Callable[[], bool]) -> None:
        with self._state:
            self._state.wait_for(lambda: passed() or self._stopped)
            if self._stopped:
                raise SdistStopped


class SdistStopped(Exception):  # noqa: N818 - not an error: the caller asked for it
    """The sdist build was stopped through its :class:`SdistGate`."""


class HeldLog:
    """The sdist build's log sink (``sink(line, stream)``, ``sink.note(text)``), holding
    lines in memory until the gate is checked; then ``on_release()`` runs (the build
    says what it builds), the log at ``path`` is started afresh (this build's log only)
    and the held lines go to it and to the console (:meth:`UI.target_output`).

    A context manager: leaving it closes the log.
    """

    def __init__(self, ui: UI, path: Path, gate: SdistGate,
                 on_release: Callable[[], None]) -> None:
        self._ui = ui
        self._path = path
        self._gate = gate
        self._on_release = on_release
        self._held: list[tuple[str, str | None]] = []
        self._stack = contextlib.ExitStack()
        self._sink: Callable[[str, str], None] | None = None
        self._note: Callable[[str], None] | None = None

    def __enter__(self) -> HeldLog:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stack.close()

    def __call__(self, line: str, stream: str) -> None:
        self._emit(line, stream)

    def note(self, text: str) -> None:
        """A line of our own (what runs next)."""
        self._emit(text, None)

    def release(self) -> None:
        """Wait for the gate's check, then write what was held.

        Raises:
            SdistStopped: the gate was stopped instead.
        """
        self._gate.wait_checked()
        self._open()

    def _emit(self, text: str, stream: str | None) -> None:
        if self._sink is None and self._gate.checked:
            self._open()
        if self._sink is None or self._note is None:
            self._held.append((text, stream))
        elif stream is None:
            self._note(text)
        else:
            self._sink(text, stream)

    def _open(self) -> None:
        if self._sink is not None:
            return
        self._on_release()
        self._path.unlink(missing_ok=True)
        sink = self._stack.enter_context(self._ui.target_output("sdist", self._path))
        self._sink, self._note = sink, sink.note
        held, self._held = self._held, []
        for text, stream in held:
            self._emit(text, stream)


