"""Troubleshoot's probes of the build environment: the container engine (socket, programs
on PATH, data root, free space) and the image (present or pullable, its Pythons, its
package manager). Nothing here raises for an unavailable engine or image: those are
facts too.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from manywheels.diagnose import EngineFacts, ImageFacts
from manywheels.errors import EngineUnavailableError, ImageNotFoundError, ManywheelsError
from manywheels.stages._cache import BEFORE_ALL_LABEL
from manywheels.stages._run import Run

__all__ = ["engine_facts", "free_bytes", "image_facts"]

_ENGINE_PROGRAMS = ("docker", "dockerd", "podman")
_DEFAULT_SOCKET = "/var/run/docker.sock"
_PACKAGE_MANAGER_PROBE = (
    "for m in dnf yum apk apt-get; do "
    "if command -v $m >/dev/null 2>&1; then echo $m; exit 0; fi; done"
)


def _default_host(env: Mapping[str, str]) -> str:
    return env.get("DOCKER_HOST") or f"unix://{_DEFAULT_SOCKET}"


def engine_facts(
    run: Run, *, measure: bool, error: ManywheelsError | None = None
) -> tuple[EngineFacts, bool]:
    """The engine as seen from the host: its endpoint, socket, the engine programs on
    PATH and (``measure``) its data root.

    Args:
        run: the run (host environment, lazy engine connection).
        measure: also ask the engine for its data root.
        error: the error that stopped the stage; an :class:`EngineUnavailableError` is
            taken as the answer (no second connection attempt).

    Returns:
        ``(facts, whether the engine answered)``.
    """
    env = run.host_env
    host = _default_host(env)
    parsed = urlsplit(host)
    socket_path = parsed.path if parsed.scheme in {"unix", "npipe"} else None
    installed = tuple(
        name for name in _ENGINE_PROGRAMS if shutil.which(name, path=env.get("PATH", ""))
    )
    exists = socket_path is not None and Path(socket_path).exists()
    if isinstance(error, EngineUnavailableError):
        # The stage just failed to connect: do not try (and wait) again.
        return EngineFacts(host, str(error), socket_path, exists, installed), False
    try:
        engine = run.engine
    except EngineUnavailableError as failure:
        return EngineFacts(host, str(failure), socket_path, exists, installed), False
    data_root = None
    free = None
    if measure:
        with contextlib.suppress(Exception):
            data_root = engine.info().data_root
    return EngineFacts(host, None, socket_path, exists, installed, data_root, free), True


def _local_images(run: Run) -> tuple[str, ...]:
    """Tags of local images that can build wheels (their ENV sets AUDITWHEEL_PLAT, as the
    manylinux and musllinux images do), newest first; manywheels' own committed
    before-all images (:data:`~manywheels.stages._cache.BEFORE_ALL_LABEL`) are not offered."""
    found: list[tuple[str, str]] = []
    with contextlib.suppress(Exception):
        for image in run.engine.images()[:200]:
            if image.env.get("AUDITWHEEL_PLAT") is not None \
                    and BEFORE_ALL_LABEL not in image.labels:
                found.extend((image.created, tag) for tag in image.tags)
    return tuple(tag for _, tag in sorted(found, key=lambda item: item[0], reverse=True))


def free_bytes(run: Run, ref: str) -> int | None:
    """Free bytes of the engine's storage, from ``df`` in a container of the image (the
    container's root is on the engine's data root)."""
    try:
        text = run.container(ref).output(["df", "-Pk", "/"], check=False)
    except ManywheelsError:
        return None
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4 and fields[3].isdigit():
            return int(fields[3]) * 1024
    return None


def _package_manager(run: Run, ref: str) -> str | None:
    try:
        found = run.container(ref).output(["sh", "-c", _PACKAGE_MANAGER_PROBE], check=False)
    except ManywheelsError:
        return None
    return found.strip() or None


def image_facts(
    run: Run, *, error: ManywheelsError | None, full: bool, need_package_manager: bool
) -> ImageFacts:
    """The configured image: present (or pullable), its ENV, Pythons and package manager.

    Args:
        run: the run (configuration, engine, containers).
        error: the error that stopped the stage; an :class:`ImageNotFoundError` is taken
            as the answer (the local build images are listed instead).
        full: list the image's Pythons and probe its package manager.
        need_package_manager: probe the package manager even when not ``full``.
    """
    ref = run.images()[0]  # the one image, or the first platform's
    if isinstance(error, ImageNotFoundError):
        return ImageFacts(ref, present=False, error=str(error), local_images=_local_images(run))
    try:
        info = run.image(ref)
    except ImageNotFoundError as failure:
        return ImageFacts(ref, present=False, error=str(failure),
                          local_images=_local_images(run))
    pythons: tuple[str, ...] | None = None
    if full or run.config.python:
        with contextlib.suppress(ManywheelsError):
            pythons = tuple(tag.tag for tag in run.pythons(ref))
    manager = _package_manager(run, ref) if (full or need_package_manager) else None
    return ImageFacts(ref, present=True, env=dict(info.env), pythons=pythons,
                      package_manager=manager)
