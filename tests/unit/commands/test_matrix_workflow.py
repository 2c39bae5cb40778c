"""The CI workflow that `manywheels init` writes: valid against GitHub's workflow schema
(check-jsonschema's vendored copy) and wired to the matrix manywheels prints."""

from __future__ import annotations

import re
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from manywheels.commands._matrix import github_matrix
from manywheels.commands._scaffold import render_workflow
from manywheels.config import load_config
from manywheels.errors import ConfigError
from manywheels.naming._tags import PythonTag, identifier
from manywheels.plan._targets import Target, interpreter_path


def project(tmp_path: Path, table: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\nversion = "1"\n[tool.manywheels]\n{table}\n'
    )
    return tmp_path


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
         "vendor.github-workflows", str(path)],
        text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
    )


def load(text: str) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(StringIO(text))
    return data


@pytest.mark.parametrize(
    ("table", "kwargs"),
    [
        ("", {}),
        ('output-dir = "out/wheels"\ndist-dir = "build/dist"',
         {"requirement": "manywheels @ git+https://example.org/manywheels", "host_python": "3.13",
          "matrix_args": ["--group-size", "2"]}),
    ],
)
def test_rendered_workflow_is_valid(tmp_path: Path, table: str, kwargs: dict[str, Any]) -> None:
    config = load_config(project(tmp_path, table), env={})
    path = tmp_path / "wheels.yml"
    path.write_text(render_workflow(config, **kwargs))
    result = check_jsonschema(path)
    assert result.returncode == 0, result.stdout
    assert "ok -- validation done" in result.stdout


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    path = tmp_path / "wheels.yml"
    broken = render_workflow(load_config(project(tmp_path), env={})).replace(
        "runs-on: ubuntu-latest", "runs_on: ubuntu-latest", 1
    )
    path.write_text(broken)
    assert check_jsonschema(path).returncode != 0


def test_fan_out_and_gather(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, 'output-dir = "out/wheels"'), env={})
    workflow = load(render_workflow(config, matrix_args=["--groups", "3"]))
    jobs = workflow["jobs"]
    assert set(jobs) == {"matrix", "wheels", "sdist", "publish"}

    matrix_step = next(s for s in jobs["matrix"]["steps"] if s.get("id") == "matrix")
    assert "manywheels matrix --format github --groups 3" in matrix_step["run"]
    assert "$GITHUB_OUTPUT" in matrix_step["run"]
    assert jobs["matrix"]["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}"

    wheels = jobs["wheels"]
    assert wheels["needs"] == "matrix"
    assert wheels["strategy"]["matrix"] == "${{ fromJSON(needs.matrix.outputs.matrix) }}"
    runs = [s.get("run", "") for s in wheels["steps"]]
    assert "nox -s wheels -- --python ${{ matrix.python }}" in runs
    upload = next(s for s in wheels["steps"] if s.get("uses", "").startswith(
        "actions/upload-artifact") and s["with"]["name"] == "${{ matrix.artifact }}")
    assert upload["with"]["path"] == "out/wheels/*.whl"

    publish = jobs["publish"]
    assert set(publish["needs"]) == {"wheels", "sdist"}
    assert publish["permissions"] == {"id-token": "write"}
    download = publish["steps"][0]
    assert download["uses"].startswith("actions/download-artifact")
    assert download["with"] == {"pattern": "wheels-*", "path": "dist", "merge-multiple": True}
    assert publish["steps"][-1]["uses"].startswith("pypa/gh-action-pypi-publish")


@pytest.mark.parametrize("archs", [None, "x86_64 aarch64"])
def test_publish_uses_trusted_publishing_and_no_token(tmp_path: Path, archs: str | None) -> None:
    """PyPI's trusted publishing: an OIDC token (``id-token: write`` on the publish job
    only), pypa/gh-action-pypi-publish without a password, no secret anywhere."""
    table = f'archs = "{archs}"' if archs else ""
    text = render_workflow(load_config(project(tmp_path, table), env={}))
    workflow = load(text)
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert [name for name, job in jobs.items() if "id-token" in job.get("permissions", {})] \
        == ["publish"]
    publish = jobs["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"] == "pypi"
    (step,) = [s for s in publish["steps"]
               if s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
    assert not {"password", "user", "username"} & set(step.get("with") or {})
    assert "secrets." not in text and "TWINE_PASSWORD" not in text
    assert "github.event_name == 'release'" in publish["if"]


def test_workflow_uses_only_keys_the_matrix_has(tmp_path: Path) -> None:
    text = render_workflow(load_config(project(tmp_path), env={}))
    used = set(re.findall(r"(?<![.\w])matrix\.([a-z_]+)", text))
    tags = [PythonTag(3, 12), PythonTag(3, 13)]
    plat = "manylinux_2_28_x86_64"
    entries = github_matrix(
        [Target(identifier(t, plat), t, interpreter_path(t), "img", plat) for t in tags]
    )["include"]
    assert used
    for entry in entries:
        assert used <= set(entry), used - set(entry)
        assert entry["artifact"].startswith("wheels-")  # what the publish job downloads


def test_output_dir_outside_the_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    root = project(tmp_path / "p")
    config = load_config(root, env={}, argv=["--output-dir", str(tmp_path / "elsewhere")])
    with pytest.raises(ConfigError, match="outside the project"):
        render_workflow(config)
