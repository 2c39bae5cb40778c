"""The invoke front end: the ``wheels`` collection :data:`ns`.

In a project's ``tasks.py``::

    from invoke import Collection
    import manywheels.invoke

    ns = Collection()
    ns.add_collection(manywheels.invoke.ns)     # or: ns = Collection(manywheels.invoke.ns)

``invoke --list`` then shows ``wheels.build``, ``wheels.repair``, ``wheels.test``,
``wheels.publish``, ``wheels.troubleshoot``, ``wheels.clean-cache`` and ``wheels.all``,
the default task of the collection: ``invoke wheels`` runs build -> repair -> test
(``pre=`` chain; one container per image serves the whole chain) and removes the run's
containers. As under nox, identifiers that fail in one stage do not stop the chain for
the others; ``invoke wheels`` then exits 1.

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
Errors end the task with one line ``manywheels: error: ...`` (after the automatic short
diagnosis of a failing stage) and the error's exit code; Ctrl-C exits 130, SIGTERM 143,
and the run's containers are removed first. ``wheels.troubleshoot`` takes ``--json``
and ``--min-free-gib N`` besides the configuration flags.
"""

from __future__ import annotations

import contextlib
import inspect
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.env import Environment
from invoke.exceptions import Exit, UncastableEnvVar
from invoke.tasks import Call, Task

from manywheels import _signals as signals
from manywheels.config._config import OPTIONS, Config, load_config
from manywheels.errors import ConfigError, ExitCode, ManywheelsError
from manywheels.stages._run import Run, close_shared_runs, shared_run

__all__ = ["SECTION", "build", "clean_cache", "ns", "publish", "repair", "resolve_config", "test",
           "troubleshoot"]

SECTION = "wheels"
"""The invoke configuration section (and the collection's name)."""


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
        The resolved :class:`~manywheels.config._config.Config`.

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



_CHAIN_FAILED: list[int] = []
"""Exit codes of chained stages that failed for some identifiers (``invoke wheels``)."""


def _print_diagnosis(run: Run, error: ManywheelsError) -> None:
    """The automatic short diagnosis after a failing stage (never raises)."""
    from manywheels.stages.troubleshoot import print_quick_diagnosis  # noqa: PLC0415

    with contextlib.suppress(Exception):
        print_quick_diagnosis(run, error)


def _execute(
    c: Context, stage: Callable[[Run], object], flags: Mapping[str, Any], *, chained: bool
) -> None:
    """Run one stage: resolve the configuration, share the run, map errors to exits.

    In the ``invoke wheels`` chain a stage that failed for some identifiers does not
    stop the chain (the later stages handle the others, as under nox); the default task
    then exits 1. Any other error stops at once with its own exit code.
    """
    signals.install()  # SIGTERM -> Terminated: containers are removed, exit 143
    run: Run | None = None
    try:
        run = shared_run(resolve_config(c, flags))
        stage(run)
    except ManywheelsError as error:
        if run is not None:
            _print_diagnosis(run, error)
        message = f"manywheels: error: {error}"
        if chained and error.exit_code == ExitCode.STAGE_FAILED:
            _CHAIN_FAILED.append(error.exit_code)
            print(message, file=sys.stderr, flush=True)
            return
        close_shared_runs()
        raise Exit(message, code=error.exit_code) from None
    except BaseException as interrupt:
        code = signals.exit_code_for(interrupt)
        close_shared_runs()
        if code is None:
            raise
        message = "manywheels: interrupted" if code == ExitCode.SIGINT else "manywheels: terminated"
        raise Exit(message, code=code) from None


def _stage_build(run: Run, options: Mapping[str, Any]) -> object:  # noqa: ARG001
    from manywheels.stages.build import build  # noqa: PLC0415

    return build(run)


def _stage_repair(run: Run, options: Mapping[str, Any]) -> object:  # noqa: ARG001
    from manywheels.stages.repair import repair  # noqa: PLC0415

    return repair(run)


def _stage_test(run: Run, options: Mapping[str, Any]) -> object:  # noqa: ARG001
    from manywheels.stages.test import test  # noqa: PLC0415

    return test(run)


def _stage_publish(run: Run, options: Mapping[str, Any]) -> object:  # noqa: ARG001
    from manywheels.stages.publish import publish  # noqa: PLC0415

    return publish(run.config, run.ui)


def _stage_troubleshoot(run: Run, options: Mapping[str, Any]) -> object:
    from manywheels.stages.troubleshoot import (  # noqa: PLC0415
        DEFAULT_MIN_FREE_GIB,
        TroubleshootOptions,
    )
    from manywheels.stages.troubleshoot import troubleshoot as stage  # noqa: PLC0415

    raw = options.get("min_free_gib")
    try:
        min_free = DEFAULT_MIN_FREE_GIB if raw is None else float(raw)
    except ValueError:
        min_free = -1.0
    if min_free < 0:
        msg = f"command line: --min-free-gib: got {raw!r}, expected a number >= 0"
        raise ConfigError(msg)
    return stage(run, TroubleshootOptions(json=bool(options.get("json")), min_free_gib=min_free))


