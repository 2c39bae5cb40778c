"""The index query: which files a package index already has, from its simple API.

The simple API is specified by :pep:`503` (HTML) and :pep:`691` (JSON); both are parsed
by the ``pypi-simple`` library. manywheels asks for JSON first and takes HTML when that is
what the index serves (content negotiation as recommended by :pep:`691`). Publish uploads
only the files an index does not have yet (twine's own ``--skip-existing`` only works for
PyPI and TestPyPI since twine 6.2): :func:`read_index`, then :func:`classify`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from packaging.utils import canonicalize_name
from pypi_simple import ProjectPage
from pypi_simple.errors import UnsupportedContentTypeError, UnsupportedRepoVersionError
from twine import auth as twine_auth
from twine import exceptions as twine_exceptions

from manywheels.errors import PublishError

if TYPE_CHECKING:
    from manywheels.stages.publish._target import UploadTarget

__all__ = [
    "ACCEPT",
    "PYPI_SIMPLE_URL",
    "TESTPYPI_SIMPLE_URL",
    "IndexFile",
    "IndexQueryError",
    "classify",
    "file_matches",
    "index_session",
    "is_pypi",
    "project_files",
    "project_url",
    "read_index",
    "simple_url_for",
    "strip_userinfo",
]

PYPI_SIMPLE_URL = "https://pypi.org/simple/"
TESTPYPI_SIMPLE_URL = "https://test.pypi.org/simple/"

ACCEPT = ", ".join(
    [
        "application/vnd.pypi.simple.v1+json",
        "application/vnd.pypi.simple.v1+html;q=0.2",
        "text/html;q=0.01",
    ]
)
"""The ``Accept`` header: JSON (:pep:`691`) preferred, HTML (:pep:`503`) accepted."""

_PYPI_UPLOAD_HOSTS = {"upload.pypi.org": PYPI_SIMPLE_URL, "upload.pypi.io": PYPI_SIMPLE_URL}
_TESTPYPI_HOST = "test.pypi.org"
_MAX_REDIRECTS = 5
_HASH_PREFERENCE = ("sha256", "sha512", "sha384", "sha224", "blake2b", "sha1", "md5")


class IndexQueryError(PublishError):
    """The simple API could not be read (network, HTTP status, unparsable page).

    Attributes:
        status: the HTTP status when the index answered with an error, else ``None``.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class IndexFile:
    """One file an index lists for a project.

    Attributes:
        filename: the file name (``name-1.0-cp312-cp312-manylinux_2_28_x86_64.whl``).
        url: the absolute download URL, without the hash fragment.
        digests: hash name -> lower-case hex digest, from the ``#sha256=…`` URL fragment
            (:pep:`503`) or the ``hashes`` dictionary (:pep:`691`); may be empty.
    """

    filename: str
    url: str
    digests: Mapping[str, str] = field(default_factory=dict)


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:password@`` (safe to print).

    Args:
        url: any URL.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def is_pypi(upload_url: str) -> bool:
    """True for PyPI's and TestPyPI's upload URLs (public simple APIs, token auth)."""
    host = (urlsplit(upload_url).hostname or "").lower()
    return host in _PYPI_UPLOAD_HOSTS or host in {"pypi.org", _TESTPYPI_HOST}


def simple_url_for(upload_url: str) -> str:
    """The simple API base URL (ending in ``/``) that belongs to an upload URL.

    * ``https://upload.pypi.org/legacy/`` -> ``https://pypi.org/simple/``;
    * ``https://test.pypi.org/legacy/`` -> ``https://test.pypi.org/simple/``;
    * any other URL whose path ends in ``/legacy`` or ``/legacy/``: that segment is
      replaced with ``/simple/``;
    * a URL whose path already ends in ``/simple`` (or ``/simple/``): itself;
    * anything else: the URL plus ``simple/`` -- pypiserver (upload at ``/``), Nexus,
      Artifactory, GitLab, AWS CodeArtifact and Google Artifact Registry follow this.

    Credentials, query and fragment are dropped. Indexes whose layout differs (devpi:
    ``/user/index/+simple/``) need an explicit simple URL.

    Args:
        upload_url: the upload (legacy API) URL twine posts to.

    Raises:
        PublishError: the URL is not http(s) or has no host.
    """
    parts = urlsplit(strip_userinfo(upload_url.strip()))
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        msg = f"repository URL {strip_userinfo(upload_url)!r} is not an http(s) URL with a host"
        raise PublishError(msg)
    host = parts.hostname.lower()
    if host in _PYPI_UPLOAD_HOSTS:
        return _PYPI_UPLOAD_HOSTS[host]
    path = parts.path.rstrip("/")
    if host == _TESTPYPI_HOST and path in {"", "/legacy"}:
        return TESTPYPI_SIMPLE_URL
    if path.endswith("/legacy"):
        path = path[: -len("/legacy")] + "/simple"
    elif not path.endswith("/simple"):
        path += "/simple"
    return urlunsplit((parts.scheme, parts.netloc, path + "/", "", ""))


def project_url(simple_url: str, project: str) -> str:
    """The project page URL: ``<simple_url>/<normalized name>/`` (:pep:`503` normalization)."""
    return simple_url.rstrip("/") + "/" + canonicalize_name(project) + "/"


