"""manywheels demo package: a small C extension."""

from mwdemo._core import add

__all__ = ["add"]
