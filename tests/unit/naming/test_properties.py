"""Property-based tests (hypothesis) of tag and identifier parsing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from manywheels.errors import ConfigError
from manywheels.naming._tags import (
    PythonTag,
    identifier,
    parse_install_dir,
    parse_python_tag,
    platform_family,
    wheel_identifier,
)
from manywheels.plan._targets import parse_image_pythons
from tests.unit.strategies import policies, tags


def spellings(tag: PythonTag) -> list[str]:
    return [tag.tag, tag.install_dir, tag.version + ("t" if tag.free_threaded else "")]


@given(st.text(max_size=16))
def test_any_text_parses_to_one_of_its_spellings_or_is_one_clear_error(text: str) -> None:
    try:
        tag = parse_python_tag(text)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message
        assert repr(text) in message and "allowed are" in message
        return
    assert text.strip().lower() in spellings(tag)
    assert parse_python_tag(tag.tag) == tag


@given(tag=tags, which=st.integers(0, 2), upper=st.booleans(),
       pad=st.sampled_from(["", " ", "\t", "  "]))
def test_every_spelling_round_trips(tag: PythonTag, which: int, upper: bool, pad: str) -> None:
    text = spellings(tag)[which]
    text = text.upper() if upper else text
    assert parse_python_tag(f"{pad}{text}{pad}") == tag


@given(tags)
def test_install_dir_agrees_with_the_user_spelling(tag: PythonTag) -> None:
    assert parse_install_dir(tag.install_dir) == tag == parse_python_tag(tag.install_dir)
    assert tag.install_dir.startswith(tag.tag.rstrip("t"))


@given(st.lists(st.one_of(tags.map(lambda t: t.install_dir),
                          st.sampled_from(["pp310-pypy310_pp73", "cp312-cp311", "graalpy",
                                           "cp3-cp3", ""]))))
def test_image_listing_is_sorted_unique_and_complete(entries: list[str]) -> None:
    found = parse_image_pythons("\n".join(entries))
    assert found == sorted(set(found))
    expected = {tag for entry in entries if (tag := parse_install_dir(entry))}
    assert set(found) == expected



@given(tag=tags, policy=policies)
def test_identifier_is_tag_and_platform_family(tag: PythonTag, policy: tuple[str, str]) -> None:
    plat, family = policy
    name = identifier(tag, plat)
    assert name == f"{tag.tag}-{family}"
    assert platform_family(family) == family == platform_family(plat)
    python, _, rest = name.partition("-")
    assert parse_python_tag(python) == tag and rest == family


@given(tag=tags, policy=policies)
def test_wheel_names_give_back_the_identifier(tag: PythonTag, policy: tuple[str, str]) -> None:
    plat, _ = policy
    abi = tag.tag
    wheel = f"demo-1.0-{tag.tag.rstrip('t')}-{abi}-{plat}.whl"
    name, python = wheel_identifier(wheel, "manylinux_2_28_x86_64")
    assert name == identifier(tag, plat)
    assert python == tag
