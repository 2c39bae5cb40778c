"""Resolving targets for ``plan``/``matrix`` and the CI job matrix.

:func:`resolve_targets` gives the targets a configuration selects. When ``python`` is
configured explicitly and the platform is known without looking into the image
(``plat`` set, or an image named like ``quay.io/pypa/manylinux_2_28_x86_64``), no
container engine is needed; otherwise the image's ``/opt/python`` is listed in a
container (removed afterwards).

:func:`github_matrix` turns targets into a GitHub Actions ``strategy.matrix``:
``{"include": [{"name", "python", "identifiers", "image", "plat", "artifact"}, ...]}``,
one entry per identifier or per group of identifiers. A configuration with ``archs`` (or
per-arch image keys) gets :func:`platform_matrix` instead: one entry per platform group
(family, arch, image), with the runner it goes to and whether it needs QEMU; its default
``quay.io/pypa`` images need no engine (policy from the name, the interpreters the images
ship: :data:`~manywheels.naming.STATIC_PYTHONS`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from manywheels._ui import UI
from manywheels.config import Config
from manywheels.config._platforms import select_platforms
from manywheels.errors import ConfigError, EngineUnavailableError
from manywheels.naming._platforms import Platform
from manywheels.naming._tags import identifier, platform_family
from manywheels.plan._targets import ImageFacts, Target, interpreter_path, plan_build, static_facts
from manywheels.stages._run import Run

__all__ = [
    "MATRIX_FORMATS",
    "Resolved",
    "github_matrix",
    "group_targets",
    "plat_from_image_name",
    "platform_matrix",
    "render_matrix",
    "resolve_targets",
]

MATRIX_FORMATS = ("github", "json")
"""``github``: one line of compact JSON (for ``$GITHUB_OUTPUT``); ``json``: indented."""

ARM_RUNNER = "ubuntu-24.04-arm"
"""GitHub's native arm64 runner label (aarch64 entries with ``--arm-runners``)."""
DEFAULT_RUNNER = "ubuntu-latest"
"""The runner of every other entry."""

_IMAGE_PLAT = re.compile(r"^(?:manylinux|musllinux)(?:_\d+_\d+|1|2010|2014)_[a-z0-9_]+$")


def plat_from_image_name(image: str) -> str | None:
    """The auditwheel policy an image's name states, if it follows the PyPA naming.

    ``quay.io/pypa/manylinux_2_28_x86_64:2025.01.01`` gives ``manylinux_2_28_x86_64``,
    ``quay.io/pypa/musllinux_1_2_aarch64`` gives ``musllinux_1_2_aarch64``; any other
    name gives ``None``.

    Args:
        image: an image reference (registry, repository, optional tag or digest).
    """
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    name = name.split(":", 1)[0]
    return name if _IMAGE_PLAT.match(name) else None


@dataclass(frozen=True)
class Resolved:
    """Targets and how they were found.

    Attributes:
        targets: the selected targets, in version order.
        checked: ``True`` when the image was inspected (tags verified to exist in it);
            ``False`` when they come from the configuration alone.
    """

    targets: list[Target]
    checked: bool


def _static_targets(config: Config, plat: str) -> list[Target]:
    assert config.python is not None
    return [
        Target(identifier(tag, plat), tag, interpreter_path(tag), config.image, plat)
        for tag in sorted(config.python)
    ]


