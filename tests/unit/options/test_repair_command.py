"""Issue 13, item 3: repair-command with {wheel}, {dest_dir}, {plat}, {package}, {project};
empty keeps the raw wheel."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from manywheels.commands._export import render_script
from manywheels.config import load_config
from manywheels.config._options import DEFAULT_REPAIR_COMMAND
from manywheels.stages._render import render_step
from manywheels.stages.repair import repair_command, repair_script

ID = "cp312-manylinux_x86_64"
PLAT = "manylinux_2_36_x86_64"


def project(tmp_path: Path, table: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "d"\nversion = "1"\n[tool.manywheels]\n{table}\n')
    return tmp_path


def test_the_default_is_cibuildwheels_and_renders_the_shared_step(tmp_path: Path) -> None:
    config = load_config(project(tmp_path), env={})
    assert config.repair_command == DEFAULT_REPAIR_COMMAND
    assert DEFAULT_REPAIR_COMMAND == "auditwheel repair --plat {plat} -w {dest_dir} {wheel}"
    script = repair_script(ID, "/w.whl", PLAT)
    assert f'auditwheel repair --plat {PLAT} -w "$OUT" "$WHEEL"' in script
    assert f"\n{render_step('repair_wheel', PLAT)}\n" in script


def test_a_rewritten_wheel_is_compressed_once() -> None:
    """With the canonical rewrite (reproducible) auditwheel writes the wheel uncompressed:
    the rewrite compresses it."""
    assert "export AUDITWHEEL_ZIP_COMPRESSION_LEVEL=0\n" in repair_script(
        ID, "/w.whl", PLAT, rewritten=True)
    assert "AUDITWHEEL_ZIP_COMPRESSION_LEVEL" not in repair_script(ID, "/w.whl", PLAT)


def test_placeholders_are_filled_and_other_braces_kept() -> None:
    command = repair_command(
        "auditwheel repair --exclude 'libyaml*' --plat {plat} -w {dest_dir} {wheel} "
        "&& ls {project} {package} ${HOME} {other}", "manylinux 2")
    assert command == ("auditwheel repair --exclude 'libyaml*' --plat 'manylinux 2' "
                       '-w "$OUT" "$WHEEL" && ls /manywheels/project /manywheels/project '
                       "${HOME} {other}")


def test_a_failing_custom_command_shows_the_wheel_and_keeps_its_status(tmp_path: Path) -> None:
    script = repair_script(ID, str(tmp_path / "w.whl"), PLAT, (), "echo first\nexit 3\necho no")
    assert "\necho first\nexit 3\necho no\n" in script
    body = render_step("repair_wheel", PLAT, "false\necho after")
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "auditwheel").write_text("#!/bin/sh\necho show \"$@\"\n")
    (shim / "auditwheel").chmod(0o755)
    done = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\nOUT={tmp_path}/o\nWHEEL=w.whl\n{body}"],
        text=True, stdout=subprocess.PIPE, env={"PATH": f"{shim}:/usr/bin:/bin"}, check=False)
    assert done.returncode == 1
    assert done.stdout == "show show w.whl\n"


def test_empty_keeps_the_raw_wheel_in_the_export(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, 'repair-command = ""'), env={})
    assert config.repair_command == ""
    script = render_script(config)
    assert 'if [[ "$WHEEL" == *-any.whl ]] || true; then' in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    custom = render_script(load_config(
        project(tmp_path, 'repair-command = "auditwheel repair -w {dest_dir} {wheel} # {plat}"'),
        env={}))
    assert 'auditwheel repair -w "$OUT" "$WHEEL" # "$PLAT"' in custom


def test_an_empty_repair_command_keeps_the_raw_wheel(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """On the fake engine: the raw wheel is copied to output-dir unchanged, no repair
    script runs, and the record keeps it (publish refuses its linux_* tag)."""
    from manywheels.stages.build import read_sdist
    from manywheels.stages.repair import repair
    from tests.unit.stages import test_orchestration as orchestration

    monkeypatch.setenv("DOCKER_HOST", orchestration.NOWHERE)
    root = tmp_path / "purepkg"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "purepkg"\nversion = "1.0.0"\nrequires-python = ">=3.12"\n')
    monkeypatch.setattr(
        orchestration.build_stage, "build_sdist",
        orchestration.gated(lambda run: read_sdist(orchestration.write_sdist(run.config.dist_dir))))
    builder = orchestration.Builder()
    engine = orchestration.engine_with(builder)
    config = orchestration.make_config(root, repair_command="", python=["cp312"])
    with orchestration.make_run(config, engine) as run:
        orchestration.build_stage.build(run)
        result = repair(run)
        assert [row.status for row in result.rows] == ["passed"]
        assert "kept unrepaired" in (result.rows[0].detail or "")
    raw = "purepkg-1.0.0-cp312-cp312-linux_x86_64.whl"
    assert sorted(p.name for p in config.output_dir.glob("*.whl")) == [raw]
    assert (config.output_dir / raw).read_bytes() == b"wheel of cp312-manylinux_x86_64"
    commands = engine.containers[0].commands
    assert not any("repair the raw wheel" in str(c) for c in commands)
