"""benchmarks/: cibuildwheel's timed steps read from its log, and the floor they give
(the wall time of its own commands with before_all serial and the rest perfectly parallel)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:  # the benchmark's modules import each other by name
    sys.path.insert(0, str(BENCHMARKS))

from report import _print_targets, floor_seconds, print_tables, summarize  # noqa: E402
from variants import Sample, cibuildwheel_steps  # noqa: E402

# cibuildwheel 4.3.5, CIBW_BUILD_FRONTEND=build[uv], psycopg2 2.9.10 for cp312 and cp313
# (benchmark log cibuildwheel-uv-psycopg2-2-0.log of 2026-11-26, most command output cut)
PSYCOPG2_LOG = """\
2 builds selected:
cp312-manylinux_x86_64, cp313-manylinux_x86_64

Here we go!

Starting container image manywheels-test:d9f70cc87b86...

info: This container will host the build for cp312-manylinux_x86_64, cp313-manylinux_x86_64...
    + test -x /opt/python/cp313-cp313/bin/python

                                                                       ✓ 0.23s
Copying project into container...

    + mkdir -p /project

                                                                       ✓ 0.15s
Running before_all...

    + sh -c 'apt-get update -qq && apt-get install -y -qq libpq-dev'
Preparing to unpack .../6-libpq-dev_15.18-0+deb12u1_amd64.deb ...
Unpacking libpq-dev (15.18-0+deb12u1) ...
Setting up libpq-dev (15.18-0+deb12u1) ...

                                                                       ✓ 2.51s

Building cp312-manylinux_x86_64 wheel
CPython 3.12 manylinux x86_64

Setting up build environment...

    + which uv

                                                                       ✓ 0.08s
Building wheel...

    + python -m build /project --wheel --outdir=/tmp/cibuildwheel/built_wheel --installer=uv
* Creating isolated environment: venv+uv...
Successfully built psycopg2-2.9.10-cp312-cp312-linux_x86_64.whl

                                                                       ✓ 6.03s
Repairing wheel...

    + sh -c 'auditwheel repair -w /tmp/cibuildwheel/repaired_wheel /tmp/cibuildwheel/built_wheel/psycopg2-2.9.10-cp312-cp312-linux_x86_64.whl'

                                                                       ✓ 1.17s
No audit required for this wheel, as it is not abi3
Testing wheel...

    + sh -c 'python -c "import psycopg2"'

                                                                       ✓ 0.27s

✓ cp312-manylinux_x86_64 finished in 7 seconds

Building cp313-manylinux_x86_64 wheel
CPython 3.13 manylinux x86_64

Setting up build environment...

                                                                       ✓ 0.08s
Building wheel...

                                                                       ✓ 5.43s
Repairing wheel...

                                                                       ✓ 1.12s
No audit required for this wheel, as it is not abi3
Testing wheel...

                                                                       ✓ 0.27s

✓ cp313-manylinux_x86_64 finished in 6 seconds
Copying wheels back to host...

+ docker cp cibuildwheel-6927c858:/output/. /tmp/manywheels-bench2/runs/cibw-wheelhouse

                                                                       ✓ 0.07s

