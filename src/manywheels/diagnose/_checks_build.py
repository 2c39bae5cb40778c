"""Checks of the compile and of before-all: a header, library or package the image
lacks, and a package index the container cannot reach."""

from __future__ import annotations

from collections.abc import Collection

from manywheels.diagnose import logs
from manywheels.diagnose._checks_common import failed_logs, locate, toml_list
from manywheels.diagnose._includes import is_project_header, searched_dirs
from manywheels.diagnose.model import Facts, Finding
from manywheels.diagnose.packages import (
    install_command,
    likely_package,
    package_manager_from_env,
    search_command,
)

__all__ = ["check_before_all_packages", "check_index", "check_missing_dependency"]


def _package_manager(facts: Facts) -> str:
    image = facts.image
    if image is not None and image.package_manager:
        return image.package_manager
    if image is not None:
        guessed = package_manager_from_env(image.env)
        if guessed:
            return guessed
    if facts.plat:
        guessed = package_manager_from_env({"AUDITWHEEL_PLAT": facts.plat})
        if guessed:
            return guessed
    return "dnf"


def _before_all_fix(facts: Facts, packages: list[str], searches: list[str]) -> str:
    manager = _package_manager(facts)
    command = install_command(manager, packages)
    if facts.before_all.strip():
        fix = f'append to before-all: "{command}"'
    else:
        fix = f'before-all = "{command}" in [tool.manywheels] (or --before-all \'{command}\')'
    if searches:
        fix += f"; the package name is a guess, confirm with `{searches[0]}` in the image"
    return fix


def _own_header(match: logs.Match, text: str, tree_files: Collection[str]) -> bool:
    """Whether a header the compile missed is the project's own: in a directory the
    compile searched (:mod:`._includes`); anywhere in the tree when the log shows no
    compile command."""
    dirs = searched_dirs(text, match.line)
    if dirs is None:
        return bool(locate(match.value, tree_files))
    return is_project_header(match.value, dirs, tree_files)


def check_missing_dependency(facts: Facts) -> list[Finding]:
    """A header, library or pkg-config module the compile needs and the image lacks."""
    manager = _package_manager(facts)
    findings: list[Finding] = []
    project = facts.project
    for log in failed_logs(facts, "build"):
        items: list[tuple[str, str, str]] = []  # (kind, name, line)
        for match in logs.missing_headers(log.text):
            if project is not None and _own_header(match, log.text, project.tree_files):
                continue  # the project's own header: see sdist-incomplete
            items.append(("header", match.value, match.line))
        items += [("library", m.value, m.line) for m in logs.missing_libraries(log.text)]
        items += [("pkg-config", m.value, m.line) for m in logs.missing_pkgconfig(log.text)]
        if not items:
            continue
        packages: list[str] = []
        searches: list[str] = []
        for kind, name, _ in items:
            guess = likely_package(kind, name, manager)
            if guess.name not in packages:
                packages.append(guess.name)
            if not guess.known:
                searches.append(search_command(manager, kind, name))
        kind, name, line = items[0]
        what = {"header": f"header {name}", "library": f"library -l{name}",
                "pkg-config": f"pkg-config module {name}"}
        missing = ", ".join(what[k].split(" ", 1)[1] if i else what[k]
                            for i, (k, _, _) in enumerate(items))
        check = "missing-header" if kind in {"header", "pkg-config"} else "missing-library"
        image = facts.image.ref if facts.image else "the image"
        findings.append(Finding(
            check,
            f"the compile needs {missing}, which {image} does not have "
            f"(likely package: {', '.join(packages)})",
            _before_all_fix(facts, packages, searches),
            identifier=log.identifier, log=log.path, evidence=line,
        ))
    return findings


def check_before_all_packages(facts: Facts) -> list[Finding]:
    """before-all asked the package manager for packages it does not know."""
    findings = []
    for log in facts.logs:
        if log.stage != "before-all":
            continue
        missing = logs.missing_packages(log.text)
        if not missing:
            continue
        manager = _package_manager(facts)
        names = [m.value for m in missing]
        findings.append(Finding(
            "before-all-package",
            f"before-all: the image's package manager ({manager}) has no package "
            f"{', '.join(names)}",
            f"find the right name with `{search_command(manager, 'package', names[0])}` "
            "in the image (names differ between yum/dnf, apk and apt images) and fix "
            "before-all",
            log=log.path, evidence=missing[0].line,
        ))
    return findings


def check_index(facts: Facts) -> list[Finding]:
    """The package index is unreachable from the container, or TLS verification fails."""
    findings = []
    proxies = [v for v in facts.host_variables if v.upper().endswith("_PROXY")]
    unpassed = [v for v in proxies if v not in facts.environment_pass
                and v not in facts.environment]
    for log in facts.logs:
        if log.stage not in {"build", "test", "before-all"} or log.status not in {"failed", None}:
            continue
        for problem in logs.index_problems(log.text):
            host = logs.url_host(problem.url) or "the package index"
            if problem.kind == "tls":
                bundle = (
                    f"the CA bundle passed in ({facts.ca_bundle}) does not trust {host}"
                    if facts.ca_bundle else "no CA bundle was passed in"
                )
                findings.append(Finding(
                    "index-tls",
                    f"TLS verification fails in the container for {host}: {bundle} "
                    "(a TLS-intercepting proxy or a private index CA)",
                    "on the host, point SSL_CERT_FILE (or PIP_CERT) at a CA bundle that "
                    "contains your proxy's or index's CA (e.g. add it to "
                    "/usr/local/share/ca-certificates and run `update-ca-certificates`, then "
                    "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt); manywheels mounts it "
                    "in the container",
                    identifier=log.identifier, log=log.path, evidence=problem.line,
                ))
            else:
                if host.startswith(("127.", "localhost", "[::1]")):
                    fix = (
                        f"{host} is the container's own loopback, not the host: use an "
                        "address the container can reach (the host's IP, or "
                        "host.docker.internal) in PIP_INDEX_URL / UV_INDEX_URL"
                    )
                elif unpassed:
                    fix = (
                        f"pass the host's proxy settings in: environment-pass = "
                        f"{toml_list(sorted(set(unpassed) | {'NO_PROXY'}))} in "
                        "[tool.manywheels]"
                    )
                else:
                    fix = (
                        "check PIP_INDEX_URL / UV_INDEX_URL on the host (they are passed "
                        "in), or behind a proxy set HTTPS_PROXY/HTTP_PROXY/NO_PROXY on the "
                        "host and environment-pass = [\"HTTPS_PROXY\", \"HTTP_PROXY\", "
                        "\"NO_PROXY\"]"
                    )
                findings.append(Finding(
                    "index-unreachable",
                    f"the package index {host} cannot be reached from the container "
                    "(build requirements could not be installed)",
                    fix, identifier=log.identifier, log=log.path, evidence=problem.line,
                ))
    return findings
