"""The nox front end: ``register()`` and the stage functions.

In a project's ``noxfile.py``::

    import manywheels.nox
    manywheels.nox.register()

registers ``wheels`` (build -> repair -> test, chained with nox's ``requires=``),
``wheels-build``, ``wheels-repair``, ``wheels-test``, ``wheels-publish`` and
``wheels-troubleshoot`` (each problem's cause and fix; ``-- --json`` for tools), all
``default=False`` (a bare ``nox`` does not run them) and ``python=False`` (they drive
containers). The stage bodies are also plain functions for a user's own sessions:
``manywheels.nox.build(session, **overrides)``, ``.repair(...)``, ``.test(...)``,
``.publish(...)``.

Configuration: defaults -> ``[tool.manywheels]`` -> keyword overrides (of
``register()`` and of the stage functions) -> ``MANYWHEELS_*`` -> session posargs
(``nox -s wheels-build -- --python cp312``). See :mod:`manywheels.config._config`.

Within one nox invocation the stages share one :class:`~manywheels.stages._run.Run` per
configuration, so ``nox -s wheels`` starts one container per image, not one per
stage; containers are removed when the chain ends and at interpreter exit.

Exit codes: a stage where some identifiers failed fails its session (nox goes on
with the next sessions, so the wheels that built are still repaired and tested,
and exits 1). Any other error (bad configuration, missing project, no engine, no
image, nothing to do, a locked output directory) ends nox at once with the error's
own code (:class:`~manywheels.errors.ExitCode`). Ctrl-C exits 130 and SIGTERM 143,
after the run's containers are removed.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nox as _nox
from nox.logger import logger as nox_logger
from nox.sessions import Session

from manywheels import _signals as signals
from manywheels.config._config import Config, load_config
from manywheels.errors import ExitCode, ManywheelsError
from manywheels.stages._run import Run, close_shared_runs, shared_run

__all__ = ["build", "publish", "register", "repair", "test", "troubleshoot"]




def _resolve(
    session: Session,
    project_dir: Path | None,
    overrides: dict[str, Any],
    argv: list[str] | None = None,
) -> Config:
    base = project_dir if project_dir is not None else Path.cwd()
    args = list(session.posargs) if argv is None else argv
    return load_config(base, overrides=overrides, argv=args)


def _call(
    session: Session,
    stage: Callable[[Run], object],
    project_dir: Path | None,
    overrides: dict[str, Any],
) -> None:
    signals.install()  # SIGTERM -> Terminated (exit 143): containers are removed first
    run: Run | None = None
    try:
        argv = list(session.posargs)
        own_args = getattr(stage, "own_args", None)  # a stage with flags of its own
        if own_args is not None:
            stage, argv = own_args(argv)
        config = _resolve(session, project_dir, overrides, argv)
        run = shared_run(config)
        stage(run)
    except ManywheelsError as error:
        if run is not None:
            _print_diagnosis(run, error)
        if error.exit_code == ExitCode.STAGE_FAILED or _STAGE_FAILED:
            # Identifiers failed: later sessions (repair, test) still handle the others.
            _STAGE_FAILED.append(error.exit_code)
            session.error(f"{error} [exit code {error.exit_code}]")
        # Bad input, no engine, no image, locked...: stop here with the error's own code.
        close_shared_runs()
        nox_logger.error(f"Session {session.name} aborted: {error} [exit code {error.exit_code}]")
        raise SystemExit(error.exit_code) from None
    except BaseException as interrupt:  # Ctrl-C (nox exits 130) or SIGTERM (exit 143)
        close_shared_runs()
        if isinstance(interrupt, signals.Terminated):
            nox_logger.error(f"Session {session.name} {interrupt}: the run's containers were "
                             f"removed [exit code {interrupt.code}]")
        raise


_STAGE_FAILED: list[int] = []
"""Exit codes of stages that failed for some identifiers in this nox invocation."""


def _print_diagnosis(run: Run, error: ManywheelsError) -> None:
    """The automatic short diagnosis after a failing stage (never raises)."""
    from manywheels.stages.troubleshoot import print_quick_diagnosis  # noqa: PLC0415

    with contextlib.suppress(Exception):
        print_quick_diagnosis(run, error)


def _stage_build(run: Run) -> object:
    from manywheels.stages.build import build as stage  # noqa: PLC0415

    return stage(run)


def _stage_repair(run: Run) -> object:
    from manywheels.stages.repair import repair as stage  # noqa: PLC0415

    return stage(run)


def _stage_test(run: Run) -> object:
    from manywheels.stages.test import test as stage  # noqa: PLC0415

    return stage(run)


def _stage_publish(run: Run) -> object:
    from manywheels.stages.publish import publish as stage  # noqa: PLC0415

    return stage(run.config, run.ui)


def _stage_troubleshoot(run: Run, options: Any = None) -> object:
    from manywheels.stages.troubleshoot import troubleshoot as stage  # noqa: PLC0415

    return stage(run, options)


def _stage_clean_cache(run: Run) -> object:
    from manywheels.stages._cache import clear_for_run  # noqa: PLC0415

    return clear_for_run(run)


def _troubleshoot_args(argv: list[str]) -> tuple[Callable[[Run], object], list[str]]:
    from manywheels.stages.troubleshoot import split_args  # noqa: PLC0415

    options, rest = split_args(argv)
    return functools.partial(_stage_troubleshoot, options=options), rest


_stage_troubleshoot.own_args = _troubleshoot_args  # type: ignore[attr-defined]


def build(session: Session, **overrides: Any) -> None:
    """Build the sdist on the host and a wheel per identifier in the container.

    Args:
        session: the running nox session (its posargs are command-line overrides).
        **overrides: configuration keys (snake_case), e.g. ``image=``, ``python=[...]``.

    Fails the session (one line, no traceback) on any
    :class:`~manywheels.errors.ManywheelsError`.
    """
    _call(session, _stage_build, overrides.pop("project_dir", None), overrides)


def repair(session: Session, **overrides: Any) -> None:
    """Repair the raw wheels of dist-dir with auditwheel into output-dir (see :func:`build`)."""
    _call(session, _stage_repair, overrides.pop("project_dir", None), overrides)


def test(session: Session, **overrides: Any) -> None:
    """Install each repaired wheel in a fresh venv and run the test-command (see :func:`build`)."""
    _call(session, _stage_test, overrides.pop("project_dir", None), overrides)


def publish(session: Session, **overrides: Any) -> None:
    """Upload the tested wheels and the sdist with twine, on the host (see :func:`build`)."""
    _call(session, _stage_publish, overrides.pop("project_dir", None), overrides)


def troubleshoot(session: Session, **overrides: Any) -> None:
    """Diagnose the last run, the project and the build environment (see :func:`build`).

    Reads the logs and run report in output-dir, probes the engine and the image, and
    runs ``auditwheel show`` on the raw wheels; rebuilds nothing. Prints each problem's
    cause and fix; session arguments ``--json`` (a JSON document on stdout) and
    ``--min-free-gib N`` (engine free-space threshold, GiB) are its own. Fails the
    session when a problem of severity ``error`` is found.
    """
    _call(session, _stage_troubleshoot, overrides.pop("project_dir", None), overrides)


def _caller_dir() -> Path:
    frame = inspect.stack()[2]
    filename = frame.filename
    if filename and Path(filename).is_file():
        return Path(filename).resolve().parent
    return Path.cwd()


_STAGES: tuple[tuple[str, Callable[[Run], object], str], ...] = (
    ("build", _stage_build, "Build the sdist, then a wheel per Python tag in a container."),
    ("repair", _stage_repair, "Repair the raw wheels with auditwheel (vendor external libraries)."),
    ("test", _stage_test, "Install each repaired wheel in a fresh venv and run the test-command."),
    ("publish", _stage_publish, "Upload the tested wheels and the sdist with twine (host only)."),
    ("troubleshoot", _stage_troubleshoot,
     "Diagnose a failed run: each problem's cause and fix (--json for tools)."),
    ("clean-cache", _stage_clean_cache,
     "Clear the pip, uv and ccache caches and the before-all images (cache-dir)."),
)


def register(prefix: str = "wheels", *, project_dir: str | Path | None = None,
             **overrides: Any) -> None:
    """Register the manywheels sessions with nox (idempotent).

    Args:
        prefix: session name prefix: ``wheels``, ``wheels-build``, ``wheels-repair``, ...
        project_dir: the project to build; default the directory of the calling noxfile.
        **overrides: configuration keys (snake_case) applied above ``[tool.manywheels]``.

    Works for a script-mode noxfile ending in ``nox.main()`` (which resets nox's registry
    and executes the noxfile again): registration happens in this call, never as an import
    side effect.
    """
    base = Path(project_dir).resolve() if project_dir is not None else _caller_dir()
    registered = _nox.registry.get()
    names: list[str] = []
    for stage, body, description in _STAGES:
        name = f"{prefix}-{stage}"
        names.append(name)
        if getattr(registered.get(name), "manywheels_prefix", None) == prefix:
            continue
        _register(name, _make_session(body, base, dict(overrides), description), prefix)

    chain = [f"{prefix}-{stage}" for stage in ("build", "repair", "test")]
    if getattr(registered.get(prefix), "manywheels_prefix", None) != prefix:

        def chain_session(session: Session) -> None:
            close_shared_runs()
            session.log(f"{prefix}: build, repair and test done; wheels in the output-dir")

        chain_session.__doc__ = "Build, repair and test the wheels (build -> repair -> test)."
        _register(prefix, chain_session, prefix, requires=chain)


def _make_session(
    body: Callable[[Run], object], base: Path, overrides: dict[str, Any], description: str
) -> Callable[[Session], None]:
    def session_function(session: Session) -> None:
        _call(session, body, base, dict(overrides))

    session_function.__doc__ = description
    return session_function


def _register(
    name: str, function: Callable[[Session], None], prefix: str, requires: list[str] | None = None
) -> None:
    func = _nox.session(name=name, python=False, default=False, requires=requires)(function)
    func.manywheels_prefix = prefix  # type: ignore[attr-defined]
