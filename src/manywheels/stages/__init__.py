"""The stages: build, repair, test (and publish, troubleshoot, clean-cache).

Each stage is a plain function of a :class:`~manywheels.stages._run.Run` (or, for host-only
stages, of a :class:`~manywheels.config.Config`). Stages know nothing about nox
or invoke. :data:`STAGES` (:mod:`._registry`) lists them with their help, their place in
the ``wheels`` chain and their own options; the front ends are generated from it.
"""

from __future__ import annotations

from manywheels.stages._registry import CHAIN, STAGES, Stage, StageOption, stage_named
from manywheels.stages.build import build
from manywheels.stages.repair import repair
from manywheels.stages.test import test

__all__ = ["CHAIN", "STAGES", "Stage", "StageOption", "build", "repair", "stage_named", "test"]
