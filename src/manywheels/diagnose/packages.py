"""Which system package provides a missing header, library or pkg-config module.

Package names differ between the image families: RPM (``yum`` on manylinux2014,
``dnf`` on manylinux_2_28 and manylinux_2_34), Alpine (``apk`` on musllinux) and
Debian/Ubuntu (``apt-get``). :func:`likely_package` knows the common C libraries
Python extensions need and otherwise guesses the distributions' naming convention
(``foo-devel`` / ``foo-dev`` / ``libfoo-dev``), saying so.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from manywheels.diagnose._package_names import HEADERS, LIBRARIES, PKG_CONFIG, Names

__all__ = [
    "PACKAGE_MANAGERS",
    "PackageGuess",
    "family",
    "install_command",
    "likely_package",
    "package_manager_from_env",
    "search_command",
]

PACKAGE_MANAGERS = ("dnf", "yum", "apk", "apt-get")
"""The package managers diagnosis knows, in the order they are looked for."""

_FAMILY = {"dnf": 0, "yum": 0, "apk": 1, "apt-get": 2}


@dataclass(frozen=True)
class PackageGuess:
    """The package that likely provides something.

    Attributes:
        name: the package name for the image's package manager.
        known: ``True`` when it comes from the table of common libraries, ``False``
            when it is guessed from the naming convention (the fix then also says how
            to search).
    """

    name: str
    known: bool


def family(manager: str) -> str:
    """``rpm``, ``apk`` or ``deb`` for a package manager name.

    Raises:
        ValueError: an unknown package manager.
    """
    if manager not in _FAMILY:
        msg = f"unknown package manager {manager!r}; known are {', '.join(PACKAGE_MANAGERS)}"
        raise ValueError(msg)
    return ("rpm", "apk", "deb")[_FAMILY[manager]]


def package_manager_from_env(env: Mapping[str, str]) -> str | None:
    """The package manager an image most likely has, from its ``AUDITWHEEL_*`` ENV.

    ``manylinux2014`` / ``manylinux_2_17`` -> ``yum``; ``manylinux_2_28`` and later
    manylinux images (AlmaLinux) -> ``dnf``; ``musllinux`` -> ``apk``;
    ``manylinux_2_24`` (Debian 9) -> ``apt-get``. ``None`` when the image sets no
    policy. The image itself is the better source (``command -v`` in a container);
    this is the fallback.
    """
    policy = env.get("AUDITWHEEL_POLICY") or env.get("AUDITWHEEL_PLAT") or ""
    if not policy:
        return None
    if policy.startswith("musllinux"):
        return "apk"
    if policy.startswith(("manylinux2014", "manylinux2010", "manylinux1")):
        return "yum"
    match = re.match(r"manylinux_(\d+)_(\d+)", policy)
    if not match:
        return None
    glibc = (int(match[1]), int(match[2]))
    if glibc <= (2, 17):
        return "yum"
    if glibc == (2, 24):
        return "apt-get"
    return "dnf"


def _from_triple(names: Names, manager: str) -> str:
    return names[_FAMILY[manager]]


def _guess(stem: str, manager: str) -> str:
    stem = stem.removeprefix("lib")
    fam = family(manager)
    if fam == "rpm":
        return f"{stem}-devel"
    if fam == "apk":
        return f"{stem}-dev"
    return f"lib{stem}-dev"


def likely_package(kind: str, name: str, manager: str) -> PackageGuess:
    """The package likely to provide a missing header, library or pkg-config module.

    Args:
        kind: ``header`` (as in ``#include <openssl/ssl.h>``: ``openssl/ssl.h``),
            ``library`` (``-lfoo``: ``foo``) or ``pkg-config`` (``yaml-0.1``).
        name: what is missing.
        manager: ``dnf``, ``yum``, ``apk`` or ``apt-get``.

    Returns:
        The package name and whether it is known or guessed.

    Raises:
        ValueError: unknown ``kind`` or ``manager``.
    """
    family(manager)
    entry: str | Names | None = None
    if kind == "header":
        entry = HEADERS.get(name)
        if entry is None:
            for prefix, value in HEADERS.items():
                if prefix.endswith("/") and name.startswith(prefix):
                    entry = value
                    break
        stem = re.split(r"[/.]", name, maxsplit=1)[0]
    elif kind == "library":
        entry = name if name in LIBRARIES else None
        stem = name
    elif kind == "pkg-config":
        entry = PKG_CONFIG.get(name)
        stem = re.sub(r"[-.]?\d[\d.]*$", "", name)
    else:
        msg = f"unknown kind {kind!r}; expected header, library or pkg-config"
        raise ValueError(msg)
    if isinstance(entry, tuple):
        return PackageGuess(_from_triple(entry, manager), known=True)
    if isinstance(entry, str):
        return PackageGuess(_from_triple(LIBRARIES[entry], manager), known=True)
    return PackageGuess(_guess(stem, manager), known=False)


def install_command(manager: str, packages: list[str]) -> str:
    """The non-interactive install command for ``before-all``.

    ``dnf install -y ...``, ``yum install -y ...``, ``apk add --no-cache ...``,
    ``apt-get update && apt-get install -y ...``.

    Raises:
        ValueError: unknown ``manager``.
    """
    fam = family(manager)
    names = " ".join(shlex.quote(p) for p in packages)
    if fam == "apk":
        return f"apk add --no-cache {names}"
    if fam == "deb":
        return f"apt-get update && apt-get install -y {names}"
    return f"{manager} install -y {names}"


def search_command(manager: str, kind: str, name: str) -> str:
    """A command that finds the package really providing something, to confirm a guess.

    Args:
        manager: ``dnf``, ``yum``, ``apk`` or ``apt-get``.
        kind: ``header``, ``library``, ``pkg-config`` (what provides this file) or
            ``package`` (which package names resemble this one).
        name: the header, library (``foo`` for ``-lfoo``), module or package name.

    Raises:
        ValueError: unknown ``manager``.
    """
    fam = family(manager)
    if kind == "package":
        stem = re.sub(r"-(?:devel|dev)$", "", name).removeprefix("lib")
        if fam == "deb":
            return f"apt-get update && apt-cache search {stem}"
        return f"apk search {stem}" if fam == "apk" else f"{manager} search {stem}"
    if kind == "library":
        pattern = f"lib{name}.so"
    elif kind == "pkg-config":
        pattern = f"{name}.pc"
    else:
        pattern = name
    if fam == "rpm":
        return f"{manager} provides '*/{pattern}'"
    if fam == "apk":
        if kind == "library":
            return f"apk search -x 'so:lib{name}.so*'"
        if kind == "pkg-config":
            return f"apk search -x 'pc:{name}'"
        return f"apk search {re.split(r'[/.]', name, maxsplit=1)[0]}"
    return f"apt-get install -y apt-file && apt-file update && apt-file search {pattern}"
