"""Reading ``[tool.cibuildwheel]`` for a project that has no ``[tool.manywheels]`` table.

cibuildwheel's keys (docs/options.md) with a manywheels equivalent are used under their
manywheels names; ``[tool.cibuildwheel.linux]`` wins over the top level; its
``[[tool.cibuildwheel.overrides]]`` become manywheels overrides (their keys of
:data:`KEY_MAP`). ``build``, ``skip`` and ``enable`` (:data:`SELECTION_KEYS`) are read at the
top level and in ``linux`` only. ``archs`` and the ``manylinux-*-image``/``musllinux-*-image``
keys are reported ignored: a cibuildwheel table's arches are usually meant for CI runners
with QEMU and quay.io images (markupsafe 3.0.4 lists five), and a run that names its one
``image`` must not turn into ten platforms; set them in ``[tool.manywheels]``.
Overrides whose ``select`` matches no Linux identifier (``*-win_amd64``) are ignored too.
Every other key (other platforms' tables, ...) is ignored, and
:func:`from_cibuildwheel` says which in one line. ``CIBW_*`` environment variables are
never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from manywheels.naming._platforms import FAMILIES
from manywheels.naming._policy import ARCHS
from manywheels.naming._select import matches

__all__ = ["KEY_MAP", "SELECTION_KEYS", "CibuildwheelTable", "from_cibuildwheel"]

KEY_MAP: dict[str, str] = {
    "before-all": "before-all", "before-build": "before-build",
    "environment": "environment", "environment-pass": "environment-pass",
    "build-frontend": "frontend", "config-settings": "config-settings",
    "build-verbosity": "build-verbosity", "repair-wheel-command": "repair-command",
    "before-test": "before-test", "test-command": "test-command",
    "test-requires": "test-requires", "test-extras": "test-extras",
    "test-groups": "test-groups", "test-sources": "test-sources", "test-skip": "test-skip",
    "test-environment": "test-environment", "test-timeout": "test-timeout",
    "audit-command": "audit-command", "audit-requires": "audit-requires",
    "container-engine": "container-create-args",
}
"""cibuildwheel key -> manywheels key (also in overrides)."""

SELECTION_KEYS = ("build", "skip", "enable")
"""cibuildwheel keys manywheels reads under the same name, outside overrides only."""

_SCRIPTS = {"before-all", "before-build", "before-test", "test-command", "repair-command"}
_PLATFORMS = {"linux", "macos", "windows", "pyodide", "ios", "android"}


@dataclass(frozen=True)
class CibuildwheelTable:
    """What ``[tool.cibuildwheel]`` gives: raw values by manywheels key, the raw overrides
    (manywheels keys), the one-line note of keys used and ignored, and the ignored keys."""

    layer: dict[str, Any]
    overrides: list[dict[str, Any]]
    note: str
    ignored: tuple[str, ...] = ()


def _value(key: str, value: Any) -> Any:
    if key in _SCRIPTS and isinstance(value, list):  # cibuildwheel joins a list with &&
        return " && ".join(str(v) for v in value)
    if key == "frontend" and isinstance(value, str):  # build[uv]: manywheels uses uv anyway
        return value.replace("build[uv]", "build", 1)
    return value


def _translate(table: Mapping[str, Any], where: str, used: list[str],
               ignored: list[str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for key, value in table.items():
        if key in SELECTION_KEYS and where != "overrides.":
            layer[key] = value
            used.append(where + key)
        elif key in KEY_MAP:
            layer[KEY_MAP[key]] = _value(KEY_MAP[key], value)
            used.append(where + key)
        elif key not in _PLATFORMS and key not in {"overrides", "select", "inherit"}:
            ignored.append(where + key)
    return layer


def _override(entry: Any, used: list[str], ignored: list[str]) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        return {"select": None}  # parse_overrides names the bad entry
    translated = _translate(entry, "overrides.", used, ignored)
    translated["select"] = entry.get("select")
    inherit = entry.get("inherit", {})
    if isinstance(inherit, Mapping):
        translated["inherit"] = {KEY_MAP[k]: v for k, v in inherit.items() if k in KEY_MAP}
    return translated


_PROBES = tuple(
    f"{python}-{family}_{arch}"
    for python in (*(f"cp3{minor}{t}" for minor in range(6, 20) for t in ("", "t")),
                   *(f"pp3{minor}" for minor in range(7, 15)),
                   *(f"gp{v}" for v in range(240, 260)))
    for family in FAMILIES for arch in ARCHS
)
"""Linux identifiers an override's ``select`` is tried against (:func:`_selects_linux`)."""


def _selects_linux(select: Any) -> bool:
    """Whether an override's ``select`` (a pattern or a list) can match a Linux identifier
    (``*-win_amd64``, ``cp313t-macosx*`` cannot: those overrides are for other platforms).
    A malformed ``select`` counts as Linux, so that :func:`parse_overrides` names it."""
    if isinstance(select, str):
        patterns = select.split()
    elif isinstance(select, list) and all(isinstance(p, str) for p in select):
        patterns = list(select)
    else:
        return True
    return any(matches(probe, patterns) for probe in _PROBES)


def from_cibuildwheel(table: Mapping[str, Any]) -> CibuildwheelTable:
    """Translate ``[tool.cibuildwheel]`` (and its ``linux`` table and overrides)."""
    used: list[str] = []
    ignored: list[str] = []
    layer = _translate(table, "", used, ignored)
    linux = table.get("linux", {})
    if isinstance(linux, Mapping):
        layer.update(_translate(linux, "linux.", used, ignored))
    ignored += sorted(k for k in table if k in _PLATFORMS - {"linux"})
    raw = table.get("overrides", [])
    overrides = []
    for number, entry in enumerate(raw if isinstance(raw, list) else [], start=1):
        if isinstance(entry, Mapping) and not _selects_linux(entry.get("select")):
            ignored.append(f"overrides #{number} (select {entry.get('select')!r}: not Linux)")
            continue
        overrides.append(_override(entry, used, ignored))
    shown_used = ", ".join(dict.fromkeys(used)) or "none"
    shown_ignored = ", ".join(dict.fromkeys(ignored)) or "none"
    note = (f"no [tool.manywheels] table: read [tool.cibuildwheel] in pyproject.toml; used: "
            f"{shown_used}; ignored: {shown_ignored} (CIBW_* variables are not read)")
    return CibuildwheelTable(layer, overrides, note, tuple(dict.fromkeys(ignored)))
