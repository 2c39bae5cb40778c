"""The built project: its ``pyproject.toml`` read once, and the paths never copied out of it.

:class:`Project` holds what manywheels needs from ``pyproject.toml`` (name, version,
requires-python, the build requirements, ``[tool.manywheels]``); :func:`load_config
<manywheels.config.load_config>` reads it once and keeps it as ``Config.project``.

:data:`EXCLUDED_PATHS` is the one list of names (files or directories, at any depth)
left out wherever the project tree is copied or walked: the sdist build's copy on the
host, the ``{project}`` copy for the test-command, the exported script's copy, the
troubleshoot tree listing. One documented exception, :data:`VCS_PATHS`: version-control
metadata is copied for the sdist build (see :func:`is_excluded`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from manywheels.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["EXCLUDED_PATHS", "VCS_PATHS", "Project", "is_excluded"]

VCS_PATHS: frozenset[str] = frozenset({".git", ".hg", ".svn"})
"""Version-control metadata. Copied for the sdist build, because the version of a
project using setuptools-scm (or hatch-vcs, versioningit, ...) comes from it; left out
of every other copy (``{project}`` for the test-command needs sources, not history)."""

EXCLUDED_PATHS: frozenset[str] = VCS_PATHS | frozenset({
    ".nox", ".tox", ".venv", "venv",  # virtual environments
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",  # tool caches
    ".eggs",  # setuptools' fetched setup_requires
    "node_modules",
})
"""Names of files and directories never copied out of (or listed in) a project tree, at
any depth; ``dist-dir`` and ``output-dir`` are left out besides, by path. The one
exception: :data:`VCS_PATHS`, copied for the sdist build."""


def is_excluded(name: str, *, sdist: bool = False) -> bool:
    """Whether a file or directory called ``name`` is left out of a copy of the project.

    Args:
        name: the base name (``.git``, ``node_modules``).
        sdist: the copy the sdist is built from, which keeps :data:`VCS_PATHS`.
    """
    if sdist and name in VCS_PATHS:
        return False
    return name in EXCLUDED_PATHS


def _load_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as stream:
            data: dict[str, Any] = tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        msg = f"{path}: invalid TOML: {error}"
        raise ConfigError(msg) from None
    return data


def _table(data: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    table: Mapping[str, Any] = data
    for depth, key in enumerate(keys, start=1):
        value = table.get(key, {})
        if not isinstance(value, Mapping):
            msg = f"[{'.'.join(keys[:depth])}] in pyproject.toml must be a table"
            raise ConfigError(msg)
        table = value
    return table


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Project:
    """A project directory and what its ``pyproject.toml`` says (read once).

    Attributes:
        path: the project directory (as given to :meth:`read`).
        pyproject: the parsed ``pyproject.toml`` (``{}`` when there is none).
        name: ``[project] name``, or ``None``.
        version: ``[project] version``; ``None`` when absent or dynamic.
        requires_python: ``[project] requires-python``, or ``None``.
        build_requires: ``[build-system] requires`` (``()`` when absent).
        build_backend: ``[build-system] build-backend``, or ``None``.
        tool: the ``[tool.manywheels]`` table (``{}`` when absent).
    """

    path: Path
    pyproject: Mapping[str, Any] = field(default_factory=dict, repr=False)
    name: str | None = None
    version: str | None = None
    requires_python: str | None = None
    build_requires: tuple[str, ...] = ()
    build_backend: str | None = None
    tool: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def read(cls, project_dir: Path) -> Project:
        """Read ``project_dir/pyproject.toml`` (a project without one reads as empty).

        Raises:
            ConfigError: the file is not valid TOML, or ``[project]``, ``[build-system]``
                or ``[tool.manywheels]`` is not a table.
        """
        return cls.from_data(project_dir, _load_toml(project_dir / "pyproject.toml"))

    @classmethod
    def from_data(cls, project_dir: Path, data: Mapping[str, Any]) -> Project:
        """A project whose ``pyproject.toml`` is already parsed (``data``; the ``sdist``
        option's own, read from the sdist file).

        Raises:
            ConfigError: ``[project]``, ``[build-system]`` or ``[tool.manywheels]`` is not
                a table.
        """
        project = _table(data, "project")
        system = _table(data, "build-system")
        dynamic = project.get("dynamic", [])
        requires = system.get("requires", [])
        return cls(
            path=project_dir,
            pyproject=data,
            name=_text(project.get("name")),
            version=None if "version" in dynamic else _text(project.get("version")),
            requires_python=_text(project.get("requires-python")),
            build_requires=tuple(r for r in requires if isinstance(r, str))
            if isinstance(requires, list) else (),
            build_backend=_text(system.get("build-backend")),
            tool=_table(data, "tool", "manywheels"),
        )

    @property
    def display_name(self) -> str:
        """``name``, else the directory's name (for titles and generated files)."""
        return self.name or self.path.name
