"""manywheels: build portable Linux wheels in manylinux containers.

The public API, in the style of pypa/build::

    import manywheels

    config = manywheels.load_config("path/to/project")      # -> manywheels.Config
    try:
        ...
    except manywheels.ManywheelsError as error:              # one line, error.exit_code
        raise SystemExit(error.exit_code) from None

- :func:`load_config` / :class:`Config`: the resolved configuration of a run
  (:mod:`manywheels.config`);
- :func:`plan_build` / :class:`BuildPlan`: the explicit build plan, one typed step per
  identifier (:mod:`manywheels.plan`);
- :class:`RunReport`: the typed run record in ``<output-dir>/manywheels-report.json``;
- :class:`ManywheelsError` (the base of every error a user can cause, see
  :mod:`manywheels.errors`) and :class:`ExitCode`.

The front ends are :mod:`manywheels.nox`, :mod:`manywheels.invoke` and the ``manywheels``
command; the stages are listed in :data:`manywheels.stages.STAGES`.

The configuration and plan names are imported on first use (PEP 562), so ``import
manywheels`` and imports of its submodules stay cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from manywheels.errors import ExitCode, ManywheelsError

if TYPE_CHECKING:
    from manywheels.config import Config, load_config
    from manywheels.plan import BuildPlan, RunReport, plan_build

__version__ = "0.1.0"

__all__ = [
    "BuildPlan",
    "Config",
    "ExitCode",
    "ManywheelsError",
    "RunReport",
    "__version__",
    "load_config",
    "plan_build",
]

_LAZY = {
    "Config": "manywheels.config",
    "load_config": "manywheels.config",
    "BuildPlan": "manywheels.plan",
    "RunReport": "manywheels.plan",
    "plan_build": "manywheels.plan",
}
"""Public name -> the module it is imported from on first use."""


def __getattr__(name: str) -> Any:
    """Import a lazy public name on first use (PEP 562).

    Raises:
        AttributeError: ``name`` is not a public name of manywheels.
    """
    module = _LAZY.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
