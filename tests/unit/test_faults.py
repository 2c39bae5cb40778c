"""Faults of the host and the engine as one line and their own exit code, without an
engine: output errors, the chain stopping on them, the engine seam's translation."""

from __future__ import annotations

import errno
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker.errors
import pytest
import requests

from manywheels._fsutil import output_error, writing
from manywheels._lock import DirectoryLock
from manywheels.config import load_config
from manywheels.engine import EngineError
from manywheels.engine._docker._common import engine_call, refused
from manywheels.errors import (
    EngineUnavailableError,
    ExitCode,
    ManywheelsError,
    NothingToDoError,
    OutputError,
    StageFailedError,
)
from manywheels.frontends._adapter import Chain, run_stage
from manywheels.stages._common import fatal_error
from manywheels.stages._registry import Stage
from manywheels.stages._run import Run


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    return tmp_path


def _stage(name: str, error: BaseException | None) -> Stage:
    def function(run: Run, options: Mapping[str, Any]) -> object:
        if error is not None:
            raise error
        return None

    return Stage(name, f"{name}.", function)


# --------------------------------------------------------------------------- output errors


@pytest.mark.parametrize(("code", "reason"), [
    (errno.EROFS, "the file system is read-only"),
    (errno.ENOSPC, "no space left on the device"),
    (errno.EACCES, "permission denied"),
    (errno.EEXIST, "a file of that name exists and is not a directory"),
])
def test_output_error_names_the_path_and_the_reason(code: int, reason: str) -> None:
    error = output_error(OSError(code, "raw", "/out/x.log"), "the log")
    assert isinstance(error, OutputError) and error.exit_code == ExitCode.OUTPUT == 11
    text = str(error)
    assert text.startswith(f"cannot write the log '/out/x.log': {reason}; ")
    assert "\n" not in text


