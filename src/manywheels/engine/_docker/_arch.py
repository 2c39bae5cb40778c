"""The arch check and personality probe of a docker-py container (once, after start)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import docker.errors

from manywheels.engine._personality import Personality, emulation_message, personality, runs_arch
from manywheels.engine._protocol import EngineError
from manywheels.errors import CommandError, EmulationUnavailableError

if TYPE_CHECKING:
    from docker.models.containers import Container as ApiContainer

    from manywheels.engine._docker._container import DockerContainer

__all__ = ["probe_personality"]


def _machine(container: DockerContainer, argv: list[str]) -> str | None:
    """``uname -m`` (or ``linux32 uname -m``) in the container; ``None`` when it cannot run
    (it exited, or the engine refuses the exec: a foreign binary without emulation stops the
    container at once)."""
    try:
        return container.output(argv, check=True).strip() or None
    except (CommandError, EngineError, docker.errors.APIError):
        return None


def _exit_detail(api: ApiContainer | None) -> str:
    """Why a container stopped: the last line of its log (``exec format error``)."""
    if api is None:
        return "the container did not start"
    try:
        api.reload()
        lines = api.logs(stdout=True, stderr=True, tail=3).decode("utf-8", "replace").split("\n")
    except docker.errors.DockerException:
        return "the container did not start"
    last = [line.strip() for line in lines if line.strip()]
    return last[-1] if last else f"the container is {api.status}"


def probe_personality(container: DockerContainer, arch: str,
                      api: ApiContainer | None) -> Personality:
    """Check the started container runs ``arch`` (a ``uname -m`` probe) and return how its
    commands must run (:func:`~manywheels.engine._personality.personality`).

    Raises:
        EmulationUnavailableError: the probe cannot run or reports another machine (no QEMU
            handler for ``arch``); the one line says how to enable emulation.
    """
    machine = _machine(container, ["uname", "-m"])
    if not runs_arch(arch, machine):
        seen = f"uname -m says {machine}" if machine else _exit_detail(api)
        raise EmulationUnavailableError(emulation_message(arch, container.image, seen))
    assert machine is not None
    machine32 = _machine(container, ["linux32", "uname", "-m"]) if arch == "armv7l" else None
    return personality(arch, machine, machine32)
