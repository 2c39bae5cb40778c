"""Helpers the checks share: naming files in messages, finding logs and files."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator

from manywheels.diagnose.model import Facts, LogText

__all__ = ["GIB", "MAX_NAMED", "failed_logs", "locate", "log_of", "named", "quoted", "toml_list"]

GIB = 1024**3
"""Bytes in a GiB."""
MAX_NAMED = 8
"""Files named in one message before ``and N more``."""


def named(items: Iterable[str], limit: int = MAX_NAMED) -> str:
    """``a, b, c and 2 more``: at most ``limit`` items, comma-separated."""
    items = list(items)
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown


def quoted(items: Iterable[str], limit: int = MAX_NAMED) -> str:
    """At most ``limit`` items, shell-quoted (trailing ``/`` dropped), for a command."""
    items = list(items)
    return " ".join(shlex.quote(i.rstrip("/")) for i in items[:limit])


def failed_logs(facts: Facts, stage: str | None = None) -> Iterator[LogText]:
    """The logs of failed stages (of ``stage`` only, when given)."""
    for log in facts.logs:
        if log.status == "failed" and (stage is None or log.stage == stage):
            yield log


def log_of(facts: Facts, identifier: str, stage: str) -> LogText | None:
    """The log of ``stage`` for ``identifier``, if gathered."""
    return next(
        (log for log in facts.logs if log.identifier == identifier and log.stage == stage), None
    )


def toml_list(items: Iterable[str]) -> str:
    """A TOML array of strings: ``["a", "b"]``."""
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def locate(name: str, files: Iterable[str]) -> list[str]:
    """Files whose path is ``name`` or ends with ``/name`` (a header in an include dir)."""
    name = name.lstrip("./")
    if name.startswith("/manywheels/"):
        # /manywheels/<identifier>/src/<path>: the sdist's extraction directory.
        parts = name.split("/", 4)
        name = parts[4] if len(parts) > 4 else ""
    if not name or name.startswith("/"):
        return []
    suffix = "/" + name
    return sorted(f for f in files if f == name or f.endswith(suffix))
