"""``container-create-args`` on the Docker API: :class:`~manywheels.config.CreateOptions`
(parsed and checked against the allowlist by :mod:`manywheels.config._create_args`) as
keyword arguments of ``containers.create`` (docker-py's names for the ``docker create``
options)."""

from __future__ import annotations

from typing import Any

from docker.types import DeviceRequest, Ulimit

from manywheels.config._create_args import CreateOptions

__all__ = ["create_kwargs"]


def _gpus(value: str) -> DeviceRequest:
    """``--gpus all`` / ``--gpus 2`` / ``--gpus device=0,1`` as the API's device request."""
    if value == "all":
        return DeviceRequest(count=-1, capabilities=[["gpu"]])
    if value.isdigit():
        return DeviceRequest(count=int(value), capabilities=[["gpu"]])
    ids = value.removeprefix("device=").split(",")
    return DeviceRequest(device_ids=ids, capabilities=[["gpu"]])


def create_kwargs(options: CreateOptions | None) -> dict[str, Any]:
    """The ``containers.create`` keyword arguments of ``options`` (``{}`` for ``None``)."""
    if options is None:
        return {}
    kwargs: dict[str, Any] = {}
    if options.cpus is not None:
        kwargs["nano_cpus"] = round(options.cpus * 1_000_000_000)
    if options.memory is not None:
        kwargs["mem_limit"] = options.memory
    if options.memory_swap is not None:
        kwargs["memswap_limit"] = options.memory_swap
    if options.shm_size is not None:
        kwargs["shm_size"] = options.shm_size
    if options.pids_limit is not None:
        kwargs["pids_limit"] = options.pids_limit
    if options.ulimits:
        kwargs["ulimits"] = [Ulimit(name=n, soft=s, hard=h) for n, s, h in options.ulimits]
    if options.gpus is not None:
        kwargs["device_requests"] = [_gpus(options.gpus)]
    if options.network is not None:
        kwargs["network_mode"] = options.network
    if options.cap_add:
        kwargs["cap_add"] = list(options.cap_add)
    if options.security_opt:
        kwargs["security_opt"] = list(options.security_opt)
    return kwargs
