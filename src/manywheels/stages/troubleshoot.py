"""The troubleshoot stage: gather facts from a run and diagnose them.

:func:`troubleshoot` (the ``wheels-troubleshoot`` session) gathers everything: the
engine (socket, data-root free space), the image (present or pullable, its Pythons,
its package manager), the project tree and sdist, the logs and run report the stages
kept, and ``auditwheel show --json`` of every raw wheel in dist-dir (run in the image;
the raw wheel is copied in, nothing is rebuilt). It prints the full report, or a JSON
document on stdout with ``--json``.

:func:`quick_diagnosis` is the automatic diagnosis after a failing stage: the same
checks over the failing stage's logs and the facts already at hand, with no extra
container work beyond asking the image which package manager it has when a compile
lacked a header or library.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from manywheels._commands import stage_command
from manywheels.diagnose import (
    EngineFacts,
    Facts,
    Finding,
    diagnose,
    report_lines,
    short_lines,
    to_json,
)
from manywheels.diagnose import logs as log_patterns
from manywheels.engine import find_ca_bundle
from manywheels.errors import (
    BeforeAllError,
    ConfigError,
    EngineUnavailableError,
    ImageNotFoundError,
    ManywheelsError,
    PythonTagMissingError,
    SdistBuildError,
    StageFailedError,
)
from manywheels.plan._record import REPORT_NAME
from manywheels.stages._run import Run
from manywheels.stages._troubleshoot_engine import engine_facts, free_bytes, image_facts
from manywheels.stages._troubleshoot_files import project_facts, stage_logs, wheel_audits

__all__ = [
    "DEFAULT_MIN_FREE_GIB",
    "ProblemsFoundError",
    "TroubleshootOptions",
    "failed_stage",
    "gather",
    "is_diagnosable",
    "print_quick_diagnosis",
    "quick_diagnosis",
    "split_args",
    "troubleshoot",
]

DEFAULT_MIN_FREE_GIB = 5.0
"""Below this much free space (GiB) for the engine, troubleshoot warns."""

_HOST_VARIABLES = (
    "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "https_proxy", "http_proxy",
    "no_proxy", "all_proxy", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL",
    "UV_DEFAULT_INDEX", "SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE",
)


class ProblemsFoundError(ManywheelsError):
    """``wheels-troubleshoot`` found one or more problems of severity ``error``."""

    exit_code = 1

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        errors = [f for f in findings if f.severity == "error"]
        super().__init__(
            f"troubleshoot found {len(errors)} problem(s); first: {errors[0].cause}"
            if errors else "troubleshoot found no problem"
        )


@dataclass(frozen=True)
class TroubleshootOptions:
    """Options of the troubleshoot stage (command line: ``--json``, ``--min-free-gib``).

    Attributes:
        json: print a JSON document on stdout instead of the report.
        min_free_gib: warn when the engine has less free space than this (GiB).
    """

    json: bool = False
    min_free_gib: float = DEFAULT_MIN_FREE_GIB


def split_args(argv: Sequence[str]) -> tuple[TroubleshootOptions, list[str]]:
    """Take the troubleshoot flags out of command-line arguments.

    ``--json`` and ``--min-free-gib N`` (or ``--min-free-gib=N``) are the stage's own;
    the rest are configuration flags for :func:`manywheels.config.load_config`.

    Raises:
        ConfigError: ``--min-free-gib`` without a non-negative number.
    """
    json_output = False
    min_free = DEFAULT_MIN_FREE_GIB
    rest: list[str] = []
    args = list(argv)
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--json":
            json_output = True
        elif arg == "--min-free-gib" or arg.startswith("--min-free-gib="):
            if "=" in arg:
                value = arg.split("=", 1)[1]
            else:
                index += 1
                value = args[index] if index < len(args) else ""
            try:
                min_free = float(value)
            except ValueError:
                min_free = -1.0
            if min_free < 0:
                msg = f"command line: --min-free-gib: got {value!r}, expected a number >= 0"
                raise ConfigError(msg)
        else:
            rest.append(arg)
        index += 1
    return TroubleshootOptions(json_output, min_free), rest


# ------------------------------------------------------------------ dispatch

_DIAGNOSABLE: tuple[type[ManywheelsError], ...] = (
    EngineUnavailableError,
    ImageNotFoundError,
    PythonTagMissingError,
    SdistBuildError,
    BeforeAllError,
)
"""Errors the automatic diagnosis explains, besides a failed build, repair or test."""


def failed_stage(error: ManywheelsError | None) -> str | None:
    """The stage whose logs explain ``error``, from the error's type.

    Args:
        error: the error that stopped a stage, or ``None``.

    Returns:
        ``build``/``repair``/``test`` (:class:`StageFailedError`), ``sdist``
        (:class:`SdistBuildError`), ``before-all`` (:class:`BeforeAllError`), else
        ``None``.
    """
    if isinstance(error, StageFailedError):
        return error.stage
    if isinstance(error, SdistBuildError):
        return "sdist"
    if isinstance(error, BeforeAllError):
        return "before-all"
    return None


def is_diagnosable(error: ManywheelsError) -> bool:
    """Whether the automatic diagnosis has something to say about ``error`` (by type):
    an unavailable engine or image, a Python tag the image lacks, a failed sdist build or
    before-all, or failed identifiers in build, repair or test."""
    if isinstance(error, StageFailedError):
        return error.stage in {"build", "repair", "test"}
    return isinstance(error, _DIAGNOSABLE)


def gather(
    run: Run,
    *,
    error: ManywheelsError | None = None,
    min_free_gib: float = DEFAULT_MIN_FREE_GIB,
) -> Facts:
    """Gather the facts for a diagnosis.

    Args:
        run: the run (its configuration, engine connection, containers, report).
        error: the error that stopped a stage: gather only what explains it (the
            automatic diagnosis); ``None`` gathers everything (``wheels-troubleshoot``).
        min_free_gib: the free-space threshold for the engine, in GiB.

    Returns:
        The facts. Nothing here raises for an unavailable engine or image: those are
        facts too.
    """
    config = run.config
    full = error is None
    only = error.failures if isinstance(error, StageFailedError) else None
    stage = failed_stage(error)
    logs = stage_logs(run) if full else stage_logs(run, only, stage) if stage else ()
    if stage == "repair":
        # The link lines of the build tell where a library auditwheel cannot find lives.
        logs += stage_logs(run, only, "build")
    needs_manager = any(
        log_patterns.missing_headers(log.text) or log_patterns.missing_libraries(log.text)
        or log_patterns.missing_pkgconfig(log.text)
        for log in logs if log.status == "failed"
    ) or stage == "before-all"
    engine, engine_ok = engine_facts(run, measure=full, error=error)
    image = None
    if engine_ok:
        image = image_facts(run, error=error, full=full, need_package_manager=needs_manager)
        if full and image.present:
            engine = EngineFacts(
                engine.host, engine.error, engine.socket_path, engine.socket_exists,
                engine.installed, engine.data_root, free_bytes(run, run.images()[0]),
            )
    project = project_facts(run) if full or stage in {"build", "sdist"} else None
    show = full and image is not None and image.present
    audits = wheel_audits(run, show=show) if full or stage == "repair" else ()
    plat = config.plat
    if plat is None and image is not None:
        plat = image.env.get("AUDITWHEEL_PLAT")
    ca_bundle = find_ca_bundle(run.host_env)
    return Facts(
        project_dir=str(config.project_dir),
        output_dir=str(config.output_dir),
        requested_pythons=tuple(t.tag for t in config.python) if config.python else None,
        plat=plat,
        before_all=config.before_all,
        environment=dict(config.environment),
        environment_pass=tuple(config.environment_pass),
        host_variables=tuple(v for v in _HOST_VARIABLES if run.host_env.get(v)),
        ca_bundle=str(ca_bundle) if ca_bundle else None,
        engine=engine,
        image=image,
        project=project,
        logs=logs,
        report=run.report.data,
        audits=audits,
        error=str(error) if error is not None else None,
        min_free_bytes=int(min_free_gib * 1024**3),
    )


# ------------------------------------------------------------------ front doors


def troubleshoot(
    run: Run, options: TroubleshootOptions | None = None, *, stdout: TextIO | None = None
) -> list[Finding]:
    """Diagnose the project, its last run and the build environment; print the report.

    Reads ``<output-dir>/manywheels-report.json`` and the logs it names
    (:func:`~manywheels.stages._troubleshoot_files.stage_logs`: never a log directory the
    record does not name); probes the engine and the image; runs
    ``auditwheel show --json`` on the raw wheels of dist-dir in their image. Never
    rebuilds anything.

    Args:
        run: the run.
        options: ``json`` prints a JSON document (see
            :func:`manywheels.diagnose.to_json`) on ``stdout`` instead of the report;
            ``min_free_gib`` is the engine free-space threshold in GiB.
        stdout: where the JSON goes; default ``sys.stdout``.

    Returns:
        The findings, most severe first.

    Raises:
        ProblemsFoundError: one or more findings have severity ``error`` (after
            printing them).
    """
    options = options or TroubleshootOptions()
    if not options.json:
        run.ui.heading("manywheels: troubleshoot")
        run.ui.info(
            f"reading {run.config.output_dir / 'logs'} and "
            f"{run.config.output_dir / REPORT_NAME}; probing the engine and {run.images()[0]}"
        )
    facts = gather(run, min_free_gib=options.min_free_gib)
    findings = diagnose(facts)
    if options.json:
        out = stdout or sys.stdout
        out.write(to_json(findings, facts) + "\n")
        out.flush()
    else:
        styles = {"[error]": "bold red", "[warning]": "yellow", "[info]": "cyan"}
        for line in report_lines(findings):
            style = next((v for k, v in styles.items() if line.startswith(k)), None)
            run.ui.console.print(line, style=style, markup=False, highlight=False)
    if any(f.severity == "error" for f in findings):
        raise ProblemsFoundError(findings)
    return findings


def quick_diagnosis(run: Run, error: ManywheelsError) -> list[Finding]:
    """The diagnosis of a stage that just failed with ``error``: the checks over that
    stage's logs and the facts at hand. Never raises (a diagnosis that fails yields
    nothing)."""
    if not is_diagnosable(error):
        return []
    if run.config.engine == "none" and isinstance(error, EngineUnavailableError):
        return []  # engine none outside an image: the error line says it all
    try:
        return diagnose(gather(run, error=error))
    except Exception:  # noqa: BLE001 - diagnosis must never hide the real error
        return []


def print_quick_diagnosis(run: Run, error: ManywheelsError, limit: int = 3) -> list[str]:
    """Print the automatic diagnosis (top findings, one line each) with the UI.

    Returns:
        The lines printed (empty when nothing was diagnosed).
    """
    lines = short_lines(quick_diagnosis(run, error), limit=limit)
    if lines:
        run.ui.error(f"diagnosis (full report: {stage_command('troubleshoot')}):")
        for line in lines:
            run.ui.error(f"  {line}")
    return lines

