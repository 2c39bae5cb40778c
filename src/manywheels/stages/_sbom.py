"""The SBOMs inside a wheel (PEP 770), for the run record.

PEP 770 puts Software Bill-of-Materials files in ``<name>.dist-info/sboms/`` of a wheel;
auditwheel >= 6.5 writes ``auditwheel.cdx.json`` there (CycloneDX JSON) naming the
system libraries it vendored. The repair stage records, per repaired wheel, every such
file with the components it names (CycloneDX ``components``: ``name``, ``version``,
``purl`` when present). Read with :mod:`zipfile` and :mod:`json` only.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["cyclonedx_components", "wheel_sboms"]

_COMPONENT_KEYS = ("name", "version", "purl")


def _is_sbom(name: str) -> bool:
    """True for a file directly or deeper under ``<x>.dist-info/sboms/`` (PEP 770)."""
    parts = name.split("/")
    return (len(parts) >= 3 and parts[0].endswith(".dist-info") and parts[1] == "sboms"
            and not name.endswith("/"))


def _walk(components: object) -> Iterator[dict[str, Any]]:
    """The components of a CycloneDX ``components`` list, nested ones included."""
    if not isinstance(components, list):
        return
    for component in components:
        if isinstance(component, dict):
            yield component
            yield from _walk(component.get("components"))


def cyclonedx_components(document: object) -> list[dict[str, str]]:
    """The components a CycloneDX JSON document names: ``name``, plus ``version`` and
    ``purl`` when present (all strings), in document order, nested ones after their parent.
    Anything not CycloneDX-shaped (no ``components`` list) gives ``[]``."""
    if not isinstance(document, dict):
        return []
    found = []
    for component in _walk(document.get("components")):
        entry = {key: str(component[key]) for key in _COMPONENT_KEYS
                 if isinstance(component.get(key), str | int | float)}
        if "name" in entry:
            found.append(entry)
    return found


def _describe(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    """One SBOM file: its path in the wheel, its format and the components it names
    (none when it is not JSON, e.g. SPDX tag-value)."""
    entry: dict[str, Any] = {"path": name, "components": []}
    try:
        document = json.loads(archive.read(name))
    except (ValueError, UnicodeDecodeError):
        return entry
    if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
        entry["format"] = f"CycloneDX {document.get('specVersion', '')}".strip()
    entry["components"] = cyclonedx_components(document)
    return entry


def wheel_sboms(wheel: Path) -> list[dict[str, Any]] | None:
    """Every SBOM file in ``wheel`` (``*.dist-info/sboms/*``, PEP 770), sorted by path:
    ``{"path", "format" (when CycloneDX), "components": [{"name", "version", "purl"}]}``.

    Returns:
        The list (empty when the wheel has no SBOM); ``None`` when the file is not a
        readable zip archive (nothing to record).
    """
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = sorted(n for n in archive.namelist() if _is_sbom(n))
            return [_describe(archive, name) for name in names]
    except (zipfile.BadZipFile, OSError):
        return None
