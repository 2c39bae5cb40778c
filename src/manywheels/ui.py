"""Console output: stage headings, per-identifier output with logs, summary tables.

Stages talk to a :class:`UI`; front ends create it. Container output is written to
a per-identifier log file and echoed to the console (prefixed with the identifier
when several identifiers run at once, one whole line at a time, never interleaved
within a line).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["UI", "SummaryRow"]


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
        self, console: Console | None = None, *, echo: bool = True, prefix: bool = False
    ) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.echo = echo
        self.prefix = prefix
        self._lock = threading.Lock()

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
        if self.ui.echo:
            text = f"[{self.identifier}] {line}" if self.ui.prefix else line
            self.ui._print(text, style="dim" if stream == "stderr" else None)

    def note(self, text: str) -> None:
        """A line of our own in the log (and console): what runs next."""
        self.log.write(f"+ {text}\n")
        self.log.flush()
        if self.ui.echo:
            prefix = f"[{self.identifier}] " if self.ui.prefix else ""
            self.ui._print(f"{prefix}+ {text}", style="cyan")
