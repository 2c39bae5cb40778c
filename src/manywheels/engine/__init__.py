"""The container engine seam.

Callers use the protocols :class:`Engine` and :class:`Container` (and the dataclasses
they return) and get an engine from :func:`connect`; the docker-py implementation lives
in :mod:`manywheels.engine._docker`, the only part of manywheels that imports ``docker``.
The host pass-through helpers (:func:`find_ca_bundle`, :func:`index_environment`,
:func:`new_run_id`) are engine-independent.
"""

from __future__ import annotations

from collections.abc import Mapping

from manywheels.engine._docker import DockerContainer, DockerEngine, connect
from manywheels.engine._env import (
    CA_BUNDLE_PATH,
    INDEX_VARIABLES,
    find_ca_bundle,
    index_environment,
    new_run_id,
)
from manywheels.engine._local import LocalContainer, LocalEngine
from manywheels.engine._protocol import (
    LABEL,
    OWNER_LABEL,
    RUN_LABEL,
    Container,
    Engine,
    EngineError,
    EngineInfo,
    ImageInfo,
    ImageSummary,
    LeftoverInfo,
    Sink,
    StdoutLines,
    VolumeInfo,
)

__all__ = [
    "CA_BUNDLE_PATH",
    "INDEX_VARIABLES",
    "LABEL",
    "OWNER_LABEL",
    "RUN_LABEL",
    "Container",
    "DockerContainer",
    "DockerEngine",
    "Engine",
    "EngineError",
    "EngineInfo",
    "ImageInfo",
    "ImageSummary",
    "LeftoverInfo",
    "LocalContainer",
    "LocalEngine",
    "Sink",
    "StdoutLines",
    "VolumeInfo",
    "connect",
    "connect_local",
    "find_ca_bundle",
    "index_environment",
    "new_run_id",
]


def connect_local(env: Mapping[str, str] | None = None) -> LocalEngine:
    """``engine = "none"``: this machine as the engine (:mod:`manywheels.engine._local`).

    Raises:
        EngineUnavailableError: this machine is not a manylinux/musllinux-layout image.
    """
    return LocalEngine.connect(env)
