"""The host sdist build failing for a reason an existing sdist avoids (issue 13, item 6).

``meson-dist.sdist.log`` is pypa/build's real output for contourpy 1.3.1's unpacked sdist
(no git): meson-python runs ``meson dist``, which refuses outside git or Mercurial.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from manywheels.diagnose import Facts, LogText, diagnose, short_lines

DATA = Path(__file__).parent.parent / "data" / "diagnose"


def _sdist_log(text: str) -> LogText:
    return LogText("sdist", "sdist", "logs/sdist/sdist.log", text, "failed")


def test_meson_dist_outside_git_quotes_meson_and_suggests_sdist() -> None:
    log = _sdist_log((DATA / "meson-dist.sdist.log").read_text())
    findings = diagnose(Facts(logs=(log,)))
    assert [f.check for f in findings] == ["sdist-host"]  # no generic stage-failed
    (finding,) = findings
    assert finding.evidence == "Dist currently only works with Git or Mercurial repos"
    assert "Dist currently only works with Git or Mercurial repos" in finding.cause
    assert "--sdist PATH" in finding.fix and "MANYWHEELS_SDIST" in finding.fix
    assert "sdist.sh" not in " ".join(short_lines(findings))


@pytest.mark.parametrize(("line", "cause"), [
    ("meson.build:1:0: ERROR: Unknown compiler(s): [['c++'], ['g++'], ['clang++']]",
     "no compiler"),
    ("-- No CMAKE_CXX_COMPILER could be found.", "no compiler"),
    ("/bin/sh: 1: cargo: not found", "no Rust toolchain"),
    ("Cargo, the Rust package manager, is not installed or is not on PATH.",
     "no Rust toolchain"),
])
def test_missing_host_toolchain_suggests_sdist(line: str, cause: str) -> None:
    log = _sdist_log(f"* Getting build dependencies for sdist...\n{line}\n"
                     "ERROR Backend subprocess exited when trying to invoke build_sdist\n")
    (finding,) = diagnose(Facts(logs=(log,)))
    assert finding.check == "sdist-host" and cause in finding.cause
    assert finding.evidence == line.strip() and "--sdist PATH" in finding.fix


def test_a_build_log_with_the_same_line_is_not_an_sdist_host_failure() -> None:
    log = LogText("cp312-manylinux_x86_64", "build", "logs/cp312-manylinux_x86_64/build.log",
                  "Dist currently only works with Git or Mercurial repos\n", "failed")
    assert "sdist-host" not in [f.check for f in diagnose(Facts(logs=(log,)))]
