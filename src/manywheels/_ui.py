"""Console output: stage headings, per-identifier output with logs, summary tables.

Stages talk to a :class:`UI`; front ends create it. Container output is written to
a per-identifier log file and echoed to the console (prefixed with the identifier
when several identifiers run at once, one whole line at a time, never interleaved
within a line). On a terminal (not in CI) a stage shows a live table instead (rich
``Live``): each identifier's stage, state, elapsed time and last output line
(:meth:`UI.progress`, :class:`Board`); the output then goes to the logs only.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

__all__ = ["UI", "Board", "SummaryRow", "wants_live"]


@dataclass(frozen=True)
class SummaryRow:
    """One row of a stage summary table. ``duration_s`` in seconds."""

    identifier: str
    status: str
    duration_s: float | None = None
    detail: str = ""


_STATUS_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "skipped": "yellow",
    "interrupted": "magenta",
}


class UI:
    """Console output shared by the stages.

    Args:
        console: the rich console; default one on stderr.
        echo: echo container output to the console (it always goes to the log file).
        prefix: prefix echoed output lines with the identifier (set when jobs > 1).
    """

    def __init__(
        self, console: Console | None = None, *, echo: bool = True, prefix: bool = False,
        live: bool | None = None,
    ) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.echo = echo
        self.prefix = prefix
        self.live = wants_live(self.console) if live is None else live
        self._board: Board | None = None
        self._lock = threading.Lock()

    @contextmanager
    def progress(self, stage: str, identifiers: Sequence[str]) -> Iterator[Board]:
        """The live display of one stage's identifiers (see :class:`Board`).

        With ``live`` (a terminal, not CI), a table redrawn four times a second shows each
        identifier's stage, state, elapsed time and last output line, and container output
        goes only to the logs. Otherwise the board records states and draws nothing: the
        output is echoed as whole lines, prefixed with the identifier.
        """
        board = Board(stage, identifiers)
        if not self.live or self._board is not None:
            yield board
            return
        with Live(console=self.console, get_renderable=board.render, refresh_per_second=4,
                  transient=True, redirect_stdout=False, redirect_stderr=False):
            self._board = board
            try:
                yield board
            finally:
                self._board = None

    def _print(self, text: str, style: str | None = None) -> None:
        with self._lock:
            self.console.print(text, style=style, markup=False, highlight=False)

    def heading(self, text: str) -> None:
        """A stage heading."""
        with self._lock:
            self.console.rule(f"[bold]{escape(text)}")

    def info(self, text: str) -> None:
        """A progress line."""
        self._print(f"manywheels: {text}", style="cyan")

    def warn(self, text: str) -> None:
        """A warning line."""
        self._print(f"manywheels: warning: {text}", style="yellow")

    def error(self, text: str) -> None:
        """An error line."""
        self._print(f"manywheels: error: {text}", style="bold red")

    @contextmanager
    def target_output(self, identifier: str, log_path: Path) -> Iterator[_TargetSink]:
        """A sink for one identifier's container output, appending to ``log_path``."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as log:
            yield _TargetSink(self, identifier, log)

    def summary(self, title: str, rows: Sequence[SummaryRow]) -> None:
        """A summary table at the end of a stage."""
        table = Table(title=title, title_justify="left", show_lines=False)
        table.add_column("identifier")
        table.add_column("status")
        table.add_column("time", justify="right")
        table.add_column("detail", overflow="fold")
        for row in rows:
            style = _STATUS_STYLE.get(row.status, "")
            table.add_row(
                row.identifier,
                f"[{style}]{row.status}[/]" if style else row.status,
                f"{row.duration_s:.1f} s" if row.duration_s is not None else "",
                escape(row.detail),
            )
        with self._lock:
            self.console.print(table)


