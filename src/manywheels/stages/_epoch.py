"""``SOURCE_DATE_EPOCH`` of a run (reproducible builds, https://reproducible-builds.org).

Where it comes from, first match wins:

1. the host's ``SOURCE_DATE_EPOCH`` (a whole number of seconds since 1970, UTC);
2. with ``reproducible = true`` (the default): the committer time of the last git commit
   that touched the project directory (``git log -1 --format=%ct -- .``);
3. else the newest modification time of the files the sdist is built from (the project
   tree without dist-dir, output-dir and the paths never copied,
   :data:`~manywheels.config._project.EXCLUDED_PATHS`) — for an unpacked sdist the
   newest file time in that sdist.

The value is used for the host sdist build, passed to every container, written to the run
record (``project.source_date_epoch``, so ``wheels-verify`` rebuilds with the same value)
and gives the timestamps of the canonical rewrite (:mod:`._canonical`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from manywheels.config import Config
from manywheels.config._project import is_excluded
from manywheels.errors import ConfigError

__all__ = ["git_commit_time", "host_epoch", "newest_mtime", "run_epoch"]

_GIT_TIMEOUT_S = 30.0


def host_epoch(host_env: Mapping[str, str]) -> int | None:
    """The host's ``SOURCE_DATE_EPOCH`` as an integer (``None`` when unset or empty).

    Raises:
        ConfigError: set to something other than a whole number of seconds >= 0.
    """
    value = host_env.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    if not value.isdigit():
        msg = (f"environment: SOURCE_DATE_EPOCH={value!r}: expected a whole number of seconds "
               "since 1970-01-01 UTC (e.g. $(git log -1 --format=%ct))")
        raise ConfigError(msg)
    return int(value)


def git_commit_time(project_dir: Path, host_env: Mapping[str, str]) -> int | None:
    """The committer time of the last commit touching ``project_dir`` (``None``: not in a
    git work tree, no commit, or no ``git``)."""
    env = {k: v for k, v in host_env.items() if not k.startswith("GIT_")}
    try:
        done = subprocess.run(
            ["git", "log", "-1", "--format=%ct", "--", "."], cwd=project_dir, env=env,
            capture_output=True, text=True, timeout=_GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return int(value) if done.returncode == 0 and value.isdigit() else None


def newest_mtime(project_dir: Path, skip: frozenset[Path] = frozenset()) -> int | None:
    """The newest modification time (whole seconds) of the regular files under
    ``project_dir``, without excluded paths and the directories in ``skip`` (resolved);
    ``None`` when there is no file."""
    newest: int | None = None
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = [d for d in dirs if not is_excluded(d)
                   and (Path(root) / d).resolve() not in skip]
        for name in files:
            if is_excluded(name):
                continue
            try:
                info = os.lstat(Path(root) / name)
            except OSError:
                continue
            mtime = int(info.st_mtime)
            newest = mtime if newest is None else max(newest, mtime)
    return newest


def run_epoch(config: Config, host_env: Mapping[str, str]) -> int | None:
    """The run's ``SOURCE_DATE_EPOCH`` (see the module docstring); ``None`` with
    ``reproducible = false`` and no host value.

    Raises:
        ConfigError: the host's ``SOURCE_DATE_EPOCH`` is not a whole number.
    """
    found = host_epoch(host_env)
    if found is not None or not config.reproducible:
        return found
    project = config.project_dir
    found = git_commit_time(project, host_env)
    if found is None:
        skip = frozenset({config.dist_dir.resolve(), config.output_dir.resolve()})
        found = newest_mtime(project, skip)
    return found
