"""Rendering of the Jinja2 templates (in-container scripts and generated files).

Templates live in the repository's top-level ``templates/`` directory and are
shipped in the wheel as ``manywheels/templates``. Each is readable on its own; the
steps of the flow live once, as macros in ``_steps.sh.j2``, which the per-stage scripts
and the exported ``build-wheels.sh`` both call (:func:`render_step` renders one).
``jinja2`` is imported on the first render, not with this module.
"""

from __future__ import annotations

import shlex
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

__all__ = ["STEPS_TEMPLATE", "render", "render_step", "template_dir"]

STEPS_TEMPLATE = "_steps.sh.j2"
"""The template holding the steps shared by the stage scripts and the export."""


def template_dir() -> Path:
    """The directory holding the templates (package data, or the source checkout's)."""
    packaged = Path(str(resources.files("manywheels"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "templates"


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # noqa: PLC0415 - on the first render, not on import

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


def render_step(name: str, *args: object) -> str:
    """Render one step of :data:`STEPS_TEMPLATE`: the body a stage script and the exported
    script share.

    Args:
        name: the macro, e.g. ``build_wheel``.
        args: its arguments, in order (see the template's header).

    Returns:
        The step's shell text, without a trailing newline.

    Raises:
        AttributeError: there is no step ``name``.
    """
    macro = getattr(_environment().get_template(STEPS_TEMPLATE).module, name)
    return str(macro(*args))
