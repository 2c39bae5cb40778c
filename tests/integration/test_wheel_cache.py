"""The wheel cache with real containers: a second run of an unchanged project builds and
repairs nothing (no build or repair command ran), tests every wheel and says so; a
changed option or sdist builds again; clean-cache empties it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.stages._run import Run
from manywheels.stages.build import build
from manywheels.stages.repair import repair
from manywheels.stages.test import test as stage_test

ROOT = Path(__file__).resolve().parents[2]
TAGS = ("cp311-manylinux_x86_64", "cp312-manylinux_x86_64")


def cext(tmp_path: Path) -> Path:
    project = tmp_path / "cext"
    shutil.copytree(ROOT / "examples" / "cext", project,
                    ignore=shutil.ignore_patterns("dist", "wheelhouse", "build", "*.egg-info"))
    return project


def cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "manywheels", *args], cwd=project,
                          env={**os.environ, "NO_COLOR": "1"}, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)


def record(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (project / "wheelhouse" / "manywheels-report.json").read_text())
    return data


def in_process(project: Path, **overrides: object) -> Run:
    config = load_config(project, env={}, overrides=overrides)
    with Run(config, UI(echo=False)) as run:
        build(run)
        repair(run)
        stage_test(run)
    return run


def test_second_run_builds_nothing_and_tests_every_wheel(test_image: str,
                                                          tmp_path: Path) -> None:
    project = cext(tmp_path)
    cache_dir = tmp_path / "cache"
    args = ("wheels", "--image", test_image, "--python", "cp311", "cp312",
            "--cache-dir", str(cache_dir))
    first = cli(project, *args)
    assert first.returncode == 0, first.stdout[-4000:]
    cold = record(project)
    for identifier in TAGS:
        stages = cold["targets"][identifier]["stages"]
        assert "cached" not in stages["build"] and "cached" not in stages["repair"]
        assert stages["build"]["timing"]["commands"] >= 1
    entries = list((cache_dir / "wheels").glob("*/*/entry.json"))
    assert sorted(json.loads(e.read_text())["kind"] for e in entries) == [
        "build", "build", "repair", "repair"]

    second = cli(project, *args)
    assert second.returncode == 0, second.stdout[-4000:]
    warm = record(project)
    assert warm["project"]["build_run"] != cold["project"]["build_run"]
    for identifier in TAGS:
        stages = warm["targets"][identifier]["stages"]
        for stage in ("build", "repair"):
            assert stages[stage]["cached"] is True
            # No build or repair command ran: the record's timing counts none.
            assert stages[stage]["timing"]["commands"] == 0
            assert stages[stage]["sha256"] == cold["targets"][identifier]["stages"][stage][
                "sha256"]
        log = project / "wheelhouse" / stages["build"]["log"]
        assert "restored from the wheel cache" in log.read_text()
        # Every wheel is tested again, in this run.
        assert stages["test"]["status"] == "passed"
        assert stages["test"]["run_id"] == stages["build"]["run_id"]
        assert stages["test"]["timing"]["commands"] >= 1
        wheel = project / "wheelhouse" / stages["repair"]["wheel"]
        assert wheel.is_file()
    assert second.stdout.count("from the wheel cache: not built again") == len(TAGS)
    assert second.stdout.count("from the wheel cache: not repaired again") == len(TAGS)

    # Another build option: built again (and cached under its own key).
    changed = in_process(project, image=test_image, python=["cp312"],
                         cache_dir=str(cache_dir), environment={"MW_CACHE_PROBE": "1"})
    again = changed.report.stage(TAGS[1], "build")
    assert "cached" not in again and again["timing"]["commands"] >= 1
    assert changed.report.stage(TAGS[1], "test")["status"] == "passed"

    # Another sdist (a source change): built again.
    source = project / "src" / "mwdemo" / "__init__.py"
    source.write_text(source.read_text() + "\nCHANGED = True\n")
    rebuilt = in_process(project, image=test_image, python=["cp312"],
                         cache_dir=str(cache_dir))
    assert "cached" not in rebuilt.report.stage(TAGS[1], "build")
    assert "cached" not in rebuilt.report.stage(TAGS[1], "repair")

    # --no-cache: nothing from the wheel cache.
    plain = in_process(project, image=test_image, python=["cp312"], cache=False)
    assert "cached" not in plain.report.stage(TAGS[1], "build")

    cleaned = cli(project, "clean-cache", "--cache-dir", str(cache_dir))
    assert cleaned.returncode == 0, cleaned.stdout[-4000:]
    assert f"removed cache directory {cache_dir / 'wheels'}" in cleaned.stdout
    assert not (cache_dir / "wheels").exists()
