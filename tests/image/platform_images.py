#!/usr/bin/env python3
"""Build the manylinux-layout test images for every Linux platform the tests cover.

``x86_64`` is the image of ``build_image.py`` (pyenv CPythons 3.9-3.13; its recipe
and tag are that module's, unchanged). ``i686`` and ``aarch64`` are smaller images
made here from one recipe, ``Dockerfile.platform``:

1. a Debian 12 (bookworm) minbase root fs of the target architecture (``i386``,
   ``arm64``) from ``debootstrap``, turned into ``manywheels-test-base-<arch>:<hash>``
   by a ``docker build --platform`` of ``FROM scratch`` + ``ADD rootfs.tar`` (skipped
   when that image exists). Not ``docker import --platform``: a Docker 20.10 engine
   without experimental features ignores that flag and records ``amd64``;
2. ``docker build --platform linux/386|linux/arm64`` of ``Dockerfile.platform``:
   Debian's CPython 3.11 in a venv at ``/opt/python/cp311-cp311``, gcc, auditwheel
   and patchelf, ``AUDITWHEEL_*`` for the arch, and the ``manylinux-entrypoint``
   ENTRYPOINT (``linux32`` for i686 on an x86_64 kernel); tagged
   ``manywheels-test-<arch>:<hash>`` where the hash covers the Dockerfile, the
   entrypoint, this module and the arch, so it is rebuilt only when they change.

i386 binaries run natively on x86_64 kernels. arm64 ones need QEMU registered with
binfmt_misc, flag ``F`` (``.ci/ensure-binfmt.sh`` sets that up); without it the
aarch64 build stops at once with a message saying so. From scratch, the i686 image
takes about a minute to build, the aarch64 one a few minutes (everything under
emulation).

Usage: ``python tests/image/platform_images.py [--arch x86_64|i686|aarch64|all]
[--force]`` (also ``nox -s test-image -- --arch i686``). Progress goes to stderr,
the image tags (one per arch) to stdout. Tests call :func:`ensure_test_image`.
Needs root (debootstrap) and a running Docker engine.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # loaded by file path (tests/conftest.py)
    sys.path.insert(0, str(HERE))

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tests.image import build_image
else:  # run as a script, or loaded by file path: tests/image is on sys.path
    import build_image

ImageBuildError = build_image.ImageBuildError
_run = build_image._run
_progress = build_image._progress

__all__ = [
    "ARCHES",
    "PLATFORMS",
    "ImageBuildError",
    "Platform",
    "binfmt_problem",
    "ensure_test_image",
    "image_tag",
    "main",
]

DOCKERFILE = HERE / "Dockerfile.platform"
ENTRYPOINT = HERE / "manylinux-entrypoint"
ARCHES = ("x86_64", "i686", "aarch64")

# Part of the base images' tags: bump it when the way a base is made changes.
BASE_RECIPE_REVISION = 1
BASE_DOCKERFILE = 'FROM scratch\nADD rootfs.tar /\nCMD ["/bin/bash"]\n'
LABEL_PREFIX = "org.manywheels.test-image"
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
SUITE = build_image.DEBIAN_SUITE


@dataclass(frozen=True)
class Platform:
    """One non-x86_64 test image: the manylinux arch and its Debian and Docker names."""

    arch: str  # AUDITWHEEL_ARCH, `uname -m` in the container
    debian_arch: str  # debootstrap --arch
    docker_platform: str  # docker build --platform
    qemu: str | None  # binfmt_misc handler needed on other hosts, None: runs natively

    @property
    def repository(self) -> str:
        return f"{build_image.IMAGE_REPOSITORY}-{self.arch}"

    @property
    def base_repository(self) -> str:
        return f"{build_image.BASE_REPOSITORY}-{self.arch}"


PLATFORMS = {
    "i686": Platform("i686", "i386", "linux/386", qemu=None),
    "aarch64": Platform("aarch64", "arm64", "linux/arm64", qemu="qemu-aarch64"),
}


# ------------------------------------------------------------------- binfmt ---


def binfmt_problem(arch: str) -> str | None:
    """Why containers of *arch* cannot run on this machine, or None when they can.

    aarch64 on another host needs QEMU's binfmt_misc handler, enabled, with flag F
    (the kernel keeps the interpreter open, so it works inside containers).
    """
    spec = PLATFORMS.get(arch)
    if spec is None or spec.qemu is None or platform.machine() == arch:
        return None
    handler = BINFMT_DIR / spec.qemu
    how_to = "run `sudo bash .ci/ensure-binfmt.sh` (installs qemu-user-static and binfmt-support)"
    try:
        lines = handler.read_text().splitlines()
    except FileNotFoundError:
        where = handler if (BINFMT_DIR / "register").exists() else f"{BINFMT_DIR} (not mounted)"
        return f"{arch} containers need QEMU's binfmt_misc handler, absent from {where}: {how_to}"
    except OSError as exc:
        return f"cannot read {handler}: {exc.strerror or exc}: {how_to}"
    flags = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("flags:")), "")
    if "enabled" not in lines:
        return f"{handler} is disabled: {how_to}"
    if "F" not in flags:
        return (f"{handler} lacks flag F (flags: {flags or 'none'}), so it fails in containers: "
                f"{how_to}")
    return None


# --------------------------------------------------------------- base image ---


def _base_tag(spec: Platform) -> str:
    recipe = " ".join(
        [
            f"r{BASE_RECIPE_REVISION}",
            "debootstrap",
            *build_image.DEBOOTSTRAP_OPTIONS,
            f"--arch={spec.debian_arch}",
            SUITE,
            build_image.DEBIAN_MIRROR,
            spec.docker_platform,
        ]
    )
    recipe_hash = build_image._short_hash(recipe.encode(), BASE_DOCKERFILE.encode())
    return f"{spec.base_repository}:{recipe_hash}"


def _make_base_image(docker: str, spec: Platform, tag: str) -> None:
    """debootstrap the root fs and build it as a single-layer image of the platform."""
    debootstrap = build_image._ensure_debootstrap()
    if os.geteuid() != 0:
        msg = "debootstrap needs root"
        raise ImageBuildError(msg)
    tar = build_image._executable("tar")
    with tempfile.TemporaryDirectory(prefix="manywheels-base-") as temporary:
        context = Path(temporary)
        root = Path(tempfile.mkdtemp(prefix=f"manywheels-rootfs-{spec.arch}-"))
        try:
            _progress(f"debootstrapping Debian {SUITE} {spec.debian_arch} into {root}")
            _run([debootstrap, *build_image.DEBOOTSTRAP_OPTIONS, f"--arch={spec.debian_arch}",
                  SUITE, str(root), build_image.DEBIAN_MIRROR])
            build_image._clean_root_fs(root)
            _run([tar, "--numeric-owner", "-C", str(root), "-cf", str(context / "rootfs.tar"),
                  "."])
        finally:
            build_image._remove_root_fs(root)
        (context / "Dockerfile").write_text(BASE_DOCKERFILE)
        _progress(f"building the root fs as {tag}")
        _run([docker, "build", "--force-rm", "--platform", spec.docker_platform, "--tag", tag,
              "--label", f"{LABEL_PREFIX}.arch={spec.arch}",
              "--label", f"{LABEL_PREFIX}.debootstrap={SUITE} {spec.debian_arch}",
              str(context)])


def _ensure_base_image(docker: str, spec: Platform, *, force: bool) -> str:
    tag = _base_tag(spec)
    if not force and build_image._image_exists(docker, tag):
        _progress(f"base image {tag} exists")
    else:
        _make_base_image(docker, spec, tag)
    return tag


# ---------------------------------------------------------------- the image ---


def image_tag(arch: str) -> str:
    """``manywheels-test-<arch>:<hash of the recipe>`` (i686, aarch64)."""
    spec = PLATFORMS[arch]
    recipe_hash = build_image._short_hash(
        DOCKERFILE.read_bytes(),
        ENTRYPOINT.read_bytes(),
        Path(__file__).read_bytes(),
        arch.encode(),
    )
    return f"{spec.repository}:{recipe_hash}"


def _build_image(docker: str, spec: Platform, tag: str, *, force: bool) -> None:
    base = _ensure_base_image(docker, spec, force=force)
    with tempfile.TemporaryDirectory(prefix="manywheels-image-") as temporary:
        context = Path(temporary)
        shutil.copyfile(DOCKERFILE, context / "Dockerfile")
        shutil.copy2(ENTRYPOINT, context / ENTRYPOINT.name)
        (context / ENTRYPOINT.name).chmod(0o755)
        shutil.copyfile(build_image._build_ca_bundle(), context / "build-ca.crt")
        _progress(f"building {tag}")
        argv = [docker, "build", "--force-rm", "--platform", spec.docker_platform, "--tag", tag,
                "--build-arg", f"BASE_IMAGE={base}",
                "--build-arg", f"AUDITWHEEL_ARCH={spec.arch}"]
        if force:
            argv.append("--no-cache")
        argv.extend(["--label", f"{LABEL_PREFIX}.base={base}",
                     "--label", f"{LABEL_PREFIX}.arch={spec.arch}", str(context)])
        _run(argv)


def ensure_test_image(arch: str = "x86_64", *, force: bool = False) -> str:
    """Make sure the test image of *arch* exists locally, building it if needed; return its tag.

    With ``force``, rebuild the base and the image from scratch even if they exist.
    Raises ImageBuildError when that is not possible (with a how-to for binfmt).
    """
    if arch == "x86_64":
        return build_image.ensure_test_image(force=force)
    spec = PLATFORMS.get(arch)
    if spec is None:
        msg = f"unknown arch {arch!r} (expected one of {', '.join(ARCHES)})"
        raise ImageBuildError(msg)
    docker = build_image._executable("docker")
    tag = image_tag(arch)
    try:
        if not force and build_image._image_exists(docker, tag):
            return tag
        problem = binfmt_problem(arch)
        if problem is not None:
            raise ImageBuildError(problem)
        with build_image._build_lock():
            # Another process may have built it while we waited for the lock.
            if force or not build_image._image_exists(docker, tag):
                _build_image(docker, spec, tag, force=force)
    except OSError as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ImageBuildError(first_line[:300]) from exc
    return tag


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point: build (if needed) and print the image tag(s)."""
    parser = argparse.ArgumentParser(
        description="Build the manylinux-layout Docker test images for the manywheels tests.",
    )
    parser.add_argument(
        "--arch",
        choices=[*ARCHES, "all"],
        default="x86_64",
        help="the image's platform (default: x86_64; all: the three, one after the other)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="rebuild the base and the image even if they exist",
    )
    args = parser.parse_args(argv)
    arches = ARCHES if args.arch == "all" else (args.arch,)
    try:
        for arch in arches:
            tag = ensure_test_image(arch, force=args.force)
            sys.stdout.write(f"{tag}\n")
            sys.stdout.flush()
    except ImageBuildError as exc:
        sys.stderr.write(f"platform_images: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("platform_images: error: interrupted\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
