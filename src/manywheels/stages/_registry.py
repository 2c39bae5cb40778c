"""The stage registry :data:`STAGES`: every front end is generated from it.

Each :class:`Stage` names a stage, its one-line help, the function that runs it on the
shared :class:`~manywheels.stages._run.Run`, its place in the ``wheels`` chain
(build -> repair -> test) and its own options besides the configuration keys
(troubleshoot's ``--json`` and ``--min-free-gib``). The nox sessions
(:func:`manywheels.nox.register`), the invoke collection (:data:`manywheels.invoke.ns`)
and the ``manywheels`` subcommands are all built from it, so adding a stage is one entry
here plus its function.

The stage modules are imported when a stage runs, not when the registry is imported:
front ends stay cheap to import (``nox -l``, ``invoke --list``, ``manywheels --help``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from manywheels.errors import ConfigError

if TYPE_CHECKING:
    from manywheels.stages._run import Run

__all__ = ["CHAIN", "CHAIN_HELP", "STAGES", "Stage", "StageOption", "on_run", "stage_named"]

StageFunction = Callable[["Run", Mapping[str, Any]], object]
"""How a front end calls a stage: the shared run and the stage's own option values."""


@dataclass(frozen=True)
class StageOption:
    """An option of one stage (not a configuration key): ``--json``, ``--min-free-gib N``.

    Attributes:
        name: the Python name (``min_free_gib``); the flag is ``--min-free-gib``.
        kind: ``bool`` (a switch) or ``float`` (a number, at least ``minimum``).
        default: the value when the option is not given.
        help: one line for ``--help`` and invoke's task help.
        metavar: the value's placeholder in ``--help`` (``N``).
        minimum: the smallest allowed number (``kind == "float"``).
    """

    name: str
    kind: Literal["bool", "float"]
    default: Any
    help: str
    metavar: str = ""
    minimum: float | None = None

    @property
    def flag(self) -> str:
        """The command-line flag: ``--min-free-gib``."""
        return "--" + self.name.replace("_", "-")

    def value(self, raw: object) -> Any:
        """The option's value from a parsed flag, a string (invoke) or ``None`` (not given).

        Raises:
            ConfigError: not a number, or below :attr:`minimum` (one line, naming the flag).
        """
        if raw is None:
            return self.default
        if self.kind == "bool":
            return bool(raw)
        try:
            number = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = None
        if number is None or (self.minimum is not None and number < self.minimum):
            expected = "a number" if self.minimum is None else f"a number >= {self.minimum:g}"
            msg = f"command line: {self.flag}: got {raw!r}, expected {expected}"
            raise ConfigError(msg)
        return number


