"""The ``manywheels`` command line: the stages and the flow, plus ``plan``, ``matrix``,
``init``, ``export-script``.

One subcommand per stage of :data:`~manywheels.stages._registry.STAGES` (``build``,
``repair``, ``test``, ``publish``, ``troubleshoot``, ``clean-cache``, with the stage's
own options) and ``wheels``, the chain build -> repair -> test: identifiers that fail in
one stage do not stop the chain for the others, and ``wheels`` then exits 1.

Every command takes the configuration flags of :func:`manywheels.config.argument_parser`
(``--python``, ``--image``, ``--project-dir``, ...), which override
``[tool.manywheels]`` and ``MANYWHEELS_*`` as in the nox sessions. The project is the
current directory unless ``--project-dir`` (or ``MANYWHEELS_PROJECT_DIR``) says
otherwise.

Errors print one line, ``manywheels: error: ...``, on stderr and exit with the error's
code (:class:`~manywheels.errors.ExitCode`); Ctrl-C exits 130, SIGTERM 143. Containers
started on the way are removed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from manywheels import __version__
from manywheels import _signals as signals
from manywheels._commands import using_frontend
from manywheels.config import Config, argument_parser
from manywheels.errors import ConfigError, ExitCode, ManywheelsError
from manywheels.frontends._adapter import (
    Chain,
    Prepare,
    add_stage_arguments,
    close_runs,
    file_failure,
    resolve_config,
    run_stage,
    split_flags,
)
from manywheels.stages._registry import CHAIN, CHAIN_HELP, STAGES, Stage

if TYPE_CHECKING:  # rich is imported when a command runs, not for --help
    from manywheels._ui import UI

__all__ = ["build_parser", "main", "shell_main"]


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors raised as :class:`ConfigError` (one line, exit 2)."""

    def error(self, message: str) -> NoReturn:
        msg = f"command line: {message} (see `{self.prog} --help`)"
        raise ConfigError(msg)


def _config(args: argparse.Namespace) -> Config:
    flags, _ = split_flags(vars(args))
    return resolve_config(Path.cwd(), flags=flags)


# ------------------------------------------------------------------ commands


def _cmd_plan(args: argparse.Namespace, ui: UI) -> int:
    from manywheels.commands._matrix import resolve_targets  # noqa: PLC0415

    config = _config(args)
    resolved = resolve_targets(config, ui=ui, prefer_static=False)
    if not resolved.checked:
        ui.warn(
            "no container engine: the targets come from the configuration alone, "
            "not checked against the image"
        )
    if args.format == "json":
        print(json.dumps({
            "project": str(config.project_dir),
            "requires_python": config.requires_python,
            "checked": resolved.checked,
            "targets": [
                {"identifier": t.identifier, "python": t.python.tag, "interpreter": t.interpreter,
                 "image": t.image, "plat": t.plat}
                for t in resolved.targets
            ],
        }, indent=2))
        return ExitCode.OK
    print(f"project:  {config.project_dir}")
    print(f"requires-python: {config.requires_python or '(any)'}")
    rows = [("identifier", "python", "interpreter", "image", "plat")]
    rows += [(t.identifier, t.python.tag, t.interpreter, t.image, t.plat)
             for t in resolved.targets]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    return ExitCode.OK


def _cmd_matrix(args: argparse.Namespace, ui: UI) -> int:
    from manywheels.commands._matrix import (  # noqa: PLC0415
        github_matrix,
        platform_matrix,
        render_matrix,
        resolve_targets,
    )
    from manywheels.config._platforms import is_multi_platform  # noqa: PLC0415

    config = _config(args)
    resolved = resolve_targets(config, ui=ui, prefer_static=True)
    if is_multi_platform(config) or args.arm_runners:
        matrix = platform_matrix(resolved.targets, group_size=args.group_size,
                                 groups=args.groups, arm_runners=args.arm_runners)
    else:
        matrix = github_matrix(resolved.targets, group_size=args.group_size, groups=args.groups)
    print(render_matrix(matrix, args.format))
    return ExitCode.OK


