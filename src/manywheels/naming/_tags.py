"""Python tags, platform tags and build identifiers.

A *Python tag* names an interpreter the way cibuildwheel's identifiers do: ``cp312``
(``cp313t`` for a free-threaded build), ``pp311`` (PyPy), ``gp242`` (GraalPy 24.2). Users
may also write the manylinux directory form (``cp312-cp312``, ``pp311-pypy311_pp73``,
``graalpy311-graalpy242_311_native``) or, for CPython, the version ``3.12``.

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
    "GRAALPY_PYTHON",
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
    "with a 't' suffix for free-threaded; ppXY (pp311) for PyPy, gpXYZ (gp242) for GraalPy"
)

_TAG = re.compile(r"^cp(?P<major>3)(?P<minor>\d{1,2})(?P<t>t?)$")
_DIR = re.compile(r"^cp(?P<major>3)(?P<minor>\d{1,2})-cp(?P=major)(?P=minor)(?P<t>t?)$")
_VERSION = re.compile(r"^(?P<major>3)\.(?P<minor>\d{1,2})(?P<t>t?)$")
_PP_TAG = re.compile(r"^pp(?P<major>3)(?P<minor>\d{1,2})$")
_PP_DIR = re.compile(r"^pp(?P<major>3)(?P<minor>\d{1,2})-pypy(?P=major)(?P=minor)_pp73$")
_GP_TAG = re.compile(r"^gp(?P<gmajor>\d{2})(?P<gminor>\d)$")
_GP_DIR = re.compile(r"^graalpy(?P<major>3)(?P<minor>\d{1,2})-graalpy(?P<gmajor>\d{2})"
                     r"(?P<gminor>\d)_(?P=major)(?P=minor)_native$")

GRAALPY_PYTHON: dict[tuple[int, int], tuple[int, int]] = {
    (24, 1): (3, 11), (24, 2): (3, 11), (25, 0): (3, 12),
}
"""GraalPy release -> the Python version it implements (for ``gp242`` written alone; the
install directory ``graalpy311-graalpy242_311_native`` states both)."""


@dataclass(frozen=True, order=True)
class PythonTag:
    """An interpreter: Python version, whether it is a free-threaded build, and its
    implementation (``cp`` CPython, ``pp`` PyPy, ``gp`` GraalPy with its own release
    ``impl_version``, e.g. ``(24, 2)``)."""

    major: int
    minor: int
    free_threaded: bool = False
    impl: str = "cp"
    impl_version: tuple[int, int] | None = None

    @property
    def tag(self) -> str:
        """The identifier's Python tag: ``cp312``, ``cp313t``, ``pp311``, ``gp242``."""
        if self.impl == "gp" and self.impl_version is not None:
            return f"gp{self.impl_version[0]}{self.impl_version[1]}"
        if self.impl == "pp":
            return f"pp{self.major}{self.minor}"
        return f"cp{self.major}{self.minor}{'t' if self.free_threaded else ''}"

    @property
    def install_dir(self) -> str:
        """The manylinux directory name under ``/opt/python``: ``cp312-cp312``,
        ``pp311-pypy311_pp73``, ``graalpy311-graalpy242_311_native``."""
        xy = f"{self.major}{self.minor}"
        if self.impl == "gp" and self.impl_version is not None:
            release = f"{self.impl_version[0]}{self.impl_version[1]}"
            return f"graalpy{xy}-graalpy{release}_{xy}_native"
        if self.impl == "pp":
            return f"pp{xy}-pypy{xy}_pp73"
        suffix = "t" if self.free_threaded else ""
        return f"cp{xy}-cp{xy}{suffix}"

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
    other = parse_install_dir(text) or _parse_other_tag(text)
    if other is not None:
        return other
    for pattern in (_TAG, _DIR, _VERSION):
        match = pattern.match(text)
        if match:
            minor = int(match["minor"])
            if minor < 6:
                break
            return PythonTag(int(match["major"]), minor, bool(match["t"]))
    msg = f"invalid python tag {value!r}: allowed are {_ALLOWED}"
    raise ConfigError(msg)


def _parse_other_tag(text: str) -> PythonTag | None:
    """``pp311`` (PyPy) or ``gp242`` (GraalPy, a release of :data:`GRAALPY_PYTHON`)."""
    if match := _PP_TAG.match(text):
        return PythonTag(int(match["major"]), int(match["minor"]), impl="pp")
    if match := _GP_TAG.match(text):
        release = (int(match["gmajor"]), int(match["gminor"]))
        if release in GRAALPY_PYTHON:
            return PythonTag(*GRAALPY_PYTHON[release], impl="gp", impl_version=release)
    return None


def parse_install_dir(name: str) -> PythonTag | None:
    """Parse a ``/opt/python`` entry (``cp312-cp312``, ``pp311-pypy311_pp73``,
    ``graalpy311-graalpy242_311_native``); ``None`` for other entries."""
    if match := _PP_DIR.match(name):
        return PythonTag(int(match["major"]), int(match["minor"]), impl="pp")
    if match := _GP_DIR.match(name):
        release = (int(match["gmajor"]), int(match["gminor"]))
        return PythonTag(int(match["major"]), int(match["minor"]), impl="gp",
                         impl_version=release)
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
    # A free-threaded build has the ABI tag cp313t under the Python tag cp313; PyPy and
    # GraalPy wheels name their install directory (pp311-pypy311_pp73).
    suffix = "t" if tag.abi == f"{tag.interpreter}t" else ""
    python: PythonTag | None = parse_install_dir(f"{tag.interpreter}-{tag.abi}")
    try:
        python = python or parse_python_tag(tag.interpreter + suffix)
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
    return tag.impl == "cp" and (tag.major, tag.minor) > NEWEST_FINAL
