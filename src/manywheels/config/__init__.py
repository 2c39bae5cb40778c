"""Configuration: every key declared once (:mod:`._options`), raw values parsed and
checked (:mod:`._values`), the layers merged into a frozen :class:`Config` (:mod:`._load`,
:mod:`._config`), and the built project read once, with the paths never copied out of it
(:mod:`._project`)."""

from __future__ import annotations

from manywheels.config._config import Config
from manywheels.config._load import argument_parser, load_config, pyproject_layer
from manywheels.config._options import DEFAULT_IMAGE, OPTIONS, Option, markdown_table
from manywheels.config._project import EXCLUDED_PATHS, VCS_PATHS, Project, is_excluded
from manywheels.config._schema import json_schema

__all__ = [
    "DEFAULT_IMAGE",
    "EXCLUDED_PATHS",
    "OPTIONS",
    "VCS_PATHS",
    "Config",
    "Option",
    "Project",
    "argument_parser",
    "is_excluded",
    "json_schema",
    "load_config",
    "markdown_table",
    "pyproject_layer",
]
