"""The invoke front end: the ``wheels`` collection :data:`ns`.

In a project's ``tasks.py``::

    from invoke import Collection
    import manywheels.invoke

    ns = Collection()
    ns.add_collection(manywheels.invoke.ns)     # or: ns = Collection(manywheels.invoke.ns)

``invoke --list`` then shows ``wheels.build``, ``wheels.repair``, ``wheels.test``,
``wheels.publish`` and ``wheels.all``, the default task of the collection: ``invoke
wheels`` runs build -> repair -> test (``pre=`` chain) and removes the run's containers.

Configuration, lowest to highest precedence (as for the nox sessions, with invoke's
layers in the place of nox's keyword overrides):

1. defaults;
2. ``[tool.manywheels]`` in the project's ``pyproject.toml``;
3. invoke's configuration, section ``wheels`` (snake_case or kebab-case keys), itself
   merged by invoke: ``ns.configure({"wheels": {...}})`` in tasks.py, ``wheels:`` in
   ``invoke.yaml`` (system, user, project), ``INVOKE_WHEELS_<KEY>`` variables
   (``INVOKE_WHEELS_PYTHON="cp311 cp312"``), ``invoke -f FILE``;
4. ``MANYWHEELS_<KEY>`` variables;
5. task flags: ``invoke wheels.build --python cp312 --image IMAGE``. List flags may be
   repeated or hold several words (``--python "cp311 cp312"``); switches
   (``--fail-fast``, ``--dry-run``) can only turn a setting on.

Flags belong to the task they follow: ``invoke wheels --python cp312`` is not possible
(pre-tasks get no flags); use ``INVOKE_WHEELS_PYTHON=cp312 invoke wheels``, or
``invoke wheels.build --python cp312 wheels.repair wheels.test``.

The project is ``project_dir`` from any layer, else the directory of the tasks file.
Errors end the task with one line ``manywheels: error: ...`` and the error's exit code;
Ctrl-C exits 130.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import inspect
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.env import Environment
from invoke.exceptions import Exit, UncastableEnvVar
from invoke.tasks import Call, Task

from manywheels.config import OPTIONS, Config, load_config
from manywheels.errors import ConfigError, ExitCode, ManywheelsError
from manywheels.run import Run

__all__ = ["SECTION", "ns", "resolve_config"]

SECTION = "wheels"
"""The invoke configuration section (and the collection's name)."""

_RUNS: dict[str, Run] = {}


def _close_runs() -> None:
    while _RUNS:
        _, run = _RUNS.popitem()
        with contextlib.suppress(Exception):  # best effort at exit: the engine may be gone
            run.close()


atexit.register(_close_runs)

_BY_NAME = {}
for _option in OPTIONS:
    _BY_NAME[_option.attr] = _option
    _BY_NAME[_option.key.split(".")[-1]] = _option
    _BY_NAME[_option.key] = _option

_LIST_KINDS = {"list", "python", "table"}


def _invoke_layer(section: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``wheels`` section of invoke's configuration as keyword overrides.

    ``None`` values (the collection's own defaults: "not set") are dropped.

    Raises:
        ConfigError: an unknown key (naming it and the allowed keys).
    """
    layer: dict[str, Any] = {}
    for key, value in (section or {}).items():
        option = _BY_NAME.get(str(key))
        if option is None:
            allowed = ", ".join(sorted(o.attr for o in OPTIONS))
            msg = (
                f"unknown key {key!r} in the invoke configuration section {SECTION!r}; "
                f"allowed are {allowed}"
            )
            raise ConfigError(msg)
        if value is None:
            continue
        layer[option.attr] = dict(value) if isinstance(value, Mapping) else value
    return layer


def _flags_argv(flags: Mapping[str, Any]) -> list[str]:
    """Task flags as command-line arguments for :func:`load_config`."""
    argv: list[str] = []
    for option in OPTIONS:
        value = flags.get(option.attr)
        if option.kind == "bool":
            if value:
                argv.append(option.flag)
        elif option.kind in _LIST_KINDS:
            words = [word for item in value or () for word in shlex.split(str(item))]
            if words:
                argv += [option.flag, *words]
        elif value is not None:
            argv.append(f"{option.flag}={value}")
    return argv


def _project_base(c: Context) -> Path:
    prefix = getattr(c.config, "_project_prefix", None)
    return Path(prefix) if prefix else Path.cwd()


def resolve_config(c: Context, flags: Mapping[str, Any] | None = None) -> Config:
    """Resolve the configuration of a task call.

    Args:
        c: the task's invoke context (its ``config.wheels`` section is the invoke layer).
        flags: the task's flag values by Config attribute name (``python``, ``image``,
            ``fail_fast``, ...); unset flags are ``None``, ``False`` or empty.

    Returns:
        The resolved :class:`~manywheels.config.Config`.

    Raises:
        ConfigError: unknown key or bad value in any layer (one line).
        ProjectError: the project directory is missing or not a Python project.
    """
    section = dict(c.config.get(SECTION) or {})
    declared = {option.attr: None for option in OPTIONS}
    if not set(declared) <= set(section):
        # invoke maps INVOKE_WHEELS_<KEY> only onto keys it knows, and it merges this
        # collection's defaults (which declare every key) only for tasks called by name,
        # not for pre-tasks: map the variables here, with invoke's own loader.
        prefix = getattr(c.config, "_env_prefix", None) or "INVOKE_"
        try:
            data: Any = {SECTION: {**declared, **section}}  # read like a Config
            loaded = Environment(config=data, prefix=prefix).load()
        except UncastableEnvVar as error:
            msg = f"invoke configuration section {SECTION!r}: {error}"
            raise ConfigError(msg) from None
        section.update(loaded.get(SECTION, {}))
    return load_config(
        _project_base(c),
        overrides=_invoke_layer(section),
        argv=_flags_argv(flags or {}),
        overrides_source="invoke config",
    )


def _shared_run(config: Config) -> Run:
    key = repr(config)
    run = _RUNS.get(key)
    if run is None:
        run = _RUNS[key] = Run(config)
    return run


def _execute(c: Context, stage: Callable[[Run], object], flags: Mapping[str, Any]) -> None:
    try:
        stage(_shared_run(resolve_config(c, flags)))
    except ManywheelsError as error:
        message = f"manywheels: error: {error}"
        raise Exit(message, code=error.exit_code) from None
    except KeyboardInterrupt:
        _close_runs()
        message = "manywheels: interrupted"
        raise Exit(message, code=ExitCode.SIGINT) from None


def _stage_build(run: Run) -> object:
    from manywheels.stages.build import build  # noqa: PLC0415

    return build(run)


def _stage_repair(run: Run) -> object:
    from manywheels.stages.repair import repair  # noqa: PLC0415

    return repair(run)


def _stage_test(run: Run) -> object:
    from manywheels.stages.test import test  # noqa: PLC0415

    return test(run)


def _stage_publish(run: Run) -> object:
    from manywheels.stages.publish import publish  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

    return publish(run.config, run.ui)


def _flag_help() -> dict[str, str]:
    helps = {option.attr: option.help for option in OPTIONS}
    helps["project_dir"] = "the project to build; default the tasks file's directory"
    return helps


def _signature() -> inspect.Signature:
    params = [inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for option in OPTIONS:
        if option.kind == "bool":
            default: Any = False
        elif option.kind in _LIST_KINDS:
            default = []
        else:
            default = None
        params.append(
            inspect.Parameter(option.attr, inspect.Parameter.KEYWORD_ONLY, default=default)
        )
    return inspect.Signature(params)


def _stage_task(name: str, stage: Callable[[Run], object], doc: str) -> Task[Any]:
    def body(c: Context, **flags: Any) -> None:
        _execute(c, stage, flags)

    body.__name__ = body.__qualname__ = name
    body.__doc__ = doc
    body.__signature__ = _signature()  # type: ignore[attr-defined]
    return Task(
        body,
        name=name,
        help=_flag_help(),
        iterable=[o.attr for o in OPTIONS if o.kind in _LIST_KINDS],
        auto_shortflags=False,
    )


build = _stage_task(
    "build", _stage_build,
    "Build the sdist, then a wheel per Python tag from it in a manylinux container.",
)
repair = _stage_task(
    "repair", _stage_repair,
    "Repair the raw wheels with auditwheel (vendor external libraries, manylinux tag).",
)
test = _stage_task(
    "test", _stage_test,
    "Install each repaired wheel in a fresh venv and run the test-command.",
)
test.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported


def _all(c: Context) -> None:  # noqa: ARG001 - invoke passes the context
    """Build, repair and test the wheels (build -> repair -> test); the default task."""
    _close_runs()
    print("manywheels: build, repair and test done; wheels in the output-dir")


_CHAIN: Any = [Call(build), Call(repair), Call(test)]  # invoke's annotation says list[str]
all_: Task[Any] = Task(_all, name="all", pre=_CHAIN, default=True)

ns = Collection(SECTION)
"""The ``wheels`` collection: ``build``, ``repair``, ``test``, ``publish`` and ``all`` (the
default: build -> repair -> test)."""

for _task in (all_, build, repair, test):
    ns.add_task(_task)

if importlib.util.find_spec("manywheels.stages.publish") is not None:
    publish = _stage_task(
        "publish", _stage_publish,
        "Upload the tested wheels and the sdist with twine (on the host).",
    )
    ns.add_task(publish)

# Every key is declared (as "not set") so that invoke maps INVOKE_WHEELS_<KEY> to it.
ns.configure({SECTION: {option.attr: None for option in OPTIONS}})
