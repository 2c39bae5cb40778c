"""Checks of the host sdist build: failures an existing sdist avoids.

Some projects cannot build their sdist on the host for reasons that have nothing to do
with the wheels: meson-python runs ``meson dist``, which needs a git or Mercurial checkout
(an unpacked sdist has none); meson, CMake and cargo need the host's compilers, which the
container build has and the host may not. :func:`check_sdist_host` quotes the line that
says so and suggests building from an existing sdist (the ``sdist`` option).
"""

from __future__ import annotations

import re

from manywheels.diagnose._checks_common import failed_logs
from manywheels.diagnose.model import Facts, Finding

__all__ = ["SDIST_HOST_PATTERNS", "check_sdist_host"]

SDIST_HOST_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("meson dist needs a git or Mercurial checkout",
     re.compile(r"Dist currently only works with Git or Mercurial repos")),
    ("the host has no compiler for the sdist build",
     re.compile(r"Unknown compiler\(s\)|No CMAKE_C(XX)?_COMPILER could be found"
                r"|could not find (a |any )?(working )?(C|C\+\+) compiler", re.IGNORECASE)),
    ("the host has no Rust toolchain for the sdist build",
     re.compile(r"\b(cargo|rustc):? (command )?not found|can't find Rust compiler"
                r"|Cargo, the Rust package manager, is not installed", re.IGNORECASE)),
)
"""(cause, the log line's pattern) of the host sdist failures an existing sdist avoids."""

SDIST_FIX = ("build from an existing sdist instead of building one on the host: "
             "`--sdist PATH` (`MANYWHEELS_SDIST`, `sdist` in [tool.manywheels]), e.g. the "
             "release's sdist from PyPI (`pip download --no-deps --no-binary :all: NAME==VERSION`)")
"""The fix: the ``sdist`` option."""


def check_sdist_host(facts: Facts) -> list[Finding]:
    """The host sdist build failed for a reason an existing sdist avoids (meson dist outside
    git, a missing compiler or Rust toolchain): quote the line, suggest ``sdist``."""
    findings = []
    for log in failed_logs(facts, "sdist"):
        lines = [line.strip() for line in log.text.splitlines()]
        for cause, pattern in SDIST_HOST_PATTERNS:
            line = next((line for line in lines if pattern.search(line)), None)
            if line is not None:
                findings.append(Finding(
                    "sdist-host", f"sdist failed (built on the host): {cause}: {line}",
                    SDIST_FIX, identifier=log.identifier, log=log.path, evidence=line,
                ))
                break
    return findings
