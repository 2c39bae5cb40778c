"""``manywheels init`` (the scaffold command): set up an existing project for manywheels.

Writes, from the templates in ``templates/``:

- ``noxfile.py`` calling :func:`manywheels.nox.register` (``noxfile.py.j2``); an
  existing noxfile gets the call added after its imports (``noxfile-addition.py.j2``)
  and keeps everything else;
- ``tasks.py`` adding :data:`manywheels.invoke.ns` (``tasks.py.j2``);
- a commented ``[tool.manywheels]`` table appended to ``pyproject.toml``
  (``pyproject-table.toml.j2``);
- the CI workflow ``.github/workflows/wheels.yml`` (``workflow.yml.j2``): a matrix
  job, one wheels job per matrix entry, an sdist job and one publish job.

Existing files are never overwritten without ``force``; files that already hold the
manywheels setup are left unchanged. Every new text is computed and checked (Python
compiles, TOML parses, the table is valid configuration) before anything is written,
and each file is written atomically.
"""

from __future__ import annotations

import ast
import json
import os
import re
import stat
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from manywheels import __version__
from manywheels._fsutil import atomic_write_text
from manywheels.commands._from_cibuildwheel import manywheels_table
from manywheels.config import OPTIONS, Config, pyproject_layer
from manywheels.config._platforms import is_multi_platform
from manywheels.config._project import Project
from manywheels.errors import ConfigError, SessionClashError
from manywheels.stages._registry import STAGES
from manywheels.stages._render import render

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["WORKFLOW_PATH", "FileAction", "add_register_call", "apply", "check_session_names",
           "plan_init", "render_workflow", "write_file"]

WORKFLOW_PATH = Path(".github/workflows/wheels.yml")
"""Where ``init`` writes the CI workflow, relative to the project."""

@dataclass(frozen=True)
class FileAction:
    """What ``init`` does to one file.

    Attributes:
        path: absolute path.
        action: ``create``, ``update`` (an existing file gets an addition),
            ``overwrite`` (with ``force``), ``unchanged`` (already set up) or ``skip``
            (exists; needs ``force``).
        text: the new content (``None`` for ``unchanged`` and ``skip``).
        note: one line for the user.
    """

    path: Path
    action: str
    text: str | None
    note: str

    @property
    def writes(self) -> bool:
        """True when the action writes the file."""
        return self.text is not None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    return str(value) if isinstance(value, int) else json.dumps(value)


def _option_rows(publish: bool) -> list[dict[str, str]]:
    rows = []
    for option in OPTIONS:
        if option.stage_only or option.key == "project-dir":
            continue
        if option.key.startswith("publish.") != publish:
            continue
        example = option.example_value
        key = option.key.split(".", 1)[1] if publish else option.key
        text = "\n# ".join(textwrap.wrap(option.help, width=86))
        rows.append({"key": key, "help": text, "example": _toml_value(example)})
    return rows


