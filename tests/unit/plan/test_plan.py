"""The plan, the policy parser and the typed run record (pure logic, no engine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manywheels.config import Config, load_config
from manywheels.errors import ConfigError, PolicyError, PythonTagMissingError
from manywheels.naming import Policy, PythonTag, parse_policy
from manywheels.plan import ImageFacts, RunReport, plan_build
from manywheels.plan._record import RECORD_VERSION, REPORT_NAME

PYTHONS = (PythonTag(3, 11), PythonTag(3, 12), PythonTag(3, 13), PythonTag(3, 13, True))


@pytest.mark.parametrize(
    ("text", "family", "version", "arch", "base"),
    [
        ("manylinux_2_28_x86_64", "manylinux", (2, 28), "x86_64", "manylinux_2_28"),
        ("manylinux2014_i686", "manylinux", (2, 17), "i686", "manylinux2014"),
        ("manylinux1_x86_64", "manylinux", (2, 5), "x86_64", "manylinux1"),
        ("musllinux_1_2_aarch64", "musllinux", (1, 2), "aarch64", "musllinux_1_2"),
        ("linux_armv7l", "linux", None, "armv7l", "linux"),
    ],
)
def test_policy_parses_every_form(text: str, family: str, version: tuple[int, int] | None,
                                  arch: str, base: str) -> None:
    policy = parse_policy(text)
    assert (policy.family, policy.version, policy.arch, policy.base) == (
        family, version, arch, base)
    assert policy.name == text
    assert policy.platform == f"{family}_{arch}"


@pytest.mark.parametrize("text", ["../../../../escape", "x; id", "manylinux_2_28_sparc",
                                  "manylinux_x86_64", "", "manylinux_2_28_x86_64\n"])
def test_bad_policy_is_one_line_naming_it(text: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, what="plat (command line)")
    message = str(caught.value)
    assert "plat (command line)" in message and "manylinux_X_Y_ARCH" in message
    assert "\n" not in message
    assert isinstance(caught.value, ConfigError)  # exit code 2


def test_bad_plat_is_refused_when_the_configuration_loads(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    with pytest.raises(PolicyError, match="escape"):
        load_config(tmp_path, env={}, argv=["--plat", "../../escape"])
    with pytest.raises(PolicyError, match="MANYWHEELS_PLAT"):
        load_config(tmp_path, env={"MANYWHEELS_PLAT": "x; id"})


def facts(plat: str | None = "manylinux_2_28_x86_64") -> dict[str, ImageFacts]:
    return {"img": ImageFacts("img", "sha256:abc", plat, PYTHONS)}


def test_plan_has_one_typed_step_per_identifier(tmp_path: Path) -> None:
    config = Config(project_dir=tmp_path, image="img", before_all="yum install -y x",
                    test_command="pytest")
    plan = plan_build(config, facts(), ">=3.12")
    assert plan.identifiers == ["cp312-manylinux_x86_64", "cp313-manylinux_x86_64"]
    step = plan.steps[0]
    assert step.interpreter == "/opt/python/cp312-cp312/bin/python"
    assert (step.image, step.digest, step.arch, step.plat) == (
        "img", "sha256:abc", "x86_64", "manylinux_2_28_x86_64")
    assert step.policy == Policy("manylinux", (2, 28), "x86_64")
    assert step.options.before_all == "yum install -y x"
    assert step.options.test_command == "pytest"
    (group,) = plan.groups()
    assert group.steps == plan.steps and group.before_all == "yum install -y x"


def test_plan_takes_plat_over_the_image_and_names_free_threaded_only_when_asked(
        tmp_path: Path) -> None:
    config = Config(project_dir=tmp_path, image="img", plat="manylinux_2_34_x86_64",
                    python=(PythonTag(3, 13, True),))
    plan = plan_build(config, facts(), None)
    assert plan.identifiers == ["cp313t-manylinux_x86_64"]
    assert plan.steps[0].plat == "manylinux_2_34_x86_64"
    assert plan.steps[0].interpreter == "/opt/python/cp313-cp313t/bin/python"


def test_plan_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(PythonTagMissingError, match=r"cp39.*cp311, cp312"):
        plan_build(Config(project_dir=tmp_path, image="img", python=(PythonTag(3, 9),)),
                   facts(), None)
    with pytest.raises(PolicyError, match="AUDITWHEEL_PLAT of image img"):
        plan_build(Config(project_dir=tmp_path, image="img"), facts("weird"), None)
    with pytest.raises(ConfigError, match="sets no AUDITWHEEL_PLAT"):
        plan_build(Config(project_dir=tmp_path, image="img"), facts(None), None)


def test_steps_with_another_before_all_get_their_own_container_group(tmp_path: Path) -> None:
    from dataclasses import replace

    plan = plan_build(Config(project_dir=tmp_path, image="img"), facts(), None)
    other = replace(plan.steps[-1], options=replace(plan.steps[-1].options, before_all="x"))
    mixed = type(plan)((*plan.steps[:-1], other))
    groups = mixed.groups()
    assert [len(g.steps) for g in groups] == [2, 1]
    assert groups[1].before_all == "x"


def test_record_round_trips_and_knows_the_current_sdist(tmp_path: Path) -> None:
    report = RunReport(tmp_path)
    report.set_project(name="demo", project_dir="/p", sdist="demo-1.tar.gz", sdist_sha256="a")
    report.reset_target("cp312-manylinux_x86_64", python="cp312", image="img",
                        plat="manylinux_2_28_x86_64", arch="x86_64", sdist_sha256="a")
    report.record("cp312-manylinux_x86_64", "build", status="passed", wheel="w.whl",
                  sha256="f" * 64, run_id="r1")
    report.reset_target("cp311-manylinux_x86_64", python="cp311", sdist_sha256="old")
    report.record("cp311-manylinux_x86_64", "build", status="passed", wheel="old.whl")
    again = RunReport(tmp_path)
    data = json.loads((tmp_path / REPORT_NAME).read_text())
    assert data["version"] == RECORD_VERSION == again.data["version"]
    assert again.data == report.data
    assert list(again.current("build")) == ["cp312-manylinux_x86_64"]
    assert again.is_current("cp312-manylinux_x86_64")
    assert not again.is_current("cp311-manylinux_x86_64")
    resolved = again.resolve_wheel("w.whl")
    assert resolved is not None
    assert (resolved.identifier, resolved.stage, resolved.image, resolved.plat) == (
        "cp312-manylinux_x86_64", "build", "img", "manylinux_2_28_x86_64")
    assert again.resolve_wheel("old.whl") is None  # a stale wheel is not this run's


def test_unreadable_record_starts_empty(tmp_path: Path) -> None:
    (tmp_path / REPORT_NAME).write_text("{not json")
    report = RunReport(tmp_path)
    assert report.target_records == {} and not report.existed
