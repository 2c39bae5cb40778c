"""Platforms: architectures, image families, default images and the interpreters they ship.

The names follow cibuildwheel (https://cibuildwheel.pypa.io/en/stable/options/): ``archs``
values (``x86_64``, ``i686``, ``aarch64``, ``ppc64le``, ``s390x``, ``armv7l``, ``riscv64``,
``auto``, ``auto32``, ``native``, ``all``), the ``manylinux-<arch>-image`` and
``musllinux-<arch>-image`` keys, each a policy name (``manylinux_2_28`` →
``quay.io/pypa/manylinux_2_28_<arch>``) or any image reference.
"""

from __future__ import annotations

import platform as _platform
import re
from collections.abc import Iterable
from dataclasses import dataclass

from manywheels.errors import ConfigError, PolicyError
from manywheels.naming._policy import ARCHS, Policy, parse_policy
from manywheels.naming._tags import PythonTag

__all__ = [
    "ARCH_VALUES",
    "DEFAULT_POLICIES",
    "FAMILIES",
    "OCI_PLATFORMS",
    "PYPA_REGISTRY",
    "STATIC_PYTHONS",
    "Platform",
    "host_arch",
    "image_key",
    "policy_from_image_name",
    "resolve_archs",
    "resolve_image",
]

FAMILIES = ("manylinux", "musllinux")
"""The image families, in build order (cibuildwheel builds both by default)."""

ARCH_VALUES = (*ARCHS, "auto", "auto32", "native", "all")
"""What ``archs`` accepts: an architecture, or one of cibuildwheel's aliases."""

OCI_PLATFORMS = {
    "x86_64": "linux/amd64", "i686": "linux/386", "aarch64": "linux/arm64",
    "ppc64le": "linux/ppc64le", "s390x": "linux/s390x", "armv7l": "linux/arm/v7",
    "riscv64": "linux/riscv64",
}
"""The engine platform (``docker --platform``) an architecture's images are pulled and run as."""

PYPA_REGISTRY = "quay.io/pypa"
"""Where a policy name as image key points: ``quay.io/pypa/<policy>_<arch>``."""

DEFAULT_POLICIES = {
    **{("manylinux", arch): "manylinux_2_28" for arch in ARCHS},
    ("manylinux", "armv7l"): "manylinux_2_31",
    ("manylinux", "riscv64"): "manylinux_2_39",
    **{("musllinux", arch): "musllinux_1_2" for arch in ARCHS},
}
"""The default image of each (family, arch), as a policy name (cibuildwheel's defaults)."""

_NATIVE32 = {"x86_64": "i686", "aarch64": "armv7l"}
_MACHINES = {"amd64": "x86_64", "arm64": "aarch64", "i386": "i686", "i586": "i686",
             "armv8l": "armv7l", "armv7": "armv7l", "ppc64el": "ppc64le"}

STATIC_PYTHONS = tuple(
    [PythonTag(3, minor) for minor in range(8, 15)]
    + [PythonTag(3, 13, free_threaded=True), PythonTag(3, 14, free_threaded=True)]
)
"""The CPython interpreters the manylinux and musllinux images ship (cibuildwheel's
identifiers for CPython 3.8 to 3.14, free-threaded 3.13t and 3.14t): what a plan assumes of
a ``quay.io/pypa`` image when no engine is asked (``manywheels matrix``, unit tests)."""

_PYPA_IMAGE = re.compile(r"^(?:manylinux|musllinux)(?:_\d+_\d+|1|2010|2014)_[a-z0-9_]+$")


@dataclass(frozen=True)
class Platform:
    """One image family on one architecture: what a container group builds for.

    Attributes:
        family: ``manylinux`` or ``musllinux``.
        arch: one of :data:`~manywheels.naming.ARCHS`.
        image: the image reference.
        policy: the policy its name states (``quay.io/pypa/manylinux_2_28_x86_64``), or
            ``None`` for an image whose name says nothing (its ``AUDITWHEEL_PLAT`` decides).
        key: the configuration key that chose the image (``manylinux-aarch64-image``).
    """

    family: str
    arch: str
    image: str
    policy: Policy | None
    key: str

    @property
    def name(self) -> str:
        """The identifier platform part: ``manylinux_aarch64``."""
        return f"{self.family}_{self.arch}"

    @property
    def oci_platform(self) -> str:
        """The engine platform: ``linux/arm64``."""
        return OCI_PLATFORMS[self.arch]


