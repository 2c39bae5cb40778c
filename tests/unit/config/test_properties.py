"""Property-based tests (hypothesis) of configuration merging: the highest layer wins,
bad values in any layer are one line naming key and source."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from manywheels.config import DEFAULT_IMAGE, load_config
from manywheels.errors import ConfigError
from manywheels.naming._tags import (
    parse_python_tag,
)
from tests.unit.strategies import policies, tags, var_names, words

LAYERS = ("pyproject.toml", "code", "environment", "command line")


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items()) + " }"
    return "[" + ", ".join(json.dumps(v) for v in value) + "]"


def _env(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "0"
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return " ".join(value)
    return str(value)


def _argv(flag: str, value: Any) -> list[str]:
    if isinstance(value, bool):
        return [flag if value else "--no-" + flag[2:]]
    if isinstance(value, dict):
        return [flag, *(f"{k}={v}" for k, v in value.items())]
    if isinstance(value, list):
        return [flag, *value]
    return [flag, str(value)]


# key -> (strategy of values, Config attribute, flag, env var, how a value reads back)
KEYS: dict[str, tuple[st.SearchStrategy[Any], str, str, str]] = {
    "image": (words, "image", "--image", "MANYWHEELS_IMAGE"),
    "plat": (policies.map(lambda p: p[0]), "plat", "--plat", "MANYWHEELS_PLAT"),
    "jobs": (st.integers(1, 64), "jobs", "--jobs", "MANYWHEELS_JOBS"),
    "fail-fast": (st.booleans(), "fail_fast", "--fail-fast", "MANYWHEELS_FAIL_FAST"),
    "frontend": (st.sampled_from(["build", "pip", "uv"]), "frontend", "--frontend",
                 "MANYWHEELS_FRONTEND"),
    "test-requires": (st.lists(words, min_size=1, max_size=3), "test_requires",
                      "--test-requires", "MANYWHEELS_TEST_REQUIRES"),
    "environment": (st.dictionaries(var_names, words, min_size=1, max_size=3), "environment",
                    "--environment", "MANYWHEELS_ENVIRONMENT"),
    "python": (st.lists(tags.map(lambda t: t.tag), min_size=1, max_size=3, unique=True),
               "python", "--python", "MANYWHEELS_PYTHON"),
}


def _expected(key: str, value: Any) -> Any:
    if key == "test-requires":
        return tuple(value)
    if key == "python":
        return tuple(parse_python_tag(v) for v in value)
    return value


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mw-props-") as directory:
        yield Path(directory)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(
    st.sampled_from(sorted(KEYS)),
    st.lists(st.one_of(st.none(), st.just(0)), min_size=4, max_size=4), min_size=1,
).flatmap(lambda plan: st.fixed_dictionaries({
    key: st.tuples(*[st.none() if slot is None else KEYS[key][0] for slot in slots])
    for key, slots in plan.items()
})))
def test_the_highest_layer_that_sets_a_key_wins(scratch: Path,
                                                plan: dict[str, tuple[Any, ...]]) -> None:
    toml_lines: list[str] = []
    code: dict[str, Any] = {}
    env: dict[str, str] = {}
    argv: list[str] = []
    for key, (in_toml, in_code, in_env, in_argv) in plan.items():
        _, attr, flag, var = KEYS[key]
        if in_toml is not None:
            toml_lines.append(f"{key} = {_toml(in_toml)}")
        if in_code is not None:
            code[attr] = in_code
        if in_env is not None:
            env[var] = _env(in_env)
        if in_argv is not None:
            argv += _argv(flag, in_argv)
    (scratch / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\n[tool.manywheels]\n' + "\n".join(toml_lines)
        + "\n")
    config = load_config(scratch, env=env, overrides=code, argv=argv)
    for key, values in plan.items():
        _, attr, _, var = KEYS[key]
        chosen = [(layer, v) for layer, v in zip(LAYERS, values, strict=True) if v is not None]
        if not chosen:
            continue
        layer, value = chosen[-1]
        assert getattr(config, attr) == _expected(key, value), (key, layer)
        assert config.sources[key] == (var if layer == "environment" else layer)
    if "image" not in plan or all(v is None for v in plan["image"]):
        assert config.image == DEFAULT_IMAGE


# (key, layer, raw value as that layer spells it): every one is invalid.
BAD: list[tuple[str, str, Any]] = [
    *[("jobs", "pyproject.toml", v) for v in (0, -3, "many", 2.5, True)],
    *[("jobs", "code", v) for v in (0, "many", True, 2.5)],
    *[("jobs", "environment", v) for v in ("0", "many", "-1", "2.5")],
    *[("jobs", "command line", v) for v in (["--jobs", "0"], ["--jobs", "many"])],
    *[("fail-fast", "pyproject.toml", v) for v in ("maybe", 3)],
    *[("fail-fast", "code", v) for v in ("maybe", 3)],
    *[("fail-fast", "environment", v) for v in ("maybe", "2")],
    ("fail-fast", "command line", ["--fail-fast=maybe"]),
    *[("frontend", "pyproject.toml", v) for v in ("poetry", 1)],
    ("frontend", "code", "poetry"),
    *[("frontend", "environment", v) for v in ("poetry", "")],
    ("frontend", "command line", ["--frontend", "poetry"]),
    *[("python", "pyproject.toml", v) for v in ("py312", ["3.12", "cp99x"], 3.12)],
    *[("python", "code", v) for v in ("py312", ["cp2"])],
    *[("python", "environment", v) for v in ("py312", "3.12 cp99x")],
    ("python", "command line", ["--python", "py312"]),
    *[("environment", "pyproject.toml", v) for v in (["NOEQUALS"], 3)],
    *[("environment", "code", v) for v in (["NOEQUALS"], {"1BAD": "x"}, 3)],
    *[("environment", "environment", v) for v in ("NOEQUALS", "=x", "1BAD=x")],
    ("environment", "command line", ["--environment", "NOEQUALS"]),
    *[("image", "pyproject.toml", v) for v in (3, ["a"], False)],
    *[("image", "code", v) for v in (3, ["a"])],
]


@settings(max_examples=100, deadline=None)
@given(case=st.sampled_from(BAD), other=st.sampled_from(LAYERS))
def test_a_bad_value_in_any_layer_is_one_line_naming_key_and_source(
    scratch: Path, case: tuple[str, str, Any], other: str,
) -> None:
    key, layer, value = case
    _, attr, flag, var = KEYS[key]
    toml = f"{key} = {_toml(value)}" if layer == "pyproject.toml" else ""
    code = {attr: value} if layer == "code" else {}
    env = {var: value} if layer == "environment" else {}
    argv = list(value) if layer == "command line" else []
    # A valid value in a lower layer does not hide the bad one.
    if other == "pyproject.toml" and not toml and key != "python":
        toml = f'{key} = {_toml({"jobs": 2, "fail-fast": True, "frontend": "pip", "image": "i", "environment": {"A": "1"}}[key])}'
    (scratch / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\n[tool.manywheels]\n' + toml + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(scratch, env=env, overrides=code, argv=argv)
    message = str(caught.value)
    assert "\n" not in message
    assert key in message or flag in message or "python tag" in message, message
    source = {"environment": var, "command line": "command line", "code": "code",
              "pyproject.toml": "pyproject.toml"}[layer]
    assert source in message or "python tag" in message, message


@settings(max_examples=60, deadline=None)
@given(name=st.from_regex(r"\A[a-z][a-z0-9-]{0,14}\Z"))
def test_unknown_table_keys_are_named_with_the_allowed_ones(scratch: Path, name: str) -> None:
    assume(name not in {"python", "image", "plat", "before-all", "before-build", "environment",
                        "environment-pass", "frontend", "test-command", "test-requires",
                        "test-extras", "project-dir", "dist-dir", "output-dir", "jobs",
                        "fail-fast", "publish", "cache", "cache-dir", "ccache"})
    (scratch / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\nversion = "1"\n[tool.manywheels]\n{name} = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(scratch, env={})
    message = str(caught.value)
    assert f"unknown key {name!r}" in message and "allowed are" in message
    assert "python" in message and "\n" not in message
