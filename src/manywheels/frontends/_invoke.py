"""The invoke front end: the ``wheels`` collection, generated from
:data:`~manywheels.stages._registry.STAGES` and :data:`~manywheels.config.OPTIONS`.

One task per stage (``wheels.build``, ``wheels.repair``, ...; flags: every configuration
key plus the stage's own options) and the default task ``wheels.all``, which chains
build -> repair -> test with invoke's ``pre=``. Configuration layers, lowest to
highest: defaults, ``[tool.manywheels]``, invoke's configuration section ``wheels``,
``MANYWHEELS_*``, task flags (see :mod:`manywheels.invoke`).
"""

from __future__ import annotations

import inspect
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.env import Environment
from invoke.exceptions import Exit, UncastableEnvVar
from invoke.tasks import Call, Task

from manywheels._commands import using_frontend
from manywheels.config import OPTIONS, Config, Option
from manywheels.errors import ConfigError, ExitCode, ManywheelsError
from manywheels.frontends._adapter import Chain, interrupt_code, resolve_config, run_stage
from manywheels.stages._registry import CHAIN, CHAIN_HELP, STAGES, Stage, StageOption

__all__ = ["SECTION", "collection", "resolve_config_for"]

SECTION = "wheels"
"""The invoke configuration section (and the collection's name)."""

_BY_NAME: dict[str, Option] = {}
for _option in OPTIONS:
    _BY_NAME[_option.attr] = _option
    _BY_NAME[_option.key.split(".")[-1]] = _option
    _BY_NAME[_option.key] = _option

_PROJECT_DIR_HELP = "the project to build; default the tasks file's directory"


def _invoke_layer(section: Mapping[str, Any]) -> dict[str, Any]:
    """The ``wheels`` section of invoke's configuration as keyword overrides.

    ``None`` values (the collection's own defaults: "not set") are dropped.

    Raises:
        ConfigError: an unknown key (naming it and the allowed keys).
    """
    layer: dict[str, Any] = {}
    for key, value in section.items():
        option = _BY_NAME.get(str(key))
        if option is None:
            allowed = ", ".join(sorted(o.attr for o in OPTIONS))
            msg = (
                f"unknown key {key!r} in the invoke configuration section {SECTION!r}; "
                f"allowed are {allowed}"
            )
            raise ConfigError(msg)
        if value is not None:
            layer[option.attr] = dict(value) if isinstance(value, Mapping) else value
    return layer


def _flag_layer(flags: Mapping[str, Any]) -> dict[str, Any]:
    """Task flag values as the parsed command-line layer: list flags may be repeated or
    hold several words; a switch left off and an unset value are "not given"."""
    layer: dict[str, Any] = {}
    for option in OPTIONS:
        value = flags.get(option.attr)
        if option.is_list:
            words = [word for item in value or () for word in shlex.split(str(item))]
            layer[option.attr] = words or None
        elif option.is_switch:
            layer[option.attr] = True if value else None
        else:
            layer[option.attr] = value
    return layer


def _tasks_dir(c: Context) -> Path:
    """The directory invoke loaded the tasks from (``tasks.py``'s, or ``tasks/``'s parent);
    the cwd when unknown."""
    name = str(c.config.tasks.collection_name or "tasks")
    module = sys.modules.get(name)
    filename = getattr(module, "__file__", None)
    if not filename:
        return Path.cwd()
    directory = Path(filename).resolve().parent
    return directory.parent if hasattr(module, "__path__") else directory


def _env_prefix(c: Context) -> str:
    """invoke's environment variable prefix (``INVOKE_``), from the Config class."""
    config_class = type(c.config)
    return f"{(config_class.env_prefix or config_class.prefix).upper()}_"


def _section(c: Context) -> dict[str, Any]:
    """invoke's ``wheels`` section, ``INVOKE_WHEELS_<KEY>`` variables included.

    Raises:
        ConfigError: a variable invoke cannot cast.
    """
    section = dict(c.config.get(SECTION) or {})
    declared = {option.attr: None for option in OPTIONS}
    if set(declared) <= set(section):
        return section
    # invoke maps INVOKE_WHEELS_<KEY> only onto keys it knows, and it merges this
    # collection's defaults (which declare every key) only for tasks called by name,
    # not for pre-tasks: map the variables here, with invoke's own loader.
    try:
        data: Any = {SECTION: {**declared, **section}}  # read like a Config
        loaded = Environment(config=data, prefix=_env_prefix(c)).load()
    except UncastableEnvVar as error:
        msg = f"invoke configuration section {SECTION!r}: {error}"
        raise ConfigError(msg) from None
    section.update(loaded.get(SECTION, {}))
    return section