def test_writing_turns_os_errors_into_output_errors(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write the dist-dir"), \
            writing("the dist-dir", tmp_path):
        raise PermissionError(errno.EACCES, "Permission denied")


def test_a_lock_in_a_file_is_an_output_error() -> None:
    lock = DirectoryLock(Path("/dev/null"), "output-dir")
    with pytest.raises(OutputError, match=r"^cannot write the output-dir '/dev/null': a file"):
        lock.acquire()
    assert not lock.held


# --------------------------------------------------------------------------- the adapter


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device"),
    OSError(errno.EROFS, "Read-only file system", "/out/logs/x.log"),
    BrokenPipeError(errno.EPIPE, "Broken pipe"),
])
def test_an_os_error_of_a_stage_is_one_output_line(project: Path, error: OSError,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("manywheels.frontends._adapter._quiet_stdout", lambda: None)
    failure = run_stage(_stage("build", error), lambda: (load_config(project), {}))
    assert failure is not None and failure.code == ExitCode.OUTPUT and not failure.goes_on
    assert "\n" not in failure.line
    if error.filename:
        assert "'/out/logs/x.log': the file system is read-only" in failure.line
    elif isinstance(error, BrokenPipeError):
        assert "closed pipe" in failure.line
    else:
        assert f"output-dir {project / 'wheelhouse'}" in failure.line


@pytest.mark.parametrize("fatal", [
    OutputError("cannot write the log"),
    EngineUnavailableError("the container engine went away"),
])
def test_fatal_errors_stop_the_chain_even_after_failed_identifiers(
        project: Path, fatal: ManywheelsError) -> None:
    chain = Chain()
    failed = StageFailedError("build", {"cp312-manylinux_x86_64": "boom"})
    first = run_stage(_stage("build", failed), lambda: (load_config(project), {}), chain=chain)
    assert first is not None and first.goes_on
    second = run_stage(_stage("repair", fatal), lambda: (load_config(project), {}), chain=chain)
    assert second is not None and not second.goes_on and second.code == fatal.exit_code
    # "nothing to do" after failed identifiers is still a consequence
    third = run_stage(_stage("test", NothingToDoError("none")),
                      lambda: (load_config(project), {}), chain=chain)
    assert third is not None and third.goes_on
    chain.finish()


def test_fatal_error_classification(project: Path) -> None:
    run = Run(load_config(project))
    assert fatal_error(ValueError("x"), run) is None
    assert fatal_error(NothingToDoError("x"), run) is None
    gone = EngineUnavailableError("gone")
    assert fatal_error(gone, run) is gone
    error = fatal_error(OSError(errno.ENOSPC, "No space left on device"), run)
    assert isinstance(error, OutputError) and "no space left" in str(error)


# --------------------------------------------------------------------------- the engine seam


@pytest.mark.parametrize("raised", [
    requests.ConnectionError("('Connection aborted.', FileNotFoundError(2, 'No such file'))"),
    docker.errors.APIError("500 Server Error: network bridge not found"),
    ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
])
@pytest.mark.parametrize("answers", [True, False])
def test_engine_calls_are_translated(raised: Exception, answers: bool) -> None:
    expected = EngineError if answers else EngineUnavailableError
    with pytest.raises(expected) as caught, \
            engine_call("cannot start a container of img", "unix:///x.sock", lambda: answers):
        raise raised
    text = str(caught.value)
    assert "\n" not in text and "cannot start a container of img" in text
    if not answers:
        assert text.startswith("the container engine at unix:///x.sock went away")
        assert caught.value.exit_code == ExitCode.ENGINE


def test_refused_lost_connection_is_engine_unavailable() -> None:
    with pytest.raises(EngineUnavailableError), refused("cannot list the volumes"):
        msg = "refused"
        raise requests.ConnectionError(msg)
    with pytest.raises(EngineError), refused("cannot list the volumes"):
        msg = "409 in use"
        raise docker.errors.APIError(msg)


# --------------------------------------------------------------------------- header search

CFFI_LOG = """\
running build_ext
building '_cffi_backend' extension
creating build/temp.linux-x86_64-cpython-312/src/c
gcc -pthread -fPIC -DFFI_BUILDING=1 -I/usr/include/ffi -I/usr/include/libffi \
-I/manywheels/cp312-manylinux_x86_64/src/src/include \
-I/opt/python/cp312-cp312/include/python3.12 -c src/c/_cffi_backend.c \
-o build/temp.linux-x86_64-cpython-312/src/c/_cffi_backend.o
src/c/_cffi_backend.c:15:10: fatal error: ffi.h: No such file or directory
compilation terminated.
error: command '/usr/bin/gcc' failed with exit code 1
"""
CFFI_TREE = frozenset({"setup.py", "src/c/_cffi_backend.c", "src/c/libffi_x86_x64/ffi.h",
                       "src/c/libffi_arm64/include/ffi.h"})


def test_searched_dirs_come_from_the_compile_command() -> None:
    from manywheels.diagnose._includes import is_project_header, searched_dirs

    line = "src/c/_cffi_backend.c:15:10: fatal error: ffi.h: No such file or directory"
    dirs = searched_dirs(CFFI_LOG, line)
    assert dirs == ("src/c", "src/include")
    assert not is_project_header("ffi.h", dirs, CFFI_TREE)
    assert is_project_header("ffi.h", dirs, CFFI_TREE | {"src/include/ffi.h"})
    assert searched_dirs("no compiler here\n" + line, line) is None


def test_a_header_elsewhere_in_the_tree_is_still_missing() -> None:
    from manywheels.diagnose import Facts, LogText, ProjectFacts
    from manywheels.diagnose._checks_build import check_missing_dependency

    log = LogText("cp312-manylinux_x86_64", "build", "logs/cp312-manylinux_x86_64/build.log",
                  CFFI_LOG, "failed")
    project = ProjectFacts(build_backend="setuptools.build_meta", stale=(),
                           tree_files=CFFI_TREE, sdist="cffi-1.0.tar.gz",
                           sdist_files=CFFI_TREE, uses_scm=False)
    facts = Facts(project_dir="/p", output_dir="/p/wheelhouse", plat="manylinux_2_28_x86_64",
                  project=project, logs=(log,))
    (finding,) = check_missing_dependency(facts)
    assert finding.check == "missing-header" and "ffi.h" in finding.cause
    assert "libffi" in finding.cause


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize("name", ["TWINE_PASSWORD", "twine_username", "MANYWHEELS_PUBLISH_REPOSITORY_URL"])
def test_publishing_credentials_in_environment_pass_are_refused(
        project: Path, name: str) -> None:
    with pytest.raises(ManywheelsError) as caught:
        load_config(project, env={"MANYWHEELS_ENVIRONMENT_PASS": f"HOME {name}"})
    assert caught.value.exit_code == ExitCode.CONFIG
    assert str(caught.value).startswith(
        f"environment-pass (MANYWHEELS_ENVIRONMENT_PASS): {name} is a publishing credential")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1"\n'
        f'[tool.manywheels]\nenvironment-pass = ["{name}"]\n')
    with pytest.raises(ManywheelsError, match=r"^environment-pass \(pyproject.toml\)"):
        load_config(project, env={})


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_image_is_a_configuration_error(project: Path, value: str) -> None:
    with pytest.raises(ManywheelsError) as caught:
        load_config(project, env={"MANYWHEELS_IMAGE": value})
    assert caught.value.exit_code == ExitCode.CONFIG
    assert str(caught.value).startswith("image (MANYWHEELS_IMAGE): got ")
    with pytest.raises(ManywheelsError, match=r"^image \(command line\)"):
        load_config(project, env={}, flags={"image": ""})


