"""``manywheels init --from-cibuildwheel``: the ``[tool.manywheels]`` table equivalent to a
project's ``[tool.cibuildwheel]`` (the mapping of
:func:`~manywheels.config._cibuildwheel.from_cibuildwheel`, the one a project without a
``[tool.manywheels]`` table is built with)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from manywheels.config._cibuildwheel import from_cibuildwheel
from manywheels.errors import ConfigError

__all__ = ["manywheels_table", "toml_value"]


def toml_value(value: Any) -> str:
    """A TOML inline value: string, integer, boolean, array or inline table.

    Raises:
        ConfigError: a value TOML cannot hold (``None``, a float's NaN is kept as written).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    msg = f"cannot write {value!r} as TOML"
    raise ConfigError(msg)


def _lines(values: Mapping[str, Any]) -> list[str]:
    return [f"{key} = {toml_value(value)}" for key, value in values.items()
            if value is not None]


def manywheels_table(cibuildwheel: Mapping[str, Any]) -> tuple[str, str]:
    """The ``[tool.manywheels]`` table (TOML text, with its overrides) equivalent to a
    ``[tool.cibuildwheel]`` table, and one line naming the keys it cannot translate.

    Raises:
        ConfigError: a value TOML cannot hold.
    """
    translated = from_cibuildwheel(cibuildwheel)
    text = "\n[tool.manywheels]\n" + "".join(f"{line}\n" for line in _lines(translated.layer))
    for entry in translated.overrides:
        text += "\n[[tool.manywheels.overrides]]\n"
        text += "".join(f"{line}\n" for line in _lines(entry) if line)
    shown = ", ".join(translated.ignored) or "none"
    return text, f"[tool.cibuildwheel] keys not translated: {shown}"
