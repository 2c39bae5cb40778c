"""SBOMs in the run record (PEP 770): the files under ``*.dist-info/sboms/`` of a wheel
and the components a CycloneDX one names, read from a wheel built in the test; the repair
stage records them (in-memory engine)."""

from __future__ import annotations

import io
import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from manywheels._ui import UI
from manywheels.plan._record import RunReport
from manywheels.stages._run import Run
from manywheels.stages._sbom import cyclonedx_components, wheel_sboms
from manywheels.stages.repair import repair
from tests.fakes.engine import Call, Reply
from tests.unit.stages.test_orchestration import (
    KIND,
    NOWHERE,
    PLAT,
    Builder,
    build_stage,
    engine_with,
    host_sdist,  # noqa: F401 - fixture
    make_config,
    project,  # noqa: F401 - fixture
)

CDX = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.4",
    "metadata": {"component": {"name": "purepkg", "version": "1.0.0"}},
    "components": [
        {"type": "library", "name": "purepkg", "version": "1.0.0",
         "purl": "pkg:pypi/purepkg@1.0.0"},
        {"type": "operating-system", "name": "almalinux", "version": "8.10",
         "components": [{"name": "libz.so.1"}]},
        {"type": "library", "name": "zlib", "version": "1.2.11-40.el8",
         "purl": "pkg:rpm/almalinux/zlib@1.2.11-40.el8?arch=x86_64"},
    ],
}


def wheel_bytes(sboms: dict[str, bytes]) -> bytes:
    """A small wheel (zip) with a module, its dist-info and the given extra files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("purepkg/__init__.py", "")
        archive.writestr("purepkg-1.0.0.dist-info/METADATA", "Name: purepkg\n")
        archive.writestr("purepkg-1.0.0.dist-info/sboms/", "")  # a directory entry
        for name, data in sboms.items():
            archive.writestr(name, data)
    return buffer.getvalue()


AUDITWHEEL_SBOM = "purepkg-1.0.0.dist-info/sboms/auditwheel.cdx.json"


def test_cyclonedx_components_name_version_purl() -> None:
    assert cyclonedx_components(CDX) == [
        {"name": "purepkg", "version": "1.0.0", "purl": "pkg:pypi/purepkg@1.0.0"},
        {"name": "almalinux", "version": "8.10"},
        {"name": "libz.so.1"},
        {"name": "zlib", "version": "1.2.11-40.el8",
         "purl": "pkg:rpm/almalinux/zlib@1.2.11-40.el8?arch=x86_64"},
    ]
    assert cyclonedx_components(["not", "a", "bom"]) == []
    assert cyclonedx_components({"components": "nope"}) == []


def test_wheel_sboms_lists_every_file(tmp_path: Path) -> None:
    wheel = tmp_path / "purepkg-1.0.0-cp312-cp312-manylinux_2_28_x86_64.whl"
    wheel.write_bytes(wheel_bytes({
        AUDITWHEEL_SBOM: json.dumps(CDX).encode(),
        "purepkg-1.0.0.dist-info/sboms/extra.spdx": b"SPDXVersion: SPDX-2.3\n",
        "purepkg/sboms/not-an-sbom.json": b"{}",
    }))
    sboms = wheel_sboms(wheel)
    assert sboms is not None
    assert [entry["path"] for entry in sboms] == [
        AUDITWHEEL_SBOM, "purepkg-1.0.0.dist-info/sboms/extra.spdx"]
    assert sboms[0]["format"] == "CycloneDX 1.4"
    assert {"name": "zlib", "version": "1.2.11-40.el8",
            "purl": "pkg:rpm/almalinux/zlib@1.2.11-40.el8?arch=x86_64"} in sboms[0]["components"]
    assert sboms[1] == {"path": "purepkg-1.0.0.dist-info/sboms/extra.spdx", "components": []}


def test_wheel_without_sbom_and_not_a_zip(tmp_path: Path) -> None:
    plain = tmp_path / "plain.whl"
    plain.write_bytes(wheel_bytes({}))
    assert wheel_sboms(plain) == []
    junk = tmp_path / "junk.whl"
    junk.write_bytes(b"not a zip")
    assert wheel_sboms(junk) is None
    assert wheel_sboms(tmp_path / "missing.whl") is None


class SbomBuilder(Builder):
    """Repairs into a real wheel (zip) holding auditwheel's CycloneDX SBOM."""

    def __call__(self, call: Call) -> Reply | None:
        script = call.script or ""
        if (match := self.REPAIR.search(script)) is not None:
            identifier = match.group(1)
            (raw,) = call.fs.listdir(f"/manywheels/{identifier}/raw")
            repaired = raw.replace("linux_x86_64", PLAT)
            data = wheel_bytes({AUDITWHEEL_SBOM: json.dumps(CDX).encode()})
            call.fs.write(f"/manywheels/{identifier}/repaired/{repaired}", data)
            return 0, [f"/manywheels/{identifier}/repaired/{repaired}"]
        return super().__call__(call)


@pytest.mark.usefixtures("host_sdist")
def test_repair_records_the_sboms(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    config = make_config(project)
    ui = UI(Console(file=StringIO(), width=300), echo=False, live=False)
    with Run(config, ui, engine=engine_with(SbomBuilder()),
             host_env={"DOCKER_HOST": NOWHERE}) as run:
        build_stage.build(run)
        repair(run)
    saved = json.loads((config.output_dir / "manywheels-report.json").read_text())
    record = saved["targets"][f"cp312-{KIND}"]["stages"]["repair"]
    (sbom,) = record["sboms"]
    assert sbom["path"] == AUDITWHEEL_SBOM
    assert sbom["format"] == "CycloneDX 1.4"
    assert sbom["components"][0] == {"name": "purepkg", "version": "1.0.0",
                                     "purl": "pkg:pypi/purepkg@1.0.0"}
    assert "sboms" not in saved["targets"][f"cp312-{KIND}"]["stages"]["build"]
    reloaded = RunReport(config.output_dir).target(f"cp312-{KIND}")
    assert reloaded is not None
    assert reloaded.stages["repair"].sboms == record["sboms"]  # typed, and kept on load
