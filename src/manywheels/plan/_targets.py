"""The build plan: one typed step per identifier, grouped into containers.

:func:`plan_build` turns a configuration and the facts of its images into a
:class:`BuildPlan`: an ordered list of :class:`BuildStep` (identifier, Python tag,
interpreter path, image and its digest, arch, policy, and that identifier's options).
Steps are grouped into containers by (image, arch, before-all, environment): one container
serves every step of a group. A configuration with ``archs`` (or per-arch image keys) plans
several platforms (family x arch), each with its own image, arch and policy.
Stages turn the plan into jobs; nothing else decides what is built where.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from manywheels.config import Config
from manywheels.config._platforms import select_platforms
from manywheels.errors import ConfigError, PythonTagMissingError
from manywheels.naming._platforms import STATIC_PYTHONS, Platform
from manywheels.naming._policy import Policy, parse_policy
from manywheels.naming._select import is_selected
from manywheels.naming._tags import PythonTag, identifier, parse_install_dir
from manywheels.plan._step_options import StepOptions, step_options

__all__ = [
    "PYTHON_ROOT",
    "BuildPlan",
    "BuildStep",
    "ContainerGroup",
    "ImageFacts",
    "StepOptions",
    "Target",
    "interpreter_path",
    "parse_image_pythons",
    "plan_build",
    "select_targets",
    "static_facts",
    "step_options",
]

PYTHON_ROOT = "/opt/python"
"""Where manylinux and musllinux images keep their interpreters."""


@dataclass(frozen=True)
class BuildStep:
    """One build: identifier, interpreter, image and policy.

    Attributes:
        identifier: cibuildwheel's name, ``cp312-manylinux_x86_64``.
        python: the Python tag.
        interpreter: the interpreter path in the image (``/opt/python/cp312-cp312/bin/python``).
        image: the image reference.
        plat: the auditwheel policy to repair for (``manylinux_2_28_x86_64``).
        digest: the image's digest (or id), once known.
        options: this identifier's options.
    """

    identifier: str
    python: PythonTag
    interpreter: str
    image: str
    plat: str
    digest: str | None = None
    options: StepOptions = field(default_factory=StepOptions)

    @property
    def policy(self) -> Policy:
        """The parsed policy (:func:`~manywheels.naming.parse_policy`)."""
        return parse_policy(self.plat)

    @property
    def arch(self) -> str:
        """The architecture (``x86_64``)."""
        return self.policy.arch

    @property
    def group_key(self) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
        """What decides the container: (image, arch, before-all, environment)."""
        return (self.image, self.arch, self.options.before_all, self.options.environment)


Target = BuildStep
"""The earlier name of :class:`BuildStep`."""


@dataclass(frozen=True)
class ContainerGroup:
    """Steps that share one container: same image, arch, before-all and environment."""

    image: str
    arch: str
    before_all: str
    environment: tuple[tuple[str, str], ...]
    steps: tuple[BuildStep, ...]

    @property
    def key(self) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
        """The group key (:attr:`BuildStep.group_key`)."""
        return (self.image, self.arch, self.before_all, self.environment)


@dataclass(frozen=True)
class ImageFacts:
    """What the plan needs to know of an image.

    Attributes:
        ref: the image reference.
        digest: its digest (or id).
        plat: its ``AUDITWHEEL_PLAT``, if set.
        pythons: the CPython tags under ``/opt/python``.
        prereleases: those of :attr:`pythons` that are pre-release CPythons (built only
            with ``enable = ["cpython-prerelease"]``; :func:`~manywheels.naming._tags.
            is_prerelease` for an image asked through the engine).
    """

    ref: str
    digest: str | None
    plat: str | None
    pythons: tuple[PythonTag, ...]
    prereleases: tuple[PythonTag, ...] = ()


@dataclass(frozen=True)
class BuildPlan:
    """The ordered steps of a run, and one-line notes of what the selection skipped."""

    steps: tuple[BuildStep, ...]
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def identifiers(self) -> list[str]:
        """The identifiers, in order."""
        return [step.identifier for step in self.steps]

    def step(self, identifier: str) -> BuildStep | None:
        """The step of an identifier."""
        return next((s for s in self.steps if s.identifier == identifier), None)

    def groups(self) -> list[ContainerGroup]:
        """The container groups, in the order of their first step."""
        grouped: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], list[BuildStep]] = {}
        for step in self.steps:
            grouped.setdefault(step.group_key, []).append(step)
        return [ContainerGroup(*key, steps=tuple(steps)) for key, steps in grouped.items()]


def interpreter_path(tag: PythonTag) -> str:
    """``/opt/python/cp312-cp312/bin/python`` for ``cp312``."""
    return f"{PYTHON_ROOT}/{tag.install_dir}/bin/python"


def parse_image_pythons(listing: str) -> list[PythonTag]:
    """The interpreters in a listing of ``/opt/python`` (one entry per line), sorted:
    CPython, PyPy and GraalPy directories (:func:`~manywheels.naming._tags.parse_install_dir`)."""
    tags = {tag for line in listing.split() if (tag := parse_install_dir(line.strip()))}
    return sorted(tags)


def _allowed(tag: PythonTag, requires_python: str | None) -> bool:
    if not requires_python:
        return True
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True
    return spec.contains(Version(f"{tag.version}.99"), prereleases=True)


def image_policy(config: Config, facts: ImageFacts) -> Policy:
    """The policy of an image: ``plat``, else the image's ``AUDITWHEEL_PLAT``.

    Raises:
        PolicyError: the value is not a policy.
        ConfigError: neither is set.
    """
    if config.plat:
        return parse_policy(config.plat, what=f"plat ({config.sources.get('plat', 'default')})")
    if not facts.plat:
        msg = (f"image {facts.ref} sets no AUDITWHEEL_PLAT; set plat "
               "(e.g. manylinux_2_28_x86_64)")
        raise ConfigError(msg)
    return parse_policy(facts.plat, what=f"AUDITWHEEL_PLAT of image {facts.ref}")


def plan_build(
    config: Config, facts: Mapping[str, ImageFacts], requires_python: str | None
) -> BuildPlan:
    """The build plan of a configuration.

    A single-image configuration plans the one ``image``; one with ``archs`` or per-arch
    image keys plans every platform :func:`~manywheels.config.select_platforms` gives,
    arch by arch, manylinux before musllinux. ``build``/``skip`` narrow the identifiers.

    Args:
        config: resolved configuration (``python`` may be ``None``: every CPython of the
            image that ``requires_python`` allows, free-threaded builds only when named).
        facts: image reference -> its facts (for every image the configuration uses;
            :func:`static_facts` for a ``quay.io/pypa`` image without an engine).
        requires_python: the project's Requires-Python, if any.

    Returns:
        The plan, steps in platform then version order.

    Raises:
        PythonTagMissingError: a requested tag is not in an image (lists what it has).
        ConfigError: no tag remains, an image sets no policy or one of another arch, or
            ``build``/``skip`` select nothing.
        PolicyError: ``plat`` or an image's ``AUDITWHEEL_PLAT`` is not a policy.
    """
    platforms = select_platforms(config)
    notes: list[str] = []
    if platforms is None:
        image = facts[config.image]
        steps = _image_steps(config, image, image_policy(config, image), requires_python, notes)
    else:
        steps = []
        for platform in platforms:
            image = facts[platform.image]
            policy = _platform_policy(config, platform, image)
            steps += _image_steps(config, image, policy, requires_python, notes)
    chosen = [s for s in steps if is_selected(s.identifier, config.build, config.skip)]
    if not chosen:
        msg = (f"build ({config.sources.get('build', 'default')}) and skip "
               f"({config.sources.get('skip', 'default')}) select none of: "
               + ", ".join(s.identifier for s in steps))
        raise ConfigError(msg)
    return BuildPlan(tuple(chosen), tuple(dict.fromkeys(notes)))


def _image_steps(config: Config, image: ImageFacts, policy: Policy,
                 requires_python: str | None, notes: list[str]) -> list[BuildStep]:
    """The steps of one image, each with its own options (overrides applied)."""
    steps = []
    for tag in sorted(_choose(config, image, requires_python, notes)):
        name = identifier(tag, policy)
        steps.append(BuildStep(name, tag, interpreter_path(tag), image.ref, policy.name,
                               image.digest, step_options(config, name)))
    return steps


def _platform_policy(config: Config, platform: Platform, image: ImageFacts) -> Policy:
    """A platform's policy: the image's ``AUDITWHEEL_PLAT``, else the policy its name
    states; the arch must be the platform's.

    Raises:
        ConfigError: neither, or an image of another arch.
    """
    if image.plat or config.plat or platform.policy is None:
        policy = image_policy(config, image)
    else:
        policy = platform.policy
    if policy.arch != platform.arch:
        msg = (f"{platform.key}: image {image.ref} is for {policy.arch} (policy {policy.name}), "
               f"not {platform.arch}; allowed is an image of the key's arch")
        raise ConfigError(msg)
    return policy


def static_facts(platform: Platform) -> ImageFacts | None:
    """The facts of a platform's image without an engine: the policy its name states and
    the interpreters the manylinux/musllinux images ship
    (:data:`~manywheels.naming.STATIC_PYTHONS`); ``None`` when its name states no policy."""
    if platform.policy is None:
        return None
    return ImageFacts(platform.image, None, platform.policy.name, STATIC_PYTHONS)


def _choose(config: Config, image: ImageFacts, requires_python: str | None,
            notes: list[str]) -> list[PythonTag]:
    """The tags of one image: ``python`` when given (:func:`_check_named`), else every tag
    of the image that ``requires_python`` and ``enable`` allow (cibuildwheel's selection:
    docs/options.md, "build-skip" and "enable"); what requires-python drops is noted."""
    available = image.pythons
    have = ", ".join(t.tag for t in available) or "none"
    if config.python is not None:
        _check_named(config, image, have)
        return list(config.python)
    enabled = [t for t in available if _enabled(config, image, t)]
    chosen = [t for t in enabled if _allowed(t, requires_python)]
    dropped = [t.tag for t in enabled if t not in chosen]
    if dropped:
        notes.append(f"skipped {', '.join(dropped)}: outside requires-python {requires_python}")
    if not chosen:
        msg = (
            f"no CPython in image {image.ref} satisfies requires-python {requires_python!r}; "
            f"the image has: {have}"
        )
        raise ConfigError(msg)
    return chosen


def _enabled(config: Config, image: ImageFacts, tag: PythonTag) -> bool:
    """Whether ``enable`` selects a tag by default (free-threaded builds need
    ``cpython-freethreading``, pre-releases ``cpython-prerelease``, PyPy ``pypy``, GraalPy
    ``graalpy``)."""
    if tag.impl != "cp":
        return {"pp": "pypy", "gp": "graalpy"}.get(tag.impl) in config.enable
    if tag.free_threaded and "cpython-freethreading" not in config.enable:
        return False
    return tag not in image.prereleases or "cpython-prerelease" in config.enable


def _check_named(config: Config, image: ImageFacts, have: str) -> None:
    """Raise for a named tag the image lacks, the project's requires-python (its
    ``pyproject.toml``: checked before the sdist exists) excludes, or a pre-release without
    ``cpython-prerelease``."""
    requires_python = config.requires_python
    for tag in config.python or ():
        if tag not in image.pythons:
            msg = f"python tag {tag.tag} is not in image {image.ref}; the image has: {have}"
            raise PythonTagMissingError(msg)
        if not _allowed(tag, requires_python):
            msg = (f"python tag {tag.tag} is outside the project's requires-python "
                   f"{requires_python}; allowed is a tag requires-python admits")
            raise ConfigError(msg)
        if tag in image.prereleases and "cpython-prerelease" not in config.enable:
            msg = (f"python tag {tag.tag} is a pre-release in image {image.ref}; add "
                   "cpython-prerelease to enable to build it")
            raise ConfigError(msg)


def select_targets(
    config: Config,
    *,
    image: str,
    plat: str,
    available: Sequence[PythonTag],
    requires_python: str | None,
) -> list[BuildStep]:
    """The steps a configuration selects in one image (:func:`plan_build` for one image
    whose policy is ``plat``).

    Raises:
        PythonTagMissingError, ConfigError, PolicyError: as :func:`plan_build`.
    """
    facts = ImageFacts(image, None, plat, tuple(available))
    config = config.with_(image=image, plat=config.plat or plat)
    return list(plan_build(config, {image: facts}, requires_python).steps)
