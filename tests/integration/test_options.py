"""Issue 13 (cibuildwheel's per-build options) with real containers, on the pure fixture
project (fast: one pure wheel, repaired by copying)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.errors import StageFailedError
from manywheels.stages._run import Run
from manywheels.stages.build import build
from manywheels.stages.repair import repair
from manywheels.stages.test import test as stage_test
from tests.conftest import PACKAGES, extract_sdist


def purepkg(tmp_path: Path, table: str = "") -> Path:
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    if table:
        with (project / "pyproject.toml").open("a") as stream:
            stream.write(f"\n[tool.manywheels]\n{table}\n")
    return project


def run_all(project: Path, host_env: dict[str, str] | None = None, **overrides: Any) -> Run:
    config = load_config(project, env={}, overrides=overrides)
    with Run(config, UI(echo=False), host_env=host_env) as run:
        build(run)
        repair(run)
        stage_test(run)
    return run


def log(project: Path, identifier: str, stage: str) -> str:
    return (project / "wheelhouse" / "logs" / identifier / f"{stage}.log").read_text()


def test_test_command_with_a_dict_literal_and_shell_braces(test_image: str,
                                                           tmp_path: Path) -> None:
    project = purepkg(tmp_path)
    command = ("python -c 'import json, purepkg; print(\"dict\", json.dumps({1: 2}))' "
               "&& echo \"home=${HOME}\" && test -f {wheel}")
    run_all(project, image=test_image, python=["cp312"], test_command=command)
    text = log(project, "cp312-manylinux_x86_64", "test")
    assert 'dict {"1": 2}' in text
    assert "\nhome=/" in text  # expanded by the shell (the note line shows it as written)


def test_environment_is_expanded_in_the_build_and_kept_out_of_tests(test_image: str,
                                                                     tmp_path: Path) -> None:
    project = purepkg(tmp_path, '''
environment = {PATH = "/opt/x/bin:$PATH", WHERE = "$HOME/w", LIT = "a; b", BUILD_ONLY = "1"}
test-environment = {T_ONLY = "$HOME/t"}
before-build = 'echo "path=$PATH" "where=$WHERE" "lit=$LIT" "id=$CIBUILDWHEEL_BUILD_IDENTIFIER" "mw=$MANYWHEELS" "sde=$SOURCE_DATE_EPOCH"'
test-command = 'echo "id=$MANYWHEELS_BUILD_IDENTIFIER" "cibw=$CIBUILDWHEEL" "t=$T_ONLY" "build=${BUILD_ONLY-unset}" "sde=$SOURCE_DATE_EPOCH"'
''')
    host = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    run_all(project, host, image=test_image, python=["cp312"])
    identifier = "cp312-manylinux_x86_64"
    build_log = log(project, identifier, "build")
    # expanded; the interpreter's directory is put first by the build step
    assert "\npath=/opt/python/cp312-cp312/bin:/opt/x/bin:/" in build_log
    assert "where=/root/w" in build_log and "lit=a; b" in build_log
    assert f"id={identifier}" in build_log and "mw=1" in build_log
    assert "sde=1700000000" in build_log
    test_log = log(project, identifier, "test")
    assert f"\nid={identifier} cibw=1 t=/root/t build=unset sde=1700000000" in test_log


@pytest.fixture(scope="module")
def pyyaml_sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PyYAML 6.0.3's real sdist from PyPI (pinned), as tests/conftest.py's pypi_sdists
    (``--no-binary pyyaml`` only: its build requirements, Cython, come as wheels)."""
    dest = tmp_path_factory.mktemp("pyyaml")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(dest),
         "--no-binary", "pyyaml", "pyyaml==6.0.3"], check=True, stdout=subprocess.DEVNULL,
    )
    (sdist,) = sorted(dest.glob("*.tar.gz"))
    return sdist


def test_repair_command_excluding_libyaml(pyyaml_sdist: Path, test_image: str,
                                          tmp_path: Path) -> None:
    project = extract_sdist(pyyaml_sdist, tmp_path / "src")
    config = load_config(project, env={}, overrides={
        "image": test_image, "python": ["cp312"],
        "before_all": "apt-get update -qq && apt-get install -y -qq libyaml-dev",
        "repair_command": "auditwheel repair --exclude 'libyaml*' --plat {plat} "
                          "-w {dest_dir} {wheel}",
        "test_command": "python -c 'import yaml; assert yaml.__with_libyaml__; "
                        "print(yaml.dump({1: 2}))'",
        "cache": False,
    })
    with Run(config, UI(echo=False)) as run:
        build(run)
        repair(run)
        stage_test(run)
    (wheel,) = sorted(config.output_dir.glob("*.whl"))
    assert "manylinux" in wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert any("_yaml" in n and n.endswith(".so") for n in names)
    assert not [n for n in names if ".libs/" in n], names
    assert "--exclude" in (config.output_dir / "logs" / "cp312-manylinux_x86_64" /
                           "repair.sh").read_text()


