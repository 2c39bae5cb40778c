"""The orchestration code (Run, run_jobs, the caches, leftovers, the build and repair
stages) on the in-memory engine of tests/fakes: no container engine is reached
(``DOCKER_HOST`` points nowhere)."""

from __future__ import annotations

import importlib
import io
import re
import socket
import tarfile
import threading
import time
from collections.abc import Callable
from functools import partial
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from manywheels._lock import owner_token
from manywheels._ui import UI
from manywheels.config import Config, load_config
from manywheels.engine import OWNER_LABEL, RUN_LABEL, LeftoverInfo
from manywheels.errors import CommandError, ImageNotFoundError, StageFailedError
from manywheels.stages import _cache as cache
from manywheels.stages import _cache_clear, _run
from manywheels.stages._common import Job, run_jobs
from manywheels.stages._registry import stage_named
from manywheels.stages._run import Run
from manywheels.stages._sdist import SdistGate
from manywheels.stages.build import SdistInfo, read_sdist
from manywheels.stages.repair import repair
from manywheels.stages.troubleshoot import gather
from tests.fakes.engine import Call, FakeEngine, FakeImage, Reply

IMAGE = "quay.io/pypa/manylinux_2_28_x86_64"
OTHER = "quay.io/pypa/musllinux_1_2_x86_64"
PLAT = "manylinux_2_28_x86_64"
KIND = "manylinux_x86_64"  # identifiers name the platform kind, not the policy
NOWHERE = "unix:///nonexistent.sock"
build_stage = importlib.import_module("manywheels.stages.build")  # the package exports build()


