"""The repository's own sessions.

- ``nox`` (the default sessions) is the test command: lint, type-check, tests (with
  real containers; the local test image is built when missing).
- ``nox -s test-image`` builds the local manylinux-layout test image (``-- --arch i686``,
  ``aarch64`` or ``all`` for the other platforms' images; aarch64 needs
  ``.ci/ensure-binfmt.sh`` first).
- ``nox -s wheels`` (and ``wheels-build``, ``wheels-repair``, ``wheels-test``,
  ``wheels-publish``) run manywheels itself on the demo project ``examples/cext``.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.needs_version = ">=2025.02.09"
nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "tests"]

ROOT = Path(__file__).resolve().parent

try:
    import manywheels.nox
except ImportError:  # manywheels not installed next to nox: the wheels sessions are absent
    pass
else:
    manywheels.nox.register(project_dir=ROOT / "examples" / "cext")


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
