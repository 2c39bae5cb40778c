"""Rendering of the Jinja2 templates (in-container scripts and generated files).

Templates live in the repository's top-level ``templates/`` directory and are
shipped in the wheel as ``manywheels/templates``. Each is readable on its own.
"""

from __future__ import annotations

import shlex
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

__all__ = ["render", "template_dir"]


def template_dir() -> Path:
    """The directory holding the templates (package data, or the source checkout's)."""
    packaged = Path(str(resources.files("manywheels"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "templates"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(  # noqa: S701 - shell scripts and text, not HTML
        loader=jinja2.FileSystemLoader(str(template_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["quote"] = lambda value: shlex.quote(str(value))
    return env


def render(name: str, **context: Any) -> str:
    """Render the template ``name`` (e.g. ``build.sh.j2``) with ``context``."""
    return _environment().get_template(name).render(**context)
