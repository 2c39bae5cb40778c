"""Wheels one identifier builds and others reuse: a pure wheel (platform ``any``) serves
every identifier; an abi3 wheel (``cp39-abi3``) serves the later CPythons of its platform.

cibuildwheel's rule (``find_compatible_wheel`` in its ``util/packaging.py``): a wheel with
an ``abi3`` tag ``cp3X`` stands in for an identifier of the same platform whose CPython is
3.X or later, never for a free-threaded one (``cp313t``: no stable ABI) nor for PyPy or
GraalPy. Here "the same platform" is the same image, arch and policy, and the same options
that shape the wheel (before-all, before-build, environment, frontend and its arguments,
config-settings, repair-command, audit): a :func:`reuse_key`.

Builds run in parallel (``jobs``), so the plan's order decides: in each reuse group the
lowest identifier (the plan lists an image's steps by version) is the *leader*, and the
others wait for its build (:meth:`WheelShare.wait`). When its wheel serves them they reuse it
(no build, no second repair: :class:`RepairGate`); when it does not (not abi3, or the build
failed) they build as usual. The repaired wheel is tested on every identifier's interpreter.
They wait only when the sdist's build configuration mentions the stable ABI
(:func:`may_build_abi3`), so other projects lose no parallelism.
"""

from __future__ import annotations

import tarfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_wheel_filename

from manywheels.plan._targets import BuildStep
from manywheels.stages._common import is_pure

__all__ = ["ABI3_MARKERS", "Built", "RepairGate", "Repaired", "WheelShare", "abi3_floor", "is_abi3",
           "is_pure", "may_build_abi3", "reuse_key", "serves"]

_WAIT_S = 0.5
"""How often a waiting identifier looks at the run's cancellation (seconds)."""


def is_abi3(wheel_name: str) -> bool:
    """True when a tag of the wheel has the ABI ``abi3`` (cibuildwheel's ``is_abi3_wheel``)."""
    _, _, _, tags = parse_wheel_filename(wheel_name)
    return any(tag.abi == "abi3" for tag in tags)


def abi3_floor(wheel_name: str) -> int | None:
    """The lowest CPython 3 minor an abi3 wheel is for (``cp39-abi3``: 9); ``None`` for a
    wheel without a ``cp3X-abi3`` tag."""
    _, _, _, tags = parse_wheel_filename(wheel_name)
    minors = [int(tag.interpreter[3:]) for tag in tags
              if tag.abi == "abi3" and tag.interpreter.startswith("cp3")
              and tag.interpreter[3:].isdigit()]
    return min(minors) if minors else None


ABI3_MARKERS = ("py_limited_api", "py-limited-api", "Py_LIMITED_API", "limited-api",
                "limited_api", "py-api", "abi3", "STABLE_ABI")
"""Words of the build configurations that make stable-ABI wheels: setuptools'
``py_limited_api``, scikit-build-core's ``wheel.py-api``, meson-python's ``limited-api``,
maturin/PyO3's ``abi3`` features, nanobind's ``STABLE_ABI``, the ``Py_LIMITED_API`` macro."""

_CONFIG_FILES = {"pyproject.toml", "setup.py", "setup.cfg", "Cargo.toml", "meson.build",
                 "meson.options", "meson_options.txt", "CMakeLists.txt"}
_CONFIG_MAX_BYTES = 1 << 20


def may_build_abi3(sdist: Path) -> bool:
    """Whether an sdist's build configuration (its ``pyproject.toml``, ``setup.py``,
    ``setup.cfg``, ``Cargo.toml``, meson and CMake files, at any depth) names one of
    :data:`ABI3_MARKERS`: only then do identifiers wait for their group's leader (a project
    that cannot make an abi3 wheel keeps every build parallel). An sdist that is not a
    readable tar archive: ``True`` (waiting is the safe side)."""
    try:
        with tarfile.open(sdist) as archive:
            for member in archive:
                name = member.name.rsplit("/", 1)[-1]
                if not member.isfile() or member.size > _CONFIG_MAX_BYTES or not (
                        name in _CONFIG_FILES or name.endswith(".cmake")):
                    continue
                stream = archive.extractfile(member)
                text = stream.read().decode("utf-8", "replace") if stream else ""
                if any(marker in text for marker in ABI3_MARKERS):
                    return True
    except (OSError, tarfile.TarError):
        return True
    return False


ReuseKey = tuple[object, ...]


def reuse_key(step: BuildStep) -> ReuseKey | None:
    """What an identifier must share with another to reuse its abi3 wheel: image, arch,
    policy and the options that shape the wheel; ``None`` for an identifier that never
    reuses one (not CPython, or free-threaded)."""
    if not step.identifier.startswith("cp") or step.python.free_threaded:
        return None
    o = step.options
    return (step.image, step.arch, step.plat, o.before_all, o.before_build, o.environment,
            o.frontend, o.frontend_args, o.config_settings, o.repair_command,
            o.audit_command, o.audit_requires)


