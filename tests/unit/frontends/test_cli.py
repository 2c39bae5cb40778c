"""The `manywheels` command without a container engine: matrix, export-script, errors,
exit codes and signals (real subprocesses of the console entry point)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from manywheels.errors import ExitCode
from manywheels.frontends._cli import main

NO_ENGINE = "unix:///nonexistent/docker.sock"


def project(tmp_path: Path, table: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\nrequires-python = ">=3.10"\n'
        f"[tool.manywheels]\n{table}\n"
    )
    return tmp_path


def manywheels(cwd: Path, *args: str, env: dict[str, str] | None = None,
               ) -> subprocess.CompletedProcess[str]:
    """Run `python -m manywheels` (the console script's code) in a subprocess."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MANYWHEELS_")}
    environ.update({"DOCKER_HOST": NO_ENGINE, **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "manywheels", *args], cwd=cwd, env=environ, text=True,
        capture_output=True, check=False, timeout=120,
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int, *parts: str,
                          ) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("manywheels: error: ")
    for part in parts:
        assert part in lines[0]


# ------------------------------------------------------------------ matrix


def test_matrix_with_explicit_python_needs_no_engine(tmp_path: Path) -> None:
    root = project(tmp_path, 'python = ["cp311", "cp312", "cp313"]')
    result = manywheels(root, "matrix", "--format", "github")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1  # one line, for $GITHUB_OUTPUT
    matrix = json.loads(result.stdout)
    assert [e["identifiers"] for e in matrix["include"]] == [
        "cp311-manylinux_x86_64", "cp312-manylinux_x86_64", "cp313-manylinux_x86_64",
    ]


def test_matrix_flags_and_environment_override_pyproject(tmp_path: Path) -> None:
    root = project(tmp_path, 'python = ["cp311"]')
    by_env = manywheels(root, "matrix", env={"MANYWHEELS_PYTHON": "cp312 cp313"})
    assert [e["python"] for e in json.loads(by_env.stdout)["include"]] == ["cp312", "cp313"]
    by_flag = manywheels(root, "matrix", "--python", "3.10", "cp39", "--groups", "1",
                         "--format", "json", env={"MANYWHEELS_PYTHON": "cp312"})
    (entry,) = json.loads(by_flag.stdout)["include"]
    assert entry["python"] == "cp39 cp310"
    assert entry["name"] == "cp39-cp310-manylinux_x86_64"


def test_matrix_without_python_and_without_engine(tmp_path: Path) -> None:
    result = manywheels(project(tmp_path), "matrix")
    assert_one_error_line(result, ExitCode.ENGINE, "python is not configured", "--python")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "code", "part"),
    [
        (["matrix", "--python", "cp99"], ExitCode.CONFIG, "invalid python tag 'cp99'"),
        (["matrix", "--bogus"], ExitCode.CONFIG, "unrecognized arguments: --bogus"),
        (["matrix", "--python", "cp312", "--groups", "0"], ExitCode.CONFIG, "--groups"),
        (["frobnicate"], ExitCode.CONFIG, "invalid choice: 'frobnicate'"),
        ([], ExitCode.CONFIG, "required: COMMAND"),
        (["plan", "--frontend", "setuptools"], ExitCode.CONFIG, "frontend"),
        (["plan", "--project-dir", "/nonexistent"], ExitCode.PROJECT, "/nonexistent"),
        (["troubleshoot", "--min-free-gib", "-1"], ExitCode.CONFIG, "--min-free-gib"),
        (["troubleshoot", "--min-free-gib", "lots"], ExitCode.CONFIG, "invalid float value"),
    ],
)
def test_bad_input_is_one_line_and_a_distinct_code(
    tmp_path: Path, args: list[str], code: int, part: str
) -> None:
    assert_one_error_line(manywheels(project(tmp_path), *args), code, part)


def test_not_a_project(tmp_path: Path) -> None:
    result = manywheels(tmp_path, "export-script")
    assert_one_error_line(result, ExitCode.PROJECT, "not a Python project")


def test_bad_pyproject_value(tmp_path: Path) -> None:
    result = manywheels(project(tmp_path, 'jobs = "many"'), "export-script")
    assert_one_error_line(result, ExitCode.CONFIG, "jobs (pyproject.toml)")


def test_help_lists_commands_and_config_flags(tmp_path: Path) -> None:
    top = manywheels(tmp_path, "--help")
    assert top.returncode == 0
    for command in ("plan", "matrix", "init", "export-script", "troubleshoot"):
        assert command in top.stdout
    sub = manywheels(tmp_path, "matrix", "--help")
    for flag in ("--python", "--image", "--plat", "--project-dir", "--group-size", "--format"):
        assert flag in sub.stdout


