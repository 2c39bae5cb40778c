"""Credentials among variable names: which names look like secrets, which are publishing
credentials (never passed into a container), and masking secret values in output."""

from __future__ import annotations

from collections.abc import Iterable

from manywheels.errors import ConfigError

__all__ = [
    "MASK",
    "PUBLISH_PREFIXES",
    "Masker",
    "check_environment_pass",
    "is_publish_credential",
    "is_secret_name",
]

_SECRET_WORDS = ("TOKEN", "PASSWORD", "PASSWD", "SECRET", "CREDENTIAL", "API_KEY", "APIKEY",
                 "PRIVATE_KEY", "ACCESS_KEY", "AUTH")
PUBLISH_PREFIXES = ("TWINE_", "MANYWHEELS_PUBLISH_")
"""Publishing credentials and settings: twine's variables and manywheels' publish keys."""
MASK = "***"
"""What a masked value is shown as."""
_MIN_MASKED = 4  # shorter values would mask ordinary text everywhere


def is_publish_credential(name: str) -> bool:
    """Whether a variable is for publishing (``TWINE_*``, ``MANYWHEELS_PUBLISH_*``): read
    by twine on the host, never passed into a container."""
    return name.upper().startswith(PUBLISH_PREFIXES)


def is_secret_name(name: str) -> bool:
    """Whether a variable name looks like it holds a credential: ``TWINE_*``, or a name
    containing TOKEN, PASSWORD, SECRET, CREDENTIAL, API_KEY, ACCESS_KEY, AUTH, ..."""
    upper = name.upper()
    return is_publish_credential(upper) or any(word in upper for word in _SECRET_WORDS)


def check_environment_pass(names: Iterable[str], source: str) -> None:
    """Refuse publishing credentials in ``environment-pass``.

    Args:
        names: the variable names to pass into containers.
        source: where they come from, for the message (``pyproject.toml``, ...).

    Raises:
        ConfigError: a name is ``TWINE_*`` or ``MANYWHEELS_PUBLISH_*`` (exit code 2).
    """
    refused = [name for name in names if is_publish_credential(name)]
    if refused:
        msg = (f"environment-pass ({source}): {refused[0]} is a publishing credential and "
               "never enters a container (publish runs twine on the host, which reads "
               "TWINE_* itself); remove it from environment-pass")
        raise ConfigError(msg)


class Masker:
    """Replaces secret values in text with :data:`MASK`.

    Args:
        values: the secret values (those shorter than 4 characters are left alone).
    """

    def __init__(self, values: Iterable[str]) -> None:
        self.values = sorted({v for v in values if len(v) >= _MIN_MASKED}, key=len,
                             reverse=True)

    def __bool__(self) -> bool:
        return bool(self.values)

    def __call__(self, text: str) -> str:
        """``text`` with every secret value masked."""
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text
