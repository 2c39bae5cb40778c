"""The nox front end, generated from :data:`~manywheels.stages._registry.STAGES`.

:func:`register` adds one session per stage (``wheels-build``, ``wheels-repair``,
``wheels-test``, ``wheels-publish``, ``wheels-troubleshoot``, ``wheels-clean-cache``)
and the chain ``wheels`` (build -> repair -> test with nox's ``requires=``; when nox was
asked for ``wheels``, its build session pipelines the identifiers into repair and test:
:func:`chain_requested`), all
``default=False`` and ``python=False``. :data:`STAGE_FUNCTIONS` holds the stage bodies
as plain functions for a user's own sessions (``manywheels.nox.build(session, **overrides)``).

Session posargs are parsed once, with the stage's own options
(:func:`~manywheels.frontends._adapter.parse_stage_args`); keyword overrides are the
code layer. Errors are reported as nox reports them: a stage where identifiers failed
fails its session (nox goes on with the next sessions and exits 1); any other error
aborts nox with the error's own code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import nox as _nox
from nox.logger import logger as nox_logger
from nox.sessions import Session

from manywheels import _signals as signals
from manywheels._commands import using_frontend
from manywheels.config import Config
from manywheels.errors import ExitCode, ManywheelsError
from manywheels.frontends._adapter import Chain, parse_stage_args, resolve_config, run_stage
from manywheels.stages._registry import CHAIN, CHAIN_HELP, STAGES, Stage

__all__ = ["STAGE_FUNCTIONS", "chain_requested", "register"]

SessionFunction = Callable[[Session], None]


def _run_session(session: Session, stage: Stage, project_dir: Path | None,
                 overrides: Mapping[str, Any], chain: Chain | None,
                 *, prefix: str = "wheels") -> None:
    """Run ``stage`` for a nox session; fail the session or abort nox on error.

    Override values that are callables (no arguments) are called here, when the session
    runs (the repository's demo picks its image so)."""

    def prepare() -> tuple[Config, Mapping[str, Any]]:
        flags, options = parse_stage_args(stage, session.posargs)
        resolved = {key: value() if callable(value) else value
                    for key, value in overrides.items()}
        return resolve_config(project_dir, overrides=resolved, flags=flags), options

    if chain is not None and stage.chain == 0:
        chain.pipelined = chain_requested(prefix)
    try:
        with using_frontend("nox", prefix):
            failure = run_stage(stage, prepare, chain=chain)
    except signals.Terminated as terminated:
        nox_logger.error(f"Session {session.name} {terminated}: the run's containers were "
                         f"removed [exit code {128 + terminated.signum}]")
        raise
    if failure is None:
        return
    if failure.goes_on or failure.code == ExitCode.STAGE_FAILED:
        # Identifiers failed: later sessions (repair, test) still handle the others.
        session.error(f"{failure.error} [exit code {failure.code}]")
    # Bad input, no engine, no image, locked...: stop here with the error's own code.
    nox_logger.error(f"Session {session.name} aborted: {failure.error} "
                     f"[exit code {failure.code}]")
    raise SystemExit(failure.code)


def _stage_function(stage: Stage) -> Callable[..., None]:
    def function(session: Session, **overrides: Any) -> None:
        project_dir = overrides.pop("project_dir", None)
        _run_session(session, stage, None if project_dir is None else Path(project_dir),
                     overrides, None)

    function.__name__ = function.__qualname__ = stage.name.replace("-", "_")
    function.__doc__ = (
        f"{stage.help}\n\nArgs:\n    session: the running nox session (its posargs are "
        "command-line flags).\n    **overrides: configuration keys (snake_case), e.g. "
        "``image=``, ``python=[...]``, ``project_dir=``.\n\nFails the session (one line, no "
        "traceback) on any :class:`~manywheels.errors.ManywheelsError`.\n"
    )
    return function


STAGE_FUNCTIONS: dict[str, Callable[..., None]] = {
    stage.name: _stage_function(stage) for stage in STAGES
}
"""Each stage as ``function(session, **overrides)`` for a user's own sessions, by name."""


def register(prefix: str = "wheels", *, project_dir: str | Path | None = None,
             **overrides: Any) -> None:
    """Register the manywheels sessions with nox (idempotent).

    Args:
        prefix: session name prefix: ``wheels``, ``wheels-build``, ``wheels-repair``, ...
        project_dir: the project to build; default the directory of the calling noxfile.
        **overrides: configuration keys (snake_case) applied above ``[tool.manywheels]``;
            a value may be a callable without arguments, called when a session runs.

    Raises:
        ConfigError: never at registration; bad overrides fail the sessions that run.

    Works for a script-mode noxfile ending in ``nox.main()`` (which resets nox's registry
    and executes the noxfile again): registration happens in this call, never as an import
    side effect.
    """
    base = Path(project_dir).resolve() if project_dir is not None else _caller_dir()
    chain = Chain()
    for stage in STAGES:
        _register_once(f"{prefix}-{stage.name}", prefix,
                       _session(stage, base, dict(overrides), chain, prefix))

    def chain_session(session: Session) -> None:
        with using_frontend("nox", prefix):
            error = chain.finish()
        for line in chain.lines:
            session.log(line)
        if error is not None:
            session.error(f"{error} [exit code {error.exit_code}]")

    def shell_session(session: Session) -> None:
        from manywheels.frontends._cli import shell_main  # noqa: PLC0415

        try:
            code = shell_main(session.posargs, base)
        except ManywheelsError as error:
            session.error(f"{error} [exit code {error.exit_code}]")
        if code:
            session.error(f"the shell's command exited with {code}")

    shell_session.__doc__ = ("Open a shell in an identifier's build container "
                             "(-- IDENTIFIER [-- COMMAND]).")
    _register_once(f"{prefix}-shell", prefix, shell_session)
    chain_session.__doc__ = CHAIN_HELP
    _register_once(prefix, prefix, chain_session,
                   requires=[f"{prefix}-{stage.name}" for stage in CHAIN])


def chain_requested(prefix: str, argv: Sequence[str] | None = None,
                    env: Mapping[str, str] | None = None) -> bool:
    """Whether nox was asked for the chain session ``prefix`` (``nox -s wheels``,
    ``--session``/``--sessions``/``-e``, or ``NOXSESSION``), so its build session may
    pipeline the chain (:mod:`manywheels.stages._pipeline`); ``False`` when only single
    stage sessions were asked for.

    Args:
        prefix: the chain session's name.
        argv: nox's command line, default ``sys.argv[1:]``.
        env: the environment, default ``os.environ``.
    """
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("-s", "-e", "--session", "--sessions", dest="sessions", nargs="*",
                        action="extend", default=[])
    known, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    names = [name.strip() for value in known.sessions for name in value.split(",")]
    source = os.environ if env is None else env
    names += [name.strip() for name in source.get("NOXSESSION", "").split(",")]
    return prefix in names


def _caller_dir() -> Path:
    """The directory of the noxfile that called :func:`register` (else the cwd)."""
    filename = sys._getframe(2).f_code.co_filename  # 0: here, 1: register, 2: the noxfile
    if filename and Path(filename).is_file():
        return Path(filename).resolve().parent
    return Path.cwd()


def _session(stage: Stage, base: Path, overrides: dict[str, Any], chain: Chain,
             prefix: str) -> SessionFunction:
    def session_function(session: Session) -> None:
        _run_session(session, stage, base, overrides, chain, prefix=prefix)

    session_function.__doc__ = stage.help
    return session_function


def _register_once(name: str, prefix: str, function: SessionFunction,
                   requires: list[str] | None = None) -> None:
    if getattr(_nox.registry.get().get(name), "manywheels_prefix", None) == prefix:
        return
    func = _nox.session(name=name, python=False, default=False, requires=requires)(function)
    func.manywheels_prefix = prefix  # type: ignore[attr-defined]