def image_key(family: str, arch: str) -> str:
    """The configuration key of a family's image on an arch: ``manylinux-x86_64-image``."""
    return f"{family}-{arch}-image"


def host_arch(machine: str | None = None) -> str:
    """The host's architecture as manylinux names it (``platform.machine()`` normalised:
    ``amd64`` → ``x86_64``, ``arm64`` → ``aarch64``)."""
    raw = (machine or _platform.machine()).lower()
    return _MACHINES.get(raw, raw)


def _expand(value: str, machine: str) -> list[str]:
    native = host_arch(machine)
    if value == "all":
        return list(ARCHS)
    if value == "auto":
        return [native] if native in ARCHS and native not in _NATIVE32.values() else []
    if value == "auto32":
        return [_NATIVE32[native]] if native in _NATIVE32 else (
            [native] if native in _NATIVE32.values() else [])
    if value == "native":
        return [native] if native in ARCHS else []
    return [value]


def resolve_archs(values: Iterable[str], *, machine: str | None = None,
                  source: str = "default") -> tuple[str, ...]:
    """The architectures ``archs`` selects, in :data:`~manywheels.naming.ARCHS` order.

    ``auto`` is the host's native 64-bit arch, ``auto32`` its 32-bit counterpart
    (``i686`` on x86_64, ``armv7l`` on aarch64), ``native`` ``platform.machine()``,
    ``all`` every arch (cibuildwheel's ``archs``).

    Args:
        values: the ``archs`` words.
        machine: the host's ``platform.machine()``; default this host's.
        source: where the value came from, for the error.

    Raises:
        ConfigError: an unknown word, or nothing selected (one line, naming ``archs``).
    """
    host = machine or _platform.machine()
    chosen: set[str] = set()
    for value in values:
        if value not in ARCH_VALUES:
            msg = (f"archs ({source}): unknown arch {value!r}; allowed are "
                   + ", ".join(ARCH_VALUES))
            raise ConfigError(msg)
        chosen.update(_expand(value, host))
    if not chosen:
        msg = f"archs ({source}): selects no architecture on this {host_arch(host)} host"
        raise ConfigError(msg)
    return tuple(arch for arch in ARCHS if arch in chosen)


def policy_from_image_name(image: str) -> Policy | None:
    """The policy an image's name states, if it follows the PyPA naming
    (``quay.io/pypa/manylinux_2_28_x86_64:2025.01.01`` → ``manylinux_2_28_x86_64``)."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    if not _PYPA_IMAGE.match(name):
        return None
    try:
        return parse_policy(name)
    except PolicyError:
        return None


def resolve_image(family: str, arch: str, value: str | None,
                  source: str = "default") -> Platform:
    """The platform a ``<family>-<arch>-image`` value gives.

    A policy name without the arch (``manylinux2014``, ``manylinux_2_28``,
    ``musllinux_1_2``) is ``quay.io/pypa/<policy>_<arch>``; anything else is an image
    reference taken as is. ``None``: the default (:data:`DEFAULT_POLICIES`).

    Raises:
        ConfigError: a policy name of the other family (``musllinux_1_2`` as
            ``manylinux-x86_64-image``).
    """
    key = image_key(family, arch)
    text = (value or DEFAULT_POLICIES[family, arch]).strip()
    try:
        policy = parse_policy(f"{text}_{arch}", what=key)
    except PolicyError:
        found = policy_from_image_name(text)
        named = found if found is not None and found.arch == arch else None
        return Platform(family, arch, text, named, key)
    if policy.family != family:
        msg = (f"{key} ({source}): {text!r} is a {policy.family} policy; allowed are a "
               f"{family} policy name (e.g. {DEFAULT_POLICIES[family, arch]}) or an image "
               "reference")
        raise ConfigError(msg)
    return Platform(family, arch, f"{PYPA_REGISTRY}/{policy.name}", policy, key)
