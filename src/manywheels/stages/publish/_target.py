"""Where to upload: the repository / repository-url keys, ``TWINE_*`` and ``~/.pypirc``
resolved once, the twine way, into an :class:`UploadTarget`.

Precedence (manywheels' keys act like twine's command-line options, which beat twine's
environment variables): ``repository-url`` > ``repository`` (a ``~/.pypirc`` section) >
``TWINE_REPOSITORY_URL`` > ``TWINE_REPOSITORY`` > ``pypi``
(https://twine.readthedocs.io/en/stable/#environment-variables,
https://packaging.python.org/specifications/pypirc/).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from twine import exceptions as twine_exceptions
from twine import utils as twine_utils

from manywheels.config import Config
from manywheels.errors import PublishError
from manywheels.stages.publish._index import is_pypi, simple_url_for, strip_userinfo
from manywheels.stages.publish._twine import TWINE_TARGET_VARS, Redactor

__all__ = ["UploadTarget", "resolve_target"]

_DEFAULT_REPOSITORIES = {
    "pypi": twine_utils.DEFAULT_REPOSITORY,
    "testpypi": twine_utils.TEST_REPOSITORY,
}


@dataclass(frozen=True)
class UploadTarget:
    """Where to upload and with which credentials, resolved once the twine way.

    Attributes:
        upload_url: the upload (legacy API) URL, without credentials.
        simple_url: the simple API base URL
            (:func:`~manywheels.stages.publish._index.simple_url_for`).
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
        child = {k: v for k, v in env.items() if k not in TWINE_TARGET_VARS}
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


def _choose(config: Config, env: Mapping[str, str]) -> tuple[str | None, str | None, str]:
    """``(section name, URL, origin)`` by precedence: exactly one of name and URL is set."""
    if config.repository_url:
        origin = f"repository-url ({_source(config, 'publish.repository-url')})"
        return None, config.repository_url, origin
    if config.repository:
        return config.repository, None, f"repository ({_source(config, 'publish.repository')})"
    if env.get("TWINE_REPOSITORY_URL"):
        return None, env["TWINE_REPOSITORY_URL"], "TWINE_REPOSITORY_URL"
    if env.get("TWINE_REPOSITORY"):
        return env["TWINE_REPOSITORY"], None, "TWINE_REPOSITORY"
    return "pypi", None, "the default"


def _repository(
    pypirc: Path, name: str | None, url: str | None, origin: str, redact: Redactor
) -> dict[str, str | None]:
    """twine's repository config (``repository``, ``username``, ``password``,
    ``ca_cert``, ``client_cert``) for a ``.pypirc`` section or a URL.

    Raises:
        PublishError: the section is missing or malformed.
    """
    if url is None and not pypirc.is_file() and name in _DEFAULT_REPOSITORIES:
        return {"repository": _DEFAULT_REPOSITORIES[name], "username": None, "password": None}
    if url is None and not pypirc.is_file():
        msg = (
            f"repository {name!r} ({origin}) names a section of {pypirc}, which does not "
            "exist; create it, or set repository-url"
        )
        raise PublishError(msg)
    shown = strip_userinfo(url) if url else f"[{name}] of {pypirc}"
    try:
        return dict(twine_utils.get_repository_from_config(str(pypirc), name or "pypi", url))
    except twine_exceptions.TwineException as error:
        text = str(error).strip()
        first = text.splitlines()[0] if text else type(error).__name__
        msg = f"repository {shown} ({origin}): {redact(first)}"
        raise PublishError(msg) from None
    except KeyError:
        msg = f"section [{name}] of {pypirc} has no 'repository = URL' ({origin})"
        raise PublishError(msg) from None


def _url_credentials(
    repo: dict[str, str | None], url: str | None, url_password: str
) -> tuple[str | None, str | None]:
    """``(username, password)`` of the section or of ``user:password@`` in the URL."""
    if url is not None:
        # user:password@ of a URL is percent-encoded (RFC 3986); twine keeps it raw
        parts = urlsplit(url)
        return (unquote(parts.username) if parts.username else None), url_password or None
    parts = urlsplit(repo.get("repository") or "")
    username = repo.get("username") or (unquote(parts.username or "") or None)
    password = repo.get("password") or (unquote(parts.password or "") or None)
    return username, password


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
    name, url, origin = _choose(config, env)
    url_password = unquote(urlsplit(url).password or "") if url else ""
    redact = Redactor([url_password, env.get("TWINE_PASSWORD")])
    repo = _repository(pypirc, name, url, origin, redact)
    upload_url = strip_userinfo(repo.get("repository") or "")
    repo_username, repo_password = _url_credentials(repo, url, url_password)
    username = env.get("TWINE_USERNAME") or repo_username
    password = env.get("TWINE_PASSWORD") or repo_password
    secrets = tuple(
        s for s in {password, repo_password, env.get("TWINE_PASSWORD"), url_password} if s
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
