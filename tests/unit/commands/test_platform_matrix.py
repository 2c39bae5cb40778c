"""``manywheels matrix`` and the generated workflow for several platforms: one entry per
platform group, no engine for the default images, aarch64 on native arm runners."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from manywheels.commands._matrix import platform_matrix, resolve_targets
from manywheels.commands._scaffold import render_workflow
from manywheels.config import load_config
from manywheels.frontends._cli import main

NO_ENGINE = "unix:///nonexistent/docker.sock"
ARCHS = 'archs = ["x86_64", "aarch64"]\npython = ["cp312", "cp313"]'


def project(tmp_path: Path, table: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\nrequires-python = ">=3.12"\n'
        f"[tool.manywheels]\n{table}\n"
    )
    return tmp_path


def test_default_images_need_no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    config = load_config(project(tmp_path, 'archs = ["x86_64", "aarch64"]'), env={})
    resolved = resolve_targets(config)
    assert not resolved.checked
    platforms = {t.identifier.split("-", 1)[1] for t in resolved.targets}
    assert platforms == {"manylinux_x86_64", "musllinux_x86_64", "manylinux_aarch64",
                         "musllinux_aarch64"}
    assert {t.python.tag for t in resolved.targets} == {"cp312", "cp313", "cp314"}


def test_one_entry_per_platform_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    config = load_config(project(tmp_path, ARCHS), env={})
    matrix = platform_matrix(resolve_targets(config).targets)
    include = matrix["include"]
    assert [e["name"] for e in include] == [
        "manylinux_x86_64", "musllinux_x86_64", "manylinux_aarch64", "musllinux_aarch64"]
    first = include[0]
    assert first == {
        "name": "manylinux_x86_64", "family": "manylinux", "arch": "x86_64",
        "image": "quay.io/pypa/manylinux_2_28_x86_64", "plat": "manylinux_2_28_x86_64",
        "python": "cp312 cp313",
        "identifiers": "cp312-manylinux_x86_64 cp313-manylinux_x86_64",
        "runner": "ubuntu-latest", "qemu": "false", "artifact": "wheels-manylinux_x86_64",
    }
    aarch64 = include[2]
    assert aarch64["image"] == "quay.io/pypa/manylinux_2_28_aarch64"
    assert (aarch64["runner"], aarch64["qemu"]) == ("ubuntu-latest", "true")
    arm = platform_matrix(resolve_targets(config).targets, arm_runners=True)["include"]
    assert [(e["arch"], e["runner"], e["qemu"]) for e in arm] == [
        ("x86_64", "ubuntu-latest", "false"), ("x86_64", "ubuntu-latest", "false"),
        ("aarch64", "ubuntu-24.04-arm", "false"), ("aarch64", "ubuntu-24.04-arm", "false")]
    split = platform_matrix(resolve_targets(config).targets, group_size=1)["include"]
    assert [e["name"] for e in split][:2] == ["cp312-manylinux_x86_64", "cp313-manylinux_x86_64"]
    assert len({e["artifact"] for e in split}) == len(split) == 8


def test_matrix_command_without_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    monkeypatch.chdir(project(tmp_path, ARCHS + '\nskip = "*musllinux*"'))
    assert main(["matrix", "--format", "json", "--arm-runners"]) == 0
    include = json.loads(capsys.readouterr().out)["include"]
    assert [(e["name"], e["runner"]) for e in include] == [
        ("manylinux_x86_64", "ubuntu-latest"), ("manylinux_aarch64", "ubuntu-24.04-arm")]


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
         "vendor.github-workflows", str(path)],
        text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
    )


@pytest.mark.parametrize("arm_runners", [False, True])
def test_platform_workflow_is_schema_valid_and_uses_the_entry_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arm_runners: bool
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    config = load_config(project(tmp_path, ARCHS), env={})
    text = render_workflow(config, arm_runners=arm_runners)
    path = tmp_path / "wheels.yml"
    path.write_text(text)
    result = check_jsonschema(path)
    assert result.returncode == 0, result.stdout
    workflow: dict[str, Any] = YAML(typ="safe").load(StringIO(text))
    wheels = workflow["jobs"]["wheels"]
    assert wheels["runs-on"] == "${{ matrix.runner }}"
    runs = [s.get("run", "") for s in wheels["steps"]]
    assert "nox -s wheels -- --archs ${{ matrix.arch }} --build ${{ matrix.identifiers }}" in runs
    qemu = next(s for s in wheels["steps"] if "setup-qemu" in s.get("uses", ""))
    assert qemu["if"] == "matrix.qemu == 'true'"
    matrix_step = next(s for s in workflow["jobs"]["matrix"]["steps"] if s.get("id") == "matrix")
    assert ("--arm-runners" in matrix_step["run"]) is arm_runners
    used = set(re.findall(r"(?<![.\w])matrix\.([a-z_]+)", text))
    entries = platform_matrix(resolve_targets(config).targets)["include"]
    for entry in entries:
        assert used <= set(entry), used - set(entry)
