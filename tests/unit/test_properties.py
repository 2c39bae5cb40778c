"""Property-based tests (hypothesis): tag and identifier parsing, configuration merging,
environment hygiene and leftover classification."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from manywheels._lock import classify_leftovers, owner_alive, owner_token
from manywheels.config import DEFAULT_IMAGE, load_config
from manywheels.engine._docker import CA_BUNDLE_PATH, INDEX_VARIABLES
from manywheels.errors import ConfigError
from manywheels.naming._tags import (
    PythonTag,
    identifier,
    parse_install_dir,
    parse_python_tag,
    platform_family,
    wheel_identifier,
)
from manywheels.plan._targets import parse_image_pythons
from manywheels.stages._environment import (
    container_environment,
    host_build_environment,
    is_secret_name,
)

# --------------------------------------------------------------------------- tags

tags = st.builds(PythonTag, st.just(3), st.integers(6, 99), st.booleans())


def spellings(tag: PythonTag) -> list[str]:
    return [tag.tag, tag.install_dir, tag.version + ("t" if tag.free_threaded else "")]


@given(st.text(max_size=16))
def test_any_text_parses_to_one_of_its_spellings_or_is_one_clear_error(text: str) -> None:
    try:
        tag = parse_python_tag(text)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message
        assert repr(text) in message and "allowed are" in message
        return
    assert text.strip().lower() in spellings(tag)
    assert parse_python_tag(tag.tag) == tag


@given(tag=tags, which=st.integers(0, 2), upper=st.booleans(),
       pad=st.sampled_from(["", " ", "\t", "  "]))
def test_every_spelling_round_trips(tag: PythonTag, which: int, upper: bool, pad: str) -> None:
    text = spellings(tag)[which]
    text = text.upper() if upper else text
    assert parse_python_tag(f"{pad}{text}{pad}") == tag


@given(tags)
def test_install_dir_agrees_with_the_user_spelling(tag: PythonTag) -> None:
    assert parse_install_dir(tag.install_dir) == tag == parse_python_tag(tag.install_dir)
    assert tag.install_dir.startswith(tag.tag.rstrip("t"))


@given(st.lists(st.one_of(tags.map(lambda t: t.install_dir),
                          st.sampled_from(["pp310-pypy310_pp73", "cp312-cp311", "graalpy",
                                           "cp3-cp3", ""]))))
def test_image_listing_is_sorted_unique_and_complete(entries: list[str]) -> None:
    found = parse_image_pythons("\n".join(entries))
    assert found == sorted(set(found))
    expected = {tag for entry in entries if (tag := parse_install_dir(entry))}
    assert set(found) == expected


arches = st.sampled_from(["x86_64", "aarch64", "i686", "ppc64le", "s390x", "armv7l"])
policies = st.one_of(
    st.tuples(st.just("manylinux"), st.integers(5, 40), arches).map(
        lambda p: (f"manylinux_2_{p[1]}_{p[2]}", f"manylinux_{p[2]}")),
    st.tuples(st.sampled_from(["manylinux1", "manylinux2010", "manylinux2014"]), arches).map(
        lambda p: (f"{p[0]}_{p[1]}", f"manylinux_{p[1]}")),
    st.tuples(st.integers(1, 3), arches).map(
        lambda p: (f"musllinux_1_{p[0]}_{p[1]}", f"musllinux_{p[1]}")),
)


@given(tag=tags, policy=policies)
def test_identifier_is_tag_and_platform_family(tag: PythonTag, policy: tuple[str, str]) -> None:
    plat, family = policy
    name = identifier(tag, plat)
    assert name == f"{tag.tag}-{family}"
    assert platform_family(family) == family == platform_family(plat)
    python, _, rest = name.partition("-")
    assert parse_python_tag(python) == tag and rest == family


@given(tag=tags, policy=policies)
def test_wheel_names_give_back_the_identifier(tag: PythonTag, policy: tuple[str, str]) -> None:
    plat, _ = policy
    abi = tag.tag
    wheel = f"demo-1.0-{tag.tag.rstrip('t')}-{abi}-{plat}.whl"
    name, python = wheel_identifier(wheel, "manylinux_2_28_x86_64")
    assert name == identifier(tag, plat)
    assert python == tag


# --------------------------------------------------------------------------- config merging

words = st.from_regex(r"\A[a-z0-9][a-z0-9_.-]{0,9}\Z")
var_names = st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,8}\Z")
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


# --------------------------------------------------------------------------- environment


secret_names = st.one_of(
    st.from_regex(r"\ATWINE_[A-Z_]{1,10}\Z"),
    st.sampled_from(["GITHUB_TOKEN", "NPM_TOKEN", "PYPI_API_TOKEN", "AWS_SECRET_ACCESS_KEY",
                     "DB_PASSWORD", "MY_API_KEY", "CI_JOB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                     "GOOGLE_APPLICATION_CREDENTIALS", "MANYWHEELS_PUBLISH_PASSWORD"]),
)
host_envs = st.dictionaries(st.one_of(var_names, secret_names, st.sampled_from(INDEX_VARIABLES)),
                            words, max_size=12)


@settings(max_examples=200)
@given(host=host_envs, passed=st.lists(var_names, max_size=4),
       configured=st.dictionaries(var_names, words, max_size=3))
def test_a_container_gets_only_the_allowlist(scratch: Path, host: dict[str, str],
                                             passed: list[str],
                                             configured: dict[str, str]) -> None:
    from manywheels.config import Config

    config = Config(project_dir=scratch, environment=configured, environment_pass=tuple(passed))
    result = container_environment(config, host)
    allowed = {*INDEX_VARIABLES, "SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", *passed,
               *configured}
    assert set(result) <= allowed
    for name, value in result.items():
        if name in configured:
            assert value == configured[name]
        elif name in passed or name in INDEX_VARIABLES:
            assert value == host[name]
        else:
            assert value == CA_BUNDLE_PATH
    for name in host:
        if is_secret_name(name) and name not in passed and name not in configured:
            assert name not in result


@given(host=host_envs)
def test_the_host_sdist_build_never_sees_credentials(host: dict[str, str]) -> None:
    cleaned = host_build_environment(host)
    assert not [name for name in cleaned if is_secret_name(name)]
    assert {n: v for n, v in host.items() if not is_secret_name(n)} == cleaned


@given(secret_names)
def test_credential_names_are_recognised(name: str) -> None:
    assert is_secret_name(name) and is_secret_name(name.lower())


# --------------------------------------------------------------------------- leftovers


def test_owner_tokens_tell_live_from_dead_processes() -> None:
    assert owner_alive(owner_token()) is True
    host = owner_token().split(":")[0]
    assert owner_alive(f"{host}:{os.getpid()}:1") is False  # same pid, other start time
    assert owner_alive("some-other-host:1:1") is None
    assert owner_alive("garbage") is None


containers = st.lists(st.tuples(
    st.text(alphabet="abcdef0123456789", min_size=4, max_size=8),
    st.sampled_from(["run-a", "run-b", "mine"]),
    st.sampled_from(["alive", "dead", "foreign", "none"]),
    st.sampled_from(["running", "exited", "created"]),
), unique_by=lambda c: c[0], max_size=10)


@given(containers)
def test_leftovers_fall_in_exactly_one_bucket(items: list[tuple[str, str, str, str]]) -> None:
    host = owner_token().split(":")[0]
    tokens = {"alive": owner_token(), "dead": f"{host}:{os.getpid()}:1",
              "foreign": "elsewhere:12:34"}
    rows = []
    for name, run, owner, status in items:
        labels = {"run": run}
        if owner in tokens:
            labels["owner"] = tokens[owner]
        rows.append((name, labels, status))
    kinds = classify_leftovers(rows, "owner", "run", current_run="mine")
    buckets = [*kinds.orphaned, *kinds.in_use, *kinds.unknown]
    assert len(buckets) == len(set(buckets))
    for name, run, owner, status in items:
        if run == "mine":
            assert name not in buckets
        elif owner == "alive":
            assert name in kinds.in_use
        elif owner == "dead":
            assert name in kinds.orphaned
        elif status == "running":
            assert name in kinds.unknown  # never removed: its owner cannot be checked
        else:
            assert name in kinds.orphaned
