"""The README documents every configuration key, its variable and its flag."""

from __future__ import annotations

from pathlib import Path

from manywheels.config import OPTIONS, markdown_table

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def test_every_key_is_documented() -> None:
    for option in OPTIONS:
        row = f"| `{option.key}` | `{option.env_var}` | `{option.flag}` |"
        assert row in README, row


def test_the_configuration_table_is_generated_from_options() -> None:
    """The whole table, default and meaning columns included, comes from OPTIONS."""
    assert markdown_table() in README, markdown_table()


def test_top_has_the_two_commands() -> None:
    top = README[:1200]
    assert "nox -s wheels" in top
    assert "\n$ nox " in top
