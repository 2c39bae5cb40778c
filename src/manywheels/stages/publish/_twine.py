"""Running twine on the host: redaction, ``twine upload`` one file at a time, and the
report of an upload that failed midway (what went up, what did not).

Everything twine prints goes through :class:`Redactor` before it reaches the console
or ``<output-dir>/logs/publish.log``: passwords and tokens never appear.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import requests

from manywheels._commands import stage_command
from manywheels._ui import UI, SummaryRow
from manywheels.errors import PublishError
from manywheels.stages.publish._index import IndexQueryError, file_matches, project_files

if TYPE_CHECKING:
    from manywheels.stages.publish._target import UploadTarget

__all__ = [
    "TWINE_TARGET_VARS",
    "ConsoleSink",
    "PublishUploadError",
    "Redactor",
    "Sink",
    "UploadPlan",
    "partial",
    "run_twine",
    "twine_reason",
    "upload_all",
]

_MASK = "********"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_URL_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")
_PYPI_TOKEN = re.compile(r"pypi-[A-Za-z0-9_\-]{16,}")
TWINE_TARGET_VARS = frozenset(
    {"TWINE_REPOSITORY", "TWINE_REPOSITORY_URL", "TWINE_USERNAME", "TWINE_PASSWORD", "TWINE_CERT"}
)
"""Variables the child twine gets from us (resolved once) instead of from the caller."""


class PublishUploadError(PublishError):
    """An upload failed midway; earlier files are on the index, later ones are not.

    Attributes:
        failed: the file whose upload failed.
        uploaded: files on the index now (uploaded by this call or found there).
        not_uploaded: files not on the index (``failed`` first).
    """

    def __init__(
        self,
        message: str,
        *,
        failed: Path,
        uploaded: Sequence[Path],
        not_uploaded: Sequence[Path],
    ) -> None:
        super().__init__(message)
        self.failed = failed
        self.uploaded = tuple(uploaded)
        self.not_uploaded = tuple(not_uploaded)


class Redactor:
    """Masks secrets in text: the given strings (also URL-encoded), the password part of
    ``scheme://user:password@host`` URLs, and anything shaped like a PyPI API token.

    Args:
        secrets: passwords and tokens; empty values are ignored.
    """

    def __init__(self, secrets: Sequence[str | None] = ()) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if secret:
                variants.update({secret, quote(secret, safe=""), quote(secret)})
        self._secrets = sorted(variants, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` with every secret replaced by ``********``."""
        for secret in self._secrets:
            text = text.replace(secret, _MASK)
        text = _URL_USERINFO.sub(_MASK + "@", text)
        return _PYPI_TOKEN.sub("pypi-" + _MASK, text)


class Sink(Protocol):
    """Where twine's output goes: ``sink(line, stream)``, ``sink.note(command)``."""

    def __call__(self, line: str, stream: str) -> None: ...

    def note(self, text: str) -> None: ...


class ConsoleSink:
    """A sink that only echoes (dry run: no log file is written).

    Args:
        ui: the console output.
    """

    def __init__(self, ui: UI) -> None:
        self.ui = ui

    def __call__(self, line: str, stream: str) -> None:  # noqa: ARG002 - the sink protocol
        """Echo one line of output (dimmed)."""
        if self.ui.echo:
            self.ui.console.print(line, markup=False, highlight=False, style="dim")

    def note(self, text: str) -> None:
        """Echo the command about to run."""
        if self.ui.echo:
            self.ui.console.print(f"+ {text}", markup=False, highlight=False, style="cyan")


