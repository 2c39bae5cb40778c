"""Ownership: locks on the output directories, and which process owns a container.

**Locks.** Two runs writing the same ``dist-dir`` or ``output-dir`` at once would
interleave their wheels, logs and run reports. Every stage therefore takes an
exclusive lock on both directories before it writes there (:class:`DirectoryLock`,
``flock(2)`` on ``<dir>/.manywheels.lock``) and a run keeps it until it ends. A
second run fails fast with :class:`~manywheels.errors.LockedError` (exit code 9),
naming the directory and the process holding it. The kernel drops the lock when the
holder dies, however it dies, so a crashed run never blocks the next one. Locks are
per process: runs of one process share them (nox sessions of one invocation).

**Owners.** Every container carries an owner label (:func:`owner_token`:
``host:pid:start-time``). :func:`owner_alive` tells whether that process still runs,
so containers a crashed run left behind can be told from those of a live concurrent
run (:func:`classify_leftovers`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from manywheels.errors import LockedError

__all__ = [
    "LOCK_NAME",
    "DirectoryLock",
    "Leftovers",
    "classify_leftovers",
    "owner_alive",
    "owner_token",
]

LOCK_NAME = ".manywheels.lock"
"""The lock file in each locked directory (hidden; holds the holder's pid and command)."""

_held: dict[Path, tuple[int, int]] = {}  # resolved lock file -> (fd, reference count)
_held_lock = threading.Lock()


def _process_start(pid: int) -> str | None:
    """The start time of a process in clock ticks since boot (``/proc/<pid>/stat``)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after it.
    fields = text.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def owner_token(pid: int | None = None) -> str:
    """``host:pid:start-time`` of a process (default this one): stable for its life,
    never reused by a later process with the same pid."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_process_start(pid) or '0'}"


def owner_alive(token: str) -> bool | None:
    """Whether the process named by an :func:`owner_token` still runs.

    Returns:
        True or False for a process of this host; ``None`` when the token names another
        host (or is malformed) and liveness cannot be told.
    """
    parts = token.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    host, pid_text, start = parts
    if host != socket.gethostname():
        return None
    now = _process_start(int(pid_text))
    return now is not None and start in {"0", now}


@dataclass(frozen=True)
class Leftovers:
    """Containers of other runs, by what can be said about their owner.

    Attributes:
        orphaned: names of containers whose owning process is gone (a crashed or killed
            run); safe to remove.
        in_use: names of containers of a live run of this host; never touched.
        unknown: names of running containers whose owner cannot be checked: another
            host's (a shared engine), or started by a manywheels without owner labels;
            reported, never removed.
    """

    orphaned: tuple[str, ...] = ()
    in_use: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


def classify_leftovers(
    containers: Iterable[tuple[str, Mapping[str, str], str]], owner_label: str, run_id_label: str,
    current_run: str | None = None,
) -> Leftovers:
    """Sort labelled containers by the liveness of their owner.

    Args:
        containers: ``(name, labels, status)`` of each container carrying the manywheels
            label (``status`` as the engine reports it: ``running``, ``exited``, ...).
        owner_label: the label holding the :func:`owner_token`.
        run_id_label: the label holding the run id.
        current_run: the run id of the asking run; its own containers are skipped.
    """
    orphaned: list[str] = []
    in_use: list[str] = []
    unknown: list[str] = []
    for name, labels, status in containers:
        if current_run is not None and labels.get(run_id_label) == current_run:
            continue
        token = labels.get(owner_label)
        alive = owner_alive(token) if token else None
        if alive is False:
            orphaned.append(name)
        elif alive is True:
            in_use.append(name)
        elif status == "running":
            unknown.append(name)
        else:
            orphaned.append(name)
    return Leftovers(tuple(sorted(orphaned)), tuple(sorted(in_use)), tuple(sorted(unknown)))


def _describe_holder(path: Path) -> str:
    try:
        info: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "another manywheels run"
    if not isinstance(info, dict):
        return "another manywheels run"
    pid = info.get("pid")
    command = str(info.get("command") or "").strip()
    since = info.get("since")
    text = f"another manywheels run (pid {pid}"
    if command:
        text += f", `{command[:100]}`"
    if isinstance(since, int | float):
        text += f", since {time.strftime('%H:%M:%S', time.localtime(since))}"
    return text + ")"


class DirectoryLock:
    """An exclusive, per-process lock on a directory that runs write into.

    Args:
        directory: the directory (created when absent, on :meth:`acquire`).
        role: how the directory is named in messages (``dist-dir``, ``output-dir``).

    Acquiring twice in one process (two runs sharing a directory) shares the lock; it
    is released when the last holder releases it.
    """

    def __init__(self, directory: Path, role: str) -> None:
        self.directory = directory
        self.role = role
        self.path = directory.resolve() / LOCK_NAME
        self._held = False

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._held

    def acquire(self) -> None:
        """Take the lock or fail at once.

        Raises:
            LockedError: another process holds it (names the directory and the holder).
        """
        if self._held:
            return
        with _held_lock:
            shared = _held.get(self.path)
            if shared is not None:
                _held[self.path] = (shared[0], shared[1] + 1)
                self._held = True
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                os.close(fd)
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                msg = (
                    f"{self.role} {str(self.directory)!r} is in use by "
                    f"{_describe_holder(self.path)}: wait for it to finish, or give this run "
                    f"another {self.role}"
                )
                raise LockedError(msg) from None
            info = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
                "since": time.time(),
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
            _held[self.path] = (fd, 1)
            self._held = True

    def release(self) -> None:
        """Give the lock up (the last holder of this process unlocks; the file stays)."""
        if not self._held:
            return
        self._held = False
        with _held_lock:
            fd, count = _held[self.path]
            if count > 1:
                _held[self.path] = (fd, count - 1)
                return
            del _held[self.path]
            try:
                os.ftruncate(fd, 0)
            finally:
                os.close(fd)  # closing the last descriptor drops the flock

    def __enter__(self) -> DirectoryLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