def _same_origin(first: str, second: str) -> bool:
    a, b = urlsplit(first), urlsplit(second)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def project_files(
    simple_url: str,
    project: str,
    *,
    session: requests.Session,
    timeout_s: float = 30.0,
    warn: Callable[[str], None] | None = None,
) -> dict[str, IndexFile]:
    """The files an index lists for ``project``: file name -> :class:`IndexFile`.

    A 404 means the project has no files yet (an empty result). Redirects are followed
    only within the same scheme, host and port (PyPI redirects non-normalized names);
    a redirect elsewhere -- pypiserver's fallback to pypi.org for projects it does not
    have -- means the project is not on this index, and ``warn`` is told.

    Args:
        simple_url: the simple API base URL (see :func:`simple_url_for`).
        project: the project name (normalized here).
        session: the HTTP session; its ``auth`` is the index credentials, if any.
        timeout_s: connect and read timeout per request, in seconds.
        warn: called with a one-line note about anything surprising.

    Raises:
        IndexQueryError: the index did not answer, refused the credentials (401/403),
            answered another error status, or served a page that is not a simple API page.
    """
    url = project_url(simple_url, project)
    shown = strip_userinfo(url)
    try:
        response = session.get(
            url, headers={"Accept": ACCEPT}, timeout=timeout_s, allow_redirects=False
        )
        for _ in range(_MAX_REDIRECTS):
            if not response.is_redirect:
                break
            target = urljoin(response.url, response.headers.get("location", ""))
            if not _same_origin(url, target):
                if warn is not None:
                    warn(
                        f"{shown} redirects to {strip_userinfo(target)} (another server); "
                        f"taking it that {project} has no files on this index"
                    )
                return {}
            response = session.get(
                target, headers={"Accept": ACCEPT}, timeout=timeout_s, allow_redirects=False
            )
        if response.status_code == 404:
            return {}
        if response.status_code in {401, 403}:
            msg = (
                f"the simple API at {shown} answered {response.status_code} "
                f"{response.reason}: it needs (other) credentials; set TWINE_USERNAME and "
                "TWINE_PASSWORD, or username and password in the ~/.pypirc section"
            )
            raise IndexQueryError(msg, response.status_code)
        if response.is_redirect or response.status_code >= 400:
            msg = f"the simple API at {shown} answered {response.status_code} {response.reason}"
            raise IndexQueryError(msg, response.status_code)
        page = ProjectPage.from_response(response, project)
    except requests.RequestException as error:
        msg = f"cannot read the simple API at {shown}: {type(error).__name__}"
        raise IndexQueryError(msg) from None
    except (UnsupportedContentTypeError, UnsupportedRepoVersionError, ValueError) as error:
        msg = f"{shown} is not a simple API project page (PEP 503/691): {error}"
        raise IndexQueryError(msg) from None
    files: dict[str, IndexFile] = {}
    for package in page.packages:
        digests = {name.lower(): value.lower() for name, value in package.digests.items()}
        files[package.filename] = IndexFile(package.filename, package.url, digests)
    return files


def _digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def file_matches(
    path: Path, remote: IndexFile, *, session: requests.Session, timeout_s: float = 60.0
) -> tuple[bool, str, str]:
    """Whether the index's copy of a file has the same content as ``path``.

    Compares the strongest digest the index gives (sha256 preferred); when it gives
    none that :mod:`hashlib` knows, downloads the file and compares sha256.

    Args:
        path: the local file.
        remote: the index's record of the file of the same name.
        session: the HTTP session (with the index credentials) for a download.
        timeout_s: timeout of the download requests, in seconds.

    Returns:
        ``(same, algorithm, remote_digest)``.

    Raises:
        IndexQueryError: no digest was given and the download failed.
    """
    for algorithm in _HASH_PREFERENCE:
        expected = remote.digests.get(algorithm)
        if expected:
            return _digest(path, algorithm) == expected, algorithm, expected
    digest = hashlib.sha256()
    try:
        with session.get(remote.url, timeout=timeout_s, stream=True) as response:
            response.raise_for_status()
            for chunk in response.iter_content(1024 * 1024):
                digest.update(chunk)
    except requests.RequestException as error:
        msg = (
            f"cannot download {remote.filename} from {strip_userinfo(remote.url)} to compare "
            f"it (the index gives no hash): {type(error).__name__}"
        )
        raise IndexQueryError(msg) from None
    remote_digest = digest.hexdigest()
    return _digest(path, "sha256") == remote_digest, "sha256", remote_digest


# --------------------------------------------------------------------------- publish


def index_session(target: UploadTarget) -> requests.Session:
    """An HTTP session for the index: its credentials (not for PyPI's public API) and
    certificates."""
    session = requests.Session()
    session.headers["User-Agent"] = "manywheels-publish (pypi-simple; requests)"
    if target.username and target.password and not target.is_pypi:
        session.auth = (target.username, target.password)
    if target.cert:
        session.verify = target.cert
    if target.client_cert:
        session.cert = target.client_cert
    return session


def classify(
    files: Sequence[Path],
    existing: Mapping[str, IndexFile],
    *,
    session: requests.Session,
    target: UploadTarget,
) -> tuple[list[Path], list[Path]]:
    """Split into (missing, already there with the same hash).

    Args:
        files: the files to publish.
        existing: the index's files (:func:`read_index`).
        session: the index session (for a download when the index gives no hash).
        target: the upload target (for messages).

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


def read_index(
    target: UploadTarget,
    project: str,
    *,
    session: requests.Session,
    warn: Callable[[str], None] | None = None,
) -> tuple[dict[str, IndexFile], UploadTarget]:
    """The project's files on the index. When the index wants credentials that neither
    the environment nor ``.pypirc`` gave, tries the keyring (as twine would) once.

    Returns:
        ``(file name -> index file, the target with the keyring's credentials if used)``.

    Raises:
        IndexQueryError: see :func:`project_files`.
    """
    try:
        return project_files(target.simple_url, project, session=session, warn=warn), target
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
    return project_files(target.simple_url, project, session=session, warn=warn), target