@pytest.fixture(autouse=True)
def _no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach a real engine fails."""
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "purepkg"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "purepkg"\nversion = "1.0.0"\nrequires-python = ">=3.9"\n')
    return root


def make_config(project: Path, **overrides: Any) -> Config:
    # The fakes' "wheels" are placeholder bytes, not zip archives: no canonical rewrite
    # (tests/unit/stages/test_canonical.py runs it on real zips through the fake engine).
    values: dict[str, Any] = {"image": IMAGE, "jobs": 2, "cache": False,
                              "reproducible": False, **overrides}
    return load_config(project, env={}, overrides=values)


def make_run(config: Config, engine: FakeEngine | None, console: StringIO | None = None) -> Run:
    ui = UI(Console(file=console or StringIO(), width=300), echo=False, live=False)
    return Run(config, ui, engine=engine, host_env={"DOCKER_HOST": NOWHERE})


def engine_with(handler: Any = None, **kwargs: Any) -> FakeEngine:
    images = [FakeImage(IMAGE), FakeImage(OTHER, env={"AUDITWHEEL_PLAT": "musllinux_1_2_x86_64"})]
    return FakeEngine(images, handler=handler, **kwargs)


@pytest.fixture
def console() -> StringIO:
    return StringIO()


# --------------------------------------------------------------------------- run_jobs


def test_one_failing_identifier_keeps_the_others(project: Path) -> None:
    done: list[str] = []
    lock = threading.Lock()

    def work(name: str) -> str:
        time.sleep(0.05)
        if name == "b":
            raise CommandError(["build", name], 2, ["compiler said no"])
        with lock:
            done.append(name)
        return f"{name} built"

    run = make_run(make_config(project, jobs=2), engine_with())
    jobs = [Job(name, partial(work, name)) for name in ("a", "b", "c", "d")]
    with pytest.raises(StageFailedError) as caught:
        run_jobs(run, "build", jobs)
    assert caught.value.stage == "build"
    assert list(caught.value.failures) == ["b"]
    assert "exit code 2" in caught.value.failures["b"]
    assert "compiler said no" in caught.value.failures["b"]
    assert sorted(done) == ["a", "c", "d"]


def test_jobs_run_in_parallel_up_to_the_limit(project: Path) -> None:
    active, peak = [0], [0]
    lock = threading.Lock()

    def work() -> str:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.1)
        with lock:
            active[0] -= 1
        return "ok"

    run = make_run(make_config(project, jobs=3), engine_with())
    result = run_jobs(run, "build", [Job(str(i), work) for i in range(6)])
    assert [row.status for row in result.rows] == ["passed"] * 6
    assert peak[0] == 3


def test_fail_fast_skips_the_rest(project: Path) -> None:
    started: list[str] = []

    def work(name: str) -> str:
        started.append(name)
        if name == "b":
            msg = "boom"
            raise RuntimeError(msg)
        return "ok"

    run = make_run(make_config(project, jobs=1, fail_fast=True), engine_with())
    jobs = [Job(name, partial(work, name)) for name in ("a", "b", "c", "d")]
    with pytest.raises(StageFailedError) as caught:
        run_jobs(run, "build", jobs)
    assert started == ["a", "b"]
    assert caught.value.failures == {"b": "RuntimeError: boom"}


# --------------------------------------------------------------------------- Run


def test_one_container_per_image_reused_and_removed(project: Path) -> None:
    engine = engine_with()
    run = make_run(make_config(project), engine)
    first = run.container()
    assert run.container(IMAGE) is first
    other = run.container(OTHER)
    assert other is not first
    assert [c.image for c in engine.containers] == [IMAGE, OTHER]
    for container in engine.containers:
        assert container.labels[RUN_LABEL] == run.run_id
        assert container.labels["io.manywheels.project"] == str(project)
        assert container.labels[OWNER_LABEL] == owner_token()
    assert run.plan(None).identifiers == [
        f"cp311-{KIND}", f"cp312-{KIND}", f"cp313-{KIND}"]
    assert engine.containers[0].commands.count(["ls", "-1", "/opt/python"]) == 1
    run.close()
    assert engine.live() == []
    assert not engine.closed  # an engine the run was given stays open


def test_close_closes_the_engine_the_run_opened(project: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[FakeEngine] = []

    def connect(env: Any) -> FakeEngine:
        assert env["DOCKER_HOST"] == NOWHERE
        opened.append(engine_with())
        return opened[-1]

    monkeypatch.setattr(_run, "connect", connect)
    run = make_run(make_config(project), None)
    run.container()
    assert len(opened) == 1 and not opened[0].closed
    run.close()
    assert opened[0].closed and opened[0].live() == []
    run.container()  # a later use connects again
    assert len(opened) == 2
    run.close()
    assert opened[1].closed


def test_container_environment_is_the_allowlist_plus_caches(project: Path,
                                                            tmp_path: Path) -> None:
    engine = engine_with()
    config = make_config(project, cache=True, cache_dir=str(tmp_path / "c"),
                         environment={"FOO": "1"}, environment_pass=["PASSME"])
    run = Run(config, UI(Console(file=StringIO()), echo=False), engine=engine,
              host_env={"PASSME": "yes", "SECRET_TOKEN": "x", "PIP_INDEX_URL": "http://i"})
    with run:
        container = engine.containers[0] if run.container() else None
        assert container is not None
        assert container.env["FOO"] == "1" and container.env["PASSME"] == "yes"
        assert container.env["PIP_INDEX_URL"] == "http://i"
        assert "SECRET_TOKEN" not in container.env
        assert container.env["UV_CACHE_DIR"] == "/manywheels-cache/uv"
        (host_dir,) = container.volumes
        assert container.volumes[host_dir] == cache.CACHE_MOUNT
        assert Path(host_dir).parent == tmp_path / "c" / "images"
    # The container's TMPDIR in the cache is removed before the container.
    assert any(isinstance(c, str) and c.startswith("rm -rf /manywheels-cache/tmp/")
               for c in container.commands)


def test_remote_engine_gets_a_named_cache_volume(project: Path, tmp_path: Path) -> None:
    engine = engine_with(local=False)
    run = make_run(make_config(project, cache=True, cache_dir=str(tmp_path / "c")), engine)
    with run:
        run.container()
    owner = cache.cache_owner(run.config)
    name = cache.volume_name(IMAGE, owner)
    assert engine.volume_labels == {name: {cache.CACHE_LABEL: IMAGE,
                                           cache.CACHE_OWNER_LABEL: owner}}
    assert engine.containers[0].volumes == {name: cache.CACHE_MOUNT}
    assert not (tmp_path / "c").exists()
    # The scratch directory is made in the volume, after start.
    assert any("mkdir -p /manywheels-cache/tmp/" in " ".join(c) for c in container_commands(
        engine) if isinstance(c, list))


def container_commands(engine: FakeEngine) -> list[str | list[str]]:
    return [command for container in engine.containers for command in container.commands]


# --------------------------------------------------------------------------- before-all


class BeforeAll:
    """A handler counting before-all runs per container."""

    def __init__(self, code: int = 0) -> None:
        self.ran: list[str] = []
        self.code = code

    def __call__(self, call: Call) -> Reply | None:
        if call.script and "yum install -y zlib-devel" in call.script:
            self.ran.append(call.container.name)
            call.fs.write("/usr/include/zlib.h", "/* zlib */")
            return self.code, ["installed zlib-devel"] if self.code == 0 else ["no network"]
        return None


def test_before_all_runs_once_per_container(project: Path) -> None:
    handler = BeforeAll()
    engine = engine_with(handler)
    run = make_run(make_config(project, before_all="yum install -y zlib-devel"), engine)
    with run:
        run.ensure_before_all()
        run.ensure_before_all(IMAGE)
        run.ensure_before_all(OTHER)
        run.ensure_before_all(OTHER)
        assert handler.ran == [c.name for c in engine.containers]
        assert len(handler.ran) == 2
        assert engine.commits == []  # cache = false
        log = project / "wheelhouse" / "logs" / "before-all" / "before-all.log"
        assert "installed zlib-devel" in log.read_text()
        assert run.report.data["before_all"][IMAGE]["status"] == "ran"


def test_failing_before_all_raises_with_its_exit_code(project: Path) -> None:
    engine = engine_with(BeforeAll(code=7))
    run = make_run(make_config(project, before_all="yum install -y zlib-devel"), engine)
    with run, pytest.raises(CommandError, match="before-all failed with exit code 7"):
        run.ensure_before_all()
    assert engine.live() == []


def test_before_all_image_is_committed_then_reused(project: Path, tmp_path: Path) -> None:
    handler = BeforeAll()
    engine = engine_with(handler)
    config = make_config(project, before_all="yum install -y zlib-devel", cache=True,
                         cache_dir=str(tmp_path / "c"), environment={"API_TOKEN": "s3cret"})
    with make_run(config, engine) as run:
        run.ensure_before_all()
    ((_, tag, conf),) = engine.commits
    assert tag.startswith(f"{cache.BEFORE_ALL_REPOSITORY}:")
    assert "API_TOKEN=" in conf["Env"] and not any("s3cret" in e for e in conf["Env"])
    assert conf["Labels"][cache.BEFORE_ALL_LABEL]
    assert conf["Env"][0] == f"AUDITWHEEL_PLAT={PLAT}"  # the base image's ENV first

    console = StringIO()
    with make_run(config, engine, console) as again:
        again.ensure_before_all()
        assert engine.containers[-1].image == tag
        assert engine.containers[-1].fs.is_file("/usr/include/zlib.h")
        assert again.report.data["before_all"][IMAGE]["status"] == "cached"
    assert len(handler.ran) == 1
    assert "reusing the image" in console.getvalue()

    cleared = _cache_clear.clear(config, engine=engine, env={})
    assert cleared.images == [tag] and engine.find_image(tag) is None


def test_the_clean_cache_stage_runs_from_the_registry(project: Path, tmp_path: Path) -> None:
    engine = engine_with(BeforeAll())
    config = make_config(project, before_all="yum install -y zlib-devel", cache=True,
                         cache_dir=str(tmp_path / "c"))
    with make_run(config, engine) as run:
        run.ensure_before_all()
        ((_, tag, _),) = engine.commits
        cleared = stage_named("clean-cache")(run)
    assert isinstance(cleared, _cache_clear.Cleared)
    assert cleared.images == [tag] and engine.find_image(tag) is None


# --------------------------------------------------------------------------- leftovers


def leftover(name: str, owner: str, status: str, run_id: str = "old") -> LeftoverInfo:
    labels = {"io.manywheels": "1", RUN_LABEL: run_id, OWNER_LABEL: owner}
    return LeftoverInfo(name, labels, status)


@pytest.fixture
def stale() -> list[LeftoverInfo]:
    host = socket.gethostname()
    return [
        leftover("crashed", f"{host}:99999999:1", "running"),  # its process is gone
        leftover("live", owner_token(), "running", run_id="other-live-run"),  # this process
        leftover("elsewhere", "another-host:1:1", "running"),  # cannot tell: left alone
        leftover("elsewhere-exited", "another-host:2:2", "exited"),
    ]


def test_leftovers_are_reported_not_removed_by_default(project: Path,
                                                       stale: list[LeftoverInfo],
                                                       console: StringIO) -> None:
    engine = engine_with(leftovers=stale)
    with make_run(make_config(project), engine, console) as run:
        run.container()
    text = console.getvalue()
    assert "2 container(s) left behind by crashed earlier manywheels runs" in text
    assert "crashed, elsewhere-exited" in text and "--remove-leftovers" in text
    assert "whose owner cannot be checked" in text and "elsewhere" in text
    assert "live" not in text.replace("elsewhere", "")
    assert engine.removed_leftovers == []


def test_leftovers_are_removed_when_asked(project: Path, stale: list[LeftoverInfo],
                                          console: StringIO) -> None:
    engine = engine_with(leftovers=stale)
    with make_run(make_config(project, remove_leftovers=True), engine, console) as run:
        run.container()
        run.container(OTHER)  # checked once per run
    assert engine.removed_leftovers == ["crashed", "elsewhere-exited"]
    assert sorted(engine.stale) == ["elsewhere", "live"]
    assert "removed 2 container(s) left behind by crashed earlier runs" in console.getvalue()


# --------------------------------------------------------------------------- stages


def write_sdist(dist_dir: Path) -> Path:
    """A minimal sdist of purepkg 1.0.0 (what the host build would make)."""
    dist_dir.mkdir(parents=True, exist_ok=True)
    path = dist_dir / "purepkg-1.0.0.tar.gz"
    pkg_info = (b"Metadata-Version: 2.1\nName: purepkg\nVersion: 1.0.0\n"
                b"Requires-Python: >=3.12\n")
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("purepkg-1.0.0/PKG-INFO")
        info.size = len(pkg_info)
        archive.addfile(info, io.BytesIO(pkg_info))
    return path


def gated(make: Callable[[Run], SdistInfo]) -> Callable[..., SdistInfo]:
    """A fake host sdist build from ``make(run)`` that keeps to its gate (it lands once
    before-all passed, as :func:`~manywheels.stages._sdist.build_sdist` does)."""

    def build(run: Run, gate: SdistGate | None = None) -> SdistInfo:
        if gate is not None:
            gate.wait_open()
        return make(run)

    return build


@pytest.fixture
def host_sdist(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The host sdist build replaced by :func:`write_sdist` (no network, no subprocess)."""
    built: list[Path] = []

    def fake_build_sdist(run: Run, gate: SdistGate | None = None) -> SdistInfo:
        if gate is not None:  # built beside before-all: lands once it passed
            gate.wait_open()
        built.append(write_sdist(run.config.dist_dir))
        return read_sdist(built[-1])

    monkeypatch.setattr(build_stage, "build_sdist", fake_build_sdist)
    return built


