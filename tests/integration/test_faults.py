"""Faults of the host and the engine, through the real front ends: each is one line naming
what and where, its own exit code, no traceback, nothing half-written, and no misleading
follow-up ("run the build stage first") from the later stages of the chain.

The engine cases run on a private engine the test starts and stops itself
(:mod:`tests.integration.private_engine`: its own data-root, exec-root, pidfile, socket
and bridge).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from manywheels.engine._docker import DockerEngine as Engine
from manywheels.errors import ExitCode
from tests.integration.private_engine import PrivateEngine, private_engine, remove_bridge
from tests.integration.test_reliability import (
    make_project,
    nox_env,
    project_containers,
    run_nox,
    start_nox,
    wait_for,
)
from tests.integration.test_reliability_input import error_line

MISLEADING = "stage first"


def _is_root() -> bool:
    return os.geteuid() == 0


@contextlib.contextmanager
def _mounted(directory: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at ``directory`` (root only), unmounted afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)], check=True)
    try:
        yield directory
    finally:
        subprocess.run(["umount", "--lazy", str(directory)], check=False)


@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[Path]:
    """A read-only directory: a read-only tmpfs as root, else mode 0555."""
    if _is_root():
        with _mounted(directory, "ro,size=1m") as path:
            yield path
        return
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o555)
    try:
        yield directory
    finally:
        directory.chmod(0o755)


def _no_partial_files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")
                  if p.name.endswith(".tmp") or p.name.startswith(".sdist-"))


def _assert_one_output_line(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    line = error_line(result, ExitCode.OUTPUT)
    for fragment in fragments:
        assert fragment in line, line
    assert MISLEADING not in result.stdout, result.stdout[-4000:]
    return line


def test_read_only_output_dir(test_image: str, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    with _read_only(tmp_path / "ro") as out:
        result = run_nox(project, "-s", "wheels", "--", "--output-dir", str(out),
                         env=nox_env(test_image, MANYWHEELS_PYTHON="cp312"))
    reason = "the file system is read-only" if _is_root() else "permission denied"
    _assert_one_output_line(result, str(out), reason)


def test_full_output_dir(test_image: str, tmp_path: Path) -> None:
    if not _is_root():
        pytest.skip("a full file system needs a tmpfs mount (root)")
    project = make_project(tmp_path)
    with _mounted(tmp_path / "full", "size=256k") as out:
        (out / "filler").write_bytes(b"\0" * (256 - 24) * 1024)
        result = run_nox(project, "-s", "wheels", "--", "--output-dir", str(out),
                         env=nox_env(test_image, MANYWHEELS_PYTHON="cp311 cp312"))
        _assert_one_output_line(result, "no space left on the device", str(out))
        assert _no_partial_files(out) == []
        assert not list(out.glob("*.whl"))
    assert _no_partial_files(project / "dist") == []


def test_output_dir_that_is_a_file(test_image: str, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    result = run_nox(project, "-s", "wheels", "--", "--output-dir", "/dev/null",
                     env=nox_env(test_image, MANYWHEELS_PYTHON="cp312"))
    _assert_one_output_line(result, "'/dev/null'", "not a directory")


@pytest.mark.parametrize("command", ["wheels --dry-run --python cp312", "plan --python cp312"])
def test_output_piped_into_head(test_image: str, tmp_path: Path, command: str) -> None:
    project = make_project(tmp_path)
    script = f"{sys.executable} -m manywheels {command} | head -n 0; exit ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", script], cwd=project, env=nox_env(test_image),
                            text=True, capture_output=True, timeout=300, check=False)
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    assert "Exception ignored" not in result.stderr, result.stderr[-4000:]
    lines = [line for line in result.stderr.splitlines() if "error:" in line]
    expected = ("manywheels: error: the reader of the output went away (a closed pipe): "
                "output stopped")
    assert lines == [expected], result.stderr[-4000:]
    assert result.returncode == ExitCode.OUTPUT


# --------------------------------------------------------------------------- sdist


BROKEN_SETUP = 'raise SystemExit("mw-planted: the sdist cannot be built")\n'


def test_failed_sdist_on_a_rerun_is_diagnosed_and_recorded(test_image: str,
                                                           tmp_path: Path) -> None:
    project = make_project(tmp_path)
    env = nox_env(test_image, MANYWHEELS_PYTHON="cp312")
    assert run_nox(project, "-s", "wheels-build", env=env).returncode == 0
    (project / "setup.py").write_text(BROKEN_SETUP)
    result = run_nox(project, "-s", "wheels-build", env=env)
    line = error_line(result, ExitCode.PROJECT)
    assert "building the sdist failed" in line
    out = result.stdout
    assert "diagnosis (full report: nox -s wheels-troubleshoot):" in out, out[-4000:]
    assert "sdist failed (built on the host): mw-planted: the sdist cannot be built" in out
    assert "logs/sdist/sdist.log" in out
    log = project / "wheelhouse" / "logs" / "sdist" / "sdist.log"
    assert "mw-planted" in log.read_text() and "Successfully built" not in log.read_text()
    record = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    assert record["sdist"]["build"]["status"] == "failed"
    assert "sdist_sha256" not in record["project"]
    shown = run_nox(project, "-s", "wheels-troubleshoot", "--", "--json", env=env)
    document = json.loads(shown.stdout[shown.stdout.index("{"):shown.stdout.rindex("}") + 1])
    errors = [f for f in document["findings"] if f["severity"] == "error"]
    assert errors and all(f["identifier"] == "sdist" for f in errors), errors
    for name in ("sdist.sh",):
        assert name not in out


SHADOWED_HEADER_C = '#include <Python.h>\n#include <mwshadow.h>\n'


def test_a_header_elsewhere_in_the_tree_is_still_a_missing_package(
        test_image: str, tmp_path: Path) -> None:
    """cffi ships Windows copies of ffi.h: a header of that name outside the include path
    does not make the compile's missing header the project's own."""
    project = make_project(tmp_path)
    (project / "src" / "mwdemo" / "_core.c").write_text(
        "#include <yaml.h>\n" + (project / "src" / "mwdemo" / "_core.c").read_text())
    vendored = project / "src" / "vendor" / "win32" / "yaml.h"
    vendored.parent.mkdir(parents=True)
    vendored.write_text("/* a Windows copy, never on the include path */\n")
    with (project / "MANIFEST.in").open("a") as manifest:
        manifest.write("\ninclude src/vendor/win32/yaml.h\n")
    result = run_nox(project, "-s", "wheels-build",
                     env=nox_env(test_image, MANYWHEELS_PYTHON="cp312"))
    assert result.returncode == ExitCode.STAGE_FAILED, result.stdout[-4000:]
    assert "the compile needs header yaml.h" in result.stdout, result.stdout[-4000:]
    assert "libyaml-dev" in result.stdout


# --------------------------------------------------------------------------- leftovers


SLOW_BUILD_ENV_SETUP = """\
import os, pathlib, sys, time
from setuptools import setup
pathlib.Path(os.environ["MW_TEST_PIDFILE"]).write_text(f"{os.getpid()} {sys.prefix}")
time.sleep(600)
setup()
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_sdist_build_leaves_no_build_env(engine: Engine, test_image: str,
                                                     tmp_path: Path, signum: int) -> None:
    project = make_project(tmp_path)
    (project / "setup.py").write_text(SLOW_BUILD_ENV_SETUP)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    pidfile = tmp_path / "backend.pid"
    env = nox_env(test_image, MANYWHEELS_PYTHON="cp312", MW_TEST_PIDFILE=str(pidfile),
                  TMPDIR=str(tmp))
    log = tmp_path / "nox.log"
    process = start_nox(project, "-s", "wheels-build", env=env, log=log)
    try:
        wait_for(lambda: pidfile.is_file() and " " in pidfile.read_text(), 240,
                 "the sdist build backend to start", process, log)
        backend = int(pidfile.read_text().split()[0])
        if signum == signal.SIGINT:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the group
        else:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    out = log.read_text(errors="replace")
    assert code == 128 + signum, out[-4000:]
    assert "Traceback" not in out
    assert not _running(backend), "the backend outlived the run"
    assert sorted(p.name for p in tmp.iterdir() if "build-env" in p.name) == []
    assert project_containers(engine, project) == []


