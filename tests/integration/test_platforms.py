"""Every Linux platform in one run (issue 12): x86_64, i686 (32-bit personality) and aarch64
(QEMU) from one ``nox -s wheels`` on markupsafe, with the local test images set through the
per-arch keys; and a host without emulation for an arch stops before building.

The aarch64 case disables the binfmt handler ``qemu-aarch64`` for a few seconds (written 0,
restored to 1 in a fixture's teardown): the engine is shared, so the window is kept short.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from manywheels.errors import ExitCode
from tests.conftest import extract_sdist
from tests.integration.test_wheels import (
    NOXFILE,
    host_python,
    install_and_import,
    nox,
    run_stages,
)

ELF_MACHINES = {"x86_64": 62, "i686": 3, "aarch64": 183}  # e_machine: EM_X86_64, EM_386, ...
BINFMT = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
TEST_COMMAND = (
    "python -c \"import os, platform, markupsafe._speedups as s; "
    "print('TEST_MACHINE', platform.machine(), os.uname().machine, s.__file__)\""
)


def elf_machine(data: bytes) -> int:
    """e_machine of an ELF header (little-endian: every arch here)."""
    assert data[:4] == b"\x7fELF", data[:4]
    return int.from_bytes(data[18:20], "little")


@pytest.fixture
def images(test_image: str, test_image_i686: str, test_image_aarch64: str) -> dict[str, str]:
    return {"x86_64": test_image, "i686": test_image_i686, "aarch64": test_image_aarch64}


def test_three_arches_in_one_nox_run(pypi_sdists: dict[str, Path], images: dict[str, str],
                                     tmp_path: Path) -> None:
    project = extract_sdist(pypi_sdists["markupsafe"], tmp_path / "three")
    (project / "noxfile.py").write_text(NOXFILE)
    env = {
        "MANYWHEELS_ARCHS": "x86_64 i686 aarch64",
        "MANYWHEELS_SKIP": "*musllinux*",
        "MANYWHEELS_BUILD": "cp311-*",
        "MANYWHEELS_JOBS": "3",
        "MANYWHEELS_BEFORE_BUILD": 'echo "BEFORE_BUILD_MACHINE $(uname -m) '
                                   '$(python -c "import platform; print(platform.machine())")"',
        "MANYWHEELS_TEST_COMMAND": TEST_COMMAND,
        **{f"MANYWHEELS_MANYLINUX_{arch.upper()}_IMAGE": ref for arch, ref in images.items()},
    }
    nox(project, "-s", "wheels", env=env)

    wheelhouse = project / "wheelhouse"
    wheels = {parse_wheel_filename(w.name)[3]: w for w in wheelhouse.glob("*.whl")}
    assert len(wheels) == 3, list(wheelhouse.glob("*.whl"))
    report = (wheelhouse / "manywheels-report.json").read_text()
    for arch, machine in ELF_MACHINES.items():
        identifier = f"cp311-manylinux_{arch}"
        build_log = (wheelhouse / "logs" / identifier / "build.log").read_text()
        assert f"BEFORE_BUILD_MACHINE {arch} {arch}" in build_log, build_log[-2000:]
        test_log = (wheelhouse / "logs" / identifier / "test.log").read_text()
        assert re.search(rf"TEST_MACHINE {arch} {arch} ", test_log), test_log[-2000:]
        (wheel,) = [w for tags, w in wheels.items()
                    if all(t.platform.endswith(f"_{arch}") for t in tags)]
        platforms = {t.platform for t in parse_wheel_filename(wheel.name)[3]}
        # the image's policy (auditwheel adds the older ones the wheel also satisfies)
        assert f"manylinux_2_36_{arch}" in platforms, platforms
        assert all(p.startswith("manylinux") and p.endswith(f"_{arch}") for p in platforms)
        with zipfile.ZipFile(wheel) as archive:
            (module,) = [n for n in archive.namelist() if n.endswith(".so")]
            assert elf_machine(archive.read(module)[:20]) == machine, (arch, module)
        assert f'"arch": "{arch}"' in report
        assert f'"plat": "manylinux_2_36_{arch}"' in report

    python = host_python("3.11")
    assert python is not None, "the host needs a Python 3.11 to import the x86_64 wheel"
    (x86_64,) = [w for w in wheels.values() if w.name.endswith("_x86_64.whl")]
    location = install_and_import(x86_64, "markupsafe._speedups", tmp_path, python)
    assert "site-packages" in location


@pytest.fixture
def no_aarch64_emulation() -> Iterator[None]:
    """The qemu-aarch64 binfmt handler disabled for the test, re-enabled after it."""
    if not BINFMT.exists():
        pytest.fail(f"{BINFMT} is not registered: run .ci/ensure-binfmt.sh", pytrace=False)
    if not os.access(BINFMT, os.W_OK):
        pytest.fail(f"{BINFMT} is not writable: run the tests as root", pytrace=False)
    BINFMT.write_text("0")
    try:
        yield
    finally:
        BINFMT.write_text("1")


def test_missing_emulation_stops_before_building(images: dict[str, str], tmp_path: Path,
                                                 no_aarch64_emulation: None) -> None:
    project = tmp_path / "demo"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1"\n')
    env = {**os.environ, "MANYWHEELS_ARCHS": "aarch64", "MANYWHEELS_SKIP": "*musllinux*",
           "MANYWHEELS_MANYLINUX_AARCH64_IMAGE": images["aarch64"]}
    result = subprocess.run([sys.executable, "-m", "manywheels", "build"], cwd=project, env=env,
                            text=True, capture_output=True, timeout=300, check=False)
    assert result.returncode == ExitCode.EMULATION, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if "cannot run aarch64" in line]
    assert len(lines) == 1, result.stderr
    assert "qemu-user-static" in lines[0]
    assert "docker run --privileged --rm tonistiigi/binfmt --install arm64" in lines[0]
    assert not (project / "dist").exists() or not list((project / "dist").glob("*.tar.gz"))
    assert not (project / "wheelhouse" / "logs" / "cp311-manylinux_aarch64").exists()


def test_single_i686_image_runs_as_i686(pypi_sdists: dict[str, Path], test_image_i686: str,
                                        tmp_path: Path) -> None:
    """The issue's reproduction: with only ``image`` set (no archs), commands in an i686
    image run under ``linux32``, as its entrypoint would run them."""
    project = extract_sdist(pypi_sdists["markupsafe"], tmp_path / "i686")
    run_stages(project, image=test_image_i686, python=["cp311"], test_command=TEST_COMMAND,
               before_build='echo "BEFORE_BUILD_MACHINE $(uname -m)"')
    logs = project / "wheelhouse" / "logs" / "cp311-manylinux_i686"
    assert "BEFORE_BUILD_MACHINE i686" in (logs / "build.log").read_text()
    assert re.search(r"TEST_MACHINE i686 i686 ", (logs / "test.log").read_text())