def _leading_insert_line(tree: ast.Module) -> int:
    """The line after which to insert: the last top-level import before any other code
    that is not a docstring (0: at the top)."""
    line = 0
    for index, node in enumerate(tree.body):
        if isinstance(node, ast.Import | ast.ImportFrom):
            line = node.end_lineno or node.lineno
            continue
        is_docstring = (
            index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        if is_docstring:
            line = node.end_lineno or node.lineno
            continue
        if isinstance(node, ast.Try | ast.If) and all(
            isinstance(n, ast.Import | ast.ImportFrom | ast.Pass)
            for n in ast.walk(node) if isinstance(n, ast.stmt) and n is not node
        ):
            # try: import x / except ImportError: ... blocks belong to the imports.
            line = node.end_lineno or node.lineno
            continue
        break
    return line


def _decorator_name(node: ast.expr) -> str:
    """``nox.session`` for ``@nox.session``, ``@nox.session(...)``; ``session`` for
    ``@session``; ``""`` for anything else."""
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return f"{_decorator_name(target.value)}.{target.attr}".lstrip(".")
    return target.id if isinstance(target, ast.Name) else ""


def _session_name(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The nox session a decorated function defines (its ``name=``, else its own name);
    ``None`` when it is not a nox session."""
    for decorator in function.decorator_list:
        if _decorator_name(decorator).split(".")[-1] != "session":
            continue
        keywords = decorator.keywords if isinstance(decorator, ast.Call) else []
        for keyword in keywords:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
        return function.name
    return None


def check_session_names(tree: ast.Module, path: Path, prefix: str = "wheels") -> None:
    """Refuse a noxfile that defines a session named like manywheels' (``wheels``,
    ``wheels-build``, ...): nox would silently run one in place of the other.

    Raises:
        SessionClashError: naming the session, its line and the way out (exit code 10).
    """
    taken = {prefix, *(f"{prefix}-{stage.name}" for stage in STAGES)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        name = _session_name(node)
        if name in taken:
            msg = (
                f"{path}:{node.lineno} already defines the nox session {name!r}, which "
                f"manywheels.nox.register() would replace (or be replaced by); rename it, "
                f"or add `manywheels.nox.register(prefix=\"manywheels\")` by hand"
            )
            raise SessionClashError(msg)


_REGISTERED = re.compile(r"manywheels\.nox\.register\s*\(|from\s+manywheels\.nox\s+import\b")


def add_register_call(text: str, path: Path) -> str | None:
    """Add ``import manywheels.nox`` and ``manywheels.nox.register()`` to a noxfile.

    Args:
        text: the noxfile's content.
        path: its path (for messages).

    Returns:
        The new content, or ``None`` when the noxfile already uses manywheels.nox.

    Raises:
        ConfigError: the noxfile is not valid Python (it is left alone).
        SessionClashError: it defines a session named like manywheels' (``wheels``, ...).
    """
    if _REGISTERED.search(text):
        return None
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        msg = (
            f"{path}: not valid Python (line {error.lineno}: {error.msg}); fix it or use "
            "--force to replace it"
        )
        raise ConfigError(msg) from None
    check_session_names(tree, path)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    at = _leading_insert_line(tree)
    addition = render("noxfile-addition.py.j2")
    new = "".join(lines[:at]) + addition + "".join(lines[at:])
    ast.parse(new, filename=str(path))
    return new


def _pyproject_action(project: Project, from_cibuildwheel: bool = False) -> FileAction:
    path = project.path / "pyproject.toml"
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    tools = project.pyproject.get("tool", {})
    if "manywheels" in tools:
        return FileAction(path, "unchanged", None, "already has [tool.manywheels]")
    if from_cibuildwheel:
        return _translated_action(path, old, tools.get("cibuildwheel"))
    table = render(
        "pyproject-table.toml.j2",
        options=_option_rows(publish=False),
        publish_options=_option_rows(publish=True),
    )
    joiner = "" if not old or old.endswith("\n") else "\n"
    new = old + joiner + (table if old else table.lstrip("\n"))
    try:
        parsed = tomllib.loads(new)
    except tomllib.TOMLDecodeError as error:
        msg = (
            f"{path}: appending [tool.manywheels] would not be valid TOML ({error}); "
            "add the table by hand"
        )
        raise ConfigError(msg) from None
    pyproject_layer(parsed)
    if old:
        return FileAction(path, "update", new, "appended a commented [tool.manywheels] table")
    return FileAction(path, "create", new, "with a commented [tool.manywheels] table")


def _translated_action(path: Path, old: str, cibuildwheel: Any) -> FileAction:
    """``--from-cibuildwheel``: append the translated table (checked like the commented one).

    Raises:
        ConfigError: no ``[tool.cibuildwheel]`` table, or the result is not valid.
    """
    if not isinstance(cibuildwheel, dict):
        msg = f"{path}: --from-cibuildwheel needs a [tool.cibuildwheel] table; it has none"
        raise ConfigError(msg)
    table, note = manywheels_table(cibuildwheel)
    new = old + ("" if old.endswith("\n") else "\n") + table
    pyproject_layer(tomllib.loads(new))
    return FileAction(path, "update", new, "appended [tool.manywheels] from "
                      f"[tool.cibuildwheel]; {note}")


def _noxfile_action(project_dir: Path, name: str, force: bool) -> FileAction:
    path = project_dir / "noxfile.py"
    fresh = render("noxfile.py.j2", project_name=name)
    if not path.exists():
        return FileAction(path, "create", fresh, "registers the wheels sessions")
    try:
        new = add_register_call(path.read_text(encoding="utf-8"), path)
    except SessionClashError:
        raise  # --force would drop the user's sessions: never
    except ConfigError:
        if force:
            return FileAction(path, "overwrite", fresh, "replaced (it was not valid Python)")
        raise
    if new is None:
        return FileAction(path, "unchanged", None, "already uses manywheels.nox")
    return FileAction(path, "update", new, "added manywheels.nox.register() after its imports")


def _exclusive_action(path: Path, text: str, marker: str, force: bool, note: str) -> FileAction:
    if not path.exists():
        return FileAction(path, "create", text, note)
    if force:
        return FileAction(path, "overwrite", text, note)
    if marker in path.read_text(encoding="utf-8", errors="replace"):
        return FileAction(path, "unchanged", None, "already set up")
    return FileAction(path, "skip", None, "exists; use --force to overwrite it")


def render_workflow(
    config: Config,
    *,
    requirement: str | None = None,
    host_python: str = "3.12",
    matrix_args: Sequence[str] = (),
    arm_runners: bool = False,
) -> str:
    """Render the CI workflow (GitHub Actions) for a configuration.

    A configuration with ``archs`` (or per-arch image keys), or ``arm_runners``, gets the
    platform workflow: one job per platform group
    (:func:`~manywheels.commands._matrix.platform_matrix`) on the entry's runner, QEMU set
    up for foreign arches.

    Args:
        config: resolved configuration (its output-dir and dist-dir, relative to the
            project, name the uploaded paths).
        requirement: how the jobs install manywheels; default ``manywheels>=<this version>``.
        host_python: the runner's Python version (``actions/setup-python``).
        matrix_args: extra arguments of ``manywheels matrix`` (``--group-size 2``).
        arm_runners: send aarch64 entries to native arm runners (``--arm-runners``).

    Raises:
        ConfigError: output-dir or dist-dir is outside the project.
    """
    def relative(key: str, path: Path) -> str:
        try:
            return path.relative_to(config.project_dir).as_posix()
        except ValueError:
            msg = f"init: {key} {str(path)!r} is outside the project; the workflow needs it inside"
            raise ConfigError(msg) from None

    return render(
        "workflow.yml.j2",
        project_name=config.read_project().display_name,
        requirement=requirement or f"manywheels>={__version__}",
        host_python=host_python,
        matrix_args="".join(f" {arg}" for arg in
                            [*matrix_args, *(["--arm-runners"] if arm_runners else [])]),
        platforms=arm_runners or is_multi_platform(config),
        output_dir=relative("output-dir", config.output_dir),
        dist_dir=relative("dist-dir", config.dist_dir),
    )


def plan_init(config: Config, *, force: bool = False, workflow: bool = True,
              requirement: str | None = None, arm_runners: bool = False,
              from_cibuildwheel: bool = False) -> list[FileAction]:
    """Decide what ``init`` writes, computing and checking every new text first.

    Args:
        config: resolved configuration of the project (its ``project_dir``).
        force: overwrite existing ``tasks.py`` and workflow files (and an invalid
            ``noxfile.py``). An existing ``[tool.manywheels]`` table is never replaced.
        workflow: also write the CI workflow.
        requirement: how the workflow installs manywheels (default ``manywheels>=X``).
        arm_runners: the workflow sends aarch64 entries to native arm runners.
        from_cibuildwheel: write the ``[tool.manywheels]`` table equivalent to
            ``[tool.cibuildwheel]`` instead of the commented one.

    Returns:
        One :class:`FileAction` per file, in writing order.

    Raises:
        ConfigError: the noxfile is not valid Python (without ``force``), the
            pyproject.toml cannot take the table, or ``from_cibuildwheel`` without a
            ``[tool.cibuildwheel]`` table.
        SessionClashError: the noxfile defines a session named like manywheels' (also
            with ``force``; exit code 10).
    """
    root = config.project_dir
    project = config.read_project()
    name = project.display_name
    actions = [
        _noxfile_action(root, name, force),
        _exclusive_action(
            root / "tasks.py", render("tasks.py.j2", project_name=name), "manywheels.invoke",
            force, "adds the wheels collection (invoke wheels)",
        ),
        _pyproject_action(project, from_cibuildwheel),
    ]
    if (root / "tasks").is_dir() and actions[1].writes:
        actions[1] = FileAction(
            root / "tasks.py", "skip", None,
            "a tasks/ package exists (invoke loads it, not tasks.py); add "
            "`ns.add_collection(manywheels.invoke.ns)` to it",
        )
    if workflow:
        actions.append(_exclusive_action(
            root / WORKFLOW_PATH, render_workflow(config, requirement=requirement,
                                                  arm_runners=arm_runners),
            "manywheels matrix", force, "matrix -> one wheels job per entry -> publish",
        ))
    return actions


def write_file(path: Path, text: str, *, executable: bool = False) -> None:
    """Write ``text`` to ``path`` atomically, keeping an existing file's mode (a new file
    gets 0644, or 0755 when ``executable``, less the umask)."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = (0o755 if executable else 0o644) & ~umask
    atomic_write_text(path, text)
    path.chmod(mode)


def apply(actions: Sequence[FileAction]) -> None:
    """Write every action that has a text, atomically, file by file."""
    for action in actions:
        if action.text is not None:
            write_file(action.path, action.text)
