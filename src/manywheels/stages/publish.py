"""The publish stage: upload the tested wheels and the sdist with twine, on the host.

Nothing of it runs in a container, and credentials stay on the host. In order:

1. **Select** every ``*.whl`` directly in output-dir and the sdist in dist-dir (the one
   the run report names, else the only ``*.tar.gz`` there). None at all ->
   :class:`~manywheels.errors.NothingToDoError`.
2. **Check** (a failing check uploads nothing; each raises
   :class:`~manywheels.errors.PublishError` naming the files): no wheel has a
   ``linux_*`` platform tag; every wheel is recorded by the run report as repaired and
   tested (unless ``allow-untested``); all files are one project and one version;
   ``twine check --strict`` passes for every file.
3. **Resolve the index** the twine way: ``repository-url``, else ``repository`` (a
   ``~/.pypirc`` section), else ``TWINE_REPOSITORY_URL``, else ``TWINE_REPOSITORY``, else
   ``pypi``; credentials from ``TWINE_USERNAME``/``TWINE_PASSWORD``, else the
   ``~/.pypirc`` section, else twine's keyring / trusted-publishing lookup.
   (https://twine.readthedocs.io/en/stable/#environment-variables,
   https://packaging.python.org/specifications/pypirc/)
4. **Ask the index what it has** through its simple API (:pep:`691` JSON or :pep:`503`
   HTML, see :mod:`manywheels.stages._simple_index`): files already there with the same hash
   are skipped; a file there with a *different* hash is an error. twine's
   ``--skip-existing`` is not used: since twine 6.2 it is refused for any index but
   PyPI and TestPyPI.
5. **Upload** the missing files one at a time with ``python -m twine upload``; when one
   fails, the error names what went up and what did not, and a re-run uploads the rest.

``dry-run`` runs 1-4 (an unreadable index is then only a warning) and prints what
would go where. Everything printed or written to ``<output-dir>/logs/publish.log``
goes through :class:`Redactor`: passwords and tokens never appear.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

import requests
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version
from twine import auth as twine_auth
from twine import exceptions as twine_exceptions
from twine import utils as twine_utils

from manywheels._fsutil import sha256_file
from manywheels._ui import UI, SummaryRow
from manywheels.config._config import Config
from manywheels.errors import NothingToDoError, PublishError
from manywheels.plan._record import RunReport
from manywheels.stages._simple_index import (
    IndexFile,
    IndexQueryError,
    file_matches,
    is_pypi,
    project_files,
    simple_url_for,
    strip_userinfo,
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
    "resolve_target",
]

LOG_NAME = "logs/publish.log"
"""The publish log, relative to output-dir (twine's output, redacted)."""

_DEFAULT_REPOSITORIES = {
    "pypi": twine_utils.DEFAULT_REPOSITORY,
    "testpypi": twine_utils.TEST_REPOSITORY,
}
_MASK = "********"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_URL_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")
_PYPI_TOKEN = re.compile(r"pypi-[A-Za-z0-9_\-]{16,}")
# Variables the child twine gets from us (resolved once) instead of from the caller.
_TWINE_TARGET_VARS = frozenset(
    {"TWINE_REPOSITORY", "TWINE_REPOSITORY_URL", "TWINE_USERNAME", "TWINE_PASSWORD", "TWINE_CERT"}
)


# --------------------------------------------------------------------------- results


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


# --------------------------------------------------------------------------- redaction


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


# --------------------------------------------------------------------------- selection


def find_sdist(dist_dir: Path, report: RunReport) -> Path | None:
    """The sdist to publish: the one the run report names, else the only ``*.tar.gz``.

    Args:
        dist_dir: the dist-dir (absolute).
        report: the run report of output-dir (``project.sdist``, ``project.sdist_sha256``).

    Returns:
        The sdist path, or ``None`` when dist-dir has no ``*.tar.gz`` and the report
        names none.

    Raises:
        PublishError: the sdist the report names is missing or differs from the recorded
            sha256, or the report names none and dist-dir holds several.
    """
    project = report.data.get("project")
    project = project if isinstance(project, Mapping) else {}
    recorded = project.get("sdist")
    if isinstance(recorded, str) and recorded:
        path = dist_dir / Path(recorded).name
        if not path.is_file():
            msg = (
                f"the run report names the sdist {recorded}, but it is not in dist-dir "
                f"{dist_dir}; run wheels-build again"
            )
            raise PublishError(msg)
        expected = project.get("sdist_sha256")
        if isinstance(expected, str) and expected and sha256_file(path) != expected.lower():
            msg = (
                f"sdist {path.name} in {dist_dir} is not the one the run report recorded "
                "(its sha256 differs); run wheels-build again"
            )
            raise PublishError(msg)
        return path
    candidates = sorted(p for p in dist_dir.glob("*.tar.gz") if p.is_file())
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        msg = (
            f"dist-dir {dist_dir} holds {len(candidates)} sdists ({names}) and the run "
            "report names none; keep only the one to publish"
        )
        raise PublishError(msg)
    return candidates[0] if candidates else None


def collect_files(config: Config, report: RunReport) -> tuple[list[Path], Path | None]:
    """The files to publish: every ``*.whl`` directly in output-dir, and the sdist.

    Args:
        config: uses ``output_dir`` and ``dist_dir`` (absolute paths).
        report: the run report of output-dir.

    Returns:
        ``(wheels sorted by name, sdist or None)``.

    Raises:
        NothingToDoError: no wheel and no sdist.
        PublishError: see :func:`find_sdist`.
    """
    output_dir = config.output_dir
    wheels = sorted(p for p in output_dir.glob("*.whl") if p.is_file())
    sdist = find_sdist(config.dist_dir, report)
    if not wheels and sdist is None:
        msg = (
            f"nothing to publish: no wheels in output-dir {output_dir} and no sdist in "
            f"dist-dir {config.dist_dir}; run wheels-build, wheels-repair and wheels-test first"
        )
        raise NothingToDoError(msg)
    return wheels, sdist


# --------------------------------------------------------------------------- checks


def _parse_wheel(path: Path) -> tuple[str, Version, frozenset[str]]:
    try:
        name, version, _, tags = parse_wheel_filename(path.name)
    except InvalidWheelFilename:
        msg = (
            f"{path.name} is not a valid wheel file name "
            "(name-version[-build]-python-abi-platform.whl, PEP 427)"
        )
        raise PublishError(msg) from None
    return str(name), version, frozenset(tag.platform for tag in tags)


def check_platform_tags(wheels: Sequence[Path]) -> None:
    """Refuse wheels with a ``linux_*`` platform tag (unrepaired; PyPI rejects them too).

    Args:
        wheels: wheel paths.

    Raises:
        PublishError: naming every such wheel and its tag, or an invalid wheel name.
    """
    refused: list[str] = []
    for wheel in wheels:
        platforms = sorted(p for p in _parse_wheel(wheel)[2] if p.startswith("linux_"))
        if platforms:
            refused.append(f"{wheel.name} ({', '.join(platforms)})")
    if refused:
        msg = (
            f"refusing {', '.join(refused)}: a linux_* platform tag means the wheel was not "
            "repaired; publish only manylinux_*/musllinux_* wheels from wheels-repair"
        )
        raise PublishError(msg)


def _tested_records(report: RunReport) -> dict[str, list[tuple[str, str | None]]]:
    """wheel name -> [(test status, repair sha256)] over all targets."""
    records: dict[str, list[tuple[str, str | None]]] = {}
    for target in report.targets.values():
        stages = target.get("stages") if isinstance(target, Mapping) else None
        if not isinstance(stages, Mapping):
            continue
        repair = stages.get("repair")
        test = stages.get("test")
        if not isinstance(repair, Mapping) or not isinstance(repair.get("wheel"), str):
            continue
        status = test.get("status") if isinstance(test, Mapping) else None
        sha = repair.get("sha256")
        records.setdefault(repair["wheel"], []).append(
            (str(status) if status else "not run", sha.lower() if isinstance(sha, str) else None)
        )
    return records


def check_tested(
    wheels: Sequence[Path],
    report: RunReport,
    *,
    allow_untested: bool = False,
    warn: Callable[[str], None] | None = None,
    sha256: Callable[[Path], str] = sha256_file,
) -> list[Path]:
    """The wheels the run report does not record as tested; refused unless allowed.

    A wheel is tested when some target's ``stages.repair.wheel`` is its file name and
    that target's ``stages.test.status`` is ``passed`` (and, when the report recorded
    the repaired wheel's ``sha256``, the file still has it).

    Args:
        wheels: wheel paths.
        report: the run report of output-dir.
        allow_untested: only warn (through ``warn``) instead of raising.
        warn: receives the warning when ``allow_untested``.
        sha256: hex sha256 of a file (injectable for tests).

    Returns:
        The untested wheels (empty when all are tested).

    Raises:
        PublishError: some wheels are untested and ``allow_untested`` is false.
    """
    records = _tested_records(report)
    untested: list[Path] = []
    reasons: list[str] = []
    for wheel in wheels:
        entries = records.get(wheel.name, [])
        passed = [sha for status, sha in entries if status == "passed"]
        if passed and any(sha is None or sha == sha256(wheel) for sha in passed):
            continue
        untested.append(wheel)
        if passed:
            reasons.append(f"{wheel.name} (changed since it was tested)")
        elif entries:
            statuses = ", ".join(sorted({status for status, _ in entries}))
            reasons.append(f"{wheel.name} (test {statuses})")
        else:
            reasons.append(f"{wheel.name} (not in the run report)")
    if not untested:
        return []
    where = report.path if report.path.is_file() else f"{report.path} (missing)"
    if allow_untested:
        if warn is not None:
            warn(f"publishing untested wheels (allow-untested): {', '.join(reasons)}")
        return untested
    msg = (
        f"refusing untested wheels: {', '.join(reasons)}; the run report {where} must "
        "record each as repaired and tested (test passed): run wheels-test, or pass "
        "--allow-untested"
    )
    raise PublishError(msg)


def check_release(files: Sequence[Path]) -> tuple[str, Version]:
    """All files must be one project (:pep:`503` normalized name) and one version.

    Args:
        files: wheel and sdist paths (``.whl``, ``.tar.gz``).

    Returns:
        ``(normalized project name, version)``.

    Raises:
        PublishError: the files are of several projects or versions (naming them), a
            file name is not a valid wheel or sdist name, or ``files`` is empty.
    """
    groups: dict[tuple[str, Version], list[str]] = {}
    for path in files:
        if path.name.endswith(".whl"):
            name, version, _ = _parse_wheel(path)
        else:
            try:
                parsed_name, version = parse_sdist_filename(path.name)
            except InvalidSdistFilename:
                msg = f"{path.name} is not a valid sdist file name (name-version.tar.gz)"
                raise PublishError(msg) from None
            name = str(parsed_name)
        groups.setdefault((canonicalize_name(name), version), []).append(path.name)
    if not groups:
        msg = "no files to check"
        raise PublishError(msg)
    if len(groups) > 1:
        found = "; ".join(
            f"{name} {version}: {', '.join(names)}" for (name, version), names in groups.items()
        )
        msg = (
            f"all files must be one project and one version, found {len(groups)}: {found}; "
            "remove the stray files from output-dir / dist-dir"
        )
        raise PublishError(msg)
    return next(iter(groups))


# --------------------------------------------------------------------------- target


@dataclass(frozen=True)
class UploadTarget:
    """Where to upload and with which credentials, resolved once the twine way.

    Attributes:
        upload_url: the upload (legacy API) URL, without credentials.
        simple_url: the simple API base URL
            (:func:`~manywheels.stages._simple_index.simple_url_for`).
        origin: where the URL came from, for messages.
        username: the user name (``None``: twine decides; ``__token__`` on PyPI).
        password: the password or token (never printed; not in ``repr``).
        cert: a CA bundle path (``TWINE_CERT`` or the section's ``ca_cert``).
        client_cert: a client certificate path (the section's ``client_cert``).
    """

    upload_url: str
    simple_url: str
    origin: str
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    cert: str | None = None
    client_cert: str | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def is_pypi(self) -> bool:
        """PyPI or TestPyPI (public simple API; token authentication)."""
        return is_pypi(self.upload_url)

    def twine_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """The environment of ``twine upload``: ``env`` with the resolved credentials."""
        child = {k: v for k, v in env.items() if k not in _TWINE_TARGET_VARS}
        if self.username:
            child["TWINE_USERNAME"] = self.username
        if self.password:
            child["TWINE_PASSWORD"] = self.password
        return child

    def twine_args(self) -> list[str]:
        """The target arguments of ``twine upload`` (no credentials in argv)."""
        args = ["--repository-url", self.upload_url]
        if self.cert:
            args += ["--cert", self.cert]
        if self.client_cert:
            args += ["--client-cert", self.client_cert]
        return args


def _source(config: Config, key: str) -> str:
    source = config.sources.get(key, "")
    return source if source and source != "default" else "configuration"


def resolve_target(
    config: Config, env: Mapping[str, str], *, simple_url: str | None = None
) -> UploadTarget:
    """Resolve the upload URL, simple URL and credentials.

    Precedence (manywheels' keys act like twine's command-line options, which beat
    twine's environment variables): ``repository-url`` > ``repository`` (a section of
    ``$HOME/.pypirc``) > ``TWINE_REPOSITORY_URL`` > ``TWINE_REPOSITORY`` > ``pypi``.
    Credentials: ``TWINE_USERNAME`` / ``TWINE_PASSWORD`` > the section's ``username`` /
    ``password`` > ``user:password@`` in the URL. ``TWINE_CERT`` > the section's
    ``ca_cert``. See https://twine.readthedocs.io/en/stable/#configuration and
    https://packaging.python.org/specifications/pypirc/.

    Args:
        config: uses ``repository``, ``repository_url`` and ``sources``.
        env: the environment (``HOME`` locates ``.pypirc``; ``TWINE_*``).
        simple_url: the simple API base URL; default derived from the upload URL
            (or ``config.simple_url`` if the configuration has such a key).

    Raises:
        PublishError: the ``.pypirc`` section is missing or malformed, or the URL is
            not an http(s) URL.
    """
    home = env.get("HOME")
    pypirc = Path(home) / ".pypirc" if home else Path.home() / ".pypirc"
    name: str | None = None
    url: str | None = None
    if config.repository_url:
        url = config.repository_url
        origin = f"repository-url ({_source(config, 'publish.repository-url')})"
    elif config.repository:
        name, origin = config.repository, f"repository ({_source(config, 'publish.repository')})"
    elif env.get("TWINE_REPOSITORY_URL"):
        url, origin = env["TWINE_REPOSITORY_URL"], "TWINE_REPOSITORY_URL"
    elif env.get("TWINE_REPOSITORY"):
        name, origin = env["TWINE_REPOSITORY"], "TWINE_REPOSITORY"
    else:
        name, origin = "pypi", "the default"

    url_password = unquote(urlsplit(url).password or "") if url else ""
    redact = Redactor([url_password, env.get("TWINE_PASSWORD")])
    shown = strip_userinfo(url) if url else f"[{name}] of {pypirc}"
    repo: dict[str, str | None]
    if url is None and not pypirc.is_file() and name in _DEFAULT_REPOSITORIES:
        repo = {"repository": _DEFAULT_REPOSITORIES[name], "username": None, "password": None}
    elif url is None and not pypirc.is_file():
        msg = (
            f"repository {name!r} ({origin}) names a section of {pypirc}, which does not "
            "exist; create it, or set repository-url"
        )
        raise PublishError(msg)
    else:
        try:
            repo = dict(twine_utils.get_repository_from_config(str(pypirc), name or "pypi", url))
        except twine_exceptions.TwineException as error:
            text = str(error).strip()
            first = text.splitlines()[0] if text else type(error).__name__
            msg = f"repository {shown} ({origin}): {redact(first)}"
            raise PublishError(msg) from None
        except KeyError:
            msg = f"section [{name}] of {pypirc} has no 'repository = URL' ({origin})"
            raise PublishError(msg) from None

    raw_url = repo.get("repository") or ""
    upload_url = strip_userinfo(raw_url)
    if url is not None:
        # user:password@ of a URL is percent-encoded (RFC 3986); twine keeps it raw
        parts = urlsplit(url)
        repo["username"] = unquote(parts.username) if parts.username else None
        repo["password"] = url_password or None
    else:
        parts = urlsplit(raw_url)
        repo.setdefault("username", None)
        repo["username"] = repo["username"] or (unquote(parts.username or "") or None)
        repo["password"] = repo.get("password") or (unquote(parts.password or "") or None)
    username = env.get("TWINE_USERNAME") or repo.get("username")
    password = env.get("TWINE_PASSWORD") or repo.get("password")
    secrets = tuple(
        s for s in {password, repo.get("password"), env.get("TWINE_PASSWORD"), url_password} if s
    )
    explicit = simple_url or getattr(config, "simple_url", None)
    simple = explicit if isinstance(explicit, str) and explicit else simple_url_for(upload_url)
    return UploadTarget(
        upload_url=upload_url,
        simple_url=simple.rstrip("/") + "/",
        origin=origin,
        username=username or None,
        password=password or None,
        cert=env.get("TWINE_CERT") or repo.get("ca_cert") or None,
        client_cert=repo.get("client_cert") or None,
        secrets=secrets,
    )


# --------------------------------------------------------------------------- twine


class _Sink(Protocol):
    def __call__(self, line: str, stream: str) -> None: ...

    def note(self, text: str) -> None: ...


class _ConsoleSink:
    """A sink that only echoes (dry run: no log file is written)."""

    def __init__(self, ui: UI) -> None:
        self.ui = ui

    def __call__(self, line: str, stream: str) -> None:  # noqa: ARG002 - the sink protocol
        if self.ui.echo:
            self.ui.console.print(line, markup=False, highlight=False, style="dim")

    def note(self, text: str) -> None:
        if self.ui.echo:
            self.ui.console.print(f"+ {text}", markup=False, highlight=False, style="cyan")


def _run_twine(
    args: Sequence[str], *, env: Mapping[str, str], sink: _Sink, redact: Redactor
) -> tuple[int, list[str]]:
    """Run ``python -m twine ARGS``; its output (ANSI codes stripped, redacted) goes to
    ``sink`` and is returned as lines."""
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


def _twine_reason(lines: Sequence[str]) -> str:
    """twine's error in one line: the first ``ERROR`` line and its continuation lines."""
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


def _twine_check(
    files: Sequence[Path], *, env: Mapping[str, str], sink: _Sink, redact: Redactor
) -> None:
    """``twine check --strict`` on every file (metadata and long description render).

    Raises:
        PublishError: naming the failing files and twine's first complaint.
    """
    check_env = {k: v for k, v in env.items() if k not in _TWINE_TARGET_VARS}
    returncode, lines = _run_twine(
        ["check", "--strict", *map(str, files)], env=check_env, sink=sink, redact=redact
    )
    if returncode == 0:
        return
    failed = [
        f.name for f in files
        if any(f.name in line and ("FAILED" in line or "warning" in line) for line in lines)
    ] or [f.name for f in files if not any(f.name in ln and "PASSED" in ln for ln in lines)]
    complaint = next(
        (line.strip() for line in lines if line.startswith(("ERROR", "WARNING"))), ""
    )
    detail = f": {' '.join(complaint.split())}" if complaint else ""
    msg = (
        f"twine check --strict failed for {', '.join(failed or [f.name for f in files])}"
        f"{detail}; fix the metadata (long_description and its content type)"
    )
    raise PublishError(msg)


# --------------------------------------------------------------------------- index


def _session(target: UploadTarget) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "manywheels-publish (pypi-simple; requests)"
    if target.username and target.password and not target.is_pypi:
        session.auth = (target.username, target.password)
    if target.cert:
        session.verify = target.cert
    if target.client_cert:
        session.cert = target.client_cert
    return session


def _classify(
    files: Sequence[Path],
    existing: Mapping[str, IndexFile],
    *,
    session: requests.Session,
    target: UploadTarget,
) -> tuple[list[Path], list[Path]]:
    """Split into (missing, already there with the same hash).

    Raises:
        PublishError: a file is on the index with a different hash.
    """
    missing: list[Path] = []
    present: list[Path] = []
    conflicts: list[str] = []
    for path in files:
        remote = existing.get(path.name)
        if remote is None:
            missing.append(path)
            continue
        same, algorithm, digest = file_matches(path, remote, session=session)
        if same:
            present.append(path)
        else:
            conflicts.append(f"{path.name} ({algorithm} {digest[:12]}… on the index)")
    if conflicts:
        msg = (
            f"{', '.join(conflicts)} already on {target.upload_url} with different content; "
            "an index never replaces a released file: bump the version"
        )
        raise PublishError(msg)
    return missing, present


def _keyring_credentials(target: UploadTarget) -> tuple[str, str] | None:
    """User name and password from the keyring, the way twine looks them up (non-
    interactively; twine's keyring warnings silenced). ``None`` when not found."""
    repository = {
        "repository": target.upload_url, "username": target.username, "password": None
    }
    resolver = twine_auth.Private(repository, twine_auth.CredentialInput(target.username, None))
    twine_logger = logging.getLogger("twine")
    level = twine_logger.level
    twine_logger.setLevel(logging.ERROR)
    try:
        username, password = resolver.username, resolver.password
    except twine_exceptions.TwineException:
        return None
    finally:
        twine_logger.setLevel(level)
    return (username, password) if username and password else None


def _read_index(
    target: UploadTarget, project: str, *, session: requests.Session, ui: UI
) -> tuple[dict[str, IndexFile], UploadTarget]:
    """The project's files on the index. When the index wants credentials that neither
    the environment nor ``.pypirc`` gave, tries the keyring (as twine would) once.

    Raises:
        IndexQueryError: see :func:`~manywheels.stages._simple_index.project_files`.
    """
    try:
        return project_files(target.simple_url, project, session=session, warn=ui.warn), target
    except IndexQueryError as error:
        if error.status not in {401, 403} or target.is_pypi or target.password:
            raise
        found = _keyring_credentials(target)
        if found is None:
            raise
    username, password = found
    target = replace(
        target, username=username, password=password, secrets=(*target.secrets, password)
    )
    session.auth = found
    return project_files(target.simple_url, project, session=session, warn=ui.warn), target


# --------------------------------------------------------------------------- stage


def _log_context(config: Config, ui: UI) -> contextlib.AbstractContextManager[_Sink]:
    if config.dry_run:
        return contextlib.nullcontext(_ConsoleSink(ui))
    return ui.target_output("publish", config.output_dir / LOG_NAME)


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
            ``allow_untested`` and ``dry_run``.
        ui: console output; twine's output also goes to ``<output-dir>/logs/publish.log``
            (not in a dry run), redacted.
        env: the environment for ``TWINE_*``, ``HOME`` (``.pypirc``) and twine's process;
            default ``os.environ``.
        simple_url: the index's simple API base URL when it cannot be derived from the
            upload URL (devpi); see :func:`~manywheels.stages._simple_index.simple_url_for`.

    Returns:
        What was planned, uploaded and skipped.

    Raises:
        NothingToDoError: no wheel and no sdist to publish.
        PublishError: a check failed (nothing uploaded), the index could not be read
            or holds a same-named file with other content, or
            :class:`PublishUploadError`: an upload failed midway.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    ui.heading("publish")
    report = RunReport(config.output_dir)
    wheels, sdist = collect_files(config, report)
    files = [*wheels, *([sdist] if sdist is not None else [])]
    if not wheels:
        ui.warn(f"no wheels in output-dir {config.output_dir}; publishing the sdist only")
    elif sdist is None:
        ui.warn(f"no sdist in dist-dir {config.dist_dir}; publishing the wheels only")

    check_platform_tags(wheels)
    check_tested(wheels, report, allow_untested=config.allow_untested, warn=ui.warn)
    project, version = check_release(files)
    target = resolve_target(config, environ, simple_url=simple_url)
    redact = Redactor(target.secrets)
    ui.info(
        f"publishing {project} {version}: {len(files)} file(s) to {target.upload_url} "
        f"(from {target.origin})"
    )

    with _log_context(config, ui) as sink:
        _twine_check(files, env=environ, sink=sink, redact=redact)
        session = _session(target)
        with session:
            try:
                existing, target = _read_index(target, project, session=session, ui=ui)
                redact = Redactor(target.secrets)
            except IndexQueryError as error:
                if not config.dry_run:
                    raise PublishError(redact(str(error))) from None
                ui.warn(f"{redact(str(error))}; listing every file as to upload")
                existing = {}
            missing, present = _classify(files, existing, session=session, target=target)
            for path in present:
                ui.info(f"already on the index (same hash): {path.name}")
            if config.dry_run:
                return _dry_run(ui, target, missing, present)
            uploaded = _upload_all(
                missing, present, target=target, env=environ, sink=sink, redact=redact,
                ui=ui, session=session, project=project,
            )
    return PublishResult(
        repository_url=target.upload_url,
        planned=tuple(missing),
        uploaded=tuple(uploaded),
        skipped=tuple(present),
    )


def _dry_run(
    ui: UI, target: UploadTarget, missing: Sequence[Path], present: Sequence[Path]
) -> PublishResult:
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


def _now_on_index(
    path: Path, *, target: UploadTarget, session: requests.Session, project: str
) -> bool:
    """After a failed upload: does the index list the file with our content now (the
    response was lost, or another run uploaded it)? Best effort."""
    try:
        remote = project_files(target.simple_url, project, session=session).get(path.name)
        return remote is not None and file_matches(path, remote, session=session)[0]
    except IndexQueryError:
        return False


def _upload_all(
    missing: Sequence[Path],
    present: Sequence[Path],
    *,
    target: UploadTarget,
    env: Mapping[str, str],
    sink: _Sink,
    redact: Redactor,
    ui: UI,
    session: requests.Session,
    project: str,
) -> list[Path]:
    """Upload ``missing`` one at a time; returns the uploaded files.

    Raises:
        PublishUploadError: an upload failed (after printing the summary).
    """
    twine_env = target.twine_env(env)
    uploaded: list[Path] = []
    rows: list[SummaryRow] = []
    for index, path in enumerate(missing):
        started = time.monotonic()
        try:
            returncode, lines = _run_twine(
                ["upload", "--non-interactive", "--disable-progress-bar",
                 *target.twine_args(), str(path)],
                env=twine_env, sink=sink, redact=redact,
            )
        except KeyboardInterrupt:
            ui.error(_partial(uploaded, present, missing[index:]) + "; interrupted")
            raise
        duration = time.monotonic() - started
        if returncode == 0:
            uploaded.append(path)
            rows.append(SummaryRow(path.name, "passed", duration, "uploaded"))
            ui.info(f"uploaded {path.name}")
            continue
        if _now_on_index(path, target=target, session=session, project=project):
            ui.warn(f"twine failed for {path.name}, but the index has it with the same hash")
            uploaded.append(path)
            rows.append(SummaryRow(path.name, "passed", duration, "on the index (checked)"))
            continue
        reason = redact(_twine_reason(lines))
        hint = ""
        if re.search(r"\b(401|403)\b", reason):
            hint = (
                "; check the credentials (TWINE_USERNAME/TWINE_PASSWORD or the ~/.pypirc "
                "section; on PyPI: TWINE_USERNAME=__token__, TWINE_PASSWORD=pypi-…)"
            )
        elif re.search(r"\b(400|409)\b", reason):
            hint = (
                f"; if the index already has this file, its simple API at "
                f"{target.simple_url} did not list it with this content"
            )
        rows.append(SummaryRow(path.name, "failed", duration, reason))
        rows += [SummaryRow(p.name, "not uploaded") for p in missing[index + 1 :]]
        rows += [SummaryRow(p.name, "skipped", detail="already on the index") for p in present]
        ui.summary(f"publish -> {target.upload_url}", rows)
        msg = (
            f"upload of {path.name} to {target.upload_url} failed: {reason}{hint}; "
            f"{_partial(uploaded, present, missing[index:])}; re-run wheels-publish to "
            "upload the rest"
        )
        raise PublishUploadError(
            msg, failed=path, uploaded=[*present, *uploaded], not_uploaded=missing[index:]
        )
    rows += [SummaryRow(p.name, "skipped", detail="already on the index") for p in present]
    ui.summary(f"publish -> {target.upload_url}", rows)
    if not missing:
        ui.info(f"nothing to upload: {target.upload_url} has all {len(present)} file(s)")
    return uploaded


def _partial(uploaded: Sequence[Path], present: Sequence[Path], rest: Sequence[Path]) -> str:
    went = ", ".join(p.name for p in uploaded) or "none"
    missing = ", ".join(p.name for p in rest) or "none"
    extra = f" (already there: {', '.join(p.name for p in present)})" if present else ""
    return f"uploaded: {went}{extra}; not uploaded: {missing}"
