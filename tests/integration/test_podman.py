"""The same product against Podman's Docker-compatible API: the main-job integration
test (markupsafe through ``nox -s wheels``) and SIGTERM in the middle of a multi-tag
build, with DOCKER_HOST pointing at Podman.

Runs when ``MANYWHEELS_PODMAN_HOST`` names a Podman API socket; CI sets it from
``.ci/ensure-podman.sh`` (which also explains the Podman configuration these machines
need). The test image is copied from the Docker engine into Podman through both APIs.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from manywheels.engine._docker import DockerEngine as Engine
from manywheels.errors import ImageNotFoundError
from tests.integration.test_interrupts import test_interrupt_mid_build as interrupt_mid_build
from tests.integration.test_wheels import test_nox_wheels_on_markupsafe_sdist as main_job

PODMAN_HOST = os.environ.get("MANYWHEELS_PODMAN_HOST", "")



def _require_podman_host() -> None:
    """No silent skip: without a Podman socket these tests fail, saying how to get one
    (or deselect them explicitly with --no-podman)."""
    if not PODMAN_HOST:
        pytest.fail(
            "MANYWHEELS_PODMAN_HOST is not set: run `export MANYWHEELS_PODMAN_HOST="
            "$(bash .ci/ensure-podman.sh | tail -n 1)` (CI does), or pass --no-podman to "
            "deselect the Podman tests explicitly"
        )


@pytest.fixture(scope="module")
def podman() -> Iterator[Engine]:
    _require_podman_host()
    engine = Engine.connect({"DOCKER_HOST": PODMAN_HOST})
    components = engine.client.version().get("Components") or [{}]
    assert "Podman" in str(components[0].get("Name")), components
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def podman_image(podman: Engine, engine: Engine, test_image: str) -> str:
    """The test image, present in Podman (copied from the Docker engine when absent)."""
    try:
        podman.image(test_image, pull=False)
    except ImageNotFoundError:
        api: Any = podman.client.api  # docker-py's load_image is untyped
        for _ in api.load_image(engine.client.api.get_image(test_image)) or ():
            pass
        podman.image(test_image, pull=False)
    return test_image


def _manywheels_containers(podman: Engine, project: Path) -> list[str]:
    found = podman.client.containers.list(all=True, filters={"label": "io.manywheels=1"})
    return [str(c.name) for c in found
            if str(c.labels.get("io.manywheels.project", "")).startswith(str(project))]


def test_main_job_on_podman(monkeypatch: pytest.MonkeyPatch, podman: Engine, podman_image: str,
                            pypi_sdists: dict[str, Path], tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", PODMAN_HOST)
    main_job(pypi_sdists, podman_image, tmp_path)
    assert _manywheels_containers(podman, tmp_path) == []


def test_sigterm_mid_build_on_podman(monkeypatch: pytest.MonkeyPatch, podman: Engine,
                                     podman_image: str, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", PODMAN_HOST)
    interrupt_mid_build(podman, podman_image, tmp_path, signal.SIGTERM, 143)