def test_main_returns_codes_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(project(tmp_path, 'python = ["cp312"]'))
    assert main(["matrix"]) == 0
    assert json.loads(capsys.readouterr().out)["include"][0]["python"] == "cp312"
    assert main(["matrix", "--python", "nope"]) == ExitCode.CONFIG
    assert capsys.readouterr().err.startswith("manywheels: error: invalid python tag")


# ------------------------------------------------------------------ export-script


def test_export_script_renders_the_configuration(tmp_path: Path) -> None:
    root = project(tmp_path, 'python = ["cp312", "cp311"]\n'
                             'test-command = "python -c \'import demo\' {wheel} {project}"\n'
                             'test-requires = ["pytest>=8"]\ntest-extras = ["fast"]\n'
                             'environment = { CFLAGS = "-O1 -g" }\n'
                             'before-all = "echo once"\nbefore-build = "echo each"')
    result = manywheels(root, "export-script", "--image", "quay.io/pypa/manylinux_2_28_x86_64")
    assert result.returncode == 0, result.stderr
    script = result.stdout
    assert script.startswith("#!/bin/bash\n")
    assert "docker run --rm -v \"$PWD\":/io quay.io/pypa/manylinux_2_28_x86_64 bash" in script
    assert "PYTHONS=(cp311 cp312)" in script
    assert "export CFLAGS='-O1 -g'" in script
    assert "echo once" in script
    assert "echo each" in script
    assert '"$WHEEL[fast]" \'pytest>=8\'' in script
    assert """python -c 'import demo' "$WHEEL" "$PROJECT"
""" in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_export_script_without_python_picks_at_run_time(tmp_path: Path) -> None:
    script = manywheels(project(tmp_path), "export-script").stdout
    assert "PYTHONS=()" in script
    assert "REQUIRES_PYTHON='>=3.10'" in script
    assert 'PLAT="${AUDITWHEEL_PLAT:-}"' in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


@pytest.mark.parametrize("frontend", ["build", "pip", "uv"])
def test_export_script_frontends(tmp_path: Path, frontend: str) -> None:
    script = manywheels(project(tmp_path), "export-script", "--frontend", frontend).stdout
    expected = {"build": "-m build --wheel", "pip": "-m pip wheel", "uv": "uv build --wheel"}
    assert expected[frontend] in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_export_script_to_a_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = manywheels(root, "export-script", "-o", "build-wheels.sh")
    assert first.returncode == 0, first.stderr
    path = root / "build-wheels.sh"
    assert os.access(path, os.X_OK)
    assert manywheels(root, "export-script", "-o", "build-wheels.sh").returncode == 0  # same
    changed = manywheels(root, "export-script", "-o", "build-wheels.sh", "--python", "cp312")
    assert_one_error_line(changed, ExitCode.CONFIG, "exists; use --force")
    assert "PYTHONS=()" in path.read_text()
    forced = manywheels(root, "export-script", "-o", "build-wheels.sh", "--python", "cp312",
                        "--force")
    assert forced.returncode == 0
    assert "PYTHONS=(cp312)" in path.read_text()
    assert not [p for p in root.iterdir() if p.name.startswith(".build-wheels.sh.")]


def test_export_script_refuses_outputs_outside_the_project(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    root = project(tmp_path / "p")
    result = manywheels(root, "export-script", "--output-dir", str(tmp_path / "out"))
    assert_one_error_line(result, ExitCode.CONFIG, "outside the project")


# ------------------------------------------------------------------ signals


@pytest.fixture
def silent_engine() -> Iterator[str]:
    """A TCP "engine" that accepts connections and never answers: the CLI hangs in its
    first request until a signal arrives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGINT, ExitCode.SIGINT, "interrupted"),
     (signal.SIGTERM, ExitCode.SIGTERM, "terminated by SIGTERM")],
)
def test_signals_exit_130_and_143(tmp_path: Path, silent_engine: str, sig: int, code: int,
                                  word: str) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MANYWHEELS_")}
    environ["DOCKER_HOST"] = silent_engine
    process = subprocess.Popen(
        [sys.executable, "-m", "manywheels", "plan"], cwd=project(tmp_path), env=environ,
        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    time.sleep(2.0)  # imports done, waiting for the engine's answer
    assert process.poll() is None
    process.send_signal(sig)
    _, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    assert "Traceback" not in err
    assert err.strip() == f"manywheels: {word}"
