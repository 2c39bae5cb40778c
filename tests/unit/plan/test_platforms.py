"""Every Linux platform in one plan: archs, per-arch image keys, build/skip patterns and the
32-bit personality, without an engine (manywheels.naming, config, plan, engine._personality)."""

from __future__ import annotations

from pathlib import Path

import pytest

from manywheels.config import load_config
from manywheels.config._platforms import select_platforms
from manywheels.engine._personality import emulation_message, personality, runs_arch
from manywheels.errors import ConfigError, EmulationUnavailableError, ExitCode
from manywheels.naming._platforms import STATIC_PYTHONS, resolve_archs, resolve_image
from manywheels.naming._select import expand_braces, is_selected
from manywheels.plan._targets import ImageFacts, plan_build, static_facts


def project(tmp_path: Path, table: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\nrequires-python = ">=3.11"\n'
        f"[tool.manywheels]\n{table}\n"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("values", "machine", "expected"),
    [
        (["auto"], "x86_64", ("x86_64",)),
        (["auto32"], "x86_64", ("i686",)),
        (["auto", "auto32"], "x86_64", ("x86_64", "i686")),
        (["native"], "x86_64", ("x86_64",)),
        (["auto"], "aarch64", ("aarch64",)),
        (["auto32"], "arm64", ("armv7l",)),
        (["aarch64", "x86_64"], "x86_64", ("x86_64", "aarch64")),
        (["all"], "x86_64", ("x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l",
                             "riscv64")),
    ],
)
def test_archs_as_cibuildwheel_names_them(values: list[str], machine: str,
                                         expected: tuple[str, ...]) -> None:
    assert resolve_archs(values, machine=machine) == expected


def test_unknown_arch_is_one_line_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^archs \(x\): unknown arch 'arm'; allowed are"):
        resolve_archs(["arm"], source="x")
    with pytest.raises(ConfigError, match="selects no architecture"):
        resolve_archs(["auto32"], machine="s390x")


@pytest.mark.parametrize(
    ("family", "arch", "value", "image", "policy"),
    [
        ("manylinux", "x86_64", None, "quay.io/pypa/manylinux_2_28_x86_64",
         "manylinux_2_28_x86_64"),
        ("manylinux", "armv7l", None, "quay.io/pypa/manylinux_2_31_armv7l",
         "manylinux_2_31_armv7l"),
        ("manylinux", "riscv64", None, "quay.io/pypa/manylinux_2_39_riscv64",
         "manylinux_2_39_riscv64"),
        ("musllinux", "aarch64", None, "quay.io/pypa/musllinux_1_2_aarch64",
         "musllinux_1_2_aarch64"),
        ("manylinux", "i686", "manylinux2014", "quay.io/pypa/manylinux2014_i686",
         "manylinux2014_i686"),
        ("manylinux", "aarch64", "manylinux_2_34", "quay.io/pypa/manylinux_2_34_aarch64",
         "manylinux_2_34_aarch64"),
        ("manylinux", "aarch64", "registry.example/pypa/manylinux_2_28_aarch64:2025.1",
         "registry.example/pypa/manylinux_2_28_aarch64:2025.1", "manylinux_2_28_aarch64"),
        ("manylinux", "aarch64", "manywheels-test-aarch64:abc", "manywheels-test-aarch64:abc",
         None),
    ],
)
def test_image_keys(family: str, arch: str, value: str | None, image: str,
                    policy: str | None) -> None:
    platform = resolve_image(family, arch, value)
    assert platform.image == image
    assert (platform.policy.name if platform.policy else None) == policy
    assert platform.key == f"{family}-{arch}-image"


def test_a_policy_of_the_other_family_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"manylinux-x86_64-image .*musllinux policy"):
        resolve_image("manylinux", "x86_64", "musllinux_1_2")


