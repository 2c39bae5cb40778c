"""keep-failed's leftovers and test-image's selection (pure logic, in-memory engine)."""

from __future__ import annotations

from functools import partial
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from manywheels._ui import UI
from manywheels.config import Config, load_config
from manywheels.engine import LABEL, RUN_LABEL, LeftoverInfo
from manywheels.errors import ConfigError, StageFailedError
from manywheels.naming._tags import PythonTag
from manywheels.stages import _test_image
from manywheels.stages._common import Job, run_jobs, run_stage_script
from manywheels.stages._keep import KEPT_CONTAINER_LABEL, KEPT_LABEL, kept_name
from manywheels.stages._leftovers import check_leftovers
from manywheels.stages._run import Run
from tests.fakes.engine import Call, FakeEngine, FakeImage, Reply

HERE = Path()


def test_remove_leftovers_removes_a_kept_container_and_only_its_image() -> None:
    name = kept_name("run1", "cp311-manylinux_x86_64")
    assert name == "manywheels-kept-cp311-manylinux_x86_64-run1"
    mine = FakeImage("manywheels-kept:a", labels={KEPT_CONTAINER_LABEL: name})
    other = FakeImage("manywheels-kept:b", labels={KEPT_CONTAINER_LABEL: "someone-else"})
    engine = FakeEngine([mine, other], leftovers=[
        LeftoverInfo(name, {LABEL: "1", KEPT_LABEL: "cp311-manylinux_x86_64"}, "exited")])
    removed = check_leftovers(engine, UI(), run_id="run2", remove=True)
    assert removed == [name]
    assert engine.removed_leftovers == [name]
    assert engine.removed_images == [mine.id]


def test_remove_leftovers_off_keeps_the_kept_container() -> None:
    name = kept_name("run1", "cp311-manylinux_x86_64")
    image = FakeImage("manywheels-kept:a", labels={KEPT_CONTAINER_LABEL: name})
    engine = FakeEngine([image], leftovers=[LeftoverInfo(name, {LABEL: "1"}, "exited")])
    assert check_leftovers(engine, UI(), run_id="run2", remove=False) == []
    assert engine.removed_leftovers == []
    assert engine.removed_images == []


def test_test_image_the_most_specific_entry_wins() -> None:
    config = Config(HERE, test_image=("python:3.12-slim", "musllinux=python:3.12-alpine",
                                "manylinux-aarch64=build"))
    assert _test_image.test_image_for(config, "cp312-manylinux_x86_64", "img") == "python:3.12-slim"
    assert _test_image.test_image_for(config, "cp312-musllinux_x86_64", "img") == "python:3.12-alpine"
    assert _test_image.test_image_for(config, "cp312-manylinux_aarch64", "img") == "img"
    assert _test_image.test_image_for(Config(HERE), "cp312-manylinux_x86_64", "img") is None
    only_musl = Config(HERE, test_image=("musllinux=python:3.12-alpine",))
    assert _test_image.test_image_for(only_musl, "cp312-manylinux_x86_64", "img") is None


@pytest.mark.parametrize("entry", ["macos=python:3.12", "manylinux=", "a b",
                                   "musllinux=x"])
def test_test_image_bad_entries_are_named(entry: str) -> None:
    entries = (entry, "musllinux=y") if entry == "musllinux=x" else (entry,)
    with pytest.raises(ConfigError, match=r"test-image \(default\): .*allowed are"):
        _test_image.parse_entries(Config(HERE, test_image=entries))


def _python3_image(answer: str) -> FakeEngine:
    def handler(call: Call) -> Reply | None:
        command = call.command
        if isinstance(command, list) and command[:2] == ["test", "-x"]:
            return (0 if command[2] in call.container.fs.files else 1, [])
        if isinstance(command, list) and command[:2] == ["sh", "-c"]:
            if "python3 -c" in command[2]:
                return (0, [answer] if answer else [])
            return (0, ["/usr/local/bin/python3"])
        return None

    return FakeEngine([FakeImage("python:slim", pythons=())], handler=handler)


