"""Configuration: keys, sources and precedence.

Lowest to highest precedence:

1. defaults (:data:`OPTIONS`);
2. ``[tool.manywheels]`` in the built project's ``pyproject.toml`` (kebab-case keys;
   ``[tool.manywheels.publish]`` for the publish keys);
3. keyword overrides given in code (``manywheels.nox.build(session, image=...)``,
   ``register(**overrides)``; snake_case keys);
4. environment variables ``MANYWHEELS_<KEY>`` (upper snake case, e.g.
   ``MANYWHEELS_TEST_COMMAND``, ``MANYWHEELS_PUBLISH_REPOSITORY_URL``);
5. command-line arguments (``manywheels build --python cp312``, nox posargs
   ``nox -s wheels-build -- --python cp312``, invoke task flags), given as argv or as
   an already-parsed mapping (``load_config(flags=...)``).

Every key is declared once, in :data:`OPTIONS`: its type, default, help, example and
README text. Flags, invoke task signatures, ``manywheels init``'s table and the
README table (:func:`markdown_table`) are derived from it.

Unknown keys, wrong types and bad values raise :class:`~manywheels.errors.ConfigError`
naming the key, the source and what is allowed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from manywheels.config._platforms import IMAGE_KEYS, select_platforms
from manywheels.config._project import Project, _load_toml
from manywheels.errors import ConfigError, ProjectError
from manywheels.naming._platforms import ARCH_VALUES, DEFAULT_POLICIES, PYPA_REGISTRY
from manywheels.naming._policy import parse_policy
from manywheels.naming._tags import PythonTag, parse_python_tag

__all__ = [
    "DEFAULT_IMAGE",
    "OPTIONS",
    "Config",
    "Option",
    "argument_parser",
    "load_config",
    "markdown_table",
    "read_pyproject",
]

DEFAULT_IMAGE = "quay.io/pypa/manylinux_2_28_x86_64"

Kind = Literal["str", "optstr", "list", "table", "bool", "int", "choice", "python", "path"]


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
        return self.kind in {"list", "python", "table"}

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


OPTIONS: tuple[Option, ...] = (
    Option("python", "python", None,
           "Python tags to build (cp312, cp312-cp312 or 3.12); default: every CPython in the "
           "image that the project's requires-python allows",
           example=["cp311", "cp312", "cp313"],
           default_text="every CPython in the image that the project's requires-python allows "
           "(free-threaded builds only when named)",
           meaning="Python tags: `cp312`, `cp312-cp312` and `3.12` all work (`cp313t` for "
           "free-threaded); a list in TOML, space-separated in the environment"),
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
    *(Option(key, "optstr", None,
             f"{key.split('-')[0]} image for {key.split('-')[1]}: a policy name "
             f"({DEFAULT_POLICIES[key.split('-')[0], key.split('-')[1]]}) or an image reference",
             example=DEFAULT_POLICIES[key.split("-")[0], key.split("-")[1]],
             default_text=f"`{DEFAULT_POLICIES[key.split('-')[0], key.split('-')[1]]}`",
             meaning=f"{key.split('-')[0]} image for {key.split('-')[1]}: a policy name "
             f"(`{PYPA_REGISTRY}/<policy>_{key.split('-')[1]}`) or any image reference")
      for key in IMAGE_KEYS),
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
    Option("environment", "table", {}, "variables set in the container (table / KEY=VALUE)",
           example={"CFLAGS": "-O2"},
           meaning="variables set in the container: a table in TOML, `KEY=VALUE` pairs "
           "elsewhere"),
    Option("environment-pass", "list", [], "names of host variables passed into the container",
           example=["CI"]),
    Option("frontend", "choice", "build", "build frontend in the container",
           choices=("build", "pip", "uv"),
           meaning="`build` (`python -m build`, `--installer uv` when the image has uv), `pip` "
           "(`pip wheel`) or `uv` (`uv build`)"),
    Option("test-command", "optstr", None,
           "command run in a fresh venv with the repaired wheel installed; placeholders "
           "{project} (the project copy in the container) and {wheel} (the wheel path)",
           example="python -c 'import your_package'",
           meaning="run in a fresh venv with the repaired wheel installed; placeholders "
           "`{project}` (a copy of the project in the container) and `{wheel}` (the wheel's "
           "path)"),
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
    Option("replace-record", "bool", False,
           "start a new run record when the output-dir holds another project's (one project "
           "per output-dir)", stage_only=True),
    Option("publish.repository", "optstr", None, "~/.pypirc section to upload to (twine)",
           example="testpypi", meaning="`~/.pypirc` section to upload to (twine)"),
    Option("publish.repository-url", "optstr", None, "index upload URL (twine)",
           example="https://test.pypi.org/legacy/", meaning="the index's upload URL (twine)"),
    Option("publish.allow-untested", "bool", False,
           "publish wheels the run report does not record as tested"),
)


def markdown_table() -> str:
    """The README's configuration table (header and one row per key), from :data:`OPTIONS`."""
    rows = ["| key | environment | flag | default | meaning |", "|---|---|---|---|---|"]
    rows += [option.table_row() for option in OPTIONS]
    return "\n".join(rows) + "\n"