def run_twine(
    args: Sequence[str], *, env: Mapping[str, str], sink: Sink, redact: Redactor
) -> tuple[int, list[str]]:
    """Run ``python -m twine ARGS`` (no stdin, no colour, no progress bar codes).

    Args:
        args: twine's arguments (``["check", ...]``, ``["upload", ...]``).
        env: its environment (credentials in ``TWINE_*``, never in ``args``).
        sink: receives the command and each output line (ANSI codes stripped, redacted).
        redact: masks secrets.

    Returns:
        ``(exit code, the non-blank output lines)``.
    """
    sink.note(redact(shlex.join(["twine", *args])))
    child = dict(env)
    child.update({"COLUMNS": "400", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    child.pop("FORCE_COLOR", None)
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "twine", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=child,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for raw in process.stdout:
            line = redact(_ANSI.sub("", raw).rstrip())
            if line.strip():
                lines.append(line)
                sink(line, "stdout")
        returncode = process.wait()
    return returncode, lines


def twine_reason(lines: Sequence[str]) -> str:
    """twine's error in one line: the first ``ERROR`` line and its continuation lines
    (else the last line of output, else ``no output``)."""
    for index, line in enumerate(lines):
        if line.startswith("ERROR"):
            parts = [line[len("ERROR") :].strip()]
            for more in lines[index + 1 : index + 4]:
                if not more.startswith(" ") or not more.strip():
                    break
                parts.append(more.strip())
            return " — ".join(p for p in parts if p)
    tail = [line.strip() for line in lines if line.strip()]
    return tail[-1] if tail else "no output"


def partial(uploaded: Sequence[Path], present: Sequence[Path], rest: Sequence[Path]) -> str:
    """``uploaded: a; not uploaded: b`` (with what the index already had), for messages."""
    went = ", ".join(p.name for p in uploaded) or "none"
    missing = ", ".join(p.name for p in rest) or "none"
    extra = f" (already there: {', '.join(p.name for p in present)})" if present else ""
    return f"uploaded: {went}{extra}; not uploaded: {missing}"


@dataclass(frozen=True)
class UploadPlan:
    """What to upload where.

    Attributes:
        missing: files the index lacks, uploaded in this order.
        present: files the index already has with the same hash (skipped).
        target: the resolved upload target.
        project: the normalized project name (to re-read the index after a failure).
    """

    missing: Sequence[Path]
    present: Sequence[Path]
    target: UploadTarget
    project: str


def _now_on_index(path: Path, plan: UploadPlan, session: requests.Session) -> bool:
    """After a failed upload: does the index list the file with our content now (the
    response was lost, or another run uploaded it)? Best effort."""
    try:
        remote = project_files(plan.target.simple_url, plan.project, session=session).get(
            path.name
        )
        return remote is not None and file_matches(path, remote, session=session)[0]
    except IndexQueryError:
        return False


def _failure_hint(reason: str, target: UploadTarget) -> str:
    if re.search(r"\b(401|403)\b", reason):
        return (
            "; check the credentials (TWINE_USERNAME/TWINE_PASSWORD or the ~/.pypirc "
            "section; on PyPI: TWINE_USERNAME=__token__, TWINE_PASSWORD=pypi-…)"
        )
    if re.search(r"\b(400|409)\b", reason):
        return (
            f"; if the index already has this file, its simple API at "
            f"{target.simple_url} did not list it with this content"
        )
    return ""


def upload_all(
    plan: UploadPlan,
    *,
    env: Mapping[str, str],
    sink: Sink,
    redact: Redactor,
    ui: UI,
    session: requests.Session,
    extra_args: Sequence[str] = (),
) -> list[Path]:
    """Upload ``plan.missing`` one at a time with ``twine upload``; print the summary.

    Args:
        plan: the files and the target.
        env: the caller's environment (the target's credentials are put in it).
        sink: receives twine's output (redacted).
        redact: masks secrets.
        ui: console output.
        session: the index session (to check, after a failure, whether the file is there).
        extra_args: more ``twine upload`` arguments (``--attestations``).

    Returns:
        The uploaded files.

    Raises:
        PublishUploadError: an upload failed (after printing the summary), naming what
            went up and what did not.
    """
    target, missing, present = plan.target, plan.missing, plan.present
    twine_env = target.twine_env(env)
    uploaded: list[Path] = []
    rows: list[SummaryRow] = []
    skipped = [SummaryRow(p.name, "skipped", detail="already on the index") for p in present]
    for index, path in enumerate(missing):
        started = time.monotonic()
        try:
            returncode, lines = run_twine(
                ["upload", "--non-interactive", "--disable-progress-bar",
                 *target.twine_args(), *extra_args, str(path)],
                env=twine_env, sink=sink, redact=redact,
            )
        except KeyboardInterrupt:
            ui.error(partial(uploaded, present, missing[index:]) + "; interrupted")
            raise
        duration = time.monotonic() - started
        if returncode == 0:
            uploaded.append(path)
            rows.append(SummaryRow(path.name, "passed", duration, "uploaded"))
            ui.info(f"uploaded {path.name}")
            continue
        if _now_on_index(path, plan, session):
            ui.warn(f"twine failed for {path.name}, but the index has it with the same hash")
            uploaded.append(path)
            rows.append(SummaryRow(path.name, "passed", duration, "on the index (checked)"))
            continue
        reason = redact(twine_reason(lines))
        rows.append(SummaryRow(path.name, "failed", duration, reason))
        rows += [SummaryRow(p.name, "not uploaded") for p in missing[index + 1 :]]
        ui.summary(f"publish -> {target.upload_url}", rows + skipped)
        msg = (
            f"upload of {path.name} to {target.upload_url} failed: {reason}"
            f"{_failure_hint(reason, target)}; {partial(uploaded, present, missing[index:])}; "
            f"re-run {stage_command('publish')} to upload the rest"
        )
        raise PublishUploadError(
            msg, failed=path, uploaded=[*present, *uploaded], not_uploaded=missing[index:]
        )
    ui.summary(f"publish -> {target.upload_url}", rows + skipped)
    if not missing:
        ui.info(f"nothing to upload: {target.upload_url} has all {len(present)} file(s)")
    return uploaded
