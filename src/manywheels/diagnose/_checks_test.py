"""Checks of a failed test: shared libraries the repaired wheel needs at run time and
does not carry (found missing in a clean ``test-image``, or by the import itself)."""

from __future__ import annotations

import re

from manywheels.diagnose._checks_common import failed_logs
from manywheels.diagnose.model import Facts, Finding

__all__ = ["check_unvendored_library"]

_TEST_IMAGE_LINE = re.compile(
    r"manywheels: in test-image (?P<image>\S+), not found by the dynamic linker[^:]*: "
    r"(?P<items>.+)$", re.MULTILINE)
_IMPORT_ERROR = re.compile(
    r"(?:ImportError|OSError): (?P<soname>lib[\w.+-]+\.so[\w.]*): cannot open shared object "
    r"file", re.MULTILINE)


def _sonames(items: str) -> list[str]:
    """``mod.so: libx.so.1; mod2.so: liby.so`` -> the sonames, in order, once each."""
    found = [item.rpartition(": ")[2].strip() for item in items.split("; ")]
    return list(dict.fromkeys(name for name in found if name))


def check_unvendored_library(facts: Facts) -> list[Finding]:
    """A failed test whose wheel needs a shared library it does not carry: named by
    manywheels' ``ldd`` probe in a ``test-image``, or by an ``ImportError``."""
    findings = []
    for log in failed_logs(facts, "test"):
        match = _TEST_IMAGE_LINE.search(log.text)
        where = f"the test image {match['image']}" if match else "the test environment"
        names = _sonames(match["items"]) if match else list(dict.fromkeys(
            m["soname"] for m in _IMPORT_ERROR.finditer(log.text)))
        if not names:
            continue
        shown = ", ".join(names)
        findings.append(Finding(
            "unvendored-library",
            f"the repaired wheel of {log.identifier} needs {shown} at run time and does not "
            f"carry it; {where} does not have it either (the build container had it from "
            "before-all, so a test there passed)",
            "let auditwheel vendor it: drop its `--exclude` from repair-command (the default "
            "repair-command vendors every library outside the policy); exclude only libraries "
            "every target system provides, and then install them in test-image too",
            identifier=log.identifier, log=log.path,
            evidence=match.group(0) if match else shown,
        ))
    return findings