# --------------------------------------------------------------------------- the engine


@pytest.fixture
def private(engine: Engine, test_image: str) -> Iterator[PrivateEngine]:
    if not _is_root():
        pytest.skip("a private engine needs root")
    labels = engine.client.images.get(test_image).labels or {}
    base = labels.get("org.manywheels.test-image.base") or test_image
    with private_engine(engine.client, base) as started:
        yield started


def test_a_container_that_cannot_start_is_one_engine_line(private: PrivateEngine,
                                                          tmp_path: Path) -> None:
    """The engine's bridge is gone (seen for real): creating the container fails."""
    project = make_project(tmp_path)
    remove_bridge()
    result = run_nox(project, "-s", "wheels",
                     env=nox_env(private.image, DOCKER_HOST=private.host,
                                 MANYWHEELS_PYTHON="cp312", MANYWHEELS_CACHE="false"),
                     timeout=300)
    line = error_line(result, ExitCode.ENGINE)
    assert f"cannot start a container of {private.image}" in line
    assert MISLEADING not in result.stdout


def test_engine_lost_mid_run_is_one_line_and_exit_3(private: PrivateEngine,
                                                     tmp_path: Path) -> None:
    project = make_project(tmp_path)
    env = nox_env(private.image, DOCKER_HOST=private.host, MANYWHEELS_PYTHON="cp311 cp312",
                  MANYWHEELS_JOBS="2", MANYWHEELS_CACHE="false",
                  MANYWHEELS_BEFORE_BUILD="echo mw-waiting; sleep 600")
    log = tmp_path / "nox.log"
    logs = project / "wheelhouse" / "logs"

    def both_waiting() -> bool:
        return all("mw-waiting" in _read(logs / f"{tag}-manylinux_x86_64" / "build.log")
                   for tag in ("cp311", "cp312"))

    process = start_nox(project, "-s", "wheels", env=env, log=log)
    try:
        wait_for(both_waiting, 240, "both builds to wait in before-build", process, log)
        started = time.monotonic()
        private.stop()
        code = process.wait(timeout=120)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    out = log.read_text(errors="replace")
    assert code == ExitCode.ENGINE, out[-4000:]
    assert "Traceback" not in out and "ConnectionError" not in out, out[-4000:]
    aborted = [line for line in out.splitlines() if " aborted: " in line]
    assert len(aborted) == 1 and "the container engine at" in aborted[0], aborted
    assert "went away" in aborted[0] and aborted[0].endswith("[exit code 3]")
    assert MISLEADING not in out
    assert took < 90


