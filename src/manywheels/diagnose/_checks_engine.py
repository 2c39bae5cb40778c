"""Checks of the build environment: the container engine, its disk space, the image and
its Pythons."""

from __future__ import annotations

import re

from manywheels.diagnose._checks_common import GIB, named, toml_list
from manywheels.diagnose.model import Facts, Finding

__all__ = ["check_disk_space", "check_engine", "check_image", "check_python_tags"]


def check_engine(facts: Facts) -> list[Finding]:
    """No engine installed, none answering, or permission denied on its socket."""
    engine = facts.engine
    if engine is None or engine.error is None:
        return []
    error = engine.error
    lowered = error.lower()
    where = engine.host
    if "permission denied" in lowered:
        return [Finding(
            "engine",
            f"permission denied on the container engine socket {engine.socket_path or where}",
            "add your user to the engine's group and log in again: "
            "`sudo usermod -aG docker $USER && newgrp docker` (or run as root, or use "
            "rootless Podman: DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock)",
            evidence=error,
        )]
    if engine.socket_path is not None and not engine.socket_exists and not engine.installed:
        return [Finding(
            "engine",
            f"no container engine is installed (no docker or podman on PATH, no socket at "
            f"{engine.socket_path})",
            "install one: `sudo apt-get install -y docker.io` (Debian/Ubuntu) or "
            "`sudo dnf install -y podman`, start it (`sudo systemctl start docker`), "
            "then rerun",
            evidence=error,
        )]
    if engine.socket_path is not None and not engine.socket_exists:
        installed = ", ".join(engine.installed)
        return [Finding(
            "engine",
            f"the container engine is not running: no socket at {engine.socket_path} "
            f"({installed} installed)",
            "start it: `sudo systemctl start docker` (or `sudo dockerd &`; Podman: "
            "`systemctl --user start podman.socket` and "
            "DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock), or point DOCKER_HOST "
            "at a running engine",
            evidence=error,
        )]
    return [Finding(
        "engine",
        f"the container engine at {where} does not answer",
        "start the engine behind it (`sudo systemctl start docker`), or fix DOCKER_HOST: "
        "unset it to use the default socket, or set it to a running engine's address "
        "(check with `docker -H <address> info`)",
        evidence=error,
    )]


def check_disk_space(facts: Facts) -> list[Finding]:
    """Little free space where the engine keeps images and containers."""
    engine = facts.engine
    if engine is None or engine.free_bytes is None or engine.free_bytes >= facts.min_free_bytes:
        return []
    where = engine.data_root or "the engine's data root"
    return [Finding(
        "disk-space",
        f"only {engine.free_bytes / GIB:.1f} GiB free for the container engine at {where} "
        f"(below {facts.min_free_bytes / GIB:.1f} GiB): builds may fail with "
        "'No space left on device'",
        "free space: `docker system prune` (stopped containers, dangling images, build "
        "cache), `docker image prune -a` for unused images, or move the engine's data-root "
        "to a larger disk",
        severity="warning",
    )]


_NOT_FOUND = re.compile(
    r"not found|manifest unknown|does not exist|pull access denied|repository .* not found|"
    r"invalid reference format|unauthorized",
    re.IGNORECASE,
)


def check_image(facts: Facts) -> list[Finding]:
    """The image is absent locally and cannot be pulled."""
    image = facts.image
    if image is None or image.present or image.error is None:
        return []
    local = [i for i in image.local_images if i != image.ref]
    alternatives = (
        f"; build images this engine has: {named(local, 5)} (e.g. --image {local[0]})"
        if local else ""
    )
    if _NOT_FOUND.search(image.error) and "connection" not in image.error.lower():
        cause = f"image {image.ref} does not exist in its registry (or needs a login)"
        fix = (
            "check the name and tag (e.g. quay.io/pypa/manylinux_2_28_x86_64, "
            "quay.io/pypa/musllinux_1_2_x86_64), or `docker login` to a private registry"
            + alternatives
        )
    else:
        cause = f"image {image.ref} is not present locally and its registry cannot be reached"
        fix = (
            f"pull it where the registry is reachable and load it here (`docker pull "
            f"{image.ref} && docker save {image.ref} | gzip > image.tgz`, then "
            "`docker load < image.tgz`), or give the engine a proxy for pulls "
            "(HTTPS_PROXY in its service environment)" + alternatives
        )
    return [Finding("image", cause, fix, evidence=image.error)]


def check_python_tags(facts: Facts) -> list[Finding]:
    """A requested Python tag the image does not have."""
    image = facts.image
    if image is None or image.pythons is None or not facts.requested_pythons:
        return []
    missing = [tag for tag in facts.requested_pythons if tag not in image.pythons]
    if not missing:
        return []
    have = " ".join(image.pythons) or "none"
    kept = [tag for tag in facts.requested_pythons if tag in image.pythons]
    choice = " ".join(kept or image.pythons)
    return [Finding(
        "python-tag",
        f"python tag {' '.join(missing)} is not in image {image.ref}; the image has: {have}",
        f"build only what the image has (`--python {choice}`, or python = "
        f"{toml_list(kept or image.pythons)} in [tool.manywheels]), or choose an image that "
        f"has {missing[0]}",
        evidence=f"/opt/python in {image.ref}: {have}",
    )]
