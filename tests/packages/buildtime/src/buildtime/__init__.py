"""Test fixture: a build that embeds the current time."""

from buildtime._ext import answer

__all__ = ["answer"]
