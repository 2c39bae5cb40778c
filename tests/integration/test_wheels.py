"""The main job on real sdists and fixture projects, with real containers.

build (sdist on the host, wheels in the container) -> repair (auditwheel) -> test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.errors import ConfigError
from manywheels.stages._run import Run
from manywheels.stages.build import build
from manywheels.stages.repair import repair
from manywheels.stages.test import test as stage_test
from tests.conftest import PACKAGES, extract_sdist

NOXFILE = "import manywheels.nox\n\nmanywheels.nox.register()\n"


def nox(project: Path, *args: str, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", *args],
        cwd=project, env={**os.environ, **(env or {})}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(f"nox {' '.join(args)} exited {result.returncode}:\n{result.stdout[-6000:]}")
    return result


def platform_tags(wheel: Path) -> set[str]:
    _, _, _, tags = parse_wheel_filename(wheel.name)
    return {t.platform for t in tags}


def host_python(version: str) -> Path | None:
    """A host interpreter of that X.Y version (the running one, pyenv's, or on PATH)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return Path(sys.executable)
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(root.glob(f"{version}.*/bin/python{version}")):
        return candidate
    return None


def install_and_import(wheel: Path, module: str, tmp_path: Path, python: Path) -> str:
    env_dir = tmp_path / f"venv-{wheel.name[:40]}"
    subprocess.run([str(python), "-m", "venv", str(env_dir)], check=True)
    bin_python = env_dir / "bin" / "python"
    subprocess.run([str(bin_python), "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True)
    done = subprocess.run(
        [str(bin_python), "-c", f"import {module} as m; print(m.__file__)"],
        check=True, text=True, stdout=subprocess.PIPE, cwd=tmp_path,
    )
    return done.stdout.strip()


def run_stages(config_dir: Path, **overrides: object) -> Run:
    config = load_config(config_dir, env={}, overrides=overrides)
    with Run(config, UI(echo=False)) as run:
        build(run)
        repair(run)
        stage_test(run)
    return run


def test_nox_wheels_on_markupsafe_sdist(pypi_sdists: dict[str, Path], test_image: str,
                                        tmp_path: Path) -> None:
    """The issue's "done when": an extracted sdist + the three-line noxfile."""
    project = extract_sdist(pypi_sdists["markupsafe"], tmp_path / "chain")
    (project / "noxfile.py").write_text(NOXFILE)
    env = {
        "MANYWHEELS_IMAGE": test_image,
        "MANYWHEELS_PYTHON": "cp311 cp312 cp313",
        "MANYWHEELS_TEST_COMMAND": 'python -c "import markupsafe._speedups"',
    }
    listing = nox(project, "-l", env=env).stdout
    for name in ("wheels ", "wheels-build", "wheels-repair", "wheels-test"):
        assert name in listing
    nox(project, "-s", "wheels", env=env)

    wheels = sorted((project / "wheelhouse").glob("*.whl"))
    assert len(wheels) == 3, wheels
    for wheel in wheels:
        plats = platform_tags(wheel)
        assert all(p.startswith("manylinux") for p in plats), plats
    report = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
    assert sorted(report["targets"]) == [
        "cp311-manylinux_x86_64", "cp312-manylinux_x86_64", "cp313-manylinux_x86_64"
    ]
    for identifier, target in report["targets"].items():
        for stage in ("build", "repair", "test"):
            assert target["stages"][stage]["status"] == "passed", (identifier, stage)
        assert target["stages"]["build"]["pure"] is False
        assert len(target["stages"]["repair"]["sha256"]) == 64
        assert target["image"] == test_image and target["image_digest"]
        assert (project / "wheelhouse" / target["stages"]["test"]["log"]).is_file()
        assert (project / "wheelhouse" / "logs" / identifier / "build.sh").is_file()

    installed = 0
    for wheel in wheels:
        _, _, _, tags = parse_wheel_filename(wheel.name)
        interp = next(iter(tags)).interpreter  # cp311
        python = host_python(f"{interp[2]}.{interp[3:]}")
        if python is None:
            continue
        location = install_and_import(wheel, "markupsafe._speedups", tmp_path, python)
        assert "site-packages" in location and str(project) not in location
        installed += 1
    assert installed >= 1

    # The same stages run one after another, in a fresh copy, give the same wheels.
    again = extract_sdist(pypi_sdists["markupsafe"], tmp_path / "steps")
    (again / "noxfile.py").write_text(NOXFILE)
    for session in ("wheels-build", "wheels-repair", "wheels-test"):
        nox(again, "-s", session, env=env)
    assert sorted(w.name for w in (again / "wheelhouse").glob("*.whl")) == [w.name for w in wheels]
    report2 = json.loads((again / "wheelhouse" / "manywheels-report.json").read_text())
    assert {i: t["stages"]["test"]["status"] for i, t in report2["targets"].items()} == dict.fromkeys(
        report["targets"], "passed")


def _members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return sorted(archive.namelist())


def test_manywheels_wheels_gives_the_wheels_nox_gives(pypi_sdists: dict[str, Path],
                                                       test_image: str, tmp_path: Path) -> None:
    """`manywheels wheels --python cp311 cp312` on markupsafe 3.0.4: the same repaired,
    tested wheels as `nox -s wheels` with the same flags."""
    args = ["--python", "cp311", "cp312", "--image", test_image,
            "--test-command", 'python -c "import markupsafe._speedups"']
    by_nox = extract_sdist(pypi_sdists["markupsafe"], tmp_path / "nox")
    (by_nox / "noxfile.py").write_text(NOXFILE)
    nox(by_nox, "-s", "wheels", "--", *args)
    by_cli = extract_sdist(pypi_sdists["markupsafe"], tmp_path / "cli")
    done = subprocess.run([sys.executable, "-m", "manywheels", "wheels", *args], cwd=by_cli,
                          text=True, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    nox_wheels = sorted((by_nox / "wheelhouse").glob("*.whl"))
    cli_wheels = sorted((by_cli / "wheelhouse").glob("*.whl"))
    assert [w.name for w in cli_wheels] == [w.name for w in nox_wheels]
    assert len(cli_wheels) == 2
    for ours, theirs in zip(cli_wheels, nox_wheels, strict=True):
        assert _members(ours) == _members(theirs)
        assert any(m.startswith("markupsafe/_speedups") for m in _members(ours))
    for project in (by_nox, by_cli):
        record = json.loads((project / "wheelhouse" / "manywheels-report.json").read_text())
        assert {i: t["stages"]["test"]["status"] for i, t in record["targets"].items()} == {
            "cp311-manylinux_x86_64": "passed", "cp312-manylinux_x86_64": "passed"}


def test_simplejson_three_tags_compiled_speedups(pypi_sdists: dict[str, Path], test_image: str,
                                                tmp_path: Path) -> None:
    project = extract_sdist(pypi_sdists["simplejson"], tmp_path)
    run = run_stages(
        project, image=test_image, python=["3.10", "cp312", "cp313-cp313"],
        test_command="python -c 'import simplejson._speedups, simplejson; "
                     "assert simplejson._speedups.scanstring is not None'",
    )
    wheels = sorted((project / "wheelhouse").glob("*.whl"))
    assert [parse_wheel_filename(w.name)[3] for w in wheels]
    assert len(wheels) == 3
    for wheel in wheels:
        assert all(p.startswith("manylinux") for p in platform_tags(wheel))
        with zipfile.ZipFile(wheel) as archive:
            assert any(n.startswith("simplejson/_speedups") and n.endswith(".so")
                       for n in archive.namelist())
    statuses = {i: t["stages"]["test"]["status"] for i, t in run.report.targets.items()}
    assert statuses == {
        "cp310-manylinux_x86_64": "passed",
        "cp312-manylinux_x86_64": "passed",
        "cp313-manylinux_x86_64": "passed",
    }
    python = host_python(f"{sys.version_info.major}.{sys.version_info.minor}")
    assert python is not None


BEFORE_ALL_YAML = """
if command -v apt-get >/dev/null; then
  apt-get update -qq && apt-get install -y -qq libyaml-dev >/dev/null
elif command -v dnf >/dev/null; then
  dnf install -y libyaml-devel
elif command -v yum >/dev/null; then
  yum install -y libyaml-devel
else
  apk add --no-cache yaml-dev
fi
"""


def test_before_all_system_library_is_vendored(test_image: str, tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "yamlver"
    shutil.copytree(PACKAGES / "yamlver", project)
    run = run_stages(
        project, image=test_image, python=["cp312"], before_all=BEFORE_ALL_YAML,
        test_command="python -c 'import yamlver; print(yamlver.version())'",
    )
    (wheel,) = sorted((project / "wheelhouse").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert any(n.startswith("yamlver.libs/libyaml") and ".so" in n for n in names), names
    assert run.report.stage("cp312-manylinux_x86_64", "test")["status"] == "passed"
    log = (project / "wheelhouse" / "logs" / "cp312-manylinux_x86_64" / "test.log").read_text()
    assert "0." in log  # libyaml's version string printed by the test-command


def test_pure_python_wheel_is_reported(test_image: str, tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    config = load_config(project, env={}, overrides={"image": test_image, "python": ["cp312"]})
    with Run(config, UI(echo=False)) as run:
        result = build(run)
    assert "pure Python" in result.rows[0].detail
    assert run.report.stage("cp312-manylinux_x86_64", "build")["pure"] is True


def test_tag_absent_from_image_lists_what_it_has(test_image: str, tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    config = load_config(project, env={}, overrides={"image": test_image, "python": ["cp36"]})
    with Run(config, UI(echo=False)) as run, pytest.raises(ConfigError) as caught:
        run.plan(None)
    message = str(caught.value)
    assert "cp36" in message and "cp312" in message and "\n" not in message


SCRIPT_NOXFILE = """\
import nox
import manywheels.nox

manywheels.nox.register()
manywheels.nox.register()  # idempotent


@nox.session(python=False)
def hello(session):
    session.log("hello")


if __name__ == "__main__":
    nox.main()
"""


def test_script_mode_noxfile_and_listing(tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    (project / "noxfile.py").write_text(SCRIPT_NOXFILE)
    result = subprocess.run([sys.executable, "noxfile.py", "-l"], cwd=project, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True)
    lines = result.stdout.splitlines()
    for name in ("wheels", "wheels-build", "wheels-repair", "wheels-test"):
        matching = [line for line in lines if line.lstrip("*- ").startswith(f"{name} ")]
        assert len(matching) == 1, (name, result.stdout)
        assert " -> " in matching[0]  # a one-line description
    assert "hello" in result.stdout
    assert "already been registered" not in result.stdout
    # default=False: a bare `nox` runs none of them.
    bare = nox(project, env={"MANYWHEELS_IMAGE": "never-pulled:1"})
    assert "wheels-build" not in bare.stdout.split("Ran")[0] or "Running session wheels" not in bare.stdout


def test_nox_without_engine_is_one_clear_line(tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "purepkg"
    shutil.copytree(PACKAGES / "purepkg", project)
    (project / "noxfile.py").write_text(NOXFILE)
    result = nox(project, "-s", "wheels-build", check=False,
                 env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert result.returncode != 0
    assert "Traceback" not in result.stdout
    assert "no container engine answers" in result.stdout
    assert "DOCKER_HOST" in result.stdout


def test_wheels_left_over_from_an_earlier_build_are_skipped(test_image: str,
                                                           tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "cext"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "cext", project,
                    ignore=shutil.ignore_patterns("dist", "wheelhouse", "build", "*.egg-info"))
    first = load_config(project, env={}, overrides={"image": test_image,
                                                    "python": ["cp311", "cp312"]})
    with Run(first, UI(echo=False)) as run:
        build(run)
    second = load_config(project, env={}, overrides={"image": test_image, "python": ["cp312"]})
    with Run(second, UI(echo=False)) as run:
        build(run)
        result = repair(run)
        tested = stage_test(run)
    assert [row.identifier for row in result.rows] == ["cp312-manylinux_x86_64"]
    assert [row.identifier for row in tested.rows] == ["cp312-manylinux_x86_64"]
    assert len(list((project / "dist").glob("*cp311*.whl"))) == 1  # kept, not deleted
    assert not list((project / "wheelhouse").glob("*cp311*.whl"))


def test_cpp_pybind11_cmake_example(test_image: str, tmp_path: Path) -> None:
    """examples/newton: a C++ extension built by CMake (scikit-build-core + pybind11)."""
    import shutil

    project = tmp_path / "newton"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "newton", project,
                    ignore=shutil.ignore_patterns("dist", "wheelhouse", "build"))
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    run = run_stages(project, image=test_image, python=[tag])
    (wheel,) = sorted((project / "wheelhouse").glob("*.whl"))
    assert all(p.startswith("manylinux") for p in platform_tags(wheel))
    assert run.report.stage(f"{tag}-manylinux_x86_64", "test")["status"] == "passed"
    location = install_and_import(wheel, "newton._core", tmp_path, Path(sys.executable))
    assert "site-packages" in location


def test_standalone_repair_after_build_sees_before_all_libraries(test_image: str,
                                                                 tmp_path: Path) -> None:
    """`wheels-build` then, in another process, `wheels-repair`: with caches off the repair
    container is a fresh one, so before-all runs there too and auditwheel finds libyaml."""
    import shutil

    project = tmp_path / "yamlver"
    shutil.copytree(PACKAGES / "yamlver", project)
    settings = {"image": test_image, "python": ["cp312"], "before_all": BEFORE_ALL_YAML,
                "cache": False,
                "test_command": "python -c 'import yamlver; print(yamlver.version())'"}
    with Run(load_config(project, env={}, overrides=settings), UI(echo=False)) as run:
        build(run)
    with Run(load_config(project, env={}, overrides=settings), UI(echo=False)) as run:
        repair(run)
        stage_test(run)
        assert run.report.stage("cp312-manylinux_x86_64", "test")["status"] == "passed"
    (wheel,) = sorted((project / "wheelhouse").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert any(n.startswith("yamlver.libs/libyaml") for n in archive.namelist())