class Builder:
    """Answers build scripts with a wheel in the out dir (failing ``fail``) and repair
    scripts with a repaired copy; records the sdist it found."""

    BUILD = re.compile(r"build the wheel of (\S+) from the sdist")
    REPAIR = re.compile(r"repair the raw wheel of (\S+) with auditwheel")

    def __init__(self, fail: str | None = None) -> None:
        self.fail = fail
        self.sdists: list[list[str]] = []
        self.lock = threading.Lock()

    def __call__(self, call: Call) -> Reply | None:
        script = call.script or ""
        if (match := self.BUILD.search(script)) is not None:
            return self.build(call, match.group(1))
        if (match := self.REPAIR.search(script)) is not None:
            identifier = match.group(1)
            (raw,) = call.fs.listdir(f"/manywheels/{identifier}/raw")
            repaired = raw.replace("linux_x86_64", PLAT)
            data = call.fs.read(f"/manywheels/{identifier}/raw/{raw}") + b" repaired"
            call.fs.write(f"/manywheels/{identifier}/repaired/{repaired}", data)
            return 0, [f"Fixed-up wheel written to /manywheels/{identifier}/repaired/{repaired}"]
        return None

    def build(self, call: Call, identifier: str) -> Reply:
        with self.lock:
            self.sdists.append(call.fs.listdir("/manywheels/sdist"))
        if identifier.startswith(self.fail or "-"):
            return 1, ["gcc: error: boom.c: No such file", "stderr:error: build failed"]
        tag = identifier.split("-", maxsplit=1)[0]
        wheel = f"purepkg-1.0.0-{tag}-{tag}-linux_x86_64.whl"
        out = f"/manywheels/{identifier}/dist"
        call.fs.write(f"{out}/{wheel}", f"wheel of {identifier}".encode())
        return 0, [f"building {identifier}", f"{out}/{wheel}"]


