"""The layout's contract: no import cycle between manywheels modules, imports go down the
layers of docs/architecture.md, no source module over 400 lines.

The graph holds the imports a module runs when it is imported: module level, including
``if``/``try``/``with`` blocks and class bodies, excluding imports inside functions (lazy
imports) and ``if TYPE_CHECKING:`` blocks (never run).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "manywheels"
MAX_LINES = 400

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("manywheels", "_commands", "_fsutil", "_lock", "_signals", "_timing", "_ui"),  # the root: errors only
    ("naming",),
    ("config",),
    ("plan",),
    ("engine",),
    ("diagnose",),
    ("stages.publish",),
    ("stages",),
    ("commands",),
    ("frontends",),
    ("nox", "invoke", "__main__"),
)
"""Lowest first: a module imports (at module level) only from its own layer or lower ones."""


def module_name(path: Path) -> str:
    """``src/manywheels/stages/_run.py`` -> ``manywheels.stages._run`` (packages: their name)."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def executed_statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements run on import: descend into blocks, not into functions or
    ``if TYPE_CHECKING:``."""
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(statement, ast.If):
            if not _is_type_checking(statement.test):
                yield from executed_statements(statement.body)
            yield from executed_statements(statement.orelse)
        elif isinstance(statement, ast.Try):
            for block in (statement.body, statement.orelse, statement.finalbody):
                yield from executed_statements(block)
            for handler in statement.handlers:
                yield from executed_statements(handler.body)
        elif isinstance(statement, ast.With | ast.ClassDef):
            yield from executed_statements(statement.body)
        else:
            yield statement


def _resolve(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``from ... import`` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(name: str, path: Path) -> set[str]:
    """The manywheels modules ``name`` imports on import (``from a import b``: the module
    ``a.b`` when it is one, else ``a``)."""
    found: set[str] = set()
    for statement in executed_statements(ast.parse(path.read_text()).body):
        if isinstance(statement, ast.Import):
            found.update(alias.name for alias in statement.names if alias.name in MODULES)
        elif isinstance(statement, ast.ImportFrom):
            base = _resolve(name, path, statement)
            for alias in statement.names:
                full = f"{base}.{alias.name}"
                if full in MODULES:
                    found.add(full)
                elif base in MODULES:
                    found.add(base)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """Every manywheels module -> the manywheels modules it imports on import."""
    return {name: imports_of(name, path) for name, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` (``[a, b, a]``), or ``[]`` when it is acyclic."""
    state: dict[str, str] = {}  # "open" while on the path, "done" afterwards
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*path[path.index(target):], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def test_the_graph_sees_the_imports_it_should() -> None:
    graph = import_graph()
    assert "manywheels.stages._run" in graph["manywheels.stages.build"]
    assert "manywheels.config._load" in graph["manywheels.config"]
    assert "manywheels._signals" in graph["manywheels.stages._run"]  # from manywheels import _signals
    # a lazy import (inside a function) and a TYPE_CHECKING import are not edges
    assert "manywheels.stages.publish" not in graph["manywheels.stages._registry"]
    assert "manywheels.stages._run" not in graph["manywheels.stages._registry"]


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of a module (``manywheels.stages.publish._files`` ->
    the ``stages.publish`` layer)."""
    inside = module.removeprefix("manywheels").removeprefix(".") or "manywheels"
    best = max((name for layer in LAYERS for name in layer
                if inside == name or inside.startswith(name + ".")), key=len)
    return next(index for index, layer in enumerate(LAYERS) if best in layer)


def test_imports_go_down_the_layers() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )
    assert not upward, "imports against the layers (see docs/architecture.md): " + ", ".join(
        upward)


def test_find_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_no_module_over_400_lines() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    too_long = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not too_long, f"split these modules (at most {MAX_LINES} lines): {too_long}"
