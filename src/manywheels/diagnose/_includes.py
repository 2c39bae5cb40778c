"""Which directories a failed compile searched for headers, read from its build log.

A header the compiler could not find is the project's own (a file the sdist lacks) only
when the project has a file of that name in a directory the compile searched: an
``-I``/``-iquote``/``-isystem``/``-idirafter`` directory of the compile command, or the
directory of the file that includes it. A file of the same name elsewhere in the tree
(cffi ships Windows copies of ``ffi.h``) is not on the search path: the header is a
system one the image lacks.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Collection

__all__ = ["is_project_header", "searched_dirs"]

_COMPILER = re.compile(
    r"^(?:\S*/)?(?:[\w.]+-)*(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+|icc|icpx)(?:-[\d.]+)?$")
_INCLUDE_FLAGS = ("-I", "-iquote", "-isystem", "-idirafter")
_BUILD_ROOT = re.compile(r"^/manywheels/[^/]+/src(?:/|$)")
"""The sdist's extraction directory in the container (the project root of the build)."""


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def _is_compile(words: list[str]) -> bool:
    return bool(words) and bool(_COMPILER.match(words[0])) and "-c" in words


def _include_dirs(words: list[str]) -> list[str]:
    dirs: list[str] = []
    for index, word in enumerate(words):
        for flag in _INCLUDE_FLAGS:
            if word == flag and index + 1 < len(words):
                dirs.append(words[index + 1])
            elif word.startswith(flag) and len(word) > len(flag) and flag == "-I":
                dirs.append(word[len(flag):])
    return dirs


def _project_relative(path: str) -> str | None:
    """A compile-time path as a path relative to the project root; ``None`` outside it."""
    if path.startswith("/"):
        match = _BUILD_ROOT.match(path)
        if match is None:
            return None
        path = path[match.end():]
    normal = posixpath.normpath(path) if path else "."
    return None if normal.startswith("..") else normal


def searched_dirs(text: str, error_line: str) -> tuple[str, ...] | None:
    """The project directories the compile that printed ``error_line`` searched.

    Args:
        text: the build log.
        error_line: the compiler's error line (``src/x.c:3:10: fatal error: y.h: ...``).

    Returns:
        Project-relative POSIX directories (``.`` for the root): the including file's
        directory and the include flags' directories inside the project; ``None`` when the
        log shows no compile command before the error line.
    """
    lines = [line.strip() for line in text.splitlines()]
    wanted = error_line.strip()
    end = lines.index(wanted) if wanted in lines else len(lines)
    command = next((words for line in reversed(lines[:end])
                    if _is_compile(words := _words(line))), None)
    if command is None:
        return None
    found = []
    including = wanted.split(":", 1)[0] if ":" in wanted else ""
    if including and " " not in including:
        found.append(posixpath.dirname(including) or ".")
    found += _include_dirs(command)
    relative = [r for path in found if (r := _project_relative(path)) is not None]
    return tuple(dict.fromkeys(relative))


def is_project_header(name: str, dirs: Collection[str], files: Collection[str]) -> bool:
    """Whether the project has the header ``name`` (as written in the ``#include``) in one
    of the searched directories ``dirs`` (project-relative; ``files`` too)."""
    for directory in dirs:
        candidate = posixpath.normpath(posixpath.join(directory, name))
        if candidate in files:
            return True
    return False
