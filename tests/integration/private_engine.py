"""A private Docker engine for tests that break or stop the engine.

Its own data-root, exec-root, pidfile, socket and bridge (``mwtest<pid>``, created with an
address of its own; ``--iptables=false --ip-masq=false``, so the host's firewall and its
``docker0`` bridge are never touched), started and torn down by the test. Never
``--bridge none``: that deletes the host's ``docker0``.

The image it gets is small: the test image's debootstrapped base (bash, tar, gzip)
loaded from the shared engine, plus empty ``/opt/python/cpXY-cpXY`` directories, which is
all a plan and a ``before-build`` need.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker

BRIDGE = f"mwtest{os.getpid() % 100000}"  # own per test process (<= 15 chars)
SUBNET_PREFIX = "10.213"
LABEL = "io.manywheels.test.private-engine"
IMAGE = "manywheels-private-test:1"
PLAT = "manylinux_2_36_x86_64"


@dataclass
class PrivateEngine:
    """A running private engine.

    Attributes:
        root: its directory (data-root, exec-root, pidfile, socket, log).
        host: ``unix://<root>/docker.sock`` (for ``DOCKER_HOST``).
        process: the dockerd process.
        image: a small manylinux-layout image present in it.
    """

    root: Path
    host: str
    process: subprocess.Popen[bytes]
    image: str = IMAGE

    @property
    def log(self) -> str:
        """The tail of dockerd's log."""
        return (self.root / "dockerd.log").read_text(errors="replace")[-3000:]

    def client(self) -> docker.DockerClient:
        """A docker-py client of the private engine."""
        return docker.DockerClient(base_url=self.host, timeout=120)

    def stop(self) -> None:
        """Stop dockerd (SIGTERM, then SIGKILL) and wait for it; idempotent."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _free_bridge_address() -> str:
    """``10.213.<n>.1/24`` for a ``<n>`` no route of this host uses yet (starting from one
    derived from the pid), so two private engines at once get separate subnets."""
    routes = subprocess.run(["ip", "-4", "route"], check=True, capture_output=True,
                            text=True).stdout
    start = os.getpid() % 200
    for offset in range(200):
        n = 20 + (start + offset) % 200
        if f"{SUBNET_PREFIX}.{n}." not in routes:
            return f"{SUBNET_PREFIX}.{n}.1/24"
    msg = f"no free {SUBNET_PREFIX}.<n>.0/24 subnet for the private engine's bridge"
    raise RuntimeError(msg)


def _make_bridge() -> None:
    with contextlib.suppress(subprocess.CalledProcessError):
        _run("ip", "link", "delete", BRIDGE)  # ours, left by a killed test
    _run("ip", "link", "add", BRIDGE, "type", "bridge")
    _run("ip", "addr", "add", _free_bridge_address(), "dev", BRIDGE)
    _run("ip", "link", "set", BRIDGE, "up")


def remove_bridge() -> None:
    """Delete the private bridge (a missing one is fine)."""
    with contextlib.suppress(subprocess.CalledProcessError):
        _run("ip", "link", "delete", BRIDGE)


def _wait_until_up(engine: PrivateEngine) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            msg = f"the private dockerd exited ({engine.process.returncode}):\n{engine.log}"
            raise RuntimeError(msg)
        with contextlib.suppress(Exception):
            client = engine.client()
            client.ping()
            client.close()
            return
        time.sleep(0.3)
    msg = f"the private dockerd did not answer within 60 s:\n{engine.log}"
    raise RuntimeError(msg)


def _load_image(shared: docker.DockerClient, engine: PrivateEngine, base: str) -> None:
    """``base`` from the shared engine into the private one, with /opt/python dirs."""
    client = engine.client()
    try:
        client.images.load(b"".join(shared.images.get(base).save(named=True)))
        container = client.containers.create(
            base, ["sh", "-c", "mkdir -p /opt/python/cp311-cp311/bin /opt/python/cp312-cp312/bin"],
            network_mode="none", labels={LABEL: "1"})
        try:
            container.start()
            container.wait(timeout=60)
            container.commit(*IMAGE.split(":"), changes=[
                f"ENV AUDITWHEEL_PLAT={PLAT}", f"LABEL {LABEL}=1"])
        finally:
            container.remove(force=True)
    finally:
        client.close()


@contextlib.contextmanager
def private_engine(shared: docker.DockerClient, base: str) -> Iterator[PrivateEngine]:
    """Start a private dockerd with its own bridge and the small image; tear it all down
    (dockerd, its containerd, the bridge, its directories) afterwards."""
    if os.geteuid() != 0 or shutil.which("dockerd") is None:
        msg = "a private engine needs root and dockerd"
        raise RuntimeError(msg)
    root = Path(tempfile.mkdtemp(prefix="mwpe-", dir="/tmp"))  # short: unix socket paths
    _make_bridge()
    log = (root / "dockerd.log").open("wb")
    process = subprocess.Popen(
        ["dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
         "--pidfile", str(root / "docker.pid"), "--host", f"unix://{root}/docker.sock",
         "--bridge", BRIDGE, "--iptables=false", "--ip-masq=false",
         "--storage-driver", "overlay2"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    engine = PrivateEngine(root, f"unix://{root}/docker.sock", process)
    try:
        _wait_until_up(engine)
        _load_image(shared, engine, base)
        yield engine
    finally:
        engine.stop()
        log.close()
        remove_bridge()
        with contextlib.suppress(subprocess.CalledProcessError):
            _run("umount", "--recursive", "--lazy", str(root))
        shutil.rmtree(root, ignore_errors=True)
