"""manywheels: build portable Linux wheels in manylinux containers.

Stages (build, repair, test, publish, troubleshoot) are plain functions of a
:class:`manywheels.config.Config`; front ends (nox sessions, invoke tasks, the
``manywheels`` CLI) resolve configuration and call them.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
