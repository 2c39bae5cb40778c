"""The containers of one run: one started container per image, its host caches, and
whether ``before-all`` ran in it.

:class:`~manywheels.stages._run.Run` owns one :class:`RunContainers` and delegates
``container()`` and ``ensure_before_all()`` to it; nothing else starts a build container.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from manywheels.config._create_args import parse_create_args
from manywheels.engine import Container, find_ca_bundle
from manywheels.stages import _before_all
from manywheels.stages import _cache as cache
from manywheels.stages._environment import container_environment, reproducible_environment

if TYPE_CHECKING:
    from manywheels.stages._run import Run

__all__ = ["RunContainers"]


class RunContainers:
    """The started containers of a run, keyed by image reference.

    Args:
        run: the run whose configuration, engine, lock and console they use.
    """

    def __init__(self, run: Run) -> None:
        self._run = run
        self._containers: dict[str, Container] = {}
        self._before_all_done: set[str] = set()
        self._caches: dict[str, cache.ContainerCaches] = {}

    def _existing(self, key: str) -> Container | None:
        """The run's started container of ``key`` (an image, or a ``test-image`` key),
        ``None`` when there is none yet; the caller holds the run's lock.

        Raises:
            RuntimeError: there is none and the run was interrupted (no new one starts).
        """
        existing = self._containers.get(key)
        if existing is None and self._run.cancelled.is_set():
            msg = "the run was interrupted: no new container is started"
            raise RuntimeError(msg)
        return existing

    def get(self, ref: str) -> Container:
        """The started container for an image (started on first use, from the cached
        before-all image when there is one).

        Raises:
            RuntimeError: the run was interrupted.
            ImageNotFoundError, EngineError: the image is absent or the engine fails.
        """
        run = self._run
        with run._lock:
            existing = self._existing(ref)
            if existing is not None:
                return existing
            info = run.image(ref)
            run._check_leftovers()
            # Host caches (pip, uv, ccache) mounted; a cached before-all image used as is.
            caches = cache.container_caches(run.config, info, run.engine, run.host_env)
            environment = container_environment(run.config, run.host_env)
            key = _before_all.before_all_key(run.config, info, environment, run.host_env)
            cached = cache.find_before_all_image(run.engine, key) if key else None
            container = run.engine.container(
                cached or ref,
                env={**environment, **caches.env,
                     **reproducible_environment(run.source_date_epoch())},
                ca_bundle=find_ca_bundle(run.host_env),
                run_id=run.run_id,
                labels={"io.manywheels.project": str(run.config.project_dir)},
                volumes=caches.volumes,
                arch=run.arch(ref, info),
                create=parse_create_args(run.config.container_create_args,
                                         run.config.sources.get("container-create-args",
                                                                "default")),
            )
            self._containers[ref] = container
            self._caches[ref] = self._caches[container.name] = caches
            container.start()
            cache.prepare(container, caches)
            if cached is not None:
                _before_all.reuse_image(run, ref, cached, key)
                self._before_all_done.add(ref)
                self._enable_ccache(ref, container)
            return container

    def clean(self, ref: str, arch: str | None) -> Container:
        """The started ``test-image`` container of an image for ``arch`` (one per image and
        arch per run): never from a cached before-all image, before-all never runs in it, no
        host caches; the container environment and CA bundle as in any container.

        Raises:
            RuntimeError: the run was interrupted.
            ImageNotFoundError, EngineError: the image is absent or the engine fails.
        """
        run = self._run
        key = f"test-image:{ref}:{arch or ''}"
        with run._lock:
            existing = self._existing(key)
            if existing is not None:
                return existing
            run.engine.image(ref, progress=run.ui.info, arch=arch)
            run._check_leftovers()
            environment = container_environment(run.config.with_(environment={}), run.host_env)
            container = run.engine.container(
                ref, env={**environment, **reproducible_environment(run.source_date_epoch())},
                ca_bundle=find_ca_bundle(run.host_env), run_id=run.run_id,
                labels={"io.manywheels.project": str(run.config.project_dir),
                        "io.manywheels.test-image": ref},
                arch=arch,
            )
            self._containers[key] = container
            container.start()
            return container

    def ensure_before_all(self, ref: str) -> None:
        """Run ``before-all`` once in the image's container (no-op when unset; in a dry run
        its script is printed).

        Raises:
            BeforeAllError: before-all failed (exit code and last lines of output).
        """
        run = self._run
        script = run.config.before_all.strip()
        with run._lock:
            if ref in self._before_all_done:
                return
            if run.config.dry_run:
                if script:
                    text = _before_all.render_before_all(script, run.config.environment)
                    run.show_script("before-all", text)
                self._before_all_done.add(ref)
                return
            container = self.get(ref)
            if ref in self._before_all_done:  # started from the cached before-all image
                return
            if script:
                _before_all.run_before_all(run, ref, container, script)
            self._enable_ccache(ref, container)
            self._before_all_done.add(ref)

    def take_all(self) -> list[Container]:
        """Forget every container (the caller removes them); before-all state is reset."""
        with self._run._lock:
            containers, self._containers = list(self._containers.values()), {}
            self._before_all_done.clear()
        return containers

    def release_caches(self, container: Container) -> None:
        """Remove the container's scratch ``TMPDIR`` from the cache mount (not after an
        interrupt: a later run prunes it)."""
        caches = self._caches.pop(container.name, None)
        if caches is None or self._run.cancelled.is_set():
            return
        with contextlib.suppress(Exception):
            cache.release(container, caches)

    def _enable_ccache(self, ref: str, container: Container) -> None:
        run = self._run
        caches = self._caches.get(ref)
        if caches is None or not caches.ccache:
            return
        enabled, detail = cache.enable_ccache(container)
        if enabled:
            where = cache.cache_root(run.config, run.host_env)
            run.ui.info(f"ccache: {detail}, cache in {where}")
        else:
            run.ui.warn(f"ccache: {detail}; compiling without it")