def test_secret_values_passed_in_are_masked(project: Path) -> None:
    from manywheels.config._secrets import MASK, Masker
    from manywheels.stages._environment import masked_sink, secret_masker

    config = load_config(project, env={
        "MANYWHEELS_ENVIRONMENT_PASS": "MY_API_TOKEN HOME SHORT_TOKEN",
        "MANYWHEELS_ENVIRONMENT": "DB_PASSWORD=hunter2-db PLAIN=visible-value"})
    host = {"MY_API_TOKEN": "tok-123456", "HOME": "/root", "SHORT_TOKEN": "ab"}
    mask = secret_masker(config, host)
    assert mask("a tok-123456 b hunter2-db /root visible-value ab") == (
        f"a {MASK} b {MASK} /root visible-value ab")
    lines: list[tuple[str, str]] = []
    masked_sink(lambda line, stream: lines.append((line, stream)), mask)("x=tok-123456", "stdout")
    assert lines == [(f"x={MASK}", "stdout")]
    assert not Masker([])


# --------------------------------------------------------------------------- clean-cache


def test_clean_cache_removes_only_its_own_cache_dir_objects(project: Path,
                                                            tmp_path: Path) -> None:
    from manywheels.stages import _cache as cache
    from manywheels.stages import _cache_clear
    from tests.fakes.engine import FakeEngine, FakeImage

    config = load_config(project, env={}, overrides={"cache_dir": str(tmp_path / "mine")})
    mine = cache.cache_owner(config)
    theirs = cache.cache_owner(None, root=Path("/home/other/.cache/manywheels"))
    assert mine != theirs
    engine = FakeEngine([
        FakeImage("manywheels-before-all:mine", labels={cache.BEFORE_ALL_LABEL: "k1",
                                                        cache.CACHE_OWNER_LABEL: mine}),
        FakeImage("manywheels-before-all:theirs", labels={cache.BEFORE_ALL_LABEL: "k2",
                                                          cache.CACHE_OWNER_LABEL: theirs}),
        FakeImage("manywheels-before-all:legacy", labels={cache.BEFORE_ALL_LABEL: "k3"}),
        FakeImage("unrelated:1"),
    ], local=False)
    engine.create_volume("v-mine", {cache.CACHE_LABEL: "img", cache.CACHE_OWNER_LABEL: mine})
    engine.create_volume("v-theirs", {cache.CACHE_LABEL: "img",
                                      cache.CACHE_OWNER_LABEL: theirs})
    cleared = _cache_clear.clear(config, engine=engine, env={})
    assert cleared.images == ["manywheels-before-all:mine"]
    assert cleared.volumes == ["v-mine"]
    assert cleared.removed() == ["cache volume v-mine",
                                 "before-all image manywheels-before-all:mine"]
    assert sorted(engine.images_by_ref) == ["manywheels-before-all:legacy",
                                            "manywheels-before-all:theirs", "unrelated:1"]
    everything = _cache_clear.clear(config, engine=engine, env={}, everything=True)
    assert sorted(everything.images) == ["manywheels-before-all:legacy",
                                         "manywheels-before-all:theirs"]
    assert everything.volumes == ["v-theirs"]
    assert sorted(engine.images_by_ref) == ["unrelated:1"]


def test_before_all_keys_differ_per_cache_owner() -> None:
    from manywheels.engine import ImageInfo
    from manywheels.stages import _cache as cache

    image = ImageInfo("img", "sha256:1", "img@sha256:1")
    assert cache.before_all_key(image, "s", {}, "h:/a") != cache.before_all_key(
        image, "s", {}, "h:/b")
    assert cache.volume_name("img", "h:/a") != cache.volume_name("img", "h:/b")


def test_the_failed_sdist_line_is_the_backends_not_pypa_builds_trailer() -> None:
    from manywheels.diagnose import logs

    text = """\
+ python -m build --sdist --installer uv --outdir dist/.sdist-x /tmp/src/p
* Getting build dependencies for sdist...
planted sdist failure: no module named foo

TIP pass --env-dir and --sdist-extract-dir to keep the build environment and sources
ERROR Backend subprocess exited when trying to invoke get_requires_for_build_sdist
"""
    assert logs.best_error_line(text) == "planted sdist failure: no module named foo"
