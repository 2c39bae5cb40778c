"""``build`` and ``skip``: identifier patterns, as cibuildwheel selects builds.

A pattern list is space-separated words, each an :func:`fnmatch.fnmatchcase` pattern with
``{a,b}`` braces (``cp3{11,12}-*``, ``*musllinux*``, ``*-manylinux_{i686,aarch64}``);
an identifier is built when it matches a ``build`` word and no ``skip`` word
(https://cibuildwheel.pypa.io/en/stable/options/#build-skip).
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

__all__ = ["expand_braces", "is_selected", "matches"]


def _closing(pattern: str, start: int) -> int:
    """The index of the ``}`` closing the ``{`` at ``start`` (-1 when unbalanced)."""
    depth = 0
    for index in range(start, len(pattern)):
        if pattern[index] == "{":
            depth += 1
        elif pattern[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _split_top(body: str) -> list[str]:
    """Split a brace body at its top-level commas."""
    parts, depth, current = [], 0, ""
    for char in body:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        current += char
    return [*parts, current]


def expand_braces(pattern: str) -> list[str]:
    """Every pattern a brace pattern stands for: ``cp3{11,12}-*`` → ``cp311-*``,
    ``cp312-*`` (nested braces expand too; a ``{`` without ``,`` or ``}`` stays literal)."""
    start = pattern.find("{")
    while start != -1:
        end = _closing(pattern, start)
        if end != -1 and "," in pattern[start:end]:
            head, tail = pattern[:start], pattern[end + 1:]
            return [expanded for option in _split_top(pattern[start + 1:end])
                    for expanded in expand_braces(head + option + tail)]
        start = pattern.find("{", start + 1)
    return [pattern]


def matches(identifier: str, patterns: Iterable[str]) -> bool:
    """Whether an identifier matches any of the (brace) patterns."""
    return any(fnmatchcase(identifier, expanded)
               for word in patterns for expanded in expand_braces(word))


def is_selected(identifier: str, build: Iterable[str], skip: Iterable[str]) -> bool:
    """Whether ``build``/``skip`` select an identifier: it matches a ``build`` pattern (none
    given: every identifier) and no ``skip`` pattern."""
    build = list(build)
    return (not build or matches(identifier, build)) and not matches(identifier, skip)