class _TargetSink:
    """Writes container output lines to the log and, optionally, the console."""

    def __init__(self, ui: UI, identifier: str, log: TextIO) -> None:
        self.ui = ui
        self.identifier = identifier
        self.log = log

    def __call__(self, line: str, stream: str) -> None:
        self.log.write(line + "\n")
        self.log.flush()
        board = self.ui._board
        if board is not None and board.has(self.identifier):
            board.output(self.identifier, line)
        elif self.ui.echo:
            text = f"[{self.identifier}] {line}" if self.ui.prefix else line
            self.ui._print(text, style="dim" if stream == "stderr" else None)

    def note(self, text: str) -> None:
        """A line of our own in the log (and console): what runs next."""
        self.log.write(f"+ {text}\n")
        self.log.flush()
        board = self.ui._board
        if board is not None and board.has(self.identifier):
            board.output(self.identifier, f"+ {text}")
        elif self.ui.echo:
            prefix = f"[{self.identifier}] " if self.ui.prefix else ""
            self.ui._print(f"{prefix}+ {text}", style="cyan")


def wants_live(console: Console, env: dict[str, str] | None = None) -> bool:
    """Whether to draw live tables: the console is a (non-dumb) terminal and ``CI`` is
    unset (CI logs get plain prefixed lines)."""
    environ = os.environ if env is None else env
    return console.is_terminal and not console.is_dumb_terminal and not environ.get("CI")


_MARKS = {"waiting": ("·", "dim"), "running": ("▶", "cyan"), "passed": ("✓", "green"),
          "failed": ("✗", "bold red"), "skipped": ("-", "yellow"),
          "interrupted": ("!", "magenta")}


class Board:
    """The state of one stage's identifiers, drawn by :meth:`UI.progress` (thread-safe).

    Args:
        stage: the stage name (``build``, ``repair``, ``test``).
        identifiers: the identifiers, in display order.
    """

    def __init__(self, stage: str, identifiers: Sequence[str]) -> None:
        self.stage = stage
        self._lock = threading.Lock()
        self._state = dict.fromkeys(identifiers, "waiting")
        self._started: dict[str, float] = {}
        self._ended: dict[str, float] = {}
        self._last: dict[str, str] = {}

    def has(self, identifier: str) -> bool:
        """True when ``identifier`` is on the board."""
        return identifier in self._state

    def start(self, identifier: str) -> None:
        """The identifier's work began (its clock starts)."""
        with self._lock:
            self._state[identifier] = "running"
            self._started[identifier] = time.monotonic()

    def output(self, identifier: str, line: str) -> None:
        """The identifier's latest output line."""
        with self._lock:
            self._last[identifier] = line

    def finish(self, identifier: str, status: str) -> None:
        """The identifier ended: ``passed``, ``failed``, ``skipped`` or ``interrupted``."""
        with self._lock:
            self._state[identifier] = status
            self._ended[identifier] = time.monotonic()

    def state(self, identifier: str) -> str:
        """``waiting``, ``running`` or the final status."""
        with self._lock:
            return self._state[identifier]

    def elapsed(self, identifier: str) -> float | None:
        """Seconds since the identifier started (until it ended); ``None`` before."""
        with self._lock:
            started = self._started.get(identifier)
            if started is None:
                return None
            return self._ended.get(identifier, time.monotonic()) - started

    def render(self) -> Table:
        """The table: identifier, stage, state, elapsed, last output line."""
        table = Table(show_header=True, header_style="bold", expand=True, box=None,
                      padding=(0, 1))
        table.add_column("identifier", no_wrap=True)
        table.add_column("stage", no_wrap=True)
        table.add_column("", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("output", no_wrap=True, overflow="ellipsis", ratio=1)
        for identifier in list(self._state):
            state = self.state(identifier)
            mark, style = _MARKS.get(state, ("?", ""))
            took = self.elapsed(identifier)
            with self._lock:
                last = self._last.get(identifier, "")
            table.add_row(identifier, self.stage, Text(f"{mark} {state}", style=style),
                          f"{took:.1f} s" if took is not None else "",
                          Text(last, style="dim"))
        return table
