"""The container engine seam (docker-py implementation in :mod:`._docker`)."""

from __future__ import annotations

from manywheels.engine._docker import Container, Engine, ImageInfo

__all__ = ["Container", "Engine", "ImageInfo"]
