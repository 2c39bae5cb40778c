"""The checks: pure functions from :class:`~manywheels.diagnose.model.Facts` to findings.

Every check returns a list of :class:`~manywheels.diagnose.model.Finding` whose
``fix`` is a concrete configuration change or command. :func:`diagnose` runs them all
and orders the findings (errors first, root causes such as the engine before the
symptoms they cause).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from manywheels.diagnose import elf, logs
from manywheels.diagnose.model import (
    SEVERITIES,
    Facts,
    Finding,
    LogText,
    ProjectFacts,
    VersionedSymbol,
)
from manywheels.diagnose.packages import (
    install_command,
    likely_package,
    package_manager_from_env,
    search_command,
)

__all__ = ["CHECKS", "diagnose", "native_sources"]

GIB = 1024**3
_MAX_NAMED = 8  # files named in one message before "and N more"

_SOURCE_SUFFIXES = (
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".pyx", ".pxd", ".pxi",
    ".f", ".f90", ".f95", ".rs", ".cu", ".m", ".mm",
)
_BUILD_FILES = ("CMakeLists.txt", "meson.build", "Cargo.toml", "Cargo.lock", "build.rs")
_NOT_SHIPPED_DIRS = {"tests", "test", "testing", "docs", "doc", "examples", "example",
                     "benchmarks", "bench", "ci", ".github"}


def _named(items: Iterable[str], limit: int = _MAX_NAMED) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown


def _quoted(items: Iterable[str], limit: int = _MAX_NAMED) -> str:
    items = list(items)
    return " ".join(shlex.quote(i.rstrip("/")) for i in items[:limit])


def _failed_logs(facts: Facts, stage: str | None = None) -> Iterator[LogText]:
    for log in facts.logs:
        if log.status == "failed" and (stage is None or log.stage == stage):
            yield log


def _log_of(facts: Facts, identifier: str, stage: str) -> LogText | None:
    return next(
        (log for log in facts.logs if log.identifier == identifier and log.stage == stage), None
    )


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


# ------------------------------------------------------------------ engine and image


def check_engine(facts: Facts) -> list[Finding]:
    """No engine installed, none answering, or permission denied on its socket."""
    engine = facts.engine
    if engine is None or engine.error is None:
        return []
    error = engine.error
    lowered = error.lower()
    where = engine.host
    if "permission denied" in lowered:
        return [Finding(
            "engine",
            f"permission denied on the container engine socket {engine.socket_path or where}",
            "add your user to the engine's group and log in again: "
            "`sudo usermod -aG docker $USER && newgrp docker` (or run as root, or use "
            "rootless Podman: DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock)",
            evidence=error,
        )]
    if engine.socket_path is not None and not engine.socket_exists and not engine.installed:
        return [Finding(
            "engine",
            f"no container engine is installed (no docker or podman on PATH, no socket at "
            f"{engine.socket_path})",
            "install one: `sudo apt-get install -y docker.io` (Debian/Ubuntu) or "
            "`sudo dnf install -y podman`, start it (`sudo systemctl start docker`), "
            "then rerun",
            evidence=error,
        )]
    if engine.socket_path is not None and not engine.socket_exists:
        installed = ", ".join(engine.installed)
        return [Finding(
            "engine",
            f"the container engine is not running: no socket at {engine.socket_path} "
            f"({installed} installed)",
            "start it: `sudo systemctl start docker` (or `sudo dockerd &`; Podman: "
            "`systemctl --user start podman.socket` and "
            "DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock), or point DOCKER_HOST "
            "at a running engine",
            evidence=error,
        )]
    return [Finding(
        "engine",
        f"the container engine at {where} does not answer",
        "start the engine behind it (`sudo systemctl start docker`), or fix DOCKER_HOST: "
        "unset it to use the default socket, or set it to a running engine's address "
        "(check with `docker -H <address> info`)",
        evidence=error,
    )]


def check_disk_space(facts: Facts) -> list[Finding]:
    """Little free space where the engine keeps images and containers."""
    engine = facts.engine
    if engine is None or engine.free_bytes is None or engine.free_bytes >= facts.min_free_bytes:
        return []
    where = engine.data_root or "the engine's data root"
    return [Finding(
        "disk-space",
        f"only {engine.free_bytes / GIB:.1f} GiB free for the container engine at {where} "
        f"(below {facts.min_free_bytes / GIB:.1f} GiB): builds may fail with "
        "'No space left on device'",
        "free space: `docker system prune` (stopped containers, dangling images, build "
        "cache), `docker image prune -a` for unused images, or move the engine's data-root "
        "to a larger disk",
        severity="warning",
    )]


_NOT_FOUND = re.compile(
    r"not found|manifest unknown|does not exist|pull access denied|repository .* not found|"
    r"invalid reference format|unauthorized",
    re.IGNORECASE,
)


def check_image(facts: Facts) -> list[Finding]:
    """The image is absent locally and cannot be pulled."""
    image = facts.image
    if image is None or image.present or image.error is None:
        return []
    local = [i for i in image.local_images if i != image.ref]
    alternatives = (
        f"; build images this engine has: {_named(local, 5)} (e.g. --image {local[0]})"
        if local else ""
    )
    if _NOT_FOUND.search(image.error) and "connection" not in image.error.lower():
        cause = f"image {image.ref} does not exist in its registry (or needs a login)"
        fix = (
            "check the name and tag (e.g. quay.io/pypa/manylinux_2_28_x86_64, "
            "quay.io/pypa/musllinux_1_2_x86_64), or `docker login` to a private registry"
            + alternatives
        )
    else:
        cause = f"image {image.ref} is not present locally and its registry cannot be reached"
        fix = (
            f"pull it where the registry is reachable and load it here (`docker pull "
            f"{image.ref} && docker save {image.ref} | gzip > image.tgz`, then "
            "`docker load < image.tgz`), or give the engine a proxy for pulls "
            "(HTTPS_PROXY in its service environment)" + alternatives
        )
    return [Finding("image", cause, fix, evidence=image.error)]


def check_python_tags(facts: Facts) -> list[Finding]:
    """A requested Python tag the image does not have."""
    image = facts.image
    if image is None or image.pythons is None or not facts.requested_pythons:
        return []
    missing = [tag for tag in facts.requested_pythons if tag not in image.pythons]
    if not missing:
        return []
    have = " ".join(image.pythons) or "none"
    kept = [tag for tag in facts.requested_pythons if tag in image.pythons]
    choice = " ".join(kept or image.pythons)
    return [Finding(
        "python-tag",
        f"python tag {' '.join(missing)} is not in image {image.ref}; the image has: {have}",
        f"build only what the image has (`--python {choice}`, or python = "
        f"{_toml_list(kept or image.pythons)} in [tool.manywheels]), or choose an image that "
        f"has {missing[0]}",
        evidence=f"/opt/python in {image.ref}: {have}",
    )]


# ------------------------------------------------------------------ project tree


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
    remove = f"rm -rf {_quoted(project.stale)}"
    if shipped:
        return [Finding(
            "stale-build-products",
            f"the sdist {project.sdist} contains stale build products from the project tree: "
            f"{_named(shipped)}; wheels built from it may ship them instead of fresh builds",
            f"delete them and rebuild: `{remove}` (or `git clean -xdf` to remove every "
            "untracked file), and keep them out of MANIFEST.in (prune/exclude)",
            evidence=f"in {project.sdist}: {shipped[0]}",
        )]
    return [Finding(
        "stale-build-products",
        f"stale build products in the project tree: {_named(project.stale)}",
        f"delete them: `{remove}` (or `git clean -xdf` to remove every untracked file); "
        "they can leak into the sdist and confuse local imports",
        severity="warning",
    )]


def _locate(name: str, files: Iterable[str]) -> list[str]:
    """Files whose path is ``name`` or ends with ``/name`` (a header in an include dir)."""
    name = name.lstrip("./")
    if name.startswith("/manywheels/"):
        # /manywheels/<identifier>/src/<path>: the sdist's extraction directory.
        parts = name.split("/", 4)
        name = parts[4] if len(parts) > 4 else ""
    if not name or name.startswith("/"):
        return []
    suffix = "/" + name
    return sorted(f for f in files if f == name or f.endswith(suffix))


def _in_sdist_only_tree(project: ProjectFacts, name: str) -> list[str]:
    """Tree files matching ``name`` that the sdist lacks (empty if the sdist has one)."""
    if project.sdist_files is None:
        return []
    if _locate(name, project.sdist_files):
        return []
    return _locate(name, project.tree_files)


def _include_fix(project: ProjectFacts, files: list[str]) -> str:
    backend = project.build_backend or "setuptools.build_meta:__legacy__"
    if project.uses_scm or backend == "mesonpy":
        return (
            "the sdist's file list comes from git: commit them "
            f"(`git add {_quoted(files)} && git commit`)"
        )
    if backend.startswith("setuptools"):
        lines = "; ".join(f"include {f}" for f in files[:_MAX_NAMED])
        return f"list them in MANIFEST.in ({lines}), or graft their directory"
    if backend.startswith("hatchling"):
        return f"[tool.hatch.build.targets.sdist] include = {_toml_list(files[:_MAX_NAMED])}"
    if backend.startswith("scikit_build_core"):
        return f"[tool.scikit-build] sdist.include = {_toml_list(files[:_MAX_NAMED])}"
    if backend.startswith("maturin"):
        items = ", ".join(f'{{ path = "{f}", format = "sdist" }}' for f in files[:_MAX_NAMED])
        return f"[tool.maturin] include = [{items}]"
    if backend.startswith("flit"):
        return f"[tool.flit.sdist] include = {_toml_list(files[:_MAX_NAMED])}"
    if backend.startswith("pdm"):
        return f"[tool.pdm.build] source-includes = {_toml_list(files[:_MAX_NAMED])}"
    if backend.startswith("poetry"):
        items = ", ".join(f'{{ path = "{f}", format = "sdist" }}' for f in files[:_MAX_NAMED])
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
    for log in _failed_logs(facts, "build"):
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
                f"the sdist {project.sdist} lacks {_named(lacking)}, which the build needs "
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
                f"{_named(absent)} (the build from the sdist failed)",
                _include_fix(project, absent),
                severity="warning", identifier=unexplained[0].identifier,
                log=unexplained[0].path,
            ))
    return findings


# ------------------------------------------------------------------ compile failures


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


def check_missing_dependency(facts: Facts) -> list[Finding]:
    """A header, library or pkg-config module the compile needs and the image lacks."""
    manager = _package_manager(facts)
    findings: list[Finding] = []
    project = facts.project
    for log in _failed_logs(facts, "build"):
        items: list[tuple[str, str, str]] = []  # (kind, name, line)
        for match in logs.missing_headers(log.text):
            if project is not None and _locate(match.value, project.tree_files):
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
        log = _log_of(facts, identifier, "build")
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
                f"sources: {_named(sources, 4)}; no extension module is declared or built",
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


# ------------------------------------------------------------------ package index


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
                        f"{_toml_list(sorted(set(unpassed) | {'NO_PROXY'}))} in "
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


# ------------------------------------------------------------------ auditwheel


def _audit_for(facts: Facts, identifier: str | None, wheel: str | None = None) -> Any:
    for audit in facts.audits:
        if (wheel and audit.wheel == wheel) or (identifier and audit.identifier == identifier):
            return audit
    return None


def _symbols_message(bad: list[tuple[VersionedSymbol, str | None]]) -> str:
    parts = []
    for symbol, allowing in bad[:_MAX_NAMED]:
        needs = f" (needs {allowing})" if allowing else ""
        parts.append(f"{symbol.name}@{symbol.version}{needs}")
    more = f" and {len(bad) - _MAX_NAMED} more" if len(bad) > _MAX_NAMED else ""
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
    for log in _failed_logs(facts, "repair"):
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
        build = _log_of(facts, identifier, "build") if identifier else None
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

    for log in _failed_logs(facts, "repair"):
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
    for log in _failed_logs(facts, "repair"):
        problems = logs.isa_problems(log.text)
        if not problems:
            continue
        levels = sorted({p.value.rsplit(": ", 1)[-1] for p in problems if p.value})
        files = sorted({p.value.rsplit(": ", 1)[0] for p in problems if p.value})
        needs = f" ({', '.join(levels)} in {_named(files, 3)})" if levels else ""
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


# ------------------------------------------------------------------ fallback


def check_unexplained_failures(facts: Facts, explained: set[tuple[str | None, str]]
                               ) -> list[Finding]:
    """A failed stage no other check explains: its most telling line and its log."""
    findings = []
    for log in _failed_logs(facts):
        if (log.identifier, log.stage) in explained:
            continue
        line = logs.best_error_line(log.text)
        findings.append(Finding(
            "stage-failed",
            f"{log.stage} failed for {log.identifier}: {line or 'no error line in the log'}",
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
    ("sdist-incomplete", check_sdist_incomplete),
    ("missing-dependency", check_missing_dependency),
    ("too-recent-symbols", check_too_recent_symbols),
    ("library-not-found", check_library_not_found),
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
