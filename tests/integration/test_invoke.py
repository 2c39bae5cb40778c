"""The invoke collection in fresh projects, with real `invoke` subprocesses and real
containers: listing, the build -> repair -> test chain, configuration layers, flags,
dry runs and errors."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from manywheels.engine._docker import DockerEngine as Engine

ROOT = Path(__file__).resolve().parents[2]
CEXT = ROOT / "examples" / "cext"

TASKS_ADD = """\
from invoke import Collection

import manywheels.invoke

ns = Collection()
ns.add_collection(manywheels.invoke.ns)
"""

TASKS_SHOW = """\
from invoke import Collection, task

import manywheels.invoke


@task
def show(c, image=None):
    config = manywheels.invoke.resolve_config(c, {"image": image})
    print(config.image, config.sources["image"], config.jobs)


ns = Collection(manywheels.invoke.ns, show)
ns.configure({"wheels": {"image": "from-ns", "jobs": 3}})
"""


def copy_project(tmp_path: Path, tasks: str = TASKS_ADD) -> Path:
    project = tmp_path / "cext"
    shutil.copytree(CEXT, project, ignore=shutil.ignore_patterns(
        "dist", "wheelhouse", "*.egg-info", "__pycache__", "build"))
    (project / "tasks.py").write_text(tasks)
    return project


def invoke(cwd: Path, *args: str, env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("MANYWHEELS_", "INVOKE_"))}
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, env=environ,
                          text=True, capture_output=True, check=False, timeout=900)


def leftovers(engine: Engine, project: Path) -> list[object]:
    return list(engine.client.containers.list(
        all=True, filters={"label": f"io.manywheels.project={project}"}))


def test_invoke_list_shows_the_collection(tmp_path: Path) -> None:
    result = invoke(copy_project(tmp_path), "--list")
    assert result.returncode == 0, result.stderr
    for name in ("wheels.all (wheels)", "wheels.build", "wheels.repair", "wheels.test",
                 "wheels.publish", "wheels.troubleshoot", "wheels.clean-cache"):
        assert name in result.stdout
    helped = invoke(copy_project(tmp_path / "h"), "--help", "wheels.build")
    for flag in ("--python", "--image", "--plat", "--test-command", "--dry-run", "--fail-fast"):
        assert flag in helped.stdout


def test_invoke_wheels_builds_repairs_and_tests(tmp_path: Path, test_image: str,
                                                engine: Engine) -> None:
    project = copy_project(tmp_path)
    result = invoke(project, "wheels", env={
        "MANYWHEELS_IMAGE": test_image, "INVOKE_WHEELS_PYTHON": "cp311 cp312",
    })
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    wheels = sorted((project / "wheelhouse").glob("*.whl"))
    assert [parse_wheel_filename(w.name)[3] for w in wheels]
    pythons = set()
    for wheel in wheels:
        tags = parse_wheel_filename(wheel.name)[3]
        assert all(t.platform.startswith("manylinux") for t in tags), wheel.name
        pythons |= {t.interpreter for t in tags}
    assert pythons == {"cp311", "cp312"}
    report = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    for identifier in ("cp311-manylinux_x86_64", "cp312-manylinux_x86_64"):
        stages = report["targets"][identifier]["stages"]
        assert {stages[s]["status"] for s in ("build", "repair", "test")} == {"passed"}
        assert (project / "wheelhouse" / "logs" / identifier / "test.sh").is_file()
    # The test-command ran (its log; the console has one line per identifier: issue 14).
    test_log = project / "wheelhouse" / "logs" / "cp311-manylinux_x86_64" / "test.log"
    assert "import mwdemo._core" in test_log.read_text()
    assert "manywheels: test cp311-manylinux_x86_64 passed" in result.stderr + result.stdout
    assert leftovers(engine, project) == []


def test_configuration_layers(tmp_path: Path) -> None:
    project = copy_project(tmp_path, TASKS_SHOW)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'image = "from-toml"\n')

    def show(*flags: str, **env: str) -> str:
        result = invoke(project, "show", *flags, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert show() == "from-ns invoke config 3"
    (project / "invoke.yaml").write_text("wheels:\n  image: from-yaml\n")
    assert show() == "from-yaml invoke config 3"
    assert show(INVOKE_WHEELS_IMAGE="from-invoke-env") == "from-invoke-env invoke config 3"
    assert show(INVOKE_WHEELS_IMAGE="x", MANYWHEELS_IMAGE="from-env") == (
        "from-env MANYWHEELS_IMAGE 3")
    assert show("--image", "from-flag", MANYWHEELS_IMAGE="from-env") == (
        "from-flag command line 3")
    assert show(INVOKE_WHEELS_JOBS="5") == "from-yaml invoke config 5"


def test_flags_reach_the_stage_and_dry_run_writes_nothing(tmp_path: Path,
                                                          test_image: str) -> None:
    project = copy_project(tmp_path)
    result = invoke(project, "wheels.build", "--python", "cp311", "--dry-run",
                    env={"MANYWHEELS_IMAGE": test_image})
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("# ---- manywheels dry run:") == 1
    assert "PYTHON=/opt/python/cp311-cp311/bin/python" in result.stdout
    assert "SDIST=/manywheels/sdist/mwdemo-0.1.0.tar.gz" in result.stdout
    assert not (project / "dist").exists()
    assert not (project / "wheelhouse").exists()


def test_invoke_yaml_configures_the_whole_chain(tmp_path: Path, test_image: str) -> None:
    project = copy_project(tmp_path)
    (project / "invoke.yaml").write_text(
        f"wheels:\n  python: cp312\n  dry_run: true\n  image: {test_image}\n"
    )
    result = invoke(project, "wheels")
    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if line.startswith("# ---- ")]
    assert headers == [
        "# ---- manywheels dry run: cp312-manylinux_x86_64 build.sh ----",
        "# ---- manywheels dry run: cp312-manylinux_x86_64 repair.sh ----",
        "# ---- manywheels dry run: cp312-manylinux_x86_64 test.sh ----",
    ]
    assert "import mwdemo._core" in result.stdout  # the test-command, in test.sh
    assert not (project / "dist").exists()
    assert not (project / "wheelhouse").exists()


@pytest.mark.parametrize(
    ("args", "yaml", "code", "part"),
    [
        (["wheels.build", "--python", "cp99"], "", 2, "invalid python tag 'cp99'"),
        (["wheels.build"], "wheels:\n  bogus: 1\n", 2, "unknown key 'bogus'"),
        (["wheels.build", "--jobs", "zero"], "", 2, "jobs (command line)"),
        (["wheels.repair", "--dist-dir", "nothing-here"], "", 7, "no raw wheels to repair"),
        (["wheels.build", "--project-dir", "/nonexistent"], "", 6, "does not exist"),
    ],
)
def test_errors_are_one_line_with_distinct_codes(tmp_path: Path, args: list[str], yaml: str,
                                                 code: int, part: str) -> None:
    project = copy_project(tmp_path)
    if yaml:
        (project / "invoke.yaml").write_text(yaml)
    result = invoke(project, *args, env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if "error" in line]
    assert errors == [lines[-1]], result.stderr  # one error line, the last (after a heading)
    assert lines[-1].startswith("manywheels: error: ")
    assert part in lines[-1]


def test_the_repository_tasks_use_the_collection(test_image: str) -> None:
    listed = invoke(ROOT, "--list")
    assert listed.returncode == 0, listed.stderr
    assert "wheels.build" in listed.stdout
    dry = invoke(ROOT, "wheels.build", "--python", "cp312", "--dry-run",
                 env={"MANYWHEELS_IMAGE": test_image})
    assert dry.returncode == 0, dry.stderr
    assert "SDIST=/manywheels/sdist/mwdemo-0.1.0.tar.gz" in dry.stdout  # examples/cext


def test_the_chain_goes_on_past_a_failed_identifier(tmp_path: Path, test_image: str,
                                                    engine: Engine) -> None:
    """As under nox: cp311 fails to build, cp312 is still repaired and tested; exit 1."""
    project = copy_project(tmp_path)
    (project / "invoke.yaml").write_text(
        "wheels:\n"
        "  python: cp311 cp312\n"
        f"  image: {test_image}\n"
        "  before_build: python -c 'import sys; sys.exit(sys.version_info[:2] == (3, 11))'\n"
    )
    result = invoke(project, "wheels")
    assert result.returncode == 1, result.stderr[-4000:]
    assert "build failed for 1 identifier(s): cp311-manylinux_x86_64" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "manywheels: error: build, repair and test finished with failed identifiers")
    report = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    assert report["targets"]["cp311-manylinux_x86_64"]["stages"]["build"]["status"] == "failed"
    cp312 = report["targets"]["cp312-manylinux_x86_64"]["stages"]
    assert cp312["test"]["status"] == "passed"
    assert [w.name.split("-")[2] for w in (project / "wheelhouse").glob("*.whl")] == ["cp312"]
    assert leftovers(engine, project) == []


def test_troubleshoot_task(tmp_path: Path, test_image: str) -> None:
    project = copy_project(tmp_path)
    result = invoke(project, "wheels.troubleshoot", "--json",
                    env={"MANYWHEELS_IMAGE": test_image})
    assert result.returncode in {0, 1}, result.stderr
    document = json.loads(result.stdout)
    assert document["project_dir"] == str(project)
    assert "findings" in document
    bad = invoke(project, "wheels.troubleshoot", "--min-free-gib=-1")
    assert bad.returncode == 2
    assert "--min-free-gib" in bad.stderr


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupts(tmp_path: Path, sig: int, code: int) -> None:
    server = socket.socket()  # an "engine" that accepts and never answers
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        environ = {k: v for k, v in os.environ.items()
                   if not k.startswith(("MANYWHEELS_", "INVOKE_"))}
        environ["DOCKER_HOST"] = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        process = subprocess.Popen(
            [sys.executable, "-m", "invoke", "wheels.build", "--python", "cp312"],
            cwd=copy_project(tmp_path), env=environ, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        time.sleep(3.0)  # the sdist is built, the engine is being asked
        assert process.poll() is None
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
    finally:
        server.close()
    assert process.returncode == code, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] in {"manywheels: interrupted", "manywheels: terminated"}