def _stage_clean_cache(run: Run, options: Mapping[str, Any]) -> object:  # noqa: ARG001
    from manywheels.stages._cache import clear_for_run  # noqa: PLC0415

    return clear_for_run(run)


_TROUBLESHOOT_FLAGS = {
    "json": (False, "print a JSON document on stdout instead of the report"),
    "min_free_gib": (None, "warn when the engine has less free space than this (GiB; default 5)"),
}


def _flag_help() -> dict[str, str]:
    helps = {option.attr: option.help for option in OPTIONS}
    helps["project_dir"] = "the project to build; default the tasks file's directory"
    return helps


def _signature(extra: Mapping[str, tuple[Any, str]]) -> inspect.Signature:
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
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
               for name, (default, _) in extra.items()]
    return inspect.Signature(params)


def _stage_task(
    name: str,
    stage: Callable[[Run, Mapping[str, Any]], object],
    doc: str,
    *,
    chained: bool = False,
    extra: Mapping[str, tuple[Any, str]] | None = None,
) -> Task[Any]:
    extra = dict(extra or {})

    def body(c: Context, **flags: Any) -> None:
        own = {key: flags.pop(key) for key in extra if key in flags}
        _execute(c, lambda run: stage(run, own), flags, chained=chained)

    body.__name__ = body.__qualname__ = name
    body.__doc__ = doc
    body.__signature__ = _signature(extra)  # type: ignore[attr-defined]
    return Task(
        body,
        name=name,
        help={**_flag_help(), **{key: text for key, (_, text) in extra.items()}},
        iterable=[o.attr for o in OPTIONS if o.kind in _LIST_KINDS],
        auto_shortflags=False,
    )


_DOCS = {
    "build": "Build the sdist, then a wheel per Python tag from it in a manylinux container.",
    "repair": "Repair the raw wheels with auditwheel (vendor external libraries, manylinux tag).",
    "test": "Install each repaired wheel in a fresh venv and run the test-command.",
    "publish": "Upload the tested wheels and the sdist with twine (on the host).",
    "troubleshoot": "Diagnose a failed run: each problem's cause and fix (--json for tools).",
    "clean-cache": "Clear the pip, uv and ccache caches and the before-all images (cache-dir).",
}

build = _stage_task("build", _stage_build, _DOCS["build"])
repair = _stage_task("repair", _stage_repair, _DOCS["repair"])
test = _stage_task("test", _stage_test, _DOCS["test"])
test.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported
publish = _stage_task("publish", _stage_publish, _DOCS["publish"])
troubleshoot = _stage_task("troubleshoot", _stage_troubleshoot, _DOCS["troubleshoot"],
                           extra=_TROUBLESHOOT_FLAGS)
clean_cache = _stage_task("clean-cache", _stage_clean_cache, _DOCS["clean-cache"])


def _all(c: Context) -> None:  # noqa: ARG001 - invoke passes the context
    """Build, repair and test the wheels (build -> repair -> test); the default task."""
    close_shared_runs()
    if _CHAIN_FAILED:
        codes, _CHAIN_FAILED[:] = list(_CHAIN_FAILED), []
        message = (
            "manywheels: error: build, repair and test finished with failed identifiers "
            "(see the summaries above); wheels of the others are in the output-dir"
        )
        raise Exit(message, code=max(codes))
    print("manywheels: build, repair and test done; wheels in the output-dir")


# The chain runs variants of the stage tasks that let it go on past identifiers that
# failed (the stage tasks called by name stop with the stage's exit code).
_CHAIN: Any = [  # invoke's annotation says list[str]; Call objects are documented
    Call(_stage_task(name, stage, _DOCS[name], chained=True))
    for name, stage in (("build", _stage_build), ("repair", _stage_repair),
                        ("test", _stage_test))
]
all_: Task[Any] = Task(_all, name="all", pre=_CHAIN, default=True)

ns = Collection(SECTION)
"""The ``wheels`` collection: ``build``, ``repair``, ``test``, ``publish``,
``troubleshoot``, ``clean-cache`` and ``all`` (the default: build -> repair -> test)."""

for _task in (all_, build, repair, test, publish, troubleshoot, clean_cache):
    ns.add_task(_task)

# Every key is declared (as "not set") so that invoke maps INVOKE_WHEELS_<KEY> to it.
ns.configure({SECTION: {option.attr: None for option in OPTIONS}})
