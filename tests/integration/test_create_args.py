"""``container-create-args`` (issue 13, item 11) in a real container: what the build sees."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import PACKAGES

PROBE = ("echo shm=$(df -k /dev/shm | awk 'NR==2 {print $2}') nofile=$(ulimit -n) "
         "mem=$(cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes "
         "2>/dev/null | head -n 1)")


def manywheels(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "manywheels", *args], cwd=cwd,
                          env=dict(os.environ), text=True, capture_output=True, check=False)


def test_shm_memory_and_ulimit_reach_the_build_container(test_image: str,
                                                         tmp_path: Path) -> None:
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    done = manywheels(project, "build", "--image", test_image, "--python", "cp312",
                      "--container-create-args=--shm-size 96m --memory=512m "
                      "--ulimit nofile=321:654",
                      "--before-build", PROBE)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    text = (project / "wheelhouse" / "logs" / "cp312-manylinux_x86_64" / "build.log").read_text()
    assert f"shm={96 * 1024} nofile=321 mem={512 * 1024 * 1024}\n" in text


def test_cibuildwheel_container_engine_form_from_its_table(test_image: str,
                                                           tmp_path: Path) -> None:
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    with (project / "pyproject.toml").open("a") as stream:
        stream.write('\n[tool.cibuildwheel]\ncontainer-engine = "docker; create_args: '
                     f'--shm-size=80m"\nbefore-build = "{PROBE}"\n')
    done = manywheels(project, "build", "--image", test_image, "--python", "cp312")
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    text = (project / "wheelhouse" / "logs" / "cp312-manylinux_x86_64" / "build.log").read_text()
    assert f"shm={80 * 1024} " in text


def test_an_argument_outside_the_allowlist_is_one_line_exit_2(tmp_path: Path) -> None:
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    done = manywheels(project, "build", "--container-create-args=--volume /:/host")
    assert done.returncode == 2
    (line,) = [x for x in done.stderr.splitlines() if x.strip()]
    assert "'--volume' is not allowed; allowed are --cpus" in line
