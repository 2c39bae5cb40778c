"""The CI job matrix and target resolution without an engine (manywheels.commands._matrix)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from manywheels.commands._matrix import (
    github_matrix,
    group_targets,
    plat_from_image_name,
    render_matrix,
    resolve_targets,
)
from manywheels.config import load_config
from manywheels.errors import ConfigError, EngineUnavailableError
from manywheels.naming._tags import PythonTag, identifier
from manywheels.plan._targets import Target, interpreter_path

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def project(tmp_path: Path, table: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\nrequires-python = ">=3.10"\n'
        f"[tool.manywheels]\n{table}\n"
    )
    return tmp_path


def targets(*minors: int, plat: str = "manylinux_2_28_x86_64") -> list[Target]:
    tags = [PythonTag(3, m) for m in minors]
    return [Target(identifier(t, plat), t, interpreter_path(t), "img", plat) for t in tags]


@pytest.mark.parametrize(
    ("image", "plat"),
    [
        ("quay.io/pypa/manylinux_2_28_x86_64", "manylinux_2_28_x86_64"),
        ("quay.io/pypa/manylinux_2_28_x86_64:2025.01.05-1", "manylinux_2_28_x86_64"),
        ("quay.io/pypa/manylinux2014_aarch64@sha256:" + "a" * 64, "manylinux2014_aarch64"),
        ("quay.io/pypa/musllinux_1_2_x86_64", "musllinux_1_2_x86_64"),
        ("localhost:5000/pypa/manylinux_2_34_x86_64:latest", "manylinux_2_34_x86_64"),
        ("manywheels-test:040968830d5f", None),
        ("ubuntu:24.04", None),
        ("quay.io/pypa/manylinux_x86_64", None),
    ],
)
def test_plat_from_image_name(image: str, plat: str | None) -> None:
    assert plat_from_image_name(image) == plat


def test_one_entry_per_identifier() -> None:
    matrix = github_matrix(targets(11, 12, 13))
    assert [e["name"] for e in matrix["include"]] == [
        "cp311-manylinux_x86_64", "cp312-manylinux_x86_64", "cp313-manylinux_x86_64",
    ]
    first = matrix["include"][0]
    assert first == {
        "name": "cp311-manylinux_x86_64",
        "python": "cp311",
        "identifiers": "cp311-manylinux_x86_64",
        "image": "img",
        "plat": "manylinux_2_28_x86_64",
        "artifact": "wheels-cp311-manylinux_x86_64",
    }


def test_groups_of_identifiers() -> None:
    by_size = github_matrix(targets(9, 10, 11, 12, 13), group_size=2)["include"]
    assert [e["python"] for e in by_size] == ["cp39 cp310", "cp311 cp312", "cp313"]
    assert by_size[0]["name"] == "cp39-cp310-manylinux_x86_64"
    assert by_size[0]["identifiers"] == "cp39-manylinux_x86_64 cp310-manylinux_x86_64"
    by_count = github_matrix(targets(9, 10, 11, 12, 13), groups=2)["include"]
    assert [e["python"] for e in by_count] == ["cp39 cp310 cp311", "cp312 cp313"]
    assert len(github_matrix(targets(11), groups=4)["include"]) == 1


@given(st.integers(1, 12), st.integers(1, 15))
def test_groups_cover_every_target_once_and_balance(count: int, groups: int) -> None:
    items = targets(*range(6, 6 + count))
    split = group_targets(items, groups=groups)
    assert [t for g in split for t in g] == items
    assert len(split) == min(groups, count)
    sizes = {len(g) for g in split}
    assert max(sizes) - min(sizes) <= 1


@given(st.integers(1, 12), st.integers(1, 15))
def test_group_size_keeps_order_and_names_are_unique(count: int, size: int) -> None:
    items = targets(*range(6, 6 + count))
    matrix = github_matrix(items, group_size=size)
    names = [e["name"] for e in matrix["include"]]
    assert len(names) == len(set(names))
    assert " ".join(e["python"] for e in matrix["include"]).split() == [
        t.python.tag for t in items
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"group_size": 2, "groups": 2}, "not both"),
        ({"group_size": 0}, "--group-size must be"),
        ({"groups": 0}, "--groups must be"),
    ],
)
def test_bad_grouping(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        github_matrix(targets(11, 12), **kwargs)


def test_no_targets_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no identifiers"):
        github_matrix([])


def test_render_formats() -> None:
    matrix = github_matrix(targets(12))
    line = render_matrix(matrix, "github")
    assert "\n" not in line
    assert json.loads(line) == matrix
    assert json.loads(render_matrix(matrix, "json")) == matrix
    with pytest.raises(ConfigError, match="unknown format"):
        render_matrix(matrix, "yaml")


def test_explicit_python_needs_no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE["DOCKER_HOST"])
    config = load_config(project(tmp_path, 'python = ["cp312", "3.11"]'), env={})
    resolved = resolve_targets(config)
    assert not resolved.checked
    assert [t.identifier for t in resolved.targets] == [
        "cp311-manylinux_x86_64", "cp312-manylinux_x86_64",
    ]
    assert resolved.targets[0].interpreter == "/opt/python/cp311-cp311/bin/python"
    assert resolved.targets[0].plat == "manylinux_2_28_x86_64"


def test_explicit_plat_for_an_image_without_a_telling_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE["DOCKER_HOST"])
    root = project(tmp_path, 'python = ["cp312"]\nimage = "my/builder:1"\n'
                             'plat = "musllinux_1_2_aarch64"')
    resolved = resolve_targets(load_config(root, env={}))
    assert [t.identifier for t in resolved.targets] == ["cp312-musllinux_aarch64"]


def test_no_engine_and_no_python_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE["DOCKER_HOST"])
    config = load_config(project(tmp_path), env={})
    with pytest.raises(EngineUnavailableError) as caught:
        resolve_targets(config)
    message = str(caught.value)
    assert "python is not configured" in message
    assert "MANYWHEELS_PYTHON" in message
    assert "\n" not in message


def test_no_engine_and_unknown_platform_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE["DOCKER_HOST"])
    config = load_config(project(tmp_path, 'python = ["cp312"]\nimage = "my/builder:1"'), env={})
    with pytest.raises(EngineUnavailableError, match="set plat"):
        resolve_targets(config)
