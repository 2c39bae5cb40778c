"""Benchmark: ``nox -s wheels`` against cibuildwheel and the bare build-wheels.sh loop.

One run measures, on the same image and the same sdists (markupsafe 3.0.4 and
simplejson 4.3.0 from PyPI), five CPython tags, build + repair + a test that imports
the compiled module:

(a) ``bare``: the hand-written loop of ``benchmarks/build-wheels.sh`` in one
    ``docker run`` (pip wheel, auditwheel repair, pip install into the interpreter);
(b) ``cibuildwheel``: cibuildwheel with its defaults, installed in its own venv (the
    project's own ``[tool.cibuildwheel]`` applies: markupsafe asks for ``build[uv]``,
    simplejson has none, so cibuildwheel's default ``build`` frontend with pip);
(b') ``cibuildwheel-uv``: the same with ``CIBW_BUILD_FRONTEND=build[uv]`` for both;
(c) ``cold``: ``nox -s wheels`` with empty caches (a fresh ``cache-dir`` and fresh
    host pip/uv caches for the sdist build);
(d) ``warm``: ``nox -s wheels`` again, in the steady state of repeated runs: with the
    caches two earlier (untimed) runs filled (see :mod:`manywheels.stages._cache`).

Every variant runs ``--rounds`` times (default 3), interleaved (a b c d, b c d a, ...)
so a load change on the machine hits them alike; each run starts from a fresh copy
of the extracted sdist. It prints the median of the runs of each variant (summed over
the two projects) and the ratios, plus the tool's own overhead per identifier from
the run reports (``timing.tool_s``, summed over build, repair and test). Results and
every run's log go to ``--workdir``.

What the environment forces, and nothing else: behind a TLS-intercepting proxy the
CA bundle reaches the containers (cibuildwheel: ``CIBW_ENVIRONMENT`` naming the bundle
under its default ``/host`` mount; the bare loop: a bind mount; manywheels passes it
itself), and cibuildwheel is pointed at the local image with
``CIBW_MANYLINUX_X86_64_IMAGE``.

Usage, from the repository root with manywheels and nox installed::

    python benchmarks/compare.py                  # builds the local test image if needed
    python benchmarks/compare.py --image quay.io/pypa/manylinux_2_28_x86_64 --rounds 5
    python benchmarks/compare.py --only cold,warm --packages markupsafe
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BARE_SCRIPT = Path(__file__).resolve().parent / "build-wheels.sh"

PACKAGES: dict[str, tuple[str, str]] = {
    # name -> (requirement, test command importing the compiled module)
    "markupsafe": ("markupsafe==3.0.4", 'python -c "import markupsafe._speedups"'),
    "simplejson": ("simplejson==4.3.0", 'python -c "import simplejson._speedups"'),
}
TAGS = ("cp39", "cp310", "cp311", "cp312", "cp313")
VARIANTS = ("bare", "cibuildwheel", "cibuildwheel-uv", "cold", "warm")
TITLES = {
    "bare": "(a) bare build-wheels.sh loop",
    "cibuildwheel": "(b) cibuildwheel, defaults",
    "cibuildwheel-uv": "(b') cibuildwheel, build[uv] frontend",
    "cold": "(c) nox -s wheels, cold caches",
    "warm": "(d) nox -s wheels, warm caches",
}


class BenchmarkError(Exception):
    """A run failed; the message names its log."""


@dataclass
class Sample:
    """One timed run: wall seconds, and the per-identifier tool overhead (seconds)."""

    variant: str
    package: str
    round: int
    seconds: float
    tool_s: list[float] = field(default_factory=list)


# --------------------------------------------------------------------------- setup


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


def download_sdists(workdir: Path, names: Sequence[str]) -> dict[str, Path]:
    """The pinned sdists from PyPI (downloaded once into ``workdir/sdists``)."""
    dest = workdir / "sdists"
    dest.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path] = {}
    missing = []
    for name in names:
        matches = sorted(dest.glob(f"{name}-*.tar.gz"))
        if matches:
            found[name] = matches[0]
        else:
            missing.append(PACKAGES[name][0])
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", "--dest", str(dest), *missing], check=True)
        return download_sdists(workdir, names)
    return found


def cibuildwheel_venv(workdir: Path) -> Path:
    """cibuildwheel installed in a venv of its own; returns its executable."""
    venv = workdir / "cibuildwheel-venv"
    exe = venv / "bin" / "cibuildwheel"
    if not exe.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "cibuildwheel"], check=True)
    return exe


def cibuildwheel_version(exe: Path) -> str:
    python = exe.parent / "python"
    done = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('cibuildwheel'))"],
        check=True, text=True, stdout=subprocess.PIPE,
    )
    return done.stdout.strip()


def fresh_project(sdist: Path, dest: Path) -> Path:
    """Extract the sdist into an empty ``dest``; return the project directory."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(dest, filter="data")
    (project,) = [p for p in dest.iterdir() if p.is_dir()]
    return project


