"""The curated top-level API: ``manywheels.<name>`` for every name of ``__all__``, the
configuration and plan names imported on first use only."""

from __future__ import annotations

import subprocess
import sys

import pytest

import manywheels
from manywheels import config, errors, plan


def test_every_public_name_is_the_layers_own() -> None:
    assert manywheels.load_config is config.load_config
    assert manywheels.Config is config.Config
    assert manywheels.plan_build is plan.plan_build
    assert manywheels.BuildPlan is plan.BuildPlan
    assert manywheels.RunReport is plan.RunReport
    assert manywheels.ManywheelsError is errors.ManywheelsError
    assert manywheels.ExitCode is errors.ExitCode
    assert isinstance(manywheels.__version__, str)
    assert set(manywheels.__all__) <= set(dir(manywheels))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'bogus'"):
        _ = manywheels.bogus


def test_import_manywheels_imports_no_layer_until_asked() -> None:
    code = (
        "import sys, manywheels; "
        "print(sorted(m for m in ('manywheels.config', 'manywheels.plan') if m in sys.modules)); "
        "manywheels.Config; print('manywheels.config' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["[]", "True"]
