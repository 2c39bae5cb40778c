"""The canonical rewrite of repaired wheels (``reproducible``): order, RECORD, times, modes,
the sbom-components file; checked with ``installer`` (RECORD validation and a real
install) and through the repair stage on the in-memory engine."""

from __future__ import annotations

import io
import json
import stat
import tempfile
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import parse_record_file
from installer.sources import WheelFile
from rich.console import Console

from manywheels._fsutil import sha256_file
from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.config._components import SbomComponent
from manywheels.stages._canonical import ZIP_EPOCH_MIN, canonicalize, zip_date_time
from manywheels.stages._run import Run
from manywheels.stages._sbom_components import SBOM_PATH, sbom_files
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

NAME = "demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"
EPOCH = 1700000000


def make_wheel(order: list[str], *, when: tuple[int, int, int, int, int, int],
               mode: int = 0o664, level: int = 9) -> bytes:
    """A wheel with the same files in any order, times, modes and compression, and a
    RECORD whose rows are wrong (unsorted, one stale hash)."""
    files = {
        "demo/__init__.py": b"from demo._core import x\n",
        "demo/_core.cpython-312-x86_64-linux-gnu.so": b"\x7fELF fake",
        "demo.libs/libfoo-1a2b3c.so.1": b"\x7fELF lib",
        "demo-1.0.data/scripts/demo-tool": b"#!/bin/sh\necho hi\n",
        "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\n"
                                    b"Tag: cp312-cp312-manylinux_2_28_x86_64\n",
        "demo-1.0.dist-info/RECORD": b"demo/__init__.py,sha256=stale,1\n"
                                     b"demo-1.0.dist-info/RECORD,,\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("demo/", date_time=when), b"")
        for name in order:
            info = zipfile.ZipInfo(name, date_time=when)
            executable = name.endswith(("demo-tool", ".so.1"))
            info.external_attr = ((0o775 if executable else mode) | stat.S_IFREG) << 16
            archive.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED,
                             compresslevel=level)
    return buffer.getvalue()


ORDER = ["demo-1.0.dist-info/RECORD", "demo/_core.cpython-312-x86_64-linux-gnu.so",
         "demo-1.0.dist-info/WHEEL", "demo/__init__.py", "demo.libs/libfoo-1a2b3c.so.1",
         "demo-1.0.dist-info/METADATA", "demo-1.0.data/scripts/demo-tool"]


def test_two_differently_zipped_wheels_become_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / NAME, tmp_path / "b" / NAME
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_bytes(make_wheel(ORDER, when=(2024, 5, 6, 7, 8, 10)))
    second.write_bytes(make_wheel(sorted(ORDER), when=(2021, 1, 2, 3, 4, 6), mode=0o600,
                                  level=1))
    assert first.read_bytes() != second.read_bytes()
    canonicalize(first, EPOCH)
    canonicalize(second, EPOCH)
    assert first.read_bytes() == second.read_bytes()
    once = first.read_bytes()
    canonicalize(first, EPOCH)  # idempotent
    assert first.read_bytes() == once

    with zipfile.ZipFile(first) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        assert names == [
            "demo-1.0.data/scripts/demo-tool", "demo.libs/libfoo-1a2b3c.so.1",
            "demo/__init__.py", "demo/_core.cpython-312-x86_64-linux-gnu.so",
            "demo-1.0.dist-info/METADATA", "demo-1.0.dist-info/WHEEL",
            "demo-1.0.dist-info/RECORD"]  # no directory entry; dist-info last, RECORD last
        assert {i.date_time for i in infos} == {zip_date_time(EPOCH)}
        assert zip_date_time(EPOCH) == (2023, 11, 14, 22, 13, 20)
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in infos}
        assert modes["demo-1.0.data/scripts/demo-tool"] == 0o755
        assert modes["demo.libs/libfoo-1a2b3c.so.1"] == 0o755
        assert modes["demo/__init__.py"] == modes["demo-1.0.dist-info/RECORD"] == 0o644
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
        assert all(stat.S_ISREG(i.external_attr >> 16) and i.create_system == 3
                   for i in infos)
        rows = archive.read("demo-1.0.dist-info/RECORD").decode().splitlines()
    paths = [row.split(",")[0] for row in rows]
    assert paths[:-1] == sorted(paths[:-1]) and paths[-1] == "demo-1.0.dist-info/RECORD"
    assert rows[-1] == "demo-1.0.dist-info/RECORD,,"
    # installer checks every row's hash and size against the contents.
    with WheelFile.open(first) as source:
        source.validate_record()
        entries = list(parse_record_file(rows))
        assert len(entries) == len(names)


