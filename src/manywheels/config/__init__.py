"""Configuration: option declarations, sources and precedence (see :mod:`._config`), and
the built project read once, with the paths never copied out of it (:mod:`._project`)."""

from __future__ import annotations

from manywheels.config._config import DEFAULT_IMAGE, OPTIONS, Config, Option, load_config
from manywheels.config._project import EXCLUDED_PATHS, VCS_PATHS, Project, is_excluded

__all__ = [
    "DEFAULT_IMAGE",
    "EXCLUDED_PATHS",
    "OPTIONS",
    "VCS_PATHS",
    "Config",
    "Option",
    "Project",
    "is_excluded",
    "load_config",
]
