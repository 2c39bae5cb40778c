"""Property-based tests (hypothesis) of environment hygiene (the container allowlist,
no credentials in the host's sdist build) and leftover classification."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manywheels._lock import classify_leftovers, owner_alive, owner_token
from manywheels.engine._docker import CA_BUNDLE_PATH, INDEX_VARIABLES
from manywheels.stages._environment import (
    container_environment,
    host_build_environment,
    is_secret_name,
)
from tests.unit.strategies import var_names, words


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mw-props-") as directory:
        yield Path(directory)


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