def test_clean_interpreter_takes_python3_of_the_same_version() -> None:
    engine = _python3_image("cpython 3 12 0")
    with engine.container("python:slim") as container:
        found = _test_image.clean_interpreter(container, "cp312-manylinux_x86_64",
                                              PythonTag(3, 12), "/opt/python/x/bin/python",
                                              "python:slim")
    assert found == "/usr/local/bin/python3"


def test_clean_interpreter_prefers_opt_python() -> None:
    engine = FakeEngine([FakeImage("img", pythons=("cp312-cp312",))])
    with engine.container("img") as container:
        path = "/opt/python/cp312-cp312/bin/python"
        assert _test_image.clean_interpreter(container, "cp312-manylinux_x86_64",
                                             PythonTag(3, 12), path, "img") == path


@pytest.mark.parametrize(("answer", "has"), [("cpython 3 11 0", "cpython 3 11 0"),
                                             ("", "no python3")])
def test_clean_interpreter_names_identifier_and_what_the_image_has(answer: str,
                                                                   has: str) -> None:
    engine = _python3_image(answer)
    with engine.container("python:slim") as container, \
            pytest.raises(ConfigError) as raised:
        _test_image.clean_interpreter(container, "cp312-manylinux_x86_64", PythonTag(3, 12),
                                      "/opt/python/cp312-cp312/bin/python", "python:slim")
    message = str(raised.value)
    assert "test-image python:slim: cp312-manylinux_x86_64 needs CPython 3.12" in message
    assert f"the image has {has}" in message


def test_test_image_needs_an_engine() -> None:
    config = Config(HERE, test_image=("build",), engine="none")
    with pytest.raises(ConfigError, match=r"test-image .* needs an engine"):
        _test_image.test_image_for(config, "cp312-manylinux_x86_64", "img")


@pytest.mark.parametrize("interrupted", [False, True])
def test_keep_failed_keeps_only_the_failing_identifier_and_close_removes_the_rest(
        tmp_path: Path, interrupted: bool) -> None:
    """Two identifiers share one container; one fails: exactly one kept container (its
    identifier's, labelled, with the shared file system), the shared one removed by close
    or by an interrupt (cancel)."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    image = "manywheels-test:x"

    def handler(call: Call) -> Reply | None:
        if call.script is not None and "exit-bad" in call.script:
            return (1, ["stderr:boom"])
        return None

    engine = FakeEngine([FakeImage(image)], handler=handler)
    config = load_config(tmp_path, env={}, overrides={"image": image, "keep_failed": True,
                                                      "cache": False})
    run = Run(config, UI(Console(file=StringIO()), echo=False, live=False), engine=engine,
              host_env={})
    shared = run.container(image)
    shared.write_text("/manywheels/cp311-manylinux_x86_64/state", "cp311 state")

    def job(identifier: str, script: str) -> str:
        run_stage_script(run, run.container(image), identifier, "test", script,
                         note="test", started=0.0)
        return "ok"

    jobs = [Job("cp311-manylinux_x86_64", partial(job, "cp311-manylinux_x86_64",
                                                  "echo; exit-bad")),
            Job("cp312-manylinux_x86_64", partial(job, "cp312-manylinux_x86_64", "echo; ok"))]
    with pytest.raises(StageFailedError):
        run_jobs(run, "test", jobs)
    if interrupted:
        run.cancel()
    else:
        run.close()
    live = engine.live()
    assert [c.labels.get(KEPT_LABEL) for c in live] == ["cp311-manylinux_x86_64"]
    assert live[0].labels[RUN_LABEL] == run.run_id
    assert live[0].fs.files["/manywheels/cp311-manylinux_x86_64/state"] == b"cp311 state"
    assert live[0].name == kept_name(run.run_id, "cp311-manylinux_x86_64")
    assert [name for name, _, _ in engine.commits] == [shared.name]
