"""The wheel cache: raw and repaired wheels, content-addressed, so nothing is built twice.

A wheel the build or repair stage made is kept under ``cache-dir`` (on the host, also for
remote engines: the wheels are copied out of the container anyway)::

    <cache-dir>/wheels/<key[:2]>/<key>/<wheel file>
    <cache-dir>/wheels/<key[:2]>/<key>/entry.json     {"kind", "identifier", "wheel", "sha256"}

The key is a SHA-256 over everything that decides the wheel:

- **build** (:func:`build_key`): the sdist's contents (:func:`sdist_digest`: every
  member's name, type, executable bit and bytes; the archive's own timestamps, which
  change with every sdist build, are left out), the identifier, the image and its
  digest (the id for a local image), the identifier's build options (``before-all``,
  ``before-build``, ``environment``, the frontend and its arguments and
  ``config-settings``: :class:`~manywheels.plan.StepOptions`), the rendered build
  script, the container environment (``environment-pass`` values, index and CA
  pass-through, the run's ``SOURCE_DATE_EPOCH``: the wheels' timestamps, outside git
  the newest project file's time) and the manywheels version;
- **repair** (:func:`repair_key`): the raw wheel's sha256, the identifier, the image
  digest, the policy, the repair options (``repair-command``, ``environment``, the
  ``audit-command`` and ``audit-requires`` the wheel passed), the
  rendered repair script, the container environment, and the sdist's sha256 when the
  repair-command names ``{project}``.

A hit is copied to dist-dir / output-dir and recorded with ``"cached": true``; the test
stage always runs. When the build stage starts, the least recently used entries beyond
``wheel-cache-max-mib`` are removed (:func:`prune`). ``cache = false`` (and a dry run,
and ``engine = "none"``) turns the cache off; the ``clean-cache`` stage removes
``<cache-dir>/wheels``. An entry is written under a temporary name and renamed, and
checked against its recorded sha256 before use, so concurrent runs may share the cache.
A cache that cannot be written costs one warning, never the build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tarfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from manywheels import __version__
from manywheels._fsutil import atomic_copy, atomic_write_text, sha256_file
from manywheels.stages._cache import cache_root
from manywheels.stages._environment import container_environment, reproducible_environment

if TYPE_CHECKING:
    from manywheels.plan._step_options import StepOptions
    from manywheels.stages._run import Run

__all__ = [
    "BUILD_FIELDS",
    "KEY_VERSION",
    "REPAIR_FIELDS",
    "STALE_STAGING_S",
    "WHEELS_DIR",
    "Hit",
    "Pruned",
    "WheelCache",
    "prune",
    "prune_for_run",
    "sdist_digest",
]

WHEELS_DIR = "wheels"
"""The wheel cache's directory under ``cache-dir``."""
KEY_VERSION = "1"
"""Bumped when what goes into a key changes."""
BUILD_FIELDS = ("before_all", "before_build", "environment", "frontend", "frontend_args",
                "config_settings")
"""The :class:`StepOptions` fields that decide a raw wheel (besides its build script)."""
REPAIR_FIELDS = ("repair_command", "environment", "audit_command", "audit_requires")
"""The :class:`StepOptions` fields that decide a repaired wheel (besides its script)."""
_ENTRY = "entry.json"


