"""The build plan (one typed step per identifier, grouped into containers) and the typed
run record that ties every wheel to its identifier, sdist and run."""

from __future__ import annotations

from manywheels.plan._record import RunReport
from manywheels.plan._targets import BuildPlan, BuildStep, ContainerGroup, ImageFacts, plan_build

__all__ = ["BuildPlan", "BuildStep", "ContainerGroup", "ImageFacts", "RunReport", "plan_build"]