def _cmd_init(args: argparse.Namespace, ui: UI) -> int:
    from manywheels.commands._scaffold import apply, plan_init  # noqa: PLC0415

    config = _config(args)
    actions = plan_init(
        config, force=args.force, workflow=not args.no_workflow, requirement=args.requirement,
        arm_runners=args.arm_runners, from_cibuildwheel=args.from_cibuildwheel,
    )
    verbs = {"create": "created", "update": "updated", "overwrite": "overwrote"}
    if not config.dry_run:
        apply(actions)
    for action in actions:
        try:
            shown = str(action.path.relative_to(config.project_dir))
        except ValueError:
            shown = str(action.path)
        if action.action == "skip":
            ui.warn(f"skipped {shown}: {action.note}")
        elif action.action == "unchanged":
            print(f"manywheels: unchanged {shown}: {action.note}")
        elif config.dry_run:
            print(f"manywheels: would {action.action} {shown}: {action.note}")
        else:
            print(f"manywheels: {verbs[action.action]} {shown}: {action.note}")
    if not config.dry_run and any(a.writes for a in actions):
        print("manywheels: next: `nox -l` lists the wheels sessions; `nox -s wheels` builds")
    return ExitCode.OK


def _stage_command(stage: Stage) -> Callable[[argparse.Namespace, UI], int]:
    def handler(args: argparse.Namespace, ui: UI) -> int:  # noqa: ARG001 - the run's UI
        with using_frontend("cli"):
            failure = run_stage(stage, _prepare(args, stage))
        if failure is not None:
            raise failure.error
        return ExitCode.OK

    return handler


def _prepare(args: argparse.Namespace, stage: Stage) -> Prepare:
    def prepare() -> tuple[Config, Mapping[str, Any]]:
        flags, options = split_flags(vars(args), stage)
        return resolve_config(Path.cwd(), flags=flags), options

    return prepare


def _cmd_wheels(args: argparse.Namespace, ui: UI) -> int:  # noqa: ARG001 - the run's UI
    chain = Chain(pipelined=True)
    with using_frontend("cli"):
        for stage in CHAIN:
            failure = run_stage(stage, _prepare(args, stage), chain=chain)
            if failure is None:
                continue
            if not failure.goes_on:
                raise failure.error
            print(failure.line, file=sys.stderr, flush=True)
        error = chain.finish()
    for line in chain.lines:
        print(line, flush=True)
    if error is not None:
        raise error
    return ExitCode.OK


def _cmd_export(args: argparse.Namespace, ui: UI) -> int:
    from manywheels.commands._export import render_script  # noqa: PLC0415
    from manywheels.commands._scaffold import write_file  # noqa: PLC0415

    config = _config(args)
    script = render_script(config)
    if args.output in {None, "-"}:
        sys.stdout.write(script)
        return ExitCode.OK
    path = Path(args.output)
    if path.is_dir():
        path = path / "build-wheels.sh"
    if path.exists() and not args.force:
        if path.read_text(encoding="utf-8", errors="replace") == script:
            ui.info(f"{path} is up to date")
            return ExitCode.OK
        msg = f"{path} exists; use --force to overwrite it"
        raise ConfigError(msg)
    write_file(path, script, executable=True)
    ui.info(f"wrote {path}: docker run --rm -v \"$PWD\":/io {config.image} bash /io/{path.name}")
    return ExitCode.OK


