"""Secrets and environment hygiene, for real: a full ``nox -s wheels`` with credentials
planted in the host environment.

Inside the container (before-all, the build's ``setup.py``, the test-command and the
container's own PID 1 environment) only the allowlist appears: the image's variables,
index/CA pass-through, ``environment-pass`` and ``environment``. No planted value shows
up in any file the run writes (logs, scripts, run report, lock files, wheels, sdist)
nor in the console output. The host-side sdist build runs without the credentials
(its ``setup.py`` prints its whole environment into the sdist log).
"""

from __future__ import annotations

import tarfile
import uuid
import zipfile
from pathlib import Path

import pytest

from manywheels.engine._docker import INDEX_VARIABLES
from manywheels.engine._docker import DockerEngine as Engine
from tests.integration.test_reliability import make_project, nox_env, run_nox

MARK = uuid.uuid4().hex[:10]
SECRETS = {
    "TWINE_USERNAME": "__token__",
    "TWINE_PASSWORD": f"pypi-planted-twine-{MARK}",
    "TWINE_REPOSITORY_URL": f"https://upload.example/{MARK}/legacy/",
    "GITHUB_TOKEN": f"ghp_planted{MARK}",
    "ACTIONS_RUNTIME_TOKEN": f"runtime-planted-{MARK}",
    "AWS_SECRET_ACCESS_KEY": f"aws-planted-{MARK}",
    "MY_SERVICE_API_KEY": f"apikey-planted-{MARK}",
    "DEPLOY_PASSWORD": f"deploy-planted-{MARK}",
}
ORDINARY = {"ORDINARY_HOST_VAR": f"ordinary-{MARK}"}  # not a secret, still not allowlisted
PASSED = {"PASSED_ON": f"passed-{MARK}"}

SETUP_PY = """\
import os
from setuptools import setup
print("ENV-DUMP", " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())))
setup()
"""
TEST_COMMAND = (
    "python -c \"import os; print('ENV-DUMP', sorted(os.environ.items()))\" && "
    "tr '\\0' '\\n' < /proc/1/environ | sed 's/^/PID1-ENV /'"
)
BEFORE_ALL = "env | sed 's/^/ENV-DUMP /'"


@pytest.fixture(scope="module")
def planted_run(test_image: str, tmp_path_factory: pytest.TempPathFactory,
                ) -> tuple[Path, str, dict[str, str]]:
    project = make_project(tmp_path_factory.mktemp("secrets"))
    (project / "setup.py").write_text(SETUP_PY)
    env = nox_env(
        test_image, MANYWHEELS_PYTHON="cp312", MANYWHEELS_TEST_COMMAND=TEST_COMMAND,
        MANYWHEELS_BEFORE_ALL=BEFORE_ALL, MANYWHEELS_ENVIRONMENT_PASS="PASSED_ON",
        MANYWHEELS_ENVIRONMENT="SET_BY_CONFIG=configured", **SECRETS, **ORDINARY, **PASSED,
    )
    result = run_nox(project, "-s", "wheels", env=env)
    assert result.returncode == 0, result.stdout[-6000:]
    return project, result.stdout, env


def _logs(project: Path, *parts: str) -> str:
    return (project / "wheelhouse" / "logs" / Path(*parts)).read_text()


def test_only_the_allowlist_enters_the_container(planted_run: tuple[Path, str, dict[str, str]],
                                                engine: Engine, test_image: str) -> None:
    project, _, planted_env = planted_run
    identifier = "cp312-manylinux_x86_64"
    inside = {
        "before-all": _logs(project, "before-all", "before-all.log"),
        "build (setup.py)": _logs(project, identifier, "build.log"),
        "test-command": _logs(project, identifier, "test.log"),
    }
    for where, text in inside.items():
        assert "ENV-DUMP" in text, where
        assert PASSED["PASSED_ON"] in text, where
        assert "SET_BY_CONFIG" in text, where
        for name, value in {**SECRETS, **ORDINARY}.items():
            if name == "TWINE_USERNAME":
                assert "TWINE_USERNAME" not in text, where
                continue
            assert value not in text, (where, name)
            assert f"{name}=" not in text and f"'{name}'" not in text, (where, name)

    # The container's own environment (PID 1): no host variable outside the allowlist.
    pid1 = dict(line.split(" ", 1)[1].split("=", 1) for line in
                inside["test-command"].splitlines() if line.startswith("PID1-ENV "))
    assert pid1.get("PASSED_ON") == PASSED["PASSED_ON"], inside["test-command"][-3000:]
    assert pid1.get("SET_BY_CONFIG") == "configured"
    image_env = engine.image(test_image).env
    allowlist = {"HOME", "PASSED_ON", *INDEX_VARIABLES}
    host = planted_env
    from_host = {name for name, value in pid1.items()
                 if host.get(name) == value and image_env.get(name) != value
                 and name not in allowlist}
    assert from_host == set(), from_host
    assert not set(pid1) & (set(SECRETS) | set(ORDINARY))


def _written_texts(project: Path) -> dict[str, bytes]:
    """Every file under the project (after the run), and every member of its wheels
    and sdists."""
    found: dict[str, bytes] = {}
    for path in project.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found[str(path.relative_to(project))] = data
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    found[f"{path.name}!{member}"] = archive.read(member)
        elif path.name.endswith(".tar.gz"):
            with tarfile.open(path) as archive:
                for info in archive.getmembers():
                    stream = archive.extractfile(info) if info.isfile() else None
                    if stream is not None:
                        found[f"{path.name}!{info.name}"] = stream.read()
    return found


def test_no_secret_in_any_file_or_the_console(
    planted_run: tuple[Path, str, dict[str, str]],
) -> None:
    project, console, _ = planted_run
    files = _written_texts(project)
    assert any(name.endswith("manywheels-report.json") for name in files)
    assert any(name.endswith(".whl") for name in files)
    sdist_log = files["wheelhouse/logs/sdist/sdist.log"].decode()
    assert "ENV-DUMP" in sdist_log  # the host build printed its environment...
    assert ORDINARY["ORDINARY_HOST_VAR"] in sdist_log  # ...the host's, minus credentials
    for name, value in SECRETS.items():
        if name == "TWINE_USERNAME":
            continue
        assert value not in console, name
        for path, data in files.items():
            assert value.encode() not in data, (name, path)
    for path, data in files.items():
        for name in ("TWINE_PASSWORD", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY"):
            assert name.encode() not in data, (name, path)
        if path != "wheelhouse/logs/sdist/sdist.log":
            assert ORDINARY["ORDINARY_HOST_VAR"].encode() not in data, path
