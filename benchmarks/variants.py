"""The variants the benchmark times, each on a fresh copy of a workload:

``bare``: the hand-written loop of ``benchmarks/build-wheels.sh`` in one ``docker run``;
``cibuildwheel``: cibuildwheel with its defaults (the project's own ``[tool.cibuildwheel]``
applies); ``cibuildwheel-uv``: the same with ``CIBW_BUILD_FRONTEND=build[uv]``;
``cold``: ``nox -s wheels`` (or ``manywheels wheels``) with a fresh cache-dir, so no
wheel cache and no before-all image; ``warm``: the same on the caches earlier runs of
the workload filled (wheel cache, before-all image, pip/uv caches).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workloads import Workload, abi3_audit_blockers, ca_bundle, environment, fresh_project

BARE_SCRIPT = Path(__file__).resolve().parent / "build-wheels.sh"
VARIANTS = ("bare", "cibuildwheel", "cibuildwheel-uv", "cold", "warm")
NOXFILE = "import manywheels.nox\n\nmanywheels.nox.register()\n"


class BenchmarkError(Exception):
    """A run failed; the message names its log."""


@dataclass
class Sample:
    """One timed run.

    Attributes:
        variant, workload: what ran.
        tags: how many tags it built.
        round: the round (negative: an untimed warm-up).
        seconds: wall time.
        tool_s: manywheels' own time per identifier (``timing.tool_s`` summed over
            build, repair and test, without stages that reused another identifier's
            wheel: those waited for its work), from the run record.
        stages_s: per stage, the median per identifier of command and tool seconds.
        steps_s, before_all_s: cibuildwheel's timed steps summed, and its before_all
            step (0 without one), from its log (:func:`cibuildwheel_steps`); ``None``
            for the other variants, or when the log had no timed step.
    """

    variant: str
    workload: str
    tags: int
    round: int
    seconds: float
    tool_s: list[float] = field(default_factory=list)
    stages_s: dict[str, dict[str, float]] = field(default_factory=dict)
    steps_s: float | None = None
    before_all_s: float | None = None


# cibuildwheel's console output (its logger, not an API): a step prints its title at
# the start of a line ("Running before_all...", "Building wheel...", after a fold marker
# "::group::" or "##[group]" on some CIs) and ends with a right-aligned line of only "✓ 2.51s"
# ("done 2.51s" without unicode, maybe coloured).
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STEP_END = re.compile(r"^\s+(?:✓|done) (\d+(?:\.\d+)?)s$")
_BEFORE_ALL = re.compile(r"^(?:::group::|##\[group\])?Running before_all\.\.\.$")


def cibuildwheel_steps(log: str) -> tuple[float, float] | None:
    """The seconds of all of cibuildwheel's timed steps in ``log`` (its console output),
    and of its before_all step among them (0.0 without one); ``None`` when no step
    line parses."""
    steps: list[float] = []
    before_all = 0.0
    in_before_all = False
    for raw in log.splitlines():
        line = _ANSI.sub("", raw).rstrip()
        if _BEFORE_ALL.match(line):
            in_before_all = True
        elif match := _STEP_END.match(line):
            steps.append(float(match.group(1)))
            if in_before_all:
                before_all += steps[-1]
            in_before_all = False
    return (sum(steps), before_all) if steps else None


def run_logged(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path) -> float:
    """Run a command, its output to ``log``; return its wall time in seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as stream:
        started = time.monotonic()
        code = subprocess.run(list(argv), cwd=cwd, env=dict(env), stdout=stream,
                              stderr=subprocess.STDOUT, check=False).returncode
        took = time.monotonic() - started
    if code != 0:
        msg = f"{' '.join(argv[:4])} ... exited {code}; log: {log}"
        raise BenchmarkError(msg)
    return took


