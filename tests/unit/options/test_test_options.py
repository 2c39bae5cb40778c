"""Issue 13, item 4: before-test, test-sources, test-skip, test-groups, test-timeout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from manywheels.config import load_config
from manywheels.config._selectors import expand_braces, group_requirements, matches_any
from manywheels.errors import ConfigError
from manywheels.plan._targets import StepOptions
from manywheels.stages._render import render_step
from manywheels.stages.test import test_script, test_source_paths

ID = "cp312-manylinux_x86_64"


def test_braces_and_patterns() -> None:
    assert expand_braces("cp3{11,12}-*") == ["cp311-*", "cp312-*"]
    assert expand_braces("{cp,pp}3{9,10}-x") == ["cp39-x", "cp310-x", "pp39-x", "pp310-x"]
    assert expand_braces("cp312-{x}") == ["cp312-{x}"]
    assert matches_any(ID, ["cp3{11,12}-*"]) and matches_any(ID, ["*-manylinux_x86_64"])
    assert not matches_any(ID, ["cp313-*", "*musllinux*"]) and not matches_any(ID, [])


def test_dependency_groups_follow_includes() -> None:
    pyproject = {"dependency-groups": {
        "Test_Base": ["pytest", "iniconfig"], "test": [{"include-group": "test-base"}, "hypothesis",
                                                        "pytest"],
        "loop-a": [{"include-group": "loop-b"}], "loop-b": [{"include-group": "loop-a"}],
        "bad": [3]}}
    assert group_requirements(pyproject, ["test"]) == ["pytest", "iniconfig", "hypothesis"]
    for names, needle in ((["nope"], "no dependency group 'nope'"),
                          (["loop-a"], "include cycle loop-a -> loop-b -> loop-a"),
                          (["bad"], "not a requirement string")):
        with pytest.raises(ConfigError, match=needle):
            group_requirements(pyproject, names)
    with pytest.raises(ConfigError, match=r"no \[dependency-groups\] table"):
        group_requirements({}, ["test"])


def test_options_load(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "d"\nversion = "1"\n[tool.manywheels]\n'
        'test-skip = "cp311-* cp3{12,13}t-*"\ntest-sources = ["tests"]\n'
        'test-groups = ["test"]\ntest-timeout = 30\nbefore-test = "echo hi"\n')
    config = load_config(tmp_path, env={"MANYWHEELS_TEST_TIMEOUT": "45"})
    assert config.test_skip == ("cp311-*", "cp3{12,13}t-*")
    assert config.test_timeout == 45
    options = StepOptions.from_config(config)
    assert (options.before_test, options.test_sources, options.test_groups) == (
        "echo hi", ("tests",), ("test",))
    with pytest.raises(ConfigError, match=r"test-sources \(pyproject.toml\): 'tests'"):
        test_source_paths(config)
    (tmp_path / "tests").mkdir()
    assert test_source_paths(config) == [tmp_path / "tests"]
    with pytest.raises(ConfigError, match="relative paths in it"):
        test_source_paths(config.with_(test_sources=("../x",)))
    with pytest.raises(ConfigError, match="test-timeout"):
        load_config(tmp_path, env={"MANYWHEELS_TEST_TIMEOUT": "0"})


def test_script_has_before_test_groups_and_timeout() -> None:
    options = StepOptions(test_command="pytest {project}", before_test="echo {wheel}",
                          test_timeout=7)
    script, _ = test_script(options, ID, "w.whl", "/py", groups=["iniconfig>=2"])
    assert "'iniconfig>=2'" in script
    assert f"echo /manywheels/{ID}/test/w.whl" in script
    assert "timeout -k 5 7 bash -euo pipefail -c 'pytest /manywheels/project'" in script
    assert script.index("# before-test") < script.index("uv pip install")
    assert "uv venv --quiet --seed" in script


def test_the_timeout_kills_the_whole_group_with_one_line(tmp_path: Path) -> None:
    body = render_step("test_wheel", "x", str(tmp_path / "cwd"),
                       f"sleep 30 & echo $! > {tmp_path}/child; sleep 31", "", 1)
    start = body.index("status=0")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", body[start:]], text=True,
                          stderr=subprocess.PIPE, check=False, timeout=20)
    assert done.returncode == 124
    assert done.stderr.strip().splitlines() == [
        "manywheels: test-command timed out after 1 s (test-timeout)"]
    child = (tmp_path / "child").read_text().strip()
    state = Path(f"/proc/{child}/stat")
    assert not state.exists() or state.read_text().split()[2] == "Z"


def test_the_export_has_before_test_groups_and_timeout(tmp_path: Path) -> None:
    from manywheels.commands._export import render_script

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "d"\nversion = "1"\n[dependency-groups]\ntest = ["iniconfig"]\n'
        '[tool.manywheels]\ntest-command = "true"\nbefore-test = "echo {wheel}"\n'
        'test-groups = ["test"]\ntest-timeout = 9\n')
    script = render_script(load_config(tmp_path, env={}))
    assert "'\"$WHEEL\"' iniconfig" not in script and '"$WHEEL" iniconfig' in script
    assert 'echo "$WHEEL"' in script and "timeout -k 5 9 bash" in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_the_export_skips_and_copies_test_sources(tmp_path: Path) -> None:
    from manywheels.commands._export import render_script

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "d"\nversion = "1"\n[tool.manywheels]\ntest-command = "true"\n'
        'test-skip = ["cp3{11,13}-*", "*musl*"]\ntest-sources = ["tests/data", "x y"]\n'
        '[[tool.manywheels.overrides]]\nselect = "cp312-*"\ntest-timeout = 3\n')
    script = render_script(load_config(tmp_path, env={}))
    assert "not applied by this script" in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    start = script.index('  case "$ID" in')
    case = script[start:script.index("esac", start) + 4].replace("log ", "echo ")
    for identifier, skipped in (("cp311-manylinux_x86_64", True), ("cp312-x", False),
                                ("cp313-y", True), ("cp312-musllinux_x86_64", True)):
        done = subprocess.run(["bash", "-c", f"f() {{\nID={identifier}\n{case}\necho ran\n}}\nf"],
                              text=True, stdout=subprocess.PIPE, check=True)
        assert ("ran" not in done.stdout) is skipped, (identifier, done.stdout)
    assert "cp -R \"$PROJECT\"/tests/data \"$WORK/$ID/testcwd\"/tests/data" in script
    assert "cp -R \"$PROJECT\"/'x y' \"$WORK/$ID/testcwd\"/'x y'" in script


def test_skipped_identifiers_on_the_fake_engine(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """test-skip and an override without test-command: recorded skipped, the rest tested."""
    from manywheels.stages.build import read_sdist
    from manywheels.stages.repair import repair
    from manywheels.stages.test import test as stage_test
    from tests.unit.stages import test_orchestration as orchestration

    monkeypatch.setenv("DOCKER_HOST", orchestration.NOWHERE)
    root = tmp_path / "purepkg"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "purepkg"\nversion = "1.0.0"\n[tool.manywheels]\n'
        'test-command = "true"\ntest-skip = ["cp311-*"]\n')
    monkeypatch.setattr(
        orchestration.build_stage, "build_sdist",
        orchestration.gated(lambda run: read_sdist(orchestration.write_sdist(run.config.dist_dir))))
    engine = orchestration.engine_with(orchestration.Builder())
    config = orchestration.make_config(root, python=["cp311", "cp312"])
    with orchestration.make_run(config, engine) as run:
        orchestration.build_stage.build(run)
        repair(run)
        result = stage_test(run)
        assert [(row.identifier, row.status) for row in result.rows] == [
            ("cp311-manylinux_x86_64", "skipped"), ("cp312-manylinux_x86_64", "passed")]
        tests = {i: t["stages"]["test"] for i, t in run.report.targets.items()}
    assert tests["cp311-manylinux_x86_64"]["status"] == "skipped"
    assert tests["cp311-manylinux_x86_64"]["reason"] == "test-skip"
    assert tests["cp312-manylinux_x86_64"]["status"] == "passed"
    with orchestration.make_run(config.with_(test_skip=("cp3*",)), engine) as run:
        result = stage_test(run)
    assert [row.status for row in result.rows] == ["skipped", "skipped"]
