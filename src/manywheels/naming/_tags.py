"""Python tags, platform tags and build identifiers.

A *Python tag* names a CPython interpreter the way wheel tags do (PEP 425):
``cp312`` (``cp313t`` for a free-threaded build). Users may also write the
manylinux directory form ``cp312-cp312`` or the version ``3.12``.

An *identifier* is cibuildwheel's name for one build: ``cp312-manylinux_x86_64``,
the Python tag plus the platform family and architecture of the image's
policy (``AUDITWHEEL_PLAT``, PEP 600 / PEP 656).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.utils import parse_wheel_filename

from manywheels.errors import ConfigError
from manywheels.naming._policy import ARCHS, Policy, parse_policy

__all__ = [
    "NEWEST_FINAL",
    "PythonTag",
    "identifier",
    "is_prerelease",
    "parse_install_dir",
    "parse_python_tag",
    "platform_family",
    "wheel_identifier",
]

_ALLOWED = (
    "cpXY (e.g. cp312), cpXY-cpXY (cp312-cp312) or X.Y (3.12), "
    "with a 't' suffix for free-threaded"
)

_TAG = re.compile(r"^cp(?P<major>3)(?P<minor>\d{1,2})(?P<t>t?)$")
_DIR = re.compile(r"^cp(?P<major>3)(?P<minor>\d{1,2})-cp(?P=major)(?P=minor)(?P<t>t?)$")
_VERSION = re.compile(r"^(?P<major>3)\.(?P<minor>\d{1,2})(?P<t>t?)$")


@dataclass(frozen=True, order=True)
class PythonTag:
    """A CPython interpreter: version and whether it is a free-threaded build."""

    major: int
    minor: int
    free_threaded: bool = False

    @property
    def tag(self) -> str:
        """The wheel Python tag with the free-threading suffix: ``cp312``, ``cp313t``."""
        return f"cp{self.major}{self.minor}{'t' if self.free_threaded else ''}"

    @property
    def install_dir(self) -> str:
        """The manylinux directory name under ``/opt/python``: ``cp312-cp312``."""
        suffix = "t" if self.free_threaded else ""
        return f"cp{self.major}{self.minor}-cp{self.major}{self.minor}{suffix}"

    @property
    def version(self) -> str:
        """The ``X.Y`` version string."""
        return f"{self.major}.{self.minor}"

    def __str__(self) -> str:
        return self.tag


def parse_python_tag(value: str) -> PythonTag:
    """Parse a user-written Python tag.

    Args:
        value: ``cp312``, ``cp312-cp312``, ``3.12`` (``t`` suffix for free-threaded).

    Returns:
        The parsed tag.

    Raises:
        ConfigError: the value is none of the accepted forms.
    """
    text = value.strip().lower()
    for pattern in (_TAG, _DIR, _VERSION):
        match = pattern.match(text)
        if match:
            minor = int(match["minor"])
            if minor < 6:
                break
            return PythonTag(int(match["major"]), minor, bool(match["t"]))
    msg = f"invalid python tag {value!r}: allowed are {_ALLOWED}"
    raise ConfigError(msg)


def parse_install_dir(name: str) -> PythonTag | None:
    """Parse a ``/opt/python`` entry (``cp312-cp312``); ``None`` for non-CPython entries."""
    match = _DIR.match(name)
    if not match:
        return None
    return PythonTag(int(match["major"]), int(match["minor"]), bool(match["t"]))


_PLATFORM = re.compile(r"^(manylinux|musllinux)_(" + "|".join(ARCHS) + r")$")


def platform_family(plat: str | Policy) -> str:
    """The platform part of an identifier for a policy (:attr:`Policy.platform`).

    ``manylinux_2_28_x86_64`` and ``manylinux2014_x86_64`` give ``manylinux_x86_64``;
    ``musllinux_1_2_aarch64`` gives ``musllinux_aarch64``; ``linux_x86_64`` and a
    platform part itself (``manylinux_x86_64``) stay.

    Raises:
        PolicyError: ``plat`` is neither a policy (:func:`~manywheels.naming.parse_policy`)
            nor a platform part.
    """
    if isinstance(plat, str) and _PLATFORM.match(plat):
        return plat
    policy = plat if isinstance(plat, Policy) else parse_policy(plat)
    return policy.platform


def identifier(tag: PythonTag, plat: str | Policy) -> str:
    """cibuildwheel's build identifier: ``cp312-manylinux_x86_64``.

    Raises:
        PolicyError: ``plat`` is not a policy.
    """
    return f"{tag.tag}-{platform_family(plat)}"


def wheel_identifier(wheel_name: str, plat_fallback: str) -> tuple[str, PythonTag | None]:
    """The identifier a wheel file name stands for, from its tags alone (PEP 427/425).

    ``markupsafe-3.0.4-cp312-cp312-manylinux_2_28_x86_64.whl`` gives
    ``("cp312-manylinux_x86_64", cp312)``; a pure wheel (platform ``any``) takes the
    platform of ``plat_fallback``. For a wheel of a run use
    :meth:`RunReport.resolve_wheel <manywheels.plan.RunReport.resolve_wheel>`: the run record
    knows more than the name.

    Raises:
        ValueError: not a wheel file name (packaging's InvalidWheelFilename).
    """
    _, _, _, tags = parse_wheel_filename(wheel_name)
    tag = sorted(tags, key=str)[0]
    # A free-threaded build has the ABI tag cp313t under the Python tag cp313.
    suffix = "t" if tag.abi == f"{tag.interpreter}t" else ""
    try:
        python: PythonTag | None = parse_python_tag(tag.interpreter + suffix)
    except ConfigError:
        python = None
    platform = plat_fallback if tag.platform == "any" else tag.platform
    try:
        family = platform_family(platform)
    except ConfigError:
        family = platform
    name = f"{python.tag}-{family}" if python else f"{tag.interpreter}-{family}"
    return name, python



NEWEST_FINAL = (3, 14)
"""The newest CPython with a final release that this manywheels knows (as cibuildwheel
pins its interpreters per release): a newer minor in an image is a pre-release."""


def is_prerelease(tag: PythonTag) -> bool:
    """Whether a tag is a pre-release CPython: newer than :data:`NEWEST_FINAL` (static, so
    that planning needs no interpreter run; the images ship alphas to rcs of the next
    minor under ``/opt/python``)."""
    return (tag.major, tag.minor) > NEWEST_FINAL
