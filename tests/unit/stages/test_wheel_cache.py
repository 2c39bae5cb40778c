"""The wheel cache's keys and entries (stages/_wheel_cache.py), on the host only."""

from __future__ import annotations

import io
import os
import tarfile
import time
from io import StringIO
from pathlib import Path

from rich.console import Console

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.plan._step_options import StepOptions
from manywheels.stages._run import Run
from manywheels.stages._wheel_cache import (
    STALE_STAGING_S,
    Pruned,
    WheelCache,
    prune,
    prune_for_run,
    sdist_digest,
)


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


def _stored(wheels: WheelCache, tmp_path: Path, name: str, size: int, used: float) -> str:
    """An entry of ``size`` bytes for identifier ``name``, last used at ``used``."""
    wheel = tmp_path / f"{name}-1-cp312-cp312-linux_x86_64.whl"
    wheel.write_bytes(b"w" * size)
    key = build_key(wheels, identifier=name)
    wheels.store(key, wheel, kind="build", identifier=name)
    (meta,) = wheels.root.glob(f"*/{key}/entry.json")
    os.utime(meta, (used, used))
    return key


def test_prune_removes_the_least_recently_used_entries_first(tmp_path: Path) -> None:
    wheels = cache(tmp_path)
    now = time.time()
    old = _stored(wheels, tmp_path, "old", 400_000, now - 300)
    used = _stored(wheels, tmp_path, "used", 400_000, now - 200)
    new = _stored(wheels, tmp_path, "new", 400_000, now - 100)
    assert wheels.restore(used, tmp_path / "out") is not None  # a hit is a use: newest now
    pruned = prune(wheels.root, 900_000)
    assert pruned.entries == 1 and pruned.size > 400_000
    assert wheels.restore(old, tmp_path / "o1") is None
    assert wheels.restore(used, tmp_path / "o2") is not None
    assert wheels.restore(new, tmp_path / "o3") is not None
    assert prune(wheels.root, 900_000) == Pruned(0, 0)  # within the limit: nothing goes
    assert not list(wheels.root.glob(".tmp-*"))  # removed entries leave nothing behind
    assert prune(wheels.root, 0).entries == 2


def test_the_build_stage_prunes_to_wheel_cache_max_mib(tmp_path: Path) -> None:
    wheels = cache(tmp_path, wheel_cache_max_mib=1)
    now = time.time()
    _stored(wheels, tmp_path, "a", 700_000, now - 20)
    kept = _stored(wheels, tmp_path, "b", 700_000, now - 10)
    console = StringIO()
    run = Run(wheels._run.config, UI(Console(file=console, width=300), echo=False, live=False),
              engine=None, host_env={})
    prune_for_run(run)
    assert [p.parent.name for p in wheels.root.glob("*/*/entry.json")] == [kept]
    assert ("wheel cache: removed 1 least recently used wheel(s) (1 MiB) to keep it within "
            "wheel-cache-max-mib = 1") in console.getvalue()


def test_prune_sweeps_the_staging_directories_of_dead_runs(tmp_path: Path) -> None:
    wheels = cache(tmp_path)
    old = wheels.root / ".tmp-dead"
    young = wheels.root / ".tmp-concurrent"
    for staging in (old, young):
        staging.mkdir(parents=True)
        (staging / "half.whl").write_bytes(b"half")
    day_ago = time.time() - STALE_STAGING_S - 60
    os.utime(old, (day_ago, day_ago))
    prune(wheels.root, 2**30)
    assert not old.exists()
    assert (young / "half.whl").is_file()  # perhaps a concurrent run's: left alone
