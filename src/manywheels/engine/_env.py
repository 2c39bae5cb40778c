"""What every container gets from the host: package index variables and the CA bundle.

Engine-independent: these functions read the host environment only.
"""

from __future__ import annotations

import os
import ssl
import uuid
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "CA_BUNDLE_PATH",
    "INDEX_VARIABLES",
    "find_ca_bundle",
    "index_environment",
    "new_run_id",
]

CA_BUNDLE_PATH = "/etc/manywheels/ca-bundle.crt"
"""Where the host's CA bundle is placed in containers (read-only, mode 0444)."""

INDEX_VARIABLES = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
)
"""Host variables passed into every container when set (package index access)."""

_CA_VARIABLES = ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE")


def new_run_id() -> str:
    """A short random id naming one run (label value, log and report key): 12 hex digits."""
    return uuid.uuid4().hex[:12]


def find_ca_bundle(env: Mapping[str, str] | None = None) -> Path | None:
    """The host's CA bundle: ``SSL_CERT_FILE``, ``PIP_CERT`` or ``REQUESTS_CA_BUNDLE``
    when set to a file, else the system default (``ssl.get_default_verify_paths()``),
    else ``None``."""
    env = os.environ if env is None else env
    for name in _CA_VARIABLES:
        value = env.get(name)
        if value and Path(value).is_file():
            return Path(value)
    paths = ssl.get_default_verify_paths()
    for candidate in (
        paths.cafile,
        paths.openssl_cafile,
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def index_environment(
    env: Mapping[str, str] | None = None, *, ca_bundle: bool = True
) -> dict[str, str]:
    """The variables every container gets for package index access.

    :data:`INDEX_VARIABLES` that are set on the host, plus ``SSL_CERT_FILE``,
    ``PIP_CERT`` and ``REQUESTS_CA_BUNDLE`` pointing at :data:`CA_BUNDLE_PATH`
    when ``ca_bundle`` is true. No other host variable is included.
    """
    env = os.environ if env is None else env
    result = {name: env[name] for name in INDEX_VARIABLES if env.get(name)}
    if ca_bundle:
        result.update(dict.fromkeys(_CA_VARIABLES, CA_BUNDLE_PATH))
    return result
