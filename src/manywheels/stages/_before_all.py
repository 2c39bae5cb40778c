"""``before-all``: the script run once per container before any build, its log, and the
committed image that lets later runs skip it (:mod:`manywheels.stages._cache`).

:class:`~manywheels.stages._run.Run` keeps which containers ran it
(:meth:`~manywheels.stages._run.Run.ensure_before_all`); the steps are here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from manywheels._commands import stage_command
from manywheels.errors import BeforeAllError, CommandError
from manywheels.stages import _cache as cache
from manywheels.stages._environment import container_environment, masked_sink, secret_masker
from manywheels.stages._render import render
from manywheels.stages._script_env import export_lines

if TYPE_CHECKING:
    from manywheels.config import Config
    from manywheels.engine import Container, ImageInfo
    from manywheels.stages._run import Run

__all__ = ["LOG", "before_all_key", "log_name", "render_before_all", "reuse_image",
           "run_before_all"]

LOG = "logs/before-all/before-all.log"
"""The before-all log, relative to output-dir (the script is kept beside it); in a run of
several platform images, each has its own: ``logs/before-all-<platform>/before-all.log``."""


def log_name(run: Run, ref: str) -> str:
    """The log directory name of ``ref``'s before-all: ``before-all``, or
    ``before-all-manylinux_aarch64`` in a run of several platform images."""
    if len(run.images()) == 1:
        return "before-all"
    found = next((p.name for p in run.platforms or () if p.image == ref), None)
    return f"before-all-{found}" if found else "before-all"


def render_before_all(script: str, environment: Mapping[str, str] | None = None) -> str:
    """The shell script that runs ``script`` (the ``before-all`` value) in a container,
    after the markers and ``environment`` (evaluated in order, :mod:`._script_env`)."""
    lines = export_lines(None, (environment or {}).items())
    return render("before_all.sh.j2", before_all=script, environment=lines)


def before_all_key(config: Config, info: ImageInfo, environment: Mapping[str, str],
                   host_env: Mapping[str, str] | None = None) -> str | None:
    """The before-all image key (:func:`manywheels.stages._cache.before_all_key`, for this
    configuration's cache-dir; ``host_env`` locates the default one); ``None`` without
    before-all, with ``cache = false``, in a dry run or with ``engine = "none"`` (no image
    to commit)."""
    script = config.before_all.strip()
    if not script or not config.cache or config.dry_run or config.engine == "none":
        return None
    owner = cache.cache_owner(config, host_env)
    return cache.before_all_key(info, render_before_all(script, config.environment),
                                environment, owner)


def reuse_image(run: Run, ref: str, image: str, key: str | None) -> None:
    """Record that the container of ``ref`` started from the committed before-all
    ``image``, so before-all does not run again."""
    run.ui.info(f"before-all: reusing the image {image} (before-all does not run "
                f"again; clear it with `{stage_command('clean-cache')}`)")
    run.report.set_section("before_all", ref, status="cached", image=image, key=key)


def run_before_all(run: Run, ref: str, container: Container, script: str) -> None:
    """Run before-all in a fresh container (script and log under ``logs/before-all``);
    commit the result as an image when caching (a failed commit is only a warning). The run
    record's ``before_all`` section says ``ran`` or ``failed`` for ``ref``, with the log.

    Raises:
        BeforeAllError: the script exited non-zero (exit code and last lines of output).
    """
    text = render_before_all(script, run.config.environment)
    name = log_name(run, ref)
    log = run.log_dir(name) / "before-all.log"
    run.save_script(run.log_dir(name) / "before-all.sh", text)
    run.ui.info(f"running before-all in {ref}")
    started = time.monotonic()
    mask = secret_masker(run.config, run.host_env)
    with run.ui.target_output(name, log) as sink:
        try:
            container.run(text, sink=masked_sink(sink, mask))
        except CommandError as error:
            error.tail = [mask(line) for line in error.tail]
            run.ui.error(f"before-all failed with exit code {error.returncode}; log: {log}")
            run.report.set_section("before_all", ref, status="failed",
                                   duration_s=round(time.monotonic() - started, 3),
                                   log=f"logs/{name}/before-all.log")
            for line in error.tail[-10:]:
                run.ui.error(f"  {line}")
            raise BeforeAllError(error.command, error.returncode, error.tail) from None
    took = time.monotonic() - started
    run.ui.info(f"before-all done in {took:.1f} s")
    environment = container_environment(run.config, run.host_env)
    key = before_all_key(run.config, run.image(ref), environment, run.host_env)
    image = None
    if key is not None:
        owner = {cache.CACHE_OWNER_LABEL: cache.cache_owner(run.config, run.host_env),
                 cache.PROJECT_LABEL: str(run.config.project_dir)}
        try:
            image = cache.commit_before_all(run.engine, container, run.image(ref), key,
                                            environment, owner=owner)
        except cache.CacheError as error:
            run.ui.warn(f"before-all: {error}; the next run runs it again")
        else:
            run.ui.info(f"before-all: kept as the image {image} for later runs")
    run.report.set_section("before_all", ref, status="ran", duration_s=round(took, 3),
                           image=image, key=key, log=f"logs/{name}/before-all.log")
