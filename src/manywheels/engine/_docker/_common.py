"""Conversions and error handling shared by the docker-py engine and container."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import docker
import docker.errors
import requests
from docker.models.images import Image as ApiImage

from manywheels.engine._protocol import EngineError, ImageInfo, ImageSummary
from manywheels.errors import EngineUnavailableError

__all__ = [
    "CONNECT_TIMEOUT",
    "context_host",
    "describe_host",
    "engine_call",
    "engine_message",
    "gone_message",
    "image_info",
    "image_summary",
    "refused",
    "short",
    "split_ref",
]

# docker-py's HTTP traffic is not the user's business (nox sets the root logger to DEBUG).
for _name in ("urllib3", "docker"):
    logging.getLogger(_name).setLevel(logging.WARNING)
CONNECT_TIMEOUT = 15  # seconds, for the first ping

_START_HINT = (
    "start one (`sudo systemctl start docker`, or run `dockerd` in the background), "
    "or point DOCKER_HOST at a running engine (Podman: `systemctl --user start podman.socket` "
    "and DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock)"
)


def describe_host(env: Mapping[str, str]) -> str:
    """``DOCKER_HOST``, or the default socket, for messages."""
    return env.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"


def context_host(env: Mapping[str, str]) -> str | None:
    """The selected docker context's endpoint, when DOCKER_HOST is unset and a
    non-default context is selected (``DOCKER_CONTEXT=NAME``, else
    ``docker context use NAME``), as the docker CLI does."""
    if env.get("DOCKER_HOST"):
        return None
    try:
        from docker.context import ContextAPI  # noqa: PLC0415

        name = env.get("DOCKER_CONTEXT")
        context = ContextAPI.get_context(name) if name else ContextAPI.get_current_context()
    except Exception:  # noqa: BLE001 - a broken context file falls back to the default
        return None
    if context is None or context.name == "default":
        return None
    host = context.Host
    return str(host) if host else None


@contextmanager
def refused(what: str) -> Iterator[None]:
    """Turn docker-py's errors (and those of the HTTP layer below it) into
    :class:`EngineError` (``what``: the operation); a lost connection into
    :class:`~manywheels.errors.EngineUnavailableError`."""
    try:
        yield
    except requests.ConnectionError as error:
        raise EngineUnavailableError(gone_message("", what, error)) from None
    except (docker.errors.DockerException, requests.RequestException, OSError) as error:
        msg = f"{what}: {short(error)}"
        raise EngineError(msg) from None


def _lost_reason(error: BaseException) -> str:
    """Why the connection to the engine ended, in a few words."""
    text = short(error)
    lowered = text.lower()
    if "no such file" in lowered:
        return "its socket is gone"
    if "connection refused" in lowered:
        return "nothing listens on its socket"
    if "aborted" in lowered or "reset" in lowered or "broken pipe" in lowered:
        return "the connection broke"
    return text


def gone_message(host: str, what: str, error: BaseException) -> str:
    """The one line of an engine that stopped answering in the middle of ``what``."""
    at = f" at {host}" if host else ""
    return (f"the container engine{at} went away ({what}: {_lost_reason(error)}); start it "
            "again and re-run (finished wheels are kept)")


@contextmanager
def engine_call(what: str, host: str, answers: Callable[[], bool]) -> Iterator[None]:
    """Translate the errors of one engine call: :class:`EngineUnavailableError` when the
    engine no longer answers (``answers()`` is false), else :class:`EngineError` naming
    ``what`` and the engine's reason (a missing network, a refused create, ...)."""
    try:
        yield
    except (docker.errors.DockerException, requests.RequestException, OSError) as error:
        if not answers():
            raise EngineUnavailableError(gone_message(host, what, error)) from None
        msg = f"{what}: {short(error)}"
        raise EngineError(msg) from None


def _env_dict(items: Sequence[str] | None) -> dict[str, str]:
    return dict(item.split("=", 1) for item in items or () if "=" in item)


def _argv(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and value:
        return tuple(str(item) for item in value)
    return None


def image_summary(image: ApiImage) -> ImageSummary:
    """An :class:`ImageSummary` of a docker-py image."""
    attrs: dict[str, Any] = image.attrs
    config = attrs.get("Config") or {}
    return ImageSummary(
        id=str(image.id), tags=tuple(str(tag) for tag in image.tags),
        labels=dict(config.get("Labels") or {}), env=_env_dict(config.get("Env")),
        created=str(attrs.get("Created") or ""),
    )


def image_info(ref: str, image: ApiImage) -> ImageInfo:
    """The :class:`ImageInfo` of a docker-py image, named ``ref``."""
    attrs: dict[str, Any] = image.attrs
    config = attrs.get("Config") or {}
    digests = attrs.get("RepoDigests") or []
    cmd, entrypoint = _argv(config.get("Cmd")), _argv(config.get("Entrypoint"))
    return ImageInfo(
        ref=ref, id=str(image.id), digest=digests[0] if digests else str(image.id),
        env=_env_dict(config.get("Env")), labels=dict(config.get("Labels") or {}),
        cmd=cmd, entrypoint=entrypoint,
    )

def short(error: BaseException) -> str:
    """One line (at most 300 characters) of an error: the engine's explanation if any."""
    text = str(error).strip().splitlines()
    line = text[-1] if text else type(error).__name__
    explanation = getattr(error, "explanation", None)
    if explanation:
        line = str(explanation).strip().splitlines()[-1]
    return line[:300]


def engine_message(where: str, error: BaseException) -> str:
    """The one-line message of a failed connection to the engine at ``where``."""
    reason = short(error)
    lowered = reason.lower()
    if "permission denied" in lowered:
        return (
            f"permission denied on the container engine socket at {where}: add your user to "
            "the 'docker' group (`sudo usermod -aG docker $USER`, then log in again), run as "
            "root, or use rootless Podman via DOCKER_HOST"
        )
    if "no such file" in lowered or "filenotfounderror" in lowered:
        reason = "no socket there"
    elif "connection refused" in lowered or "connectionrefused" in lowered:
        reason = "nothing is listening there"
    return f"no container engine answers at {where} ({reason}): {_START_HINT}"


def split_ref(ref: str) -> tuple[str, str | None]:
    """``(repository, tag)`` of an image reference (tag ``None`` with a digest)."""
    if "@" in ref:
        return ref, None
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = ref.rsplit(":", 1)
        return repository, tag
    return ref, "latest"
