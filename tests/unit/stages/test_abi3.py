# ruff: noqa: F811 - the fixtures imported from test_orchestration are parameters here
"""abi3 reuse: the decision (pure logic: which wheel serves which identifier, the leader
of each group, the order of the jobs) and the build/repair/test orchestration on the
in-memory engine (one build, one repair, one audit; a failing leader or a non-abi3 wheel
lets the others build; an audit finding fails every identifier of the wheel)."""

from __future__ import annotations

import io
import json
import re
import tarfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from manywheels.errors import StageFailedError
from manywheels.naming._tags import parse_python_tag
from manywheels.plan._targets import BuildStep, StepOptions, interpreter_path
from manywheels.stages._abi3 import (
    Built,
    WheelShare,
    abi3_floor,
    is_abi3,
    may_build_abi3,
    reuse_key,
    serves,
)
from manywheels.stages._audit import audit_commands, audit_script, finding
from manywheels.stages._run import Run
from manywheels.stages.build import SdistInfo, read_sdist
from manywheels.stages.repair import repair
from manywheels.stages.test import test as stage_test
from tests.fakes.engine import Call, Reply
from tests.unit.stages.test_orchestration import (
    IMAGE,
    KIND,
    OTHER,
    PLAT,
    Builder,
    _no_engine,  # noqa: F401 - an autouse fixture
    build_stage,
    engine_with,
    gated,
    make_config,
    make_run,
    project,  # noqa: F401 - a fixture
)

ABI3 = "limitedapi-1.0.0-cp39-abi3-linux_x86_64.whl"


