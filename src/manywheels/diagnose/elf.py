"""Versioned symbols of a wheel's ELF files, and the manylinux policy each allows.

auditwheel reports *which symbol versions* cap a wheel's policy (``GLIBC_2.36``) but
not *which functions* need them. Reading the ELF dynamic symbol table with pyelftools
(auditwheel's own ELF reader) names them (``arc4random@GLIBC_2.36``), so the fix can
point at the code. Policies and the symbol versions they allow come from auditwheel's
policy files, the same data ``auditwheel repair`` enforces.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection, GNUVerSymSection
from elftools.elf.sections import SymbolTableSection

from manywheels.diagnose.model import VersionedSymbol

__all__ = [
    "PolicyInfo",
    "elf_versioned_symbols",
    "policies",
    "policy_allowing",
    "split_plat",
    "too_recent",
    "wheel_versioned_symbols",
]

_ELF_MAGIC = b"\x7fELF"


def elf_versioned_symbols(data: bytes, file: str) -> list[VersionedSymbol]:
    """The undefined dynamic symbols an ELF file imports with a version.

    Args:
        data: the ELF file's bytes.
        file: its name (recorded in the results).

    Returns:
        One entry per imported versioned symbol, in symbol-table order; empty for
        a file that is not ELF or has no version information.
    """
    try:
        elf = ELFFile(io.BytesIO(data))
        dynsym = elf.get_section_by_name(".dynsym")
        versym = elf.get_section_by_name(".gnu.version")
        verneed = elf.get_section_by_name(".gnu.version_r")
        if not (
            isinstance(dynsym, SymbolTableSection)
            and isinstance(versym, GNUVerSymSection)
            and isinstance(verneed, GNUVerNeedSection)
        ):
            return []
        by_index: dict[int, tuple[str, str]] = {}
        for need, auxiliaries in verneed.iter_versions():
            for aux in auxiliaries:
                by_index[int(aux["vna_other"])] = (str(aux.name), str(need.name))
        found: list[VersionedSymbol] = []
        for number, symbol in enumerate(dynsym.iter_symbols()):
            if symbol["st_shndx"] != "SHN_UNDEF" or not symbol.name:
                continue
            index = versym.get_symbol(number)["ndx"]
            if not isinstance(index, int):
                continue  # VER_NDX_LOCAL / VER_NDX_GLOBAL: unversioned
            entry = by_index.get(index & 0x7FFF)
            if entry is not None:
                found.append(VersionedSymbol(str(symbol.name), entry[0], entry[1], file))
    except (ELFError, ValueError, KeyError, OSError):
        return []
    return found


def wheel_versioned_symbols(wheel: Path) -> tuple[VersionedSymbol, ...]:
    """The versioned symbols imported by every ELF file in a wheel (a zip file).

    Raises:
        OSError: the wheel cannot be read.
        zipfile.BadZipFile: it is not a zip file.
    """
    found: list[VersionedSymbol] = []
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            with archive.open(info) as member:
                if member.read(4) != _ELF_MAGIC:
                    continue
            found.extend(elf_versioned_symbols(archive.read(info), info.filename))
    return tuple(found)


@dataclass(frozen=True)
class PolicyInfo:
    """One manylinux/musllinux policy: name (without arch), aliases, priority (higher is
    more compatible) and the symbol versions it allows per architecture."""

    name: str
    aliases: tuple[str, ...]
    priority: int
    symbol_versions: dict[str, dict[str, frozenset[str]]]


@cache
def policies() -> tuple[PolicyInfo, ...]:
    """auditwheel's manylinux and musllinux policies, most compatible first."""
    result: list[PolicyInfo] = []
    base = resources.files("auditwheel.policy")
    for name in ("manylinux-policy.json", "musllinux-policy.json"):
        data: list[dict[str, Any]] = json.loads(base.joinpath(name).read_text(encoding="utf-8"))
        for item in data:
            if item["name"] == "linux":
                continue
            versions = {
                arch: {lib: frozenset(vs) for lib, vs in libs.items()}
                for arch, libs in item.get("symbol_versions", {}).items()
            }
            result.append(
                PolicyInfo(item["name"], tuple(item.get("aliases", ())), int(item["priority"]),
                           versions)
            )
    return tuple(sorted(result, key=lambda p: -p.priority))


def split_plat(plat: str) -> tuple[PolicyInfo, str] | None:
    """``manylinux_2_28_x86_64`` (or ``manylinux2014_x86_64``) -> (policy, ``x86_64``);
    ``None`` for a tag that names no known policy."""
    for policy in policies():
        for name in (policy.name, *policy.aliases):
            if plat.startswith(name + "_"):
                arch = plat[len(name) + 1 :]
                if arch in policy.symbol_versions or policy.name.startswith("musllinux"):
                    return policy, arch
    return None


def _allows(policy: PolicyInfo, arch: str, version: str) -> bool:
    lib, _, number = version.rpartition("_")
    if not lib:
        return True
    allowed = policy.symbol_versions.get(arch, {}).get(lib)
    if allowed is None:
        # The policy does not restrict this library's versions.
        return True
    return number in allowed


def policy_allowing(version: str, arch: str, family: str = "manylinux") -> str | None:
    """The most compatible policy (with arch) that allows a symbol version.

    Args:
        version: ``GLIBC_2.36``, ``GLIBCXX_3.4.30``, ``CXXABI_1.3.13``...
        arch: ``x86_64``, ``aarch64``...
        family: ``manylinux`` or ``musllinux``.

    Returns:
        ``manylinux_2_36_x86_64``, or ``None`` when no policy allows it.
    """
    for policy in policies():
        if policy.name.startswith(family) and arch in policy.symbol_versions and _allows(
            policy, arch, version
        ):
            return f"{policy.name}_{arch}"
    return None


def too_recent(
    symbols: Iterable[VersionedSymbol], plat: str
) -> list[tuple[VersionedSymbol, str | None]]:
    """The symbols a policy does not allow, each with the most compatible policy that
    allows it (``None``: none does).

    Args:
        symbols: imported versioned symbols (see :func:`wheel_versioned_symbols`).
        plat: the policy repaired for (``manylinux_2_28_x86_64``).

    Returns:
        ``(symbol, allowing policy)`` pairs, duplicates (same name and version) removed;
        empty when ``plat`` is unknown.
    """
    parsed = split_plat(plat)
    if parsed is None:
        return []
    policy, arch = parsed
    family = "musllinux" if policy.name.startswith("musllinux") else "manylinux"
    seen: set[tuple[str, str]] = set()
    result: list[tuple[VersionedSymbol, str | None]] = []
    for symbol in symbols:
        key = (symbol.name, symbol.version)
        if key in seen or _allows(policy, arch, symbol.version):
            continue
        seen.add(key)
        result.append((symbol, policy_allowing(symbol.version, arch, family)))
    return result

