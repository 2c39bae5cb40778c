"""The docker-py implementation of the engine seam (:mod:`manywheels.engine._protocol`).

A :class:`DockerEngine` is a connection to a Docker-compatible engine (Docker, or
Podman through its Docker API: ``DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock``).
A :class:`DockerContainer` is a long-lived container used as a context manager,
in the style of cibuildwheel's ``OCIContainer``: ``run`` streams a command's
output line by line and returns its exit code (docker-py's low-level
``exec_create``/``exec_start``/``exec_inspect``, since ``exec_run(stream=True)``
gives no exit code); ``copy_into`` and ``copy_out`` move trees as tar streams
(:mod:`manywheels.engine._tar`), keeping file modes and never following a symlink that
points outside the tree.

Containers are removed on normal exit, on error and on KeyboardInterrupt, and
carry the labels :data:`LABEL` and :data:`RUN_LABEL` so leftovers of a crashed
run can be found (:meth:`DockerEngine.leftovers`).

This package (``_common``, ``_engine``, ``_container``) is the only part of manywheels
that imports ``docker``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from manywheels.engine._docker._container import DockerContainer
from manywheels.engine._docker._engine import DockerEngine
from manywheels.engine._env import (
    CA_BUNDLE_PATH,
    INDEX_VARIABLES,
    find_ca_bundle,
    index_environment,
    new_run_id,
)
from manywheels.engine._protocol import LABEL, OWNER_LABEL, RUN_LABEL, ImageInfo, Sink

if TYPE_CHECKING:
    from manywheels.engine._protocol import Container, Engine

__all__ = [
    "CA_BUNDLE_PATH",
    "INDEX_VARIABLES",
    "LABEL",
    "OWNER_LABEL",
    "RUN_LABEL",
    "DockerContainer",
    "DockerEngine",
    "ImageInfo",
    "Sink",
    "connect",
    "find_ca_bundle",
    "index_environment",
    "new_run_id",
]


def connect(env: Mapping[str, str] | None = None) -> DockerEngine:
    """Connect to the engine of ``env`` (see :meth:`DockerEngine.connect`).

    Raises:
        EngineUnavailableError: no engine answers (the message says how to start one).
    """
    return DockerEngine.connect(env)


if TYPE_CHECKING:  # mypy checks that the docker classes implement the protocols
    _ENGINE: type[Engine] = DockerEngine
    _CONTAINER: type[Container] = DockerContainer
