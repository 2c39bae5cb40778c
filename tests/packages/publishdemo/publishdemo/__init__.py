"""publishdemo: a tiny C extension for manywheels' publish tests."""

from publishdemo._ext import answer

__all__ = ["answer"]