def write_sdist(path: Path, files: dict[str, str]) -> Path:
    """An sdist of purepkg 1.0.0 holding ``files`` (name -> text) besides PKG-INFO."""
    path.parent.mkdir(parents=True, exist_ok=True)
    members = {"PKG-INFO": "Metadata-Version: 2.1\nName: purepkg\nVersion: 1.0.0\n", **files}
    with tarfile.open(path, "w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"purepkg-1.0.0/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


LIMITED_SETUP = 'setup(ext_modules=[Extension("p._s", ["s.c"], py_limited_api=True)])\n'


@pytest.fixture
def host_sdist(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host sdist build replaced by an sdist whose setup.py asks for the limited API."""

    def fake_build_sdist(run: Run) -> SdistInfo:
        path = run.config.dist_dir / "purepkg-1.0.0.tar.gz"
        return read_sdist(write_sdist(path, {"setup.py": LIMITED_SETUP}))

    monkeypatch.setattr(build_stage, "build_sdist", gated(fake_build_sdist))


def step(tag: str, image: str = IMAGE, plat: str = PLAT, **options: Any) -> BuildStep:
    python = parse_python_tag(tag)
    family = "musllinux" if plat.startswith("musllinux") else "manylinux"
    return BuildStep(f"{python.tag}-{family}_x86_64", python, interpreter_path(python), image,
                     plat, options=replace(StepOptions(), **options))


# --------------------------------------------------------------------------- the decision


def test_abi3_tags_are_read_from_the_file_name() -> None:
    assert is_abi3(ABI3) and abi3_floor(ABI3) == 9
    assert is_abi3("x-1-cp311-abi3-manylinux_2_28_x86_64.manylinux2014_x86_64.whl")
    assert not is_abi3("x-1-cp39-cp39-linux_x86_64.whl")
    assert abi3_floor("x-1-cp39-cp39-linux_x86_64.whl") is None
    assert abi3_floor("x-1-py3-none-any.whl") is None


def test_an_abi3_wheel_serves_later_cpythons_of_the_same_platform_only() -> None:
    cp39 = step("cp39")
    assert serves(ABI3, cp39, step("cp310"))
    assert serves(ABI3, cp39, step("cp313"))
    assert serves(ABI3, cp39, cp39)
    assert not serves(ABI3, cp39, step("cp38"))  # older than the wheel's floor
    assert not serves(ABI3, cp39, step("cp313t"))  # free-threaded: no stable ABI
    assert not serves(ABI3, cp39, step("cp310", image=OTHER))  # another image
    assert not serves(ABI3, cp39, step("cp310", plat="manylinux_2_34_x86_64"))
    assert not serves(ABI3, cp39, step("cp310", config_settings=(("k", "v"),)))
    assert not serves(ABI3, cp39, step("cp310", environment=(("CFLAGS", "-O0"),)))
    # options that do not shape the wheel do not matter
    assert serves(ABI3, cp39, step("cp310", test_command="pytest"))
    # a version-specific wheel serves nobody else; a pure one everybody
    assert not serves("x-1-cp39-cp39-linux_x86_64.whl", cp39, step("cp310"))
    assert serves("x-1-py3-none-any.whl", cp39, step("cp313t", image=OTHER))


def test_pypy_and_free_threaded_identifiers_never_reuse_an_abi3_wheel() -> None:
    pypy = replace(step("cp311"), identifier="pp311-manylinux_x86_64")
    assert reuse_key(pypy) is None
    assert reuse_key(step("cp313t")) is None
    assert not serves(ABI3, step("cp39"), pypy)


def test_the_lowest_identifier_of_each_group_leads_and_waiting_ones_go_last() -> None:
    steps = [step("cp39"), step("cp310"), step("cp311", environment=(("A", "1"),)),
             step("cp312", environment=(("A", "1"),)), step("cp313t"), step("cp39", image=OTHER)]
    share = WheelShare(steps)
    assert share.leader("cp310-manylinux_x86_64") == "cp39-manylinux_x86_64"
    assert share.leader("cp312-manylinux_x86_64") == "cp311-manylinux_x86_64"
    assert share.leader("cp39-manylinux_x86_64") is None
    assert share.leader("cp313t-manylinux_x86_64") is None
    ordered = [(s.identifier, s.image) for s in share.order(steps)]
    assert ordered == [(s.identifier, s.image) for s in (steps[0], steps[2], steps[4],
                                                           steps[5], steps[1], steps[3])]


def test_a_waiting_identifier_takes_the_leaders_wheel_only_once_it_is_built() -> None:
    cp39, cp310 = step("cp39"), step("cp310")
    share = WheelShare([cp39, cp310])
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(share.wait(cp310, threading.Event())))
    waiter.start()
    waiter.join(timeout=0.2)
    assert waiter.is_alive() and not got  # the leader has not finished
    share.add(Built(cp39.identifier, ABI3, "ab" * 32))
    share.finish(cp39.identifier)
    waiter.join()
    assert got == [Built(cp39.identifier, ABI3, "ab" * 32)]
    # a leader that built no shareable wheel releases them to build
    other = WheelShare([cp39, cp310])
    other.add(Built(cp39.identifier, "x-1-cp39-cp39-linux_x86_64.whl", "cd" * 32))
    other.finish(cp39.identifier)
    assert other.wait(cp310, threading.Event()) is None


def test_only_an_sdist_that_mentions_the_stable_abi_makes_identifiers_wait(
        tmp_path: Path) -> None:
    assert may_build_abi3(write_sdist(tmp_path / "a.tar.gz", {"setup.py": LIMITED_SETUP}))
    assert may_build_abi3(write_sdist(tmp_path / "b.tar.gz", {
        "pyproject.toml": '[tool.scikit-build]\nwheel.py-api = "cp39"\n'}))
    assert may_build_abi3(write_sdist(tmp_path / "c.tar.gz", {
        "rust/Cargo.toml": 'pyo3 = { version = "0.22", features = ["abi3-py39"] }\n'}))
    plain = write_sdist(tmp_path / "d.tar.gz", {
        "setup.py": 'setup(ext_modules=[Extension("p._s", ["s.c"])])\n',
        "src/s.c": "#define Py_LIMITED_API 0x03090000\n"})  # sources are not read
    assert not may_build_abi3(plain)
    broken = tmp_path / "e.tar.gz"
    broken.write_bytes(b"not a tar")
    assert may_build_abi3(broken)  # unreadable: wait, the safe side
    steps = [step("cp39"), step("cp310")]
    assert WheelShare(steps, gate=False).leader("cp310-manylinux_x86_64") is None
    assert WheelShare(steps).leader("cp310-manylinux_x86_64") == "cp39-manylinux_x86_64"


def test_audit_commands_follow_cibuildwheels_placeholders() -> None:
    options = replace(StepOptions(), audit_command=("abi3audit --strict {abi3_wheel}",
                                                    "twine check {wheel}"))
    assert audit_commands(options, ABI3) == list(options.audit_command)
    assert audit_commands(options, "x-1-cp39-cp39-linux_x86_64.whl") == ["twine check {wheel}"]
    assert audit_commands(StepOptions(), "x-1-cp39-cp39-linux_x86_64.whl") == []
    assert audit_commands(replace(StepOptions(), audit_command=()), ABI3) == []
    script = audit_script("cp39-x", "/w/a.whl", ["abi3audit --strict --report {abi3_wheel}"],
                          ["abi3audit"], "/opt/python/cp39-cp39/bin/python")
    assert 'abi3audit --strict --report "$WHEEL"' in script
    assert "if command -v abi3audit" in script  # the image's own, when it has one
    other = audit_script("cp39-x", "/w/a.whl", ["twine check {wheel}"], ["twine"], "py")
    assert "command -v abi3audit" not in other and "pip install" in other


def test_the_finding_is_what_the_abi3audit_report_names() -> None:
    report = {"specs": {"/w/a.whl": {"kind": "wheel", "wheel": [{"name": "_s.abi3.so", "result": {
        "is_abi3": False, "is_abi3_baseline_compatible": False, "baseline": "3.9",
        "computed": "3.10", "non_abi3_symbols": ["PyObject_Print"]}}]}}}
    tail = ["+ abi3audit --strict --report /w/a.whl", json.dumps(report),
            ("[22:49:28] a.whl: 1 extensions scanned; 1 ABI version mismatches and "
             "1 ABI violations found")]
    assert finding(tail) == ("_s.abi3.so uses symbols outside the stable ABI: PyObject_Print; "
                             "_s.abi3.so needs the Python 3.10 stable ABI, but is tagged for 3.9")
    assert finding(["twine check", "FAILED  long_description"]) == "FAILED long_description"


# --------------------------------------------------------------------------- orchestration

AUDIT = re.compile(r"audit the repaired wheel of (\S+) ")
TESTED = re.compile(r"test the repaired wheel of (\S+) in a fresh")


class Abi3Builder(Builder):
    """Builds a cp311-abi3 wheel (a version-specific one with ``abi3=False``), fails the
    builds of ``fail``, answers audits (``violation``: abi3audit's failing report) and tests."""

    def __init__(self, fail: str | None = None, *, abi3: bool = True,
                 violation: bool = False, pure: bool = False) -> None:
        super().__init__(fail)
        self.abi3 = abi3
        self.pure = pure
        self.violation = violation
        self.built: list[str] = []
        self.repaired: list[str] = []
        self.audited: list[str] = []
        self.tested: list[tuple[str, str]] = []

    def __call__(self, call: Call) -> Reply | None:
        script = call.script or ""
        if (match := AUDIT.search(script)) is not None:
            with self.lock:
                self.audited.append(match.group(1))
            if self.violation:
                report = {"specs": {"w": {"wheel": [{"name": "_s.abi3.so", "result": {
                    "non_abi3_symbols": ["PyObject_Print"]}}]}}}
                return 1, [json.dumps(report), "stderr:1 ABI violations found"]
            return 0, ['{"specs": {}}']
        if (match := TESTED.search(script)) is not None:
            identifier = match.group(1)
            (wheel,) = call.fs.listdir(f"/manywheels/{identifier}/test")
            with self.lock:
                self.tested.append((identifier, wheel))
            return 0, ["ok"]
        if self.REPAIR.search(script) is not None:
            with self.lock:
                self.repaired.append(self.REPAIR.search(script).group(1))  # type: ignore[union-attr]
        return super().__call__(call)

    def build(self, call: Call, identifier: str) -> Reply:
        with self.lock:
            self.built.append(identifier)
        if not self.abi3 or identifier.startswith(self.fail or "-"):
            return super().build(call, identifier)
        out = f"/manywheels/{identifier}/dist"
        wheel = ("purepkg-1.0.0-py3-none-any.whl" if self.pure
                 else "purepkg-1.0.0-cp311-abi3-linux_x86_64.whl")
        call.fs.write(f"{out}/{wheel}", f"abi3 wheel of {identifier}".encode())
        return 0, [f"{out}/{wheel}"]


PYTHONS = ["cp311", "cp312", "cp313"]
IDS = [f"{tag}-{KIND}" for tag in PYTHONS]
REPAIRED = "purepkg-1.0.0-cp311-abi3-manylinux_2_28_x86_64.whl"


def test_an_abi3_wheel_is_built_repaired_and_audited_once_and_tested_on_each(
        project: Path, host_sdist: None) -> None:
    builder = Abi3Builder()
    config = make_config(project, python=PYTHONS, jobs=3, test_command="python -c pass")
    with make_run(config, engine_with(builder)) as run:
        built = build_stage.build(run)
        repaired = repair(run)
        stage_test(run)
        report = run.report
    assert builder.built == [IDS[0]]
    assert builder.repaired == [IDS[0]] and builder.audited == [IDS[0]]
    assert sorted(builder.tested) == [(i, REPAIRED) for i in IDS]
    details = {row.identifier: row.detail for row in built.rows}
    assert details[IDS[1]] == ("purepkg-1.0.0-cp311-abi3-linux_x86_64.whl "
                               f"(abi3: reused from {IDS[0]})")
    assert {row.identifier: row.detail for row in repaired.rows}[IDS[2]] == (
        f"{REPAIRED} (abi3: reused from {IDS[0]})")
    for identifier in IDS[1:]:
        assert report.stage(identifier, "build")["reused_from"] == IDS[0]
        assert report.stage(identifier, "repair")["reused_from"] == IDS[0]
        assert report.stage(identifier, "repair")["wheel"] == REPAIRED
        assert report.stage(identifier, "test")["reused_from"] == IDS[0]
    assert report.stage(IDS[0], "audit")["status"] == "passed"
    assert [p.name for p in config.output_dir.glob("*.whl")] == [REPAIRED]


@pytest.mark.parametrize(("fail", "abi3"), [(None, False), ("cp311", True)])
def test_without_an_abi3_wheel_from_the_leader_the_others_build(
        project: Path, host_sdist: None, fail: str | None, abi3: bool) -> None:
    builder = Abi3Builder(fail, abi3=abi3)
    config = make_config(project, python=PYTHONS, jobs=3)
    with make_run(config, engine_with(builder)) as run:
        if fail:
            with pytest.raises(StageFailedError):
                build_stage.build(run)
        else:
            build_stage.build(run)
        report = run.report
    assert builder.built[0] == IDS[0]  # the leader first
    if fail:  # cp312 and cp313 are released together: each builds, or reuses the other's
        # wheel when that one came first; one file either way
        for identifier, other in ((IDS[1], IDS[2]), (IDS[2], IDS[1])):
            record = report.stage(identifier, "build")
            assert identifier in builder.built or record["reused_from"] == other
        assert IDS[1] in builder.built or IDS[2] in builder.built
        assert {report.stage(i, "build")["wheel"] for i in IDS[1:]} == {
            "purepkg-1.0.0-cp311-abi3-linux_x86_64.whl"}
        assert report.stage(IDS[0], "build")["status"] == "failed"
    else:
        assert sorted(builder.built) == IDS
        assert all("reused_from" not in report.stage(i, "build") for i in IDS)


def test_an_audit_finding_fails_every_identifier_of_the_wheel(
        project: Path, host_sdist: None) -> None:
    builder = Abi3Builder(violation=True)
    config = make_config(project, python=PYTHONS, jobs=2, test_command="python -c pass")
    with make_run(config, engine_with(builder)) as run:
        build_stage.build(run)
        with pytest.raises(StageFailedError) as caught:
            repair(run)
        report = run.report
    assert builder.audited == [IDS[0]]
    line = (f"{REPAIRED} fails the audit-command: _s.abi3.so uses symbols outside the "
            "stable ABI: PyObject_Print")
    assert sorted(caught.value.failures) == IDS
    for identifier in IDS:
        assert line in caught.value.failures[identifier]
        assert report.stage(identifier, "repair")["status"] == "failed"
    assert f"(reused from {IDS[0]})" in caught.value.failures[IDS[2]]
    assert report.stage(IDS[0], "audit")["status"] == "failed"
    assert not list(config.output_dir.glob("*.whl"))


def test_an_empty_audit_command_audits_nothing(project: Path, host_sdist: None) -> None:
    builder = Abi3Builder(violation=True)
    config = make_config(project, python=PYTHONS[:2], audit_command="")
    with make_run(config, engine_with(builder)) as run:
        build_stage.build(run)
        repair(run)
    assert builder.audited == []


@pytest.mark.parametrize("violation", [False, True])
def test_a_shared_pure_wheel_is_audited_once_by_a_wheel_command(
        project: Path, host_sdist: None, violation: bool) -> None:
    builder = Abi3Builder(pure=True, violation=violation)
    config = make_config(project, python=PYTHONS, jobs=3, audit_command="twine check {wheel}")
    with make_run(config, engine_with(builder)) as run:
        build_stage.build(run)
        if violation:
            with pytest.raises(StageFailedError) as caught:
                repair(run)
            assert sorted(caught.value.failures) == IDS
        else:
            repaired = repair(run)
            assert {row.detail for row in repaired.rows if row.identifier != IDS[0]} == {
                f"purepkg-1.0.0-py3-none-any.whl (pure Python: reused from {IDS[0]})"}
        report = run.report
    assert builder.built == [IDS[0]] and builder.audited == [IDS[0]]
    assert builder.repaired == []  # a pure wheel is copied, never repaired
    status = "failed" if violation else "passed"
    assert [report.stage(i, "repair")["status"] for i in IDS] == [status] * 3
