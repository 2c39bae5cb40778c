"""Failure diagnosis: the cause in one line and the fix as a config change or command.

Diagnosis is a pure function, :func:`diagnose`, over :class:`Facts` gathered
beforehand: the logs the stages keep per identifier
(``<output-dir>/logs/<identifier>/<stage>.log``), the run report, a listing of the
project tree and its sdist, image and engine facts, and ``auditwheel show`` of the raw
wheels. Gathering is :mod:`manywheels.stages.troubleshoot`'s job; it never re-runs a
build.

Rendering: :func:`short_lines` (the automatic diagnosis after a failing stage),
:func:`report_lines` (the full report of ``wheels-troubleshoot``) and
:func:`to_json` (``--json``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from manywheels.diagnose.checks import CHECKS, diagnose
from manywheels.diagnose.model import (
    SEVERITIES,
    EngineFacts,
    Facts,
    Finding,
    ImageFacts,
    LogText,
    ProjectFacts,
    Severity,
    VersionedSymbol,
    WheelAudit,
)

__all__ = [
    "CHECKS",
    "JSON_VERSION",
    "SEVERITIES",
    "EngineFacts",
    "Facts",
    "Finding",
    "ImageFacts",
    "LogText",
    "ProjectFacts",
    "Severity",
    "VersionedSymbol",
    "WheelAudit",
    "diagnose",
    "report_lines",
    "short_lines",
    "to_json",
]

JSON_VERSION = 1
"""Version of the ``--json`` document's shape."""


def _grouped(findings: Sequence[Finding]) -> list[tuple[Finding, list[str]]]:
    """Findings that differ only in their identifier (and log), merged: the first
    finding of each group with every identifier it concerns, in order."""
    groups: dict[tuple[str, str, str, str], tuple[Finding, list[str]]] = {}
    for finding in findings:
        key = (finding.check, finding.severity, finding.cause, finding.fix)
        _, identifiers = groups.setdefault(key, (finding, []))
        if finding.identifier and finding.identifier not in identifiers:
            identifiers.append(finding.identifier)
    return list(groups.values())


def _where(identifiers: list[str]) -> str:
    return f"{', '.join(identifiers)}: " if identifiers else ""


def short_lines(findings: Sequence[Finding], limit: int = 3) -> list[str]:
    """The automatic diagnosis: the top problems, one line each (``cause -> fix``).

    Findings that differ only in their identifier share one line.

    Args:
        findings: as returned by :func:`diagnose` (most severe first).
        limit: at most this many lines of findings (a last line says how many more).

    Returns:
        Lines without a trailing newline; empty when nothing but information was found.
    """
    problems = _grouped([f for f in findings if f.severity != "info"])
    lines = [f"{_where(ids)}{f.cause} -> fix: {f.fix}" for f, ids in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more")
    return lines


def report_lines(findings: Sequence[Finding]) -> list[str]:
    """The full report: every finding with its severity, cause, fix, log and evidence
    (findings that differ only in their identifier share one entry)."""
    if not findings:
        return ["no problems found"]
    lines: list[str] = []
    for finding, identifiers in _grouped(findings):
        lines.append(f"[{finding.severity}] {finding.check}: {_where(identifiers)}"
                     f"{finding.cause}")
        lines.append(f"    fix: {finding.fix}")
        if finding.log:
            lines.append(f"    log: {finding.log}")
        if finding.evidence:
            lines.append(f"    evidence: {finding.evidence}")
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    lines.append(", ".join(f"{n} {s}(s)" for s, n in counts.items()))
    return lines


def to_json(findings: Sequence[Finding], facts: Facts | None = None) -> str:
    """The ``--json`` document::

        {"version": 1, "project_dir": "...", "output_dir": "...",
         "counts": {"error": 1, "warning": 0, "info": 2},
         "findings": [{"check": "missing-header", "cause": "...", "fix": "...",
                       "severity": "error", "identifier": "cp312-manylinux_x86_64",
                       "log": "logs/cp312-manylinux_x86_64/build.log",
                       "evidence": "..."}]}
    """
    document = {
        "version": JSON_VERSION,
        "project_dir": facts.project_dir if facts else None,
        "output_dir": facts.output_dir if facts else None,
        "counts": {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES},
        "findings": [f.to_dict() for f in findings],
    }
    return json.dumps(document, indent=2)