_BY_KEY = {option.key: option for option in OPTIONS}
_BY_ATTR = {option.attr: option for option in OPTIONS}
_TOP_KEYS = sorted(o.key for o in OPTIONS if "." not in o.key and not o.stage_only)
_PUBLISH_KEYS = sorted(o.key.split(".", 1)[1] for o in OPTIONS if o.key.startswith("publish."))


@dataclass(frozen=True)
class Config:
    """Resolved configuration of one run. Paths are absolute.

    ``sources`` maps each key to where its value came from (``default``,
    ``pyproject.toml``, ``code``, ``MANYWHEELS_X``, ``command line``). ``project`` is
    the project's ``pyproject.toml`` as :func:`load_config` read it (``None`` in a
    configuration made by hand: :meth:`read_project` reads it then).
    """

    project_dir: Path
    python: tuple[PythonTag, ...] | None = None
    image: str = DEFAULT_IMAGE
    plat: str | None = None
    archs: tuple[str, ...] = ()
    manylinux_x86_64_image: str | None = None
    manylinux_i686_image: str | None = None
    manylinux_aarch64_image: str | None = None
    manylinux_ppc64le_image: str | None = None
    manylinux_s390x_image: str | None = None
    manylinux_armv7l_image: str | None = None
    manylinux_riscv64_image: str | None = None
    musllinux_x86_64_image: str | None = None
    musllinux_i686_image: str | None = None
    musllinux_aarch64_image: str | None = None
    musllinux_ppc64le_image: str | None = None
    musllinux_s390x_image: str | None = None
    musllinux_armv7l_image: str | None = None
    musllinux_riscv64_image: str | None = None
    build: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    before_all: str = ""
    before_build: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)
    environment_pass: tuple[str, ...] = ()
    frontend: str = "build"
    test_command: str | None = None
    test_requires: tuple[str, ...] = ()
    test_extras: tuple[str, ...] = ()
    dist_dir: Path = Path("dist")
    output_dir: Path = Path("wheelhouse")
    jobs: int | None = None
    fail_fast: bool = False
    cache: bool = True
    cache_dir: Path | None = None
    ccache: bool = False
    dry_run: bool = False
    remove_leftovers: bool = False
    replace_record: bool = False
    repository: str | None = None
    repository_url: str | None = None
    allow_untested: bool = False
    requires_python: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    project: Project | None = field(default=None, compare=False, repr=False)

    @property
    def effective_jobs(self) -> int:
        """``jobs`` or the CPU count."""
        return self.jobs or os.cpu_count() or 1

    def read_project(self) -> Project:
        """The project's ``pyproject.toml`` as :func:`load_config` read it, or read now
        for a configuration made without :func:`load_config`.

        Raises:
            ConfigError: read now, and the file is not valid TOML (see :meth:`Project.read
                <manywheels.config.Project.read>`).
        """
        if self.project is not None and self.project.path == self.project_dir:
            return self.project
        return Project.read(self.project_dir)

    def with_(self, **changes: Any) -> Config:
        """A copy with attributes changed (no validation)."""
        return replace(self, **changes)


