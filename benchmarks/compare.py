"""Benchmark: manywheels against cibuildwheel and the bare build-wheels.sh loop, on a
mixed workload, all on one image, measured in one run.

The workload (:mod:`workloads`): markupsafe 3.0.4 from PyPI (5 tags, the test imports
``markupsafe._speedups``), psycopg2 2.9.10 from PyPI (2 tags; before-all installs
libpq-dev from Debian, the test imports psycopg2 against the vendored libpq) and the
abi3 fixture ``tests/packages/limitedapi`` (3 tags; one ``cp39-abi3`` wheel serves them).

The variants (:mod:`variants`): ``bare`` (the hand-written loop of
``benchmarks/build-wheels.sh`` in one ``docker run``), ``cibuildwheel`` (4.3.5, its
defaults; the project's own ``[tool.cibuildwheel]`` applies), ``cibuildwheel-uv`` (the
same with ``CIBW_BUILD_FRONTEND=build[uv]``), ``cold`` (``nox -s wheels`` with a fresh
cache-dir: no wheel cache, no before-all image, empty pip/uv caches; cleared after each
run) and ``warm`` (the same on the caches two untimed runs of that workload filled: the
steady state of repeated runs of an unchanged project).

Every variant runs ``--rounds`` times (default 3), interleaved (a b c d e, b c d e a,
...) so a load change hits them alike, each run on a fresh copy of the workload. Printed
(:mod:`report`): the median per variant and workload, the totals over the mixed
workload and their ratios to each baseline; manywheels' own overhead per identifier
(``timing.tool_s`` of the run record summed over build, repair and test; a stage that
reused another identifier's wheel only waited, and is left out) and where its
per-identifier time goes (command vs tool seconds per stage); a scaling row (markupsafe
with 1, 2 and 5 tags); the floor of each cibuildwheel variant (:func:`report.floors`:
its own timed steps, read from its log, with before_all serial and the rest spread
perfectly over the cores: the lowest wall time a tool running the same commands could
reach here) and issue 16's targets with the measured values, the cold one with that
floor. Results (every sample, the floor) go to ``<workdir>/results.json``, each run's
log to ``<workdir>/logs``.

What the environment forces, and nothing else: behind a TLS-intercepting proxy the CA
bundle reaches the containers (cibuildwheel: ``CIBW_ENVIRONMENT`` naming the bundle
under its default ``/host`` mount; the bare loop: a bind mount; manywheels passes it
itself), cibuildwheel is pointed at the local image (``CIBW_MANYLINUX_X86_64_IMAGE``),
and where cibuildwheel's abi3 audit cannot run (its pinned abi3audit dependencies
missing from the index, or, for the default frontend, github.com's virtualenv.pyz
unreachable: :func:`workloads.abi3_audit_blockers`) it is off for the abi3 workload
(``CIBW_AUDIT_COMMAND=""``) — and then manywheels' too (``MANYWHEELS_AUDIT_COMMAND=""``),
so every variant does the same work — noted in the output.

Usage, from the repository root with manywheels and nox installed::

    python benchmarks/compare.py                       # everything, 3 rounds
    python benchmarks/compare.py --rounds 1 --only cold,warm --workloads limitedapi \\
        --scaling ''                                   # a quick check
    python benchmarks/compare.py --image quay.io/pypa/manylinux_2_28_x86_64 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import machine, print_tables, summarize
from variants import VARIANTS, Bench, BenchmarkError, Sample
from workloads import (
    FIVE,
    WORKLOADS,
    Workload,
    cibuildwheel_venv,
    cibuildwheel_version,
    sources,
    test_image,
)

SCALING = "markupsafe"
"""The workload of the scaling row (1, 2 and 5 of its tags)."""


def _split(text: str, allowed: Sequence[str], what: str) -> list[str]:
    chosen = [item for item in text.split(",") if item]
    unknown = [item for item in chosen if item not in allowed]
    if unknown:
        msg = f"unknown {what} {unknown[0]!r}; allowed are {', '.join(allowed)}"
        raise BenchmarkError(msg)
    return [item for item in allowed if item in chosen]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--image", help="image to build in; default the local test image")
    parser.add_argument("--rounds", type=int, default=3, help="runs per variant (default 3)")
    parser.add_argument("--only", default=",".join(VARIANTS),
                        help="comma-separated variants: " + ", ".join(VARIANTS))
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated: " + ", ".join(WORKLOADS))
    parser.add_argument("--scaling", default="cibuildwheel-uv,cold,warm",
                        help="variants of the scaling row (markupsafe with 1, 2, 5 tags); "
                        "'' for none")
    parser.add_argument("--frontend", choices=("nox", "cli"), default="nox",
                        help="manywheels through `nox -s wheels` (default) or "
                        "`manywheels wheels`")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/manywheels-bench"),
                        help="sources, cibuildwheel venv, caches, logs, results.json")
    return parser.parse_args(argv)


Run = tuple[str, Workload, tuple[str, ...]]


def plan(variants: Sequence[str], workloads: Sequence[Workload],
         scaling: Sequence[str]) -> list[Run]:
    """The runs of one round: every variant on every workload, then the scaling runs
    (the 5-tag one is markupsafe's own run)."""
    runs = [(variant, workload, workload.tags) for variant in variants for workload in workloads]
    for count in (1, 2):
        runs += [(variant, WORKLOADS[SCALING], FIVE[-count:]) for variant in scaling]
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    variants = _split(args.only, VARIANTS, "variant")
    workloads = [WORKLOADS[name] for name in _split(args.workloads, list(WORKLOADS),
                                                    "workload")]
    scaling = _split(args.scaling, VARIANTS, "scaling variant")
    workdir: Path = args.workdir.resolve()
    for stale in ("runs", "warm-caches", "logs"):
        _remove(workdir / stale)
    workdir.mkdir(parents=True, exist_ok=True)
    image = args.image or test_image()
    needed = [*workloads, *([WORKLOADS[SCALING]] if scaling else [])]
    cibw = (cibuildwheel_venv(workdir)
            if any(v.startswith("cibuildwheel") for v in [*variants, *scaling]) else None)
    bench = Bench(image, workdir, sources(workdir, needed), cibw, args.frontend)
    info: dict[str, Any] = {
        "image": image, "machine": machine(), "rounds": args.rounds, "frontend": args.frontend,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "workloads": {w.name: {"source": w.requirement or str(w.path), "tags": w.tags}
                      for w in workloads}}
    if cibw is not None:
        info["cibuildwheel"] = cibuildwheel_version(cibw)
        if any(w.abi3 for w in workloads):
            info["notes"] = [f"{variant}: abi3 audit off (CIBW_AUDIT_COMMAND=''): {why}"
                             for variant, why in bench.audit_blockers.items()
                             if variant in variants]
            if bench.audit_blockers:
                info["notes"].append("manywheels: abi3 audit off too (MANYWHEELS_AUDIT_COMMAND=''),"
                                     " so every variant does the same work")
    runs = plan(variants, workloads, scaling)
    samples: list[Sample] = []
    try:
        for variant, name, tags in dict.fromkeys(
                (v, w.name, t) for v, w, t in runs if v == "warm"):
            for step in (1, 2):  # untimed: fill the caches the warm runs use
                print(f"warming the caches: {name} {len(tags)} tag(s) ({step}/2)",
                      file=sys.stderr)
                bench.run(variant, WORKLOADS[name], tags, -step)
        info["load_before"] = os.getloadavg()[0]
        for round_ in range(args.rounds):
            shift = round_ % max(1, len(runs))
            for variant, workload, tags in runs[shift:] + runs[:shift]:
                sample = bench.run(variant, workload, tags, round_)
                samples.append(sample)
                print(f"round {round_ + 1}: {variant:15} {workload.name:10} {len(tags)} tag(s) "
                      f"{sample.seconds:6.1f} s", file=sys.stderr)
        info["load_after"] = os.getloadavg()[0]
    finally:
        for cache in sorted((workdir / "warm-caches").glob("*")):
            bench.clean(cache)
    main_tags = {w.name: len(w.tags) for w in workloads}
    summary = summarize(samples, variants, main_tags,
                        {SCALING: (1, 2, 5)} if scaling else {})
    results = {**info, **summary, "samples": [s.__dict__ for s in samples]}
    (workdir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_tables(summary, main_tags, info)
    return 0


def _remove(path: Path) -> None:
    import shutil  # noqa: PLC0415

    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"benchmark: error: {error}", file=sys.stderr)
        sys.exit(1)
