"""Configuration: option declarations, sources and precedence (see :mod:`._config`)."""

from __future__ import annotations

from manywheels.config._config import DEFAULT_IMAGE, OPTIONS, Config, Option, load_config

__all__ = ["DEFAULT_IMAGE", "OPTIONS", "Config", "Option", "load_config"]