def test_build_then_repair_on_one_container(project: Path, host_sdist: list[Path]) -> None:
    builder = Builder(fail="cp313")
    engine = engine_with(builder)
    config = make_config(project, before_all="yum install -y zlib-devel")
    with make_run(config, engine) as run:
        with pytest.raises(StageFailedError) as caught:
            build_stage.build(run)
        assert list(caught.value.failures) == [f"cp313-{KIND}"]
        assert "exit code 1" in caught.value.failures[f"cp313-{KIND}"]
        # Requires-Python >=3.12 leaves cp312 and cp313; every build saw the sdist.
        assert builder.sdists == [["purepkg-1.0.0.tar.gz"]] * 2
        dist = sorted(p.name for p in config.dist_dir.glob("*.whl"))
        assert dist == ["purepkg-1.0.0-cp312-cp312-linux_x86_64.whl"]
        assert (config.dist_dir / dist[0]).read_bytes() == f"wheel of cp312-{KIND}".encode()
        stages = {i: t["stages"]["build"] for i, t in run.report.targets.items()}
        assert stages[f"cp312-{KIND}"]["status"] == "passed"
        assert stages[f"cp312-{KIND}"]["wheel"] == dist[0]
        assert stages[f"cp313-{KIND}"]["status"] == "failed"
        log = config.output_dir / "logs" / f"cp313-{KIND}" / "build.log"
        assert "error: build failed" in log.read_text()
        assert (log.parent / "build.sh").read_text().startswith("#!/bin/bash")

        result = repair(run)
        assert [row.status for row in result.rows] == ["passed"]
        repaired = config.output_dir / f"purepkg-1.0.0-cp312-cp312-{PLAT}.whl"
        assert repaired.read_bytes() == f"wheel of cp312-{KIND} repaired".encode()
        # One container served before-all, both stages and every identifier.
        assert len(engine.containers) == 1
        commands = engine.containers[0].commands
        assert sum("yum install -y zlib-devel" in str(c) for c in commands) == 1
    assert engine.live() == []
    assert len(host_sdist) == 1