def sdist_digest(path: Path) -> str:
    """A SHA-256 over an sdist's contents: each member's name, type, executable bit, link
    target and bytes, in name order; not the archive's timestamps, owners or compression,
    which differ between two builds of the same tree. A file that is not a readable tar
    archive is hashed whole.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with tarfile.open(path) as archive:
            for member in sorted(archive.getmembers(), key=lambda m: m.name):
                header = [member.name, member.type.decode(), member.mode & 0o111,
                          member.linkname]
                digest.update(json.dumps(header).encode() + b"\n")
                stream = archive.extractfile(member) if member.isfile() else None
                if stream is not None:
                    for chunk in iter(lambda s=stream: s.read(1 << 20), b""):  # type: ignore[misc]
                        digest.update(chunk)
    except tarfile.TarError:
        return sha256_file(path)
    return digest.hexdigest()


def _options(options: StepOptions, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(options, name) for name in names}


@dataclass(frozen=True)
class Hit:
    """A wheel restored from the cache.

    Attributes:
        wheel: its file name.
        sha256: its sha256 (hex).
        path: where it was copied (in dist-dir or output-dir).
    """

    wheel: str
    sha256: str
    path: Path


class WheelCache:
    """The wheel cache of one run (``None`` from :meth:`for_run` when turned off).

    Args:
        root: the cache's directory (``<cache-dir>/wheels``).
        environment: the container environment every key includes.
        run: the run (its console gets the one warning of a cache that cannot be written).
    """

    def __init__(self, root: Path, environment: Mapping[str, str], run: Run) -> None:
        self.root = root
        self.environment = dict(sorted(environment.items()))
        self._run = run
        self._warned = False

    @classmethod
    def for_run(cls, run: Run) -> WheelCache | None:
        """The run's wheel cache; ``None`` with ``cache = false``, in a dry run, and with
        ``engine = "none"`` (the build environment is this machine, which no key names)."""
        config = run.config
        if not config.cache or config.dry_run or config.engine == "none":
            return None
        environment = {**container_environment(config, run.host_env),
                       **reproducible_environment(run.source_date_epoch())}
        return cls(cache_root(config, run.host_env) / WHEELS_DIR, environment, run)

    # ------------------------------------------------------------------ keys

    def _key(self, payload: Mapping[str, Any]) -> str:
        data = {"version": KEY_VERSION, "manywheels": __version__,
                "environment": self.environment, **payload}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def build_key(self, *, identifier: str, sdist: str, image: str, digest: str | None,
                  options: StepOptions, script: str) -> str:
        """The key of a raw wheel (``sdist``: :func:`sdist_digest` of the sdist)."""
        return self._key({"kind": "build", "identifier": identifier, "sdist": sdist,
                          "image": image, "digest": digest,
                          "options": _options(options, BUILD_FIELDS), "script": script})

    def repair_key(self, *, identifier: str, raw_sha256: str, digest: str | None, plat: str,
                   options: StepOptions, script: str, sdist_sha256: str | None) -> str:
        """The key of a repaired wheel (``sdist_sha256``: only when the repair-command
        reads the project tree, else ``None``)."""
        return self._key({"kind": "repair", "identifier": identifier, "raw": raw_sha256,
                          "digest": digest, "plat": plat, "sdist": sdist_sha256,
                          "options": _options(options, REPAIR_FIELDS), "script": script})

    # ------------------------------------------------------------------ entries

    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / key

    def restore(self, key: str, directory: Path) -> Hit | None:
        """Copy the cached wheel of ``key`` into ``directory`` (atomically); ``None`` when
        there is none, or the entry is incomplete or does not match its sha256."""
        entry = self._entry(key)
        try:
            meta = json.loads((entry / _ENTRY).read_text(encoding="utf-8"))
            wheel, sha256 = str(meta["wheel"]), str(meta["sha256"])
            source = entry / wheel
            if "/" in wheel or sha256_file(source) != sha256:
                return None
            directory.mkdir(parents=True, exist_ok=True)
            atomic_copy(source, directory / wheel)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if sha256_file(directory / wheel) != sha256:
            return None
        with contextlib.suppress(OSError):  # last use, for prune()
            os.utime(entry / _ENTRY)
        return Hit(wheel, sha256, directory / wheel)

    def store(self, key: str, wheel: Path, *, kind: str, identifier: str) -> None:
        """Keep ``wheel`` as the entry of ``key`` (an entry already there is kept). A
        failure to write is one warning for the run, never an error."""
        entry = self._entry(key)
        if (entry / _ENTRY).is_file():
            return
        staging = self.root / f".tmp-{uuid.uuid4().hex}"
        try:
            staging.mkdir(parents=True)
            shutil.copyfile(wheel, staging / wheel.name)
            meta = {"kind": kind, "identifier": identifier, "wheel": wheel.name,
                    "sha256": sha256_file(staging / wheel.name)}
            atomic_write_text(staging / _ENTRY, json.dumps(meta, indent=2) + "\n")
            entry.parent.mkdir(parents=True, exist_ok=True)
            try:
                staging.rename(entry)
            except OSError:
                if not (entry / _ENTRY).is_file():  # not just a concurrent run's entry
                    raise
        except OSError as error:
            if not self._warned:
                self._warned = True
                self._run.ui.warn(f"wheel cache: cannot write {self.root}: "
                                  f"{error.strerror or error}; wheels are not cached")
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(staging)


@dataclass(frozen=True)
class Pruned:
    """What :meth:`WheelCache.prune` removed: ``entries`` entries of ``size`` bytes."""

    entries: int
    size: int


def prune(root: Path, max_bytes: int) -> Pruned:
    """Remove the least recently used entries of the wheel cache at ``root`` (an entry's
    ``entry.json`` time: when it was stored or last restored) until the cache holds at
    most ``max_bytes`` bytes. An entry goes by one rename (a concurrent run restoring it
    finds it complete or not at all, and builds again). Unreadable entries are left.
    Staging directories (``.tmp-*``) older than :data:`STALE_STAGING_S` seconds, which a
    run killed while storing or pruning left behind, are removed too (younger ones may
    be a concurrent run's).

    Args:
        root: the cache's directory (``<cache-dir>/wheels``).
        max_bytes: the size limit in bytes.
    """
    _sweep_staging(root)
    entries: list[tuple[float, int, Path]] = []
    for meta in root.glob(f"*/*/{_ENTRY}"):
        try:
            used = meta.stat().st_mtime
            size = sum(f.stat().st_size for f in meta.parent.iterdir())
        except OSError:
            continue
        entries.append((used, size, meta.parent))
    total = sum(size for _, size, _ in entries)
    count = removed = 0
    for _, size, entry in sorted(entries):
        if total <= max_bytes:
            break
        doomed = root / f".tmp-{uuid.uuid4().hex}"
        try:
            entry.rename(doomed)
        except OSError:
            continue
        shutil.rmtree(doomed, ignore_errors=True)
        total -= size
        removed += size
        count += 1
    return Pruned(count, removed)


STALE_STAGING_S = 24 * 3600.0
"""Age in seconds after which a wheel-cache staging directory is a dead run's."""


def _sweep_staging(root: Path) -> None:
    now = time.time()
    for staging in root.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            if now - staging.stat().st_mtime > STALE_STAGING_S:
                shutil.rmtree(staging)


def prune_for_run(run: Run) -> None:
    """The build stage's start: :func:`prune` the run's wheel cache to
    ``wheel-cache-max-mib`` (nothing with the cache off), saying what went."""
    cache = WheelCache.for_run(run)
    if cache is None or not cache.root.is_dir():
        return
    limit = run.config.wheel_cache_max_mib
    pruned = prune(cache.root, limit * 1024 * 1024)
    if pruned.entries:
        run.ui.info(f"wheel cache: removed {pruned.entries} least recently used wheel(s) "
                    f"({pruned.size / 1024 / 1024:.0f} MiB) to keep it within "
                    f"wheel-cache-max-mib = {limit}")


def note_hit(run: Run, identifier: str, stage: str, hit: Hit, script: str) -> str:
    """Write the stage's log (one line: the wheel came from the cache, nothing ran) and
    its script beside it; return the log's path relative to output-dir."""
    log_dir = run.log_dir(identifier)
    run.save_script(log_dir / f"{stage}.sh", script)
    atomic_write_text(log_dir / f"{stage}.log",
                      f"manywheels: {hit.wheel} restored from the wheel cache "
                      f"(sha256 {hit.sha256}): the {stage} script did not run\n")
    return f"logs/{identifier}/{stage}.log"
