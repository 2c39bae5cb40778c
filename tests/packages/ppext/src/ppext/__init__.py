"""Test fixture: a C extension adding two integers."""

from ppext._add import add

__all__ = ["add"]
