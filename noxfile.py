"""The repository's own sessions.

- ``nox`` (the default sessions) is the test command: lint, type-check, tests (with
  real containers; the local test image is built when missing).
- ``nox -s test-image`` builds the local manylinux-layout test image (``-- --arch i686``,
  ``aarch64`` or ``all`` for the other platforms' images; aarch64 needs
  ``.ci/ensure-binfmt.sh`` first).
- ``nox -s wheels`` (and ``wheels-build``, ``wheels-repair``, ``wheels-test``,
  ``wheels-publish``) run manywheels itself on the demo project ``examples/cext``. When
  the default image cannot be pulled (no registry access), the demo builds and uses the
  local manylinux-layout test image instead, and says so in one line.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2025.02.09"
nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "tests"]

ROOT = Path(__file__).resolve().parent



@functools.cache
def demo_image() -> str:
    """The demo's image: the default one when present or pullable, else the local
    manylinux-layout test image (``tests/image/build_image.py``, built when missing).

    Called when a wheels session runs (never by ``nox -l``). ``MANYWHEELS_IMAGE`` and
    ``--image`` take precedence, so the default image is not even looked for then.
    """
    from manywheels.config import DEFAULT_IMAGE  # noqa: PLC0415
    from manywheels.engine import connect  # noqa: PLC0415
    from manywheels.errors import EngineUnavailableError, ImageNotFoundError  # noqa: PLC0415

    if "MANYWHEELS_IMAGE" in os.environ or "--image" in sys.argv:
        return DEFAULT_IMAGE
    try:
        engine = connect(os.environ)
    except EngineUnavailableError:
        return DEFAULT_IMAGE  # the session reports the missing engine
    try:
        engine.image(DEFAULT_IMAGE)
    except ImageNotFoundError:
        pass
    else:
        return DEFAULT_IMAGE
    finally:
        engine.close()
    try:
        tag = _local_test_image()
    except Exception as error:  # noqa: BLE001 - the session then reports the missing image
        print(f"manywheels: {DEFAULT_IMAGE} cannot be pulled, and the local test image "
              f"cannot be built: {error}", file=sys.stderr, flush=True)
        return DEFAULT_IMAGE
    print(f"manywheels: {DEFAULT_IMAGE} cannot be pulled; the demo uses the local "
          f"manylinux-layout test image {tag} (tests/image/build_image.py)",
          file=sys.stderr, flush=True)
    return tag


def _local_test_image() -> str:
    """``tests/image/build_image.py``'s ``ensure_test_image()``: the tag, built when missing."""
    recipe = ROOT / "tests" / "image" / "build_image.py"
    spec = importlib.util.spec_from_file_location("build_image", recipe)
    if spec is None or spec.loader is None:
        msg = f"cannot load {recipe}"
        raise ImportError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    tag: str = module.ensure_test_image()
    return tag


try:
    import manywheels.nox
except ImportError:  # manywheels not installed next to nox: the wheels sessions are absent
    pass
else:
    manywheels.nox.register(project_dir=ROOT / "examples" / "cext", image=demo_image)


@nox.session
def lint(session: nox.Session) -> None:
    """Lint with ruff."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check with mypy --strict."""
    session.install("-e", ".[lint]")
    session.run("mypy")


@nox.session(name="test-image")
def test_image(session: nox.Session) -> None:
    """Build a local manylinux-layout test image (rebuilt only when its recipe changes).

    ``nox -s test-image -- --arch i686`` (or ``aarch64``, ``all``; default ``x86_64``).
    """
    session.run("python", str(ROOT / "tests" / "image" / "platform_images.py"),
                *session.posargs, external=True)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (unit and integration; real containers)."""
    session.install("-e", ".[test]")
    env = {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for name in ("MANYWHEELS_TEST_IMAGE", "MANYWHEELS_TEST_IMAGE_I686",
                 "MANYWHEELS_TEST_IMAGE_AARCH64"):
        if name in os.environ:
            env[name] = os.environ[name]
    session.run("pytest", *(session.posargs or ["tests"]), env=env)
