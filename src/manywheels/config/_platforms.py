"""Which platforms a configuration builds: ``archs``, the per-family/arch image keys,
``image``, ``build`` and ``skip`` (cibuildwheel's options, same names and defaults).

A configuration that sets neither ``archs`` nor a ``<family>-<arch>-image`` key builds the
one ``image`` (the single-platform run manywheels always had). Setting either builds every
family (manylinux and musllinux) on every selected arch, narrowed by ``build``/``skip``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from manywheels.config._options import DEFAULT_IMAGE, IMAGE_KEYS
from manywheels.errors import ConfigError
from manywheels.naming._platforms import (
    FAMILIES,
    STATIC_PYTHONS,
    Platform,
    image_key,
    resolve_archs,
    resolve_image,
)
from manywheels.naming._select import is_selected

if TYPE_CHECKING:
    from manywheels.config._config import Config

__all__ = ["IMAGE_KEYS", "image_is_set", "is_multi_platform", "select_platforms"]


def _attr(key: str) -> str:
    return key.replace("-", "_")


def _source(config: Config, key: str) -> str:
    return config.sources.get(key, "default")


def image_is_set(config: Config) -> bool:
    """Whether ``image`` was given (by any source, or a non-default value in code)."""
    return _source(config, "image") != "default" or config.image != DEFAULT_IMAGE


def _set_image_keys(config: Config) -> list[str]:
    return [key for key in IMAGE_KEYS if getattr(config, _attr(key)) is not None]


def is_multi_platform(config: Config) -> bool:
    """Whether the configuration selects platforms (``archs`` or a per-arch image key set)
    rather than the one ``image``."""
    return bool(config.archs) or bool(_set_image_keys(config))


def _wanted(platform: Platform, config: Config) -> bool:
    """Whether ``build``/``skip`` leave any identifier of a platform (checked against every
    interpreter an image may have, so no image is needed)."""
    tags = list(STATIC_PYTHONS) + list(config.python or ())
    return any(is_selected(f"{tag.tag}-{platform.name}", config.build, config.skip)
               for tag in tags)


def _conflict(config: Config, platforms: list[Platform]) -> ConfigError:
    keys = _set_image_keys(config)
    other = keys[0] if keys else "archs"
    where = _source(config, other)
    names = ", ".join(p.name for p in platforms)
    msg = (f"image ({_source(config, 'image')}) and {other} ({where}) conflict: image builds "
           f"one platform, these select {len(platforms)} ({names}); set the per-arch keys "
           "(manylinux-<arch>-image, musllinux-<arch>-image) instead of image, or drop "
           f"{other}")
    return ConfigError(msg)


def select_platforms(config: Config, *, machine: str | None = None) -> list[Platform] | None:
    """The platforms a configuration builds, in (arch, family) order; ``None`` for a
    single-image run (neither ``archs`` nor a per-arch image key set).

    Args:
        config: the configuration.
        machine: the host's ``platform.machine()`` (for ``auto``/``native``); default this
            host's.

    Raises:
        ConfigError: an unknown arch, a policy of the wrong family as an image key, ``image``
            or ``plat`` together with several platforms, or ``build``/``skip`` leaving none.
    """
    if not is_multi_platform(config):
        return None
    archs = resolve_archs(config.archs or ("auto",), machine=machine,
                          source=_source(config, "archs"))
    platforms = []
    for arch in archs:
        for family in FAMILIES:
            key = image_key(family, arch)
            found = resolve_image(family, arch, getattr(config, _attr(key)), _source(config, key))
            if _wanted(found, config):
                platforms.append(found)
    if not platforms:
        msg = (f"build ({_source(config, 'build')}) and skip ({_source(config, 'skip')}) "
               f"select no platform of archs {', '.join(archs)}")
        raise ConfigError(msg)
    if len(platforms) > 1 and image_is_set(config):
        raise _conflict(config, platforms)
    if len(platforms) > 1 and config.plat:
        msg = (f"plat ({_source(config, 'plat')}) and archs ({_source(config, 'archs')}) "
               "conflict: plat names one policy, the run builds "
               f"{len(platforms)} platforms; each takes its image's AUDITWHEEL_PLAT")
        raise ConfigError(msg)
    if image_is_set(config):
        only = platforms[0]
        return [Platform(only.family, only.arch, config.image, None, "image")]
    return platforms