def test_the_epoch_is_clamped_to_1980_and_rounded_to_even_seconds() -> None:
    assert zip_date_time(0) == (1980, 1, 1, 0, 0, 0)
    assert zip_date_time(ZIP_EPOCH_MIN + 3) == (1980, 1, 1, 0, 0, 2)


def test_a_canonical_wheel_installs_with_installer(tmp_path: Path) -> None:
    wheel = tmp_path / NAME
    wheel.write_bytes(make_wheel(ORDER, when=(2024, 5, 6, 7, 8, 10)))
    canonicalize(wheel, EPOCH, {SBOM_PATH: b"{}\n"})
    scheme = {key: str(tmp_path / "root" / key)
              for key in ("purelib", "platlib", "headers", "scripts", "data")}
    destination = SchemeDictionaryDestination(scheme, interpreter="/usr/bin/python3",
                                              script_kind="posix")
    with WheelFile.open(wheel) as source:
        source.validate_record()
        install(source, destination, {})
    platlib = tmp_path / "root" / "platlib"
    assert (platlib / "demo" / "__init__.py").read_bytes() == b"from demo._core import x\n"
    assert (platlib / "demo-1.0.dist-info" / "sboms" / "manywheels.cdx.json").is_file()
    assert (tmp_path / "root" / "scripts" / "demo-tool").stat().st_mode & 0o111


def test_not_a_wheel_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.whl"
    junk.write_bytes(b"not a zip")
    with pytest.raises(zipfile.BadZipFile):
        canonicalize(junk, EPOCH)
    bare = tmp_path / "bare.whl"
    with zipfile.ZipFile(bare, "w") as archive:
        archive.writestr("demo/__init__.py", "")
    with pytest.raises(ValueError, match=r"expected one \*\.dist-info/RECORD"):
        canonicalize(bare, EPOCH)


class RealWheelBuilder(Builder):
    """Repairs into a real wheel (zip) with a vendored libfoo, zipped carelessly."""

    def __call__(self, call: Call) -> Reply | None:
        script = call.script or ""
        if (match := self.REPAIR.search(script)) is not None:
            identifier = match.group(1)
            (raw,) = call.fs.listdir(f"/manywheels/{identifier}/raw")
            repaired = raw.replace("linux_x86_64", PLAT).replace("purepkg-1.0.0", "demo-1.0")
            data = make_wheel(ORDER, when=(2025, 1, 1, 0, 0, 0))
            call.fs.write(f"/manywheels/{identifier}/repaired/{repaired}", data)
            return 0, [f"/manywheels/{identifier}/repaired/{repaired}"]
        return super().__call__(call)