def resolve_targets(
    config: Config, *, ui: UI | None = None, prefer_static: bool = True
) -> Resolved:
    """The targets a configuration selects.

    Args:
        config: resolved configuration.
        ui: console for progress (image pulls); default a new :class:`UI` on stderr.
        prefer_static: with ``python`` configured and the platform known from ``plat``
            or the image name, do not contact the engine at all. When false, the image
            is inspected if an engine answers, and the configuration alone is used only
            when none does.

    Returns:
        The targets, and whether they were checked against the image.

    Raises:
        EngineUnavailableError: the image must be inspected (``python`` not configured,
            or the platform unknown) and no engine answers; the message says how to do
            without one.
        ImageNotFoundError: the image is neither local nor pullable.
        ConfigError: a configured tag is not in the image, or none satisfies
            requires-python.
    """
    platforms = select_platforms(config)
    if platforms is not None:
        return _resolve_platforms(config, platforms, ui, prefer_static=prefer_static)
    plat = config.plat or plat_from_image_name(config.image)
    static_ok = config.python is not None and plat is not None
    if static_ok and prefer_static:
        assert plat is not None
        return Resolved(_static_targets(config, plat), checked=False)
    try:
        with Run(config, ui or UI()) as run:
            return Resolved(list(run.plan(config.requires_python).steps), checked=True)
    except EngineUnavailableError as error:
        if static_ok:
            assert plat is not None
            return Resolved(_static_targets(config, plat), checked=False)
        if config.python is None:
            hint = (
                "python is not configured, so the image's interpreters must be listed; "
                "set python ([tool.manywheels] python, MANYWHEELS_PYTHON or --python) "
                "to work without an engine"
            )
        else:
            hint = (
                f"the platform of image {config.image} is not in its name; set plat "
                "(e.g. manylinux_2_28_x86_64) to work without an engine"
            )
        msg = f"{hint}: {error}"
        raise EngineUnavailableError(msg) from None


def _resolve_platforms(config: Config, platforms: list[Platform], ui: UI | None, *,
                       prefer_static: bool) -> Resolved:
    """:func:`resolve_targets` for several platforms: without an engine when every image
    names its policy (the interpreters assumed: those the PyPA images ship)."""
    facts: dict[str, ImageFacts] = {}
    for platform in platforms:
        if (found := static_facts(platform)) is not None:
            facts[platform.image] = found
    static_ok = all(p.image in facts for p in platforms)
    if static_ok and prefer_static:
        return Resolved(list(plan_build(config, facts, config.requires_python).steps), False)
    try:
        with Run(config, ui or UI()) as run:
            return Resolved(list(run.plan(config.requires_python).steps), checked=True)
    except EngineUnavailableError as error:
        if static_ok:
            return Resolved(list(plan_build(config, facts, config.requires_python).steps), False)
        unnamed = next(p for p in platforms if p.image not in facts)
        msg = (f"{unnamed.key} {unnamed.image} does not name its policy, so the image must be "
               f"inspected; name a quay.io/pypa image or a policy (e.g. manylinux_2_28) to work "
               f"without an engine: {error}")
        raise EngineUnavailableError(msg) from None


def group_targets(
    targets: Sequence[Target], *, group_size: int | None = None, groups: int | None = None
) -> list[list[Target]]:
    """Split targets into consecutive groups (one CI job each).

    Args:
        targets: the targets, in order.
        group_size: identifiers per group (the last group may be smaller).
        groups: number of groups, sizes differing by at most one (fewer when there are
            fewer targets). At most one of ``group_size`` and ``groups`` may be given;
            with neither, each target is its own group.

    Raises:
        ConfigError: both given, or a value below 1.
    """
    if group_size is not None and groups is not None:
        msg = "matrix: give --group-size or --groups, not both"
        raise ConfigError(msg)
    for name, value in (("--group-size", group_size), ("--groups", groups)):
        if value is not None and value < 1:
            msg = f"matrix: {name} must be a whole number >= 1, got {value}"
            raise ConfigError(msg)
    items = list(targets)
    if groups is not None:
        count = min(groups, len(items)) or 1
        size, extra = divmod(len(items), count)
        result, start = [], 0
        for index in range(count):
            end = start + size + (1 if index < extra else 0)
            result.append(items[start:end])
            start = end
        return [group for group in result if group]
    step = group_size or 1
    return [items[i : i + step] for i in range(0, len(items), step)]


def _entry(group: Sequence[Target]) -> dict[str, str]:
    first = group[0]
    if len(group) == 1:
        name = first.identifier
    else:
        name = "-".join(t.python.tag for t in group) + "-" + platform_family(first.plat)
    return {
        "name": name,
        "python": " ".join(t.python.tag for t in group),
        "identifiers": " ".join(t.identifier for t in group),
        "image": first.image,
        "plat": first.plat,
        "artifact": f"wheels-{name}",
    }


