"""Every configuration key, declared once: :class:`Option` and :data:`OPTIONS`.

Flags (:func:`~manywheels.config.argument_parser`), invoke task signatures,
``manywheels init``'s table and the README's configuration table (:func:`markdown_table`)
are derived from :data:`OPTIONS`. Adding an option: one ``Option(...)`` here, its
:class:`~manywheels.config.Config` field and its README row (``markdown_table()`` prints
it; ``tests/unit/config/test_readme.py`` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from manywheels.naming._platforms import (
    ARCH_VALUES,
    DEFAULT_POLICIES,
    FAMILIES,
    PYPA_REGISTRY,
    image_key,
)
from manywheels.naming._policy import ARCHS

__all__ = ["BY_ATTR", "BY_KEY", "DEFAULT_IMAGE", "DEFAULT_REPAIR_COMMAND", "ENABLE_VALUES",
           "IMAGE_KEYS",
           "OPTIONS", "Kind", "Option", "markdown_table"]

DEFAULT_IMAGE = "quay.io/pypa/manylinux_2_28_x86_64"
DEFAULT_REPAIR_COMMAND = "auditwheel repair --plat {plat} -w {dest_dir} {wheel}"
"""cibuildwheel's default repair-command on Linux (docs/options.md, "repair-wheel-command")."""

ENABLE_VALUES = ("cpython-prerelease", "cpython-freethreading", "pypy", "graalpy")
"""cibuildwheel's ``enable`` groups (docs/options.md, "enable"); ``pypy`` and ``graalpy``
are accepted for compatibility and select nothing (manywheels builds CPython only)."""

IMAGE_KEYS = tuple(image_key(family, arch) for family in FAMILIES for arch in ARCHS)
"""``manylinux-x86_64-image`` … ``musllinux-riscv64-image`` (cibuildwheel's keys)."""

Kind = Literal["str", "optstr", "list", "table", "bool", "int", "choice", "python", "path",
               "frontend", "settings", "verbosity"]


@dataclass(frozen=True)
class Option:
    """One configuration key, declared once for every front end and document.

    Attributes:
        key: kebab-case name as written in TOML (``publish.repository-url`` for subtables).
        kind: value type; decides how TOML, environment and argv values are parsed.
        default: the default value (already parsed).
        help: one line for ``--help``, invoke's task help and ``manywheels init``'s table.
        choices: allowed values for ``kind == "choice"``.
        stage_only: a run-time switch that only makes sense on the command line or in the
            environment (``dry-run``); not accepted in ``pyproject.toml``.
        example: the value ``manywheels init`` writes (commented out) into
            ``[tool.manywheels]``; ``None``: the default.
        default_text: the README table's default column when the default is not a plain
            value (``the CPU count``); ``""``: derived from ``default``.
        meaning: the README table's meaning column; ``""``: ``help``.
    """

    key: str
    kind: Kind
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    stage_only: bool = False
    example: Any = None
    default_text: str = ""
    meaning: str = ""

    @property
    def attr(self) -> str:
        """The :class:`Config` attribute name (``publish.repository-url`` -> ``repository_url``)."""
        return self.key.split(".")[-1].replace("-", "_")

    @property
    def env_var(self) -> str:
        """The environment variable: ``MANYWHEELS_TEST_COMMAND``."""
        return "MANYWHEELS_" + self.key.replace(".", "_").replace("-", "_").upper()

    @property
    def flag(self) -> str:
        """The command-line flag: ``--test-command`` (subtable prefix dropped)."""
        return "--" + self.key.split(".")[-1]

    @property
    def is_list(self) -> bool:
        """Whether the flag takes several words (``--python cp311 cp312``)."""
        return self.kind in {"list", "python", "table", "settings"}

    @property
    def is_switch(self) -> bool:
        """Whether the flag is an on/off switch (``--fail-fast`` / ``--no-fail-fast``)."""
        return self.kind == "bool"

    @property
    def example_value(self) -> Any:
        """The example ``manywheels init`` writes: :attr:`example`, else the default."""
        return self.default if self.example is None else self.example

    def table_row(self) -> str:
        """This key's row of the README's configuration table (markdown)."""
        default = self.default_text or _shown_default(self.default)
        meaning = self.meaning or self.help
        if self.stage_only:
            meaning += " (command line / environment only)"
        return f"| `{self.key}` | `{self.env_var}` | `{self.flag}` | {default} | {meaning} |"


def _shown_default(value: Any) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value in (None, "", [], {}):
        return "\N{EM DASH}"
    return f"`{value}`"


