"""The one adapter between the front ends (nox, invoke, the CLI) and the stages.

Every front end does the same five things, here once:

1. resolve the configuration from mappings: code overrides (nox's keyword arguments,
   invoke's ``wheels`` section) and an already-parsed command-line layer
   (:func:`resolve_config`); command-line arguments are parsed once, by
   :func:`parse_stage_args` or the CLI's parser built with :func:`add_stage_arguments`;
2. run a stage of :data:`~manywheels.stages._registry.STAGES` on the shared
   :class:`~manywheels.stages._run.Run` of that configuration (:func:`run_stage`);
3. turn a :class:`~manywheels.errors.ManywheelsError` into one line and its exit code
   (:class:`Failure`), after the automatic short diagnosis of a failing stage;
4. track the ``wheels`` chain (:class:`Chain`): a stage where identifiers failed lets
   the chain go on (the others' wheels are still repaired and tested) and the chain
   exits 1 at the end; any other error stops it with its own code;
5. close the runs (:func:`close_runs`): their containers are removed.

What stays in each front end is how it reports: nox fails or aborts a session, invoke
raises ``Exit``, the CLI returns a code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from manywheels import _signals as signals
from manywheels._fsutil import output_error
from manywheels.config import OPTIONS, Config, argument_parser, load_config
from manywheels.errors import ConfigError, ExitCode, ManywheelsError, OutputError
from manywheels.stages._registry import Stage, StageOption

if TYPE_CHECKING:  # the run (and its engine, templates) is imported when a stage runs
    from manywheels.stages._run import Run

__all__ = [
    "Chain",
    "ChainFailedError",
    "Failure",
    "Prepare",
    "add_stage_arguments",
    "close_runs",
    "file_failure",
    "interrupt_code",
    "parse_stage_args",
    "resolve_config",
    "run_stage",
    "split_flags",
]

_CONFIG_KEYS = frozenset(option.key for option in OPTIONS)


class ChainFailedError(ManywheelsError):
    """The ``wheels`` chain finished, but a stage failed for some identifiers."""

    exit_code = ExitCode.STAGE_FAILED

    def __init__(self) -> None:
        super().__init__(
            "build, repair and test finished with failed identifiers (see the lines "
            "above); wheels of the others are in the output-dir"
        )


@dataclass(frozen=True)
class Failure:
    """A stage that ended with an error, as a front end reports it.

    Attributes:
        error: the error.
        goes_on: the chain goes on (identifiers failed; the others are still handled).
    """

    error: ManywheelsError
    goes_on: bool = False

    @property
    def code(self) -> int:
        """The exit code (:class:`~manywheels.errors.ExitCode`)."""
        return self.error.exit_code

    @property
    def line(self) -> str:
        """The one line for stderr: ``manywheels: error: ...``."""
        return f"manywheels: error: {self.error}"


class Chain:
    """The failures of the chained stages of one front-end invocation.

    After a stage failed for some identifiers, a later "nothing to do" of the chain
    (repair with no raw wheel left, ...) is a consequence, not a new stop: it goes on
    too. Every other error stops the chain with its own code, whatever failed before
    (the engine went away, the output cannot be written, ...).
    """

    def __init__(self, *, pipelined: bool = False) -> None:
        self._failed = False
        self._run: Run | None = None
        self.pipelined = pipelined
        """Pipeline the chain per identifier (:mod:`manywheels.stages._pipeline`): set
        when the front end runs the whole chain, not a single stage."""
        self.lines: list[str] = []
        """The closing lines of the last :meth:`finish` (counts, output-dir)."""

    def note_run(self, run: Run) -> None:
        """The run the chain's stages use (its record gives the closing lines)."""
        self._run = run

    @property
    def failed(self) -> bool:
        """Whether a chained stage failed since the last :meth:`finish`."""
        return self._failed

    def goes_on_after(self, error: ManywheelsError) -> bool:
        """Record ``error`` of a chained stage; whether the chain goes on after it."""
        consequence = self._failed and error.exit_code == ExitCode.NOTHING_TO_DO
        if error.exit_code == ExitCode.STAGE_FAILED or consequence:
            self._failed = True
            return True
        return False

    def finish(self) -> ChainFailedError | None:
        """End the chain: its closing lines (:attr:`lines`: counts per status, the
        absolute output-dir; see :func:`~manywheels.stages._outcome.closing_lines`), then
        close the runs; the chain's error when a stage failed."""
        self.lines = self._closing_lines()
        close_runs()
        failed, self._failed = self._failed, False
        return ChainFailedError() if failed else None

    def _closing_lines(self) -> list[str]:
        run, self._run = self._run, None
        if run is None:
            return []
        from manywheels.stages._outcome import closing_lines  # noqa: PLC0415

        try:
            return closing_lines(run)
        except Exception:  # noqa: BLE001 - the closing lines never hide the chain's result
            return []


# ------------------------------------------------------------------ configuration