def _running(pid: int) -> bool:
    """Whether a process runs (a zombie, dead but not yet reaped by its new parent, does
    not)."""
    stat = _read(Path(f"/proc/{pid}/stat"))
    return bool(stat) and stat.rsplit(")", 1)[-1].split()[0] not in {"Z", "X"}


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(("posargs", "variables"), [
    ([], {"MANYWHEELS_IMAGE": ""}),
    (["--image", ""], {}),
], ids=["MANYWHEELS_IMAGE=", "--image ''"])
def test_an_empty_image_is_one_configuration_line(test_image: str, tmp_path: Path,
                                                  posargs: list[str],
                                                  variables: dict[str, str]) -> None:
    project = make_project(tmp_path)
    result = run_nox(project, "-s", "wheels", "--", *posargs,
                     env=nox_env(test_image, **variables))
    line = error_line(result, ExitCode.CONFIG)
    assert "image (" in line and "expected an image reference" in line
    assert MISLEADING not in result.stdout
    assert not (project / "wheelhouse").exists()


def test_twine_password_in_environment_pass_is_refused(test_image: str,
                                                       tmp_path: Path) -> None:
    project = make_project(tmp_path)
    with (project / "pyproject.toml").open("a") as stream:
        stream.write('environment-pass = ["TWINE_PASSWORD"]\n')
    secret = "pypi-mw-planted-secret-0123456789"
    result = run_nox(project, "-s", "wheels",
                     env=nox_env(test_image, TWINE_PASSWORD=secret,
                                 MANYWHEELS_TEST_COMMAND="env"))
    line = error_line(result, ExitCode.CONFIG)
    assert "environment-pass (pyproject.toml): TWINE_PASSWORD is a publishing credential" \
        in line
    assert secret not in result.stdout
    assert not (project / "wheelhouse").exists()


