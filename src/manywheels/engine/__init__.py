"""The container engine seam.

Callers use the protocols :class:`Engine` and :class:`Container` (and the dataclasses
they return) and get an engine from :func:`connect`; the docker-py implementation lives
in :mod:`manywheels.engine._docker`, the only part of manywheels that imports ``docker``.
The host pass-through helpers (:func:`find_ca_bundle`, :func:`index_environment`,
:func:`new_run_id`) are engine-independent.

``docker`` (and its ``requests``/``urllib3``) is imported only when an engine is
created: :func:`connect` imports :mod:`manywheels.engine._docker` inside the function, and
:class:`DockerEngine` / :class:`DockerContainer` are looked up on first use (module
``__getattr__``), so ``import manywheels.nox``, ``manywheels --help`` and runs that never
connect do not pay for it (``tests/unit/test_import_cost.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from manywheels.engine._docker import DockerContainer, DockerEngine

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


_LAZY = frozenset({"DockerContainer", "DockerEngine"})
"""The names of :mod:`manywheels.engine._docker` this package gives on first use."""


def __getattr__(name: str) -> object:
    """:class:`DockerEngine` and :class:`DockerContainer`, importing ``docker`` on first use.

    Raises:
        AttributeError: any other name (as for any module).
    """
    if name in _LAZY:
        return getattr(importlib.import_module("manywheels.engine._docker"), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def connect(env: Mapping[str, str] | None = None) -> DockerEngine:
    """Connect to the Docker-compatible engine of ``env`` (``DOCKER_HOST`` etc.; see
    :meth:`DockerEngine.connect`); the first call imports ``docker``.

    Raises:
        EngineUnavailableError: no engine answers (the message says how to start one).
    """
    from manywheels.engine._docker import connect as connect_docker  # noqa: PLC0415

    return connect_docker(env)


def connect_local(env: Mapping[str, str] | None = None) -> LocalEngine:
    """``engine = "none"``: this machine as the engine (:mod:`manywheels.engine._local`).

    Raises:
        EngineUnavailableError: this machine is not a manylinux/musllinux-layout image.
    """
    return LocalEngine.connect(env)
