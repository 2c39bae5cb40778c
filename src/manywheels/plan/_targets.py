"""Targets: which identifiers a configuration selects in an image.

A :class:`Target` is one build: an identifier (``cp312-manylinux_x86_64``), the
interpreter path in the image (``/opt/python/cp312-cp312/bin/python``, the
manylinux layout) and the auditwheel policy to repair for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from manywheels.config._config import Config
from manywheels.errors import ConfigError, PythonTagMissingError
from manywheels.naming._tags import PythonTag, identifier, parse_install_dir

__all__ = ["PYTHON_ROOT", "Target", "interpreter_path", "parse_image_pythons", "select_targets"]

PYTHON_ROOT = "/opt/python"
"""Where manylinux and musllinux images keep their interpreters."""


@dataclass(frozen=True)
class Target:
    """One build: identifier, interpreter, image and policy."""

    identifier: str
    python: PythonTag
    interpreter: str
    image: str
    plat: str


def interpreter_path(tag: PythonTag) -> str:
    """``/opt/python/cp312-cp312/bin/python`` for ``cp312``."""
    return f"{PYTHON_ROOT}/{tag.install_dir}/bin/python"


def parse_image_pythons(listing: str) -> list[PythonTag]:
    """The CPython tags in a listing of ``/opt/python`` (one entry per line), sorted."""
    tags = {tag for line in listing.split() if (tag := parse_install_dir(line.strip()))}
    return sorted(tags)


def _allowed(tag: PythonTag, requires_python: str | None) -> bool:
    if not requires_python:
        return True
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True
    return spec.contains(Version(f"{tag.version}.99"), prereleases=True)


def select_targets(
    config: Config,
    *,
    image: str,
    plat: str,
    available: Sequence[PythonTag],
    requires_python: str | None,
) -> list[Target]:
    """The targets a configuration selects.

    Args:
        config: resolved configuration (``python`` may be ``None``: all allowed).
        image: the image reference.
        plat: the auditwheel policy (``config.plat`` or the image's ``AUDITWHEEL_PLAT``).
        available: the CPython tags the image has.
        requires_python: the project's Requires-Python, if any.

    Returns:
        Targets in version order.

    Raises:
        PythonTagMissingError: a requested tag is not in the image (lists the tags it has).
        ConfigError: no tag remains.
    """
    have = ", ".join(t.tag for t in available) or "none"
    if config.python is not None:
        missing = [t for t in config.python if t not in available]
        if missing:
            msg = f"python tag {missing[0].tag} is not in image {image}; the image has: {have}"
            raise PythonTagMissingError(msg)
        chosen = list(config.python)
    else:
        chosen = [t for t in available if not t.free_threaded and _allowed(t, requires_python)]
        if not chosen:
            msg = (
                f"no CPython in image {image} satisfies requires-python {requires_python!r}; "
                f"the image has: {have}"
            )
            raise ConfigError(msg)
    return [
        Target(identifier(t, plat), t, interpreter_path(t), image, plat) for t in sorted(chosen)
    ]
