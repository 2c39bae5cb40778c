"""Resolving the configuration of a run: :func:`load_config`, its sources and precedence.

Lowest to highest precedence:

1. defaults (:data:`~manywheels.config.OPTIONS`);
2. ``[tool.manywheels]`` in the built project's ``pyproject.toml`` (kebab-case keys;
   ``[tool.manywheels.publish]`` for the publish keys);
3. keyword overrides given in code (``manywheels.nox.build(session, image=...)``,
   ``register(**overrides)``; snake_case keys);
4. environment variables ``MANYWHEELS_<KEY>`` (upper snake case, e.g.
   ``MANYWHEELS_TEST_COMMAND``, ``MANYWHEELS_PUBLISH_REPOSITORY_URL``);
5. command-line arguments (``manywheels build --python cp312``, nox posargs
   ``nox -s wheels-build -- --python cp312``, invoke task flags), given as argv or as
   an already-parsed mapping (``load_config(flags=...)``).

Every key is declared once, in :data:`~manywheels.config.OPTIONS` (:mod:`._options`): its
type, default, help, example and README text; values are parsed by :mod:`._values`.
The flags (:func:`argument_parser`) are derived from it.

Unknown keys, wrong types and bad values raise :class:`~manywheels.errors.ConfigError`
naming the key, the source and what is allowed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from manywheels.config._cibuildwheel import from_cibuildwheel
from manywheels.config._config import Config
from manywheels.config._create_args import parse_create_args
from manywheels.config._options import BY_ATTR, BY_KEY, OPTIONS
from manywheels.config._overrides import parse_overrides
from manywheels.config._platforms import select_platforms
from manywheels.config._project import Project
from manywheels.config._sdist_file import has_configuration, sdist_pyproject
from manywheels.config._values import check_output_dir, parse_value
from manywheels.errors import ConfigError, ProjectError
from manywheels.naming._policy import parse_policy
from manywheels.naming._tags import PythonTag

__all__ = ["argument_parser", "load_config", "pyproject_layer"]

_TOP_KEYS = sorted(o.key for o in OPTIONS if "." not in o.key and not o.stage_only)
_PUBLISH_KEYS = sorted(o.key.split(".", 1)[1] for o in OPTIONS if o.key.startswith("publish."))


def pyproject_layer(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``[tool.manywheels]`` layer of a parsed ``pyproject.toml``: raw values by key
    (``publish.repository-url`` for the publish subtable), not yet parsed.

    Raises:
        ConfigError: the table is not a table, or holds an unknown key.
    """
    tool = data.get("tool", {}).get("manywheels", {})
    if not isinstance(tool, Mapping):
        msg = "[tool.manywheels] in pyproject.toml must be a table"
        raise ConfigError(msg)
    layer: dict[str, Any] = {}
    for key, value in tool.items():
        if key == "overrides":  # per identifier: parse_overrides
            continue
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
                [*_TOP_KEYS, "publish", "overrides"]
            )
            raise ConfigError(msg)
        layer[key] = value
    return layer


def _project_layer(project: Project) -> tuple[str, dict[str, Any], Any, tuple[str, ...]]:
    """The pyproject layer: (source name, raw values, raw overrides, notes).
    ``[tool.manywheels]``; without it, ``[tool.cibuildwheel]`` translated
    (:func:`~manywheels.config._cibuildwheel.from_cibuildwheel`)."""
    tool = project.pyproject.get("tool", {})
    cibw = tool.get("cibuildwheel") if isinstance(tool, Mapping) else None
    if "manywheels" in tool or not isinstance(cibw, Mapping):
        return ("pyproject.toml", pyproject_layer(project.pyproject),
                project.tool.get("overrides"), ())
    table = from_cibuildwheel(cibw)
    return ("[tool.cibuildwheel] in pyproject.toml", table.layer, table.overrides,
            (table.note,))


