from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from manywheels.errors import ConfigError
from manywheels.naming._tags import PythonTag, identifier, parse_python_tag, platform_family
from manywheels.plan._targets import parse_image_pythons


@pytest.mark.parametrize("text", ["cp312", "cp312-cp312", "3.12", " CP312 "])
def test_three_spellings_of_one_tag(text: str) -> None:
    assert parse_python_tag(text) == PythonTag(3, 12)


def test_free_threaded() -> None:
    tag = parse_python_tag("cp313t")
    assert tag == parse_python_tag("cp313-cp313t") == parse_python_tag("3.13t")
    assert (tag.tag, tag.install_dir) == ("cp313t", "cp313-cp313t")


@pytest.mark.parametrize("bad", ["py312", "cp2", "3", "cp312-cp311", "pp3", "gp999", "", "cp35", "3.12.1"])
def test_bad_tags_name_the_value_and_what_is_allowed(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_python_tag(bad)
    assert repr(bad) in str(caught.value)
    assert "cp312-cp312" in str(caught.value)


@given(minor=st.integers(6, 99), free=st.booleans())
def test_round_trip_every_spelling(minor: int, free: bool) -> None:
    tag = PythonTag(3, minor, free)
    for text in (tag.tag, tag.install_dir, tag.version + ("t" if free else "")):
        assert parse_python_tag(text) == tag


@given(st.text(max_size=12))
def test_parse_never_raises_anything_but_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        parse_python_tag(text)


@pytest.mark.parametrize(
    ("plat", "family"),
    [
        ("manylinux_2_28_x86_64", "manylinux_x86_64"),
        ("manylinux2014_aarch64", "manylinux_aarch64"),
        ("musllinux_1_2_x86_64", "musllinux_x86_64"),
        ("manylinux_2_36_x86_64", "manylinux_x86_64"),
        ("linux_x86_64", "linux_x86_64"),
    ],
)
def test_identifier_platform(plat: str, family: str) -> None:
    assert platform_family(plat) == family
    assert identifier(PythonTag(3, 12), plat) == f"cp312-{family}"


def test_image_listing() -> None:
    listing = "cp310-cp310\ncp39-cp39\ncp313-cp313t\npp310-pypy310_pp73\ncp313-cp313\n"
    assert [t.tag for t in parse_image_pythons(listing)] == [
        "cp39", "cp310", "pp310", "cp313", "cp313t"]