def resolve_config(
    project_dir: str | os.PathLike[str] | None,
    *,
    overrides: Mapping[str, Any] | None = None,
    overrides_source: str = "code",
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """The configuration of a front-end call (see :func:`~manywheels.config.load_config`).

    Args:
        project_dir: the project when no layer sets ``project-dir`` (the noxfile's or the
            tasks file's directory, the CLI's cwd).
        overrides: the front end's own layer (nox keyword overrides, invoke's section).
        overrides_source: its name in errors and ``Config.sources``.
        flags: the parsed command-line layer (``None`` values: not given).

    Raises:
        ConfigError: unknown key or bad value in any layer (one line).
        ProjectError: the project directory is missing or not a Python project.
    """
    return load_config(project_dir if project_dir is not None else Path.cwd(),
                       overrides=overrides, overrides_source=overrides_source, flags=flags)


def add_stage_arguments(parser: argparse.ArgumentParser, stage: Stage) -> None:
    """Add ``stage``'s own options to ``parser`` (dest: the option's name, default ``None``)."""
    for option in stage.options:
        _add_option(parser, option)


def _add_option(parser: argparse.ArgumentParser, option: StageOption) -> None:
    if option.kind == "bool":
        parser.add_argument(option.flag, dest=option.name, action="store_true", default=None,
                            help=option.help)
    else:
        parser.add_argument(option.flag, dest=option.name, type=float, default=None,
                            metavar=option.metavar or None, help=option.help)


def split_flags(values: Mapping[str, Any], stage: Stage | None = None,
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parsed flags as (configuration flags by key, the stage's own option values;
    ``{}`` without a stage).

    Raises:
        ConfigError: a bad value of a stage option.
    """
    config = {key: value for key, value in values.items() if key in _CONFIG_KEYS}
    return config, {} if stage is None else stage.option_values(values)


class _PosargsParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        msg = f"command line: {message}"
        raise ConfigError(msg)


def parse_stage_args(stage: Stage, argv: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse command-line arguments of one stage (nox posargs): the configuration flags
    and the stage's own options, once.

    Returns:
        (configuration flags by key, the stage's option values).

    Raises:
        ConfigError: an unknown flag or a bad value (one line).
    """
    parser = _PosargsParser(prog="manywheels", add_help=False, allow_abbrev=False,
                            parents=[argument_parser()])
    add_stage_arguments(parser, stage)
    return split_flags(vars(parser.parse_args(list(argv))), stage)


# ------------------------------------------------------------------ running


Prepare = Callable[[], tuple[Config, Mapping[str, Any]]]
"""Resolves a call: the configuration and the stage's own option values."""


def run_stage(stage: Stage, prepare: Prepare, *, chain: Chain | None = None) -> Failure | None:
    """Run ``stage`` on the shared run of the resolved configuration.

    Args:
        stage: the stage.
        prepare: parses and resolves the call (inside, so its errors are reported like
            the stage's): the configuration and the stage's own option values (missing
            ones: their defaults).
        chain: the chain the stage belongs to in this call (``None``: run alone).

    Returns:
        ``None`` on success, else the :class:`Failure`. Unless it goes on in the chain,
        the runs are closed.

    Raises:
        KeyboardInterrupt, Terminated: after closing the runs (containers removed).
    """
    signals.install()  # SIGTERM -> Terminated (exit 143): containers are removed first
    run: Run | None = None
    try:
        try:
            config, options = prepare()
            values = stage.option_values(options)
            from manywheels.stages._shared import shared_run  # noqa: PLC0415

            run = shared_run(config)
            if chain is not None:
                chain.note_run(run)
                if chain.pipelined and stage.chain == 0:
                    from manywheels.stages._pipeline import request  # noqa: PLC0415

                    request(run)
            try:
                stage.function(run, values)
            finally:
                run.ui.end_group()
        except OSError as os_error:
            raise file_failure(os_error, run) from None
    except ManywheelsError as error:
        if run is not None and stage.diagnose:
            _print_diagnosis(run, error)
        goes_on = chain is not None and chain.goes_on_after(error)
        if not goes_on:
            close_runs()
        return Failure(error, goes_on)
    except BaseException:
        close_runs()
        raise
    return None


_BROKEN_PIPE = "the reader of the output went away (a closed pipe): output stopped"


def _quiet_stdout() -> None:
    """After a closed pipe on stdout (``manywheels build --dry-run | head``): send the rest
    of stdout to ``/dev/null``, so flushing at exit raises nothing."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def file_failure(error: OSError, run: Run | None = None) -> OutputError:
    """An :class:`OSError` that escaped a stage or command, as one
    :class:`~manywheels.errors.OutputError` line: a closed stdout (the rest of stdout then
    goes to ``/dev/null``), the file it names, else the directories ``run`` writes."""
    if isinstance(error, BrokenPipeError):
        _quiet_stdout()
        return OutputError(_BROKEN_PIPE)
    if error.filename is not None or run is None:
        return output_error(error, "the file", verb="use")
    where = f"dist-dir {run.config.dist_dir} or output-dir {run.config.output_dir}"
    return output_error(error, f"into {where}", "")


def _print_diagnosis(run: Run, error: ManywheelsError) -> None:
    """The automatic short diagnosis after a failing stage (never raises)."""
    from manywheels.stages.troubleshoot import print_quick_diagnosis  # noqa: PLC0415

    with contextlib.suppress(Exception):
        print_quick_diagnosis(run, error)


def close_runs() -> None:
    """Close every shared run of this process: their containers are removed (none when no
    stage ran: :mod:`manywheels.stages._shared` was never imported)."""
    shared = sys.modules.get("manywheels.stages._shared")
    if shared is not None:
        shared.close_shared_runs()


def interrupt_code(error: BaseException) -> int | None:
    """The exit code of an interrupt (130 SIGINT, 143 SIGTERM); ``None`` otherwise."""
    return signals.exit_code_for(error)