# --------------------------------------------------------------------------- variants


def run_logged(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path) -> float:
    """Run a command, its output to ``log``; return its wall time in seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as stream:
        started = time.monotonic()
        code = subprocess.run(list(argv), cwd=cwd, env=dict(env), stdout=stream,
                              stderr=subprocess.STDOUT, check=False).returncode
        took = time.monotonic() - started
    if code != 0:
        msg = f"{' '.join(argv[:3])} ... exited {code}; log: {log}"
        raise BenchmarkError(msg)
    return took


class Bench:
    """The variants, sharing the image, the sdists and the work directory."""

    def __init__(self, image: str, workdir: Path, sdists: Mapping[str, Path],
                 cibuildwheel: Path | None) -> None:
        self.image = image
        self.workdir = workdir
        self.sdists = sdists
        self.cibuildwheel = cibuildwheel
        self.ca = ca_bundle()

    def bare(self, package: str, project: Path, log: Path) -> Sample:
        shutil.copy2(BARE_SCRIPT, project / "build-wheels.sh")
        requirement, test_command = PACKAGES[package]
        argv = ["docker", "run", "--rm", "-v", f"{project}:/io",
                "-e", f"TAGS={' '.join(TAGS)}", "-e", f"PACKAGE={requirement.split('==')[0]}",
                "-e", f"TEST_COMMAND={test_command}", "-e", "PIP_DISABLE_PIP_VERSION_CHECK=1",
                "-e", "PIP_ROOT_USER_ACTION=ignore"]
        if self.ca is not None:
            argv += ["-v", f"{self.ca}:/ca.crt:ro", "-e", "PIP_CERT=/ca.crt",
                     "-e", "SSL_CERT_FILE=/ca.crt"]
        argv += [self.image, "bash", "/io/build-wheels.sh"]
        seconds = run_logged(argv, cwd=project, env=os.environ, log=log)
        self._check_wheels(project / "wheelhouse", log)
        return Sample("bare", package, 0, seconds)

    def cibw(self, variant: str, package: str, project: Path, log: Path) -> Sample:
        assert self.cibuildwheel is not None
        _, test_command = PACKAGES[package]
        env = {
            **os.environ,
            "CIBW_BUILD": " ".join(f"{tag}-manylinux_x86_64" for tag in TAGS),
            "CIBW_MANYLINUX_X86_64_IMAGE": self.image,
            "CIBW_TEST_COMMAND": test_command,
        }
        if self.ca is not None:  # cibuildwheel mounts the host's / at /host by default
            env["CIBW_ENVIRONMENT"] = f"PIP_CERT=/host{self.ca} SSL_CERT_FILE=/host{self.ca}"
        if variant == "cibuildwheel-uv":
            env["CIBW_BUILD_FRONTEND"] = "build[uv]"
        out = project.parent / "cibw-wheelhouse"
        argv = [str(self.cibuildwheel), "--platform", "linux", "--output-dir", str(out), "."]
        seconds = run_logged(argv, cwd=project, env=env, log=log)
        self._check_wheels(out, log)
        return Sample(variant, package, 0, seconds)

    def nox(self, variant: str, package: str, project: Path, log: Path) -> Sample:
        _, test_command = PACKAGES[package]
        (project / "noxfile.py").write_text("import manywheels.nox\n\nmanywheels.nox.register()\n")
        if variant == "cold":
            caches = project.parent / "caches"  # empty: fresh for this run
        else:
            caches = self.workdir / "warm-caches" / package
        env = {
            **os.environ,
            "MANYWHEELS_IMAGE": self.image,
            "MANYWHEELS_PYTHON": " ".join(TAGS),
            "MANYWHEELS_TEST_COMMAND": test_command,
            "MANYWHEELS_CACHE_DIR": str(caches / "manywheels"),
            # the sdist build on the host: its build environment's downloads
            "UV_CACHE_DIR": str(caches / "host-uv"),
            "PIP_CACHE_DIR": str(caches / "host-pip"),
        }
        argv = [sys.executable, "-m", "nox", "--no-color", "-s", "wheels"]
        seconds = run_logged(argv, cwd=project, env=env, log=log)
        self._check_wheels(project / "wheelhouse", log)
        report = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
        tool = [
            sum(stage.get("timing", {}).get("tool_s", 0.0) for stage in target["stages"].values())
            for target in report["targets"].values()
        ]
        return Sample(variant, package, 0, seconds, tool)

    def _check_wheels(self, wheelhouse: Path, log: Path) -> None:
        wheels = sorted(wheelhouse.glob("*manylinux*.whl"))
        if len(wheels) != len(TAGS):
            msg = (f"expected {len(TAGS)} repaired wheels in {wheelhouse}, found {len(wheels)}; "
                   f"log: {log}")
            raise BenchmarkError(msg)

    def run(self, variant: str, package: str, round_: int) -> Sample:
        where = self.workdir / "runs" / f"{variant}-{package}-{round_}"
        project = fresh_project(self.sdists[package], where)
        log = self.workdir / "logs" / f"{variant}-{package}-{round_}.log"
        if variant == "bare":
            sample = self.bare(package, project, log)
        elif variant.startswith("cibuildwheel"):
            sample = self.cibw(variant, package, project, log)
        else:
            sample = self.nox(variant, package, project, log)
        sample.round = round_
        shutil.rmtree(where, ignore_errors=True)
        return sample


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = ""
    with Path("/proc/cpuinfo").open() as stream:
        for line in stream:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with Path("/proc/meminfo").open() as stream:
        for line in stream:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    docker = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                            text=True, stdout=subprocess.PIPE, check=False).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "memory": memory,
            "kernel": platform.release(), "docker": docker,
            "python": platform.python_version()}


def summarize(samples: Sequence[Sample], variants: Sequence[str],
              packages: Sequence[str]) -> dict[str, Any]:
    """Medians per variant and package, their sums, and the tool overhead."""
    medians: dict[str, dict[str, float]] = {}
    for variant in variants:
        medians[variant] = {}
        for package in packages:
            times = [s.seconds for s in samples if s.variant == variant and s.package == package]
            medians[variant][package] = statistics.median(times)
        medians[variant]["total"] = sum(medians[variant][p] for p in packages)
    overhead = {
        variant: statistics.median(
            [t for s in samples if s.variant == variant for t in s.tool_s])
        for variant in ("cold", "warm") if variant in variants
    }
    return {"medians": medians, "tool_overhead_per_identifier_s": overhead}


def ratio(summary: dict[str, Any], top: str, bottom: str) -> float | None:
    medians = summary["medians"]
    if top not in medians or bottom not in medians:
        return None
    return float(medians[top]["total"]) / float(medians[bottom]["total"])


def print_table(summary: dict[str, Any], packages: Sequence[str], rounds: int,
                info: Mapping[str, Any]) -> None:
    medians = summary["medians"]
    header = ("| variant | " + " | ".join(packages)
              + " | total | vs (b) | vs (b') | vs (a) |")
    print(header)
    print("|" + "---|" * (len(packages) + 5))
    for variant, values in medians.items():
        cells = [f"{values[p]:.1f} s" for p in packages]
        ratios = [ratio(summary, variant, base)
                  for base in ("cibuildwheel", "cibuildwheel-uv", "bare")]
        print(f"| {TITLES[variant]} | " + " | ".join(cells) + f" | {values['total']:.1f} s | "
              + " | ".join(f"{r:.2f}" if r is not None else "-" for r in ratios) + " |")
    print()
    for variant, value in summary["tool_overhead_per_identifier_s"].items():
        print(f"manywheels' own overhead per identifier ({variant}, median of build+repair+test "
              f"timing.tool_s): {value:.2f} s")
    print(f"median of {rounds} runs per variant; {len(TAGS)} tags ({', '.join(TAGS)}); "
          f"image {info['image']}; cibuildwheel {info.get('cibuildwheel', '-')}")
    m = info["machine"]
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, Linux {m['kernel']}, "
          f"Docker {m['docker']}, host Python {m['python']}; load average "
          f"{info['load_before']:.2f} before, {info['load_after']:.2f} after")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", help="image to build in; default the local test image")
    parser.add_argument("--rounds", type=int, default=3, help="runs per variant (default 3)")
    parser.add_argument("--only", default=",".join(VARIANTS),
                        help="comma-separated variants: " + ", ".join(VARIANTS))
    parser.add_argument("--packages", default=",".join(PACKAGES),
                        help="comma-separated: " + ", ".join(PACKAGES))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/manywheels-bench"),
                        help="sdists, cibuildwheel venv, caches, logs, results.json")
    args = parser.parse_args(argv)
    variants = [v for v in VARIANTS if v in args.only.split(",")]
    packages = [p for p in PACKAGES if p in args.packages.split(",")]
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(workdir / "runs", ignore_errors=True)
    shutil.rmtree(workdir / "warm-caches", ignore_errors=True)

    image = args.image or test_image()
    sdists = download_sdists(workdir, packages)
    cibw = (cibuildwheel_venv(workdir)
            if any(v.startswith("cibuildwheel") for v in variants) else None)
    bench = Bench(image, workdir, sdists, cibw)
    info: dict[str, Any] = {"image": image, "machine": machine(), "rounds": args.rounds,
                            "tags": TAGS, "packages": {p: PACKAGES[p][0] for p in packages}}
    if cibw is not None:
        info["cibuildwheel"] = cibuildwheel_version(cibw)
    if "warm" in variants:
        for package in packages:  # untimed: fill the caches the warm runs use
            for step in (1, 2):
                print(f"warming the caches: {package} ({step}/2)", file=sys.stderr)
                bench.run("warm", package, -step)

    info["load_before"] = os.getloadavg()[0]
    samples: list[Sample] = []
    for round_ in range(args.rounds):
        order = variants[round_ % len(variants):] + variants[:round_ % len(variants)]
        for variant in order:
            for package in packages:
                sample = bench.run(variant, package, round_)
                samples.append(sample)
                print(f"round {round_ + 1}: {variant:12} {package:10} {sample.seconds:6.1f} s",
                      file=sys.stderr)
    info["load_after"] = os.getloadavg()[0]

    summary = summarize(samples, variants, packages)
    results = {**info, **summary, "samples": [s.__dict__ for s in samples]}
    (workdir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_table(summary, packages, args.rounds, info)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"benchmark: error: {error}", file=sys.stderr)
        sys.exit(1)
