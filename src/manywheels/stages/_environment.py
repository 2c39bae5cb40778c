"""What enters a container's environment, and what the host's sdist build may see: an
explicit allowlist in, credentials out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from manywheels.config._secrets import Masker, is_secret_name
from manywheels.config._shell import is_literal
from manywheels.engine import Sink, find_ca_bundle, index_environment

if TYPE_CHECKING:
    from manywheels.config import Config

__all__ = ["container_environment", "host_build_environment", "is_secret_name",
           "masked_sink", "reproducible_environment", "secret_masker"]


def container_environment(config: Config, host_env: Mapping[str, str]) -> dict[str, str]:
    """The complete environment a container gets: an explicit allowlist.

    Index and CA pass-through (:func:`~manywheels.engine.index_environment`), the
    host variables named in ``environment-pass`` (when set on the host) and the
    ``environment`` table's literal values (those with ``$`` or a backquote are evaluated
    by each script instead, :mod:`~manywheels.stages._script_env`). Nothing else from the
    host enters a container.
    """
    env = index_environment(host_env, ca_bundle=find_ca_bundle(host_env) is not None)
    for name in config.environment_pass:
        if name in host_env:
            env[name] = host_env[name]
    env.update((k, v) for k, v in config.environment.items() if is_literal(v))
    return env


def reproducible_environment(epoch: int | None) -> dict[str, str]:
    """``{"SOURCE_DATE_EPOCH": epoch}`` (the run's, :mod:`manywheels.stages._epoch`;
    cibuildwheel passes the host's through too); ``{}`` for ``None``. Not part of the
    before-all image key nor of its image."""
    return {} if epoch is None else {"SOURCE_DATE_EPOCH": str(epoch)}


def host_build_environment(host_env: Mapping[str, str]) -> dict[str, str]:
    """The environment of the sdist build on the host: the host's, minus every variable
    whose name looks like a credential (:func:`is_secret_name`), so a build backend or
    ``setup.py`` cannot print a token into the sdist log."""
    return {name: value for name, value in host_env.items() if not is_secret_name(name)}



def secret_masker(config: Config, host_env: Mapping[str, str]) -> Masker:
    """Masks the values of the variables passed into containers whose names look like
    credentials (:func:`is_secret_name`): ``environment-pass`` names and ``environment``
    keys. What containers print is shown and logged through it."""
    passed = [host_env[name] for name in config.environment_pass
              if name in host_env and is_secret_name(name)]
    passed += [value for name, value in config.environment.items() if is_secret_name(name)]
    return Masker(passed)


def masked_sink(sink: Sink, mask: Masker) -> Sink:
    """``sink``, receiving each line with the secret values masked (``sink`` itself when
    there is nothing to mask)."""
    if not mask:
        return sink

    def write(line: str, stream: str) -> None:
        sink(mask(line), stream)

    return write
