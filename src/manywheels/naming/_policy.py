"""auditwheel policies and platform tags (PEP 600 manylinux, PEP 656 musllinux).

One parser, :func:`parse_policy`, serves every place a policy appears: the ``plat``
option, an image's ``AUDITWHEEL_PLAT``, image names (``quay.io/pypa/manylinux_2_28_x86_64``)
and the platform part of build identifiers (``manylinux_x86_64``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from manywheels.errors import PolicyError

__all__ = ["ARCHS", "LEGACY_ALIASES", "Policy", "parse_policy"]

ARCHS = ("x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l", "riscv64")
"""The Linux architectures manylinux and musllinux images exist for (cibuildwheel's list)."""

LEGACY_ALIASES = {"1": (2, 5), "2010": (2, 12), "2014": (2, 17)}
"""PEP 600's legacy manylinux names and the glibc version each stands for."""

_ARCH = "|".join(ARCHS)
_PEP600 = re.compile(
    rf"^(?P<family>manylinux|musllinux)_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>{_ARCH})$"
)
_LEGACY = re.compile(rf"^manylinux(?P<alias>1|2010|2014)_(?P<arch>{_ARCH})$")
_LINUX = re.compile(rf"^linux_(?P<arch>{_ARCH})$")

_ALLOWED = (
    "manylinux_X_Y_ARCH (PEP 600, e.g. manylinux_2_28_x86_64), manylinux1/2010/2014_ARCH, "
    "musllinux_X_Y_ARCH (PEP 656, e.g. musllinux_1_2_x86_64) or linux_ARCH, with ARCH one of "
    + ", ".join(ARCHS)
)


@dataclass(frozen=True, order=True)
class Policy:
    """A platform policy: family, libc version and architecture.

    Attributes:
        family: ``manylinux``, ``musllinux`` or ``linux`` (no policy: a raw wheel).
        version: the glibc (manylinux) or musl (musllinux) version, ``(2, 28)``;
            ``None`` for ``linux``.
        arch: the architecture, one of :data:`ARCHS`.
        alias: the legacy name (``2014``) when the policy was written that way.
    """

    family: str
    version: tuple[int, int] | None
    arch: str
    alias: str | None = None

    @property
    def name(self) -> str:
        """The platform tag as written: ``manylinux_2_28_x86_64``, ``manylinux2014_i686``."""
        return f"{self.base}_{self.arch}"

    @property
    def base(self) -> str:
        """The policy without the arch: ``manylinux_2_28``, ``manylinux2014``, ``linux``."""
        if self.family == "linux" or self.version is None:
            return "linux"
        if self.alias is not None:
            return f"manylinux{self.alias}"
        return f"{self.family}_{self.version[0]}_{self.version[1]}"

    @property
    def platform(self) -> str:
        """The platform part of a build identifier (cibuildwheel): ``manylinux_x86_64``."""
        return f"{self.family}_{self.arch}"

    def __str__(self) -> str:
        return self.name


def parse_policy(value: str, *, what: str = "plat") -> Policy:
    """Parse a platform policy.

    Args:
        value: ``manylinux_2_28_x86_64``, ``manylinux2014_i686``, ``musllinux_1_2_aarch64``
            or ``linux_x86_64``.
        what: how the value is named in the error (``plat (command line)``,
            ``AUDITWHEEL_PLAT of image X``).

    Returns:
        The policy.

    Raises:
        PolicyError: any other value (one line naming it and the allowed forms).
    """
    text = value if isinstance(value, str) else ""
    if match := _PEP600.fullmatch(text):
        version = (int(match["major"]), int(match["minor"]))
        return Policy(match["family"], version, match["arch"])
    if match := _LEGACY.fullmatch(text):
        return Policy("manylinux", LEGACY_ALIASES[match["alias"]], match["arch"], match["alias"])
    if match := _LINUX.fullmatch(text):
        return Policy("linux", None, match["arch"])
    shown = value if len(str(value)) <= 80 else str(value)[:77] + "..."
    msg = f"{what}: invalid policy {shown!r}; allowed are {_ALLOWED}"
    raise PolicyError(msg)
