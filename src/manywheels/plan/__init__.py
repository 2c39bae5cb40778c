"""The build plan (targets per identifier) and the run record."""

from __future__ import annotations

from manywheels.plan._targets import Target

__all__ = ["Target"]
