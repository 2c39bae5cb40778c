"""Checks of the repair: symbols too recent for the policy, libraries auditwheel cannot
find, instruction-set extensions, and what ``auditwheel show`` says of each raw wheel."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from manywheels.diagnose import elf, logs
from manywheels.diagnose._checks_common import MAX_NAMED, failed_logs, log_of, named
from manywheels.diagnose.model import Facts, Finding, LogText, VersionedSymbol

__all__ = [
    "check_auditwheel_show",
    "check_isa",
    "check_library_not_found",
    "check_too_recent_symbols",
]


def _audit_for(facts: Facts, identifier: str | None, wheel: str | None = None) -> Any:
    for audit in facts.audits:
        if (wheel and audit.wheel == wheel) or (identifier and audit.identifier == identifier):
            return audit
    return None


def _symbols_message(bad: list[tuple[VersionedSymbol, str | None]]) -> str:
    parts = []
    for symbol, allowing in bad[:MAX_NAMED]:
        needs = f" (needs {allowing})" if allowing else ""
        parts.append(f"{symbol.name}@{symbol.version}{needs}")
    more = f" and {len(bad) - MAX_NAMED} more" if len(bad) > MAX_NAMED else ""
    return ", ".join(parts) + more


def _older_image(plat: str) -> str:
    parsed = elf.split_plat(plat)
    if parsed is None:
        return "an image whose policy is at most the one you want"
    policy, arch = parsed
    if policy.name.startswith("musllinux"):
        return f"quay.io/pypa/{policy.name}_{arch}"
    if policy.name == "manylinux_2_17" or "manylinux2014" in policy.aliases:
        return f"quay.io/pypa/manylinux2014_{arch}"
    return f"quay.io/pypa/{policy.name}_{arch}"


def check_too_recent_symbols(facts: Facts) -> list[Finding]:
    """Symbols newer than the requested policy allows (repair refused, or will)."""
    findings = []
    done: set[str] = set()
    for log in failed_logs(facts, "repair"):
        refused = logs.too_recent_repair(log.text)
        if refused is None:
            continue
        audit = _audit_for(facts, log.identifier, refused.wheel)
        bad = elf.too_recent(audit.symbols, refused.requested) if audit else []
        if bad:
            named = _symbols_message(bad)
        else:
            named = "; ".join(f"{lib} {', '.join(vs)}" for lib, vs in refused.versions.items())
        allowed = refused.allowed or (bad[0][1] if bad and bad[0][1] else None)
        allows = f"; they allow {allowed} at best" if allowed else ""
        older = f'build in an older image (image = "{_older_image(refused.requested)}")'
        fix = f'{older}, or repair for what the symbols allow (plat = "{allowed}")' if (
            allowed) else older
        findings.append(Finding(
            "too-recent-symbols",
            f"{refused.wheel} uses symbols too recent for {refused.requested}: {named}{allows}",
            fix, identifier=log.identifier, log=log.path, evidence=refused.line,
        ))
        done.add(refused.wheel)
    # Predicted from the raw wheels (before or without a repair).
    for audit in facts.audits:
        if audit.wheel in done or not facts.plat:
            continue
        plat = facts.plat
        bad = elf.too_recent(audit.symbols, plat)
        if not bad:
            continue
        allowed = bad[0][1]
        for _, policy in bad:
            if policy and _priority(policy) < _priority(allowed or policy):
                allowed = policy
        findings.append(Finding(
            "too-recent-symbols",
            f"{audit.wheel} uses symbols too recent for {plat}: {_symbols_message(bad)}; "
            f"repair for {plat} will fail",
            f"build in an older image (image = \"{_older_image(plat)}\"), or repair for "
            f"what the symbols allow (plat = \"{allowed}\")",
            identifier=audit.identifier,
            evidence=f"{bad[0][0].file}: {bad[0][0].name}@{bad[0][0].version}",
        ))
    return findings


def _priority(plat: str) -> int:
    parsed = elf.split_plat(plat)
    return parsed[0].priority if parsed else 0


def check_library_not_found(facts: Facts) -> list[Finding]:
    """A shared library the wheel needs that auditwheel cannot find to vendor."""
    findings = []
    reported: set[tuple[str | None, str]] = set()

    def finding(identifier: str | None, soname: str, log: LogText | None,
                evidence: str) -> Finding:
        build = log_of(facts, identifier, "build") if identifier else None
        stem = re.sub(r"^lib|\.so(\.\d+)*$", "", soname)
        dirs = logs.link_dirs(build.text, stem) if build else []
        where = dirs[0] if dirs else "<the directory holding it>"
        seen_in = f" (linked from {where})" if dirs else ""
        return Finding(
            "library-not-found",
            f"auditwheel cannot find {soname}, which the wheel links{seen_in}: it is not "
            "on the loader path, so it cannot be vendored",
            f"put its directory on the loader path for repair: environment = "
            f'{{ LD_LIBRARY_PATH = "{where}" }} in [tool.manywheels] (or --environment '
            f"LD_LIBRARY_PATH={where}); or, if the system provides it at run time, leave it "
            f"out of the wheel: `auditwheel repair --exclude {soname}`",
            identifier=identifier, log=log.path if log else None, evidence=evidence,
        )

    for log in failed_logs(facts, "repair"):
        for match in logs.unlocated_libraries(log.text):
            findings.append(finding(log.identifier, match.value, log, match.line))
            reported.add((log.identifier, match.value))
    for audit in facts.audits:
        libs = (audit.show or {}).get("external_libs") or {}
        for soname, path in sorted(libs.items()):
            if path is None and (audit.identifier, soname) not in reported:
                findings.append(finding(
                    audit.identifier, soname, None,
                    f"auditwheel show {audit.wheel}: {soname} -> not found",
                ))
                reported.add((audit.identifier, soname))
    return findings


def check_isa(facts: Facts) -> list[Finding]:
    """Code compiled for ISA extensions beyond the policy's baseline (x86-64-v3...)."""
    findings = []
    reported: set[str | None] = set()
    for log in failed_logs(facts, "repair"):
        problems = logs.isa_problems(log.text)
        if not problems:
            continue
        levels = sorted({p.value.rsplit(": ", 1)[-1] for p in problems if p.value})
        files = sorted({p.value.rsplit(": ", 1)[0] for p in problems if p.value})
        needs = f" ({', '.join(levels)} in {named(files, 3)})" if levels else ""
        findings.append(Finding(
            "isa-extensions",
            f"the wheel needs instruction-set extensions the policy does not allow{needs}",
            "compile for the baseline: drop -march=native / -march=x86-64-v2+ / -mavx2 "
            "(and -mneeded) from CFLAGS, environment and the build configuration; "
            "dispatch at run time for fast paths (or `auditwheel repair "
            "--disable-isa-ext-check` if every user's CPU has them)",
            identifier=log.identifier, log=log.path, evidence=problems[0].line,
        ))
        reported.add(log.identifier)
    findings.extend(
        Finding(
            "isa-extensions",
            f"{audit.wheel} needs instruction-set extensions the manylinux policies do "
            "not allow; repair will fail",
            "compile for the baseline: drop -march=native / -march=x86-64-v2+ / -mavx2 "
            "(and -mneeded) from CFLAGS and the build configuration",
            identifier=audit.identifier,
            evidence=f"auditwheel show {audit.wheel}: unsupported_isa = true",
        )
        for audit in facts.audits
        if (audit.show or {}).get("unsupported_isa") and audit.identifier not in reported
    )
    return findings


