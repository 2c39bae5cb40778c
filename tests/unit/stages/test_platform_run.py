"""A multi-platform Run on the in-memory engine: one container per platform image, each
created for its arch, and one plan across them (no container engine is reached)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.stages._run import Run
from tests.fakes.engine import FakeEngine, FakeImage

NOWHERE = "unix:///nonexistent.sock"
IMAGES = {"x86_64": "local-x86_64:1", "i686": "local-i686:1", "aarch64": "local-aarch64:1"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\n[tool.manywheels]\n'
        'archs = ["x86_64", "i686", "aarch64"]\nskip = "*musllinux*"\npython = ["cp311"]\n'
        + "".join(f'manylinux-{arch}-image = "{ref}"\n' for arch, ref in IMAGES.items()))
    return tmp_path


def engine() -> FakeEngine:
    return FakeEngine([FakeImage(ref, env={"AUDITWHEEL_PLAT": f"manylinux_2_36_{arch}"})
                       for arch, ref in IMAGES.items()])


def test_one_plan_across_platform_images(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    config = load_config(project, env={})
    fake = engine()
    ui = UI(Console(file=StringIO(), width=200), echo=False, live=False)
    with Run(config, ui, engine=fake, host_env={"DOCKER_HOST": NOWHERE}) as run:
        assert run.images() == list(IMAGES.values())
        plan = run.plan(None)
        assert [(s.identifier, s.image, s.arch, s.plat) for s in plan.steps] == [
            ("cp311-manylinux_x86_64", "local-x86_64:1", "x86_64", "manylinux_2_36_x86_64"),
            ("cp311-manylinux_i686", "local-i686:1", "i686", "manylinux_2_36_i686"),
            ("cp311-manylinux_aarch64", "local-aarch64:1", "aarch64", "manylinux_2_36_aarch64"),
        ]
        assert [g.arch for g in plan.groups()] == ["x86_64", "i686", "aarch64"]
        assert {c.image: c.arch for c in fake.containers} == {
            ref: arch for arch, ref in IMAGES.items()}
        assert fake.image_archs == {ref: arch for arch, ref in IMAGES.items()}
    assert not fake.live()


def test_a_single_image_run_takes_the_arch_of_its_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1"\n')
    config = load_config(tmp_path, env={}, overrides={"image": "local-i686:1"})
    fake = engine()
    ui = UI(Console(file=StringIO(), width=200), echo=False, live=False)
    with Run(config, ui, engine=fake, host_env={"DOCKER_HOST": NOWHERE}) as run:
        assert run.platforms is None
        plan = run.plan(None)
        assert {s.arch for s in plan.steps} == {"i686"}
        assert [c.arch for c in fake.containers] == ["i686"]


def test_before_all_once_per_platform_container_each_with_its_log(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    config = load_config(project, env={}, overrides={"before_all": "echo setting up",
                                                      "cache": False})
    fake = engine()
    ui = UI(Console(file=StringIO(), width=200), echo=False, live=False)
    with Run(config, ui, engine=fake, host_env={"DOCKER_HOST": NOWHERE}) as run:
        for image in run.images():
            run.ensure_before_all(image)
            run.ensure_before_all(image)  # once per container
        scripts = {c.image: [cmd for cmd in c.commands
                             if isinstance(cmd, str) and "setting up" in cmd]
                   for c in fake.containers}
        counts = {image: len(found) for image, found in scripts.items()}
        assert counts == dict.fromkeys(IMAGES.values(), 1)
        logs = config.output_dir / "logs"
        assert sorted(p.parent.name for p in logs.glob("*/before-all.log")) == [
            "before-all-manylinux_aarch64", "before-all-manylinux_i686",
            "before-all-manylinux_x86_64"]
