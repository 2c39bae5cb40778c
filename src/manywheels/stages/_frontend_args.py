"""The build frontend's extra arguments: verbosity, PEP 517 config settings and the
``frontend = "NAME; args: ..."`` arguments (cibuildwheel's build-verbosity,
config-settings and build-frontend, docs/options.md)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

__all__ = ["frontend_extra_args"]

_SETTING_FLAG = {"build": "--config-setting", "pip": "--config-settings",
                 "uv": "--config-setting"}


def _verbosity(frontend: str, level: int) -> list[str]:
    if level > 0:
        return ["-v"] if frontend == "build" else ["-" + "v" * level]
    if level < 0 and frontend != "build":  # pypa/build has no --quiet
        return ["-" + "q" * -level]
    return []


def frontend_extra_args(frontend: str, *, verbosity: int = 0,
                        settings: Sequence[tuple[str, str]] = (),
                        args: Sequence[str] = ()) -> str:
    """Shell words added to the frontend's command before the source directory.

    Args:
        frontend: ``build``, ``pip`` or ``uv``.
        verbosity: -3 to 3 (positive ``-v``, negative ``-q``; pypa/build: ``-v`` once).
        settings: (key, value) config settings, repeated keys kept in order.
        args: the frontend arguments as configured (``frontend = "build; args: ..."``).
    """
    words = _verbosity(frontend, verbosity)
    words += [f"{_SETTING_FLAG[frontend]}={key}={value}" for key, value in settings]
    words += list(args)
    return " ".join(shlex.quote(word) for word in words)
