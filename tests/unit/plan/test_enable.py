"""Selection by requires-python and ``enable`` (cibuildwheel docs/options.md, "enable")."""

from __future__ import annotations

from pathlib import Path

import pytest

from manywheels.config import Config, load_config
from manywheels.errors import ConfigError
from manywheels.naming import PythonTag
from manywheels.naming._tags import is_prerelease
from manywheels.plan import ImageFacts, plan_build

CP312, CP313, CP313T, CP315 = (PythonTag(3, 12), PythonTag(3, 13), PythonTag(3, 13, True),
                               PythonTag(3, 15))
PLAT = "manylinux_2_28_x86_64"


def image(prereleases: tuple[PythonTag, ...] = (CP315,)) -> dict[str, ImageFacts]:
    pythons = (PythonTag(3, 11), CP312, CP313, CP313T, CP315)
    return {"img": ImageFacts("img", None, PLAT, pythons, prereleases)}


def tags(config: Config, requires_python: str | None = None) -> list[str]:
    return [step.python.tag for step in plan_build(config, image(), requires_python).steps]


def test_prerelease_is_skipped_unless_enabled(tmp_path: Path) -> None:
    config = Config(project_dir=tmp_path, image="img")
    assert tags(config) == ["cp311", "cp312", "cp313"]
    assert tags(config.with_(enable=("cpython-prerelease",))) == [
        "cp311", "cp312", "cp313", "cp315"]
    final = {"img": ImageFacts("img", None, PLAT, (CP312, CP315), ())}
    assert plan_build(config, final, None).identifiers[-1] == "cp315-manylinux_x86_64"


def test_named_prerelease_needs_enable(tmp_path: Path) -> None:
    config = Config(project_dir=tmp_path, image="img", python=(CP315,))
    with pytest.raises(ConfigError, match=r"cp315 is a pre-release.*cpython-prerelease") as err:
        tags(config)
    assert "\n" not in str(err.value)
    assert tags(config.with_(enable=("cpython-prerelease",))) == ["cp315"]


def test_freethreading_is_selected_with_enable_and_when_named(tmp_path: Path) -> None:
    config = Config(project_dir=tmp_path, image="img")
    assert "cp313t" not in tags(config)
    assert tags(config.with_(enable=("cpython-freethreading",))) == [
        "cp311", "cp312", "cp313", "cp313t"]
    assert tags(config.with_(python=(CP313T,))) == ["cp313t"]


def test_requires_python_skips_with_one_note(tmp_path: Path) -> None:
    plan = plan_build(Config(project_dir=tmp_path, image="img"), image(), ">=3.13")
    assert [s.python.tag for s in plan.steps] == ["cp313"]
    assert plan.notes == ("skipped cp311, cp312: outside requires-python >=3.13",)


def test_named_tag_outside_requires_python_is_one_line_error(tmp_path: Path) -> None:
    config = Config(project_dir=tmp_path, image="img", python=(CP312,),
                    requires_python=">=3.13")
    with pytest.raises(ConfigError, match=r"cp312 is outside the project's requires-python "
                       r">=3\.13") as err:
        tags(config)
    assert "\n" not in str(err.value)


def test_enable_values_are_checked(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\n[tool.manywheels]\nenable = ["cpython-freethreading"]\n')
    assert load_config(tmp_path).enable == ("cpython-freethreading",)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\n[tool.manywheels]\nenable = ["pypy", "cpython-nightly"]\n')
    with pytest.raises(ConfigError, match=r"enable \(pyproject.toml\): got 'cpython-nightly', "
                       "expected one of cpython-prerelease, cpython-freethreading, pypy, "
                       "graalpy"):
        load_config(tmp_path)


def test_prerelease_is_newer_than_the_newest_final() -> None:
    assert is_prerelease(CP315) and not is_prerelease(PythonTag(3, 14))


def test_run_plan_says_what_requires_python_skipped_and_marks_prereleases(
        tmp_path: Path) -> None:
    """On the fake engine: one line for the skipped tags; cp315 is a pre-release."""
    from io import StringIO

    from tests.fakes.engine import FakeEngine, FakeImage
    from tests.unit.stages import test_orchestration as orchestration

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    root = tmp_path
    image = FakeImage(orchestration.IMAGE,
                      pythons=("cp311-cp311", "cp312-cp312", "cp315-cp315"))
    out = StringIO()
    config = orchestration.make_config(root)
    with orchestration.make_run(config, FakeEngine([image]), out) as run:
        assert run.image_facts().prereleases == (CP315,)
        plan = run.plan(">=3.12")
    assert [s.python.tag for s in plan.steps] == ["cp312"]
    assert "skipped cp311: outside requires-python >=3.12" in out.getvalue()