# --------------------------------------------------------------------------- parsing


def _type_error(option: Option, source: str, value: object, expected: str) -> ConfigError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ConfigError(f"{option.key} ({source}): got {shown}, expected {expected}")


def _as_list(option: Option, source: str, value: object) -> list[str]:
    if isinstance(value, str):
        return shlex.split(value) if source != "pyproject.toml" else value.split()
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    raise _type_error(option, source, value, "a list of strings")


def _as_table(option: Option, source: str, value: object) -> dict[str, str]:
    items: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise _type_error(option, source, {key: item}, "a table of strings")
            items[str(key)] = str(item)
    elif isinstance(value, str | list | tuple):
        words = shlex.split(value) if isinstance(value, str) else list(value)
        for word in words:
            name, sep, item = str(word).partition("=")
            if not sep or not name:
                raise _type_error(option, source, word, "KEY=VALUE pairs")
            items[name] = item
    else:
        raise _type_error(option, source, value, "a table of strings or KEY=VALUE pairs")
    for name in items:
        if not name.replace("_", "a").isalnum() or name[0].isdigit():
            raise _type_error(option, source, name, "variable names [A-Za-z_][A-Za-z0-9_]*")
    return items


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse(option: Option, source: str, value: object) -> Any:
    """Turn a raw value from any source into the option's type, or raise ConfigError."""
    kind = option.kind
    if kind in {"str", "optstr"}:
        if isinstance(value, str):
            return value
        raise _type_error(option, source, value, "a string")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _type_error(option, source, value, "a boolean (true/false, 1/0)")
    if kind == "int":
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        raise _type_error(option, source, value, "a whole number >= 1")
    if kind == "choice":
        if isinstance(value, str) and value in option.choices:
            return value
        raise _type_error(option, source, value, "one of " + ", ".join(option.choices))
    if kind == "path":
        if isinstance(value, str | os.PathLike) and str(value).strip():
            return Path(value)
        raise _type_error(option, source, value, "a path")
    if kind == "list":
        return tuple(_as_list(option, source, value))
    if kind == "table":
        return _as_table(option, source, value)
    if kind == "python":
        words = _as_list(option, source, value)
        if not words:
            raise _type_error(option, source, value, "at least one python tag")
        tags: list[PythonTag] = []
        for word in words:
            tag = parse_python_tag(word)
            if tag not in tags:
                tags.append(tag)
        return tuple(tags)
    msg = f"unknown option kind {kind}"  # pragma: no cover
    raise AssertionError(msg)  # pragma: no cover


def _check_test_command(command: str | None) -> None:
    if command is None:
        return
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(command) if name is not None}
    except ValueError as error:
        msg = f"test-command: {error} in {command!r}; use {{{{ and }}}} for literal braces"
        raise ConfigError(msg) from None
    unknown = names - {"project", "wheel"}
    if unknown:
        msg = (
            f"test-command: unknown placeholder {{{sorted(unknown)[0]}}}; "
            "allowed are {project} and {wheel}"
        )
        raise ConfigError(msg)


def _check_output_dir(key: str, path: Path, root: Path, sources: Mapping[str, str]) -> None:
    """dist-dir and output-dir must not be the project tree (or contain it): the tree is
    copied for the sdist build and into the container, outputs excluded."""
    resolved = path.resolve()
    if resolved == root or resolved in root.parents:
        what = "is the project directory" if resolved == root else "contains the project directory"
        default = _BY_KEY[key].default
        msg = (
            f"{key} {str(path)!r} ({sources.get(key, 'default')}) {what} {str(root)!r}: the "
            "project tree is copied into the build and its outputs must stay out of it; allowed "
            f"is a directory of its own, inside the project (default {str(default)!r}) or "
            "outside it"
        )
        raise ConfigError(msg)


