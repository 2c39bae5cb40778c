"""The wheel cache's keys and entries (stages/_wheel_cache.py), on the host only."""

from __future__ import annotations

import io
import tarfile
import time
from io import StringIO
from pathlib import Path

from rich.console import Console

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.plan._step_options import StepOptions
from manywheels.stages._run import Run
from manywheels.stages._wheel_cache import WheelCache, sdist_digest


def sdist(path: Path, body: bytes, mtime: float) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in (("p-1/PKG-INFO", b"Name: p\nVersion: 1\n"), ("p-1/p.py", body)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), int(mtime)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_sdist_digest_is_its_contents_not_its_timestamps(tmp_path: Path) -> None:
    first = sdist(tmp_path / "a.tar.gz", b"x = 1\n", time.time() - 3600)
    again = sdist(tmp_path / "b.tar.gz", b"x = 1\n", time.time())
    changed = sdist(tmp_path / "c.tar.gz", b"x = 2\n", time.time())
    assert first.read_bytes() != again.read_bytes()
    assert sdist_digest(first) == sdist_digest(again)
    assert sdist_digest(changed) != sdist_digest(first)


def cache(tmp_path: Path, host_env: dict[str, str] | None = None,
          **overrides: object) -> WheelCache:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    config = load_config(project, env={}, overrides={"image": "img", "cache": True,
                                                     "cache_dir": str(tmp_path / "c"),
                                                     **overrides})
    ui = UI(Console(file=StringIO()), echo=False, live=False)
    found = WheelCache.for_run(Run(config, ui, host_env=host_env or {}))
    assert found is not None
    return found


def build_key(wheels: WheelCache, **changes: object) -> str:
    values: dict[str, object] = {"identifier": "cp312-manylinux_x86_64", "sdist": "s",
                                 "image": "img", "digest": "sha256:1",
                                 "options": StepOptions(), "script": "build"}
    values.update(changes)
    return wheels.build_key(**values)  # type: ignore[arg-type]


def test_every_input_changes_the_build_key(tmp_path: Path) -> None:
    wheels = cache(tmp_path)
    base = build_key(wheels)
    assert build_key(wheels) == base
    for change in ({"identifier": "cp313-manylinux_x86_64"}, {"sdist": "t"},
                   {"digest": "sha256:2"}, {"script": "build -v"},
                   {"options": StepOptions(environment=(("CFLAGS", "-O3"),))},
                   {"options": StepOptions(before_all="yum install -y x")},
                   {"options": StepOptions(frontend="uv")}):
        assert build_key(wheels, **change) != base, change
    # A test option does not change what is built.
    assert build_key(wheels, options=StepOptions(test_command="pytest")) == base
    # A variable passed into the container does.
    passed = cache(tmp_path, {"MW_FLAGS": "-O3"}, environment_pass=["MW_FLAGS"])
    assert build_key(passed) != base


def test_entries_are_checked_before_use(tmp_path: Path) -> None:
    wheels = cache(tmp_path)
    wheel = tmp_path / "p-1-cp312-cp312-linux_x86_64.whl"
    wheel.write_bytes(b"wheel")
    key = build_key(wheels)
    assert wheels.restore(key, tmp_path / "out") is None
    wheels.store(key, wheel, kind="build", identifier="cp312-manylinux_x86_64")
    hit = wheels.restore(key, tmp_path / "out")
    assert hit is not None and hit.path.read_bytes() == b"wheel"
    (entry,) = (tmp_path / "c" / "wheels").glob(f"*/{key}/{wheel.name}")
    entry.write_bytes(b"tampered")
    assert wheels.restore(key, tmp_path / "again") is None
    assert not (tmp_path / "again" / wheel.name).exists()
