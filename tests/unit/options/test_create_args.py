"""``container-create-args`` (issue 13, item 11): the allowlist and its Docker API mapping."""

from __future__ import annotations

from pathlib import Path

import pytest
from docker.types import DeviceRequest, Ulimit

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.config._cibuildwheel import from_cibuildwheel
from manywheels.config._create_args import ALLOWED, CreateOptions, parse_create_args
from manywheels.engine._docker._create import create_kwargs
from manywheels.errors import ConfigError, ExitCode
from manywheels.stages._run import Run
from tests.fakes.engine import FakeEngine, FakeImage


def test_allowed_options_in_both_spellings() -> None:
    options = parse_create_args(
        "--shm-size 1g --cpus=1.5 -m 512M --memory-swap=1g --pids-limit 200 "
        "--ulimit nofile=1024:2048 --ulimit core=0 --gpus all --network none "
        "--cap-add SYS_PTRACE --security-opt seccomp=unconfined")
    assert options == CreateOptions(
        cpus=1.5, memory="512m", memory_swap="1g", shm_size="1g", pids_limit=200,
        ulimits=(("nofile", 1024, 2048), ("core", 0, 0)), gpus="all", network="none",
        cap_add=("SYS_PTRACE",), security_opt=("seccomp=unconfined",))


def test_cibuildwheels_container_engine_form() -> None:
    assert parse_create_args("docker; create_args: --gpus all --shm-size 2g") == \
        CreateOptions(gpus="all", shm_size="2g")
    assert parse_create_args("podman; disable_host_mount: true").empty
    table = from_cibuildwheel({"container-engine": "docker; create_args: --cpus 2"})
    assert table.layer == {"container-create-args": "docker; create_args: --cpus 2"}


@pytest.mark.parametrize(("value", "named"), [
    ("--volume /:/host", "'--volume'"),
    ("-v /:/host", "'-v'"),
    ("--env SECRET=x", "'--env'"),
    ("--privileged", "'--privileged'"),
    ("--shm-size", "needs a value"),
    ("--shm-size lots", "'--shm-size lots'"),
    ("--cpus 0", "'--cpus 0'"),
    ("--ulimit nofile", "'--ulimit nofile'"),
    ("--gpus some", "'--gpus some'"),
    ("kubernetes; create_args: --cpus 1", "'kubernetes'"),
])
def test_anything_else_is_one_line_naming_it(value: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_create_args(value, "command line")
    message = str(caught.value)
    assert named in message and "\n" not in message
    assert message.startswith("container-create-args (command line)")
    if "not allowed" in message:
        assert all(flag in message for flag in ALLOWED)


def test_a_bad_argument_stops_load_config_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.manywheels]\ncontainer-create-args = "--volume /:/h"\n')
    with pytest.raises(ConfigError, match="'--volume' is not allowed") as caught:
        load_config(tmp_path, env={})
    assert caught.value.exit_code == ExitCode.CONFIG


def test_docker_api_arguments() -> None:
    kwargs = create_kwargs(parse_create_args(
        "--cpus 1.5 --memory 1g --shm-size 256m --ulimit nofile=10:20 --gpus device=0,1 "
        "--network host --pids-limit 50"))
    assert kwargs == {
        "nano_cpus": 1_500_000_000, "mem_limit": "1g", "shm_size": "256m",
        "ulimits": [Ulimit(name="nofile", soft=10, hard=20)],
        "device_requests": [DeviceRequest(device_ids=["0", "1"], capabilities=[["gpu"]])],
        "network_mode": "host", "pids_limit": 50,
    }
    assert create_kwargs(None) == {}
    assert create_kwargs(parse_create_args("")) == {}


def test_every_container_of_a_run_gets_them(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    config = load_config(tmp_path, env={}, overrides={
        "image": "img", "container_create_args": "--shm-size 1g"})
    engine = FakeEngine([FakeImage("img")])
    with Run(config, UI(echo=False), engine=engine,
             host_env={"DOCKER_HOST": "unix:///nowhere"}) as run:
        run.container("img")
    (container,) = engine.containers
    assert container.create == CreateOptions(shm_size="1g")


def test_create_args_with_engine_none_is_one_configuration_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={}, overrides={"container_create_args": "--cpus 2",
                                                 "engine": "none"})
    assert "engine = \"none\"" in str(caught.value)
    assert "container-create-args" in str(caught.value)
    assert caught.value.exit_code == ExitCode.CONFIG
