"""PyPy and GraalPy identifiers (issue 13, item 2): tags, install directories, ``enable``
gating, and ``manylinux-interpreters`` list/ensure on the fake engine."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from manywheels.config import Config
from manywheels.naming._tags import (
    PythonTag,
    parse_install_dir,
    parse_python_tag,
    wheel_identifier,
)
from manywheels.plan import ImageFacts, plan_build
from manywheels.stages._interpreters import (
    Interpreter,
    ensure_interpreters,
    list_interpreters,
    parse_interpreter_list,
)
from manywheels.stages._run import Run
from manywheels.stages.build import SdistInfo, read_sdist
from tests.fakes.engine import Call, FakeEngine, FakeImage, Reply
from tests.unit.stages.test_orchestration import (  # noqa: F401  # project: a fixture
    IMAGE,
    Builder,
    build_stage,
    gated,
    make_config,
    make_run,
    project,
    write_sdist,
)

PP311 = PythonTag(3, 11, impl="pp")
GP242 = PythonTag(3, 11, impl="gp", impl_version=(24, 2))
PLAT = "manylinux_2_28_x86_64"

LISTING = [  # `manylinux-interpreters list --format json` of a manylinux_2_28 image
    {"identifier": "cp311-cp311", "installed": True, "python_version": "3.11.13",
     "implementation": "cpython", "implementation_version": "3.11.13",
     "install_path": "/opt/python/cp311-cp311"},
    {"identifier": "cp312-cp312", "installed": True, "python_version": "3.12.11",
     "implementation": "cpython", "implementation_version": "3.12.11",
     "install_path": "/opt/python/cp312-cp312"},
    {"identifier": "graalpy311-graalpy242_311_native", "installed": False,
     "python_version": "3.11", "implementation": "graalpy",
     "implementation_version": "24.2.1",
     "install_path": "/opt/python/graalpy311-graalpy242_311_native"},
    {"identifier": "pp311-pypy311_pp73", "installed": False, "python_version": "3.11",
     "implementation": "pypy", "implementation_version": "7.3.19",
     "install_path": "/opt/python/pp311-pypy311_pp73"},
    {"identifier": "pp37-pypy37_pp73", "installed": False, "python_version": "3.7",
     "implementation": "pypy", "implementation_version": "7.3.9",
     "install_path": "/opt/python/pp37-pypy37_pp73"},
]


def test_tags_and_install_dirs() -> None:
    assert parse_python_tag("pp311") == PP311 == parse_install_dir("pp311-pypy311_pp73")
    assert parse_python_tag("gp242") == GP242
    assert parse_install_dir("graalpy311-graalpy242_311_native") == GP242
    assert (PP311.tag, PP311.install_dir) == ("pp311", "pp311-pypy311_pp73")
    assert (GP242.tag, GP242.install_dir) == ("gp242", "graalpy311-graalpy242_311_native")
    assert PP311.version == GP242.version == "3.11"
    assert parse_install_dir("pypy3.10") is None


def test_wheels_of_pypy_and_graalpy_name_their_identifier() -> None:
    assert wheel_identifier("x-1-pp311-pypy311_pp73-manylinux_2_28_x86_64.whl", PLAT) == (
        "pp311-manylinux_x86_64", PP311)
    assert wheel_identifier(
        "x-1-graalpy311-graalpy242_311_native-manylinux_2_28_x86_64.whl", PLAT) == (
        "gp242-manylinux_x86_64", GP242)


def test_enable_gates_pypy_and_graalpy(tmp_path: Path) -> None:
    pythons = (PythonTag(3, 11), PythonTag(3, 12), PP311, GP242)
    facts = {"img": ImageFacts("img", None, PLAT, pythons)}
    config = Config(project_dir=tmp_path, image="img")

    def plan(**changes: object) -> list[tuple[str, str]]:
        steps = plan_build(config.with_(**changes), facts, ">=3.10").steps
        return [(s.identifier, s.interpreter) for s in steps]

    assert [i for i, _ in plan()] == ["cp311-manylinux_x86_64", "cp312-manylinux_x86_64"]
    assert ("pp311-manylinux_x86_64", "/opt/python/pp311-pypy311_pp73/bin/python") in plan(
        enable=("pypy",))
    assert ("gp242-manylinux_x86_64",
            "/opt/python/graalpy311-graalpy242_311_native/bin/python") in plan(
        enable=("graalpy",))
    assert len(plan(enable=("pypy", "graalpy"))) == 4
    assert plan(python=(PP311,)) == [
        ("pp311-manylinux_x86_64", "/opt/python/pp311-pypy311_pp73/bin/python")]
    assert plan(build=("pp*",), enable=("pypy",)) == [
        ("pp311-manylinux_x86_64", "/opt/python/pp311-pypy311_pp73/bin/python")]


def test_parse_interpreter_list() -> None:
    found = parse_interpreter_list(json.dumps(LISTING))
    assert Interpreter(PP311, "pp311-pypy311_pp73", installed=False) in found
    assert Interpreter(GP242, "graalpy311-graalpy242_311_native", installed=False) in found
    assert [i.tag.tag for i in found if i.installed] == ["cp311", "cp312"]
    for bad in ("{}", "[{\"installed\": true}]", "not json"):
        with pytest.raises(ValueError):  # noqa: PT011
            parse_interpreter_list(bad)


class Interpreters:
    """The image's ``manylinux-interpreters``: lists :data:`LISTING`, installs by writing
    ``bin/python``; records the ensure commands."""

    def __init__(self) -> None:
        self.ensured: list[list[str]] = []

    def __call__(self, call: Call) -> Reply | None:
        command = call.command
        if isinstance(command, list) and command[:2] == ["manylinux-interpreters", "ensure"]:
            self.ensured.append(command[2:])
            for name in command[2:]:
                call.fs.write(f"/opt/python/{name}/bin/python", b"", mode=0o755)
            return 0, [f"installing '{name}'" for name in command[2:]]
        script = call.script or (command[2] if isinstance(command, list) else "")
        if "manylinux-interpreters list --format json" in script:
            return 0, json.dumps(LISTING).splitlines()
        if isinstance(command, list) and command[:2] == ["sh", "-c"] \
                and "for d; do" in script:
            return 0, [d for d in command[4:]
                       if not call.fs.is_file(f"/opt/python/{d}/bin/python")]
        return None


def test_list_and_ensure_on_a_container() -> None:
    tool = Interpreters()
    engine = FakeEngine([FakeImage(IMAGE)], handler=tool)
    with engine.container(IMAGE) as container:
        offered = list_interpreters(container)
        assert offered is not None and PP311 in {i.tag for i in offered}
        path = "/opt/python/pp311-pypy311_pp73/bin/python"
        assert ensure_interpreters(container, [path, path]) == ["pp311-pypy311_pp73"]
        assert ensure_interpreters(container, [path]) == []  # there now: no command
    assert tool.ensured == [["pp311-pypy311_pp73"]]


def test_without_the_tool_nothing_is_offered() -> None:
    engine = FakeEngine([FakeImage(IMAGE)])
    with engine.container(IMAGE) as container:
        assert list_interpreters(container) is None


def test_a_run_with_enable_pypy_installs_pp311_before_building(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    def fake_build_sdist(run: Run) -> SdistInfo:  # Requires-Python >=3.9 (PyPy 3.11 in)
        return replace(read_sdist(write_sdist(run.config.dist_dir)), requires_python=">=3.9")

    monkeypatch.setattr(build_stage, "build_sdist", gated(fake_build_sdist))
    tool, builder = Interpreters(), Builder()

    def handler(call: Call) -> Reply | None:
        return tool(call) or builder(call)

    engine = FakeEngine([FakeImage(IMAGE, pythons=("cp311-cp311", "cp312-cp312"))],
                        handler=handler)
    config = make_config(project, enable=["pypy"])
    with make_run(config, engine) as run:
        result = build_stage.build(run)
    assert [row.identifier for row in result.rows] == [
        "cp311-manylinux_x86_64", "pp311-manylinux_x86_64", "cp312-manylinux_x86_64"]
    assert tool.ensured == [["pp311-pypy311_pp73"]]  # only what the run needs, once


def test_without_enable_the_tool_is_not_asked(project: Path) -> None:  # noqa: F811
    tool = Interpreters()
    engine = FakeEngine([FakeImage(IMAGE, pythons=("cp311-cp311", "cp312-cp312"))],
                        handler=tool)
    with make_run(make_config(project), engine) as run:
        assert [t.tag for t in run.pythons(IMAGE)] == ["cp311", "cp312"]
    with make_run(make_config(project, python=["pp311"]), engine) as run:
        assert "pp311" in [t.tag for t in run.pythons(IMAGE)]  # named: asked
    first, second = engine.containers
    assert not any("manylinux-interpreters" in str(c) for c in first.commands)
    assert any("manylinux-interpreters" in str(c) for c in second.commands)
