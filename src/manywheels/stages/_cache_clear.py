"""Clearing the caches that outlive a run (the ``clean-cache`` stage): host cache
directories, named cache volumes and committed before-all images (see
:mod:`manywheels.stages._cache` for what they are and where they live)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from manywheels.engine import EngineError
from manywheels.errors import EngineUnavailableError
from manywheels.stages._cache import (
    BEFORE_ALL_LABEL,
    CACHE_KINDS,
    CACHE_LABEL,
    CACHE_OWNER_LABEL,
    CacheError,
    cache_owner,
    cache_root,
    default_cache_root,
)

if TYPE_CHECKING:
    from manywheels.config import Config
    from manywheels.engine import Engine
    from manywheels.stages._run import Run

__all__ = ["Cleared", "clear", "clear_for_run", "directory_size"]

_T = TypeVar("_T")

@dataclass
class Cleared:
    """What :func:`clear` removed.

    Attributes:
        paths: host cache directories removed.
        bytes: their size before removal, in bytes.
        volumes: named volumes removed.
        images: before-all images removed.
        kept: objects that could not be removed, with the reason (e.g. an image in use).
    """

    paths: list[Path] = field(default_factory=list)
    bytes: int = 0
    volumes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def removed(self) -> list[str]:
        """What was removed, one line each: ``cache directory /path (1.2 MB)``, ``cache
        volume NAME``, ``before-all image NAME``."""
        return ([f"cache directory {path}" for path in self.paths]
                + [f"cache volume {name}" for name in self.volumes]
                + [f"before-all image {name}" for name in self.images])

    def summary(self) -> str:
        """One line: ``removed 3 cache directories (12.5 MB), 1 before-all image``."""
        noun = "directory" if len(self.paths) == 1 else "directories"
        parts = [f"{len(self.paths)} cache {noun} ({self.bytes / 1e6:.1f} MB)"]
        if self.volumes:
            parts.append(f"{len(self.volumes)} cache volume(s)")
        parts.append(f"{len(self.images)} before-all image(s)")
        text = "removed " + ", ".join(parts)
        if self.kept:
            text += f"; kept {len(self.kept)}: " + "; ".join(self.kept)
        return text


def directory_size(path: Path) -> int:
    """Total size in bytes of the files under ``path`` (0 when absent)."""
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(directory) / name).lstat().st_size
    return total


def _cache_dirs(root: Path, kinds: Collection[str]) -> Iterator[Path]:
    images = root / "images"
    if not images.is_dir():
        return
    for image_dir in sorted(images.iterdir()):
        if set(kinds) == set(CACHE_KINDS):  # everything: scratch left by crashed runs too
            kinds = [*CACHE_KINDS, "tmp"]
        for kind in kinds:
            path = image_dir / kind
            if path.is_dir():
                yield path


def clear(
    config: Config | None = None,
    *,
    root: Path | None = None,
    engine: Engine | None = None,
    what: Collection[str] = (*CACHE_KINDS, "wheels", "before-all"),
    env: Mapping[str, str] | None = None,
    everything: bool = False,
) -> Cleared:
    """Clear caches: host cache directories, named cache volumes and before-all images.

    Only the cache-dir's own: its host directories, and the volumes and images labelled
    with its :func:`~manywheels.stages._cache.cache_owner` (other projects', users' and
    machines' caches on a shared engine are left alone), unless ``everything``.

    Args:
        config: the configuration whose ``cache-dir`` to clear (default
            :func:`default_cache_root` when neither it nor ``root`` is given).
        root: the cache directory, overriding ``config``.
        engine: the engine holding named volumes and before-all images; without one,
            only host directories are cleared.
        what: any of ``pip``, ``uv``, ``ccache``, ``wheels`` (the wheel cache,
            ``<cache-dir>/wheels``: :mod:`manywheels.stages._wheel_cache`), ``before-all``.
        env: environment for the default location; default ``os.environ``.
        everything: also every other manywheels cache volume and before-all image on the
            engine (``clean-cache --all``).

    Returns:
        What was removed, and what was kept (in use).

    Raises:
        CacheError: an unknown cache name, or a host directory that cannot be removed.
    """
    unknown = sorted(set(what) - {*CACHE_KINDS, "wheels", "before-all"})
    if unknown:
        msg = (f"unknown cache {unknown[0]!r}; allowed are "
               + ", ".join([*CACHE_KINDS, "wheels", "before-all"]))
        raise CacheError(msg)
    if root is None:
        root = cache_root(config, env) if config is not None else default_cache_root(env)
    kinds = [kind for kind in CACHE_KINDS if kind in what]
    result = Cleared()
    wheels = [root / "wheels"] if "wheels" in what and (root / "wheels").is_dir() else []
    for path in [*_cache_dirs(root, kinds), *wheels]:
        size = directory_size(path)
        try:
            shutil.rmtree(path)
        except OSError as error:
            msg = (f"cannot remove the cache directory {path}: {error.strerror or error} "
                   "(written by root in a container? remove it with sudo)")
            raise CacheError(msg) from None
        result.paths.append(path)
        result.bytes += size
    if engine is None:
        return result
    owner = None if everything else cache_owner(config, env, root)
    _clear_volumes(engine, kinds, result, owner)
    if "before-all" in what:
        _clear_images(engine, result, owner)
    return result


def _owned(labels: Mapping[str, str], owner: str | None) -> bool:
    """Whether an object is the cache owner's (every one when ``owner`` is ``None``)."""
    return owner is None or labels.get(CACHE_OWNER_LABEL) == owner


def _clear_volumes(engine: Engine, kinds: Collection[str], result: Cleared,
                   owner: str | None) -> None:
    """Remove the owner's named cache volumes (only when every cache kind is cleared)."""
    for volume in _listed(engine.volumes, CACHE_LABEL, result):
        if not _owned(volume.labels, owner):
            continue
        if set(kinds) != set(CACHE_KINDS):
            result.kept.append(f"volume {volume.name}: holds every cache kind of its image; "
                               "clear all of them to remove it")
            continue
        try:
            engine.remove_volume(volume.name)
        except EngineError as error:
            result.kept.append(f"volume {volume.name}: {_reason(error)}")
        else:
            result.volumes.append(volume.name)


def _clear_images(engine: Engine, result: Cleared, owner: str | None) -> None:
    """Remove the owner's committed before-all images (one in use is kept)."""
    for image in _listed(engine.images, BEFORE_ALL_LABEL, result):
        if not _owned(image.labels, owner):
            continue
        names = list(image.tags) or [image.id]
        try:
            engine.remove_image(image.id)
        except EngineError as error:
            result.kept.append(f"image {names[0]}: {_reason(error)}")
        else:
            result.images.extend(names)


def _listed(lister: Callable[[str], Sequence[_T]], label: str, result: Cleared) -> Sequence[_T]:
    """``lister(label)``, or nothing (noted in ``result.kept``) when the engine refuses."""
    try:
        return lister(label)
    except EngineError as error:
        result.kept.append(f"{label}: {_reason(error)}")
        return ()


def _reason(error: EngineError) -> str:
    """The engine's reason, without the operation the message starts with."""
    text = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    return text.split(": ", 1)[-1][:200]


def clear_for_run(run: Run, *, everything: bool = False) -> Cleared:
    """Clear every cache of a run's configuration (the ``wheels-clean-cache`` session):
    its ``cache-dir``, and the engine's cache volumes and before-all images of that
    cache-dir (``everything``: every manywheels cache on the engine); list what was
    removed. Without an engine only the host directories are cleared (with a warning).

    Raises:
        CacheError: a host directory that cannot be removed.
    """
    try:
        engine: Engine | None = run.engine
    except EngineUnavailableError as error:
        run.ui.warn(f"{error}: clearing the host cache directories only")
        engine = None
    root = cache_root(run.config, run.host_env)
    result = clear(run.config, engine=engine, env=run.host_env, everything=everything)
    for line in result.removed():
        run.ui.info(f"removed {line}")
    scope = "every manywheels cache on the engine" if everything else f"caches in {root}"
    run.ui.info(f"{scope}: {result.summary()}")
    return result
