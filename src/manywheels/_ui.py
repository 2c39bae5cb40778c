"""Console output: stage headings, per-identifier results with logs, summary tables.

Stages talk to a :class:`UI`; front ends create it. Container output always goes to a
per-identifier log file. What the console shows depends on where it goes:

- on a terminal (not in CI), a stage shows a live table (rich ``Live``): each
  identifier's stage, state, elapsed time and last output line (:meth:`UI.progress`,
  :class:`Board`), then a summary table whose wheel names are never broken;
- elsewhere (CI, a pipe, a file), one line per identifier and stage as it ends
  (status, seconds, wheel or reason), then one tally line per stage and, for each
  failure, the tail of its log (:meth:`UI.result`, :meth:`UI.summary`);
- with ``build-verbosity`` >= 1 (``-v``), every output line is echoed as well
  (prefixed with the identifier when several run at once, whole lines, never
  interleaved within a line) and no live table is drawn.

When ``GITHUB_ACTIONS`` is set, each stage's lines are a collapsible log group
(``::group::`` ... ``::endgroup::``); its tally and failures follow the group.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.measure import Measurement
from rich.segment import Segments
from rich.table import Table
from rich.text import Text

__all__ = ["UI", "Board", "SummaryRow", "result_line", "tally", "wants_live"]


@dataclass(frozen=True)
class SummaryRow:
    """One row of a stage summary table. ``duration_s`` in seconds; ``log``: the
    identifier's log of the stage (its tail is shown when the row failed)."""

    identifier: str
    status: str
    duration_s: float | None = None
    detail: str = ""
    log: Path | None = None


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
        live: draw live tables; default: on a terminal outside CI (:func:`wants_live`).
        github: GitHub Actions log groups; default: when ``GITHUB_ACTIONS`` is set.
    """

    TAIL_LINES = 15
    """Lines of a failing log shown on the console."""

    def __init__(
        self, console: Console | None = None, *, echo: bool = True, prefix: bool = False,
        live: bool | None = None, github: bool | None = None,
    ) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.echo = echo
        self.prefix = prefix
        self.live = wants_live(self.console) if live is None else live
        self.github = bool(os.environ.get("GITHUB_ACTIONS")) if github is None else github
        self._board: Board | None = None
        self._lock = threading.Lock()
        self._group_open = False

    @classmethod
    def for_run(cls, *, verbosity: int = 0, prefix: bool = False) -> UI:
        """The UI of a run: ``verbosity`` (``build-verbosity``) >= 1 echoes every output
        line and draws no live table; 0 keeps output in the logs (see the module)."""
        verbose = verbosity > 0
        return cls(echo=verbose, prefix=prefix, live=False if verbose else None)

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
        """A stage heading; opens the stage's log group under GitHub Actions (closing an
        open one)."""
        if self.github:
            self.end_group()
            with self._lock:
                self._group_open = True
            self._print(f"::group::{text}")
            return
        with self._lock:
            self.console.rule(f"[bold]{escape(text)}")

    def end_group(self) -> None:
        """Close the open GitHub Actions log group (no-op without one)."""
        with self._lock:
            was_open, self._group_open = self._group_open, False
        if was_open:
            self._print("::endgroup::")

    def result(self, stage: str, row: SummaryRow) -> None:
        """One identifier's stage ended: one line (status, seconds, wheel or reason),
        outside a live display (a live table shows it instead)."""
        if self.live:
            return
        self._print(result_line(stage, row), style=_STATUS_STYLE.get(row.status))

    def log_tail(self, log: Path, lines: int | None = None) -> None:
        """The last ``lines`` lines of a log (default :attr:`TAIL_LINES`), indented under a
        line naming it; nothing when the log is unreadable or empty."""
        count = self.TAIL_LINES if lines is None else lines
        try:
            text = log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        tail = [line for line in text if line.strip()][-count:]
        if not tail:
            return
        self._print(f"manywheels: last {len(tail)} lines of {log}:", style="yellow")
        for line in tail:
            self._print(f"  | {line}", style="dim")

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

    def summary(self, title: str, rows: Sequence[SummaryRow], *,
                reported: bool = False) -> None:
        """The end of a stage: on a live display, a summary table (wheel names never
        broken); elsewhere, one line per row (unless ``reported``: :meth:`result` printed
        them), the end of the log group and one tally line. Then each failure's log tail."""
        if self.live:
            self._table(title, rows)
        else:
            if not reported:
                stage = title.split(maxsplit=1)[0]
                for row in rows:
                    self.result(stage, row)
            self.end_group()
            self._print(f"manywheels: {title}: {tally(rows)}")
        for row in rows:
            if row.status == "failed" and row.log is not None:
                self.log_tail(row.log)

    def _table(self, title: str, rows: Sequence[SummaryRow]) -> None:
        """The summary table, at least as wide as its longest words: a wheel name (one
        word) is never broken; longer details wrap between words."""
        table = _summary_table(title, rows)
        words = _summary_table(title, rows, cell=_longest_word)
        needed = Measurement.get(self.console, self.console.options.update(width=10_000),
                                 words).maximum
        options = self.console.options.update(width=max(self.console.width, needed))
        segments = list(self.console.render(table, options))
        with self._lock:  # wider than the console when needed: unwrapped lines
            self.console.print(Segments(segments), soft_wrap=True, end="")


def _longest_word(text: str) -> str:
    return max(text.split(), key=len, default="")


def _summary_table(title: str, rows: Sequence[SummaryRow],
                   cell: Callable[[str], str] = str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("identifier")
    table.add_column("status")
    table.add_column("time", justify="right")
    table.add_column("detail", overflow="fold")
    for row in rows:
        style = _STATUS_STYLE.get(row.status, "")
        took = f"{row.duration_s:.1f} s" if row.duration_s is not None else ""
        table.add_row(
            cell(row.identifier),
            f"[{style}]{cell(row.status)}[/]" if style else cell(row.status),
            took,
            escape(cell(row.detail)),
        )
    return table


def result_line(stage: str, row: SummaryRow) -> str:
    """``manywheels: build cp312-manylinux_x86_64 passed 4.2 s: <wheel or reason>``."""
    took = f" {row.duration_s:.1f} s" if row.duration_s is not None else ""
    detail = f": {row.detail}" if row.detail else ""
    return f"manywheels: {stage} {row.identifier} {row.status}{took}{detail}"


def tally(rows: Sequence[SummaryRow]) -> str:
    """Counts per status, in a fixed order: ``3 passed, 1 failed``; ``nothing`` when empty."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    order = [*_STATUS_STYLE, *sorted(set(counts) - set(_STATUS_STYLE))]
    return ", ".join(f"{counts[status]} {status}" for status in order if status in counts) \
        or "nothing"


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