@pytest.mark.parametrize(
    ("identifier", "build", "skip", "selected"),
    [
        ("cp311-manylinux_x86_64", [], [], True),
        ("cp311-musllinux_x86_64", [], ["*musllinux*"], False),
        ("cp311-manylinux_i686", ["cp3{11,12}-*"], [], True),
        ("cp313-manylinux_i686", ["cp3{11,12}-*"], [], False),
        ("cp312-manylinux_aarch64", ["*-manylinux_{x86_64,aarch64}"], [], True),
        ("cp312-manylinux_i686", ["*-manylinux_{x86_64,aarch64}"], [], False),
        ("cp312-manylinux_i686", ["*"], ["*-manylinux_{i686,armv7l}"], False),
        ("cp312-musllinux_x86_64", ["cp312-*", "cp313-*"], ["*-musllinux_{aarch64,i686}"], True),
        ("cp313t-manylinux_x86_64", ["cp3{1{3,4}t,12}-*"], [], True),
    ],
)
def test_build_and_skip_select_as_cibuildwheel(identifier: str, build: list[str],
                                               skip: list[str], selected: bool) -> None:
    assert is_selected(identifier, build, skip) is selected


def test_brace_expansion() -> None:
    assert expand_braces("cp3{11,12}-*") == ["cp311-*", "cp312-*"]
    assert expand_braces("a{b,c{d,e}}f") == ["abf", "acdf", "acef"]
    assert expand_braces("no{brace") == ["no{brace"]
    assert expand_braces("{single}") == ["{single}"]


def test_default_images_plan_both_families_on_both_arches(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, 'archs = ["x86_64", "aarch64"]'), env={})
    platforms = select_platforms(config)
    assert platforms is not None
    assert [(p.name, p.image) for p in platforms] == [
        ("manylinux_x86_64", "quay.io/pypa/manylinux_2_28_x86_64"),
        ("musllinux_x86_64", "quay.io/pypa/musllinux_1_2_x86_64"),
        ("manylinux_aarch64", "quay.io/pypa/manylinux_2_28_aarch64"),
        ("musllinux_aarch64", "quay.io/pypa/musllinux_1_2_aarch64"),
    ]
    facts = {p.image: f for p in platforms if (f := static_facts(p)) is not None}
    plan = plan_build(config, facts, config.requires_python)
    by_id = {s.identifier: s for s in plan.steps}
    for family, arch, policy in [("manylinux", "x86_64", "manylinux_2_28_x86_64"),
                                 ("musllinux", "x86_64", "musllinux_1_2_x86_64"),
                                 ("manylinux", "aarch64", "manylinux_2_28_aarch64"),
                                 ("musllinux", "aarch64", "musllinux_1_2_aarch64")]:
        for minor in (11, 12, 13, 14):
            step = by_id[f"cp3{minor}-{family}_{arch}"]
            assert step.plat == policy
            assert step.arch == arch
            assert step.image == f"quay.io/pypa/{policy}"
            assert step.interpreter == f"/opt/python/cp3{minor}-cp3{minor}/bin/python"
    assert "cp310-manylinux_x86_64" not in by_id  # requires-python
    assert not any(s.python.free_threaded for s in plan.steps)  # only when named
    assert len(plan.groups()) == 4
    assert [g.arch for g in plan.groups()] == ["x86_64", "x86_64", "aarch64", "aarch64"]


def test_skip_drops_a_family_before_any_image_is_needed(tmp_path: Path) -> None:
    table = 'archs = ["x86_64", "i686", "aarch64"]\nskip = "*musllinux*"\nbuild = "cp311-*"'
    config = load_config(project(tmp_path, table), env={})
    platforms = select_platforms(config)
    assert platforms is not None
    assert [p.name for p in platforms] == [
        "manylinux_x86_64", "manylinux_i686", "manylinux_aarch64"]
    facts = {p.image: f for p in platforms if (f := static_facts(p)) is not None}
    plan = plan_build(config, facts, None)
    assert plan.identifiers == [
        "cp311-manylinux_x86_64", "cp311-manylinux_i686", "cp311-manylinux_aarch64"]


