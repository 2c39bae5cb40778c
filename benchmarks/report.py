"""Medians, ratios and the tables the benchmark prints (and ``results.json``)."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from variants import Sample

TITLES = {
    "bare": "bare build-wheels.sh loop",
    "cibuildwheel": "cibuildwheel, defaults",
    "cibuildwheel-uv": "cibuildwheel, build[uv]",
    "cold": "manywheels, cold",
    "warm": "manywheels, warm",
}
BASELINES = ("bare", "cibuildwheel", "cibuildwheel-uv")
COLD_TARGET = 0.5
"""Issue 16: cold ≤ 0.5 x cibuildwheel build[uv], total."""
FLOOR_TITLES = {"cibuildwheel": "cibuildwheel", "cibuildwheel-uv": "cibuildwheel build[uv]"}
FLOOR_ASSUMES = ("cibuildwheel's own commands and their step times (from its log), before_all "
                 "serial, every other step spread perfectly over the cores, no time of the "
                 "tool's own, no sdist build")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = memory = ""
    with Path("/proc/cpuinfo").open() as stream:
        model = next((line.split(":", 1)[1].strip() for line in stream
                      if line.startswith("model name")), "")
    with Path("/proc/meminfo").open() as stream:
        memory = next((f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB" for line in stream
                       if line.startswith("MemTotal")), "")
    docker = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                            text=True, stdout=subprocess.PIPE, check=False).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "memory": memory,
            "kernel": platform.release(), "docker": docker,
            "python": platform.python_version()}


def _median(samples: Sequence[Sample], **match: object) -> float | None:
    times = [s.seconds for s in samples
             if all(getattr(s, key) == value for key, value in match.items())]
    return statistics.median(times) if times else None


def floor_seconds(steps_s: float, before_all_s: float, cores: int) -> float:
    """The wall time (s) a tool running exactly cibuildwheel's commands would need on
    ``cores`` cores: ``before_all_s`` serial, the rest of ``steps_s`` (cibuildwheel's
    timed steps, before_all included) perfectly parallel, no own overhead."""
    return before_all_s + (steps_s - before_all_s) / cores


def floors(samples: Sequence[Sample], variants: Sequence[str], workloads: Mapping[str, int],
           medians: Mapping[str, Mapping[str, float | None]], cores: int) -> dict[str, Any]:
    """Per cibuildwheel variant: the median :func:`floor_seconds` per workload (from
    the samples whose log parsed), their total (when every workload has one) and its
    ratio to the variant's measured total."""
    result: dict[str, Any] = {}
    for variant in (v for v in variants if v.startswith("cibuildwheel")):
        row: dict[str, float | None] = {}
        for name, tags in workloads.items():
            values = [floor_seconds(s.steps_s, s.before_all_s, cores) for s in samples
                      if (s.variant, s.workload, s.tags) == (variant, name, tags)
                      and s.steps_s is not None and s.before_all_s is not None]
            row[name] = statistics.median(values) if values else None
        values = [v for v in row.values() if v is not None]
        row["total"] = sum(values) if values and len(values) == len(workloads) else None
        measured = medians.get(variant, {}).get("total")
        ratio = None if row["total"] is None or not measured else row["total"] / measured
        result[variant] = {"medians": row, "ratio": ratio}
    return {"cores": cores, "assumes": FLOOR_ASSUMES, "variants": result}


def summarize(samples: Sequence[Sample], variants: Sequence[str], workloads: Mapping[str, int],
              scaling: Mapping[str, Sequence[int]], cores: int | None = None) -> dict[str, Any]:
    """Medians per variant and workload (``workloads``: name -> tags of the main run),
    their totals, the ratios of the totals to each baseline, manywheels' own overhead
    per identifier, where its per-identifier time goes, the scaling medians, and the
    floor of each cibuildwheel variant on ``cores`` cores (default ``os.cpu_count()``;
    :func:`floors`)."""
    medians: dict[str, dict[str, float | None]] = {}
    for variant in variants:
        row: dict[str, float | None] = {
            name: _median(samples, variant=variant, workload=name, tags=tags)
            for name, tags in workloads.items()}
        values = [v for v in row.values() if v is not None]
        row["total"] = sum(values) if len(values) == len(workloads) else None
        medians[variant] = row
    ratios = {variant: {base: _ratio(medians, variant, base, "total") for base in BASELINES}
              for variant in variants}
    overhead = {variant: statistics.median(t for s in samples if s.variant == variant
                                           for t in s.tool_s)
                for variant in ("cold", "warm")
                if any(s.tool_s for s in samples if s.variant == variant)}
    stages = {variant: {stage: {part: statistics.median(
        s.stages_s[stage][part] for s in samples if s.variant == variant and stage in s.stages_s)
        for part in ("command_s", "tool_s")}
        for stage in ("build", "repair", "test")
        if any(stage in s.stages_s for s in samples if s.variant == variant)}
        for variant in ("cold", "warm")}
    scaled = {variant: {str(n): _median(samples, variant=variant, workload=name, tags=n)
                        for n in counts}
              for name, counts in scaling.items() for variant in variants
              if any(s.variant == variant and s.workload == name for s in samples)}
    return {"medians": medians, "ratios": ratios, "tool_overhead_per_identifier_s": overhead,
            "per_identifier_stage_s": stages, "scaling": scaled,
            "floor": floors(samples, variants, workloads, medians, cores or os.cpu_count() or 1)}