@pytest.mark.usefixtures("host_sdist")
@pytest.mark.parametrize("reproducible", [True, False])
def test_repair_rewrites_and_records_the_final_sha256(
        project: Path, monkeypatch: pytest.MonkeyPatch, reproducible: bool) -> None:  # noqa: F811
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    libfoo = {"name": "libfoo", "version": "2.1", "files": ["libfoo-*.so*"]}
    config = make_config(project, reproducible=reproducible, python=["cp312"],
                         sbom_components=[libfoo])
    ui = UI(Console(file=StringIO(), width=300), echo=False, live=False)
    with Run(config, ui, engine=engine_with(RealWheelBuilder()),
             host_env={"DOCKER_HOST": NOWHERE, "SOURCE_DATE_EPOCH": str(EPOCH)}) as run:
        build_stage.build(run)
        repair(run)
        record = run.report.target(f"cp312-{KIND}")
        assert run.report.project.source_date_epoch == EPOCH
    assert record is not None
    repaired = record.stages["repair"]
    wheel = config.output_dir / str(repaired.wheel)
    assert repaired.sha256 == sha256_file(wheel)  # the final file's
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dates = {i.date_time for i in archive.infolist()}
    if not reproducible:
        assert names[0] == "demo/" and dates == {(2025, 1, 1, 0, 0, 0)}
        assert repaired.sboms == []
        return
    assert names[-1] == "demo-1.0.dist-info/RECORD" and dates == {zip_date_time(EPOCH)}
    (sbom,) = repaired.sboms or []
    assert sbom["path"] == "demo-1.0.dist-info/sboms/manywheels.cdx.json"
    assert sbom["components"] == [{"name": "libfoo", "version": "2.1",
                                   "purl": "pkg:generic/libfoo@2.1"}]


def test_the_sbom_document_is_deterministic_and_names_the_matched_files(tmp_path: Path,
                                                                         ) -> None:
    wheel = tmp_path / NAME
    wheel.write_bytes(make_wheel(ORDER, when=(2024, 5, 6, 7, 8, 10)))
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1.0"\n')
    components = (SbomComponent("zlib-ng", "2.2.1", "pkg:github/zlib-ng/zlib-ng@2.2.1"),
                  SbomComponent("libfoo", "2.1", files=("libfoo-*.so*",)),
                  SbomComponent("libabsent", "1", files=("*/libabsent*",)))
    config = load_config(root, env={}, overrides={"sbom_components": list(components)})
    files = sbom_files(config, wheel)
    assert files == sbom_files(config, wheel)
    document = json.loads(files[SBOM_PATH])
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.6"
    assert "serialNumber" not in document and "timestamp" not in document["metadata"]
    assert document["metadata"]["component"]["purl"] == "pkg:pypi/demo@1.0"
    libfoo, zlib = document["components"]
    assert libfoo["evidence"]["occurrences"] == [{"location": "demo.libs/libfoo-1a2b3c.so.1"}]
    assert zlib["purl"] == "pkg:github/zlib-ng/zlib-ng@2.2.1" and "evidence" not in zlib
    assert document["dependencies"] == [{"ref": "pkg:pypi/demo@1.0", "dependsOn": [
        "pkg:generic/libfoo@2.1", "pkg:github/zlib-ng/zlib-ng@2.2.1"]}]


_NAMES = st.lists(st.from_regex(r"demo/[a-z_]{1,8}(/[a-z_]{1,8})?\.(py|so|txt)", fullmatch=True),
                  unique=True, max_size=6)


@settings(max_examples=25, deadline=None)
@given(names=_NAMES, data=st.data())
def test_any_order_time_and_mode_give_the_same_canonical_bytes(names: list[str],
                                                               data: st.DataObject) -> None:
    files = {name: data.draw(st.binary(max_size=64)) for name in names}
    files["demo-1.0.dist-info/METADATA"] = b"Name: demo\n"
    files["demo-1.0.dist-info/RECORD"] = b""
    outputs = []
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(2):
            order = data.draw(st.permutations(list(files)))
            year = data.draw(st.integers(1980, 2100))
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for name in order:
                    info = zipfile.ZipInfo(name, date_time=(year, 1, 1, 0, 0, 0))
                    info.external_attr = data.draw(st.sampled_from([0o600, 0o644, 0o664])) << 16
                    archive.writestr(info, files[name])
            wheel = Path(tmp) / str(attempt) / NAME
            wheel.parent.mkdir()
            wheel.write_bytes(buffer.getvalue())
            canonicalize(wheel, EPOCH)
            outputs.append(wheel.read_bytes())
            with WheelFile.open(wheel) as source:
                source.validate_record()
    assert outputs[0] == outputs[1]