2 wheels produced in 17 seconds
"""
PSYCOPG2_STEPS = 0.23 + 0.15 + 2.51 + 2 * 0.08 + 6.03 + 5.43 + 1.17 + 1.12 + 2 * 0.27 + 0.07

# the same tool on the abi3 fixture (no before_all; two identifiers reuse the first wheel),
# as it prints on GitHub Actions: coloured, steps in fold groups
LIMITEDAPI_LOG = """\
::group::Starting container image manywheels-test:d9f70cc87b86...

                                                                \x1b[32m✓ \x1b[0m0.21s
::endgroup::Starting container image manywheels-test:d9f70cc87b86...
::group::Building wheel...

                                                                \x1b[32m✓ \x1b[0m1.41s
Found previously built wheel limitedapi-1.0.0-cp39-abi3-manylinux1_x86_64.whl, that's \
compatible with cp312-manylinux_x86_64. Skipping build step...
::group::Testing wheel...

                                                                \x1b[32m✓ \x1b[0m0.22s
\x1b[32m✓ \x1b[0mcp312-manylinux_x86_64 finished in 299 milliseconds
"""


def test_steps_and_before_all_from_a_real_log() -> None:
    parsed = cibuildwheel_steps(PSYCOPG2_LOG)
    assert parsed is not None
    steps, before_all = parsed
    assert steps == pytest.approx(17.41)
    assert steps == pytest.approx(PSYCOPG2_STEPS)
    assert before_all == pytest.approx(2.51)


def test_coloured_fold_groups_and_no_before_all() -> None:
    # a build's "✓ ... finished in" line (not indented) is no step end
    parsed = cibuildwheel_steps(LIMITEDAPI_LOG)
    assert parsed is not None
    assert parsed[0] == pytest.approx(0.21 + 1.41 + 0.22)
    assert parsed[1] == 0.0


def test_a_log_without_steps_gives_none() -> None:
    assert cibuildwheel_steps("cibuildwheel: error: no build identifiers selected\n") is None


def test_floor_arithmetic() -> None:
    # before_all serial, the other 14.90 s spread over two cores
    assert floor_seconds(17.41, 2.51, 2) == pytest.approx(2.51 + 14.90 / 2)
    assert floor_seconds(9.0, 0.0, 3) == pytest.approx(3.0)
    assert floor_seconds(5.0, 1.0, 1) == pytest.approx(5.0)


def _sample(workload: str, tags: int, seconds: float, steps: float | None,
            before_all: float | None, *, variant: str = "cibuildwheel-uv") -> Sample:
    sample = Sample(variant, workload, tags, 0, seconds)
    sample.steps_s, sample.before_all_s = steps, before_all
    return sample


def test_summary_floor_medians_totals_and_ratio() -> None:
    samples = [
        _sample("psycopg2", 2, 18.0, 17.41, 2.51),  # floor 9.96
        _sample("psycopg2", 2, 17.7, 17.05, 2.34),  # floor 9.695
        _sample("psycopg2", 2, 18.7, 18.02, 2.59),  # floor 10.305
        _sample("markupsafe", 5, 10.0, 9.57, 0.0),  # floor 4.785
        _sample("markupsafe", 5, 9.6, 9.17, 0.0),  # floor 4.585
        _sample("markupsafe", 5, 10.5, None, None),  # log did not parse: left out
        _sample("markupsafe", 2, 4.3, 3.0, 0.0),  # another tag count: not the main run
        _sample("markupsafe", 5, 6.8, None, None, variant="cold"),
    ]
    summary = summarize(samples, ["cibuildwheel-uv", "cold"],
                        {"markupsafe": 5, "psycopg2": 2}, {}, cores=2)
    floor = summary["floor"]
    assert floor["cores"] == 2
    assert list(floor["variants"]) == ["cibuildwheel-uv"]
    row = floor["variants"]["cibuildwheel-uv"]["medians"]
    assert row["psycopg2"] == pytest.approx(9.96)
    assert row["markupsafe"] == pytest.approx((4.785 + 4.585) / 2)
    assert row["total"] == pytest.approx(9.96 + 4.685)
    measured = summary["medians"]["cibuildwheel-uv"]["total"]
    assert measured == pytest.approx(18.0 + 10.0)
    assert floor["variants"]["cibuildwheel-uv"]["ratio"] == pytest.approx(14.645 / 28.0)


def test_no_parsed_log_gives_no_floor(capsys: pytest.CaptureFixture[str]) -> None:
    samples = [_sample("psycopg2", 2, 18.0, None, None),
               _sample("psycopg2", 2, 9.0, None, None, variant="cold")]
    summary = summarize(samples, ["cibuildwheel-uv", "cold"], {"psycopg2": 2}, {}, cores=2)
    assert summary["floor"]["variants"]["cibuildwheel-uv"] == {
        "medians": {"psycopg2": None, "total": None}, "ratio": None}
    _print_targets(summary)
    out = capsys.readouterr().out
    assert "target cold / cibuildwheel build[uv], total: 0.50 (≤ 0.5) met" in out
    assert "lowest reachable" not in out


@pytest.mark.parametrize(("steps", "before_all", "shown"), [
    (17.41, 2.51, "0.55 x (the target is below it)"),  # 9.96 s of 18.0 s
    (14.0, 0.0, "0.39 x (reachable)"),  # 7.0 s of 18.0 s
])
def test_targets_show_the_floor_next_to_the_cold_target(
        steps: float, before_all: float, shown: str, capsys: pytest.CaptureFixture[str]) -> None:
    samples = [_sample("psycopg2", 2, 18.0, steps, before_all),
               _sample("psycopg2", 2, 14.4, None, None, variant="cold")]
    _print_targets(summarize(samples, ["cibuildwheel-uv", "cold"], {"psycopg2": 2}, {}, cores=2))
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [
        "target cold / cibuildwheel build[uv], total: 0.80 (≤ 0.5) NOT met",
        "  lowest reachable on 2 cores by a tool running cibuildwheel build[uv]'s commands: "
        + shown]


def test_floor_without_a_cold_run(capsys: pytest.CaptureFixture[str]) -> None:
    samples = [_sample("psycopg2", 2, 18.0, 17.41, 2.51)]
    _print_targets(summarize(samples, ["cibuildwheel-uv"], {"psycopg2": 2}, {}, cores=2))
    assert capsys.readouterr().out == (
        "target cold / cibuildwheel build[uv], total (≤ 0.5): lowest reachable on 2 cores by a "
        "tool running cibuildwheel build[uv]'s commands: 0.55 x (the target is below it)\n")


def test_table_has_a_floor_row(capsys: pytest.CaptureFixture[str]) -> None:
    samples = [_sample("psycopg2", 2, 18.0, 17.41, 2.51),
               _sample("psycopg2", 2, 14.4, None, None, variant="cold")]
    summary = summarize(samples, ["cibuildwheel-uv", "cold"], {"psycopg2": 2}, {}, cores=2)
    info = {"rounds": 1, "image": "manylinux", "frontend": "nox", "date": "2026-11-26",
            "load_before": 0.5, "load_after": 0.7,
            "machine": {"cpu": "EPYC", "cores": 2, "memory": "24 GiB", "kernel": "6.18",
                        "docker": "20.10", "python": "3.11"}}
    print_tables(summary, {"psycopg2": 2}, info)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:5] == [
        "| variant | psycopg2 (2 tags) | total | ratio to cibuildwheel, build[uv] |",
        "|---|---|---|---|",
        "| cibuildwheel, build[uv] | 18.0 s | 18.0 s | 1.00 |",
        "| manywheels, cold | 14.4 s | 14.4 s | 0.80 |",
        "| floor: cibuildwheel build[uv]'s own step times on 2 cores | 10.0 s | 10.0 s | 0.55 |",
    ]
    assert any(line.startswith("floor: the lowest wall time reachable with cibuildwheel's own "
                               "commands") for line in lines)
