"""Shared fixtures.

Integration tests (everything under tests/integration) start real containers. They
need a Docker-compatible engine and the test image:

- no engine -> the run stops at once with a message saying how to start one
  (opt out explicitly with ``--no-containers``, which deselects them);
- the image is ``MANYWHEELS_TEST_IMAGE`` when set (e.g. a real
  quay.io/pypa/manylinux_2_28_x86_64 on a machine that can pull), else the local
  manylinux-layout image built by tests/image/build_image.py (built when missing).
- likewise ``test_image_i686`` and ``test_image_aarch64`` (``MANYWHEELS_TEST_IMAGE_I686``,
  ``MANYWHEELS_TEST_IMAGE_AARCH64``, else built by tests/image/platform_images.py). The
  aarch64 one needs QEMU's binfmt_misc handler on other hosts (``.ci/ensure-binfmt.sh``).
  A missing prerequisite fails the tests that use them, saying how to provide it: no skips.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from manywheels.engine._docker import DockerEngine as Engine
from manywheels.errors import EngineUnavailableError, ManywheelsError

TESTS = Path(__file__).resolve().parent
PACKAGES = TESTS / "packages"


def pytest_configure(config: pytest.Config) -> None:
    """A suite started in the background by a shell without job control (``cmd &`` in a
    script, ``nohup``) inherits SIGINT ignored, and so would every process the tests
    start, which a Ctrl-C test then cannot interrupt. The tests stand for a terminal's
    Ctrl-C: SIGINT gets Python's handler here, so the processes the tests start get the
    default disposition (an ``exec`` resets caught signals, not ignored ones)."""
    del config
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-containers",
        action="store_true",
        default=False,
        help="explicitly deselect the integration tests (they need a container engine)",
    )
    parser.addoption(
        "--no-podman",
        action="store_true",
        default=False,
        help="explicitly deselect the Podman tests (they need MANYWHEELS_PODMAN_HOST)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--no-podman"):
        podman = [item for item in items if item.path.name == "test_podman.py"]
        config.hook.pytest_deselected(items=podman)
        items[:] = [item for item in items if item not in podman]
    integration = [item for item in items if "integration" in item.path.parts]
    for item in integration:
        item.add_marker(pytest.mark.integration)
    if config.getoption("--no-containers"):
        keep = [item for item in items if item not in integration]
        config.hook.pytest_deselected(items=integration)
        items[:] = keep
        return
    if integration:
        try:
            Engine.connect().close()
        except EngineUnavailableError as error:
            pytest.exit(
                f"integration tests need a container engine: {error}. "
                "On Debian: `apt-get install -y docker.io && dockerd &` (or `bash .ci/ensure-docker.sh`). "
                "To run only the unit tests, pass --no-containers explicitly.",
                returncode=3,
            )


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    eng = Engine.connect()
    yield eng
    eng.close()


def _load_platform_images() -> ModuleType:
    """tests/image/platform_images.py (which imports tests/image/build_image.py), loaded once."""
    name = "platform_images"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TESTS / "image" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _platform_image(engine: Engine, arch: str, variable: str) -> str:
    """The test image of *arch*: $variable when set, else the local one, built when missing."""
    module = _load_platform_images()
    named = os.environ.get(variable)
    how_to = (
        f"build it with `nox -s test-image -- --arch {arch}` (as root: debootstrap, Debian's "
        f"mirrors and PyPI), or name an existing {arch} manylinux image in {variable}"
    )
    problem: str | None = module.binfmt_problem(arch)
    if problem is not None:
        pytest.fail(f"the {arch} test image cannot run on this machine: {problem}", pytrace=False)
    failure = ""  # pytest.fail outside the except blocks: no chained traceback
    if named:
        try:
            engine.image(named)
        except ManywheelsError as error:
            failure = f"{variable}={named}: {error}"
        else:
            return named
    else:
        try:
            tag: str = module.ensure_test_image(arch)
        except module.ImageBuildError as error:
            failure = f"cannot build the {arch} test image: {error}; {how_to}"
        else:
            return tag
    pytest.fail(failure, pytrace=False)


@pytest.fixture(scope="session")
def test_image(engine: Engine) -> str:
    """The manylinux-layout image the integration tests build in."""
    return _platform_image(engine, "x86_64", "MANYWHEELS_TEST_IMAGE")


@pytest.fixture(scope="session")
def test_image_i686(engine: Engine) -> str:
    """A manylinux-layout i686 image: cp311, gcc, auditwheel, linux32 entrypoint."""
    return _platform_image(engine, "i686", "MANYWHEELS_TEST_IMAGE_I686")


@pytest.fixture(scope="session")
def test_image_aarch64(engine: Engine) -> str:
    """A manylinux-layout aarch64 image (runs under QEMU): cp311, gcc, auditwheel."""
    return _platform_image(engine, "aarch64", "MANYWHEELS_TEST_IMAGE_AARCH64")


SDISTS = {"markupsafe": "markupsafe==3.0.4", "simplejson": "simplejson==4.3.0",
          "pyyaml": "pyyaml==6.0.3"}


@pytest.fixture(scope="session")
def pypi_sdists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real, pinned sdists from PyPI: name -> path of the .tar.gz."""
    import subprocess

    dest = tmp_path_factory.mktemp("sdists")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "--dest", str(dest), *SDISTS.values()],
        check=True, stdout=subprocess.DEVNULL,
    )
    found = {}
    for name in SDISTS:
        matches = sorted(dest.glob(f"{name}-*.tar.gz"))
        assert len(matches) == 1, matches
        found[name] = matches[0]
    return found


def extract_sdist(sdist: Path, dest: Path) -> Path:
    """Extract an sdist into ``dest`` and return the project directory."""
    import tarfile

    with tarfile.open(sdist) as archive:
        archive.extractall(dest, filter="data")
    (project,) = [p for p in dest.iterdir() if p.is_dir()]
    return project