def _cmd_shell(args: argparse.Namespace, ui: UI) -> int:
    from manywheels.commands._shell import open_shell  # noqa: PLC0415

    return open_shell(_config(args), args.identifier, list(args.shell_command or []), ui)


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    """The ``manywheels`` argument parser (usage errors raise :class:`ConfigError`)."""
    parser = _Parser(
        prog="manywheels",
        description="Build portable Linux wheels in manylinux containers: run the stages "
        "(also nox sessions, nox -s wheels, and invoke tasks, invoke wheels), plan, set "
        "projects up and export.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"manywheels {__version__}")
    # Any: typeshed wants parents of the subparser class; argparse accepts any parser.
    commands: Any = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    config_flags = argument_parser()

    def command(name: str, help_text: str, handler: Callable[..., int]) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, description=help_text, parents=[config_flags],
            allow_abbrev=False,
        )
        sub.set_defaults(handler=handler)
        return sub

    command("wheels", CHAIN_HELP, _cmd_wheels)
    for stage in STAGES:
        add_stage_arguments(command(stage.name, stage.help, _stage_command(stage)), stage)

    plan = command(
        "plan", "show the identifiers, images and interpreter paths the configuration selects",
        _cmd_plan,
    )
    plan.add_argument("--format", choices=("text", "json"), default="text",
                      help="output format (default: text)")

    matrix = command(
        "matrix", "print a CI job matrix, one entry per identifier or group of identifiers "
        "(with archs: one per platform group)",
        _cmd_matrix,
    )
    matrix.add_argument("--format", choices=("github", "json"), default="github",
                        help="github: {\"include\": [...]} on one line, for $GITHUB_OUTPUT and "
                        "strategy.matrix (default); json: the same, indented")
    matrix.add_argument("--group-size", type=int, metavar="N",
                        help="identifiers per matrix entry (default 1)")
    matrix.add_argument("--groups", type=int, metavar="N",
                        help="split the identifiers into N entries of near-equal size")
    matrix.add_argument("--arm-runners", action="store_true",
                        help="send aarch64 entries to GitHub's native arm runners "
                        "(runs-on: ubuntu-24.04-arm) instead of QEMU on ubuntu-latest")

    init = command(
        "init", "add a noxfile.py, tasks.py, a [tool.manywheels] table and a CI workflow "
        "to this project", _cmd_init,
    )
    init.add_argument("--force", action="store_true",
                      help="overwrite an existing tasks.py or workflow")
    init.add_argument("--no-workflow", action="store_true",
                      help="do not write .github/workflows/wheels.yml")
    init.add_argument("--requirement", metavar="SPEC",
                      help="how the workflow installs manywheels (default manywheels>=VERSION)")
    init.add_argument("--arm-runners", action="store_true",
                      help="the workflow sends aarch64 entries to native arm runners "
                      "(ubuntu-24.04-arm)")
    init.add_argument("--from-cibuildwheel", action="store_true",
                      help="write the [tool.manywheels] table equivalent to the project's "
                      "[tool.cibuildwheel]")

    export = command(
        "export-script", "print a standalone build-wheels.sh: docker run -v $PWD:/io IMAGE "
        "bash /io/build-wheels.sh", _cmd_export,
    )
    export.add_argument("-o", "--output", metavar="FILE",
                        help="write the script to FILE (made executable) instead of stdout")
    export.add_argument("--force", action="store_true", help="overwrite an existing FILE")

    shell = command(
        "shell", "a container of IDENTIFIER's image as its build sees it (before-all done, "
        "the recorded sdist unpacked, the build environment set, the last build script at "
        "hand): interactive bash, or run COMMAND and exit with its code", _cmd_shell,
    )
    shell.add_argument("identifier", metavar="IDENTIFIER",
                       help="a planned build identifier, e.g. cp312-manylinux_x86_64")
    shell.add_argument("shell_command", nargs="*", metavar="-- COMMAND",
                       help="run COMMAND (after --) instead of an interactive bash")

    return parser


def _parse(words: list[str]) -> argparse.Namespace:
    command: list[str] | None = None
    if words[:1] == ["shell"] and "--" in words:  # shell's COMMAND: every word after --
        at = words.index("--")
        words, command = words[:at], words[at + 1:]
    args = build_parser().parse_args(words)
    if command is not None:
        args.shell_command = command
    return args


def shell_main(words: Sequence[str], project_dir: Path) -> int:
    """``manywheels shell`` for the other front ends: ``words`` are ``IDENTIFIER
    [flags] [-- COMMAND]`` (nox posargs), the configuration is ``project_dir``'s.

    Returns:
        The shell's or COMMAND's exit code.

    Raises:
        ManywheelsError: as :func:`manywheels.commands._shell.open_shell`, or a bad flag.
    """
    from manywheels._ui import UI  # noqa: PLC0415
    from manywheels.commands._shell import open_shell  # noqa: PLC0415

    args = _parse(["shell", *words])
    flags, _ = split_flags(vars(args))
    config = resolve_config(project_dir, flags=flags)
    return open_shell(config, args.identifier, list(args.shell_command or []), UI())


def _run(argv: Sequence[str] | None) -> int:
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    from manywheels._ui import UI  # noqa: PLC0415 - rich, only once a command runs (not --help)

    handler: Callable[[argparse.Namespace, UI], int] = args.handler
    return handler(args, UI())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``manywheels`` command.

    Args:
        argv: arguments without the program name; default ``sys.argv[1:]``.

    Returns:
        The exit code: 0, a :class:`~manywheels.errors.ManywheelsError`'s ``exit_code``
        (one line ``manywheels: error: ...`` printed on stderr), 130 on Ctrl-C, 143 on
        SIGTERM.
    """
    try:
        with signals.handling():  # SIGTERM -> Terminated, so `with Run(...)` cleans up
            try:
                return _run(argv)
            finally:
                close_runs()
    except ManywheelsError as error:
        print(f"manywheels: error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # plan, matrix, export-script: a closed pipe, a file not written
        failure = file_failure(error)
        print(f"manywheels: error: {failure}", file=sys.stderr)
        return failure.exit_code
    except KeyboardInterrupt:
        print("manywheels: interrupted", file=sys.stderr)
        return ExitCode.SIGINT
    except signals.Terminated as terminated:
        print(f"manywheels: {terminated}", file=sys.stderr)
        return 128 + terminated.signum
