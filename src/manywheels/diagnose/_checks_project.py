"""Checks of the project: its sdist (files the build needs and the sdist lacks), stale
build products in the tree, and a pure wheel where a platform wheel was expected."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from manywheels.diagnose import logs
from manywheels.diagnose._checks_common import (
    MAX_NAMED,
    failed_logs,
    locate,
    log_of,
    named,
    quoted,
    toml_list,
)
from manywheels.diagnose.model import Facts, Finding, LogText, ProjectFacts

__all__ = ["check_pure_wheel", "check_sdist_incomplete", "check_stale_products", "native_sources"]

_SOURCE_SUFFIXES = (
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".pyx", ".pxd", ".pxi",
    ".f", ".f90", ".f95", ".rs", ".cu", ".m", ".mm",
)
_BUILD_FILES = ("CMakeLists.txt", "meson.build", "Cargo.toml", "Cargo.lock", "build.rs")
_NOT_SHIPPED_DIRS = {"tests", "test", "testing", "docs", "doc", "examples", "example",
                     "benchmarks", "bench", "ci", ".github"}


def _dirs_and_files(stale: Iterable[str]) -> tuple[list[str], list[str]]:
    dirs = [s for s in stale if s.endswith("/")]
    files = [s for s in stale if not s.endswith("/")]
    return dirs, files


def check_stale_products(facts: Facts) -> list[Finding]:
    """Build products left in the project tree (``*.so``, ``build/``, ``*.egg-info``)."""
    project = facts.project
    if project is None or not project.stale:
        return []
    _, files = _dirs_and_files(project.stale)
    shipped = [f for f in files if project.sdist_files is not None and f in project.sdist_files]
    remove = f"rm -rf {quoted(project.stale)}"
    if shipped:
        return [Finding(
            "stale-build-products",
            f"the sdist {project.sdist} contains stale build products from the project tree: "
            f"{named(shipped)}; wheels built from it may ship them instead of fresh builds",
            f"delete them and rebuild: `{remove}` (or `git clean -xdf` to remove every "
            "untracked file), and keep them out of MANIFEST.in (prune/exclude)",
            evidence=f"in {project.sdist}: {shipped[0]}",
        )]
    return [Finding(
        "stale-build-products",
        f"stale build products in the project tree: {named(project.stale)}",
        f"delete them: `{remove}` (or `git clean -xdf` to remove every untracked file); "
        "they can leak into the sdist and confuse local imports",
        severity="warning",
    )]


def _in_sdist_only_tree(project: ProjectFacts, name: str) -> list[str]:
    """Tree files matching ``name`` that the sdist lacks (empty if the sdist has one)."""
    if project.sdist_files is None:
        return []
    if locate(name, project.sdist_files):
        return []
    return locate(name, project.tree_files)


def _include_fix(project: ProjectFacts, files: list[str]) -> str:
    backend = project.build_backend or "setuptools.build_meta:__legacy__"
    if project.uses_scm or backend == "mesonpy":
        return (
            "the sdist's file list comes from git: commit them "
            f"(`git add {quoted(files)} && git commit`)"
        )
    if backend.startswith("setuptools"):
        lines = "; ".join(f"include {f}" for f in files[:MAX_NAMED])
        return f"list them in MANIFEST.in ({lines}), or graft their directory"
    if backend.startswith("hatchling"):
        return f"[tool.hatch.build.targets.sdist] include = {toml_list(files[:MAX_NAMED])}"
    if backend.startswith("scikit_build_core"):
        return f"[tool.scikit-build] sdist.include = {toml_list(files[:MAX_NAMED])}"
    if backend.startswith("maturin"):
        items = ", ".join(f'{{ path = "{f}", format = "sdist" }}' for f in files[:MAX_NAMED])
        return f"[tool.maturin] include = [{items}]"
    if backend.startswith("flit"):
        return f"[tool.flit.sdist] include = {toml_list(files[:MAX_NAMED])}"
    if backend.startswith("pdm"):
        return f"[tool.pdm.build] source-includes = {toml_list(files[:MAX_NAMED])}"
    if backend.startswith("poetry"):
        items = ", ".join(f'{{ path = "{f}", format = "sdist" }}' for f in files[:MAX_NAMED])
        return f"[tool.poetry] include = [{items}]"
    return f"make the build backend ({backend}) include them in the sdist"


def native_sources(files: Iterable[str]) -> list[str]:
    """Compiled-language sources and native build files among project paths, leaving out
    tests, docs and examples."""
    found = []
    for path in files:
        parts = path.split("/")
        if _NOT_SHIPPED_DIRS & set(parts[:-1]):
            continue
        if path.endswith(_SOURCE_SUFFIXES) or parts[-1] in _BUILD_FILES:
            found.append(path)
    return sorted(found)


def check_sdist_incomplete(facts: Facts) -> list[Finding]:
    """The sdist lacks files the build needs: files a failed build log names that the
    project tree has and the sdist does not."""
    project = facts.project
    if project is None or project.sdist_files is None:
        return []
    findings: list[Finding] = []
    unexplained: list[LogText] = []
    for log in failed_logs(facts, "build"):
        lacking: list[str] = []
        evidence = None
        for match in logs.missing_files(log.text):
            found = _in_sdist_only_tree(project, match.value)
            if found:
                lacking.extend(f for f in found if f not in lacking)
                evidence = evidence or match.line
        if lacking:
            findings.append(Finding(
                "sdist-incomplete",
                f"the sdist {project.sdist} lacks {named(lacking)}, which the build needs "
                "(the project tree has them)",
                _include_fix(project, lacking),
                identifier=log.identifier, log=log.path, evidence=evidence,
            ))
        else:
            unexplained.append(log)
    if unexplained and not findings:
        absent = [f for f in native_sources(project.tree_files)
                  if f not in project.sdist_files]
        if absent:
            findings.append(Finding(
                "sdist-incomplete",
                f"the sdist {project.sdist} lacks source files the project tree has: "
                f"{named(absent)} (the build from the sdist failed)",
                _include_fix(project, absent),
                severity="warning", identifier=unexplained[0].identifier,
                log=unexplained[0].path,
            ))
    return findings


def check_pure_wheel(facts: Facts) -> list[Finding]:
    """A pure-Python wheel (platform ``any``) where a platform wheel was expected."""
    findings = []
    targets: Mapping[str, Any] = facts.report.get("targets", {})
    project = facts.project
    sources = native_sources(project.tree_files) if project is not None else []
    for identifier, target in sorted(targets.items()):
        build = target.get("stages", {}).get("build", {})
        if not build.get("pure") or build.get("status") != "passed":
            continue
        wheel = build.get("wheel", "the wheel")
        log = log_of(facts, identifier, "build")
        optional = logs.optional_extension_failed(log.text) if log else None
        if optional is not None:
            findings.append(Finding(
                "pure-wheel",
                f"{wheel} is pure Python: the optional C extension failed to build",
                "read the compiler error above that line in the log and fix it (often a "
                "missing header: add its -devel package to before-all); make the extension "
                "required in CI so it cannot fail silently",
                identifier=identifier, log=log.path if log else None, evidence=optional.line,
            ))
        elif sources:
            backend = project.build_backend if project else None
            declare = (
                'declare it: ext_modules=[Extension("pkg._ext", ["pkg/_ext.c"])] in setup.py '
                "(or [tool.setuptools] ext-modules in pyproject.toml)"
                if backend is None or backend.startswith("setuptools")
                else f"declare the extension module in the {backend} build configuration"
            )
            findings.append(Finding(
                "pure-wheel",
                f"{wheel} is pure Python (platform 'any') although the project has native "
                f"sources: {named(sources, 4)}; no extension module is declared or built",
                declare,
                identifier=identifier, log=log.path if log else None,
                evidence=f"build record: pure = true, wheel = {wheel}",
            ))
        else:
            findings.append(Finding(
                "pure-wheel",
                f"{wheel} is pure Python and the project has no native sources: manylinux "
                "images are not needed",
                "build one py3-none-any wheel on the host instead (`python -m build --wheel`)",
                severity="warning", identifier=identifier, log=log.path if log else None,
            ))
    return findings