def _ratio(medians: Mapping[str, Mapping[str, float | None]], top: str, bottom: str,
           column: str) -> float | None:
    if top not in medians or bottom not in medians:
        return None
    a, b = medians[top].get(column), medians[bottom].get(column)
    return None if a is None or not b else a / b


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _times(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def print_tables(summary: Mapping[str, Any], workloads: Mapping[str, int],
                 info: Mapping[str, Any]) -> None:
    """The markdown tables: medians and ratios, overhead, stages, scaling, targets."""
    medians, ratios = summary["medians"], summary["ratios"]
    names = list(workloads)
    bases = [b for b in BASELINES if b in medians]
    columns = ["variant", *(f"{n} ({workloads[n]} tags)" for n in names), "total",
               *(f"ratio to {TITLES[b]}" for b in bases)]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for variant, row in medians.items():
        cells = [TITLES[variant], *(_seconds(row[n]) for n in names), _seconds(row["total"]),
                 *(_times(ratios[variant][b]) for b in bases)]
        print("| " + " | ".join(cells) + " |")
    floor = summary["floor"]
    shown = False
    for variant, values in floor["variants"].items():
        row = values["medians"]
        if all(row[n] is None for n in names):
            continue  # no log of this variant parsed
        shown = True
        cells = [f"floor: {FLOOR_TITLES[variant]}'s own step times on {floor['cores']} cores",
                 *(_seconds(row[n]) for n in names), _seconds(row["total"]),
                 *(_times(_ratio({"floor": row, **medians}, "floor", b, "total")) for b in bases)]
        print("| " + " | ".join(cells) + " |")
    print()
    if shown:
        print(f"floor: the lowest wall time reachable with {floor['assumes']}")
    for variant, value in summary["tool_overhead_per_identifier_s"].items():
        print(f"manywheels' own overhead per identifier ({variant}, median over identifiers "
              f"of timing.tool_s summed over build, repair, test): {value:.2f} s")
    for variant, stages in summary["per_identifier_stage_s"].items():
        parts = ", ".join(f"{stage} {v['command_s']:.2f} s commands + {v['tool_s']:.2f} s tool"
                          for stage, v in stages.items())
        if parts:
            print(f"per identifier ({variant}, medians): {parts}")
    if summary["scaling"]:
        counts = sorted({int(n) for row in summary["scaling"].values() for n in row})
        print()
        print("| scaling (markupsafe) | " + " | ".join(f"{n} tag(s)" for n in counts) + " |")
        print("|" + "---|" * (len(counts) + 1))
        for variant, row in summary["scaling"].items():
            print(f"| {TITLES[variant]} | "
                  + " | ".join(_seconds(row.get(str(n))) for n in counts) + " |")
    print()
    _print_targets(summary)
    for note in info.get("notes", ()):
        print(f"note: {note}")
    m = info["machine"]
    print(f"medians of {info['rounds']} interleaved round(s); image {info['image']}; "
          f"cibuildwheel {info.get('cibuildwheel', '-')}; front end {info['frontend']}; "
          f"{info['date']}")
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, Linux {m['kernel']}, "
          f"Docker {m['docker']}, host Python {m['python']}; load average "
          f"{info['load_before']:.2f} before, {info['load_after']:.2f} after")


def _print_targets(summary: Mapping[str, Any]) -> None:
    """Issue 16's targets, each with the measured value (when measured); the cold one
    with the floor (:func:`floors`) against cibuildwheel build[uv]."""
    medians, ratios = summary["medians"], summary["ratios"]
    overhead = summary["tool_overhead_per_identifier_s"]
    checks: list[tuple[str, float | None, float]] = []
    for variant, limit in (("cold", COLD_TARGET), ("warm", 0.3)):
        if variant in ratios:
            checks.append((f"{variant} / cibuildwheel build[uv], total", ratios[variant].get(
                "cibuildwheel-uv"), limit))
    if "cold" in medians and "markupsafe" in medians["cold"]:
        checks.append(("cold / bare loop, markupsafe",
                       _ratio(medians, "cold", "bare", "markupsafe"), 0.5))
    if "cold" in medians and "warm" in medians:
        checks.extend((f"warm / cold, {name}", _ratio(medians, "warm", "cold", name), 1.0)
                      for name in medians["cold"] if name != "total")
    for variant, value in overhead.items():
        checks.append((f"own overhead per identifier ({variant}), s", value, 0.25))
    floor = _floor_line(summary["floor"], COLD_TARGET)
    for what, value, limit in checks:
        verdict = "—" if value is None else ("met" if value <= limit else "NOT met")
        shown = "—" if value is None else f"{value:.2f}"
        print(f"target {what}: {shown} (≤ {limit:g}) {verdict}")
        if what.startswith("cold / cibuildwheel") and floor:
            print(f"  {floor}")
            floor = None
    if floor:  # no cold run: the floor on its own
        print(f"target cold / cibuildwheel build[uv], total (≤ {COLD_TARGET:g}): {floor}")


def _floor_line(floor: Mapping[str, Any], limit: float) -> str | None:
    """The cibuildwheel build[uv] floor's ratio against the cold target ``limit``."""
    ratio = floor["variants"].get("cibuildwheel-uv", {}).get("ratio")
    if ratio is None:
        return None
    verdict = "reachable" if ratio <= limit else "the target is below it"
    return (f"lowest reachable on {floor['cores']} cores by a tool running cibuildwheel "
            f"build[uv]'s commands: {ratio:.2f} x ({verdict})")
