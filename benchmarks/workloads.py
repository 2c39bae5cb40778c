"""The benchmark's workloads and what every variant needs: the image, the sdists or
fixture trees, cibuildwheel in a venv of its own, the CA bundle behind a proxy."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CIBUILDWHEEL = "cibuildwheel[uv]==4.3.5"
"""The cibuildwheel the comparison pins (in a venv of its own; the ``uv`` extra gives
``build[uv]`` its uv on the host)."""
FIVE = ("cp39", "cp310", "cp311", "cp312", "cp313")


@dataclass(frozen=True)
class Workload:
    """One project of the mixed workload.

    Attributes:
        name: short name (tables, logs).
        tags: the CPython tags built.
        test_command: imports the compiled module (run from outside the tree).
        requirement: a pinned PyPI sdist (``markupsafe==3.0.4``), or
        path: a fixture tree of this repository.
        before_all: run once per container before the builds (all variants).
        abi3: one wheel serves every tag (built once where the tool reuses it).
    """

    name: str
    tags: tuple[str, ...]
    test_command: str
    requirement: str | None = None
    path: Path | None = None
    before_all: str = ""
    abi3: bool = False

    @property
    def distribution(self) -> str:
        """The distribution name ``pip install`` finds the wheel by."""
        return self.requirement.split("==")[0] if self.requirement else self.name


WORKLOADS: dict[str, Workload] = {
    "markupsafe": Workload("markupsafe", FIVE, 'python -c "import markupsafe._speedups"',
                           requirement="markupsafe==3.0.4"),
    "psycopg2": Workload("psycopg2", ("cp312", "cp313"), 'python -c "import psycopg2"',
                         requirement="psycopg2==2.9.10",
                         before_all="apt-get update -qq && apt-get install -y -qq libpq-dev"),
    "limitedapi": Workload("limitedapi", ("cp311", "cp312", "cp313"),
                           'python -c "import limitedapi._speedups"',
                           path=ROOT / "tests" / "packages" / "limitedapi", abi3=True),
}
"""The mixed workload: markupsafe (5 tags), psycopg2 (2 tags, before-all installs
libpq-dev from Debian), the abi3 fixture ``tests/packages/limitedapi`` (3 tags)."""


def ca_bundle() -> Path | None:
    """The host CA bundle the containers need (behind a TLS-intercepting proxy)."""
    for name in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return Path(value).resolve()
    return None


def test_image() -> str:
    """The local manylinux-layout test image (built when missing)."""
    path = ROOT / "tests" / "image" / "build_image.py"
    spec = importlib.util.spec_from_file_location("build_image", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    tag: str = module.ensure_test_image()
    return tag


def sources(workdir: Path, workloads: Sequence[Workload]) -> dict[str, Path]:
    """Each workload's source: its pinned sdist from PyPI (downloaded once into
    ``workdir/sdists``), or its fixture tree."""
    dest = workdir / "sdists"
    dest.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path] = {w.name: w.path for w in workloads if w.path is not None}
    wanted = [w for w in workloads if w.requirement is not None]
    missing = [w.requirement for w in wanted
               if w.requirement and not list(dest.glob(f"{w.distribution}-*.tar.gz"))]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", "--dest", str(dest), *missing], check=True)
    for workload in wanted:
        found[workload.name] = sorted(dest.glob(f"{workload.distribution}-*.tar.gz"))[0]
    return found


def fresh_project(source: Path, dest: Path) -> Path:
    """A fresh copy of a workload in an empty ``dest`` (an sdist extracted, or a fixture
    tree copied); returns the project directory."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if source.is_dir():
        project = dest / source.name
        shutil.copytree(source, project, ignore=shutil.ignore_patterns(
            "build", "dist", "wheelhouse", "*.egg-info", "__pycache__"))
        return project
    with tarfile.open(source) as archive:
        archive.extractall(dest, filter="data")
    (project,) = [p for p in dest.iterdir() if p.is_dir()]
    return project


def cibuildwheel_venv(workdir: Path) -> Path:
    """cibuildwheel (:data:`CIBUILDWHEEL`) in a venv of its own; returns its executable."""
    venv = workdir / "cibuildwheel-venv"
    exe = venv / "bin" / "cibuildwheel"
    if not exe.is_file() or cibuildwheel_version(exe) != CIBUILDWHEEL.split("==")[1] \
            or not (venv / "bin" / "uv").is_file():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        CIBUILDWHEEL], check=True)
    return exe


def cibuildwheel_version(exe: Path) -> str:
    """The version of the cibuildwheel at ``exe``."""
    done = subprocess.run(
        [str(exe.parent / "python"), "-c",
         "import importlib.metadata as m; print(m.version('cibuildwheel'))"],
        check=False, text=True, stdout=subprocess.PIPE,
    )
    return done.stdout.strip()


def environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The host environment without manywheels' and cibuildwheel's own settings, plus
    ``extra``."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("MANYWHEELS_", "CIBW_"))}
    return {**keep, **extra}


def abi3_audit_blockers(exe: Path) -> dict[str, str]:
    """Why cibuildwheel's abi3 audit (``abi3audit`` in a venv on the host, pinned by its
    constraints) cannot run here, per cibuildwheel variant: ``{}`` when it can. The
    default frontend downloads a virtualenv.pyz from github.com; both need the index to
    have the constrained versions of abi3audit's dependencies."""
    blockers: dict[str, str] = {}
    python = exe.parent / "python"
    where = ("import sys, cibuildwheel, pathlib; print(pathlib.Path(cibuildwheel.__file__)"
             ".parent / 'resources' / "
             "f'constraints-python{sys.version_info[0]}{sys.version_info[1]}.txt')")
    found = subprocess.run([str(python), "-c", where], check=False, text=True,
                           stdout=subprocess.PIPE)
    constraints = found.stdout.strip()
    resolved = subprocess.run(
        [str(exe.parent / "uv"), "pip", "install", "--dry-run", "--python", str(python),
         "--constraint", constraints, "abi3audit"],
        check=False, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if resolved.returncode != 0:
        reason = next((line.strip() for line in resolved.stdout.splitlines()
                       if "because" in line.lower()), "abi3audit does not resolve")
        blockers["cibuildwheel"] = blockers["cibuildwheel-uv"] = (
            f"abi3audit's pinned dependencies are not on this index ({reason[:120]})")
    try:
        socket.getaddrinfo("github.com", 443)
    except OSError:
        blockers.setdefault("cibuildwheel", "github.com (virtualenv.pyz) is unreachable")
    return blockers