@dataclass(frozen=True)
class Stage:
    """One stage, as every front end shows and runs it.

    Attributes:
        name: ``build``; the nox session is ``wheels-build``, the invoke task
            ``wheels.build``, the subcommand ``manywheels build``.
        help: one line (nox ``-l``, ``invoke --list``, ``manywheels --help``).
        function: runs the stage on the shared run with the stage's option values
            (by :attr:`StageOption.name`); raises
            :class:`~manywheels.errors.ManywheelsError` subclasses.
        chain: the stage's place in the ``wheels`` chain (0, 1, 2, ...); ``None``:
            not part of it.
        options: the stage's own options.
        diagnose: print the automatic short diagnosis when the stage fails (not for
            troubleshoot, whose report is the diagnosis).
    """

    name: str
    help: str
    function: StageFunction
    chain: int | None = None
    options: tuple[StageOption, ...] = ()
    diagnose: bool = True

    def option_values(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The stage's option values from parsed flags (missing or ``None``: the default).

        Raises:
            ConfigError: a bad value (see :meth:`StageOption.value`).
        """
        return {option.name: option.value(raw.get(option.name)) for option in self.options}

    def __call__(self, run: Run, options: Mapping[str, Any] | None = None) -> object:
        """Run the stage on ``run`` with its own options (defaults for those not given).

        Raises:
            ManywheelsError: the stage's errors; ConfigError for a bad option value.
        """
        return self.function(run, self.option_values(options or {}))


def on_run(target: str) -> StageFunction:
    """A stage function that imports ``module:function`` when first called and calls it
    with the run (for stages that are plain functions of a Run)."""

    def call(run: Run, options: Mapping[str, Any]) -> object:  # noqa: ARG001 - none
        module, _, name = target.partition(":")
        function: Callable[[Run], object] = getattr(importlib.import_module(module), name)
        return function(run)

    call.__qualname__ = call.__name__ = target.rpartition(":")[2]
    return call


def _publish(run: Run, options: Mapping[str, Any]) -> object:  # noqa: ARG001 - none
    from manywheels.stages.publish import publish  # noqa: PLC0415

    return publish(run.config, run.ui)


def _troubleshoot(run: Run, options: Mapping[str, Any]) -> object:
    from manywheels.stages.troubleshoot import (  # noqa: PLC0415
        TroubleshootOptions,
        troubleshoot,
    )

    return troubleshoot(run, TroubleshootOptions(json=bool(options["json"]),
                                                 min_free_gib=float(options["min_free_gib"])))


def _clean_cache(run: Run, options: Mapping[str, Any]) -> object:
    from manywheels.stages._cache_clear import clear_for_run  # noqa: PLC0415

    return clear_for_run(run, everything=bool(options["all"]))


MIN_FREE_GIB = 5.0
"""troubleshoot's default ``--min-free-gib`` (checked equal to
:data:`manywheels.stages.troubleshoot.DEFAULT_MIN_FREE_GIB` by the tests)."""

STAGES: tuple[Stage, ...] = (
    Stage("build", "Build the sdist, then a wheel per Python tag in a container.",
          on_run("manywheels.stages.build:build"), chain=0),
    Stage("repair", "Repair the raw wheels with auditwheel (vendor external libraries).",
          on_run("manywheels.stages.repair:repair"), chain=1),
    Stage("test", "Install each repaired wheel in a fresh venv and run the test-command.",
          on_run("manywheels.stages.test:test"), chain=2),
    Stage("verify", "Rebuild the recorded wheels in fresh containers and compare their sha256.",
          on_run("manywheels.stages.verify:verify")),
    Stage("publish", "Upload the tested wheels and the sdist with twine (host only).",
          _publish),
    Stage("troubleshoot",
          "Diagnose a failed run: each problem's cause and fix (--json for tools).",
          _troubleshoot, options=(
              StageOption("json", "bool", False,
                          "print a JSON document on stdout instead of the report"),
              StageOption("min_free_gib", "float", MIN_FREE_GIB,
                          "warn when the engine has less free space than N GiB "
                          f"(default {MIN_FREE_GIB:g})", metavar="N", minimum=0),
          ), diagnose=False),
    Stage("clean-cache",
          "Clear the pip, uv and ccache caches and the before-all images (cache-dir).",
          _clean_cache, options=(
              StageOption("all", "bool", False,
                          "clear every manywheels cache volume and before-all image on the "
                          "engine (every project's and user's), not only this cache-dir's"),
          ), diagnose=False),
)
"""Every stage, in the order front ends list them."""

CHAIN: tuple[Stage, ...] = tuple(
    sorted((stage for stage in STAGES if stage.chain is not None),
           key=lambda stage: stage.chain or 0)
)
"""The ``wheels`` chain: build -> repair -> test."""

CHAIN_HELP = "Build, repair and test the wheels (build -> repair -> test)."
"""The chain's one-line help (nox's ``wheels``, invoke's ``wheels.all``, ``manywheels
wheels``)."""


def stage_named(name: str) -> Stage:
    """The stage called ``name``.

    Raises:
        KeyError: no such stage.
    """
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise KeyError(name)