def test_dry_run_prints_scripts_and_changes_nothing(project: Path, host_sdist: list[Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    builder = Builder()
    engine = engine_with(builder)
    config = make_config(project, dry_run=True, before_all="yum install -y zlib-devel")
    with make_run(config, engine) as run:
        result = build_stage.build(run)
    out = capsys.readouterr().out
    assert "# ---- manywheels dry run: before-all ----" in out
    for tag in ("cp311", "cp312", "cp313"):
        assert f"# ---- manywheels dry run: {tag}-{KIND} build.sh ----" in out
        assert f"build the wheel of {tag}-{KIND} from the sdist" in out
    assert [row.status for row in result.rows] == ["skipped"] * 3
    # Nothing built, copied, committed or written: the one container only listed the
    # image's interpreters (README: "a container is still started to list" them).
    assert host_sdist == [] and builder.sdists == [] and engine.commits == []
    assert [c.commands for c in engine.containers] == [[["ls", "-1", "/opt/python"]]]
    assert not config.dist_dir.exists()
    assert not (config.output_dir / "manywheels-report.json").exists()


# --------------------------------------------------------------------------- troubleshoot


def test_troubleshoot_facts_come_through_the_engine_methods(project: Path) -> None:
    def probe(call: Call) -> Reply | None:
        if call.script and "command -v $m" in call.script:
            return 0, ["dnf"]
        return None

    engine = engine_with(probe)
    with make_run(make_config(project), engine) as run:
        facts = gather(run)
    assert facts.engine is not None and facts.engine.error is None
    assert facts.engine.data_root == "/var/lib/fake"  # Engine.info()
    assert facts.engine.free_bytes == 50_000_000 * 1024  # df in the image's container
    assert facts.image is not None and facts.image.present
    assert facts.image.pythons == ("cp311", "cp312", "cp313")
    assert facts.image.package_manager == "dnf"


def test_troubleshoot_offers_local_build_images_newest_first(project: Path) -> None:
    older = FakeImage("local/old-manylinux:1", created="2025-01-01T00:00:00Z")
    newer = FakeImage("local/new-manylinux:2", created="2026-06-01T00:00:00Z")
    plain = FakeImage("debian:12", env={"PATH": "/bin"}, created="2026-07-01T00:00:00Z")
    # manywheels' own committed before-all images carry AUDITWHEEL_PLAT too: not offered
    cached = FakeImage("manywheels-before-all:0123456789ab", created="2026-08-01T00:00:00Z",
                       labels={cache.BEFORE_ALL_LABEL: "0123456789ab"})
    engine = FakeEngine([older, newer, plain, cached])
    config = make_config(project, image="registry.invalid/absent:1")
    with make_run(config, engine) as run:
        with pytest.raises(ImageNotFoundError) as caught:
            run.image()
        facts = gather(run, error=caught.value)
    assert engine.pulls == ["registry.invalid/absent:1"]
    assert facts.image is not None and not facts.image.present
    assert facts.image.local_images == ("local/new-manylinux:2", "local/old-manylinux:1")
    assert engine.containers == []