def test_per_arch_keys_from_the_environment_and_image_facts(tmp_path: Path) -> None:
    env = {"MANYWHEELS_ARCHS": "x86_64 aarch64", "MANYWHEELS_SKIP": "*musllinux*",
           "MANYWHEELS_MANYLINUX_AARCH64_IMAGE": "local-aarch64:1",
           "MANYWHEELS_MANYLINUX_X86_64_IMAGE": "manylinux2014"}
    config = load_config(project(tmp_path), env=env)
    assert config.sources["manylinux-aarch64-image"] == "MANYWHEELS_MANYLINUX_AARCH64_IMAGE"
    facts = {
        "quay.io/pypa/manylinux2014_x86_64": ImageFacts(
            "quay.io/pypa/manylinux2014_x86_64", "sha256:a", "manylinux2014_x86_64",
            STATIC_PYTHONS),
        "local-aarch64:1": ImageFacts("local-aarch64:1", "sha256:b",
                                      "manylinux_2_36_aarch64", STATIC_PYTHONS[3:4]),
    }
    plan = plan_build(config, facts, None)
    aarch64 = [s for s in plan.steps if s.arch == "aarch64"]
    assert [s.identifier for s in aarch64] == ["cp311-manylinux_aarch64"]
    assert aarch64[0].plat == "manylinux_2_36_aarch64"
    assert aarch64[0].digest == "sha256:b"
    assert {s.plat for s in plan.steps if s.arch == "x86_64"} == {"manylinux2014_x86_64"}


def test_an_image_of_another_arch_is_refused(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, 'archs = ["aarch64"]\nskip = "*musllinux*"\n'
                                 'manylinux-aarch64-image = "mine:1"'), env={})
    facts = {"mine:1": ImageFacts("mine:1", None, "manylinux_2_28_x86_64", STATIC_PYTHONS)}
    with pytest.raises(ConfigError, match="manylinux-aarch64-image: image mine:1 is for x86_64"):
        plan_build(config, facts, None)


def test_image_with_several_platforms_names_both_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(project(tmp_path, 'archs = ["x86_64", "aarch64"]\nimage = "mine:1"'),
                    env={})
    message = str(caught.value)
    assert "image (pyproject.toml)" in message
    assert "archs (pyproject.toml)" in message
    assert "\n" not in message
    with pytest.raises(ConfigError, match=r"image \(MANYWHEELS_IMAGE\) and "
                       r"manylinux-i686-image \(pyproject.toml\)"):
        load_config(project(tmp_path, 'manylinux-i686-image = "x:1"'),
                    env={"MANYWHEELS_IMAGE": "mine:1"})


def test_image_alone_and_image_with_one_platform_stay_single(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, 'image = "mine:1"'), env={})
    assert select_platforms(config) is None
    one = load_config(project(tmp_path, 'archs = ["aarch64"]\nskip = "*musllinux*"\n'
                              'image = "mine:1"'), env={})
    platforms = select_platforms(one)
    assert platforms is not None
    assert [(p.name, p.image) for p in platforms] == [("manylinux_aarch64", "mine:1")]


def test_skip_everything_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="select no platform"):
        load_config(project(tmp_path, 'archs = ["x86_64"]\nskip = "*"'), env={})


@pytest.mark.parametrize(
    ("arch", "machine", "machine32", "prefix", "env"),
    [
        ("x86_64", "x86_64", None, (), {}),
        ("i686", "x86_64", None, ("linux32",), {}),
        ("i686", "i686", None, (), {}),
        ("aarch64", "aarch64", None, (), {}),
        ("armv7l", "armv7l", None, (), {}),  # QEMU on x86_64 reports armv7l itself
        ("armv7l", "aarch64", "armv8l", ("linux32",),
         {"_PYTHON_HOST_PLATFORM": "linux-armv7l"}),
    ],
)
def test_personality_as_the_manylinux_entrypoint(arch: str, machine: str,
                                                 machine32: str | None,
                                                 prefix: tuple[str, ...],
                                                 env: dict[str, str]) -> None:
    found = personality(arch, machine, machine32)
    assert found.prefix == prefix
    assert found.env == env


def test_emulation_check_and_message() -> None:
    assert runs_arch("aarch64", "aarch64")
    assert runs_arch("i686", "x86_64")
    assert not runs_arch("aarch64", None)
    assert not runs_arch("aarch64", "x86_64")
    line = emulation_message("aarch64", "img:1", "exec format error")
    assert "\n" not in line
    assert "qemu-user-static" in line
    assert "docker run --privileged --rm tonistiigi/binfmt --install arm64" in line
    assert EmulationUnavailableError(line).exit_code == ExitCode.EMULATION == 12
