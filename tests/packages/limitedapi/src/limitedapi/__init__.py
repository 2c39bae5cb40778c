"""Fixture package: ``add`` comes from an abi3 extension module."""

from limitedapi._speedups import add

__all__ = ["add"]