def _image_option(key: str) -> Option:
    """The option of one ``<family>-<arch>-image`` key (default: cibuildwheel's policy)."""
    family, arch, _ = key.split("-")
    default = DEFAULT_POLICIES[family, arch]
    return Option(
        key, "optstr", None,
        f"{family} image for {arch}: a policy name ({default}) or an image reference",
        example=default, default_text=f"`{default}`",
        meaning=f"{family} image for {arch}: a policy name (`{PYPA_REGISTRY}/<policy>_{arch}`) "
        "or any image reference")


OPTIONS: tuple[Option, ...] = (
    Option("python", "python", None,
           "Python tags to build (cp312, cp312-cp312 or 3.12); default: every CPython in the "
           "image that the project's requires-python allows",
           example=["cp311", "cp312", "cp313"],
           default_text="every CPython in the image that the project's requires-python allows "
           "(others skipped with one line; free-threaded builds only when named or with "
           "`enable`, pre-releases only with `enable`)",
           meaning="Python tags: `cp312`, `cp312-cp312` and `3.12` all work (`cp313t` for "
           "free-threaded); a list in TOML, space-separated in the environment"),
    Option("enable", "list", [],
           "extra interpreter groups selected by default: cpython-prerelease, "
           "cpython-freethreading (pypy, graalpy: accepted, select nothing)",
           choices=ENABLE_VALUES, example=["cpython-freethreading"],
           meaning="interpreters selected by default beyond final GIL CPythons (cibuildwheel's "
           "`enable`): `cpython-freethreading` (`cp313t`, `cp314t`), `cpython-prerelease` "
           "(an image's pre-release CPython); `pypy`, `graalpy` accepted, select nothing"),
    Option("image", "str", DEFAULT_IMAGE, "manylinux or musllinux image to build in",
           meaning="manylinux or musllinux image to build in; used locally when present, "
           "pulled otherwise"),
    Option("plat", "optstr", None,
           "auditwheel --plat policy (e.g. manylinux_2_28_x86_64); default the image's "
           "AUDITWHEEL_PLAT",
           example="manylinux_2_28_x86_64", default_text="the image's `AUDITWHEEL_PLAT`",
           meaning="auditwheel `--plat` policy (PEP 600), e.g. `manylinux_2_28_x86_64`"),
    Option("archs", "list", [],
           "architectures to build (cibuildwheel's archs): x86_64, i686, aarch64, ppc64le, "
           "s390x, armv7l, riscv64, auto, auto32, native, all",
           example=["auto"],
           default_text="unset: the one `image`; `auto` once a per-arch image key is set",
           meaning="architectures to build, each with both families (manylinux and "
           "musllinux): " + ", ".join(f"`{v}`" for v in ARCH_VALUES) + " (`auto`: the host's "
           "native 64-bit arch, `auto32`: its 32-bit one, `all`: every arch); foreign arches "
           "run under QEMU"),
    *(_image_option(key) for key in IMAGE_KEYS),
    Option("build", "list", [], "identifier patterns to build (fnmatch, {a,b} braces)",
           example=["cp3{11,12,13}-*"], default_text="every identifier",
           meaning="identifier patterns to build, space-separated (fnmatch with `{a,b}` "
           "braces, e.g. `cp3{12,13}-*`)"),
    Option("skip", "list", [], "identifier patterns to skip (fnmatch, {a,b} braces)",
           example=["*musllinux*"],
           meaning="identifier patterns to skip (e.g. `*musllinux*`, `*-manylinux_i686`)"),
    Option("before-all", "str", "", "shell script run once per container before any build",
           example="yum install -y libffi-devel",
           meaning="shell script run once per container before any build (install system "
           "libraries here)"),
    Option("before-build", "str", "", "shell script run before each identifier's build",
           example="python scripts/generate_sources.py",
           meaning="shell script run in the unpacked sdist before each identifier's build"),
    Option("environment", "table", {},
           "variables of before-all, builds and repairs, evaluated in order by the shell "
           "($VAR, ${VAR}, $(cmd)) (table / KEY=VALUE)",
           example={"CFLAGS": "-O2"},
           meaning="variables of `before-all`, each build and each repair: a table in TOML, "
           "`KEY=VALUE` pairs elsewhere; evaluated in the container in order, as a POSIX "
           "shell would (`$VAR`, `${VAR}`, `$(cmd)`), everything else literal (one "
           "double-quoted word); not seen by tests (see `test-environment`)"),
    Option("environment-pass", "list", [], "names of host variables passed into the container",
           example=["CI"]),
    Option("frontend", "frontend", "build", "build frontend in the container",
           choices=("build", "pip", "uv"),
           meaning="`build` (`python -m build`, `--installer uv` when the image has uv), `pip` "
           "(`pip wheel`) or `uv` (`uv build`); `\"build; args: --no-isolation\"` passes "
           "extra arguments (cibuildwheel's build-frontend)"),
    Option("test-command", "optstr", None,
           "command run in a fresh venv with the repaired wheel installed; placeholders "
           "{project}/{package} (the project copy in the container) and {wheel} (the wheel "
           "path), other braces kept",
           example="python -c 'import your_package'",
           meaning="run in a fresh venv with the repaired wheel installed; placeholders "
           "`{project}` and `{package}` (a copy of the project in the container) and "
           "`{wheel}` (the wheel's path); any other brace text (`{1: 2}`, `${HOME}`) is "
           "kept as written, `#{wheel}` is a literal `{wheel}`"),
    Option("test-requires", "list", [], "requirements installed before the test-command",
           example=["pytest"]),
    Option("test-extras", "list", [], "extras of the project installed with the wheel"),
    Option("project-dir", "path", None, "the project to build; default the noxfile's directory",
           default_text="the noxfile's directory", meaning="the project to build"),
    Option("dist-dir", "path", Path("dist"), "where the sdist and the raw wheels go",
           example="dist",
           meaning="where the sdist and the raw wheels go (relative to project-dir)"),
    Option("output-dir", "path", Path("wheelhouse"),
           "where repaired wheels, logs and the run report go", example="wheelhouse",
           meaning="where repaired wheels, logs and the run report go (relative to "
           "project-dir)"),
    Option("jobs", "int", None, "identifiers built at once; default the CPU count",
           example=2, default_text="the CPU count", meaning="identifiers built at once"),
    Option("fail-fast", "bool", False, "stop at the first identifier that fails"),
    Option("cache", "bool", True,
           "mount the host's pip and uv caches (and ccache's) into containers and keep "
           "before-all results as a committed image, reused by later runs",
           meaning="mount the host's pip and uv caches (and ccache's) into containers, one "
           "set per image, and keep `before-all` results as a committed image reused by later "
           "runs; `--no-cache` for neither"),
    Option("cache-dir", "path", None,
           "where the host caches live; default $XDG_CACHE_HOME/manywheels "
           "(~/.cache/manywheels); relative to the project directory",
           example=".cache/manywheels",
           default_text="`$XDG_CACHE_HOME/manywheels` (`~/.cache/manywheels`)",
           meaning="where the host caches live (relative to project-dir); a remote engine "
           "gets named volumes instead"),
    Option("ccache", "bool", False,
           "compile through ccache, its cache on the host (ccache must be in the image or "
           "installed by before-all)", example=True,
           meaning="compile through ccache, its cache on the host (ccache must be in the "
           "image or installed by `before-all`)"),
    Option("dry-run", "bool", False, "print what would run (scripts, uploads); change nothing",
           stage_only=True, meaning="print what would run; change nothing"),
    Option("remove-leftovers", "bool", False,
           "remove containers that crashed earlier runs left behind (they are reported either "
           "way)", stage_only=True,
           meaning="remove containers that crashed earlier runs left behind (always reported)"),
    Option("keep-failed", "bool", False,
           "keep the container of a failing identifier, labelled, to enter it (removed by "
           "--remove-leftovers)", stage_only=True,
           meaning="keep a container of each failing identifier (the shared container's "
           "state committed, labelled `io.manywheels.kept=<identifier>`) and print how to "
           "enter it; `--remove-leftovers` removes it"),
    Option("engine", "choice", "docker", "the container engine: docker, or none inside a "
           "manylinux/musllinux image", choices=("docker", "none"),
           meaning="`docker` (any Docker-API engine: `DOCKER_HOST`, Podman's socket); `none`: "
           "run the stage scripts directly on this machine, which must be a manylinux/"
           "musllinux-layout image (`/opt/python`, auditwheel, `AUDITWHEEL_PLAT`)"),
    Option("replace-record", "bool", False,
           "start a new run record when the output-dir holds another project's (one project "
           "per output-dir)", stage_only=True),
    Option("publish.repository", "optstr", None, "~/.pypirc section to upload to (twine)",
           example="testpypi", meaning="`~/.pypirc` section to upload to (twine)"),
    Option("publish.repository-url", "optstr", None, "index upload URL (twine)",
           example="https://test.pypi.org/legacy/", meaning="the index's upload URL (twine)"),
    Option("publish.allow-untested", "bool", False,
           "publish wheels the run report does not record as tested"),
    Option("publish.attestations", "bool", False,
           "sign each file with pypi-attestations (ambient OIDC identity) and upload with "
           "twine upload --attestations",
           meaning="sign each file with `pypi-attestations` (needs an ambient OIDC identity: "
           "GitHub Actions with `id-token: write`) and upload with `twine upload "
           "--attestations`; extra `manywheels[attest]`"),
    Option("test-environment", "table", {},
           "variables of the tests only, evaluated like environment (table / KEY=VALUE)",
           example={"PYTHONSAFEPATH": "1"},
           meaning="variables of the tests only, evaluated in the container like "
           "`environment`; builds and tests also get `MANYWHEELS=1`, "
           "`MANYWHEELS_BUILD_IDENTIFIER`, `CIBUILDWHEEL=1`, `CIBUILDWHEEL_BUILD_IDENTIFIER`, "
           "and the host's `SOURCE_DATE_EPOCH` when set"),
    Option("repair-command", "str", DEFAULT_REPAIR_COMMAND,
           "command that repairs {wheel} into {dest_dir} for {plat}; empty: keep the raw wheel",
           example="auditwheel repair --exclude 'libcuda.so.*' --plat {plat} -w {dest_dir} "
           "{wheel}",
           meaning="the repair of each raw wheel, run with the build's `environment`; "
           "placeholders `{wheel}` (the raw wheel), `{dest_dir}` (where exactly one repaired "
           "wheel must land), `{plat}` (the policy), `{project}`/`{package}` (a copy of the "
           "project), other braces kept; empty: the raw wheel is kept as it is (publish "
           "still refuses `linux_*` tags)"),
    Option("before-test", "str", "",
           "shell script run in the test venv before the wheel is installed",
           example="pip install numpy",
           meaning="shell script run before each test, in the fresh venv (activated) "
           "before the wheel is installed; placeholders as `test-command`"),
    Option("test-sources", "list", [],
           "files and directories of the project copied into the test's working directory",
           example=["tests", "pyproject.toml"],
           meaning="paths relative to the project, copied into the test's working directory "
           "(outside the sources) before each test"),
    Option("test-image", "list", [],
           "test in containers of another image, without before-all: [<family>[-<arch>]=]<ref>",
           example=["python:3.12-slim"], default_text="the build image, after before-all",
           meaning="test each repaired wheel in a container of another image, without "
           "before-all and without the build's packages: entries `<ref>` (every identifier), "
           "`<family>=<ref>` or `<family>-<arch>=<ref>` (the most specific wins); `build`: the "
           "build image without before-all. An image without `/opt/python` must have the "
           "identifier's Python as `python3`"),
    Option("test-skip", "list", [], "identifier patterns whose tests are skipped",
           example=["cp313-*"],
           meaning="identifier patterns whose wheels are not tested (recorded `skipped`): "
           "shell wildcards with `{a,b}` braces, e.g. `cp3{12,13}-*`"),
    Option("test-groups", "list", [],
           "PEP 735 dependency groups of the project installed for the tests",
           example=["test"],
           meaning="PEP 735 dependency groups (`[dependency-groups]` of the project's "
           "`pyproject.toml`, includes followed) installed with the wheel for the tests"),
    Option("test-timeout", "int", None,
           "seconds a test may take; past it the identifier fails (its processes killed)",
           example=600, default_text="no limit",
           meaning="seconds the `test-command` may run; past it that identifier fails with "
           "one line, every process it started killed"),
    Option("config-settings", "settings", {},
           "PEP 517 config settings passed to the frontend (-C KEY=VALUE)",
           example={"setup-args": "-Dfoo=bar"},
           meaning="PEP 517 config settings for the build backend, passed as "
           "`--config-setting KEY=VALUE` (build, uv) or `--config-settings KEY=VALUE` (pip); a "
           "table (a list value repeats the key) or `KEY=VALUE` pairs"),
    Option("build-verbosity", "verbosity", 0,
           "-3 to 3: 1 or more (-v) streams every output line and makes the frontend "
           "verbose; negative quiets the frontend (-q)", example=1, default_text="`0`",
           meaning="`0`: one line per identifier and stage, the tail of a failing log (full "
           "logs in `<output-dir>/logs/`); `1` to `3` (`-v`, `-vv`): stream every output line "
           "and pass `-v` to the frontend (pip, uv: that many times; build: once); `-1` to "
           "`-3`: `-q` to the frontend (pip, uv)"),
)


def markdown_table() -> str:
    """The README's configuration table (header and one row per key), from :data:`OPTIONS`."""
    rows = ["| key | environment | flag | default | meaning |", "|---|---|---|---|---|"]
    rows += [option.table_row() for option in OPTIONS]
    return "\n".join(rows) + "\n"


BY_KEY: dict[str, Option] = {option.key: option for option in OPTIONS}
"""Every option by its key (``publish.repository-url``)."""
BY_ATTR: dict[str, Option] = {option.attr: option for option in OPTIONS}
"""Every option by its :class:`~manywheels.config.Config` attribute (``repository_url``)."""
