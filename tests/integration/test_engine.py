"""The engine layer against real containers (issue: foundation)."""

from __future__ import annotations

import os
import stat
import time
import uuid
from pathlib import Path

import pytest

from manywheels.config import Config
from manywheels.engine import EngineError
from manywheels.engine._docker import (
    CA_BUNDLE_PATH,
    LABEL,
    find_ca_bundle,
    index_environment,
)
from manywheels.engine._docker import DockerEngine as Engine
from manywheels.errors import CommandError, EngineUnavailableError
from manywheels.stages._environment import container_environment


def _gone(engine: Engine, name: str) -> bool:
    return not engine.client.containers.list(all=True, filters={"name": name})


def test_run_uses_env_and_cwd(engine: Engine, test_image: str) -> None:
    with engine.container(test_image, env={"BASE": "from-container"}) as container:
        out = container.output(
            ["sh", "-c", 'echo "$BASE $EXTRA"; pwd'], env={"EXTRA": "per-command"}, cwd="/tmp"
        )
    assert out.splitlines() == ["from-container per-command", "/tmp"]


def test_exit_codes_come_back(engine: Engine, test_image: str) -> None:
    with engine.container(test_image) as container:
        assert container.run(["sh", "-c", "exit 0"]) == 0
        assert container.run(["sh", "-c", "exit 3"], check=False) == 3
        with pytest.raises(CommandError) as caught:
            container.run("echo first; echo last-words >&2; exit 7")
    assert caught.value.returncode == 7
    assert caught.value.tail[-2:] == ["first", "last-words"] or "last-words" in caught.value.tail
    assert "code 7" in str(caught.value)


