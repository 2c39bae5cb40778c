"""Issue 14's console, for real: what ``nox -s wheels`` (and ``manywheels wheels``)
print outside a terminal, the modes of the files they write, and the repository's demo
on a machine that cannot reach the registry."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from manywheels.config import DEFAULT_IMAGE
from manywheels.engine._docker import DockerEngine as Engine
from manywheels.errors import ImageNotFoundError
from tests.conftest import extract_sdist

ROOT = Path(__file__).resolve().parents[2]
NOXFILE = "import manywheels.nox\n\nmanywheels.nox.register()\n"
FIVE = "cp39 cp310 cp311 cp312 cp313"
IMPORT = 'python -c "import markupsafe._speedups"'
FAIL_CP311 = textwrap.dedent("""\
    case "$PYTHON" in
      *cp311*) for n in $(seq 1 40); do echo "noise $n"; done
               echo "planted failure for cp311" >&2; exit 3;;
    esac
    """)


def env_for(image: str | None, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MANYWHEELS_", "GITHUB_", "INVOKE_")) and k != "CI"}
    env.update({"PYTHONDONTWRITEBYTECODE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if image is not None:
        env["MANYWHEELS_IMAGE"] = image
    env.update(variables)
    return env


def run(cwd: Path, *args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m ARGS`` (nox, manywheels) with stdout and stderr together, umask 022."""
    old = os.umask(0o022)
    try:
        return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=dict(env), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900,
                              check=False)
    finally:
        os.umask(old)


@pytest.fixture
def markupsafe(pypi_sdists: dict[str, Path], tmp_path: Path) -> Path:
    project = extract_sdist(pypi_sdists["markupsafe"], tmp_path)
    (project / "noxfile.py").write_text(NOXFILE)
    return project


def test_nox_wheels_five_tags_is_at_most_60_lines(markupsafe: Path, test_image: str) -> None:
    """The issue's "done when": five tags, outside a terminal, <= 60 lines with the counts
    and the absolute wheelhouse path; no line of the sdist build or of the wheel builds."""
    env = env_for(test_image, MANYWHEELS_PYTHON=FIVE, MANYWHEELS_TEST_COMMAND=IMPORT)
    result = run(markupsafe, "nox", "--no-color", "-s", "wheels", env=env)
    out = result.stdout
    assert result.returncode == 0, out[-6000:]
    lines = out.splitlines()
    assert len(lines) <= 60, out
    wheelhouse = (markupsafe / "wheelhouse").resolve()
    assert f"manywheels: wheels: 5 passed; 5 wheel(s) in {wheelhouse}" in out
    for tag in FIVE.split():
        for stage in ("build", "repair", "test"):
            line = next(line for line in lines
                        if line.startswith(f"manywheels: {stage} {tag}-manylinux_x86_64 "))
            assert " passed " in line and line.endswith(".whl"), line
    assert "running egg_info" not in out and "Successfully built" not in out
    assert "build, repair and test done" not in out
    # Every file manywheels writes is 0644 under umask 022 (mkstemp made some 0600).
    written = [wheelhouse / "manywheels-report.json", *wheelhouse.glob("logs/*/*.sh"),
               *wheelhouse.glob("logs/*/*.log"), *wheelhouse.glob("*.whl")]
    assert len(written) > 10
    modes = {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in written}
    assert set(modes.values()) == {"0o644"}, modes


def test_a_failure_untested_wheels_and_github_groups(markupsafe: Path, test_image: str) -> None:
    """`manywheels wheels` with GITHUB_ACTIONS, a failing cp311 and no test-command: log
    groups per stage, the failing log's tail, counts, and that publish will refuse the
    untested wheels; hints name the CLI."""
    env = env_for(test_image, GITHUB_ACTIONS="true", MANYWHEELS_BEFORE_BUILD=FAIL_CP311)
    result = run(markupsafe, "manywheels", "wheels", "--python", "cp311", "cp312", env=env)
    out = result.stdout
    assert result.returncode == 1, out[-6000:]
    for stage in ("build", "repair", "test"):
        assert f"::group::manywheels: {stage}" in out
    assert out.count("::group::") == out.count("::endgroup::") >= 3
    log = markupsafe / "wheelhouse" / "logs" / "cp311-manylinux_x86_64" / "build.log"
    assert f"last 15 lines of {log}" in out
    assert "  | planted failure for cp311" in out and "  | noise 40" in out
    assert "  | noise 20\n" not in out
    assert ("manywheels: wheels: 1 untested, 1 failed (build); 1 wheel(s) in "
            f"{(markupsafe / 'wheelhouse').resolve()}") in out
    assert "manywheels publish will refuse them unless --allow-untested" in out
    assert "nox -s" not in out


def test_dry_run_ends_with_nothing_built(markupsafe: Path, test_image: str) -> None:
    env = env_for(test_image, MANYWHEELS_TEST_COMMAND=IMPORT)
    result = run(markupsafe, "nox", "--no-color", "-s", "wheels", "--", "--python", "cp312",
                 "--dry-run", env=env)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "manywheels: dry run: nothing built" in result.stdout
    assert "wheel(s) in" not in result.stdout


def test_verbose_streams_every_line(markupsafe: Path, test_image: str) -> None:
    env = env_for(test_image)
    quiet = run(markupsafe, "nox", "--no-color", "-s", "wheels-build", "--", "--python",
                "cp312", env=env)
    loud = run(markupsafe, "nox", "--no-color", "-s", "wheels-build", "--", "--python",
               "cp312", "-v", env=env)
    assert quiet.returncode == loud.returncode == 0, loud.stdout[-4000:]
    log = (markupsafe / "wheelhouse" / "logs" / "cp312-manylinux_x86_64" / "build.log")
    last = [line for line in log.read_text().splitlines() if line.strip()][-2]
    assert last in loud.stdout and last not in quiet.stdout
    assert len(loud.stdout.splitlines()) > 3 * len(quiet.stdout.splitlines())


def _pullable(engine: Engine) -> bool:
    try:
        engine.image(DEFAULT_IMAGE)
    except ImageNotFoundError:
        return False
    return True


def test_the_demo_falls_back_to_the_local_test_image(tmp_path: Path, test_image: str,
                                                     engine: Engine) -> None:
    """The README's first command in a copy of the repository, without registry access."""
    if _pullable(engine):
        pytest.skip(f"{DEFAULT_IMAGE} is available here: the demo does not fall back")
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy2(ROOT / "noxfile.py", repo / "noxfile.py")
    shutil.copytree(ROOT / "examples" / "cext", repo / "examples" / "cext")
    shutil.copytree(ROOT / "tests" / "image", repo / "tests" / "image")
    result = run(repo, "nox", "--no-color", "-s", "wheels", "--", "--python", "cp312",
                 env=env_for(None))
    out = result.stdout
    assert result.returncode == 0, out[-6000:]
    notes = [line for line in out.splitlines() if "cannot be pulled" in line]
    expected = (f"manywheels: {DEFAULT_IMAGE} cannot be pulled; the demo uses the local "
                f"manylinux-layout test image {test_image} (tests/image/build_image.py)")
    assert notes == [expected]
    wheels = list((repo / "examples" / "cext" / "wheelhouse").glob("*-cp312-*.whl"))
    assert len(wheels) == 1, out[-4000:]