def check_auditwheel_show(facts: Facts) -> list[Finding]:
    """What ``auditwheel show`` says of each raw wheel: libraries to vendor, and the
    symbol versions that cap its policy."""
    findings = []
    for audit in facts.audits:
        show = audit.show
        if not show or show.get("pure"):
            continue
        libs = {k: v for k, v in (show.get("external_libs") or {}).items() if v}
        versions = show.get("versioned_symbols") or {}
        sym_tag = show.get("sym_tag")
        overall = show.get("overall_tag")
        if libs:
            findings.append(Finding(
                "auditwheel-show",
                f"{audit.wheel}: repair will vendor "
                + ", ".join(f"{k} ({v})" for k, v in sorted(libs.items())),
                "nothing to do if intended; to keep a library out of the wheel use "
                "`auditwheel repair --exclude <soname>`",
                severity="info", identifier=audit.identifier,
            ))
        capping = _capping_versions(versions, sym_tag)
        if sym_tag and capping:
            findings.append(Finding(
                "auditwheel-show",
                f"{audit.wheel}: symbol versions cap the policy at {sym_tag}: {capping} "
                f"(overall {overall})",
                f"to reach an older policy, build in an older image (e.g. "
                f"{_older_image(sym_tag)} or older)",
                severity="info", identifier=audit.identifier,
            ))
        elif sym_tag:
            findings.append(Finding(
                "auditwheel-show",
                f"{audit.wheel}: its symbol versions allow every policy down to {sym_tag} "
                f"(overall {overall})",
                "nothing to do",
                severity="info", identifier=audit.identifier,
            ))
    return findings


def _capping_versions(versions: Mapping[str, Iterable[str]], sym_tag: str | None) -> str:
    """The versions that equal the cap (the newest per library)."""
    if not sym_tag:
        return ""
    parsed = elf.split_plat(sym_tag)
    if parsed is None:
        return ""
    policy, arch = parsed
    capping = []
    for lib, items in sorted(versions.items()):
        for version in items:
            allowing = elf.policy_allowing(
                version, arch, "musllinux" if policy.name.startswith("musllinux") else "manylinux"
            )
            if allowing == sym_tag:
                capping.append(f"{version} ({lib})")
    return ", ".join(capping)
