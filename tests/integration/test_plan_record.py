"""The run record is the only state between stages (issue: one explicit build plan).

Each case of the issue, with real containers: stale wheels after a source change, a
planted corrupt wheel, `--python` asking for a tag never built, a second project in the
same output-dir, a bad `plat`, a pure wheel for two tags, and the dry run showing the
exact scripts a real run keeps.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.errors import ExitCode
from manywheels.stages._run import Run
from manywheels.stages.build import build
from manywheels.stages.repair import repair
from manywheels.stages.test import test as stage_test
from tests.conftest import PACKAGES

ROOT = Path(__file__).resolve().parents[2]
NOXFILE = "import manywheels.nox\n\nmanywheels.nox.register()\n"


def cext(tmp_path: Path, name: str = "cext") -> Path:
    project = tmp_path / name
    shutil.copytree(ROOT / "examples" / "cext", project,
                    ignore=shutil.ignore_patterns("dist", "wheelhouse", "build", "*.egg-info"))
    (project / "noxfile.py").write_text(NOXFILE)
    return project


def nox(project: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", *args], cwd=project,
        env={**os.environ, **(env or {})}, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, check=False,
    )


def stages(project: Path, *names: str, **overrides: object) -> Run:
    """Run the named stages in one Run (in-process) and return it."""
    functions = {"build": build, "repair": repair, "test": stage_test}
    config = load_config(project, env={}, overrides=overrides)
    with Run(config, UI(echo=False)) as run:
        for name in names:
            functions[name](run)
    return run


def record(project: Path, output: str = "wheelhouse") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (project / output / "manywheels-report.json").read_text())
    return data


def test_stale_wheel_is_never_repaired_tested_or_published(test_image: str,
                                                            tmp_path: Path) -> None:
    """Build cp311 and cp312, change the source, build cp312 only: the cp311 wheel of the
    old sdist is never repaired, tested or published again."""
    project = cext(tmp_path)
    stages(project, "build", "repair", "test", image=test_image, python=["cp311", "cp312"])
    old = record(project)
    source = project / "src" / "mwdemo" / "__init__.py"
    source.write_text(source.read_text() + "\nCHANGED = True\n")
    run = stages(project, "build", "repair", "test", image=test_image, python=["cp312"])
    new = record(project)
    assert new["project"]["sdist_sha256"] != old["project"]["sdist_sha256"]
    assert sorted(run.report.current("test")) == ["cp312-manylinux_x86_64"]
    assert not run.report.is_current("cp311-manylinux_x86_64")
    # The stale cp311 wheels are still on disk (never deleted) ...
    assert list((project / "wheelhouse").glob("*cp311*.whl"))
    # ... but publishing lists only the wheel of the current sdist.
    listed = nox(project, "-s", "wheels-publish", "--", "--dry-run",
                 "--repository-url", "http://127.0.0.1:9/legacy/")
    assert listed.returncode == 0, listed.stdout[-3000:]
    assert "cp312" in listed.stdout
    assert not re.search(r"mwdemo-0\.1\.0-cp311-\S+\.whl", listed.stdout.split("ignoring")[0]
                         if "ignoring" in listed.stdout else listed.stdout), listed.stdout[-3000:]


def test_planted_corrupt_wheel_is_neither_repaired_nor_failing(test_image: str,
                                                                tmp_path: Path) -> None:
    project = cext(tmp_path)
    (project / "dist").mkdir()
    planted = project / "dist" / "mwdemo-0.1.0-cp312-cp312-linux_x86_64.whl.bak.whl"
    planted.write_bytes(b"not a zip file")
    stray = project / "dist" / "other-1.0-cp312-cp312-linux_x86_64.whl"
    stray.write_bytes(b"PK\x03\x04 garbage")
    result = nox(project, "-s", "wheels", "--", "--image", test_image, "--python", "cp312")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "other-1.0-cp312-cp312-linux_x86_64.whl" in result.stdout  # named in a warning
    assert planted.read_bytes() == b"not a zip file"  # never deleted or changed
    repaired = sorted(p.name for p in (project / "wheelhouse").glob("*.whl"))
    assert len(repaired) == 1 and repaired[0].startswith("mwdemo-0.1.0-cp312-cp312-manylinux")
    targets = record(project)["targets"]
    assert list(targets) == ["cp312-manylinux_x86_64"]


def test_single_stage_for_a_tag_never_built_is_exit_7(test_image: str, tmp_path: Path) -> None:
    project = cext(tmp_path)
    stages(project, "build", "repair", image=test_image, python=["cp312"])
    for stage in ("wheels-test", "wheels-repair"):
        result = nox(project, "-s", stage, "--", "--image", test_image, "--python", "cp39")
        assert result.returncode == ExitCode.NOTHING_TO_DO, result.stdout[-3000:]
        assert "cp39" in result.stdout
        assert "Traceback" not in result.stdout


def test_second_project_in_the_same_output_dir_is_refused(test_image: str,
                                                           tmp_path: Path) -> None:
    shared = tmp_path / "shared-wheelhouse"
    first = cext(tmp_path, "first")
    stages(first, "build", image=test_image, python=["cp312"], output_dir=str(shared))
    before = (shared / "manywheels-report.json").read_bytes()
    second = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", second)
    (second / "noxfile.py").write_text(NOXFILE)
    for stage in ("wheels-build", "wheels-test"):
        result = nox(second, "-s", stage, "--", "--image", test_image, "--python", "cp312",
                     "--output-dir", str(shared))
        assert result.returncode == ExitCode.CONFIG, result.stdout[-3000:]
        assert str(first) in result.stdout and "--replace-record" in result.stdout
    assert (shared / "manywheels-report.json").read_bytes() == before
    assert not (second / "dist").exists()
    replaced = nox(second, "-s", "wheels-build", "--", "--image", test_image, "--python",
                   "cp312", "--output-dir", str(shared), "--replace-record")
    assert replaced.returncode == 0, replaced.stdout[-3000:]
    assert record(tmp_path, "shared-wheelhouse")["project"]["name"] == "purepkg"


@pytest.mark.parametrize("plat", ["../../../../escape", "x; id", "manylinux_2_28_sparc"])
def test_bad_plat_is_exit_2_with_nothing_written(tmp_path: Path, plat: str) -> None:
    project = cext(tmp_path)
    result = nox(project, "-s", "wheels", "--", "--plat", plat)
    assert result.returncode == ExitCode.CONFIG, result.stdout[-3000:]
    assert plat in result.stdout and "manylinux_X_Y_ARCH" in result.stdout
    assert "Traceback" not in result.stdout
    assert not (project / "dist").exists() and not (project / "wheelhouse").exists()
    assert not list(tmp_path.rglob("build.sh")) and not list(tmp_path.rglob("*.log"))


def test_pure_wheel_for_two_tags_is_built_once_and_tested_on_both(test_image: str,
                                                                   tmp_path: Path) -> None:
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    command = "python -c 'import sys, purepkg; print(\"tested-on\", sys.version_info[:2])'"
    run = stages(project, "build", "repair", "test", image=test_image,
                 python=["cp311", "cp312"], test_command=command)
    builds = {i: run.report.stage(i, "build") for i in run.report.current("build")}
    assert len(builds) == 2
    assert sum(1 for b in builds.values() if b.get("reused_from")) == 1
    assert len({b["wheel"] for b in builds.values()}) == 1
    assert sorted(run.report.current("test")) == ["cp311-manylinux_x86_64",
                                                  "cp312-manylinux_x86_64"]
    logs = project / "wheelhouse" / "logs"
    assert "tested-on (3, 11)" in (logs / "cp311-manylinux_x86_64" / "test.log").read_text()
    assert "tested-on (3, 12)" in (logs / "cp312-manylinux_x86_64" / "test.log").read_text()


def _dry_run_blocks(stdout: str) -> dict[str, str]:
    """label -> script, from the `# ---- manywheels dry run: <label> ----` blocks."""
    blocks: dict[str, str] = {}
    label = None
    for line in stdout.splitlines(keepends=True):
        header = re.match(r"# ---- manywheels dry run: (.+) ----$", line.rstrip("\n"))
        if header:
            label = header.group(1)
            blocks[label] = ""
        elif label is not None and line.startswith("nox > "):
            label = None
        elif label is not None:
            blocks[label] += line
    return blocks


def test_dry_run_shows_exactly_the_scripts_a_real_run_keeps(test_image: str,
                                                             tmp_path: Path) -> None:
    project = cext(tmp_path)
    args = ["--image", test_image, "--python", "cp311", "cp312"]
    real = nox(project, "-s", "wheels", "--", *args)
    assert real.returncode == 0, real.stdout[-3000:]
    dry = subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", "-s", "wheels", "--", *args, "--dry-run"],
        cwd=project, text=True, capture_output=True, check=False)
    assert dry.returncode == 0, dry.stdout[-2000:] + dry.stderr[-2000:]
    blocks = _dry_run_blocks(dry.stdout)
    logs = project / "wheelhouse" / "logs"
    compared = 0
    for identifier in ("cp311-manylinux_x86_64", "cp312-manylinux_x86_64"):
        for stage in ("build", "repair", "test"):
            kept = (logs / identifier / f"{stage}.sh").read_text()
            assert blocks[f"{identifier} {stage}.sh"] == kept, (identifier, stage)
            compared += 1
    assert compared == 6
    assert "-m build --sdist" in dry.stdout + dry.stderr  # the host sdist command
