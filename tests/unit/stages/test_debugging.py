"""keep-failed's leftovers and test-image's selection (pure logic, in-memory engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from manywheels._ui import UI
from manywheels.config import Config
from manywheels.engine import LABEL, LeftoverInfo
from manywheels.errors import ConfigError
from manywheels.stages import _test_image
from manywheels.stages._keep import KEPT_CONTAINER_LABEL, KEPT_LABEL, kept_name
from manywheels.stages._leftovers import check_leftovers
from tests.fakes.engine import FakeEngine, FakeImage

HERE = Path()


def test_remove_leftovers_removes_a_kept_container_and_only_its_image() -> None:
    name = kept_name("run1", "cp311-manylinux_x86_64")
    assert name == "manywheels-kept-cp311-manylinux_x86_64-run1"
    mine = FakeImage("manywheels-kept:a", labels={KEPT_CONTAINER_LABEL: name})
    other = FakeImage("manywheels-kept:b", labels={KEPT_CONTAINER_LABEL: "someone-else"})
    engine = FakeEngine([mine, other], leftovers=[
        LeftoverInfo(name, {LABEL: "1", KEPT_LABEL: "cp311-manylinux_x86_64"}, "exited")])
    removed = check_leftovers(engine, UI(), run_id="run2", remove=True)
    assert removed == [name]
    assert engine.removed_leftovers == [name]
    assert engine.removed_images == [mine.id]


def test_remove_leftovers_off_keeps_the_kept_container() -> None:
    name = kept_name("run1", "cp311-manylinux_x86_64")
    image = FakeImage("manywheels-kept:a", labels={KEPT_CONTAINER_LABEL: name})
    engine = FakeEngine([image], leftovers=[LeftoverInfo(name, {LABEL: "1"}, "exited")])
    assert check_leftovers(engine, UI(), run_id="run2", remove=False) == []
    assert engine.removed_leftovers == []
    assert engine.removed_images == []


def test_test_image_the_most_specific_entry_wins() -> None:
    config = Config(HERE, test_image=("python:3.12-slim", "musllinux=python:3.12-alpine",
                                "manylinux-aarch64=build"))
    assert _test_image.test_image_for(config, "cp312-manylinux_x86_64", "img") == "python:3.12-slim"
    assert _test_image.test_image_for(config, "cp312-musllinux_x86_64", "img") == "python:3.12-alpine"
    assert _test_image.test_image_for(config, "cp312-manylinux_aarch64", "img") == "img"
    assert _test_image.test_image_for(Config(HERE), "cp312-manylinux_x86_64", "img") is None
    only_musl = Config(HERE, test_image=("musllinux=python:3.12-alpine",))
    assert _test_image.test_image_for(only_musl, "cp312-manylinux_x86_64", "img") is None


@pytest.mark.parametrize("entry", ["macos=python:3.12", "manylinux=", "a b",
                                   "musllinux=x"])
def test_test_image_bad_entries_are_named(entry: str) -> None:
    entries = (entry, "musllinux=y") if entry == "musllinux=x" else (entry,)
    with pytest.raises(ConfigError, match=r"test-image \(default\): .*allowed are"):
        _test_image.parse_entries(Config(HERE, test_image=entries))
