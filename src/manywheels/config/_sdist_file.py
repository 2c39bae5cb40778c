"""A given sdist file (the ``sdist`` option): checked, and its ``pyproject.toml`` read.

With ``sdist`` set, the build stage builds from that file instead of building an sdist on
the host. When the project directory has no ``pyproject.toml`` (or one with neither
``[tool.manywheels]`` nor ``[tool.cibuildwheel]``), :func:`~manywheels.config.load_config`
reads the project's configuration from the sdist's own ``pyproject.toml``
(:func:`sdist_pyproject`).
"""

from __future__ import annotations

import sys
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from manywheels.errors import ConfigError, ProjectError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["has_configuration", "sdist_member", "sdist_pyproject"]


def sdist_member(path: Path, name: str) -> bytes | None:
    """The bytes of ``<top>/<name>`` in the sdist at ``path`` (``None`` when absent).

    An sdist is a ``.tar.gz`` whose one top-level directory holds ``PKG-INFO``.

    Raises:
        ProjectError: the file is missing, unreadable or not an sdist (one line, naming it).
    """
    if not path.is_file():
        msg = f"sdist {str(path)!r} does not exist or is not a file; allowed is an sdist (.tar.gz)"
        raise ProjectError(msg)
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = {m.name: m for m in archive.getmembers() if m.isfile()}
            tops = {n.split("/", 1)[0] for n in members}
            info = [n for n in members if n.count("/") == 1 and n.endswith("/PKG-INFO")]
            if len(tops) != 1 or not info:
                msg = (f"sdist {str(path)!r} is not an sdist: no <name>-<version>/PKG-INFO "
                       "in one top-level directory")
                raise ProjectError(msg)
            member = members.get(f"{tops.pop()}/{name}")
            stream = archive.extractfile(member) if member is not None else None
            return stream.read() if stream is not None else None
    except (OSError, tarfile.TarError, EOFError) as error:
        msg = f"sdist {str(path)!r} is not a readable sdist (.tar.gz): {error}"
        raise ProjectError(msg) from None


def sdist_pyproject(path: Path) -> dict[str, Any]:
    """The parsed ``pyproject.toml`` of the sdist at ``path`` (``{}`` when it has none).

    Raises:
        ProjectError: the file is missing, unreadable or not an sdist.
        ConfigError: its ``pyproject.toml`` is not valid TOML.
    """
    raw = sdist_member(path, "pyproject.toml")
    if raw is None:
        return {}
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError as error:
        msg = f"{path}: pyproject.toml: invalid TOML: {error}"
        raise ConfigError(msg) from None
    return data


def has_configuration(pyproject: Mapping[str, Any]) -> bool:
    """Whether a parsed ``pyproject.toml`` has ``[tool.manywheels]`` or
    ``[tool.cibuildwheel]``."""
    tool = pyproject.get("tool", {})
    return isinstance(tool, Mapping) and ("manywheels" in tool or "cibuildwheel" in tool)
