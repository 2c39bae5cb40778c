"""The docker-py engine connection: :class:`DockerEngine`."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests
from docker.models.containers import Container as ApiContainer

from manywheels.config._create_args import CreateOptions
from manywheels.engine._docker._common import (
    CONNECT_TIMEOUT,
    context_host,
    describe_host,
    engine_message,
    gone_message,
    image_info,
    image_summary,
    refused,
    short,
    split_ref,
)
from manywheels.engine._docker._container import DockerContainer
from manywheels.engine._protocol import (
    LABEL,
    RUN_LABEL,
    EngineInfo,
    ImageInfo,
    ImageSummary,
    LeftoverInfo,
    VolumeInfo,
)
from manywheels.errors import EngineUnavailableError, ImageNotFoundError
from manywheels.naming._platforms import OCI_PLATFORMS

__all__ = ["DockerEngine"]

_PING_TIMEOUT = 5  # seconds: is the engine still there?


class DockerEngine:
    """A connection to a Docker-compatible container engine (implements
    :class:`~manywheels.engine.Engine`).

    Use :meth:`connect` to create one; it fails fast with one clear message when no
    engine answers. ``client`` is the docker-py client (for tests and tools; manywheels
    itself goes through the methods).
    """

    def __init__(self, client: docker.DockerClient, host: str) -> None:
        self.client = client
        self.host = host
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def connect(cls, env: Mapping[str, str] | None = None) -> DockerEngine:
        """Connect to the engine named by ``DOCKER_HOST`` (or the docker context, or the
        default socket) and check that it answers.

        Args:
            env: environment to read ``DOCKER_HOST``/``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``
                from; default ``os.environ``.

        Raises:
            EngineUnavailableError: no socket, nothing listening, wrong DOCKER_HOST, or
                permission denied; the message says how to start or reach an engine.
        """
        env = dict(os.environ if env is None else env)
        selected = context_host(env)
        if selected:
            env["DOCKER_HOST"] = selected
        where = describe_host(env)
        try:
            client = docker.DockerClient.from_env(
                environment=env, timeout=CONNECT_TIMEOUT, max_pool_size=32
            )
            client.ping()
        except Exception as error:  # noqa: BLE001 - docker, requests, urllib3, OSError variants
            raise EngineUnavailableError(engine_message(where, error)) from None
        # Long silent build steps must not time out the output stream.
        client.api.timeout = None  # type: ignore[assignment]
        return cls(client, where)

    def answers(self) -> bool:
        """Whether the engine still answers a ping (within a few seconds)."""
        api = self.client.api
        try:
            response = api.get(f"{api.base_url}/_ping", timeout=_PING_TIMEOUT)
        except Exception:  # noqa: BLE001 - any failure means: not answering
            return False
        return bool(response.ok)

    @property
    def is_local(self) -> bool:
        """True on a unix socket or named pipe (host directories can be bind-mounted);
        false for ``tcp://`` and ``ssh://`` engines."""
        base_url = str(getattr(self.client.api, "base_url", ""))
        return base_url.startswith(("http+docker://localhost", "http+docker://localnpipe"))

    def info(self) -> EngineInfo:
        """The engine's data root, version and product name. Raises EngineError."""
        with refused("the engine does not describe itself"):
            details: dict[str, Any] = self.client.info()
            version: dict[str, Any] = self.client.version()
        components = version.get("Components") or [{}]
        name = (version.get("Platform") or {}).get("Name") or components[0].get("Name")
        return EngineInfo(
            host=self.host, local=self.is_local,
            data_root=str(details.get("DockerRootDir") or "") or None,
            version=str(version.get("Version") or "") or None,
            name=str(name or "") or None,
        )

    # ------------------------------------------------------------------ images

    def image(
        self, ref: str, *, pull: bool = True, progress: Callable[[str], None] | None = None,
        arch: str | None = None,
    ) -> ImageInfo:
        """Return the image ``ref``, pulling it only when it is absent locally.

        Args:
            ref: image reference.
            pull: pull an absent image (with a progress line per finished layer).
            progress: receives progress lines; default: discard.
            arch: pull for this arch's platform (``aarch64`` → ``linux/arm64``).

        Raises:
            ImageNotFoundError: the image is absent and cannot be pulled.
        """
        if not ref.strip():
            msg = "the image reference is empty: name an image (--image, MANYWHEELS_IMAGE)"
            raise ImageNotFoundError(msg)
        with self._lock:
            try:
                return image_info(ref, self.client.images.get(ref))
            except docker.errors.ImageNotFound:
                if not pull:
                    msg = f"image {ref!r} is not present locally (pulling disabled)"
                    raise ImageNotFoundError(msg) from None
            except (docker.errors.DockerException, requests.RequestException) as error:
                if not self.answers():
                    raise EngineUnavailableError(
                        gone_message(self.host, f"cannot inspect {ref}", error)) from None
                msg = f"image {ref!r} cannot be inspected: {short(error)}"
                raise ImageNotFoundError(msg) from None
            return self._pull(ref, progress or (lambda _line: None), arch)

    def pull(self, ref: str, *, progress: Callable[[str], None] | None = None,
             arch: str | None = None) -> ImageInfo:
        """Pull ``ref`` from its registry (also when present), for ``arch``'s platform when
        given. Raises ImageNotFoundError."""
        with self._lock:
            return self._pull(ref, progress or (lambda _line: None), arch)

    def _pull(self, ref: str, progress: Callable[[str], None],
              arch: str | None = None) -> ImageInfo:
        repository, tag = split_ref(ref)
        progress(f"pulling {ref} ...")
        started = time.monotonic()
        layers_done = 0
        platform = OCI_PLATFORMS.get(arch or "")
        try:
            for event in self.client.api.pull(repository, tag=tag, stream=True, decode=True,
                                              platform=platform):
                if isinstance(event, dict) and event.get("error"):
                    msg = (
                        f"image {ref!r} is not present locally and could not be pulled: "
                        f"{event['error']}"
                    )
                    raise ImageNotFoundError(msg)
                if isinstance(event, dict) and event.get("status") == "Pull complete":
                    layers_done += 1
                    progress(f"pulling {ref}: {layers_done} layer(s) done")
            image = self.client.images.get(ref)
        except docker.errors.DockerException as error:
            msg = f"image {ref!r} is not present locally and could not be pulled: {short(error)}"
            raise ImageNotFoundError(msg) from None
        progress(f"pulled {ref} in {time.monotonic() - started:.1f} s")
        return image_info(ref, image)

    def find_image(self, ref: str) -> ImageSummary | None:
        """The local image ``ref`` (tag or id), or ``None`` (absent or not inspectable)."""
        try:
            return image_summary(self.client.images.get(ref))
        except docker.errors.DockerException:
            return None

    def images(self, label: str | None = None) -> list[ImageSummary]:
        """Local images, those carrying ``label`` when given. Raises EngineError."""
        with refused("cannot list the images"):
            found = self.client.images.list(filters={"label": label} if label else None)
        return [image_summary(image) for image in found]

    def remove_image(self, image_id: str) -> None:
        """Remove an image, not forced. Raises EngineError (in use, absent...)."""
        with refused(f"cannot remove the image {image_id}"):
            self.client.images.remove(image_id, force=False)

    # ------------------------------------------------------------------ containers

    def container(
        self,
        image: str,
        *,
        env: Mapping[str, str] | None = None,
        ca_bundle: Path | None = None,
        run_id: str | None = None,
        labels: Mapping[str, str] | None = None,
        volumes: Mapping[str, str] | None = None,
        name: str | None = None,
        arch: str | None = None,
        create: CreateOptions | None = None,
    ) -> DockerContainer:
        """A :class:`DockerContainer` on this engine (see its arguments)."""
        return DockerContainer(self, image, env=env, ca_bundle=ca_bundle, run_id=run_id,
                               labels=labels, volumes=volumes, name=name, arch=arch,
                               create=create)

    def leftovers(self, run_id: str | None = None) -> list[LeftoverInfo]:
        """Containers carrying the manywheels label (of one run, when given), running or not.

        Raises:
            EngineError: the engine cannot list containers.
        """
        label = f"{RUN_LABEL}={run_id}" if run_id else f"{LABEL}=1"
        with refused("cannot list the containers"):
            found: list[ApiContainer] = self.client.containers.list(
                all=True, filters={"label": label})
        return [LeftoverInfo(str(c.name), dict(c.labels), str(c.status)) for c in found]

    def remove_leftover(self, name: str) -> None:
        """Remove the container ``name`` (force); one already gone is fine.

        Raises:
            EngineError: the engine refused.
        """
        with refused(f"cannot remove the container {name}"):
            try:
                self.client.api.remove_container(name, force=True)
            except docker.errors.NotFound:
                return

    # ------------------------------------------------------------------ volumes

    def create_volume(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        """Create the named volume (an existing one is kept). Raises EngineError."""
        with refused(f"cannot create the volume {name}"):
            self.client.volumes.create(name, labels=dict(labels or {}))

    def volumes(self, label: str | None = None) -> list[VolumeInfo]:
        """Named volumes, those carrying ``label`` when given. Raises EngineError."""
        with refused("cannot list the volumes"):
            found = self.client.volumes.list(filters={"label": label} if label else None)
        return [VolumeInfo(str(v.name), dict((v.attrs or {}).get("Labels") or {}))
                for v in found]

    def remove_volume(self, name: str) -> None:
        """Remove the named volume. Raises EngineError (in use, absent...)."""
        with refused(f"cannot remove the volume {name}"):
            self.client.volumes.get(name).remove()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if not self._closed:
            self._closed = True
            self.client.close()

