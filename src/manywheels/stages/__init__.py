"""The stages: build, repair, test (and publish, troubleshoot, clean-cache).

Each stage is a plain function of a :class:`~manywheels.stages._run.Run` (or, for host-only
stages, of a :class:`~manywheels.config.Config`). Stages know nothing about nox
or invoke. :data:`STAGES` (:mod:`._registry`) lists them with their help, their place in
the ``wheels`` chain and their own options; the front ends are generated from it.

The stage functions are in their modules (``from manywheels.stages.build import build``,
``.repair``, ``.test``), not imported here: the front ends import this package for
:data:`STAGES`, and a stage's module (with the run, the engine and the templates) is
imported only when the stage runs.
"""

from __future__ import annotations

from manywheels.stages._registry import CHAIN, STAGES, Stage, StageOption, stage_named

__all__ = ["CHAIN", "STAGES", "Stage", "StageOption", "stage_named"]
