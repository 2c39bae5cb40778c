"""The engine seam itself: one module imports docker, the public names, fail-fast connect."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import manywheels.engine as engine_api
from manywheels.errors import EngineUnavailableError

SRC = Path(__file__).resolve().parents[3] / "src" / "manywheels"


def imports_docker(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
                alias.name.split(".")[0] == "docker" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "docker":
            return True
    return False


def test_only_the_docker_implementation_imports_docker() -> None:
    importers = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if imports_docker(p))
    assert importers, "the scan found no docker import at all"
    assert all(name.startswith("engine/_docker/") for name in importers), importers


def test_the_seam_exports_protocols_dataclasses_and_connect() -> None:
    for name in ("Engine", "Container", "Sink", "ImageInfo", "ImageSummary", "VolumeInfo",
                 "LeftoverInfo", "EngineInfo", "EngineError", "connect", "find_ca_bundle",
                 "index_environment", "new_run_id"):
        assert name in engine_api.__all__ and hasattr(engine_api, name), name
    info = engine_api.LeftoverInfo("c", {"a": "b"}, "exited")
    with pytest.raises(AttributeError):
        info.name = "other"  # type: ignore[misc]


def test_connect_to_nowhere_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailableError) as caught:
        engine_api.connect({"DOCKER_HOST": f"unix://{tmp_path / 'none.sock'}"})
    message = str(caught.value)
    assert "\n" not in message and "no socket there" in message
