"""Basins of attraction of Newton's method for z**3 - 1 (a C++ core via pybind11)."""

from newton._core import basins

__all__ = ["basins"]