def resolve_config_for(c: Context, flags: Mapping[str, Any] | None = None) -> Config:
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
    return resolve_config(_tasks_dir(c), overrides=_invoke_layer(_section(c)),
                          overrides_source="invoke config", flags=_flag_layer(flags or {}))


def _execute(c: Context, stage: Stage, flags: Mapping[str, Any], chain: Chain | None) -> None:
    """Run one stage for a task; raise invoke's ``Exit`` on errors and interrupts."""
    own = {option.name: flags.get(option.name) for option in stage.options}
    try:
        with using_frontend("invoke", SECTION):
            failure = run_stage(stage, lambda: (resolve_config_for(c, flags), own), chain=chain)
    except BaseException as interrupt:
        code = interrupt_code(interrupt)
        if code is None:
            raise
        message = "manywheels: interrupted" if code == ExitCode.SIGINT else "manywheels: terminated"
        raise Exit(message, code=code) from None
    if failure is None:
        return
    if failure.goes_on:
        print(failure.line, file=sys.stderr, flush=True)
        return
    raise Exit(failure.line, code=failure.code)


def _option_default(option: Option) -> Any:
    if option.is_switch:
        return False
    return [] if option.is_list else None


def _own_default(option: StageOption) -> Any:
    return False if option.kind == "bool" else None


def _signature(stage: Stage) -> inspect.Signature:
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(o.attr, keyword, default=_option_default(o)) for o in OPTIONS]
    params += [inspect.Parameter(o.name, keyword, default=_own_default(o)) for o in stage.options]
    return inspect.Signature(params)


def _task_help(stage: Stage) -> dict[str, str]:
    helps = {option.attr: option.help for option in OPTIONS}
    helps["project_dir"] = _PROJECT_DIR_HELP
    helps.update({option.name: option.help for option in stage.options})
    return helps


def stage_task(stage: Stage, chain: Chain | None = None) -> Task[Any]:
    """The invoke task of ``stage``: flags from OPTIONS and the stage's own options.

    Args:
        stage: the stage.
        chain: the chain the task runs in (``None``: a task called by name, which stops
            with the stage's exit code).
    """

    def body(c: Context, **flags: Any) -> None:
        _execute(c, stage, flags, chain)

    body.__name__ = body.__qualname__ = stage.name
    body.__doc__ = stage.help
    body.__signature__ = _signature(stage)  # type: ignore[attr-defined]
    return Task(body, name=stage.name, help=_task_help(stage),
                iterable=[o.attr for o in OPTIONS if o.is_list], auto_shortflags=False)


def _chain_task(chain: Chain) -> Task[Any]:
    def all_(c: Context) -> None:  # noqa: ARG001 - invoke passes the context
        with using_frontend("invoke", SECTION):
            error: ManywheelsError | None = chain.finish()
        for line in chain.lines:
            print(line, flush=True)
        if error is not None:
            msg = f"manywheels: error: {error}"
            raise Exit(msg, code=error.exit_code)

    all_.__doc__ = f"{CHAIN_HELP[:-1]}; the default task."
    # The chain runs variants of the stage tasks that let it go on past identifiers that
    # failed; invoke's annotation says list[str], Call objects are documented.
    pre: Any = [Call(stage_task(stage, chain)) for stage in CHAIN]
    return Task(all_, name="all", pre=pre, default=True)


def _shell_task() -> Task[Any]:
    def shell(c: Context, identifier: str, command: str = "") -> None:
        """A container of IDENTIFIER's image as its build sees it: interactive bash, or
        --command (shell words) run there, the task exiting with its code."""
        from manywheels.frontends._cli import shell_main  # noqa: PLC0415

        words = [identifier, *(["--", *shlex.split(command)] if command else [])]
        try:
            code = shell_main(words, _tasks_dir(c))
        except ManywheelsError as error:
            msg = f"manywheels: error: {error}"
            raise Exit(msg, code=error.exit_code) from None
        if code:
            raise Exit(code=code)

    return Task(shell, name="shell", help={
        "identifier": "a planned build identifier, e.g. cp312-manylinux_x86_64",
        "command": "run this command (shell words) instead of an interactive bash"})


def collection() -> tuple[Collection, dict[str, Task[Any]]]:
    """The ``wheels`` collection and its stage tasks by stage name.

    Every configuration key is declared in the collection's configuration (as "not
    set"), so invoke maps ``INVOKE_WHEELS_<KEY>`` to it.
    """
    ns = Collection(SECTION)
    ns.add_task(_chain_task(Chain(pipelined=True)))
    tasks = {stage.name: stage_task(stage) for stage in STAGES}
    for task in tasks.values():
        ns.add_task(task)
    ns.add_task(_shell_task())
    ns.configure({SECTION: {option.attr: None for option in OPTIONS}})
    return ns, tasks