def test_other_secret_values_are_masked_in_console_and_logs(test_image: str,
                                                            tmp_path: Path) -> None:
    project = make_project(tmp_path)
    secret = "mw-planted-token-9876543210"
    env = nox_env(test_image, MY_API_TOKEN=secret, MANYWHEELS_PYTHON="cp312",
                  MANYWHEELS_ENVIRONMENT_PASS="MY_API_TOKEN", MANYWHEELS_BUILD_VERBOSITY="1",
                  MANYWHEELS_BEFORE_BUILD='echo "token=$MY_API_TOKEN"')
    result = run_nox(project, "-s", "wheels-build", env=env)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "token=***" in result.stdout
    log = project / "wheelhouse" / "logs" / "cp312-manylinux_x86_64" / "build.log"
    assert "token=***" in log.read_text()
    # A failure's tail, shown without streaming, is masked too.
    env.update(MANYWHEELS_BUILD_VERBOSITY="0",
               MANYWHEELS_BEFORE_BUILD='echo "token=$MY_API_TOKEN"; exit 3')
    failed = run_nox(project, "-s", "wheels-build", env=env)
    assert failed.returncode == ExitCode.STAGE_FAILED, failed.stdout[-4000:]
    assert "token=***" in failed.stdout
    for path in [*project.rglob("*")]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in result.stdout and secret not in failed.stdout


# --------------------------------------------------------------------------- clean-cache


def test_clean_cache_removes_only_its_own_then_all_with_the_flag(private: PrivateEngine,
                                                                 tmp_path: Path) -> None:
    """On an engine shared with another user: clean-cache removes this cache-dir's
    before-all image and lists it; the other user's image and volume stay until --all."""
    from manywheels.stages._cache import BEFORE_ALL_LABEL, CACHE_LABEL, CACHE_OWNER_LABEL

    project = make_project(tmp_path)
    env = nox_env(private.image, DOCKER_HOST=private.host, MANYWHEELS_PYTHON="cp312",
                  MANYWHEELS_CACHE_DIR=str(tmp_path / "cache"),
                  MANYWHEELS_BEFORE_ALL="echo mw-before-all")
    run_nox(project, "-s", "wheels-build", env=env)  # the wheel fails: no real Python
    client = private.client()
    try:
        (mine,) = client.images.list(filters={"label": BEFORE_ALL_LABEL})
        assert mine.labels[CACHE_OWNER_LABEL].endswith(f":{tmp_path / 'cache'}")
        other = "otherhost:/home/other/.cache/manywheels"
        scratch = client.containers.create(private.image, ["true"], network_mode="none")
        scratch.commit("manywheels-before-all", "other-user",
                       conf={"Labels": {BEFORE_ALL_LABEL: "k", CACHE_OWNER_LABEL: other}})
        scratch.remove()
        client.volumes.create("manywheels-cache-other-user",
                              labels={CACHE_LABEL: "img", CACHE_OWNER_LABEL: other})

        result = run_nox(project, "-s", "wheels-clean-cache", env=env)
        assert result.returncode == 0, result.stdout[-4000:]
        assert f"removed before-all image {mine.tags[0]}" in result.stdout
        left = [tag for image in client.images.list(filters={"label": BEFORE_ALL_LABEL})
                for tag in image.tags]
        assert left == ["manywheels-before-all:other-user"]
        assert [v.name for v in client.volumes.list(filters={"label": CACHE_LABEL})] == [
            "manywheels-cache-other-user"]

        result = run_nox(project, "-s", "wheels-clean-cache", "--", "--all", env=env)
        assert result.returncode == 0, result.stdout[-4000:]
        assert "removed before-all image manywheels-before-all:other-user" in result.stdout
        assert "removed cache volume manywheels-cache-other-user" in result.stdout
        assert client.images.list(filters={"label": BEFORE_ALL_LABEL}) == []
        assert client.volumes.list(filters={"label": CACHE_LABEL}) == []
    finally:
        client.close()
