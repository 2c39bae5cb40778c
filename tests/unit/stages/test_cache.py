"""Cache locations, keys, mounts and clearing; the tool-vs-command time accounting."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from manywheels._timing import command_timer, measure
from manywheels.config import load_config
from manywheels.engine import DockerEngine, ImageInfo
from manywheels.plan._record import RunReport
from manywheels.stages import _cache as cache
from manywheels.stages import _cache_clear

IMAGE = ImageInfo(ref="quay.io/pypa/manylinux_2_28_x86_64", id="sha256:" + "a" * 64,
                  digest="quay.io/pypa/manylinux_2_28_x86_64@sha256:" + "b" * 64,
                  env={"PATH": "/opt/rh/gcc-toolset-14/root/usr/bin:/usr/bin:/bin"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    return root


class FakeVolumes:
    def __init__(self) -> None:
        self.created: list[tuple[str, dict[str, str]]] = []

    def create(self, name: str, labels: dict[str, str]) -> None:
        self.created.append((name, labels))


def fake_engine(base_url: str) -> Any:
    """The docker engine on a stand-in docker-py client (only what the caches use)."""
    client: Any = SimpleNamespace(api=SimpleNamespace(base_url=base_url), volumes=FakeVolumes())
    return DockerEngine(client, base_url)


def test_default_root_follows_xdg_then_home(tmp_path: Path) -> None:
    assert cache.default_cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "manywheels"
    assert cache.default_cache_root({"HOME": str(tmp_path)}) == tmp_path / ".cache" / "manywheels"
    # A relative XDG_CACHE_HOME is invalid per the spec: ignored.
    assert cache.default_cache_root({"XDG_CACHE_HOME": "rel", "HOME": "/h"}) == Path(
        "/h/.cache/manywheels")


def test_cache_dir_key_env_and_relative_paths(project: Path, tmp_path: Path) -> None:
    config = load_config(project, env={"MANYWHEELS_CACHE_DIR": "cachedir"})
    assert config.sources["cache-dir"] == "MANYWHEELS_CACHE_DIR"
    assert cache.cache_root(config) == project / "cachedir"
    config = load_config(project, env={}, argv=["--cache-dir", str(tmp_path / "abs")])
    assert cache.cache_root(config) == tmp_path / "abs"
    config = load_config(project, env={})
    assert config.cache is True and config.ccache is False
    assert cache.cache_root(config, {"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "manywheels"
    assert load_config(project, env={}, argv=["--no-cache"]).cache is False


def test_image_slug() -> None:
    assert cache.image_slug("quay.io/pypa/manylinux_2_28_x86_64") == (
        "quay.io_pypa_manylinux_2_28_x86_64-latest")
    assert cache.image_slug("localhost:5000/img:1.2") == "localhost-5000_img-1.2"
    long = cache.image_slug("r/" + "x" * 300 + ":t")
    assert len(long) <= 100
    assert long != cache.image_slug("r/" + "x" * 299 + "y:t")


def test_before_all_key_changes_with_each_input() -> None:
    base = cache.before_all_key(IMAGE, "yum install -y zlib", {"A": "1"})
    assert base == cache.before_all_key(IMAGE, "yum install -y zlib", {"A": "1"})
    other_image = ImageInfo(ref=IMAGE.ref, id="sha256:" + "c" * 64, digest=IMAGE.digest)
    variants = [
        cache.before_all_key(other_image, "yum install -y zlib", {"A": "1"}),
        cache.before_all_key(IMAGE, "yum install -y zlib-devel", {"A": "1"}),
        cache.before_all_key(IMAGE, "yum install -y zlib", {"A": "2"}),
        cache.before_all_key(IMAGE, "yum install -y zlib", {"A": "1", "B": ""}),
    ]
    assert len({base, *variants}) == 5
    assert cache.before_all_tag(base) == f"manywheels-before-all:{base[:24]}"


def test_local_engine_gets_one_host_dir_per_image(project: Path, tmp_path: Path) -> None:
    config = load_config(project, env={}, overrides={"cache_dir": str(tmp_path / "c")})
    mounts = cache.container_caches(config, IMAGE, fake_engine("http+docker://localhost"),
                                    scratch_id="run1")
    base = tmp_path / "c" / "images" / "quay.io_pypa_manylinux_2_28_x86_64-latest"
    assert mounts.volumes == {str(base): "/manywheels-cache"}
    assert mounts.host_dir == base
    assert (base / "pip").is_dir() and (base / "uv").is_dir() and (base / "tmp" / "run1").is_dir()
    assert mounts.env == {"PIP_CACHE_DIR": "/manywheels-cache/pip",
                          "UV_CACHE_DIR": "/manywheels-cache/uv",
                          "TMPDIR": "/manywheels-cache/tmp/run1"}
    assert mounts.scratch == "/manywheels-cache/tmp/run1"
    assert not mounts.ccache and not (base / "ccache").exists()


def test_ccache_adds_its_dir_and_the_compiler_links_first_on_path(project: Path,
                                                                    tmp_path: Path) -> None:
    config = load_config(project, env={}, overrides={"cache_dir": str(tmp_path), "ccache": True})
    mounts = cache.container_caches(config, IMAGE, fake_engine("http+docker://localhost"))
    assert mounts.ccache
    assert mounts.env["CCACHE_DIR"] == "/manywheels-cache/ccache"
    assert mounts.env["PATH"] == f"{cache.CCACHE_BIN}:{IMAGE.env['PATH']}"
    assert mounts.host_dir is not None and (mounts.host_dir / "ccache").is_dir()


def test_remote_engine_gets_a_named_volume(project: Path, tmp_path: Path) -> None:
    config = load_config(project, env={}, overrides={"cache_dir": str(tmp_path / "c")})
    engine = fake_engine("http://10.0.0.5:2375")
    mounts = cache.container_caches(config, IMAGE, engine)
    name = "manywheels-cache-quay.io_pypa_manylinux_2_28_x86_64-latest"
    assert mounts.volumes == {name: "/manywheels-cache"}
    assert cache.volume_name(IMAGE.ref) == name
    assert mounts.host_dir is None and not (tmp_path / "c").exists()
    assert engine.client.volumes.created == [(name, {cache.CACHE_LABEL: IMAGE.ref})]


def test_cache_false_or_dry_run_mounts_nothing(project: Path, tmp_path: Path) -> None:
    for overrides in ({"cache": False}, {"dry_run": True}):
        config = load_config(project, env={},
                             overrides={**overrides, "cache_dir": str(tmp_path / "c")})
        assert cache.container_caches(config, IMAGE, fake_engine("http+docker://localhost")) == (
            cache.ContainerCaches())
    assert not (tmp_path / "c").exists()


def test_clear_host_directories(tmp_path: Path) -> None:
    for image in ("a", "b"):
        for kind in ("pip", "uv", "ccache"):
            path = tmp_path / "images" / image / kind / "x"
            path.mkdir(parents=True)
            (path / "f").write_bytes(b"1" * 1000)
    result = _cache_clear.clear(root=tmp_path, what=("uv",))
    assert sorted(p.parent.name for p in result.paths) == ["a", "b"]
    assert result.bytes == 2000
    assert not (tmp_path / "images" / "a" / "uv").exists()
    assert (tmp_path / "images" / "a" / "pip" / "x" / "f").is_file()
    result = _cache_clear.clear(root=tmp_path)
    assert len(result.paths) == 4 and result.bytes == 4000
    assert "removed 4 cache directories (0.0 MB)" in result.summary()
    assert _cache_clear.clear(root=tmp_path / "absent").paths == []
    with pytest.raises(cache.CacheError, match="unknown cache 'conda'"):
        _cache_clear.clear(root=tmp_path, what=("conda",))


def test_timing_counts_only_this_threads_commands() -> None:
    def other_thread_command() -> None:
        with command_timer():
            pass

    with measure() as outer:
        with command_timer():
            pass
        with measure() as inner, command_timer():
            pass
        worker = threading.Thread(target=other_thread_command)
        worker.start()
        worker.join()
    assert outer.commands == 2 and inner.commands == 1
    assert outer.command_s <= outer.wall_s
    assert outer.tool_s == pytest.approx(outer.wall_s - outer.command_s)
    record = outer.as_record()
    assert set(record) == {"wall_s", "command_s", "tool_s", "commands"}


def test_timing_is_complete_when_the_work_raises() -> None:
    with pytest.raises(RuntimeError), measure() as spent:
        with command_timer():
            pass
        raise RuntimeError
    assert spent.commands == 1 and spent.wall_s >= spent.command_s


def test_report_update_and_sections(tmp_path: Path) -> None:
    report = RunReport(tmp_path)
    report.record("cp312-x", "build", status="passed", duration_s=1.0)
    report.update("cp312-x", "build", timing={"tool_s": 0.1})
    report.set_section("before_all", "img", status="cached", image="t")
    again = RunReport(tmp_path)
    assert again.stage("cp312-x", "build") == {"status": "passed", "duration_s": 1.0,
                                               "timing": {"tool_s": 0.1}}
    assert again.data["before_all"] == {"img": {"status": "cached", "image": "t"}}
