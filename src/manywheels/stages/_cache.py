"""Caches that outlive a run: pip, uv and ccache directories, and before-all images.

**Download and compiler caches.** Every container gets the image's cache directory
of the host mounted read-write at :data:`CACHE_MOUNT`, one per image reference, under
``cache-dir`` (default ``$XDG_CACHE_HOME/manywheels``, i.e. ``~/.cache/manywheels``)::

    <cache-dir>/images/<image-slug>/pip        PIP_CACHE_DIR
    <cache-dir>/images/<image-slug>/uv         UV_CACHE_DIR
    <cache-dir>/images/<image-slug>/ccache     CCACHE_DIR (only with ``ccache = true``)
    <cache-dir>/images/<image-slug>/tmp/<id>   TMPDIR of one container, removed at its end

so build environments (``python -m build --installer uv``), test environments
(``uv venv`` + ``uv pip install``) and pip fall-backs download each distribution once.
``TMPDIR`` sits on the same mount as the uv cache, so the isolated build environments
get their packages as hard links, not copies. pip, uv and ccache lock their own
caches: concurrent runs may share them. With ``ccache = true`` the compilers
(``gcc``, ``cc``, ``g++``, ``c++``, ``clang``, ``clang++``) are reached through ccache
by links in :data:`CCACHE_BIN`, first on ``PATH``; ccache itself must be in the image
or installed by ``before-all``.

A remote engine (``DOCKER_HOST=tcp://…`` or ``ssh://…``) cannot bind-mount host
directories: the image's cache is then the named volume ``manywheels-cache-<image-slug>``
on the engine's side, labelled :data:`CACHE_LABEL`.

**before-all images.** After ``before-all`` succeeds, the container is committed as
the image ``manywheels-before-all:<key>``, the key a hash of the image id and digest,
the rendered before-all script and the complete container environment
(:func:`before_all_key`). The next run with the same key starts from that image and
skips before-all. The committed image keeps the base image's ``ENV`` and ``CMD``;
variables the run added are blanked in its configuration (their values, credentials
among them, never land in an image) and set again by every run that uses it.

:func:`~manywheels.stages._cache_clear.clear` removes any of these (the ``clean-cache``
stage). ``cache = false`` turns them all off.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from manywheels.engine import EngineError
from manywheels.errors import ImageNotFoundError, ManywheelsError

if TYPE_CHECKING:
    from manywheels.config import Config
    from manywheels.engine import Container, Engine, ImageInfo

__all__ = [
    "BEFORE_ALL_LABEL",
    "BEFORE_ALL_REPOSITORY",
    "CACHE_KINDS",
    "CACHE_LABEL",
    "CACHE_MOUNT",
    "CCACHE_BIN",
    "CacheError",
    "ContainerCaches",
    "before_all_key",
    "before_all_tag",
    "cache_root",
    "commit_before_all",
    "container_caches",
    "default_cache_root",
    "enable_ccache",
    "find_before_all_image",
    "image_slug",
    "is_local_engine",
    "prepare",
    "release",
    "volume_name",
]

CACHE_MOUNT = "/manywheels-cache"
"""Where the caches are mounted in containers."""
CCACHE_BIN = "/manywheels/ccache-bin"
"""Container directory of the compiler links to ccache (first on ``PATH`` with ccache)."""
CACHE_KINDS = ("pip", "uv", "ccache")
"""The download and compiler caches, by name."""
BEFORE_ALL_REPOSITORY = "manywheels-before-all"
"""Repository of the committed before-all images (tag: the key's first 24 hex digits)."""
BEFORE_ALL_LABEL = "io.manywheels.before-all"
"""Label of the committed before-all images; its value is the full key."""
CACHE_LABEL = "io.manywheels.cache"
"""Label of the named cache volumes (remote engines); its value is the image reference."""
KEY_VERSION = "1"
"""Bumped when what goes into a before-all image changes."""

_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_COMPILERS = ("gcc", "cc", "g++", "c++", "clang", "clang++")


class CacheError(ManywheelsError):
    """A cache could not be created or removed (the message names the path or object)."""


# --------------------------------------------------------------------------- locations


def default_cache_root(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/manywheels``, else ``~/.cache/manywheels``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME")
    if base and Path(base).is_absolute():
        return Path(base) / "manywheels"
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".cache" / "manywheels"


def cache_root(config: Config, env: Mapping[str, str] | None = None) -> Path:
    """The cache directory of a configuration: ``cache-dir`` (relative paths relative to
    the project directory) or :func:`default_cache_root`."""
    if config.cache_dir is None:
        return default_cache_root(env)
    path = config.cache_dir
    return path if path.is_absolute() else (config.project_dir / path).resolve()


def image_slug(ref: str) -> str:
    """A file and volume name for an image reference:
    ``quay.io/pypa/manylinux_2_28_x86_64`` -> ``quay.io_pypa_manylinux_2_28_x86_64-latest``
    (at most 100 characters; long references end in a hash)."""
    name = ref if ("@" in ref or ":" in ref.rsplit("/", 1)[-1]) else f"{ref}:latest"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name.replace(":", "-")).strip("_.-") or "image"
    if len(slug) > 100:
        slug = slug[:87] + "-" + hashlib.sha256(ref.encode()).hexdigest()[:12]
    return slug


def is_local_engine(engine: Engine) -> bool:
    """True when the engine runs on this machine (a unix socket or named pipe), so host
    directories can be bind-mounted; false for ``tcp://`` and ``ssh://`` engines."""
    return engine.is_local


# --------------------------------------------------------------------------- mounts


@dataclass(frozen=True)
class ContainerCaches:
    """What a container gets for its caches.

    Attributes:
        volumes: host directory or named volume -> container path (one entry: the
            image's cache directory at :data:`CACHE_MOUNT`; none with ``cache = false``).
        env: ``PIP_CACHE_DIR``, ``UV_CACHE_DIR``, ``TMPDIR``, and with ccache
            ``CCACHE_DIR``, ``CCACHE_BASEDIR`` and ``PATH``.
        scratch: the container's ``TMPDIR``, on the cache mount (removed by :func:`release`).
        host_dir: the host directory mounted (``None`` for a named volume).
        ccache: ccache was asked for (``ccache = true``).
    """

    volumes: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    scratch: str | None = None
    host_dir: Path | None = None
    ccache: bool = False


def volume_name(ref: str) -> str:
    """The named cache volume of an image on a remote engine."""
    return f"manywheels-cache-{image_slug(ref)}"


def container_caches(
    config: Config, image: ImageInfo, engine: Engine, env: Mapping[str, str] | None = None,
    *, scratch_id: str | None = None,
) -> ContainerCaches:
    """The cache mount and variables of a container of ``image`` (none when ``cache`` is
    false, or in a dry run). The host directory is created; on a remote engine the named
    volume is.

    The container's ``TMPDIR`` (``/manywheels-cache/tmp/<scratch_id>``) lies on the same
    mount as the uv cache, so the isolated build environments ``python -m build``
    creates there get their packages from the cache as hard links instead of copies.

    Args:
        config: the run's configuration (``cache``, ``cache-dir``, ``ccache``).
        image: the image the container runs.
        engine: where it runs (local: a host directory; remote: a named volume).
        env: environment for the default cache location; default ``os.environ``.
        scratch_id: names the container's ``TMPDIR``; default a random id.

    Raises:
        CacheError: the cache directory or volume cannot be created.
    """
    if not config.cache or config.dry_run:  # a dry run changes nothing
        return ContainerCaches()
    slug = image_slug(image.ref)
    scratch_id = scratch_id or uuid.uuid4().hex[:12]
    scratch = f"{CACHE_MOUNT}/tmp/{scratch_id}"
    host_dir: Path | None = None
    if is_local_engine(engine):
        host_dir = cache_root(config, env) / "images" / slug
        try:
            for kind in ("pip", "uv", f"tmp/{scratch_id}",
                         *(("ccache",) if config.ccache else ())):
                (host_dir / kind).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            msg = f"cannot create the cache directory {host_dir}: {error.strerror or error}"
            raise CacheError(msg) from None
        volumes = {str(host_dir): CACHE_MOUNT}
    else:
        name = volume_name(image.ref)
        try:
            engine.create_volume(name, labels={CACHE_LABEL: image.ref})
        except EngineError as error:
            msg = f"cannot create the cache volume {name}: {error}"
            raise CacheError(msg) from None
        volumes = {name: CACHE_MOUNT}
    variables = {
        "PIP_CACHE_DIR": f"{CACHE_MOUNT}/pip",
        "UV_CACHE_DIR": f"{CACHE_MOUNT}/uv",
        "TMPDIR": scratch,
    }
    if config.ccache:
        variables["CCACHE_DIR"] = f"{CACHE_MOUNT}/ccache"
        variables["CCACHE_BASEDIR"] = "/manywheels"
        search = image.env.get("PATH") or _DEFAULT_PATH
        variables["PATH"] = f"{CCACHE_BIN}:{search}"
    return ContainerCaches(volumes=volumes, env=variables, scratch=scratch, host_dir=host_dir,
                           ccache=config.ccache)


def prepare(container: Container, caches: ContainerCaches) -> None:
    """After start, on a remote engine: create the container's ``TMPDIR`` in the volume;
    a host directory already has it."""
    if caches.scratch is not None and caches.host_dir is None:
        container.run(["mkdir", "-p", caches.scratch])


def release(container: Container, caches: ContainerCaches) -> None:
    """Before the container is removed: delete its ``TMPDIR``, and scratch directories
    that crashed runs left for more than a day; on a host where manywheels does not run
    as root, give the user back what root wrote into the cache directory."""
    if caches.scratch is None:
        return
    script = (f"rm -rf {caches.scratch}; find {CACHE_MOUNT}/tmp -mindepth 1 -maxdepth 1 "
              "-mmin +1440 -exec rm -rf {} + 2>/dev/null || true")
    uid, gid = os.getuid(), os.getgid()
    if caches.host_dir is not None and uid != 0:
        script += f"; chown -R {uid}:{gid} {CACHE_MOUNT} 2>/dev/null || true"
    container.run(script, check=False)


_CCACHE_SCRIPT = f"""\
set -eu
ccache_path="$(PATH="${{PATH#{CCACHE_BIN}:}}" command -v ccache || true)"
if [ -z "$ccache_path" ]; then
  echo "manywheels: ccache = true, but there is no ccache in the image: install it in \
before-all (e.g. yum install -y ccache, apt-get install -y ccache, apk add ccache)"
  exit 3
fi
mkdir -p {CCACHE_BIN}
for name in {" ".join(_COMPILERS)}; do
  if PATH="${{PATH#{CCACHE_BIN}:}}" command -v "$name" >/dev/null 2>&1; then
    ln -sf "$ccache_path" "{CCACHE_BIN}/$name"
  fi
done
"$ccache_path" --version | head -n 1
"""


def enable_ccache(container: Container) -> tuple[bool, str]:
    """Put ccache in front of the container's compilers (links in :data:`CCACHE_BIN`).

    Returns:
        ``(True, "ccache version …")``, or ``(False, reason)`` when the image has no
        ccache (the build then compiles without it).
    """
    lines: list[str] = []

    def collect(line: str, stream: str) -> None:  # noqa: ARG001 - both streams
        lines.append(line)

    code = container.run(_CCACHE_SCRIPT, sink=collect, check=False)
    text = lines[-1].strip() if lines else f"exit code {code}"
    return code == 0, text


# --------------------------------------------------------------------------- before-all


def before_all_key(image: ImageInfo, script: str, environment: Mapping[str, str]) -> str:
    """The before-all cache key: a SHA-256 over the image id and digest, the rendered
    before-all script and the container environment (names and values)."""
    payload = json.dumps(
        {"version": KEY_VERSION, "image_id": image.id, "digest": image.digest,
         "script": script, "environment": dict(sorted(environment.items()))},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def before_all_tag(key: str) -> str:
    """``manywheels-before-all:<first 24 hex digits of the key>``."""
    return f"{BEFORE_ALL_REPOSITORY}:{key[:24]}"


def find_before_all_image(engine: Engine, key: str) -> str | None:
    """The committed before-all image of ``key`` when present locally, else ``None``."""
    tag = before_all_tag(key)
    image = engine.find_image(tag)
    if image is None:
        return None
    return tag if image.labels.get(BEFORE_ALL_LABEL) == key else None


def commit_before_all(
    engine: Engine, container: Container, base: ImageInfo, key: str,
    environment: Mapping[str, str],
) -> str:
    """Commit ``container`` (just after before-all) as ``manywheels-before-all:<key>``.

    The image keeps the base image's configuration (``ENV``, ``CMD``, ``ENTRYPOINT``,
    labels); every variable in ``environment`` that the base does not set is blanked,
    so no value passed into the run is stored in the image.

    Returns:
        The image tag.

    Raises:
        CacheError: the engine refused the commit.
    """
    tag = before_all_tag(key)
    repository, _, version = tag.partition(":")
    try:
        config = engine.image(base.id, pull=False)
    except ImageNotFoundError as error:
        msg = f"cannot inspect {base.ref} to commit the before-all image: {error}"
        raise CacheError(msg) from None
    base_env = [f"{name}={value}" for name, value in config.env.items()]
    blanked = [f"{name}=" for name in sorted(environment) if name not in config.env]
    labels = dict(config.labels)
    labels.update({BEFORE_ALL_LABEL: key, "io.manywheels.base-image": base.ref,
                   "io.manywheels.base-id": base.id})
    conf: dict[str, Any] = {
        "Env": base_env + blanked,
        "Cmd": list(config.cmd or ("/bin/bash",)),
        "Entrypoint": list(config.entrypoint) if config.entrypoint else None,
        "Labels": labels,
    }
    try:
        container.commit(repository, version, conf=conf,
                         message=f"manywheels before-all for {base.ref}")
    except EngineError as error:
        msg = f"cannot commit the before-all image {tag}: {error}"
        raise CacheError(msg) from None
    return tag

