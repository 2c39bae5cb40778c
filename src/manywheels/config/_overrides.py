"""``[[tool.manywheels.overrides]]``: per-identifier options, cibuildwheel's overrides
(docs/options.md, "Overrides").

Each entry has ``select`` (identifier patterns: shell wildcards with ``{a,b}`` braces,
several separated by spaces or given as a list) and any per-build option. Entries apply in
order to every identifier they select; a later entry wins. ``inherit.<option> =
"append" | "prepend"`` combines the entry's value with the value so far (lists and tables:
joined; scripts: joined by a newline) instead of replacing it (``"none"``, the default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from manywheels.config._options import BY_KEY
from manywheels.config._selectors import matches_any
from manywheels.config._values import parse_value
from manywheels.errors import ConfigError

__all__ = ["OVERRIDABLE", "Override", "apply_overrides", "parse_overrides"]

OVERRIDABLE: tuple[str, ...] = (
    "before-build", "environment", "frontend", "test-command", "test-requires",
    "test-extras", "test-environment", "repair-command", "before-test", "test-sources",
    "test-groups", "test-timeout", "config-settings", "build-verbosity", "audit-command",
    "audit-requires",
)
"""The per-build options an override may set (``before-all`` runs once per container, so
it is not per identifier here)."""

_COMBINABLE = {"list", "table", "settings", "str", "optstr", "commands"}
_MODES = ("none", "append", "prepend")


@dataclass(frozen=True)
class Override:
    """One ``[[tool.manywheels.overrides]]`` entry: ``select`` patterns, parsed values by
    key, and the inherit mode of each key (``none``, ``append``, ``prepend``)."""

    select: tuple[str, ...]
    values: Mapping[str, Any] = field(default_factory=dict)
    inherit: Mapping[str, str] = field(default_factory=dict)

    def selects(self, identifier: str) -> bool:
        """Whether this entry applies to ``identifier`` (``cp312-manylinux_x86_64``)."""
        return matches_any(identifier, self.select)


def _select(where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) and value.split():
        return tuple(value.split())
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    msg = f"{where}: select must be identifier patterns (e.g. \"cp312-*\"), got {value!r}"
    raise ConfigError(msg)


def _inherit(where: str, value: object, keys: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        msg = f"{where}: inherit must be a table (inherit.environment = \"append\")"
        raise ConfigError(msg)
    modes: dict[str, str] = {}
    for key, mode in value.items():
        if key not in keys or BY_KEY[key].kind not in _COMBINABLE or mode not in _MODES:
            msg = (f"{where}: inherit.{key} = {mode!r}; allowed are append, prepend or none, "
                   "for a list, table or script this entry sets")
            raise ConfigError(msg)
        modes[str(key)] = str(mode)
    return modes


def _entry(index: int, raw: object, table: str) -> Override:
    where = f"[[{table}.overrides]] #{index + 1} in pyproject.toml"
    if not isinstance(raw, Mapping) or "select" not in raw:
        msg = f"{where}: each override is a table with select = \"<pattern>\""
        raise ConfigError(msg)
    values: dict[str, Any] = {}
    for key, item in raw.items():
        if key in {"select", "inherit"}:
            continue
        if key not in OVERRIDABLE:
            msg = f"{where}: {key!r} cannot be overridden; allowed are " + ", ".join(OVERRIDABLE)
            raise ConfigError(msg)
        values[key] = parse_value(BY_KEY[key], where, item)
    return Override(_select(where, raw["select"]), values,
                    _inherit(where, raw.get("inherit", {}), values))


def parse_overrides(raw: object, table: str = "tool.manywheels") -> tuple[Override, ...]:
    """Parse the ``overrides`` array of ``[tool.manywheels]`` (``None``: none; ``table``:
    the table named in errors).

    Raises:
        ConfigError: not an array of tables, no ``select``, a key that is not per-build, a
            bad value, or a bad ``inherit`` (each names the entry and the key).
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        msg = ("[tool.manywheels] overrides must be an array of tables "
               "([[tool.manywheels.overrides]])")
        raise ConfigError(msg)
    return tuple(_entry(index, item, table) for index, item in enumerate(raw))


def _combine(kind: str, old: Any, new: Any, mode: str) -> Any:
    if mode == "none":
        return new
    first, second = (old, new) if mode == "append" else (new, old)
    if kind == "table":  # evaluated in order: the later value of a name wins
        return {**first, **second}
    if kind in {"str", "optstr"}:
        return "\n".join(part for part in (first, second) if part)
    return tuple(first) + tuple(second)


def apply_overrides(overrides: tuple[Override, ...], identifier: str,
                    current: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the per-build keys for ``identifier``: ``current`` (by key) with every
    selecting override applied in order."""
    values = dict(current)
    for override in overrides:
        if not override.selects(identifier):
            continue
        for key, new in override.values.items():
            mode = override.inherit.get(key, "none")
            values[key] = _combine(BY_KEY[key].kind, values.get(key), new, mode)
    return values
