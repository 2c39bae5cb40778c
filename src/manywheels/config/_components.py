"""``sbom-components``: libraries built from source in ``before-all``, declared for the SBOM.

auditwheel (>= 6.5) names in its SBOM only the vendored libraries an OS package owns; a
library compiled from source in ``before-all`` is invisible to it. Each declared
component is written into a second CycloneDX file of every repaired wheel holding one of
its ``files`` (:mod:`manywheels.stages._sbom_components`).

In ``pyproject.toml`` an array of tables::

    [[tool.manywheels.sbom-components]]
    name = "libyaml"
    version = "0.2.5"
    purl = "pkg:github/yaml/libyaml@0.2.5"   # default pkg:generic/<name>@<version>
    files = ["*/libyaml*.so*"]               # default: every repaired wheel

in the environment and on the command line the same as a JSON array of objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from manywheels.errors import ConfigError

__all__ = ["SbomComponent", "parse_components"]

_KEYS = ("name", "version", "purl", "files")


@dataclass(frozen=True)
class SbomComponent:
    """One declared library.

    Attributes:
        name: the library's name (``libyaml``).
        version: its version (``0.2.5``).
        purl: its package URL; default ``pkg:generic/<name>@<version>``.
        files: shell patterns (fnmatch) of the wheel members it ships as, matched against
            the member's path and its base name; empty: it is in every repaired wheel.
    """

    name: str
    version: str
    purl: str = ""
    files: tuple[str, ...] = ()

    @property
    def package_url(self) -> str:
        """:attr:`purl`, or ``pkg:generic/<name>@<version>`` (percent-encoded)."""
        return self.purl or f"pkg:generic/{quote(self.name)}@{quote(self.version)}"


def _error(key: str, source: str, value: object, expected: str) -> ConfigError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ConfigError(f"{key} ({source}): got {shown}, expected {expected}")


def _component(key: str, source: str, item: object) -> SbomComponent:
    expected = ("a table with name and version (strings), optional purl (string) and files "
                "(list of patterns)")
    if not isinstance(item, dict) or set(item) - set(_KEYS):
        raise _error(key, source, item, expected)
    name, version, purl = item.get("name"), item.get("version"), item.get("purl", "")
    files = item.get("files", [])
    if isinstance(files, str):
        files = [files]
    if not (isinstance(name, str) and name.strip() and isinstance(version, str)
            and version.strip() and isinstance(purl, str) and isinstance(files, list)
            and all(isinstance(f, str) and f for f in files)):
        raise _error(key, source, item, expected)
    if purl and not purl.startswith("pkg:"):
        raise _error(key, source, purl, "a package URL starting with pkg: (purl)")
    return SbomComponent(name.strip(), version.strip(), purl, tuple(files))


def parse_components(key: str, source: str, value: object) -> tuple[SbomComponent, ...]:
    """The components of ``value``: a list of tables (TOML) or its JSON text (environment,
    command line); a JSON object stands for a list of one.

    Raises:
        ConfigError: not such a list, an unknown key in an item, a missing name or
            version, a purl not starting with ``pkg:``, or a name given twice (names the
            key, the source and the value).
    """
    raw: Any = value
    if isinstance(value, str):
        try:
            raw = json.loads(value) if value.strip() else []
        except ValueError:
            raise _error(key, source, value, 'a JSON array of objects, e.g. '
                         '[{"name": "libyaml", "version": "0.2.5"}]') from None
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list | tuple):
        raise _error(key, source, value, "a list of tables")
    components = tuple(item if isinstance(item, SbomComponent) else _component(key, source, item)
                       for item in raw)
    names = [c.name for c in components]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise _error(key, source, twice, "each component name once")
    return components
