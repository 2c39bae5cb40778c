"""PyPy and GraalPy on demand: the image's ``manylinux-interpreters`` (what cibuildwheel does).

The manylinux images ship CPython under ``/opt/python`` and install PyPy and GraalPy on
demand with ``manylinux-interpreters`` (pypa/manylinux, docker/build_scripts).
:func:`list_interpreters` asks it what it can provide (``list --format json``: every
directory, installed or not), so the plan can choose ``pp311``/``gp242`` identifiers;
:func:`ensure_interpreters` installs, before building or testing, the directories a run
needs that are missing (``manylinux-interpreters ensure <dir>...``; it downloads them, so
the container needs network). An image without the tool offers what ``/opt/python`` holds.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from manywheels.engine import Container
from manywheels.naming._tags import PythonTag, parse_install_dir

__all__ = ["TOOL", "Interpreter", "ensure_interpreters", "list_interpreters",
           "missing_dirs", "parse_interpreter_list"]

TOOL = "manylinux-interpreters"
"""The manylinux images' interpreter installer."""

_PYTHON_ROOT = "/opt/python"


@dataclass(frozen=True)
class Interpreter:
    """One entry of ``manylinux-interpreters list``: its tag, directory and whether it
    is installed."""

    tag: PythonTag
    install_dir: str
    installed: bool


def parse_interpreter_list(text: str) -> list[Interpreter]:
    """The entries of ``manylinux-interpreters list --format json`` whose directory names
    an interpreter manywheels knows (CPython, PyPy, GraalPy); others are left out.

    Raises:
        ValueError: the text is not the tool's JSON list.
    """
    data = json.loads(text)
    if not isinstance(data, list):
        msg = f"{TOOL} list: expected a JSON list, got {type(data).__name__}"
        raise ValueError(msg)  # noqa: TRY004  # a malformed answer, not a wrong argument
    found = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("identifier"), str):
            msg = f"{TOOL} list: an entry without an identifier: {entry!r}"
            raise ValueError(msg)  # noqa: TRY004
        tag = parse_install_dir(entry["identifier"])
        if tag is not None:
            found.append(Interpreter(tag, entry["identifier"], bool(entry.get("installed"))))
    return found


def list_interpreters(container: Container) -> list[Interpreter] | None:
    """What the image's ``manylinux-interpreters`` offers (installed or not); ``None``
    when the image has no such tool or its answer is unreadable (the caller then lists
    ``/opt/python``)."""
    probe = f"command -v {TOOL} >/dev/null 2>&1 && {TOOL} list --format json"
    text = container.output(["sh", "-c", probe], check=False)
    if not text.strip():
        return None
    try:
        return parse_interpreter_list(text)
    except ValueError:
        return None


def missing_dirs(container: Container, interpreters: Iterable[str]) -> list[str]:
    """The install directories of ``interpreters`` (``/opt/python/<dir>/bin/python``)
    whose interpreter is not there yet and the image's ``manylinux-interpreters`` can
    install, sorted (``[]`` without that tool: the build then names what is missing)."""
    dirs = sorted({posixpath.basename(posixpath.dirname(posixpath.dirname(path)))
                   for path in interpreters if path.startswith(_PYTHON_ROOT + "/")})
    if not dirs:
        return []
    script = (f"command -v {TOOL} >/dev/null 2>&1 || exit 0; "
              f'for d; do [ -x "{_PYTHON_ROOT}/$d/bin/python" ] || echo "$d"; done')
    return container.output(["sh", "-c", script, "sh", *dirs], check=False).split()


def ensure_interpreters(container: Container, interpreters: Iterable[str],
                        info: Callable[[str], None] | None = None) -> list[str]:
    """Install the interpreters of ``interpreters`` (paths under ``/opt/python``) that
    the container lacks, with ``manylinux-interpreters ensure <dir>...``; returns the
    directories it installed (``[]`` when everything is there: no command runs).

    Raises:
        CommandError: the tool failed (exit 5, with its last lines; it needs network).
    """
    missing = missing_dirs(container, interpreters)
    if missing:
        if info is not None:
            info(f"installing {', '.join(missing)} with {TOOL} ensure")
        container.run([TOOL, "ensure", *missing])
    return missing
