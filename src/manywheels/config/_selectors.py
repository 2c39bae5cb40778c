"""Identifier patterns and PEP 735 dependency groups, for the test options.

``test-skip`` patterns are cibuildwheel's (docs/options.md, "build/skip"): shell-style
wildcards (:mod:`fnmatch`) on identifiers such as ``cp312-manylinux_x86_64``, with
``{a,b}`` braces expanded (``cp3{11,12}-*``). ``test-groups`` names PEP 735 dependency
groups of the project's ``pyproject.toml`` (``[dependency-groups]``, ``include-group``
entries followed).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from manywheels.errors import ConfigError

__all__ = ["expand_braces", "group_requirements", "matches_any"]

_BRACES = re.compile(r"\{([^{}]*,[^{}]*)\}")


def expand_braces(pattern: str) -> list[str]:
    """``cp3{11,12}-*`` -> ``["cp311-*", "cp312-*"]`` (innermost first, so nesting works)."""
    match = _BRACES.search(pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [expanded for choice in match.group(1).split(",")
            for expanded in expand_braces(head + choice + tail)]


def matches_any(identifier: str, patterns: Iterable[str]) -> bool:
    """Whether ``identifier`` matches one of ``patterns`` (fnmatch, braces expanded)."""
    return any(fnmatch.fnmatchcase(identifier, expanded)
               for pattern in patterns for expanded in expand_braces(pattern))


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def group_requirements(pyproject: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    """The requirements of the dependency groups ``names`` (PEP 735), in order, includes
    followed, duplicates dropped.

    Raises:
        ConfigError: no ``[dependency-groups]`` table, an unknown group, an include cycle
            or an entry that is neither a string nor ``{include-group = "..."}``.
    """
    table = pyproject.get("dependency-groups")
    if not isinstance(table, Mapping):
        msg = (f"test-groups: {', '.join(names)} named, but pyproject.toml has no "
               "[dependency-groups] table (PEP 735)")
        raise ConfigError(msg)
    groups = {_normalize(str(key)): value for key, value in table.items()}
    found: list[str] = []
    for name in names:
        for requirement in _resolve(groups, _normalize(name), ()):
            if requirement not in found:
                found.append(requirement)
    return found


def _resolve(groups: Mapping[str, Any], name: str, seen: tuple[str, ...]) -> list[str]:
    if name in seen:
        msg = f"test-groups: dependency group include cycle {' -> '.join([*seen, name])}"
        raise ConfigError(msg)
    entries = groups.get(name)
    if not isinstance(entries, list):
        allowed = ", ".join(sorted(groups)) or "none"
        msg = f"test-groups: no dependency group {name!r} in pyproject.toml; it has: {allowed}"
        raise ConfigError(msg)
    found: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            found.append(entry)
        elif isinstance(entry, Mapping) and isinstance(entry.get("include-group"), str):
            found += _resolve(groups, _normalize(entry["include-group"]), (*seen, name))
        else:
            msg = f"test-groups: group {name!r} holds {entry!r}: not a requirement string"
            raise ConfigError(msg)
    return found
