"""Reproducible wheels in real containers: two independent runs of markupsafe 3.0.4 (the
real PyPI sdist, fresh containers, caches off) give byte-identical repaired wheels and
``verify`` passes; a build that embeds the time fails ``manywheels verify`` naming the
member; a declared ``sbom-components`` library (PyYAML's libyaml) gets its own SBOM
beside auditwheel's and the wheel installs with pip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.stages._run import Run
from manywheels.stages.build import build
from manywheels.stages.repair import repair
from manywheels.stages.verify import verify
from tests.conftest import PACKAGES, extract_sdist
from tests.integration.test_options import pyyaml_sdist  # noqa: F401 - fixture
from tests.integration.test_wheels import BEFORE_ALL_YAML

ID = "cp312-manylinux_x86_64"


def build_and_repair(project: Path, **overrides: object) -> Path:
    """build -> repair in a new run (its own fresh container), caches off; the wheel."""
    config = load_config(project, env={}, overrides={"cache": False, **overrides})
    with Run(config, UI(echo=False)) as run:
        build(run)
        repair(run)
    (wheel,) = sorted(config.output_dir.glob("*.whl"))
    return wheel


def test_two_independent_runs_give_identical_wheels_and_verify_passes(
        pypi_sdists: dict[str, Path], test_image: str, tmp_path: Path) -> None:
    settings = {"image": test_image, "python": ["cp312"]}
    first = build_and_repair(extract_sdist(pypi_sdists["markupsafe"], tmp_path / "a"), **settings)
    second = build_and_repair(extract_sdist(pypi_sdists["markupsafe"], tmp_path / "b"),
                              **settings)
    assert first.name == second.name
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        assert names[-1].endswith(".dist-info/RECORD")
        assert len({i.date_time for i in archive.infolist()}) == 1
        # auditwheel wrote it uncompressed (AUDITWHEEL_ZIP_COMPRESSION_LEVEL=0), the
        # rewrite compressed it once: every member deflated, the library too.
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
        library = next(i for i in archive.infolist() if i.filename.endswith(".so"))
        assert library.compress_size < library.file_size
    log = first.parent / "logs" / ID / "repair.sh"
    assert "export AUDITWHEEL_ZIP_COMPRESSION_LEVEL=0" in log.read_text()

    project = first.parent.parent
    config = load_config(project, env={}, overrides=settings)
    with Run(config, UI(echo=False)) as run:
        result = verify(run)
        record = run.report.target(ID)
    assert [row.status for row in result.rows] == ["passed"]
    assert "identical" in result.rows[0].detail
    assert record is not None
    assert record.stages["verify"].sha256 == record.stages["repair"].sha256
    rebuilt = project / "wheelhouse" / "verify" / "wheelhouse" / first.name
    assert rebuilt.read_bytes() == first.read_bytes()


def test_verify_names_the_member_a_build_stamps_with_the_time(test_image: str,
                                                              tmp_path: Path) -> None:
    project = tmp_path / "buildtime"
    shutil.copytree(PACKAGES / "buildtime", project)
    args = ["--image", test_image, "--python", "cp312", "--no-cache"]
    done = subprocess.run([sys.executable, "-m", "manywheels", "build", *args], cwd=project,
                          text=True, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    done = subprocess.run([sys.executable, "-m", "manywheels", "repair", *args], cwd=project,
                          text=True, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    done = subprocess.run([sys.executable, "-m", "manywheels", "verify", *args], cwd=project,
                          text=True, capture_output=True, check=False,
                          env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    (line,) = [ln for ln in output.splitlines() if "differs from the rebuild" in ln]
    assert "buildtime/_buildtime.py" in line and "_ext" not in line
    assert "Traceback" not in output
    report = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    stage = report["targets"][ID]["stages"]["verify"]
    assert stage["status"] == "failed"
    assert "buildtime/_buildtime.py" in stage["reason"]
    assert stage["sha256"] != report["targets"][ID]["stages"]["repair"]["sha256"]


def test_a_declared_component_gets_its_own_sbom_beside_auditwheels(
        pyyaml_sdist: Path, test_image: str, tmp_path: Path) -> None:  # noqa: F811
    """The issue's example: PyYAML 6.0.3 with libyaml from before-all (vendored by
    auditwheel, whose SBOM names it), libyaml declared in sbom-components."""
    project = extract_sdist(pyyaml_sdist, tmp_path / "src")
    component = {"name": "libyaml", "version": "0.2.5",
                 "purl": "pkg:github/yaml/libyaml@0.2.5", "files": ["libyaml*.so*"]}
    wheel = build_and_repair(project, image=test_image, python=["cp311"],
                             before_all=BEFORE_ALL_YAML, sbom_components=[component])
    report = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    sboms = report["targets"]["cp311-manylinux_x86_64"]["stages"]["repair"]["sboms"]
    by_path = {s["path"]: s for s in sboms}
    dist_info = "pyyaml-6.0.3.dist-info"
    assert sorted(by_path) == [f"{dist_info}/sboms/auditwheel.cdx.json",
                               f"{dist_info}/sboms/manywheels.cdx.json"]
    auditwheel = by_path[f"{dist_info}/sboms/auditwheel.cdx.json"]
    assert any("yaml" in c["name"] for c in auditwheel["components"]), auditwheel
    ours = by_path[f"{dist_info}/sboms/manywheels.cdx.json"]
    assert ours["format"] == "CycloneDX 1.6"
    assert {"name": "libyaml", "version": "0.2.5",
            "purl": "pkg:github/yaml/libyaml@0.2.5"} in ours["components"]
    with zipfile.ZipFile(wheel) as archive:
        record = archive.read(f"{dist_info}/RECORD").decode()
        document = json.loads(archive.read(f"{dist_info}/sboms/manywheels.cdx.json"))
    assert f"{dist_info}/sboms/manywheels.cdx.json,sha256=" in record
    (occurrence,) = document["components"][0]["evidence"]["occurrences"]
    assert occurrence["location"].startswith("pyyaml.libs/libyaml")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    str(wheel)], check=True)
    done = subprocess.run([str(python), "-c", "import yaml; print(yaml.__with_libyaml__)"],
                          cwd=tmp_path, text=True, capture_output=True, check=True)
    assert done.stdout.strip() == "True"
    listing = ("import importlib.metadata as m; "
               "print(' '.join(str(f) for f in m.files('pyyaml') if 'sboms' in str(f)))")
    installed = subprocess.run([str(python), "-c", listing], cwd=tmp_path, text=True,
                               capture_output=True, check=True).stdout.split()
    assert sorted(installed) == [f"{dist_info}/sboms/auditwheel.cdx.json",
                                 f"{dist_info}/sboms/manywheels.cdx.json"]