def read_pyproject(project_dir: Path) -> dict[str, Any]:
    """Parse ``project_dir/pyproject.toml``; ``{}`` when absent. Prefer
    :meth:`Project.read <manywheels.config.Project.read>` (or ``Config.read_project()``),
    which reads it once per run.

    Raises:
        ConfigError: the file is not valid TOML.
    """
    return dict(_load_toml(project_dir / "pyproject.toml"))


def _pyproject_layer(data: Mapping[str, Any]) -> dict[str, Any]:
    tool = data.get("tool", {}).get("manywheels", {})
    if not isinstance(tool, Mapping):
        msg = "[tool.manywheels] in pyproject.toml must be a table"
        raise ConfigError(msg)
    layer: dict[str, Any] = {}
    for key, value in tool.items():
        if key == "publish":
            if not isinstance(value, Mapping):
                msg = "[tool.manywheels.publish] in pyproject.toml must be a table"
                raise ConfigError(msg)
            for sub, item in value.items():
                if sub not in _PUBLISH_KEYS:
                    msg = (
                        f"unknown key {sub!r} in [tool.manywheels.publish]; allowed are "
                        + ", ".join(_PUBLISH_KEYS)
                    )
                    raise ConfigError(msg)
                layer[f"publish.{sub}"] = item
            continue
        if key not in _TOP_KEYS:
            msg = f"unknown key {key!r} in [tool.manywheels]; allowed are " + ", ".join(
                [*_TOP_KEYS, "publish"]
            )
            raise ConfigError(msg)
        layer[key] = value
    return layer


