"""What a container's commands need to run as under its image's entrypoint, and whether the
host can run the arch at all.

``docker exec`` bypasses the image's entrypoint, and the manylinux entrypoint
(``manylinux-entrypoint``, pypa/manylinux) is what makes a 32-bit image look 32-bit: it runs
``linux32`` when the kernel reports a 64-bit machine (i686 images on x86_64, armv7l on
aarch64) and, for armv7l under ``linux32`` reporting ``armv8l``, exports
``_PYTHON_HOST_PLATFORM=linux-armv7l``. :func:`personality` gives the same per command, from
a ``uname -m`` probe made once per container.

A foreign arch runs under QEMU user emulation (a binfmt_misc handler); without one its
container cannot even start (``exec format error``). :func:`emulation_message` is the one
line that says how to register the handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ACCEPTED_MACHINES", "Personality", "emulation_message", "needs_linux32",
           "personality"]

ACCEPTED_MACHINES = {
    "x86_64": frozenset({"x86_64"}),
    "i686": frozenset({"i686", "i386", "x86_64"}),
    "aarch64": frozenset({"aarch64"}),
    "ppc64le": frozenset({"ppc64le"}),
    "s390x": frozenset({"s390x"}),
    "armv7l": frozenset({"armv7l", "armv8l", "aarch64"}),
    "riscv64": frozenset({"riscv64"}),
}
"""``uname -m`` values (before ``linux32``) of a container that runs an arch's binaries."""

_BITS64 = frozenset({"x86_64", "aarch64"})
_QEMU_NAMES = {"x86_64": "x86_64", "i686": "i386", "aarch64": "aarch64", "ppc64le": "ppc64le",
               "s390x": "s390x", "armv7l": "arm", "riscv64": "riscv64"}
_BINFMT_NAMES = {"x86_64": "amd64", "i686": "386", "aarch64": "arm64", "ppc64le": "ppc64le",
                 "s390x": "s390x", "armv7l": "arm", "riscv64": "riscv64"}


@dataclass(frozen=True)
class Personality:
    """How every command of a container runs.

    Attributes:
        prefix: argv put before each command (``("linux32",)`` or empty).
        env: variables set for each command (``_PYTHON_HOST_PLATFORM`` for armv7l).
    """

    prefix: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


def needs_linux32(arch: str, machine: str) -> bool:
    """Whether commands for ``arch`` need ``linux32``: a 32-bit arch (i686, armv7l) in a
    container whose kernel reports a 64-bit machine (``machine``, from ``uname -m``)."""
    return arch in {"i686", "armv7l"} and machine in _BITS64


def personality(arch: str, machine: str, machine32: str | None = None) -> Personality:
    """The personality of a container, as the manylinux entrypoint sets it.

    Args:
        arch: the container's arch (its policy's).
        machine: ``uname -m`` in the container (plain ``docker exec``).
        machine32: ``linux32 uname -m`` there (asked only for armv7l with ``linux32``).

    Returns:
        ``linux32`` when :func:`needs_linux32`; for armv7l whose ``linux32`` machine is
        ``armv8l``, also ``_PYTHON_HOST_PLATFORM=linux-armv7l`` (so the wheel is tagged
        armv7l, not armv8l).
    """
    if not needs_linux32(arch, machine):
        return Personality()
    env = {"_PYTHON_HOST_PLATFORM": "linux-armv7l"} if (
        arch == "armv7l" and machine32 == "armv8l") else {}
    return Personality(("linux32",), env)


def runs_arch(arch: str, machine: str | None) -> bool:
    """Whether a ``uname -m`` probe (``None``: the probe could not run) shows the container
    runs ``arch`` (:data:`ACCEPTED_MACHINES`)."""
    return machine is not None and machine in ACCEPTED_MACHINES.get(arch, frozenset({arch}))


def emulation_message(arch: str, image: str, seen: str) -> str:
    """The one line for a host that cannot run ``arch``: what was seen and how to enable
    QEMU emulation (the distribution's qemu-user-static package, or tonistiigi/binfmt)."""
    qemu = _QEMU_NAMES.get(arch, arch)
    binfmt = _BINFMT_NAMES.get(arch, arch)
    return (f"this host cannot run {arch} containers ({image}: {seen}); enable QEMU "
            f"emulation: install your distribution's qemu-user-static package (binfmt handler "
            f"qemu-{qemu}), or run `docker run --privileged --rm tonistiigi/binfmt --install "
            f"{binfmt}`")