class Bench:
    """The variants, sharing the image, the sources and the work directory.

    Args:
        image: the image every variant builds in.
        workdir: runs, caches and logs go here.
        sources: workload name -> sdist or fixture tree.
        cibuildwheel: its executable (``None``: no cibuildwheel variant).
        frontend: ``nox`` (``nox -s wheels``) or ``cli`` (``manywheels wheels``).
    """

    def __init__(self, image: str, workdir: Path, sources: Mapping[str, Path],
                 cibuildwheel: Path | None, frontend: str = "nox") -> None:
        self.image = image
        self.workdir = workdir
        self.sources = sources
        self.cibuildwheel = cibuildwheel
        self.frontend = frontend
        self.ca = ca_bundle()
        self.audit_blockers = abi3_audit_blockers(cibuildwheel) if cibuildwheel else {}
        """cibuildwheel variant -> why its abi3 audit is off here (environment-forced)."""

    def run(self, variant: str, workload: Workload, tags: Sequence[str], round_: int) -> Sample:
        """One run of ``variant`` on a fresh copy of ``workload`` for ``tags``."""
        name = f"{variant}-{workload.name}-{len(tags)}-{round_}"
        where = self.workdir / "runs" / name
        project = fresh_project(self.sources[workload.name], where)
        log = self.workdir / "logs" / f"{name}.log"
        if variant == "bare":
            sample = self.bare(workload, tags, project, log)
        elif variant.startswith("cibuildwheel"):
            sample = self.cibw(variant, workload, tags, project, log)
        else:
            sample = self.manywheels(variant, workload, tags, project, log)
        sample.round = round_
        shutil.rmtree(where, ignore_errors=True)
        return sample

    def bare(self, workload: Workload, tags: Sequence[str], project: Path, log: Path) -> Sample:
        shutil.copy2(BARE_SCRIPT, project / "build-wheels.sh")
        argv = ["docker", "run", "--rm", "--label", "io.manywheels.benchmark=1",
                "-v", f"{project}:/io", "-e", f"TAGS={' '.join(tags)}",
                "-e", f"PACKAGE={workload.distribution}",
                "-e", f"TEST_COMMAND={workload.test_command}",
                "-e", f"BEFORE_ALL={workload.before_all}",
                "-e", "PIP_DISABLE_PIP_VERSION_CHECK=1", "-e", "PIP_ROOT_USER_ACTION=ignore"]
        if self.ca is not None:
            argv += ["-v", f"{self.ca}:/ca.crt:ro", "-e", "PIP_CERT=/ca.crt",
                     "-e", "SSL_CERT_FILE=/ca.crt"]
        argv += [self.image, "bash", "/io/build-wheels.sh"]
        seconds = run_logged(argv, cwd=project, env=environment({}), log=log)
        self._check_wheels(workload, tags, project / "wheelhouse", log)
        return Sample("bare", workload.name, len(tags), 0, seconds)

    def cibw(self, variant: str, workload: Workload, tags: Sequence[str], project: Path,
             log: Path) -> Sample:
        assert self.cibuildwheel is not None
        env = {
            "CIBW_BUILD": " ".join(f"{tag}-manylinux_x86_64" for tag in tags),
            "CIBW_MANYLINUX_X86_64_IMAGE": self.image,
            "CIBW_TEST_COMMAND": workload.test_command,
        }
        if workload.before_all:
            env["CIBW_BEFORE_ALL"] = workload.before_all
        if self.ca is not None:  # cibuildwheel mounts the host's / at /host by default
            env["CIBW_ENVIRONMENT"] = f"PIP_CERT=/host{self.ca} SSL_CERT_FILE=/host{self.ca}"
        if variant == "cibuildwheel-uv":
            env["CIBW_BUILD_FRONTEND"] = "build[uv]"
        if workload.abi3 and variant in self.audit_blockers:
            env["CIBW_AUDIT_COMMAND"] = ""  # cannot run here (abi3_audit_blockers)
        out = project.parent / "cibw-wheelhouse"
        argv = [str(self.cibuildwheel), "--platform", "linux", "--output-dir", str(out), "."]
        seconds = run_logged(argv, cwd=project, env=environment(env), log=log)
        self._check_wheels(workload, tags, out, log)
        sample = Sample(variant, workload.name, len(tags), 0, seconds)
        parsed = cibuildwheel_steps(log.read_text(errors="replace"))
        if parsed is not None:
            sample.steps_s, sample.before_all_s = parsed
        return sample

    def caches(self, variant: str, workload: Workload, project: Path) -> Path:
        """A fresh cache directory (cold), or the workload's shared one (warm)."""
        if variant == "cold":
            return project.parent / "caches"
        return self.workdir / "warm-caches" / workload.name

    def manywheels(self, variant: str, workload: Workload, tags: Sequence[str], project: Path,
                   log: Path) -> Sample:
        caches = self.caches(variant, workload, project)
        env = environment({
            "MANYWHEELS_IMAGE": self.image,
            "MANYWHEELS_PYTHON": " ".join(tags),
            "MANYWHEELS_TEST_COMMAND": workload.test_command,
            "MANYWHEELS_BEFORE_ALL": workload.before_all,
            "MANYWHEELS_CACHE_DIR": str(caches / "manywheels"),
            # the sdist build on the host: its build environment's downloads
            "UV_CACHE_DIR": str(caches / "host-uv"),
            "PIP_CACHE_DIR": str(caches / "host-pip"),
        })
        if workload.abi3 and self.audit_blockers:
            # The same work as cibuildwheel: where its abi3 audit cannot run here, neither
            # does manywheels' (noted in the output).
            env["MANYWHEELS_AUDIT_COMMAND"] = ""
        if self.frontend == "nox":
            # As a committed noxfile would be: not newer than the project's files (the
            # newest file's time is the run's SOURCE_DATE_EPOCH outside git, a wheel
            # cache key).
            newest = max(p.stat().st_mtime for p in project.rglob("*") if p.is_file())
            (project / "noxfile.py").write_text(NOXFILE)
            os.utime(project / "noxfile.py", (newest, newest))
            argv = [sys.executable, "-m", "nox", "--no-color", "-s", "wheels"]
        else:
            argv = [sys.executable, "-m", "manywheels", "wheels"]
        try:
            seconds = run_logged(argv, cwd=project, env=env, log=log)
            self._check_wheels(workload, tags, project / "wheelhouse", log)
            record = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
        finally:
            if variant == "cold":  # its before-all image and caches: not for later runs
                self.clean(caches)
        sample = Sample(variant, workload.name, len(tags), 0, seconds)
        targets = record["targets"].values()
        # A stage that reused another identifier's wheel (pure, abi3) only waited for that
        # one's work: not manywheels' own time.
        sample.tool_s = [sum(stage.get("timing", {}).get("tool_s", 0.0)
                             for stage in target["stages"].values()
                             if "reused_from" not in stage) for target in targets]
        for stage in ("build", "repair", "test"):
            timings = [t["stages"][stage]["timing"] for t in targets
                       if "timing" in t["stages"].get(stage, {})]
            if timings:
                sample.stages_s[stage] = {
                    part: statistics.median(timing[part] for timing in timings)
                    for part in ("command_s", "tool_s")}
        return sample

    def clean(self, caches: Path) -> None:
        """``manywheels clean-cache`` of a cache directory (its before-all images too)."""
        subprocess.run([sys.executable, "-m", "manywheels", "clean-cache", "--cache-dir",
                        str(caches / "manywheels")], env=environment({}),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(caches, ignore_errors=True)

    def _check_wheels(self, workload: Workload, tags: Sequence[str], wheelhouse: Path,
                      log: Path) -> None:
        wheels = sorted(wheelhouse.glob("*manylinux*.whl"))
        expected = 1 if workload.abi3 else len(tags)
        if len(wheels) != expected:
            msg = (f"expected {expected} repaired wheel(s) in {wheelhouse}, found "
                   f"{len(wheels)}; log: {log}")
            raise BenchmarkError(msg)
