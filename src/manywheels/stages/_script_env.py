"""The environment lines of the in-container scripts: the build markers, ``environment``
(before-all, build, repair) and ``test-environment`` (tests only), each value evaluated by
the shell in order (:func:`~manywheels.config._shell.double_quoted`).

Markers (cibuildwheel's docs/options.md, "environment"): every build and test sees
``MANYWHEELS=1`` and ``CIBUILDWHEEL=1``, and ``MANYWHEELS_BUILD_IDENTIFIER`` /
``CIBUILDWHEEL_BUILD_IDENTIFIER`` (``cp312-manylinux_x86_64``), so a ``setup.py`` written
for cibuildwheel behaves the same here.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping

from manywheels.config._shell import double_quoted, is_literal

__all__ = ["export_lines", "leaked_names", "shell_word"]


def export_lines(identifier_word: str | None, environment: Iterable[tuple[str, str]],
                 unset: Iterable[str] = ()) -> str:
    """Shell lines: ``unset`` for each name of ``unset``, the markers, then one ``export``
    per ``environment`` pair (its value expanded by the shell, in order).

    Args:
        identifier_word: the identifier as a shell word (``cp312-manylinux_x86_64`` or
            ``"$ID"``); ``None`` (before-all): no identifier markers.
        environment: (name, value) pairs, values as configured.
        unset: names removed first (the build environment, before a test).
    """
    lines = [f"unset {name}" for name in unset]
    lines += ["export MANYWHEELS=1", "export CIBUILDWHEEL=1"]
    if identifier_word is not None:
        lines += [f"export MANYWHEELS_BUILD_IDENTIFIER={identifier_word}",
                  f"export CIBUILDWHEEL_BUILD_IDENTIFIER={identifier_word}"]
    lines += [f"export {name}={shell_word(value)}" for name, value in environment]
    return "\n".join(lines)


def shell_word(value: str) -> str:
    """A literal value single-quoted (:func:`shlex.quote`), any other double-quoted so the
    shell expands it (:func:`~manywheels.config._shell.double_quoted`)."""
    return shlex.quote(value) if is_literal(value) else double_quoted(value)


def leaked_names(environment: Mapping[str, str], base: Mapping[str, str]) -> list[str]:
    """The names of ``environment`` a container's own environment holds but a test must not
    see: the literal values (set at container start, :func:`~manywheels.stages._environment.
    container_environment`) whose names the allowlist (``base``) does not set."""
    return [name for name, value in environment.items()
            if is_literal(value) and name not in base]
