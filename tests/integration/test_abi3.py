"""abi3 wheels in real containers (issue 13 item 4): the ``limitedapi`` fixture (setuptools
``py_limited_api`` cp39) for three tags gives one ``cp39-abi3`` wheel, built and repaired
once, tested on all three interpreters and audited by the real abi3audit; a variant that
calls outside the stable ABI fails the audit with one line."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.engine import find_ca_bundle
from manywheels.errors import StageFailedError
from manywheels.stages._run import Run
from manywheels.stages.build import build
from manywheels.stages.repair import repair
from manywheels.stages.test import test as stage_test
from tests.conftest import PACKAGES

ABI3AUDIT = "abi3audit==0.0.26"
"""The abi3audit the derived image ships (the one manylinux pins today)."""
LABEL = "io.manywheels.test=abi3audit"
TEST_COMMAND = ('python -c "import limitedapi; assert limitedapi.add(2, 3) == 5" && '
                'python -c "import sys; print(\'tested on\', sys.version_info[:2])"')
PLATFORM = "manylinux_x86_64"


def limitedapi(tmp_path: Path) -> Path:
    project = tmp_path / "limitedapi"
    shutil.copytree(PACKAGES / "limitedapi", project)
    return project


def run_stages(project: Path, **overrides: Any) -> Run:
    config = load_config(project, env={}, overrides={"cache": False, **overrides})
    with Run(config, UI(echo=False), host_env=None) as run:
        build(run)
        repair(run)
        stage_test(run)
    return run


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], text=True, capture_output=True, check=False,
                          timeout=900)


@pytest.fixture(scope="module")
def image_with_abi3audit(test_image: str) -> str:
    """The test image plus abi3audit on PATH, as the manylinux images ship it (pipx:
    ``/usr/local/bin/abi3audit``); tagged by the test image's id and abi3audit's version."""
    image_id = docker("image", "inspect", "--format", "{{.Id}}", test_image).stdout.strip()
    tag = hashlib.sha256(f"{image_id} {ABI3AUDIT}".encode()).hexdigest()[:16]
    ref = f"manywheels-test-abi3audit:{tag}"
    if docker("image", "inspect", ref).returncode == 0:
        return ref
    name = f"mw-abi3audit-{tag}"
    mount: list[str] = []
    ca = find_ca_bundle()
    if ca is not None:  # the CA reaches pip only: nothing of it is committed
        mount = ["-v", f"{ca}:/ca.crt:ro"]
    venv = "/opt/_internal/pipx/venvs/abi3audit"
    script = (f"set -e; /opt/python/cp312-cp312/bin/python -m venv {venv}; "
              f"{'PIP_CERT=/ca.crt ' if ca else ''}{venv}/bin/python -m pip install -q "
              f"--disable-pip-version-check {ABI3AUDIT}; "
              f"ln -s {venv}/bin/abi3audit /usr/local/bin/abi3audit; abi3audit --version")
    made = docker("run", "--name", name, "--label", LABEL, *mount, test_image, "bash", "-c",
                  script)
    try:
        assert made.returncode == 0, made.stdout + made.stderr
        committed = docker("commit", "--change", f"LABEL {LABEL}", name, ref)
        assert committed.returncode == 0, committed.stderr
    finally:
        docker("rm", "-f", name)
    return ref


def test_an_abi3_wheel_is_built_once_tested_on_three_pythons_and_audited(
        test_image: str, tmp_path: Path) -> None:
    project = limitedapi(tmp_path)
    run = run_stages(project, image=test_image, python=["cp39", "cp310", "cp311"], jobs=3,
                     test_command=TEST_COMMAND)
    first, *later = (f"cp{v}-{PLATFORM}" for v in (39, 310, 311))
    wheelhouse = project / "wheelhouse"
    (repaired,) = [p.name for p in wheelhouse.glob("*.whl")]
    # auditwheel names every policy the wheel satisfies (the image's among them)
    assert re.fullmatch(r"limitedapi-1\.0\.0-cp39-abi3-\S*manylinux_2_\d+_x86_64\S*\.whl",
                        repaired), repaired
    (raw,) = [p.name for p in (project / "dist").glob("*.whl")]
    assert raw == "limitedapi-1.0.0-cp39-abi3-linux_x86_64.whl"
    logs = wheelhouse / "logs"
    # built and repaired once: only the first identifier ran a build or repair script
    assert sorted(p.parent.name for p in logs.glob("*/build.log")) == [first]
    assert sorted(p.parent.name for p in logs.glob("*/repair.log")) == [first]
    report = json.loads((wheelhouse / "manywheels-report.json").read_text())
    targets = report["targets"]
    for identifier in later:
        stages = targets[identifier]["stages"]
        assert stages["build"]["reused_from"] == first
        assert stages["build"]["wheel"] == raw
        assert stages["repair"]["reused_from"] == first
        assert stages["repair"]["wheel"] == repaired
        assert stages["repair"]["sha256"] == targets[first]["stages"]["repair"]["sha256"]
        assert "audit" not in stages  # audited once, for the wheel's builder
    assert "reused_from" not in targets[first]["stages"]["build"]
    # tested on each identifier's own interpreter
    for identifier, version in zip([first, *later], ["(3, 9)", "(3, 10)", "(3, 11)"],
                                   strict=True):
        test = targets[identifier]["stages"]["test"]
        assert (test["status"], test["wheel"]) == ("passed", repaired)
        assert f"tested on {version}" in (logs / identifier / "test.log").read_text()
    # audited by the real abi3audit (the local test image has none: a venv of it; a real
    # manylinux image: its own)
    audit = targets[first]["stages"]["audit"]
    assert (audit["status"], audit["wheel"]) == ("passed", repaired)
    audit_log = (logs / first / "audit.log").read_text()
    assert "abi3audit --strict --report" in audit_log
    (line,) = [line for line in audit_log.splitlines() if line.startswith('{"specs"')]
    (spec,) = json.loads(line)["specs"].values()
    (extension,) = spec["wheel"]
    assert extension["name"] == "_speedups.abi3.so"
    assert extension["result"]["is_abi3"] is True
    assert extension["result"]["non_abi3_symbols"] == []
    assert run.report.stage(later[0], "test")["reused_from"] == first


def test_a_wheel_outside_the_stable_abi_fails_the_audit_with_one_line(
        image_with_abi3audit: str, tmp_path: Path) -> None:
    project = limitedapi(tmp_path)
    config = load_config(project, env={}, overrides={
        "cache": False, "image": image_with_abi3audit, "python": ["cp39", "cp310"],
        "environment": {"LIMITEDAPI_VIOLATE": "1"}, "test_command": TEST_COMMAND})
    first, later = f"cp39-{PLATFORM}", f"cp310-{PLATFORM}"
    with Run(config, UI(echo=False), host_env=None) as run:
        build(run)
        with pytest.raises(StageFailedError) as caught:
            repair(run)
        report = run.report
    assert set(caught.value.failures) == {first, later}
    for identifier in (first, later):
        reason = caught.value.failures[identifier]
        assert "\n" not in reason
        assert re.search(r"limitedapi-1\.0\.0-cp39-abi3-\S*manylinux_2_\d+_x86_64\S*\.whl fails "
                         "the audit-command: _speedups.abi3.so uses symbols outside the "
                         "stable ABI: PyObject_Print", reason), reason
        assert report.stage(identifier, "repair")["status"] == "failed"
    assert f"(reused from {first})" in caught.value.failures[later]
    assert report.stage(first, "audit")["status"] == "failed"
    assert not list((project / "wheelhouse").glob("*.whl"))  # never copied out
    audit_log = (project / "wheelhouse" / "logs" / first / "audit.log").read_text()
    assert "abi3audit from the image: /usr/local/bin/abi3audit" in audit_log
    assert '"non_abi3_symbols": ["PyObject_Print"]' in audit_log
    # the repair log (whose tail a failing stage shows) ends with what the audit said
    repair_log = (project / "wheelhouse" / "logs" / first / "repair.log").read_text()
    assert repair_log.splitlines()[-1] == caught.value.failures[first].split("; log: ")[0]
