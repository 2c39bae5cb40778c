"""Where the time goes: the tool itself versus the commands it runs.

:meth:`manywheels.engine.Container.run` measures each command it streams with
:func:`command_timer`; a stage wraps one identifier's work in :func:`measure`, which
adds up the command time spent *in that thread* meanwhile. The rest of the work's
wall time is the tool's own: copying files in and out, rendering scripts, hashing,
writing the report, waiting on the engine's API.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Timing", "command_timer", "measure"]


@dataclass
class Timing:
    """Time accounting of one piece of work, in seconds.

    Attributes:
        wall_s: wall-clock time of the whole work.
        command_s: time spent running commands (in containers or on the host): from
            starting a command to the end of its output.
        commands: how many commands ran.
    """

    wall_s: float = 0.0
    command_s: float = 0.0
    commands: int = 0

    @property
    def tool_s(self) -> float:
        """The tool's own time: ``wall_s - command_s`` (never negative)."""
        return max(0.0, self.wall_s - self.command_s)

    def as_record(self) -> dict[str, float | int]:
        """The fields the run report keeps (rounded to milliseconds)."""
        return {
            "wall_s": round(self.wall_s, 3),
            "command_s": round(self.command_s, 3),
            "tool_s": round(self.tool_s, 3),
            "commands": self.commands,
        }


_local = threading.local()


def _stack() -> list[Timing]:
    stack: list[Timing] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


@contextmanager
def measure() -> Iterator[Timing]:
    """Measure a piece of work done in this thread; the yielded :class:`Timing` is
    complete when the block ends (also when it raises). Nested measurements each
    count the commands run inside them."""
    timing = Timing()
    stack = _stack()
    stack.append(timing)
    started = time.monotonic()
    try:
        yield timing
    finally:
        timing.wall_s = time.monotonic() - started
        stack.remove(timing)


@contextmanager
def command_timer() -> Iterator[None]:
    """Count the block as command time in every :func:`measure` active in this thread."""
    started = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - started
        for timing in _stack():
            timing.command_s += elapsed
            timing.commands += 1
