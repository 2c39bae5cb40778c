"""One configuration key's declaration (:class:`Option`) and its value kinds
(:data:`Kind`); every key is declared in :mod:`manywheels.config._options`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Kind", "Option"]


Kind = Literal["str", "optstr", "list", "table", "bool", "int", "choice", "python", "path",
               "frontend", "settings", "verbosity", "components", "commands"]


@dataclass(frozen=True)
class Option:
    """One configuration key, declared once for every front end and document.

    Attributes:
        key: kebab-case name as written in TOML (``publish.repository-url`` for subtables).
        kind: value type; decides how TOML, environment and argv values are parsed.
        default: the default value (already parsed).
        help: one line for ``--help``, invoke's task help and ``manywheels init``'s table.
        choices: allowed values for ``kind == "choice"``.
        stage_only: a run-time switch that only makes sense on the command line or in the
            environment (``dry-run``); not accepted in ``pyproject.toml``.
        example: the value ``manywheels init`` writes (commented out) into
            ``[tool.manywheels]``; ``None``: the default.
        default_text: the README table's default column when the default is not a plain
            value (``the CPU count``); ``""``: derived from ``default``.
        meaning: the README table's meaning column; ``""``: ``help``.
    """

    key: str
    kind: Kind
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    stage_only: bool = False
    example: Any = None
    default_text: str = ""
    meaning: str = ""

    @property
    def attr(self) -> str:
        """The :class:`Config` attribute name (``publish.repository-url`` -> ``repository_url``)."""
        return self.key.split(".")[-1].replace("-", "_")

    @property
    def env_var(self) -> str:
        """The environment variable: ``MANYWHEELS_TEST_COMMAND``."""
        return "MANYWHEELS_" + self.key.replace(".", "_").replace("-", "_").upper()

    @property
    def flag(self) -> str:
        """The command-line flag: ``--test-command`` (subtable prefix dropped)."""
        return "--" + self.key.split(".")[-1]

    @property
    def is_list(self) -> bool:
        """Whether the flag takes several words (``--python cp311 cp312``)."""
        return self.kind in {"list", "python", "table", "settings"}

    @property
    def is_switch(self) -> bool:
        """Whether the flag is an on/off switch (``--fail-fast`` / ``--no-fail-fast``)."""
        return self.kind == "bool"

    @property
    def example_value(self) -> Any:
        """The example ``manywheels init`` writes: :attr:`example`, else the default."""
        return self.default if self.example is None else self.example

    def table_row(self) -> str:
        """This key's row of the README's configuration table (markdown)."""
        default = self.default_text or _shown_default(self.default)
        meaning = self.meaning or self.help
        if self.stage_only:
            meaning += " (command line / environment only)"
        return f"| `{self.key}` | `{self.env_var}` | `{self.flag}` | {default} | {meaning} |"


def _shown_default(value: Any) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value in (None, "", [], {}, ()):
        return "\N{EM DASH}"
    if isinstance(value, tuple):  # commands: cibuildwheel's " && " form
        return f"`{' && '.join(value)}`"
    return f"`{value}`"
