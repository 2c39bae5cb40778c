"""Caches across runs, with real containers: the before-all image, pip/uv/ccache caches
on the host, one container per `nox -s wheels`, and clearing."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import pytest

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.engine._docker import DockerEngine as Engine
from manywheels.stages import _cache as cache
from manywheels.stages import _cache_clear
from manywheels.stages._run import Run
from manywheels.stages.build import build
from manywheels.stages.repair import repair
from manywheels.stages.test import test as stage_test
from tests.conftest import PACKAGES, extract_sdist

NOXFILE = "import manywheels.nox\n\nmanywheels.nox.register()\n"


def files_under(path: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(path))


@pytest.fixture
def before_all_images(engine: Engine) -> Iterator[list[str]]:
    """Tags of the before-all images a test made: removed afterwards (only those, since
    other runs may share the engine)."""
    made: list[str] = []
    yield made
    for tag in made:
        with contextlib.suppress(docker.errors.APIError):
            engine.client.images.remove(tag, force=True)


def test_second_run_reuses_before_all_image_and_caches(
    test_image: str, tmp_path: Path, engine: Engine, before_all_images: list[str]
) -> None:
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    token = uuid.uuid4().hex  # a fresh key: no earlier run's image can match
    overrides = {
        "image": test_image, "python": ["cp312"], "cache_dir": str(tmp_path / "cache"),
        "before_all": f"echo {token} >> /etc/before-all-runs",
        "test_command": "python -c 'import purepkg'",
    }
    config = load_config(project, env={}, overrides=overrides)

    with Run(config, UI(echo=False)) as first:
        build(first)
        repair(first)
        stage_test(first)
    section = first.report.data["before_all"][test_image]
    assert section["status"] == "ran"
    tag = section["image"]
    before_all_images.append(tag)
    assert tag == cache.before_all_tag(section["key"])
    assert cache.find_before_all_image(engine, section["key"]) == tag
    log = project / "wheelhouse" / "logs" / "before-all" / "before-all.log"
    assert log.is_file()
    # The committed image keeps no value passed into the run: the CA path variables
    # the run sets are blank in its configuration.
    image_env = engine.client.images.get(tag).attrs["Config"]["Env"]
    assert "PIP_CERT=" in image_env or not any(e.startswith("PIP_CERT") for e in image_env)

    uv_cache = tmp_path / "cache" / "images" / cache.image_slug(test_image) / "uv"
    populated = files_under(uv_cache)
    assert populated > 0, "the build and test environments put nothing in the uv cache"
    timing = first.report.stage("cp312-manylinux_x86_64", "build")["timing"]
    assert timing["commands"] >= 1
    assert timing["command_s"] + timing["tool_s"] == pytest.approx(timing["wall_s"], abs=0.002)
    assert first.report.stage("cp312-manylinux_x86_64", "test")["timing"]["commands"] >= 1

    log.unlink()
    with Run(config, UI(echo=False)) as second:
        build(second)
        runs = second.container(test_image).output(["cat", "/etc/before-all-runs"])
    # before-all did not run again: the marker it appends is there once (from the image),
    # the report says "cached", and no before-all log was written.
    assert runs.split() == [token]
    assert second.report.data["before_all"][test_image] == {
        "status": "cached", "image": tag, "key": section["key"]}
    assert not log.exists()
    assert files_under(uv_cache) >= populated

    # --no-cache: before-all runs again in a plain container.
    plain = load_config(project, env={}, overrides={**overrides, "cache": False})
    with Run(plain, UI(echo=False)) as third:
        third.ensure_before_all(test_image)
        assert third.report.data["before_all"][test_image]["status"] == "ran"
        assert third.report.data["before_all"][test_image]["image"] is None
        assert third.container(test_image).image == test_image


def test_nox_wheels_starts_one_container(test_image: str, tmp_path: Path, engine: Engine) -> None:
    """`nox -s wheels` (build -> repair -> test sessions) shares one container."""
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    (project / "noxfile.py").write_text(NOXFILE)
    env = {**os.environ, "MANYWHEELS_IMAGE": test_image, "MANYWHEELS_PYTHON": "cp312",
           "MANYWHEELS_TEST_COMMAND": "python -c 'import purepkg'",
           "MANYWHEELS_CACHE_DIR": str(tmp_path / "cache")}
    since = int(time.time()) - 1
    result = subprocess.run([sys.executable, "-m", "nox", "--no-color", "-s", "wheels"],
                            cwd=project, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, check=False)
    assert result.returncode == 0, result.stdout[-4000:]
    until = int(time.time()) + 1
    events = engine.client.events(
        since=since, until=until, decode=True,
        filters={"type": "container", "event": "create",
                 "label": f"io.manywheels.project={project}"},
    )
    created = [event for event in events if event.get("Action") == "create"]
    assert len(created) == 1, created
    report = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    for target in report["targets"].values():
        for stage in ("build", "repair", "test"):
            assert target["stages"][stage]["status"] == "passed"
            assert set(target["stages"][stage]["timing"]) == {
                "wall_s", "command_s", "tool_s", "commands"}

    cleaned = subprocess.run([sys.executable, "-m", "nox", "--no-color", "-s",
                              "wheels-clean-cache"], cwd=project, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    assert cleaned.returncode == 0, cleaned.stdout[-4000:]
    assert re.search(r"removed \d+ cache directories", cleaned.stdout), cleaned.stdout
    assert files_under(tmp_path / "cache") == 0


CCACHE_BEFORE_ALL = """
if command -v apt-get >/dev/null; then
  apt-get update -qq && apt-get install -y -qq ccache >/dev/null
elif command -v dnf >/dev/null; then
  dnf install -y ccache
else
  yum install -y ccache
fi
"""


def test_ccache_hits_on_the_second_run(
    pypi_sdists: dict[str, Path], test_image: str, tmp_path: Path,
    before_all_images: list[str],
) -> None:
    project = extract_sdist(pypi_sdists["markupsafe"], tmp_path / "src")
    config = load_config(project, env={}, overrides={
        "image": test_image, "python": ["cp312"], "cache_dir": str(tmp_path / "cache"),
        "before_all": CCACHE_BEFORE_ALL, "ccache": True,
    })
    for second in (False, True):
        # The second run must compile again to use ccache: not take the wheel from the
        # wheel cache (nothing else is cleared).
        cleared = _cache_clear.clear(config, what=("wheels",))
        assert [path.name for path in cleared.paths] == (["wheels"] if second else [])
        with Run(config, UI(echo=False)) as run:
            build(run)
            stats = run.container(test_image).output(["ccache", "--print-stats"])
        assert "cached" not in run.report.stage("cp312-manylinux_x86_64", "build")
        before_all_images.append(run.report.data["before_all"][test_image]["image"])
    counters = dict(line.split("\t", 1) for line in stats.splitlines() if "\t" in line)
    hits = int(counters.get("direct_cache_hit", 0)) + int(counters.get("preprocessed_cache_hit", 0))
    misses = int(counters.get("cache_miss", 0))
    assert misses >= 1 and hits >= 1, stats
    assert files_under(tmp_path / "cache" / "images" / cache.image_slug(test_image) / "ccache") > 0