def _code_layer(overrides: Mapping[str, Any]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for name, value in overrides.items():
        option = BY_ATTR.get(name.replace("-", "_"))
        if option is None:
            allowed = ", ".join(sorted(BY_ATTR))
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
    parser.add_argument("-v", dest="build-verbosity", action="count", default=argparse.SUPPRESS,
                        help="stream every output line (build-verbosity 1; -vv: 2)")
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
        option = BY_KEY.get(name) or BY_ATTR.get(name.replace("-", "_"))
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
            ``pyproject.toml`` nor ``setup.py`` (and no ``sdist`` is given), or the
            ``sdist`` whose ``pyproject.toml`` is read (the project directory has no
            ``[tool.manywheels]``/``[tool.cibuildwheel]``) is missing or no sdist.
    """
    env = os.environ if env is None else env
    code = _code_layer(overrides or {})
    environ = _env_layer(env)
    args = {**_argv_layer(argv), **_flags_layer(flags or {})}

    # project-dir decides where pyproject.toml is read from, so resolve it first.
    base = Path(project_dir) if project_dir is not None else Path.cwd()
    chosen: Path = base
    given: Path | None = None  # sdist: where the configuration may come from
    for source, layer in (
        (overrides_source, code), ("environment", environ), ("command line", args)
    ):
        if "project-dir" in layer:
            chosen = parse_value(BY_KEY["project-dir"], source, layer["project-dir"])
        if "sdist" in layer:
            given = parse_value(BY_KEY["sdist"], source, layer["sdist"])
    root = (base / chosen).resolve() if not chosen.is_absolute() else chosen.resolve()
    if not root.is_dir():
        msg = f"project-dir {str(root)!r} does not exist or is not a directory"
        raise ProjectError(msg)
    if not (root / "pyproject.toml").is_file() and not (root / "setup.py").is_file() \
            and given is None:
        msg = (
            f"project-dir {str(root)!r} is not a Python project: it has neither "
            "pyproject.toml nor setup.py (or give an sdist file: sdist)"
        )
        raise ProjectError(msg)

    project = Project.read(root)
    if given is not None and not has_configuration(project.pyproject):
        project = Project.from_data(root, sdist_pyproject(root / given))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {o.key: "default" for o in OPTIONS}
    toml_source, toml_layer, raw_overrides, notes = _project_layer(project)
    layers = (
        (toml_source, toml_layer),
        (overrides_source, code),
        ("environment", environ),
        ("command line", args),
    )
    for source, layer in layers:
        for key, raw in layer.items():
            option = BY_KEY[key]
            where = option.env_var if source == "environment" else source
            values[key] = parse_value(option, where, raw)
            sources[key] = where

    if values.get("container-create-args"):
        parse_create_args(values["container-create-args"], sources["container-create-args"])
        if values.get("engine") == "none":
            msg = (f"container-create-args ({sources['container-create-args']}) needs a container "
                   "engine; with engine = \"none\" nothing is created: remove one of them")
            raise ConfigError(msg)
    if values.get("plat") is not None:
        parse_policy(values["plat"], what=f"plat ({sources['plat']})")

    kwargs: dict[str, Any] = {}
    config_fields = {f.name for f in fields(Config)}
    for option in OPTIONS:
        if option.attr in config_fields and option.key in values:
            kwargs[option.attr] = values[option.key]
    kwargs.pop("project_dir", None)
    if "frontend" in kwargs:  # parsed as (name, args): cibuildwheel's "build; args: ..."
        kwargs["frontend"], kwargs["frontend_args"] = kwargs["frontend"]
    if kwargs.get("sdist") is not None:
        kwargs["sdist"] = (root / kwargs["sdist"]).resolve()
    for name in ("dist_dir", "output_dir"):
        path = kwargs.get(name, getattr(Config, name))
        kwargs[name] = path if path.is_absolute() else (root / path).resolve()
        check_output_dir(name.replace("_", "-"), kwargs[name], root, sources)
    config = Config(
        project_dir=root,
        requires_python=project.requires_python,
        sources=sources,
        project=project,
        overrides=parse_overrides(raw_overrides, "tool.cibuildwheel" if notes
                                  else "tool.manywheels"),
        notes=notes,
        **kwargs,
    )
    select_platforms(config)  # archs, image keys, image/plat conflicts: one-line errors now
    return config