def _code_layer(overrides: Mapping[str, Any]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for name, value in overrides.items():
        option = _BY_ATTR.get(name.replace("-", "_"))
        if option is None:
            allowed = ", ".join(sorted(_BY_ATTR))
            msg = f"unknown keyword {name!r}; allowed are {allowed}"
            raise ConfigError(msg)
        raw = value
        if option.kind == "python" and isinstance(raw, PythonTag):
            raw = raw.tag
        if option.kind == "python" and isinstance(raw, list | tuple):
            raw = [v.tag if isinstance(v, PythonTag) else v for v in raw]
        layer[option.key] = raw
    return layer


def _env_layer(env: Mapping[str, str]) -> dict[str, Any]:
    return {o.key: env[o.env_var] for o in OPTIONS if o.env_var in env}


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        msg = f"command line: {message}"
        raise ConfigError(msg)


def argument_parser(prog: str = "manywheels") -> argparse.ArgumentParser:
    """The parser for command-line overrides (nox posargs, the CLI).

    Every key of :data:`OPTIONS` has a flag: ``--python cp311 cp312``, ``--image IMAGE``,
    ``--environment KEY=VALUE`` (repeatable), ``--fail-fast`` / ``--no-fail-fast``.
    """
    parser = _ArgumentParser(prog=prog, add_help=False, allow_abbrev=False)
    for option in OPTIONS:
        dest = option.key
        if option.is_switch:
            parser.add_argument(
                option.flag, dest=dest, action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS, help=option.help,
            )
        elif option.is_list:
            parser.add_argument(
                option.flag, dest=dest, nargs="+", action="extend", default=argparse.SUPPRESS,
                help=option.help,
            )
        else:
            parser.add_argument(option.flag, dest=dest, default=argparse.SUPPRESS, help=option.help)
    return parser


def _argv_layer(argv: Sequence[str]) -> dict[str, Any]:
    if not argv:
        return {}
    namespace = argument_parser().parse_args(list(argv))
    return dict(vars(namespace))


def _flags_layer(flags: Mapping[str, Any]) -> dict[str, Any]:
    """Already-parsed command-line values by key or attribute name; ``None``: not given.

    Raises:
        ConfigError: a name that is no configuration key.
    """
    layer: dict[str, Any] = {}
    for name, value in flags.items():
        option = _BY_KEY.get(name) or _BY_ATTR.get(name.replace("-", "_"))
        if option is None:
            msg = f"command line: unknown option {name!r}"
            raise ConfigError(msg)
        if value is not None:
            layer[option.key] = value
    return layer


def load_config(
    project_dir: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    argv: Sequence[str] = (),
    overrides_source: str = "code",
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """Resolve the configuration of one run.

    Args:
        project_dir: the project to build when no source sets ``project-dir``
            (front ends pass the noxfile's or tasks.py's directory); default the cwd.
        env: environment to read ``MANYWHEELS_*`` from; default ``os.environ``.
        overrides: keyword overrides from code (snake_case or kebab-case keys).
        argv: command-line arguments, parsed with :func:`argument_parser`.
        flags: an already-parsed command-line layer (the CLI's, nox's and invoke's
            flags), by key or attribute name (``python``, ``test-command``,
            ``repository_url``); ``None`` values are "not given". Same precedence as
            ``argv``, applied after it.
        overrides_source: how ``overrides`` are named in error messages and
            ``Config.sources`` (the invoke front end passes ``invoke config``).

    Returns:
        The resolved :class:`Config`, paths absolute.

    Raises:
        ConfigError: unknown key, wrong type or bad value (one line, naming the key).
        ProjectError: the project directory is missing or holds neither
            ``pyproject.toml`` nor ``setup.py``.
    """
    env = os.environ if env is None else env
    code = _code_layer(overrides or {})
    environ = _env_layer(env)
    args = {**_argv_layer(argv), **_flags_layer(flags or {})}

    # project-dir decides where pyproject.toml is read from, so resolve it first.
    base = Path(project_dir) if project_dir is not None else Path.cwd()
    chosen: Path = base
    for source, layer in (
        (overrides_source, code), ("environment", environ), ("command line", args)
    ):
        if "project-dir" in layer:
            chosen = _parse(_BY_KEY["project-dir"], source, layer["project-dir"])
    root = (base / chosen).resolve() if not chosen.is_absolute() else chosen.resolve()
    if not root.is_dir():
        msg = f"project-dir {str(root)!r} does not exist or is not a directory"
        raise ProjectError(msg)
    if not (root / "pyproject.toml").is_file() and not (root / "setup.py").is_file():
        msg = (
            f"project-dir {str(root)!r} is not a Python project: it has neither "
            "pyproject.toml nor setup.py"
        )
        raise ProjectError(msg)

    project = Project.read(root)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {o.key: "default" for o in OPTIONS}
    layers = (
        ("pyproject.toml", _pyproject_layer(project.pyproject)),
        (overrides_source, code),
        ("environment", environ),
        ("command line", args),
    )
    for source, layer in layers:
        for key, raw in layer.items():
            option = _BY_KEY[key]
            where = option.env_var if source == "environment" else source
            values[key] = _parse(option, where, raw)
            sources[key] = where

    _check_test_command(values.get("test-command"))
    if values.get("plat") is not None:
        parse_policy(values["plat"], what=f"plat ({sources['plat']})")

    kwargs: dict[str, Any] = {}
    config_fields = {f.name for f in fields(Config)}
    for option in OPTIONS:
        if option.attr in config_fields and option.key in values:
            kwargs[option.attr] = values[option.key]
    kwargs.pop("project_dir", None)
    for name in ("dist_dir", "output_dir"):
        path = kwargs.get(name, getattr(Config, name))
        kwargs[name] = path if path.is_absolute() else (root / path).resolve()
        _check_output_dir(name.replace("_", "-"), kwargs[name], root, sources)
    config = Config(
        project_dir=root,
        requires_python=project.requires_python,
        sources=sources,
        project=project,
        **kwargs,
    )
    select_platforms(config)  # archs, image keys, image/plat conflicts: one-line errors now
    return config
