"""The stages: build, repair, test (and publish, troubleshoot).

Each stage is a plain function of a :class:`~manywheels.stages._run.Run` (or, for host-only
stages, of a :class:`~manywheels.config._config.Config`). Stages know nothing about nox
or invoke.
"""

from __future__ import annotations

from manywheels.stages.build import build
from manywheels.stages.repair import repair
from manywheels.stages.test import test

__all__ = ["build", "repair", "test"]