def test_test_skip_sources_groups_before_test(test_image: str, tmp_path: Path) -> None:
    project = purepkg(tmp_path, '''
test-skip = ["cp3{11,13}-*"]
test-sources = ["checks"]
test-groups = ["test"]
before-test = "echo before-test-ran-in=$VIRTUAL_ENV"
test-command = "ls checks/data.txt && python -c 'import iniconfig, purepkg; print(42 * 2)'"
''')
    with (project / "pyproject.toml").open("a") as stream:
        stream.write('\n[dependency-groups]\nbase = ["iniconfig"]\n'
                     'test = [{include-group = "base"}]\n')
    (project / "checks").mkdir()
    (project / "checks" / "data.txt").write_text("x")
    run = run_all(project, image=test_image, python=["cp311", "cp312", "cp313"])
    stages = {i: t["stages"]["test"] for i, t in run.report.targets.items()}
    assert stages["cp311-manylinux_x86_64"]["status"] == "skipped"
    assert stages["cp311-manylinux_x86_64"]["reason"] == "test-skip"
    assert stages["cp313-manylinux_x86_64"]["status"] == "skipped"
    assert stages["cp312-manylinux_x86_64"]["status"] == "passed"
    text = log(project, "cp312-manylinux_x86_64", "test")
    assert "before-test-ran-in=/manywheels/cp312-manylinux_x86_64/venv" in text
    assert "\n84\n" in text and "checks/data.txt" in text


def test_test_timeout_stops_a_sleeping_test(test_image: str, tmp_path: Path) -> None:
    project = purepkg(tmp_path)
    config = load_config(project, env={}, overrides={
        "image": test_image, "python": ["cp312"], "test_timeout": 3,
        "test_command": "sleep 1000 & sleep 1001",
    })
    with Run(config, UI(echo=False)) as run:
        build(run)
        repair(run)
        started = time.monotonic()
        with pytest.raises(StageFailedError) as caught:
            stage_test(run)
        assert time.monotonic() - started < 60
        reason = caught.value.failures["cp312-manylinux_x86_64"]
        assert "timed out after 3 s" in reason and "\n" not in reason
        container = run.container(test_image)
        left = container.output(["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"],
                                check=False)
        assert "sleep 100" not in left, left


def test_config_settings_verbosity_and_frontend_args_reach_the_frontend(
        test_image: str, tmp_path: Path) -> None:
    project = purepkg(tmp_path, '''
frontend = "pip; args: --no-clean"
config-settings = {editable_mode = "compat"}
build-verbosity = 1
''')
    run_all(project, image=test_image, python=["cp312"])
    script = (project / "wheelhouse" / "logs" / "cp312-manylinux_x86_64" / "build.sh").read_text()
    expected = ('pip wheel --no-deps --wheel-dir "$OUT" -v '
                "--config-settings=editable_mode=compat --no-clean .")
    assert expected in script
    assert "Created wheel for purepkg" in log(project, "cp312-manylinux_x86_64", "build")


def test_an_override_gives_one_identifier_its_own_test_environment(test_image: str,
                                                                   tmp_path: Path) -> None:
    project = purepkg(tmp_path, '''
test-command = 'echo "flavour=$FLAVOUR"'
test-environment = {FLAVOUR = "plain"}

[[tool.manywheels.overrides]]
select = "cp313-*"
test-environment = {FLAVOUR = "special-$CIBUILDWHEEL_BUILD_IDENTIFIER"}
''')
    run_all(project, image=test_image, python=["cp312", "cp313"])
    assert "\nflavour=plain" in log(project, "cp312-manylinux_x86_64", "test")
    assert "\nflavour=special-cp313-manylinux_x86_64" in log(
        project, "cp313-manylinux_x86_64", "test")


def test_the_exported_script_has_the_same_options(test_image: str, tmp_path: Path) -> None:
    from manywheels.commands._export import render_script
    from manywheels.engine import find_ca_bundle

    project = purepkg(tmp_path, '''
python = ["cp311", "cp312"]
environment = {PATH = "/opt/x/bin:$PATH", LIT = "a; b"}
before-build = 'echo "build path=$PATH lit=$LIT id=$CIBUILDWHEEL_BUILD_IDENTIFIER"'
test-environment = {T = "$HOME/t"}
test-skip = ["cp311-*"]
test-command = 'echo "test t=$T lit=${LIT-unset} id=$MANYWHEELS_BUILD_IDENTIFIER" {wheel}'
''')
    (project / "build-wheels.sh").write_text(render_script(load_config(project, env={})))
    command = ["docker", "run", "--rm", "--label", "io.manywheels.test=options",
               "-v", f"{project}:/io"]
    ca = find_ca_bundle()
    if ca is not None:
        command += ["-v", f"{ca}:/ca.crt:ro", "-e", "PIP_CERT=/ca.crt",
                    "-e", "SSL_CERT_FILE=/ca.crt"]
    result = subprocess.run([*command, test_image, "bash", "/io/build-wheels.sh"], text=True,
                            capture_output=True, check=False, timeout=900)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert "build path=/opt/python/cp312-cp312/bin:/opt/x/bin:/" in out
    assert "lit=a; b id=cp312-manylinux_x86_64" in out
    assert "test t=/root/t lit=unset id=cp312-manylinux_x86_64 /tmp/manywheels/" in out
    assert "cp311-manylinux_x86_64: test skipped (test-skip)" in out


def test_a_project_configured_for_cibuildwheel(test_image: str, tmp_path: Path) -> None:
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    with (project / "pyproject.toml").open("a") as stream:
        stream.write('''
[tool.cibuildwheel]
build = "cp312-*"
test-command = 'echo "cibw-test $CIBUILDWHEEL $FROM_LINUX" && python -c "import purepkg"'

[tool.cibuildwheel.linux]
test-environment = {FROM_LINUX = "yes"}
''')
    run = run_all(project, image=test_image, python=["cp312"])
    assert "\ncibw-test 1 yes" in log(project, "cp312-manylinux_x86_64", "test")
    (note,) = run.config.notes
    assert "used: build, test-command, linux.test-environment; ignored: none" in note
