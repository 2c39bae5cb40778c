"""One run: configuration, engine connection, containers, logs and the run report.

A :class:`Run` is what the stages share. It connects to the engine lazily, starts
one container per image on first use and keeps it for every later stage of the
run (container reuse), runs ``before-all`` once per container, and removes all
of its containers on :meth:`close` (also on error and on KeyboardInterrupt when
used as a context manager).

With several platforms (``archs``, per-arch image keys) each platform group has its own
image and container. Every container is created for its arch's platform and checked, on
start, to run that arch (QEMU for foreign arches: EmulationUnavailableError before any
build), and its commands run with the personality the image's entrypoint gives
(``linux32`` in i686 and armv7l images: :mod:`manywheels.engine._personality`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from manywheels import _signals as signals
from manywheels._fsutil import atomic_write_text
from manywheels._lock import DirectoryLock
from manywheels._ui import UI
from manywheels.config import Config
from manywheels.config._platforms import select_platforms
from manywheels.engine import (
    Container,
    Engine,
    ImageInfo,
    connect,
    connect_local,
    new_run_id,
)
from manywheels.errors import ForeignRecordError, PolicyError
from manywheels.naming._platforms import Platform
from manywheels.naming._policy import parse_policy
from manywheels.naming._tags import PythonTag, is_prerelease
from manywheels.plan._record import RunReport
from manywheels.plan._targets import BuildPlan, ImageFacts, parse_image_pythons, plan_build
from manywheels.stages._containers import RunContainers
from manywheels.stages._environment import (
    container_environment,
    host_build_environment,
    is_secret_name,
)
from manywheels.stages._interpreters import list_interpreters
from manywheels.stages._leftovers import check_leftovers

__all__ = ["CONTAINER_ROOT", "Run", "container_environment", "host_build_environment",
           "is_secret_name"]

CONTAINER_ROOT = "/manywheels"
"""Scratch root inside containers: sdist, sources, outputs, scripts, venvs."""


class Run:
    """The state one invocation of manywheels shares between stages.

    Args:
        config: resolved configuration.
        ui: console output; default a new :class:`UI`.
        engine: an engine connection (any :class:`~manywheels.engine.Engine`), left open
            by :meth:`close`; default: connect on first use (:func:`manywheels.engine.connect`)
            and close that connection in :meth:`close`.
        host_env: the host environment (for pass-through); default ``os.environ``.
    """

    def __init__(
        self,
        config: Config,
        ui: UI | None = None,
        *,
        engine: Engine | None = None,
        host_env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.ui = ui or UI.for_run(verbosity=config.build_verbosity,
                                   prefix=config.effective_jobs > 1)
        self.run_id = new_run_id()
        self.host_env = dict(os.environ if host_env is None else host_env)
        self._engine = engine
        self._owns_engine = engine is None
        self._images: dict[str, ImageInfo] = {}
        self._pythons: dict[str, list[PythonTag]] = {}
        self.containers = RunContainers(self)
        """This run's started containers (one per image)."""
        self._lock = threading.RLock()
        self._report: RunReport | None = None
        self._dir_locks: list[DirectoryLock] = []
        self._leftovers_checked = False
        self._platforms: list[Platform] | None = select_platforms(config)
        self._epoch: tuple[int | None] | None = None
        self.cancelled = threading.Event()
        """Set by :meth:`cancel` (an interrupt): no container is started after it."""
        for note in config.notes:  # e.g. which [tool.cibuildwheel] keys were used
            self.ui.info(note)

    # ------------------------------------------------------------------ context

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove every container of this run, release its directory locks and close the
        engine connection it opened (a later use connects again).

        A second Ctrl-C or SIGTERM during the removal is postponed until it is done.
        """
        with signals.deferred():
            containers = self.containers.take_all()
            with self._lock:
                locks, self._dir_locks = self._dir_locks, []
            try:
                for container in containers:
                    self.containers.release_caches(container)
                    container.remove()
            finally:
                for lock in locks:
                    lock.release()
                self._close_engine()

    def _close_engine(self) -> None:
        """Close the engine connection when this run opened it (not one it was given)."""
        with self._lock:
            engine = self._engine if self._owns_engine else None
            if engine is None:
                return
            self._engine = None
        with contextlib.suppress(Exception):
            engine.close()

    def cancel(self) -> None:
        """End the run now (an interrupt): no new container starts, every container is
        removed, so commands streaming in other threads end at once."""
        self.cancelled.set()
        self.close()

    def lock_outputs(self) -> None:
        """Lock ``dist-dir`` and ``output-dir`` for this run (held until :meth:`close`).

        Stages call this after checking their input and before writing anything.

        Raises:
            LockedError: another process is running in one of them.
        """
        with self._lock:
            if self._dir_locks:
                return
            taken: list[DirectoryLock] = []
            try:
                seen: set[Path] = set()
                for role, directory in (("dist-dir", self.config.dist_dir),
                                        ("output-dir", self.config.output_dir)):
                    if directory.resolve() in seen:
                        continue
                    seen.add(directory.resolve())
                    lock = DirectoryLock(directory, role)
                    lock.acquire()
                    taken.append(lock)
            except BaseException:
                for lock in taken:
                    lock.release()
                raise
            self._dir_locks = taken

    # ------------------------------------------------------------------ resources

    @property
    def engine(self) -> Engine:
        """The engine connection (connects on first use).

        Raises:
            EngineUnavailableError: no engine answers.
        """
        with self._lock:
            if self._engine is None:
                self._engine = (connect_local(self.host_env) if self.config.engine == "none"
                                else connect(self.host_env))
            return self._engine

    @property
    def report(self) -> RunReport:
        """The run report of the output directory."""
        with self._lock:
            if self._report is None:
                self._report = RunReport(self.config.output_dir)
            return self._report

    @property
    def platforms(self) -> list[Platform] | None:
        """The platforms of a multi-platform run (``config._platforms.select_platforms``);
        ``None`` for a single-image run."""
        return self._platforms

    def images(self) -> list[str]:
        """The image of every platform, in order (the one ``image`` of a single-image run)."""
        if self._platforms is None:
            return [self.config.image]
        return list(dict.fromkeys(p.image for p in self._platforms))

    def arch(self, ref: str, info: ImageInfo | None = None) -> str | None:
        """The arch a container of ``ref`` runs: its platform's, else that of ``plat`` or the
        image's ``AUDITWHEEL_PLAT`` (``None`` when neither is a policy)."""
        found = next((p.arch for p in self._platforms or () if p.image == ref), None)
        plat = self.config.plat if self._platforms is None else None
        plat = plat or (info.plat if info is not None else None)
        if found is not None or plat is None:
            return found
        try:
            return parse_policy(plat).arch
        except PolicyError:
            return None

    def image(self, ref: str | None = None) -> ImageInfo:
        """Image facts (pulled if absent, for its platform's arch). Raises
        ImageNotFoundError."""
        ref = ref or self.config.image
        with self._lock:
            if ref not in self._images:
                self._images[ref] = self.engine.image(ref, progress=self.ui.info,
                                                      arch=self.arch(ref))
            return self._images[ref]

    def container(self, ref: str | None = None) -> Container:
        """The started container for an image (one per image per run,
        :meth:`~manywheels.stages._containers.RunContainers.get`)."""
        return self.containers.get(ref or self.config.image)

    def pythons(self, ref: str | None = None) -> list[PythonTag]:
        """The interpreters under ``/opt/python`` in the image, and, when the run may build
        PyPy or GraalPy, those its ``manylinux-interpreters`` can install
        (:mod:`._interpreters`)."""
        ref = ref or self.config.image
        with self._lock:
            if ref not in self._pythons:
                listing = self.container(ref).output(["ls", "-1", "/opt/python"], check=False)
                offered = (list_interpreters(self.container(ref)) or []) \
                    if self._wants_other_pythons() else []  # PyPy, GraalPy on demand
                self._pythons[ref] = sorted({*parse_image_pythons(listing),
                                             *(i.tag for i in offered)})
            return self._pythons[ref]

    def _wants_other_pythons(self) -> bool:
        """Whether the run may build PyPy or GraalPy (``enable`` or ``python`` names them):
        only then is ``manylinux-interpreters`` asked what it can install."""
        config = self.config
        return bool({"pypy", "graalpy"} & set(config.enable)) or any(
            tag.impl != "cp" for tag in config.python or ())

    def image_facts(self, ref: str | None = None) -> ImageFacts:
        """What the plan needs of an image: digest, ``AUDITWHEEL_PLAT``, interpreters.

        Raises:
            EngineUnavailableError, ImageNotFoundError: no engine, or no image.
        """
        ref = ref or self.config.image
        info = self.image(ref)
        pythons = tuple(self.pythons(ref))
        pre = tuple(tag for tag in pythons if is_prerelease(tag))
        return ImageFacts(ref, info.digest, info.plat, pythons, pre)

    def plan(self, requires_python: str | None) -> BuildPlan:
        """The build plan of this run's configuration (:func:`~manywheels.plan.plan_build`),
        from the facts of every image (each container started and its arch checked).

        Raises:
            PythonTagMissingError: a requested tag is absent from an image.
            PolicyError, ConfigError: no valid policy, or no tag remains.
            EmulationUnavailableError: the host cannot run a platform's arch.
        """
        facts = {image: self.image_facts(image) for image in self.images()}
        plan = plan_build(self.config, facts, requires_python)
        for note in plan.notes:  # tags requires-python skipped
            self.ui.info(note)
        return plan

    def check_record(self) -> None:
        """One project per output-dir: refuse a run record of another project there, or
        start a new record with ``replace-record``.

        Raises:
            ForeignRecordError: the record belongs to another project directory.
        """
        owner = self.report.project.project_dir
        mine = str(self.config.project_dir)
        if owner is None or owner == mine:
            return
        if not self.config.replace_record:
            msg = (
                f"output-dir {self.config.output_dir} holds the run record of another project "
                f"({owner}); give this project its own output-dir, or pass --replace-record "
                "(MANYWHEELS_REPLACE_RECORD=1) to start a new record"
            )
            raise ForeignRecordError(msg)
        self.ui.warn(f"replacing the run record of {owner} in {self.config.output_dir}")
        with self._lock:
            self._report = RunReport(self.config.output_dir, load=False)

    def source_date_epoch(self) -> int | None:
        """The run's ``SOURCE_DATE_EPOCH`` (:func:`~manywheels.stages._epoch.run_epoch`),
        found once. Raises ConfigError for a host value that is not a whole number."""
        from manywheels.stages._epoch import run_epoch  # noqa: PLC0415 - git only when used

        found = self._epoch  # once found, no lock: the sdist build beside before-all
        if found is not None:
            return found[0]
        with self._lock:
            if self._epoch is None:
                self._epoch = (run_epoch(self.config, self.host_env),)
            return self._epoch[0]

    def ensure_before_all(self, ref: str | None = None) -> None:
        """Run ``before-all`` once in the image's container (no-op when unset).

        Raises:
            BeforeAllError: before-all failed (exit code and last lines of output).
        """
        self.containers.ensure_before_all(ref or self.config.image)

    # ------------------------------------------------------------------ files

    def log_dir(self, identifier: str) -> Path:
        """``<output-dir>/logs/<identifier>/``."""
        path = self.config.output_dir / "logs" / identifier
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save_script(self, path: Path, text: str) -> None:
        """Keep the script that ran beside its log (written atomically)."""
        atomic_write_text(path, text)

    def _check_leftovers(self) -> None:
        """Once per run, before its first container: report (and with ``remove-leftovers``
        remove) the containers crashed earlier runs left behind
        (:func:`~manywheels.stages._leftovers.check_leftovers`)."""
        if self._leftovers_checked:
            return
        self._leftovers_checked = True
        check_leftovers(self.engine, self.ui, run_id=self.run_id,
                        remove=self.config.remove_leftovers)

    def show_script(self, label: str, text: str) -> None:
        """``dry-run``: print a script that would run, on stdout, under a header line
        ``# ---- manywheels dry run: <label> ----``."""
        with self._lock:
            sys.stdout.write(f"# ---- manywheels dry run: {label} ----\n{text}")
            if not text.endswith("\n"):
                sys.stdout.write("\n")
            sys.stdout.flush()
