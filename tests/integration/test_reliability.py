"""Reliability with real containers and real processes: partial failures, fail-fast,
the project tree never written, concurrent runs on one output directory, leftovers.

The helpers here (a small C-extension project, running nox, snapshots of trees and
containers) are shared by test_interrupts.py, test_secrets.py and
test_reliability_input.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from manywheels._lock import LOCK_NAME
from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.engine._docker import LABEL, OWNER_LABEL
from manywheels.engine._docker import DockerEngine as Engine
from manywheels.errors import StageFailedError
from manywheels.stages._run import Run
from manywheels.stages.build import build

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "cext"
DEMO_FILES = ("pyproject.toml", "MANIFEST.in", "README.md", "src/mwdemo/__init__.py",
              "src/mwdemo/_core.c")
NOXFILE = "import manywheels.nox\n\nmanywheels.nox.register()\n"
PROJECT_LABEL = "io.manywheels.project"

# A before-build that fails for one interpreter only (its output names the planted failure).
FAIL_CP312 = textwrap.dedent("""\
    case "$PYTHON" in
      *cp312*) echo "planted failure for cp312" >&2; exit 3;;
    esac
    """)


# --------------------------------------------------------------------------- helpers


def make_project(parent: Path, name: str = "proj") -> Path:
    """A copy of the demo C-extension project (mwdemo) with the three-line noxfile."""
    project = parent / name
    for relative in DEMO_FILES:
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(DEMO / relative, project / relative)
    (project / "noxfile.py").write_text(NOXFILE)
    return project


def nox_env(image: str, **variables: str) -> dict[str, str]:
    """The environment for a nox run: the host's (no MANYWHEELS_*), the test image, no
    bytecode files (so the noxfile's import does not write the tree)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANYWHEELS_")}
    env.update({"MANYWHEELS_IMAGE": image, "PYTHONDONTWRITEBYTECODE": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    env.update(variables)
    return env


def run_nox(project: Path, *args: str, env: Mapping[str, str],
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``nox --no-color ARGS`` in the project; stdout and stderr together."""
    return subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", *args], cwd=project, env=dict(env),
        text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
        check=False,
    )


def start_nox(project: Path, *args: str, env: Mapping[str, str],
              log: Path) -> subprocess.Popen[bytes]:
    """Start nox in its own process group (as a terminal would), output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "nox", "--no-color", *args], cwd=project, env=dict(env),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             process: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> None:
    """Poll until ``condition()``; fail naming ``what`` (and the log's tail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-4000:] if log else ""
            pytest.fail(f"process exited ({process.returncode}) before {what}:\n{tail}")
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-4000:] if log else ""
    pytest.fail(f"timed out waiting for {what}:\n{tail}")


def project_containers(engine: Engine, project: Path) -> list[str]:
    """Names of containers (running or not) labelled with this project."""
    found = engine.client.containers.list(
        all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
    return [str(c.name) for c in found]


Snapshot = dict[str, tuple[object, ...]]
Chain = tuple[Path, "subprocess.CompletedProcess[str]", Snapshot, Snapshot]


def snapshot(tree: Path, skip: tuple[str, ...] = ()) -> Snapshot:
    """Every path under ``tree`` (but the top-level names in ``skip``): type, mode,
    size, mtime and content hash (link target for links)."""
    result: Snapshot = {}
    for path in sorted(tree.rglob("*")):
        relative = path.relative_to(tree)
        if relative.parts[0] in skip:
            continue
        info = path.lstat()
        if path.is_symlink():
            result[str(relative)] = ("link", os.readlink(path))
        elif path.is_dir():
            result[str(relative)] = ("dir", info.st_mode, info.st_mtime_ns)
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            result[str(relative)] = ("file", info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return result


def stray_files(directory: Path) -> list[str]:
    """Temporary or hidden leftovers in an output directory (the lock file excepted)."""
    if not directory.exists():
        return []
    return sorted(
        str(p.relative_to(directory)) for p in directory.rglob("*")
        if (p.name.startswith(".") and p.name != LOCK_NAME) or ".tmp" in p.name
    )


def report(project: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (project / "wheelhouse" / "manywheels-report.json").read_text())
    return data


def build_status(project: Path, identifier: str) -> object:
    targets = report(project)["targets"]
    assert isinstance(targets, dict)
    return targets[identifier]["stages"]["build"]["status"]


# --------------------------------------------------------------------------- partial failure


@pytest.fixture(scope="module")
def partial_chain(test_image: str, tmp_path_factory: pytest.TempPathFactory,
                  ) -> Chain:
    """``nox -s wheels`` over cp311, cp312, cp313 where cp312's build fails; the project
    tree is snapshotted before and after (the test-command uses the {project} copy)."""
    project = make_project(tmp_path_factory.mktemp("partial"))
    (project / "tests").mkdir()
    (project / "tests" / "check.py").write_text(
        "import mwdemo._core as c\nassert c.add(2, 3) == 5\nprint('checked')\n")
    env = nox_env(test_image, MANYWHEELS_PYTHON="cp311 cp312 cp313", MANYWHEELS_JOBS="2",
                  MANYWHEELS_BEFORE_BUILD=FAIL_CP312,
                  MANYWHEELS_TEST_COMMAND="python {project}/tests/check.py")
    before = snapshot(project)
    result = run_nox(project, "-s", "wheels", env=env)
    after = snapshot(project, skip=("dist", "wheelhouse"))
    return project, result, before, after


def test_one_failing_identifier_keeps_the_others(partial_chain: Chain) -> None:
    project, result, _, _ = partial_chain
    out = result.stdout
    assert result.returncode == 1, out[-6000:]
    assert "Traceback" not in out
    raw = sorted(p.name for p in (project / "dist").glob("*.whl"))
    assert [n.split("-")[2] for n in raw] == ["cp311", "cp313"], raw
    # The chain went on: the wheels that built were repaired and tested.
    repaired = sorted(p.name for p in (project / "wheelhouse").glob("*.whl"))
    assert [n.split("-")[2] for n in repaired] == ["cp311", "cp313"], out[-6000:]
    assert build_status(project, "cp312-manylinux_x86_64") == "failed"
    targets = report(project)["targets"]
    assert isinstance(targets, dict)
    for identifier in ("cp311-manylinux_x86_64", "cp313-manylinux_x86_64"):
        assert targets[identifier]["stages"]["test"]["status"] == "passed"
    # The summary names the failure, its exit code, its log and its last line.
    log = project / "wheelhouse" / "logs" / "cp312-manylinux_x86_64" / "build.log"
    line = next(line for line in out.splitlines()
                if "cp312-manylinux_x86_64" in line and "failed" in line)
    assert "exit code 3" in line, line
    assert str(log) in out.replace("\n", "") or str(log) in line
    assert "planted failure for cp312" in log.read_text()
    assert "build failed for 1 identifier(s): cp312-manylinux_x86_64" in out
    assert stray_files(project / "dist") == [] and stray_files(project / "wheelhouse") == []


def test_project_tree_is_never_written(partial_chain: Chain) -> None:
    """The sdist is built from a copy (setuptools writes *.egg-info), wheels from the
    sdist, the test-command's {project} is a copy: only dist/ and wheelhouse/ appear."""
    project, result, before, after = partial_chain
    assert "checked" in (project / "wheelhouse" / "logs" / "cp311-manylinux_x86_64"
                         / "test.log").read_text(), result.stdout[-4000:]
    assert after == before
    assert not list(project.rglob("*.egg-info"))
    assert sorted(p.name for p in project.iterdir()) == sorted(
        [*{Path(f).parts[0] for f in DEMO_FILES}, "noxfile.py", "tests", "dist", "wheelhouse"])


def test_fail_fast_stops_the_others(test_image: str, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    config = load_config(project, env={}, overrides={
        "image": test_image, "python": ["cp311", "cp312", "cp313"], "jobs": 1,
        "fail_fast": True, "before_build": FAIL_CP312.replace("cp312", "cp311"),
    })
    console = StringIO()
    with Run(config, UI(Console(file=console, width=200), echo=False)) as run, \
            pytest.raises(StageFailedError) as caught:
        build(run)
    assert caught.value.failures.keys() == {"cp311-manylinux_x86_64"}
    text = console.getvalue()
    for skipped in ("cp312-manylinux_x86_64", "cp313-manylinux_x86_64"):
        assert any(skipped in line and "skipped" in line and "fail-fast" in line
                   for line in text.splitlines()), text
    assert not list((project / "dist").glob("*.whl"))


# --------------------------------------------------------------------------- concurrent runs


def test_concurrent_run_fails_fast_on_the_lock(test_image: str, tmp_path: Path) -> None:
    """A second run on the same dist-dir/output-dir fails at once (exit 9) naming the
    directory and the first run's pid; the first run finishes unharmed."""
    project = make_project(tmp_path)
    env = nox_env(test_image, MANYWHEELS_PYTHON="cp312",
                  MANYWHEELS_BEFORE_BUILD="sleep 15")
    log = tmp_path / "first.log"
    first = start_nox(project, "-s", "wheels-build", env=env, log=log)
    try:
        lock = project / "dist" / LOCK_NAME
        wait_for(lambda: lock.is_file() and lock.stat().st_size > 0, 120, "the first run's lock",
                 first, log)
        second = run_nox(project, "-s", "wheels-build", env=env, timeout=120)
        assert first.poll() is None, "the first run ended before the second was refused"
        assert second.returncode == 9, second.stdout[-4000:]
        assert "Traceback" not in second.stdout
        line = next(line for line in second.stdout.splitlines() if "in use by" in line)
        assert str(project / "dist") in line and f"pid {first.pid}" in line, line
        assert first.wait(timeout=300) == 0, log.read_text()[-4000:]
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    wheels = sorted(p.name for p in (project / "dist").glob("*.whl"))
    assert len(wheels) == 1 and "cp312" in wheels[0]
    # The lock is free again: a third run may proceed.
    third = run_nox(project, "-s", "wheels-repair", env=env)
    assert third.returncode == 0, third.stdout[-4000:]


# --------------------------------------------------------------------------- leftovers


CRASH = """
import os, signal, sys
from manywheels.config import load_config
from manywheels.stages._run import Run
from manywheels._ui import UI
config = load_config(sys.argv[1], env={}, overrides={"image": sys.argv[2]})
run = Run(config, UI(echo=False))
print(run.container().name, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # a crash: no cleanup runs
"""


def test_leftovers_of_a_crashed_run_are_reported_then_removed(
    engine: Engine, test_image: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path)
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(project), test_image],
                             text=True, stdout=subprocess.PIPE, check=False)
    assert crashed.returncode == -signal.SIGKILL
    name = crashed.stdout.strip()
    assert project_containers(engine, project) == [name]
    assert engine.client.containers.get(name).labels[OWNER_LABEL]

    # A live run of this process: its container is never reported nor removed.
    live = Run(load_config(project, env={}, overrides={"image": test_image}), UI(echo=False))
    try:
        live_name = live.container().name

        def start_run(remove: bool) -> str:
            console = StringIO()
            overrides = {"image": test_image, "remove_leftovers": remove}
            with Run(load_config(project, env={}, overrides=overrides),
                     UI(Console(file=console, width=400), echo=False)) as run:
                run.container()
            return console.getvalue()

        reported = start_run(remove=False)
        assert name in reported and "--remove-leftovers" in reported, reported
        assert live_name not in reported
        assert name in project_containers(engine, project)

        removed = start_run(remove=True)
        line = next(line for line in removed.splitlines() if "removed" in line)
        assert "left behind by crashed earlier runs" in line and name in line, removed
        assert live_name not in removed
        remaining = project_containers(engine, project)
        assert name not in remaining and live_name in remaining
        assert engine.client.containers.list(all=True, filters={"label": f"{LABEL}=1",
                                                                  "name": name}) == []
    finally:
        live.close()
    assert project_containers(engine, project) == []
