"""Integration-test isolation: the default cache-dir of every run in the session is a
temporary directory, and the before-all images and cache volumes labelled with it are
removed at the end (runs that name their own ``cache-dir`` clean up after themselves).
Each test starts with an empty wheel cache in it, so a test that builds a fixture an
earlier test built still builds (tests of the wheel cache name their own cache-dir)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from manywheels.engine._docker import DockerEngine
from manywheels.stages._cache import default_cache_root
from manywheels.stages._cache_clear import clear
from manywheels.stages._wheel_cache import WHEELS_DIR


@pytest.fixture(scope="session", autouse=True)
def _session_default_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    try:
        yield
    finally:
        root = default_cache_root()
        engine = DockerEngine.connect()
        try:
            clear(root=root, engine=engine)
        finally:
            engine.close()
            if saved is None:
                os.environ.pop("XDG_CACHE_HOME", None)
            else:
                os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture(autouse=True)
def _fresh_wheel_cache(_session_default_cache: None) -> None:
    shutil.rmtree(default_cache_root() / WHEELS_DIR, ignore_errors=True)
