"""The checks: pure functions from :class:`~manywheels.diagnose.model.Facts` to findings.

Every check returns a list of :class:`~manywheels.diagnose.model.Finding` whose
``fix`` is a concrete configuration change or command. They live by topic: the build
environment (:mod:`._checks_engine`), the project and its sdist (:mod:`._checks_project`),
the compile and before-all (:mod:`._checks_build`), the repair (:mod:`._checks_repair`).
:func:`diagnose` runs them all and orders the findings (errors first, root causes such
as the engine before the symptoms they cause).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from manywheels.diagnose import logs
from manywheels.diagnose._checks_build import (
    check_before_all_packages,
    check_index,
    check_missing_dependency,
)
from manywheels.diagnose._checks_common import failed_logs
from manywheels.diagnose._checks_engine import (
    check_disk_space,
    check_engine,
    check_image,
    check_python_tags,
)
from manywheels.diagnose._checks_project import (
    check_pure_wheel,
    check_sdist_incomplete,
    check_stale_products,
    native_sources,
)
from manywheels.diagnose._checks_repair import (
    check_auditwheel_show,
    check_isa,
    check_library_not_found,
    check_too_recent_symbols,
)
from manywheels.diagnose._checks_sdist import check_sdist_host
from manywheels.diagnose._checks_test import check_unvendored_library
from manywheels.diagnose.model import SEVERITIES, Facts, Finding, LogText

__all__ = [
    "CHECKS",
    "check_auditwheel_show",
    "check_before_all_packages",
    "check_disk_space",
    "check_engine",
    "check_image",
    "check_index",
    "check_isa",
    "check_library_not_found",
    "check_missing_dependency",
    "check_pure_wheel",
    "check_python_tags",
    "check_sdist_host",
    "check_sdist_incomplete",
    "check_stale_products",
    "check_too_recent_symbols",
    "check_unexplained_failures",
    "check_unvendored_library",
    "diagnose",
    "native_sources",
]


def check_unexplained_failures(facts: Facts, explained: set[tuple[str | None, str]]
                               ) -> list[Finding]:
    """A failed stage no other check explains: its most telling line and its log."""
    findings = []
    for log in failed_logs(facts):
        if (log.identifier, log.stage) in explained:
            continue
        line = logs.best_error_line(log.text)
        what = ("sdist failed (built on the host)" if log.stage == "sdist"
                else f"{log.stage} failed for {log.identifier}")
        findings.append(Finding(
            "stage-failed",
            f"{what}: {line or 'no error line in the log'}",
            _read_log_fix(facts, log),
            identifier=log.identifier, log=log.path, evidence=line,
        ))
    return findings


def _read_log_fix(facts: Facts, log: LogText) -> str:
    """Where to read more: the log, and what ran (the sdist is built on the host by a
    command the log's first line shows; the other stages keep their script beside it)."""
    path = posixpath.join(facts.output_dir, log.path)
    if log.stage == "sdist":
        return (
            f"read the log ({path}); its first line is the command that ran on the host "
            "(python -m build --sdist): run it in the project directory to reproduce"
        )
    script = posixpath.join(posixpath.dirname(path), f"{log.stage}.sh")
    return f"read the log ({path}); the script that ran is beside it ({script})"


CHECKS: tuple[tuple[str, Callable[[Facts], list[Finding]]], ...] = (
    ("engine", check_engine),
    ("image", check_image),
    ("python-tag", check_python_tags),
    ("disk-space", check_disk_space),
    ("before-all-package", check_before_all_packages),
    ("index", check_index),
    ("sdist-host", check_sdist_host),
    ("sdist-incomplete", check_sdist_incomplete),
    ("missing-dependency", check_missing_dependency),
    ("too-recent-symbols", check_too_recent_symbols),
    ("library-not-found", check_library_not_found),
    ("unvendored-library", check_unvendored_library),
    ("isa-extensions", check_isa),
    ("pure-wheel", check_pure_wheel),
    ("stale-build-products", check_stale_products),
    ("auditwheel-show", check_auditwheel_show),
)
"""Every check, in the order root causes come before their symptoms."""


def diagnose(facts: Facts) -> list[Finding]:
    """Run every check over the facts.

    Args:
        facts: what was gathered (logs, report, tree, image and engine facts).

    Returns:
        The findings, errors first, then warnings, then information; within a
        severity, in :data:`CHECKS` order. A failed stage that no check explains gets a
        ``stage-failed`` finding naming its most telling log line.
    """
    findings: list[Finding] = []
    for _, check in CHECKS:
        findings.extend(check(facts))
    explained: set[tuple[str | None, str]] = set()
    for finding in findings:
        if finding.severity == "info" or finding.log is None:
            continue
        explained.update(
            (log.identifier, log.stage) for log in facts.logs if log.path == finding.log
        )
    findings.extend(check_unexplained_failures(facts, explained))
    order = {check: index for index, (check, _) in enumerate(CHECKS)}
    rank = {"missing-header": order["missing-dependency"],
            "missing-library": order["missing-dependency"],
            "index-tls": order["index"], "index-unreachable": order["index"],
            "stage-failed": len(order)}
    return sorted(
        findings,
        key=lambda f: (SEVERITIES.index(f.severity), rank.get(f.check, order.get(f.check, 99))),
    )
