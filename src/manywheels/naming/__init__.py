"""The field's names: Python tags, build identifiers (``cp312-manylinux_x86_64``) and
auditwheel policies (PEP 600 / PEP 656). The lowest layer: imports nothing of manywheels
but :mod:`manywheels.errors`."""

from __future__ import annotations

from manywheels.naming._policy import ARCHS, Policy, parse_policy
from manywheels.naming._tags import PythonTag, identifier, parse_python_tag

__all__ = ["ARCHS", "Policy", "PythonTag", "identifier", "parse_policy", "parse_python_tag"]
