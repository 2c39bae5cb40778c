"""Log patterns: what compilers, linkers, pip/uv and auditwheel print when they fail.

Each function takes the text of one log and returns what it found, with the line
that shows it. The patterns come from real failures (the fixtures in
``tests/unit/data/diagnose`` were captured from runs in containers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "Match",
    "best_error_line",
    "index_problems",
    "isa_problems",
    "link_dirs",
    "missing_files",
    "missing_headers",
    "missing_libraries",
    "missing_packages",
    "missing_pkgconfig",
    "optional_extension_failed",
    "too_recent_repair",
    "unlocated_libraries",
    "url_host",
]


@dataclass(frozen=True)
class Match:
    """Something a log shows: ``value`` (a header, a library, a URL...) and its line."""

    value: str
    line: str


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _unique(matches: list[Match]) -> list[Match]:
    seen: set[str] = set()
    result = []
    for match in matches:
        if match.value not in seen:
            seen.add(match.value)
            result.append(match)
    return result


_GCC_HEADER = re.compile(r"fatal error: (?P<name>[^:\s]+): No such file or directory")
_CLANG_HEADER = re.compile(r"fatal error: '(?P<name>[^']+)' file not found")


def missing_headers(text: str) -> list[Match]:
    """Headers a compiler could not find (gcc and clang wording), first seen first."""
    found = []
    for line in _lines(text):
        match = _GCC_HEADER.search(line) or _CLANG_HEADER.search(line)
        if match:
            found.append(Match(match["name"], line.strip()))
    return _unique(found)


_LD_LIB = re.compile(r"cannot find -l(?P<name>[^\s:]+)")


def missing_libraries(text: str) -> list[Match]:
    """Libraries the linker could not find (``ld: cannot find -lfoo``): ``foo``."""
    return _unique(
        [Match(m["name"], line.strip()) for line in _lines(text) if (m := _LD_LIB.search(line))]
    )


_PKG_CONFIG = (
    re.compile(r"Package '?(?P<name>[\w.+-]+)'?,? (?:required by '[^']*', )?(?:was )?not found"),
    re.compile(r"No package '(?P<name>[\w.+-]+)' found"),
    re.compile(r'Dependency "(?P<name>[\w.+-]+)" not found'),
    re.compile(r"Run-time dependency (?P<name>[\w.+-]+) found: NO"),
)


def missing_pkgconfig(text: str) -> list[Match]:
    """pkg-config modules not found (pkg-config, meson wording)."""
    found = []
    for line in _lines(text):
        for pattern in _PKG_CONFIG:
            match = pattern.search(line)
            if match:
                found.append(Match(match["name"], line.strip()))
                break
    return _unique(found)


_FILE_PATTERNS = (
    # gcc: error: src/x.c: No such file or directory
    re.compile(r"\b(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+)\S*: (?:fatal )?error: "
               r"(?P<name>[^:\s]+): No such file or directory"),
    # Python: FileNotFoundError: [Errno 2] No such file or directory: 'README.md'
    re.compile(r"No such file or directory: '(?P<name>[^']+)'"),
    # setuptools: can't copy 'x': doesn't exist or not a regular file
    re.compile(r"can't copy '(?P<name>[^']+)': doesn't exist"),
    # setuptools: error: package directory 'src/x' does not exist
    re.compile(r"package directory '(?P<name>[^']+)' does not exist"),
    # Cython
    re.compile(r"'(?P<name>[^']+\.pyx)' doesn't match any files"),
    # CMake: Cannot find source file: <newline> name  (joined by the caller)
    re.compile(r"Cannot find source file:\s+(?P<name>\S+)"),
)


def missing_files(text: str) -> list[Match]:
    """Files a build looked for and did not find: headers plus paths named by the
    compiler, Python (``FileNotFoundError``), setuptools, Cython and CMake."""
    found = list(missing_headers(text))
    joined = re.sub(r"Cannot find source file:\s*\n\s*", "Cannot find source file: ", text)
    for line in _lines(joined):
        for pattern in _FILE_PATTERNS:
            match = pattern.search(line)
            if match:
                found.append(Match(match["name"], line.strip()))
                break
    return _unique(found)


_LINK_DIR = re.compile(r"(?:^|\s)-L\s*(?P<dir>\S+)")
_IGNORED_DIRS = ("/opt/python/", "/usr/lib", "/usr/local/lib", "/lib", "build/", "/tmp/")


def link_dirs(text: str, library: str) -> list[str]:
    """The ``-L`` directories of link commands that link ``library`` (``-lfoo``; give
    ``foo``), leaving out the interpreters', the system's and build directories."""
    dirs: list[str] = []
    flag = re.compile(rf"(?:^|[\s'\"])-l{re.escape(library)}(?:$|[\s'\"])")
    for line in _lines(text):
        if not flag.search(line):
            continue
        for match in _LINK_DIR.finditer(line):
            path = match["dir"].strip("'\",")
            if path.startswith(_IGNORED_DIRS) or path in dirs:
                continue
            dirs.append(path)
    return dirs


_TOO_RECENT = re.compile(
    r'cannot repair "(?P<wheel>[^"]+)" to "(?P<plat>[^"]+)" ABI because of the presence of '
    r"too-recent versioned symbols"
)
_CONSTRAINS = re.compile(r'This constrains the platform tag to\s+"(?P<plat>[^"]+)"')
_VERSIONS = re.compile(r"(?P<lib>\S+) with versions\s+\{(?P<versions>[^}]*)\}")


@dataclass(frozen=True)
class TooRecent:
    """``auditwheel repair`` refused a policy because of too-recent symbol versions.

    Attributes:
        wheel: the wheel file name.
        requested: the policy asked for (``manylinux_2_28_x86_64``).
        allowed: the policy the symbols allow (from ``auditwheel show``), if printed.
        versions: library -> symbol versions (``libc.so.6`` -> ``GLIBC_2.36``...).
        line: the error line.
    """

    wheel: str
    requested: str
    allowed: str | None
    versions: dict[str, tuple[str, ...]]
    line: str


def too_recent_repair(text: str) -> TooRecent | None:
    """The too-recent-symbols refusal of ``auditwheel repair``, with what ``auditwheel
    show`` printed before it (auditwheel wraps its lines; they are joined first)."""
    flat = " ".join(line.strip() for line in _lines(text))
    match = _TOO_RECENT.search(flat)
    if match is None:
        return None
    constrains = _CONSTRAINS.search(flat)
    versions: dict[str, tuple[str, ...]] = {}
    for found in _VERSIONS.finditer(flat):
        items = [v.strip().strip("'\"") for v in found["versions"].split(",")]
        versions[found["lib"]] = tuple(sorted(v for v in items if v))
    line = next((ln.strip() for ln in _lines(text) if "too-recent versioned symbols" in ln),
                match.group(0))
    return TooRecent(
        wheel=match["wheel"].rsplit("/", 1)[-1],
        requested=match["plat"],
        allowed=constrains["plat"] if constrains else None,
        versions=versions,
        line=line,
    )


_UNLOCATED = re.compile(r'required library "(?P<name>[^"]+)" could not be located')


def unlocated_libraries(text: str) -> list[Match]:
    """Shared libraries ``auditwheel repair`` could not find to vendor."""
    return _unique(
        [Match(m["name"], line.strip()) for line in _lines(text)
         if (m := _UNLOCATED.search(line))]
    )


_ISA_FILE = re.compile(
    r"ELF file (?:PosixPath\()?'(?P<file>[^']+)'\)? requires '(?P<isa>[^']+)' instruction set"
)


def isa_problems(text: str) -> list[Match]:
    """ISA levels auditwheel refused (``x86_64_v3``), value ``file: isa``; empty unless
    the log says the wheel depends on unsupported ISA extensions."""
    if "unsupported ISA extensions" not in text:
        return []
    found = [
        Match(f"{m['file']}: {m['isa']}", line.strip())
        for line in _lines(text) if (m := _ISA_FILE.search(line))
    ]
    if not found:
        line = next(ln.strip() for ln in _lines(text) if "unsupported ISA extensions" in ln)
        found = [Match("", line)]
    return _unique(found)


_TLS = re.compile(
    r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|invalid peer certificate|"
    r"UnknownIssuer|self[- ]signed certificate|unable to get local issuer certificate|"
    r"SSLCertVerificationError",
    re.IGNORECASE,
)
_UNREACHABLE = re.compile(
    r"Failed to establish a new connection|Connection refused|Name or service not known|"
    r"Temporary failure in name resolution|dns error|tcp connect error|Network is unreachable|"
    r"No route to host|Connection timed out|connect timeout|operation timed out|"
    r"ProxyError|Tunnel connection failed",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://[^\s'\")\]]+")


@dataclass(frozen=True)
class IndexProblem:
    """A package index that could not be used from the container.

    Attributes:
        kind: ``tls`` (certificate verification failed) or ``unreachable``.
        url: the URL it failed on (``https://host/simple/setuptools/``), if shown.
        line: the line that shows it.
    """

    kind: str
    url: str | None
    line: str


def index_problems(text: str) -> list[IndexProblem]:
    """TLS-verification failures and unreachable indexes, as pip and uv print them.

    TLS problems come first: a proxy that is reached but not trusted is the cause even
    when retries also report connection errors.
    """
    lines = _lines(text)
    last_url: str | None = None
    tls: IndexProblem | None = None
    unreachable: IndexProblem | None = None
    for line in lines:
        urls = _URL.findall(line)
        if urls:
            last_url = urls[-1].rstrip(".,:;")
        if line.lstrip().startswith("Looking in indexes:") and urls:
            last_url = urls[0]
        if tls is None and _TLS.search(line):
            tls = IndexProblem("tls", last_url, line.strip())
        elif unreachable is None and _UNREACHABLE.search(line):
            unreachable = IndexProblem("unreachable", last_url, line.strip())
    found = [p for p in (tls, unreachable) if p is not None]
    if found and any(p.url is None for p in found):
        fallback = _any_url(text)
        found = [IndexProblem(p.kind, p.url or fallback, p.line) for p in found]
    return found


_POOL = re.compile(r"host='(?P<host>[^']+)', port=(?P<port>\d+)")


def _any_url(text: str) -> str | None:
    urls = _URL.findall(text)
    if urls:
        return str(urls[0]).rstrip(".,:;")
    pool = _POOL.search(text)
    if pool:
        scheme = "https" if pool["port"] == "443" else "http"
        return f"{scheme}://{pool['host']}:{pool['port']}/"
    return None


def url_host(url: str | None) -> str | None:
    """``host[:port]`` of a URL, or ``None``."""
    if not url:
        return None
    return urlsplit(url).netloc or None


_PACKAGE_MISSING = (
    re.compile(r"E: Unable to locate package (?P<name>\S+)"),
    re.compile(r"No match for argument: (?P<name>\S+)"),
    re.compile(r"No package (?P<name>\S+) available"),
    re.compile(r"^\s+(?P<name>[\w.+-]+) \(no such package\)"),
)


def missing_packages(text: str) -> list[Match]:
    """Packages a before-all install command could not find (apt, dnf/yum, apk)."""
    found = []
    for line in _lines(text):
        for pattern in _PACKAGE_MISSING:
            match = pattern.search(line)
            if match:
                found.append(Match(match["name"], line.strip()))
                break
    return _unique(found)


_OPTIONAL = re.compile(
    r"could not be compiled|Failed to build the C extension|C extension(?:s)? (?:is|are) "
    r"(?:not available|disabled)|speedups? (?:is|are) not enabled|building without (?:the )?C",
    re.IGNORECASE,
)


def optional_extension_failed(text: str) -> Match | None:
    """A line saying an optional C extension was skipped or failed to compile."""
    for line in _lines(text):
        if _OPTIONAL.search(line):
            return Match("optional-extension", line.strip())
    return None


_COMPILER_ERROR = re.compile(r":\d+(?::\d+)?: (?:fatal )?error: ")
_ERROR = re.compile(r"\b(?:fatal error|error|Error|ERROR)\b[:!]? ")
_NOISE = ("TIP ", "note:", "ERROR Backend subprocess exited", "\u00d7 ", "\u2570\u2500>", "\u2502 ")


def best_error_line(text: str) -> str | None:
    """The line most likely to explain a failure: the first compiler error, else the
    first ``error:`` line that is not generic wrapper noise, else the last non-empty line
    that is not (pypa/build's ``TIP ...`` and ``ERROR Backend subprocess exited ...``
    trailer), else the last non-empty line."""
    lines = [line.rstrip() for line in _lines(text)]
    for line in lines:
        if _COMPILER_ERROR.search(line):
            return line.strip()
    for line in lines:
        stripped = line.strip()
        if _ERROR.search(stripped) and not stripped.startswith(_NOISE) and (
            "subprocess-exited-with-error" not in stripped
        ):
            return stripped
    filled = [line.strip() for line in reversed(lines) if line.strip()]
    return next((line for line in filled if not line.startswith(_NOISE)),
                filled[0] if filled else None)
