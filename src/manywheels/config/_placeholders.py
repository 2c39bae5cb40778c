"""Placeholders in user commands (``test-command``, ``repair-command``): only the known
names are filled, every other brace passes through unchanged.

cibuildwheel's semantics (its ``format_safe``, docs/options.md "test-command"): ``{wheel}``
is replaced, while ``python -c "print(ujson.dumps({1: 2}))"``, ``${HOME}`` and
``find . -exec {} \\;`` reach the shell as written. ``#{wheel}`` writes a literal
``{wheel}`` (cibuildwheel's escape; assumed from its ``format_safe``), and ``${wheel}``
stays a shell variable.
"""

from __future__ import annotations

import re

__all__ = ["fill_placeholders", "uses_placeholder"]


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<![#$])\{" + re.escape(name) + r"\}")


def fill_placeholders(template: str, **values: str) -> str:
    """``template`` with each ``{name}`` of ``values`` replaced by its value (inserted as
    given: the caller quotes it for the shell); any other brace text is left as it is
    (``${name}`` included: a shell variable), and ``#{name}`` becomes a literal ``{name}``."""
    result = template
    for name, value in values.items():
        result = _pattern(name).sub(value.replace("\\", "\\\\"), result)
        result = result.replace(f"#{{{name}}}", f"{{{name}}}")
    return result


def uses_placeholder(template: str, name: str) -> bool:
    """Whether ``template`` holds the placeholder ``{name}`` (not escaped as ``#{name}``)."""
    return _pattern(name).search(template) is not None
