"""The publish stage: upload the tested wheels and the sdist with twine, on the host.

Nothing of it runs in a container, and credentials stay on the host. In order:

1. **Select** every ``*.whl`` directly in output-dir and the sdist in dist-dir, and
2. **check** them (a failing check uploads nothing): :mod:`._files`, which also holds
   the one read of the run record (:func:`~._files.read_record`).
3. **Resolve the index** the twine way (``repository-url``, ``repository``,
   ``TWINE_*``, ``~/.pypirc``): :mod:`._target`.
4. **Ask the index what it has** through its simple API (:pep:`691` JSON or :pep:`503`
   HTML): :mod:`._index`. Files already there with the same hash are skipped; a file
   there with a *different* hash is an error.
5. With ``publish.attestations``, **sign** the missing files (:pep:`740`, needs an
   ambient OIDC identity, checked right after step 2): :mod:`._attest`.
6. **Upload** the missing files one at a time with ``python -m twine upload``; when one
   fails, the error names what went up and what did not, and a re-run uploads the rest:
   :mod:`._twine`.

``dry-run`` runs 1-4 (an unreadable index is then only a warning) and prints what
would go where. Everything printed or written to ``<output-dir>/logs/publish.log``
goes through :class:`Redactor`: passwords and tokens never appear.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from manywheels._ui import UI, SummaryRow
from manywheels.config import Config
from manywheels.errors import PublishError
from manywheels.plan._record import RunReport
from manywheels.stages.publish._attest import (
    TWINE_ATTESTATIONS_FLAG,
    check_attestations,
    sign_all,
)
from manywheels.stages.publish._files import (
    check_platform_tags,
    check_release,
    check_tested,
    collect_files,
    find_sdist,
    read_record,
    twine_check,
    unrecorded_files,
)
from manywheels.stages.publish._index import (
    IndexQueryError,
    classify,
    index_session,
    read_index,
)
from manywheels.stages.publish._target import UploadTarget, resolve_target
from manywheels.stages.publish._twine import (
    ConsoleSink,
    PublishUploadError,
    Redactor,
    Sink,
    UploadPlan,
    upload_all,
)

__all__ = [
    "LOG_NAME",
    "PublishResult",
    "PublishUploadError",
    "Redactor",
    "UploadTarget",
    "check_platform_tags",
    "check_release",
    "check_tested",
    "collect_files",
    "find_sdist",
    "publish",
    "read_record",
    "resolve_target",
    "unrecorded_files",
]

LOG_NAME = "logs/publish.log"
"""The publish log, relative to output-dir (twine's output, redacted)."""


@dataclass(frozen=True)
class PublishResult:
    """What :func:`publish` did.

    Attributes:
        repository_url: the upload URL, without credentials.
        planned: files missing from the index, to upload (in a dry run: would upload).
        uploaded: files uploaded by this call (empty in a dry run).
        skipped: files the index already had with the same hash.
        dry_run: nothing was uploaded because ``dry-run`` was set.
    """

    repository_url: str
    planned: tuple[Path, ...] = ()
    uploaded: tuple[Path, ...] = ()
    skipped: tuple[Path, ...] = ()
    dry_run: bool = False


def _log_context(config: Config, ui: UI) -> contextlib.AbstractContextManager[Sink]:
    if config.dry_run:
        return contextlib.nullcontext(ConsoleSink(ui))
    return ui.target_output("publish", config.output_dir / LOG_NAME)


def _checked_files(config: Config, ui: UI) -> tuple[list[Path], str, str]:
    """Select and check the files (everything but twine check).

    Returns:
        ``(files: wheels then the sdist, project, version)``.
    """
    record = read_record(RunReport(config.output_dir))
    wheels, sdist = collect_files(config, record)
    stray = unrecorded_files(config, record)
    if stray:
        ui.warn(f"ignoring {len(stray)} file(s) the run record does not name for the current "
                f"sdist: {', '.join(p.name for p in stray)}")
    if not wheels:
        ui.warn(f"no wheels in output-dir {config.output_dir}; publishing the sdist only")
    elif sdist is None:
        ui.warn(f"no sdist in dist-dir {config.dist_dir}; publishing the wheels only")
    check_platform_tags(wheels)
    check_tested(wheels, record, allow_untested=config.allow_untested, warn=ui.warn)
    files = [*wheels, *([sdist] if sdist is not None else [])]
    project, version = check_release(files)
    return files, project, str(version)


def publish(
    config: Config,
    ui: UI,
    *,
    env: Mapping[str, str] | None = None,
    simple_url: str | None = None,
) -> PublishResult:
    """Check, then upload the wheels of output-dir and the sdist of dist-dir with twine.

    Runs on the host (``python -m twine``); see the module docstring for the order of
    checks and the target resolution. Idempotent: files the index already has (same
    hash, from its :pep:`691`/:pep:`503` simple API) are skipped, so a re-run after a
    partial failure uploads the rest.

    Args:
        config: uses ``output_dir``, ``dist_dir``, ``repository``, ``repository_url``,
            ``allow_untested``, ``attestations`` and ``dry_run``.
        ui: console output; twine's output also goes to ``<output-dir>/logs/publish.log``
            (not in a dry run), redacted.
        env: the environment for ``TWINE_*``, ``HOME`` (``.pypirc``) and twine's process;
            default ``os.environ``.
        simple_url: the index's simple API base URL when it cannot be derived from the
            upload URL (devpi); see :func:`~manywheels.stages.publish._index.simple_url_for`.

    Returns:
        What was planned, uploaded and skipped.

    Raises:
        NothingToDoError: no wheel and no sdist to publish.
        PublishError: a check failed (nothing uploaded; with ``attestations``: no
            ambient OIDC identity, pypi-attestations missing, or signing failed), the index
            could not be read or holds a same-named file with other content, or
            :class:`PublishUploadError`: an upload failed midway.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    ui.heading("publish")
    files, project, version = _checked_files(config, ui)
    if config.attestations:
        _check_attestations(config, ui, environ)
    target = resolve_target(config, environ, simple_url=simple_url)
    ui.info(
        f"publishing {project} {version}: {len(files)} file(s) to {target.upload_url} "
        f"(from {target.origin})"
    )
    with _log_context(config, ui) as sink:
        twine_check(files, env=environ, sink=sink, redact=Redactor(target.secrets))
        with index_session(target) as session:
            plan = _plan(config, ui, files, target=target, project=project, session=session)
            for path in plan.present:
                ui.info(f"already on the index (same hash): {path.name}")
            if config.dry_run:
                return _dry_run(ui, plan)
            redact = Redactor(plan.target.secrets)
            extra: list[str] = []
            if config.attestations:
                sign_all(plan.missing, env=environ, note=sink.note)
                extra.append(TWINE_ATTESTATIONS_FLAG)
            uploaded = upload_all(
                plan, env=environ, sink=sink, redact=redact, ui=ui, session=session,
                extra_args=extra,
            )
    return PublishResult(
        repository_url=plan.target.upload_url,
        planned=tuple(plan.missing),
        uploaded=tuple(uploaded),
        skipped=tuple(plan.present),
    )


def _check_attestations(config: Config, ui: UI, env: Mapping[str, str]) -> None:
    """``publish.attestations``: refuse before any upload when signing cannot work
    (:func:`~._attest.check_attestations`); a dry run only warns.

    Raises:
        PublishError: no ambient OIDC identity, or pypi-attestations missing.
    """
    try:
        check_attestations(env)
    except PublishError as error:
        if not config.dry_run:
            raise
        ui.warn(f"dry run: {error}")


def _plan(
    config: Config,
    ui: UI,
    files: Sequence[Path],
    *,
    target: UploadTarget,
    project: str,
    session: requests.Session,
) -> UploadPlan:
    """Ask the index what it has; split the files into missing and present.

    Raises:
        PublishError: the index could not be read (not in a dry run: then every file is
            listed as missing), or holds a file of the same name with other content.
    """
    try:
        existing, target = read_index(target, project, session=session, warn=ui.warn)
    except IndexQueryError as error:
        redact = Redactor(target.secrets)
        if not config.dry_run:
            raise PublishError(redact(str(error))) from None
        ui.warn(f"{redact(str(error))}; listing every file as to upload")
        existing = {}
    missing, present = classify(files, existing, session=session, target=target)
    return UploadPlan(missing, present, target, project)


def _dry_run(ui: UI, plan: UploadPlan) -> PublishResult:
    target, missing, present = plan.target, plan.missing, plan.present
    for path in missing:
        ui.info(f"dry run: would upload {path} to {target.upload_url}")
    if not missing:
        ui.info(f"dry run: nothing to upload, {target.upload_url} has all {len(present)} file(s)")
    rows = [SummaryRow(p.name, "would upload", detail=target.upload_url) for p in missing]
    rows += [SummaryRow(p.name, "skipped", detail="already on the index") for p in present]
    ui.summary(f"publish (dry run) -> {target.upload_url}", rows)
    return PublishResult(
        repository_url=target.upload_url,
        planned=tuple(missing),
        skipped=tuple(present),
        dry_run=True,
    )
