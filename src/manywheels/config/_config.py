"""The resolved configuration of one run: :class:`Config` (made by
:func:`~manywheels.config.load_config`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from manywheels.config._components import SbomComponent
from manywheels.config._options import (
    DEFAULT_AUDIT_COMMAND,
    DEFAULT_IMAGE,
    DEFAULT_REPAIR_COMMAND,
)
from manywheels.config._overrides import Override
from manywheels.config._project import Project
from manywheels.naming._tags import PythonTag

__all__ = ["Config"]

@dataclass(frozen=True)
class Config:
    """Resolved configuration of one run. Paths are absolute.

    ``sources`` maps each key to where its value came from (``default``,
    ``pyproject.toml``, ``code``, ``MANYWHEELS_X``, ``command line``). ``project`` is
    the project's ``pyproject.toml`` as :func:`load_config` read it (``None`` in a
    configuration made by hand: :meth:`read_project` reads it then).
    """

    project_dir: Path
    python: tuple[PythonTag, ...] | None = None
    enable: tuple[str, ...] = ()
    image: str = DEFAULT_IMAGE
    plat: str | None = None
    archs: tuple[str, ...] = ()
    manylinux_x86_64_image: str | None = None
    manylinux_i686_image: str | None = None
    manylinux_aarch64_image: str | None = None
    manylinux_ppc64le_image: str | None = None
    manylinux_s390x_image: str | None = None
    manylinux_armv7l_image: str | None = None
    manylinux_riscv64_image: str | None = None
    musllinux_x86_64_image: str | None = None
    musllinux_i686_image: str | None = None
    musllinux_aarch64_image: str | None = None
    musllinux_ppc64le_image: str | None = None
    musllinux_s390x_image: str | None = None
    musllinux_armv7l_image: str | None = None
    musllinux_riscv64_image: str | None = None
    build: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    before_all: str = ""
    before_build: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)
    environment_pass: tuple[str, ...] = ()
    frontend: str = "build"
    test_command: str | None = None
    test_requires: tuple[str, ...] = ()
    test_extras: tuple[str, ...] = ()
    dist_dir: Path = Path("dist")
    sdist: Path | None = None
    container_create_args: str = ""
    output_dir: Path = Path("wheelhouse")
    jobs: int | None = None
    fail_fast: bool = False
    cache: bool = True
    cache_dir: Path | None = None
    wheel_cache_max_mib: int = 2048
    ccache: bool = False
    reproducible: bool = True
    sbom_components: tuple[SbomComponent, ...] = ()
    dry_run: bool = False
    remove_leftovers: bool = False
    keep_failed: bool = False
    engine: str = "docker"
    replace_record: bool = False
    repository: str | None = None
    repository_url: str | None = None
    allow_untested: bool = False
    attestations: bool = False
    build_verbosity: int = 0
    requires_python: str | None = None
    test_environment: Mapping[str, str] = field(default_factory=dict)
    repair_command: str = DEFAULT_REPAIR_COMMAND
    before_test: str = ""
    test_sources: tuple[str, ...] = ()
    test_image: tuple[str, ...] = ()
    test_skip: tuple[str, ...] = ()
    test_groups: tuple[str, ...] = ()
    test_timeout: int | None = None
    config_settings: tuple[tuple[str, str], ...] = ()
    frontend_args: tuple[str, ...] = ()
    audit_command: tuple[str, ...] = (DEFAULT_AUDIT_COMMAND,)
    audit_requires: tuple[str, ...] = ("abi3audit",)
    overrides: tuple[Override, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    project: Project | None = field(default=None, compare=False, repr=False)

    @property
    def effective_jobs(self) -> int:
        """``jobs`` or the CPU count."""
        return self.jobs or os.cpu_count() or 1

    def read_project(self) -> Project:
        """The project's ``pyproject.toml`` as :func:`load_config` read it, or read now
        for a configuration made without :func:`load_config`.

        Raises:
            ConfigError: read now, and the file is not valid TOML (see :meth:`Project.read
                <manywheels.config.Project.read>`).
        """
        if self.project is not None and self.project.path == self.project_dir:
            return self.project
        return Project.read(self.project_dir)

    def with_(self, **changes: Any) -> Config:
        """A copy with attributes changed (no validation)."""
        return replace(self, **changes)
