"""The ``sbom-components`` SBOM of a repaired wheel (PEP 770, CycloneDX 1.6 JSON).

For the libraries declared in ``sbom-components`` (built from source in ``before-all``;
:mod:`manywheels.config._components`) the canonical rewrite (:mod:`._canonical`) adds
``<name>.dist-info/sboms/manywheels.cdx.json`` to each repaired wheel holding one of a
component's ``files`` (a component without ``files`` is in every wheel). The document is
deterministic: no serial number and no timestamp, components sorted by name, keys sorted;
the wheel is the metadata component (``pkg:pypi/<name>@<version>``) and depends on each
library; each library lists the wheel members it matched as evidence occurrences.
"""

from __future__ import annotations

import json
import zipfile
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, parse_wheel_filename

from manywheels import __version__
from manywheels.config import Config
from manywheels.config._components import SbomComponent

__all__ = ["SBOM_PATH", "component_document", "matched_files", "sbom_files"]

SBOM_PATH = "sboms/manywheels.cdx.json"
"""The file's path inside the wheel's ``.dist-info`` directory."""


def matched_files(component: SbomComponent, names: list[str]) -> list[str]:
    """The wheel members (sorted) a component's ``files`` patterns match, by path or base
    name; every member's name when it has no patterns is not listed: ``[]``."""
    return sorted(n for n in names if any(
        fnmatchcase(n, p) or fnmatchcase(n.rsplit("/", 1)[-1], p) for p in component.files))


def component_document(wheel_name: str, found: list[tuple[SbomComponent, list[str]]],
                       ) -> dict[str, Any]:
    """The CycloneDX 1.6 document of the wheel ``wheel_name`` with the components
    ``found`` (each with the members it matched)."""
    name, version, _, _ = parse_wheel_filename(wheel_name)
    wheel_ref = f"pkg:pypi/{canonicalize_name(name)}@{version}"
    components = []
    for component, members in sorted(found, key=lambda item: item[0].name):
        entry: dict[str, Any] = {
            "type": "library", "bom-ref": component.package_url, "name": component.name,
            "version": component.version, "purl": component.package_url,
        }
        if members:
            entry["evidence"] = {"occurrences": [{"location": m} for m in members]}
        components.append(entry)
    return {
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {
            "component": {"type": "library", "bom-ref": wheel_ref, "name": str(name),
                          "version": str(version), "purl": wheel_ref},
            "tools": {"components": [{"type": "application", "name": "manywheels",
                                      "version": __version__}]},
        },
        "components": components,
        "dependencies": [{"ref": wheel_ref,
                          "dependsOn": [c["bom-ref"] for c in components]}],
    }


def sbom_files(config: Config, wheel: Path) -> dict[str, bytes]:
    """The extra ``.dist-info`` files of ``wheel``: ``{SBOM_PATH: document}`` when a
    declared component is in it, else ``{}``.

    Raises:
        zipfile.BadZipFile, OSError: the wheel cannot be read.
    """
    if not config.sbom_components:
        return {}
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
    found = []
    for component in config.sbom_components:
        members = matched_files(component, names)
        if members or not component.files:
            found.append((component, members))
    if not found:
        return {}
    document = component_document(wheel.name, found)
    return {SBOM_PATH: (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()}
