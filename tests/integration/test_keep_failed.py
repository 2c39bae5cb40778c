"""keep-failed: exactly the failing identifier's container is kept, labelled, enterable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import PACKAGES

FAIL_ON_311 = 'python -c "import sys; sys.exit(sys.version_info[:2] == (3, 11))"'


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MANYWHEELS_")}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=environ, text=True,
                          capture_output=True, check=False, timeout=900,
                          stdin=subprocess.DEVNULL)


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], text=True, capture_output=True,
                          check=True).stdout


def _kept(project: Path) -> list[tuple[str, str]]:
    lines = _docker("ps", "-a", "--filter", f"label=io.manywheels.project={project}",
                    "--filter", "label=io.manywheels.kept", "--format",
                    '{{.Names}} {{.Label "io.manywheels.kept"}}').split("\n")
    return [(line.split()[0], line.split()[1]) for line in lines if line.strip()]


def test_keep_failed_keeps_only_the_failing_identifier(tmp_path: Path,
                                                        test_image: str) -> None:
    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    try:
        done = _run(project, "manywheels", "wheels", "--python", "cp311", "cp312", "--image",
                    test_image, "--test-command", FAIL_ON_311, "--keep-failed")
        assert done.returncode == 1, done.stderr[-3000:]
        kept = _kept(project)
        assert [identifier for _, identifier in kept] == ["cp311-manylinux_x86_64"]
        name = kept[0][0]
        assert f"docker exec -it {name} bash" in done.stderr
        # No other container of the run is left: only the kept one carries the project.
        others = _docker("ps", "-a", "--filter", f"label=io.manywheels.project={project}",
                         "--format", "{{.Names}}").split()
        assert others == [name]
        # The kept state is the failing identifier's: its test venv is there.
        inside = _docker("exec", name, "bash", "-c",
                         "ls /manywheels/cp311-manylinux_x86_64/venv/bin/python && "
                         "/manywheels/cp311-manylinux_x86_64/venv/bin/python -V")
        assert "Python 3.11" in inside
        # A later run (this process gone) reports it as left behind, naming it.
        later = _run(project, "manywheels", "shell", "cp312-manylinux_x86_64", "--image",
                     test_image, "--", "true")
        assert later.returncode == 0, later.stderr
        assert name in later.stderr
        assert "--remove-leftovers" in later.stderr
    finally:
        for name, _ in _kept(project):
            image = _docker("inspect", "--format", "{{.Image}}", name).strip()
            _docker("rm", "-f", name)
            _docker("rmi", image)