def serves(wheel_name: str, source: BuildStep, target: BuildStep) -> bool:
    """Whether the wheel ``source`` built stands in for ``target``'s build: a pure wheel for
    any identifier; an abi3 wheel (``cp3X-abi3``) for one of the same :func:`reuse_key`
    whose CPython is 3.X or later."""
    if is_pure(wheel_name):
        return True
    floor = abi3_floor(wheel_name)
    key = reuse_key(target)
    return (floor is not None and key is not None and key == reuse_key(source)
            and target.python.major == 3 and target.python.minor >= floor)


@dataclass(frozen=True)
class Built:
    """A wheel one identifier built for others: identifier, wheel file name, sha256."""

    identifier: str
    wheel: str
    sha256: str

    @property
    def kind(self) -> str:
        """``pure Python`` or ``abi3``: how the wheel serves others (for messages)."""
        return "pure Python" if is_pure(self.wheel) else "abi3"


class WheelShare:
    """The build stage's shared wheels and the gate of each reuse group (``gate``: whether
    identifiers wait for their leader at all, :func:`may_build_abi3`; without it a wheel
    built first still serves the identifiers that start later).

    ``lock`` is held while a shareable wheel is copied out and claimed
    (:meth:`earlier`, :meth:`add`), so identifiers that built concurrently keep the first
    wheel and never overwrite it.
    """

    def __init__(self, steps: Sequence[BuildStep], *, gate: bool = True) -> None:
        self.lock = threading.RLock()
        self._steps = {step.identifier: step for step in steps}
        self._built: list[Built] = []
        self._leader: dict[str, str] = {}
        self._done: dict[str, threading.Event] = {}
        groups: dict[ReuseKey, list[BuildStep]] = {}
        for step in steps:
            key = reuse_key(step)
            if key is not None:
                groups.setdefault(key, []).append(step)
        for members in groups.values():
            if not gate or len(members) < 2:
                continue
            leader = min(members, key=lambda s: s.python)
            self._done[leader.identifier] = threading.Event()
            for member in members:
                if member is not leader:
                    self._leader[member.identifier] = leader.identifier

    def leader(self, identifier: str) -> str | None:
        """The identifier whose build ``identifier`` waits for (``None``: none)."""
        return self._leader.get(identifier)

    def order(self, steps: Sequence[BuildStep]) -> list[BuildStep]:
        """``steps`` with every waiting identifier after all others (each stays in plan
        order): leaders and identifiers of other groups start first, and no worker waits
        while a leader is still queued."""
        return ([s for s in steps if s.identifier not in self._leader]
                + [s for s in steps if s.identifier in self._leader])

    def wait(self, step: BuildStep, cancelled: threading.Event) -> Built | None:
        """Before ``step`` builds: wait for its leader's build (if any), then the wheel that
        serves it, if one was built (``None``: build it)."""
        leader = self._leader.get(step.identifier)
        if leader is not None:
            done = self._done[leader]
            while not done.wait(_WAIT_S) and not cancelled.is_set():
                pass
        return self.earlier(step)

    def earlier(self, step: BuildStep) -> Built | None:
        """A wheel built earlier in this run that serves ``step``."""
        with self.lock:
            return next((built for built in self._built
                         if serves(built.wheel, self._steps[built.identifier], step)), None)

    def add(self, built: Built) -> None:
        """Offer a freshly copied wheel to later identifiers (pure or abi3 only)."""
        if is_pure(built.wheel) or is_abi3(built.wheel):
            with self.lock:
                self._built.append(built)

    def finish(self, identifier: str) -> None:
        """``identifier``'s build ended (passed or not): release the identifiers waiting for
        it. Call it in a ``finally``."""
        event = self._done.get(identifier)
        if event is not None:
            event.set()


@dataclass(frozen=True)
class Repaired:
    """The repair of a shared wheel: the repaired wheel (``None``: it failed, ``reason``
    says why), its sha256 and the SBOMs inside it."""

    wheel: str | None
    sha256: str | None = None
    sboms: tuple[dict[str, object], ...] = ()
    reason: str = ""


class RepairGate:
    """The repair stage's hand-over from the identifier that repairs a shared abi3 wheel to
    the identifiers that reuse it (repaired and audited once)."""

    def __init__(self, sources: Sequence[str]) -> None:
        self._events = {source: threading.Event() for source in sources}
        self._results: dict[str, Repaired] = {}

    def __contains__(self, source: str) -> bool:
        return source in self._events

    def publish(self, source: str, result: Repaired) -> None:
        """``source``'s repair ended with ``result``."""
        self._results[source] = result
        self._events[source].set()

    def wait(self, source: str, cancelled: threading.Event) -> Repaired:
        """The result of ``source``'s repair, once it ended (a cancelled run: a failure)."""
        event = self._events[source]
        while not event.wait(_WAIT_S):
            if cancelled.is_set():
                return Repaired(None, reason="interrupted")
        return self._results[source]
