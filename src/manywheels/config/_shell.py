"""Environment values as a POSIX shell evaluates them, injection-safe.

A value of ``environment`` (or ``test-environment``) is written into the in-container
script as the contents of one double-quoted shell word: ``$VAR``, ``${VAR}``, ``$(cmd)``,
backquotes and ``$((1 + 2))`` expand, in order (a later value sees an earlier one);
everything else (``;``, ``&&``, spaces, quotes, backslashes, globs) stays literal, so a
plain value cannot run anything. Behaviour from cibuildwheel's docs/options.md
("environment": "evaluated in a bash-like syntax"); unlike cibuildwheel, quotes in a value
are kept, not removed (a deliberate, documented difference: a value is one word).
"""

from __future__ import annotations

__all__ = ["double_quoted", "is_literal"]


def is_literal(value: str) -> bool:
    """Whether a value expands to itself (no ``$`` and no backquote)."""
    return "$" not in value and "`" not in value


def _closing(value: str, start: int, opening: str, closing: str) -> int:
    """The index just past the ``closing`` that balances ``value[start]`` (an ``opening``).

    Raises:
        ValueError: unbalanced.
    """
    depth = 0
    for index in range(start, len(value)):
        if value[index] == opening:
            depth += 1
        elif value[index] == closing:
            depth -= 1
            if depth == 0:
                return index + 1
    msg = f"unbalanced {opening!r}"
    raise ValueError(msg)


def double_quoted(value: str) -> str:
    """``value`` as one double-quoted shell word that expands ``$VAR``, ``${VAR}``,
    ``$(cmd)``, ``$((expr))`` and backquotes, and keeps everything else literal
    (``"`` and ``\\`` outside substitutions are escaped).

    Raises:
        ValueError: an unbalanced ``$(``, ``${`` or backquote.
    """
    out: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "$" and value[index + 1:index + 2] in {"(", "{"}:
            opening = value[index + 1]
            end = _closing(value, index + 1, opening, ")" if opening == "(" else "}")
            out.append(value[index:end])
            index = end
        elif char == "`":
            end = value.find("`", index + 1)
            if end < 0:
                msg = "unbalanced '`'"
                raise ValueError(msg)
            out.append(value[index:end + 1])
            index = end + 1
        else:
            out.append("\\" + char if char in '"\\' else char)
            index += 1
    return '"' + "".join(out) + '"'
