"""A JSON schema of ``[tool.manywheels]``, generated from :data:`~manywheels.config.OPTIONS`.

:func:`json_schema` derives one property per key (types per option kind, enums for
choices, descriptions from each option's help), ``publish`` as a sub-table and
``overrides`` as an array of tables; the package ships it as
``manywheels/resources/manywheels.schema.json`` (a unit test checks the file equals the
generated schema). :func:`validate_pyproject_plugin` is the ``validate-pyproject`` tool
schema plugin (entry point group ``validate_pyproject.tool_schema``).
"""

from __future__ import annotations

from typing import Any

from manywheels.config._options import OPTIONS, Option
from manywheels.config._overrides import OVERRIDABLE

__all__ = ["SCHEMA_ID", "json_schema", "validate_pyproject_plugin"]

SCHEMA_ID = "https://github.com/manywheels/manywheels/manywheels.schema.json"
"""The schema's ``$id``."""

_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_TABLE: dict[str, Any] = {"oneOf": [
    {"type": "object", "additionalProperties": {"type": ["string", "integer", "number"]}},
    {"type": "string"}, _STRINGS]}


def _kind_schema(option: Option) -> dict[str, Any]:
    """The schema of one option's value (what :func:`~manywheels.config._values.
    parse_value` accepts from ``pyproject.toml``)."""
    kind = option.kind
    if kind in {"str", "optstr", "path"}:
        return {"type": "string"}
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "int":
        return {"type": "integer", "minimum": 1}
    if kind == "verbosity":
        return {"type": "integer", "minimum": -3, "maximum": 3}
    if kind == "choice":
        return {"enum": list(option.choices)}
    if kind == "commands":
        return {"oneOf": [{"type": "string"}, _STRINGS]}
    if kind in {"list", "python"}:
        items: dict[str, Any] = {"type": "string"}
        if option.choices:
            items = {"enum": list(option.choices)}
        return {"oneOf": [{"type": "string"}, {"type": "array", "items": items}]}
    if kind == "frontend":
        return {"oneOf": [{"type": "string"}, {
            "type": "object", "properties": {"name": {"enum": list(option.choices)},
                                             "args": _STRINGS},
            "required": ["name"], "additionalProperties": False}]}
    if kind == "settings":
        return {"oneOf": [{"type": "object", "additionalProperties": {
            "oneOf": [{"type": ["string", "integer", "number"]}, _STRINGS]}},
            {"type": "string"}, _STRINGS]}
    if kind == "components":
        component = {"type": "object", "required": ["name", "version"],
                     "additionalProperties": False,
                     "properties": {"name": {"type": "string"}, "version": {"type": "string"},
                                    "purl": {"type": "string", "pattern": "^pkg:"},
                                    "files": {"oneOf": [{"type": "string"}, _STRINGS]}}}
        return {"type": "array", "items": component}
    return dict(_TABLE)  # table


def _property(option: Option) -> dict[str, Any]:
    return {"description": option.help, **_kind_schema(option)}


def _overrides(by_key: dict[str, Option]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "select": {"description": "identifier patterns this entry applies to",
                   "oneOf": [{"type": "string"}, _STRINGS]},
        "inherit": {"type": "object", "additionalProperties": False, "properties": {
            key: {"enum": ["none", "append", "prepend"]} for key in OVERRIDABLE}},
    }
    properties.update({key: _property(by_key[key]) for key in OVERRIDABLE})
    return {"type": "array", "description": "per-identifier options, applied in order",
            "items": {"type": "object", "required": ["select"],
                      "additionalProperties": False, "properties": properties}}


def json_schema() -> dict[str, Any]:
    """The JSON schema (draft 7) of the ``[tool.manywheels]`` table.

    Keys are those ``pyproject.toml`` accepts (command-line-only switches left out);
    ``publish.*`` keys form the ``publish`` sub-table.
    """
    by_key = {option.key: option for option in OPTIONS}
    top: dict[str, Any] = {}
    publish: dict[str, Any] = {}
    for option in OPTIONS:
        if option.stage_only:
            continue
        if option.key.startswith("publish."):
            publish[option.key.split(".", 1)[1]] = _property(option)
        else:
            top[option.key] = _property(option)
    top["publish"] = {"type": "object", "description": "where publish uploads",
                      "additionalProperties": False, "properties": publish}
    top["overrides"] = _overrides(by_key)
    return {"$schema": "http://json-schema.org/draft-07/schema#", "$id": SCHEMA_ID,
            "title": "[tool.manywheels]", "type": "object",
            "additionalProperties": False, "properties": top}


def validate_pyproject_plugin(tool_name: str) -> dict[str, Any]:
    """The ``validate-pyproject`` plugin: the schema of ``[tool.<tool_name>]``
    (``validate_pyproject.tool_schema`` entry point ``manywheels``)."""
    del tool_name  # one table: [tool.manywheels]
    return json_schema()