def test_output_streams_line_by_line(engine: Engine, test_image: str) -> None:
    seen: list[tuple[float, str, str]] = []

    def sink(line: str, stream: str) -> None:
        seen.append((time.monotonic(), line, stream))

    with engine.container(test_image) as container:
        container.run("echo one; echo err >&2; sleep 2; echo two", sink=sink)
        finished = time.monotonic()
    lines = [(line, stream) for _, line, stream in seen]
    assert lines.count(("one", "stdout")) == 1
    assert ("err", "stderr") in lines
    assert lines[-1] == ("two", "stdout")
    first_arrival = seen[0][0]
    # "one" reached the sink while the command was still sleeping, not at the end.
    assert finished - first_arrival >= 1.5


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_copy_tree_in_and_out_keeps_modes_and_skips_outward_links(
    engine: Engine, test_image: str, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (tree / "run.sh").chmod(0o755)
    (tree / "sub" / "private.txt").write_text("secret-ish\n")
    (tree / "sub" / "private.txt").chmod(0o640)
    (tree / "inside").symlink_to("sub/private.txt")
    outside = tmp_path / "outside.txt"
    outside.write_text("must not be copied\n")
    (tree / "outward").symlink_to(outside)

    with engine.container(test_image) as container:
        skipped = container.copy_into(tree, "/work/tree")
        listing = container.output(
            ["sh", "-c", "cd /work/tree && stat -c '%a %F %n' run.sh sub/private.txt inside"]
        )
        assert container.run(["test", "-e", "/work/tree/outward"], check=False) != 0
        assert container.output(["cat", "/work/tree/inside"]) == "secret-ish"
        assert container.output(["/work/tree/run.sh"]) == "hi"

        container.run("mkdir -p /out/d && echo data > /out/d/f && chmod 600 /out/d/f && "
                      "ln -s /etc/passwd /out/d/escape && ln -s f /out/d/ok && "
                      "printf '#!/bin/sh\\n' > /out/d/x && chmod 751 /out/d/x")
        back = tmp_path / "back"
        container.copy_out("/out/d", back)
        single = tmp_path / "single.txt"
        container.copy_out("/out/d/f", single)

    assert skipped == [tree / "outward"]
    assert listing.splitlines() == [
        "755 regular file run.sh",
        "640 regular file sub/private.txt",
        "777 symbolic link inside",
    ]
    assert (back / "f").read_text() == "data\n"
    assert _mode(back / "f") == 0o600
    assert _mode(back / "x") == 0o751
    assert (back / "ok").is_symlink() and os.readlink(back / "ok") == "f"
    assert not (back / "escape").exists() and not (back / "escape").is_symlink()
    assert single.read_text() == "data\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_container_removed_after_exception(engine: Engine, test_image: str) -> None:
    name = ""
    with pytest.raises(RuntimeError), engine.container(test_image) as container:
        name = container.name
        assert not _gone(engine, name)
        msg = "boom"
        raise RuntimeError(msg)
    assert name and _gone(engine, name)


def test_container_removed_after_keyboard_interrupt(engine: Engine, test_image: str) -> None:
    name = ""
    with pytest.raises(KeyboardInterrupt), engine.container(test_image) as container:
        name = container.name
        raise KeyboardInterrupt
    assert name and _gone(engine, name)


def test_containers_carry_labels(engine: Engine, test_image: str) -> None:
    with engine.container(test_image, run_id="labeltest01") as container:
        found = engine.leftovers("labeltest01")
        assert [c.name for c in found] == [container.name]
        assert found[0].labels[LABEL] == "1"
    assert engine.leftovers("labeltest01") == []


def test_no_daemon_is_one_clear_error(tmp_path: Path) -> None:
    socket = tmp_path / "nothing.sock"
    with pytest.raises(EngineUnavailableError) as caught:
        Engine.connect({"DOCKER_HOST": f"unix://{socket}"})
    message = str(caught.value)
    assert "\n" not in message
    assert str(socket) in message
    assert "DOCKER_HOST" in message and "dockerd" in message


def test_missing_image_is_a_clear_error(engine: Engine) -> None:
    from manywheels.errors import ImageNotFoundError

    with pytest.raises(ImageNotFoundError) as caught:
        engine.image("localhost:1/manywheels/absent:never")
    assert "localhost:1/manywheels/absent:never" in str(caught.value)


def test_pip_in_container_installs_through_ca_pass_through(
    engine: Engine, test_image: str
) -> None:
    bundle = find_ca_bundle()
    assert bundle is not None
    env = index_environment()
    with engine.container(test_image, env=env, ca_bundle=bundle) as container:
        assert container.output(["stat", "-c", "%a", CA_BUNDLE_PATH]) == "444"
        python = container.output(["sh", "-c", "ls -d /opt/python/cp3*/bin/python | tail -1"])
        container.run([python, "-m", "pip", "install", "--no-deps", "six==1.16.0"])
        version = container.output([python, "-c", "import six; print(six.__version__)"])
    assert version == "1.16.0"


def test_only_allowlisted_host_variables_enter(engine: Engine, test_image: str,
                                               tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\nversion='1'\n")
    config = Config(project_dir=tmp_path, environment={"SET_BY_CONFIG": "1"},
                    environment_pass=("PASSED_ON",))
    host = {
        "PIP_INDEX_URL": "https://mirror.example/simple",
        "PASSED_ON": "yes",
        "TWINE_PASSWORD": "planted-secret-123",
        "HOME": "/root",
        "SSL_CERT_FILE": str(find_ca_bundle()),
    }
    env = container_environment(config, host)
    with engine.container(test_image, env=env) as container:
        seen = container.output(["env"])
    assert "PIP_INDEX_URL=https://mirror.example/simple" in seen
    assert "PASSED_ON=yes" in seen and "SET_BY_CONFIG=1" in seen
    assert f"SSL_CERT_FILE={CA_BUNDLE_PATH}" in seen
    assert "planted-secret-123" not in seen


def test_docker_context_variable_selects_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DOCKER_CONTEXT names a context, as with the docker CLI (here: one with no daemon)."""
    import subprocess

    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    (config_dir / "config.json").write_text("{}")  # docker-py finds contexts beside it
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    env["DOCKER_CONFIG"] = str(config_dir)
    subprocess.run(["docker", "context", "create", "mw-ctx-nowhere", "--docker",
                    f"host=unix://{tmp_path}/none.sock"], env=env, check=True, capture_output=True)
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))  # docker-py reads it from os.environ
    with pytest.raises(EngineUnavailableError) as caught:
        Engine.connect({**env, "DOCKER_CONTEXT": "mw-ctx-nowhere"})
    assert f"{tmp_path}/none.sock" in str(caught.value)


def test_volumes_images_and_facts_through_the_seam(engine: Engine, test_image: str,
                                                  tmp_path: Path) -> None:
    label = f"io.manywheels.test-{uuid.uuid4().hex[:8]}"
    name = f"manywheels-test-{uuid.uuid4().hex[:8]}"
    engine.create_volume(name, labels={label: "1"})
    try:
        assert [(v.name, dict(v.labels)) for v in engine.volumes(label)] == [(name, {label: "1"})]
    finally:
        engine.remove_volume(name)
    assert engine.volumes(label) == []
    with pytest.raises(EngineError, match=f"cannot remove the volume {name}"):
        engine.remove_volume(name)
    found = engine.find_image(test_image)
    assert found is not None and test_image in found.tags
    assert found.env.get("AUDITWHEEL_PLAT") == engine.image(test_image).plat
    assert engine.find_image("localhost:1/manywheels/absent:never") is None
    facts = engine.info()
    assert facts.local is engine.is_local and facts.data_root and facts.version
    with engine.container(test_image) as container, pytest.raises(
            EngineError, match="cannot copy /no/such/file out of the container"):
        container.copy_out("/no/such/file", tmp_path / "file")
    assert not (tmp_path / "file").exists()
