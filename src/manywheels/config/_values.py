"""Parsing a raw value (TOML, environment, argv, code) into its option's type, and the
checks of resolved values; every failure is a one-line
:class:`~manywheels.errors.ConfigError` naming the key, the source and what is allowed."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from manywheels.config._components import parse_components
from manywheels.config._options import BY_KEY, Option
from manywheels.config._secrets import check_environment_pass
from manywheels.config._shell import double_quoted
from manywheels.errors import ConfigError
from manywheels.naming._tags import PythonTag, parse_python_tag

__all__ = ["check_output_dir", "parse_value"]

# --------------------------------------------------------------------------- parsing


def _type_error(option: Option, source: str, value: object, expected: str) -> ConfigError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ConfigError(f"{option.key} ({source}): got {shown}, expected {expected}")


def _as_list(option: Option, source: str, value: object) -> list[str]:
    if isinstance(value, str):
        return shlex.split(value) if source != "pyproject.toml" else value.split()
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    raise _type_error(option, source, value, "a list of strings")


def _as_table(option: Option, source: str, value: object) -> dict[str, str]:
    items: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise _type_error(option, source, {key: item}, "a table of strings")
            items[str(key)] = str(item)
    elif isinstance(value, str | list | tuple):
        words = shlex.split(value) if isinstance(value, str) else list(value)
        for word in words:
            name, sep, item = str(word).partition("=")
            if not sep or not name:
                raise _type_error(option, source, word, "KEY=VALUE pairs")
            items[name] = item
    else:
        raise _type_error(option, source, value, "a table of strings or KEY=VALUE pairs")
    for name, item in items.items():
        if not name.replace("_", "a").isalnum() or name[0].isdigit():
            raise _type_error(option, source, name, "variable names [A-Za-z_][A-Za-z0-9_]*")
        try:
            double_quoted(item)
        except ValueError as error:
            expected = f"a shell value ({error}: close every $(, ${{ and backquote)"
            raise _type_error(option, source, {name: item}, expected) from None
    return items


def _as_frontend(option: Option, source: str, value: object) -> tuple[str, tuple[str, ...]]:
    """``build``, ``"build; args: --no-isolation"`` or ``{name = "build", args = [...]}``
    (cibuildwheel's build-frontend) -> (name, args)."""
    name: object = value
    args: object = []
    if isinstance(value, Mapping):
        name, args = value.get("name"), value.get("args", [])
    elif isinstance(value, str) and ";" in value:
        name, _, rest = value.partition(";")
        label, sep, words = rest.strip().partition(":")
        if not sep or label.strip() != "args":
            raise _type_error(option, source, value, "NAME or 'NAME; args: ARGS'")
        args = shlex.split(words)
    if isinstance(name, str) and name.strip() in option.choices and isinstance(args, list | tuple):
        return name.strip(), tuple(str(arg) for arg in args)
    raise _type_error(option, source, value, "one of " + ", ".join(option.choices)
                      + " (optionally 'NAME; args: ARGS')")


def _as_settings(option: Option, source: str, value: object) -> tuple[tuple[str, str], ...]:
    """Config settings: a table (a list value repeats its key) or ``KEY=VALUE`` words."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            items = item if isinstance(item, list) else [item]
            if not all(isinstance(i, str | int | float) and not isinstance(i, bool)
                       for i in items):
                raise _type_error(option, source, {key: item}, "strings or lists of strings")
            pairs += [(str(key), str(i)) for i in items]
        return tuple(pairs)
    for word in _as_list(option, source, value):
        key, sep, item = word.partition("=")
        if not sep or not key:
            raise _type_error(option, source, word, "KEY=VALUE pairs")
        pairs.append((key, item))
    return tuple(pairs)


def _as_commands(option: Option, source: str, value: object) -> tuple[str, ...]:
    """cibuildwheel's audit-command: a string of commands joined by `` && `` or a list;
    each must name ``{wheel}`` or ``{abi3_wheel}`` (not both)."""
    if isinstance(value, str):
        items = [part.strip() for part in value.split(" && ")] if value.strip() else []
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = [str(v).strip() for v in value if str(v).strip()]
    else:
        raise _type_error(option, source, value, "a string or a list of strings")
    for item in items:
        named = [name for name in ("{wheel}", "{abi3_wheel}") if name in item]
        if len(named) != 1:
            raise _type_error(option, source, item,
                              "commands that each name either {wheel} or {abi3_wheel}")
    return tuple(items)


def _as_verbosity(option: Option, source: str, value: object) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and -3 <= value <= 3:
        return value
    raise _type_error(option, source, value, "a whole number from -3 to 3")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_value(option: Option, source: str, value: object) -> Any:
    """Turn a raw value from any source into the option's type.

    Raises:
        ConfigError: the value does not fit the option's kind (names key and source).
    """
    kind = option.kind
    if kind in {"str", "optstr"}:
        if option.key == "image" and isinstance(value, str) and not value.strip():
            raise _type_error(option, source, value,
                              "an image reference (e.g. quay.io/pypa/manylinux_2_28_x86_64)")
        if isinstance(value, str):
            return value
        raise _type_error(option, source, value, "a string")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _type_error(option, source, value, "a boolean (true/false, 1/0)")
    if kind == "int":
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        raise _type_error(option, source, value, "a whole number >= 1")
    if kind == "choice":
        if isinstance(value, str) and value in option.choices:
            return value
        raise _type_error(option, source, value, "one of " + ", ".join(option.choices))
    if kind == "path":
        if isinstance(value, str | os.PathLike) and str(value).strip():
            return Path(value)
        raise _type_error(option, source, value, "a path")
    if kind == "list":
        items = tuple(_as_list(option, source, value))
        if option.key == "environment-pass":
            check_environment_pass(items, source)
        unknown = [item for item in items if option.choices and item not in option.choices]
        if unknown:
            raise _type_error(option, source, unknown[0], "one of " + ", ".join(option.choices))
        return items
    if kind == "table":
        return _as_table(option, source, value)
    if kind == "components":
        return parse_components(option.key, source, value)
    if kind == "frontend":
        return _as_frontend(option, source, value)
    if kind == "settings":
        return _as_settings(option, source, value)
    if kind == "verbosity":
        return _as_verbosity(option, source, value)
    if kind == "commands":
        return _as_commands(option, source, value)
    if kind == "python":
        words = _as_list(option, source, value)
        if not words:
            raise _type_error(option, source, value, "at least one python tag")
        tags: list[PythonTag] = []
        for word in words:
            tag = parse_python_tag(word)
            if tag not in tags:
                tags.append(tag)
        return tuple(tags)
    msg = f"unknown option kind {kind}"  # pragma: no cover
    raise AssertionError(msg)  # pragma: no cover


def check_output_dir(key: str, path: Path, root: Path, sources: Mapping[str, str]) -> None:
    """dist-dir and output-dir must not be the project tree (or contain it): the tree is
    copied for the sdist build and into the container, outputs excluded.

    Raises:
        ConfigError: ``path`` is ``root`` or one of its parents.
    """
    resolved = path.resolve()
    if resolved == root or resolved in root.parents:
        what = "is the project directory" if resolved == root else "contains the project directory"
        default = BY_KEY[key].default
        msg = (
            f"{key} {str(path)!r} ({sources.get(key, 'default')}) {what} {str(root)!r}: the "
            "project tree is copied into the build and its outputs must stay out of it; allowed "
            f"is a directory of its own, inside the project (default {str(default)!r}) or "
            "outside it"
        )
        raise ConfigError(msg)
