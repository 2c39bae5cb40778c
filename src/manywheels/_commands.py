"""How the user runs a stage in the front end in use, for hints in messages.

The front ends say which one they are (:func:`using_frontend`); stages name a stage's
command with :func:`stage_command`: ``nox -s wheels-build`` under nox,
``invoke wheels.build`` under invoke, ``manywheels build`` on the command line.
Outside any front end (the stage functions called from code) hints name nox's sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

__all__ = ["Frontend", "current_frontend", "stage_command", "using_frontend"]

Frontend = Literal["nox", "invoke", "cli"]

_current: list[tuple[Frontend, str]] = [("nox", "wheels")]
"""A stack: the front end in use is the last entry (the stage's worker threads read it)."""


def current_frontend() -> tuple[Frontend, str]:
    """The front end in use and its prefix (nox's session prefix, invoke's collection)."""
    return _current[-1]


@contextmanager
def using_frontend(frontend: Frontend, prefix: str = "wheels") -> Iterator[None]:
    """Within the block, hints name ``frontend``'s commands (:func:`stage_command`)."""
    _current.append((frontend, prefix))
    try:
        yield
    finally:
        _current.pop()


def stage_command(stage: str | None = None) -> str:
    """The command that runs ``stage`` (``build``, ``clean-cache``, ...; ``None``: the
    build -> repair -> test chain) in the front end in use.

    >>> stage_command("build")
    'nox -s wheels-build'
    """
    frontend, prefix = current_frontend()
    if frontend == "invoke":
        return f"invoke {prefix}" if stage is None else f"invoke {prefix}.{stage}"
    if frontend == "cli":
        return f"manywheels {stage or 'wheels'}"
    return f"nox -s {prefix}" if stage is None else f"nox -s {prefix}-{stage}"
