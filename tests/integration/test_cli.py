"""The `manywheels` command against real containers: plan and matrix read the image,
init + matrix + the workflow's job command fan a build out, and the exported script
builds repaired wheels with nothing but `docker run`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from manywheels.engine._docker import DockerEngine as Engine
from manywheels.engine._docker import find_ca_bundle
from manywheels.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
CEXT = ROOT / "examples" / "cext"


def copy_project(tmp_path: Path, requires_python: str | None = None) -> Path:
    project = tmp_path / "cext"
    shutil.copytree(CEXT, project, ignore=shutil.ignore_patterns(
        "dist", "wheelhouse", "*.egg-info", "__pycache__", "build"))
    if requires_python:
        pyproject = project / "pyproject.toml"
        pyproject.write_text(re.sub(r'requires-python = "[^"]*"',
                                    f'requires-python = "{requires_python}"',
                                    pyproject.read_text()))
    return project


def run(cwd: Path, *args: str, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("MANYWHEELS_", "INVOKE_"))}
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=environ, text=True,
                          capture_output=True, check=False, timeout=900)


def image_pythons(engine: Engine, image: str) -> list[str]:
    out = engine.client.containers.run(image, ["ls", "-1", "/opt/python"], remove=True)
    names = out.decode().split()
    return sorted((n.split("-")[0] for n in names if re.fullmatch(r"cp3\d+-cp3\d+", n)),
                  key=lambda tag: int(tag[3:]))


def leftovers(engine: Engine, project: Path) -> list[object]:
    return list(engine.client.containers.list(
        all=True, filters={"label": f"io.manywheels.project={project}"}))


def wheel_pythons(directory: Path) -> set[str]:
    found = set()
    for wheel in directory.glob("*.whl"):
        tags = parse_wheel_filename(wheel.name)[3]
        assert all(t.platform.startswith("manylinux_") or t.platform.startswith("manylinux1")
                   for t in tags), wheel.name
        found |= {t.interpreter for t in tags}
    return found


def test_plan_lists_identifiers_interpreters_and_image(tmp_path: Path, test_image: str,
                                                       engine: Engine) -> None:
    project = copy_project(tmp_path, ">=3.11")
    expected = [t for t in image_pythons(engine, test_image) if int(t[3:]) >= 11]
    result = run(project, "manywheels", "plan", "--image", test_image, "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["checked"] is True
    assert [t["python"] for t in plan["targets"]] == expected
    first = plan["targets"][0]
    tag = first["python"]
    assert first == {
        "identifier": f"{tag}-manylinux_x86_64", "python": tag,
        "interpreter": f"/opt/python/{tag}-{tag}/bin/python",
        "image": test_image, "plat": "manylinux_2_36_x86_64",
    }
    text = run(project, "manywheels", "plan", "--image", test_image)
    assert text.returncode == 0
    assert f"/opt/python/{tag}-{tag}/bin/python" in text.stdout
    assert leftovers(engine, project) == []


def test_plan_names_what_the_image_has(tmp_path: Path, test_image: str) -> None:
    result = run(copy_project(tmp_path), "manywheels", "plan", "--image", test_image,
                 "--python", "cp36")
    assert result.returncode == ExitCode.CONFIG
    assert "Traceback" not in result.stderr
    assert re.search(r"manywheels: error: python tag cp36 is not in image .*; the image has: cp3",
                     result.stderr)


def test_matrix_reads_the_image_when_python_is_not_configured(
    tmp_path: Path, test_image: str, engine: Engine
) -> None:
    project = copy_project(tmp_path)
    result = run(project, "manywheels", "matrix", "--format", "github",
                 env={"MANYWHEELS_IMAGE": test_image})
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)["include"]
    expected = [t for t in image_pythons(engine, test_image) if int(t[3:]) >= 9]
    assert [e["python"] for e in entries] == expected
    assert [e["identifiers"] for e in entries] == [f"{t}-manylinux_x86_64" for t in expected]
    assert leftovers(engine, project) == []


def test_init_then_one_matrix_job_as_the_workflow_runs_it(tmp_path: Path,
                                                          test_image: str) -> None:
    """`manywheels init`, then what the workflow does on one runner: take a matrix entry
    and run `nox -s wheels -- --python ${{ matrix.python }}`."""
    project = copy_project(tmp_path)
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text().replace("[tool.manywheels]\n", "")
        .replace("test-command", "# moved below\n#test-command")
    )
    assert run(project, "manywheels", "init").returncode == 0
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        "# python = ", 'python = ["cp311", "cp312", "cp313"]\n# python = ', 1))
    workflow = (project / ".github" / "workflows" / "wheels.yml").read_text()
    assert "nox -s wheels -- --python ${{ matrix.python }}" in workflow

    listed = run(project, "nox", "-l")
    assert "- wheels-build" in listed.stdout

    env = {"MANYWHEELS_IMAGE": test_image}
    matrix = run(project, "manywheels", "matrix", "--group-size", "2", env=env)
    assert matrix.returncode == 0, matrix.stderr
    entries = json.loads(matrix.stdout)["include"]
    assert [e["python"] for e in entries] == ["cp311 cp312", "cp313"]

    job = run(project, "nox", "-s", "wheels", "--", "--python", *entries[0]["python"].split(),
              env=env)
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-6000:]
    assert wheel_pythons(project / "wheelhouse") == {"cp311", "cp312"}


def test_cli_wheels_builds_repairs_and_tests(tmp_path: Path, test_image: str,
                                            engine: Engine) -> None:
    """`manywheels wheels --python A B`: the chain as a command, flags as for nox."""
    project = copy_project(tmp_path)
    result = run(project, "manywheels", "wheels", "--python", "cp311", "cp312",
                 "--image", test_image)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert wheel_pythons(project / "wheelhouse") == {"cp311", "cp312"}
    report = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    assert sorted(report["targets"]) == ["cp311-manylinux_x86_64", "cp312-manylinux_x86_64"]
    for target in report["targets"].values():
        assert {target["stages"][s]["status"] for s in ("build", "repair", "test")} == {
            "passed"}
    # The closing line: counts per status and the absolute output-dir (issue 14).
    assert "manywheels: wheels: 2 " in result.stdout, result.stdout
    assert f"2 wheel(s) in {(project / 'wheelhouse').resolve()}" in result.stdout
    assert leftovers(engine, project) == []


def test_cli_stages_alone_and_a_failed_identifier(tmp_path: Path, test_image: str,
                                                  engine: Engine) -> None:
    """The stages one by one, with nox's exit codes: identifiers that fail do not stop
    `manywheels wheels` for the others, which exits 1 at the end."""
    project = copy_project(tmp_path)
    env = {"MANYWHEELS_IMAGE": test_image, "MANYWHEELS_PYTHON": "cp311 cp312",
           "MANYWHEELS_BEFORE_BUILD":
               "python -c 'import sys; sys.exit(sys.version_info[:2] == (3, 11))'"}
    chained = run(project, "manywheels", "wheels", env=env)
    assert chained.returncode == ExitCode.STAGE_FAILED, chained.stderr[-4000:]
    assert "build failed for 1 identifier(s): cp311-manylinux_x86_64" in chained.stderr
    assert chained.stderr.strip().splitlines()[-1].startswith(
        "manywheels: error: build, repair and test finished with failed identifiers")
    assert wheel_pythons(project / "wheelhouse") == {"cp312"}

    alone = run(project, "manywheels", "build", env=env)
    assert alone.returncode == ExitCode.STAGE_FAILED
    assert alone.stderr.strip().splitlines()[-1].startswith("manywheels: error: build failed")
    for wheel in (project / "wheelhouse").glob("*.whl"):  # the run record stays
        wheel.unlink()
    repaired = run(project, "manywheels", "repair", env=env)
    assert repaired.returncode == 0, repaired.stderr[-4000:]
    assert wheel_pythons(project / "wheelhouse") == {"cp312"}
    nothing = run(project, "manywheels", "test", "--output-dir", "elsewhere", env=env)
    assert nothing.returncode == ExitCode.NOTHING_TO_DO, nothing.stderr[-4000:]
    assert leftovers(engine, project) == []


def test_troubleshoot_reports_a_failed_build(tmp_path: Path, test_image: str) -> None:
    project = copy_project(tmp_path)
    (project / "noxfile.py").write_text("import manywheels.nox\n\nmanywheels.nox.register()\n")
    env = {"MANYWHEELS_IMAGE": test_image, "MANYWHEELS_PYTHON": "cp312",
           "MANYWHEELS_BEFORE_BUILD": "echo 'fatal error: missing.h: No such file' >&2; exit 1"}
    assert run(project, "nox", "-s", "wheels-build", env=env).returncode != 0
    result = run(project, "manywheels", "troubleshoot", "--json", env=env)
    assert result.returncode in {0, 1}, result.stderr
    document = json.loads(result.stdout)
    assert document["project_dir"] == str(project)
    assert document["findings"], document
    text = run(project, "manywheels", "troubleshoot", env=env)
    assert "fix:" in text.stderr + text.stdout


def docker_run(project: Path, image: str) -> subprocess.CompletedProcess[str]:
    command = ["docker", "run", "--rm", "-v", f"{project}:/io"]
    ca = find_ca_bundle()
    if ca is not None:
        command += ["-v", f"{ca}:/ca.crt:ro", "-e", "PIP_CERT=/ca.crt",
                    "-e", "SSL_CERT_FILE=/ca.crt"]
    command += [image, "bash", "/io/build-wheels.sh"]
    return subprocess.run(command, text=True, capture_output=True, check=False, timeout=900)


def test_exported_script_builds_repaired_tested_wheels(tmp_path: Path, test_image: str) -> None:
    project = copy_project(tmp_path)
    exported = run(project, "manywheels", "export-script", "--python", "cp311", "cp312",
                   "-o", "build-wheels.sh")
    assert exported.returncode == 0, exported.stderr
    before = sorted(str(p.relative_to(project)) for p in project.rglob("*"))
    if os.geteuid() == 0:
        os.chown(project, 4321, 4321)

    result = docker_run(project, test_image)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert wheel_pythons(project / "wheelhouse") == {"cp311", "cp312"}
    # The test-command printed the extension's path: installed from the wheel, in a venv.
    assert len(re.findall(r"/venv/lib/python3\.\d+/site-packages/mwdemo/_core\.cpython",
                          result.stdout)) == 2
    assert sorted(p.name for p in (project / "dist").iterdir()) == [
        "mwdemo-0.1.0-cp311-cp311-linux_x86_64.whl",
        "mwdemo-0.1.0-cp312-cp312-linux_x86_64.whl",
        "mwdemo-0.1.0.tar.gz",
    ]
    after = sorted(str(p.relative_to(project)) for p in project.rglob("*")
                   if p.parts[len(project.parts)] not in {"wheelhouse", "dist"})
    assert after == before  # the mounted tree got only the outputs
    if os.geteuid() == 0:
        for path in [*(project / "wheelhouse").iterdir(), *(project / "dist").iterdir()]:
            assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4321), path


def test_exported_script_picks_pythons_from_the_image(tmp_path: Path, test_image: str,
                                                      engine: Engine) -> None:
    project = copy_project(tmp_path, ">=3.12")
    (project / "build-wheels.sh").write_text(
        run(project, "manywheels", "export-script").stdout)
    result = docker_run(project, test_image)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    expected = {t for t in image_pythons(engine, test_image) if int(t[3:]) >= 12}
    assert wheel_pythons(project / "wheelhouse") == expected


def test_exported_script_stops_on_a_failing_test(tmp_path: Path, test_image: str) -> None:
    project = copy_project(tmp_path)
    script = run(project, "manywheels", "export-script", "--python", "cp312",
                 "--test-command", "python -c 'raise SystemExit(3)'").stdout
    (project / "build-wheels.sh").write_text(script)
    result = docker_run(project, test_image)
    assert result.returncode == 3
    assert "cp312-manylinux_x86_64: test" in result.stderr


# ------------------------------------------------------------------ remote engines


@pytest.fixture
def tcp_engine() -> Iterator[str]:
    """The local engine re-exposed at tcp://127.0.0.1:PORT by a byte-pumping proxy: to
    manywheels it is a remote engine (no shared filesystem is assumed either way)."""
    host = os.environ.get("DOCKER_HOST", "")
    sock_path = host[len("unix://"):] if host.startswith("unix://") else "/var/run/docker.sock"
    if not Path(sock_path).exists():
        pytest.fail(f"this test re-exposes a local engine's unix socket over tcp; none at "
                    f"{host or sock_path}")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(32)
    server.settimeout(0.2)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                continue
            client.settimeout(None)
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(sock_path)
            conns.extend((client, upstream))
            threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in conns:
        conn.close()
    server.close()


def test_fast_commands_keep_their_output_over_tcp(test_image: str, tcp_engine: str) -> None:
    """docker-py loses output that arrives with the HTTP upgrade response (docker-py#2042,
    #3332): over TCP a fast `ls /opt/python` printed nothing about one time in three.
    Every command now waits for the client to hold the stream before it runs."""
    remote = Engine.connect({"DOCKER_HOST": tcp_engine})
    try:
        with remote.container(test_image, labels={"io.manywheels.test": "tcp-output"}) as box:
            listings = [box.output(["ls", "-1", "/opt/python"]) for _ in range(30)]
            assert box.run(["sh", "-c", "exit 3"], check=False) == 3
            assert box.output(["sh", "-c", "cat; echo done"]) == "done"  # stdin is empty
    finally:
        remote.close()
    assert all("cp312-cp312" in listing for listing in listings), listings


def test_remote_engine_over_tcp(tmp_path: Path, test_image: str, tcp_engine: str,
                                engine: Engine) -> None:
    project = copy_project(tmp_path)
    (project / "noxfile.py").write_text("import manywheels.nox\n\nmanywheels.nox.register()\n")
    env = {"DOCKER_HOST": tcp_engine, "MANYWHEELS_IMAGE": test_image}
    plan = run(project, "manywheels", "plan", "--python", "cp312", "--format", "json", env=env)
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["checked"] is True
    job = run(project, "nox", "-s", "wheels", "--", "--python", "cp312", env=env)
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-6000:]
    assert wheel_pythons(project / "wheelhouse") == {"cp312"}
    assert leftovers(engine, project) == []


def test_docker_context(tmp_path: Path, test_image: str, tcp_engine: str) -> None:
    """A `docker context` selects the engine when DOCKER_HOST is unset."""
    assert shutil.which("docker"), "the docker CLI is needed to create a context"
    config_dir = tmp_path / "docker-config"
    env = {"DOCKER_CONFIG": str(config_dir)}
    environ = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    environ.update(env)
    for command in (["context", "create", "mw-remote", "--docker", f"host={tcp_engine}"],
                    ["context", "use", "mw-remote"]):
        subprocess.run(["docker", *command], env=environ, check=True, capture_output=True)
    project = copy_project(tmp_path)
    result = run(project, "manywheels", "plan", "--image", test_image, "--python", "cp312",
                 env={**env, "DOCKER_HOST": ""})
    assert result.returncode == 0, result.stderr
    broken = env | {"DOCKER_HOST": ""}
    subprocess.run(["docker", "context", "create", "mw-nowhere", "--docker",
                    "host=tcp://127.0.0.1:9"], env=environ, check=True, capture_output=True)
    subprocess.run(["docker", "context", "use", "mw-nowhere"], env=environ, check=True,
                   capture_output=True)
    refused = run(project, "manywheels", "plan", "--image", test_image, env=broken)
    assert refused.returncode == ExitCode.ENGINE
    assert "tcp://127.0.0.1:9" in refused.stderr