def github_matrix(
    targets: Sequence[Target], *, group_size: int | None = None, groups: int | None = None
) -> dict[str, list[dict[str, str]]]:
    """A GitHub Actions ``strategy.matrix`` with one entry per group of identifiers.

    Each entry has ``name`` (the identifier, or ``cp311-cp312-manylinux_x86_64`` for a
    group), ``python`` (space-separated tags, for ``nox -s wheels -- --python ...``),
    ``identifiers``, ``image``, ``plat`` and ``artifact`` (a unique artifact name).

    Raises:
        ConfigError: bad grouping values, or no targets.
    """
    if not targets:
        msg = "matrix: the configuration selects no identifiers"
        raise ConfigError(msg)
    include = [_entry(g) for g in group_targets(targets, group_size=group_size, groups=groups)]
    return {"include": include}


def render_matrix(matrix: dict[str, Any], fmt: str) -> str:
    """The matrix as text: ``github`` one compact line, ``json`` indented.

    Raises:
        ConfigError: unknown format.
    """
    if fmt == "github":
        return json.dumps(matrix, separators=(",", ":"))
    if fmt == "json":
        return json.dumps(matrix, indent=2)
    msg = f"matrix: unknown format {fmt!r}; allowed are " + ", ".join(MATRIX_FORMATS)
    raise ConfigError(msg)


def _platform_key(target: Target) -> tuple[str, str, str]:
    policy = target.policy
    return (policy.family, policy.arch, target.image)


def _platform_entry(group: Sequence[Target], whole: bool, *, arm_runners: bool
                    ) -> dict[str, str]:
    first = group[0]
    family, arch = first.policy.family, first.policy.arch
    platform = f"{family}_{arch}"
    name = platform if whole else "-".join(t.python.tag for t in group) + "-" + platform
    runner = ARM_RUNNER if arm_runners and arch == "aarch64" else DEFAULT_RUNNER
    native = {"aarch64"} if runner == ARM_RUNNER else {"x86_64", "i686"}
    return {
        "name": name,
        "family": family,
        "arch": arch,
        "image": first.image,
        "plat": first.plat,
        "python": " ".join(t.python.tag for t in group),
        "identifiers": " ".join(t.identifier for t in group),
        "runner": runner,
        "qemu": "false" if arch in native else "true",
        "artifact": f"wheels-{name}",
    }


def platform_matrix(
    targets: Sequence[Target], *, group_size: int | None = None, groups: int | None = None,
    arm_runners: bool = False,
) -> dict[str, list[dict[str, str]]]:
    """A GitHub Actions ``strategy.matrix`` with one entry per platform group (family,
    arch, image), split further by ``group_size``/``groups`` within each platform.

    Each entry has ``name`` (``manylinux_aarch64``, or ``cp311-cp312-manylinux_aarch64`` for
    part of a platform), ``family``, ``arch``, ``image``, ``plat``, ``python``,
    ``identifiers``, ``runner`` (``ubuntu-24.04-arm`` for aarch64 with ``arm_runners``, else
    ``ubuntu-latest``), ``qemu`` (``"true"`` when the runner cannot run the arch natively)
    and ``artifact``.

    Raises:
        ConfigError: bad grouping values, or no targets.
    """
    if not targets:
        msg = "matrix: the configuration selects no identifiers"
        raise ConfigError(msg)
    by_platform: dict[tuple[str, str, str], list[Target]] = {}
    for target in targets:
        by_platform.setdefault(_platform_key(target), []).append(target)
    include = []
    for members in by_platform.values():
        split = group_targets(members, group_size=group_size, groups=groups) if (
            group_size or groups) else [members]
        include += [_platform_entry(g, len(split) == 1, arm_runners=arm_runners)
                    for g in split]
    return {"include": include}

