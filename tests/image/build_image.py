#!/usr/bin/env python3
"""Build the local manylinux-layout Docker image the manywheels test suite runs in.

Real quay.io/pypa/manylinux images cannot be pulled in CI, so this builds a
stand-in with the same layout (see ``Dockerfile`` next to this file):

1. a Debian 12 (bookworm) minbase root fs from ``debootstrap``, imported as
   ``manywheels-test-base:<hash>`` (skipped when that image exists);
2. the host's pyenv CPythons 3.9-3.13 staged into a temporary build context as
   ``python/cpXY-cpXY`` (no site-packages contents, no test suite, install
   prefix rewritten to ``/opt/python/cpXY-cpXY``);
3. ``docker build`` of ``Dockerfile``, tagged ``manywheels-test:<hash>`` where
   the hash covers the Dockerfile, this script and the interpreter versions,
   so the image is rebuilt only when its recipe changes.

Usage: ``python tests/image/build_image.py [--force]``. Progress goes to
stderr; the image tag is the last line of stdout. Tests call
:func:`ensure_test_image`.

Needs root (debootstrap, and apt-get to install debootstrap when missing), a
running Docker engine, and pyenv interpreters under ``$PYENV_ROOT/versions``
(default ``~/.pyenv``). During the build, pip trusts the CA bundle named by
``$PIP_CERT`` or ``$SSL_CERT_FILE`` (default: the host's system bundle); that
bundle does not end up in the image.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

__all__ = [
    "ImageBuildError",
    "Interpreter",
    "ensure_test_image",
    "find_interpreters",
    "image_tag",
    "main",
]

HERE = Path(__file__).resolve().parent
DOCKERFILE = HERE / "Dockerfile"

IMAGE_REPOSITORY = "manywheels-test"
BASE_REPOSITORY = "manywheels-test-base"
HASH_LENGTH = 12

DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBOOTSTRAP_OPTIONS = ("--variant=minbase",)
# Part of the base image's tag: bump it when the way the base is made changes.
BASE_RECIPE_REVISION = 2
# Left behind by debootstrap; not wanted in an image.
_ROOT_FS_LITTER = ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*")

PYTHON_MINORS = (9, 10, 11, 12, 13)
DEFAULT_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

# Where executables live on Debian, even when they are not on a user's PATH.
_SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
_VERSION_DIR = re.compile(r"3\.(\d+)\.(\d+)")
# bin/ entries that belong to CPython itself (pip is re-created by ensurepip).
_CPYTHON_BIN = re.compile(r"(python|pydoc|idle|2to3)")
_ELF_MAGIC = b"\x7fELF"


class ImageBuildError(Exception):
    """The test image could not be built; the message says why, in one line."""


@dataclass(frozen=True)
class Interpreter:
    """One pyenv CPython installation to copy into the image."""

    version: str
    prefix: Path

    @property
    def minor(self) -> str:
        """``3.12`` for ``3.12.1``."""
        return ".".join(self.version.split(".")[:2])

    @property
    def tag(self) -> str:
        """The manylinux directory name: ``cp312-cp312``."""
        nodot = self.minor.replace(".", "")
        return f"cp{nodot}-cp{nodot}"

    @property
    def image_prefix(self) -> str:
        """Where the interpreter lives in the image."""
        return f"/opt/python/{self.tag}"


# ------------------------------------------------------------------ helpers ---


def _short_hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:HASH_LENGTH]


def _progress(message: str) -> None:
    sys.stderr.write(f"build_image: {message}\n")
    sys.stderr.flush()


def _executable(name: str) -> str:
    """Absolute path of *name*, looking in the sbin directories too."""
    path = os.environ.get("PATH", os.defpath)
    found = shutil.which(name, path=os.pathsep.join([path, *_SBIN_DIRS]))
    if found is None:
        msg = f"{name!r} not found on PATH"
        raise ImageBuildError(msg)
    return found


def _stderr_fileno() -> int | None:
    """File descriptor of stderr, or None when it is not a real file (pytest capture)."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _run(
    argv: Sequence[str],
    *,
    stdin: IO[bytes] | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run a command, its output going to our stderr; raise ImageBuildError on failure."""
    sys.stderr.flush()
    fileno = _stderr_fileno()
    try:
        result = subprocess.run(
            list(argv),
            stdin=stdin,
            stdout=subprocess.PIPE if fileno is None else fileno,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
            check=False,
        )
    except OSError as exc:
        msg = f"cannot run {argv[0]}: {exc.strerror or exc}"
        raise ImageBuildError(msg) from exc
    if fileno is None and result.stdout:
        sys.stderr.write(result.stdout.decode(errors="replace"))
    if result.returncode != 0:
        command = " ".join([Path(argv[0]).name, *argv[1:2]])
        msg = f"`{command} ...` failed with exit code {result.returncode} (output above)"
        raise ImageBuildError(msg)


def _image_exists(docker: str, reference: str) -> bool:
    try:
        result = subprocess.run(
            [docker, "image", "inspect", "--format", "{{.Id}}", reference],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        msg = f"cannot run {docker}: {exc.strerror or exc}"
        raise ImageBuildError(msg) from exc
    if result.returncode == 0:
        return True
    if "no such image" in result.stderr.lower():
        return False
    lines = result.stderr.strip().splitlines() or [f"exit code {result.returncode}"]
    msg = f"docker image inspect failed (is the Docker engine running?): {lines[-1]}"
    raise ImageBuildError(msg)


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """Serialise concurrent builds (e.g. pytest-xdist workers) on this machine."""
    lock_path = Path(tempfile.gettempdir()) / "manywheels-test-image.lock"
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ------------------------------------------------------------- interpreters ---


def find_interpreters() -> list[Interpreter]:
    """Find the newest pyenv CPython of each minor version in PYTHON_MINORS."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    versions_dir = pyenv_root / "versions"
    newest: dict[int, tuple[int, Path]] = {}
    if versions_dir.is_dir():
        for entry in versions_dir.iterdir():
            match = _VERSION_DIR.fullmatch(entry.name)
            if match is None or entry.is_symlink():
                continue
            minor, patch = int(match[1]), int(match[2])
            if minor not in PYTHON_MINORS or not (entry / "bin" / f"python3.{minor}").is_file():
                continue
            if minor not in newest or patch > newest[minor][0]:
                newest[minor] = (patch, entry)
    missing = [f"3.{minor}" for minor in PYTHON_MINORS if minor not in newest]
    if missing:
        msg = f"no pyenv CPython {', '.join(missing)} under {versions_dir}"
        raise ImageBuildError(msg)
    return [
        Interpreter(version=newest[minor][1].name, prefix=newest[minor][1])
        for minor in PYTHON_MINORS
    ]


def _ignore_for(interpreter: Interpreter) -> Callable[[str, list[str]], set[str]]:
    """Make a shutil.copytree ignore function that keeps the build context small."""
    stdlib = interpreter.prefix / "lib" / f"python{interpreter.minor}"
    bin_dir = interpreter.prefix / "bin"

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        if here == bin_dir:
            return {name for name in names if not _CPYTHON_BIN.match(name)}
        if here == stdlib:
            # site-packages is re-created empty after the copy.
            return {"test", "site-packages"} & set(names)
        if here.parent == stdlib and here.name.startswith("config-"):
            # The static libpython is not needed to build or embed.
            return {name for name in names if name.endswith(".a")}
        if here.name == "__pycache__":
            # Optimised bytecode is only used with python -O.
            return {name for name in names if ".opt-" in name}
        return set()

    return ignore


def _relocate_text_files(interpreter: Interpreter, root: Path) -> None:
    """Rewrite the pyenv prefix to the image prefix in scripts and sysconfig data.

    The ``-Wl,-rpath,<prefix>/lib`` pyenv puts into LDFLAGS is dropped, so that
    extensions built in the image carry no RPATH, as in manylinux.
    """
    old = os.fsencode(interpreter.prefix)
    new = os.fsencode(interpreter.image_prefix)
    rpath = re.compile(rb"[ \t]*-Wl,-rpath[,=]" + re.escape(old) + rb"/lib(?![\w/.-])")
    for directory, dirnames, filenames in os.walk(root):
        if "__pycache__" in dirnames:
            dirnames.remove("__pycache__")
        for filename in filenames:
            path = Path(directory, filename)
            if path.is_symlink():
                continue
            data = path.read_bytes()
            if data.startswith(_ELF_MAGIC) or old not in data:
                continue
            path.write_bytes(rpath.sub(b"", data).replace(old, new))
            if path.suffix == ".py":
                for stale in path.parent.glob(f"__pycache__/{path.stem}.*.pyc"):
                    stale.unlink()


def _stage_interpreter(interpreter: Interpreter, destination: Path) -> None:
    shutil.copytree(
        interpreter.prefix,
        destination,
        symlinks=True,
        ignore=_ignore_for(interpreter),
    )
    (destination / "lib" / f"python{interpreter.minor}" / "site-packages").mkdir()
    _relocate_text_files(interpreter, destination)


def _build_ca_bundle() -> Path:
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    if DEFAULT_CA_BUNDLE.is_file():
        return DEFAULT_CA_BUNDLE
    msg = f"no CA bundle for the build: set PIP_CERT or provide {DEFAULT_CA_BUNDLE}"
    raise ImageBuildError(msg)


# --------------------------------------------------------------- base image ---


def _base_tag() -> str:
    recipe = " ".join(
        [
            f"r{BASE_RECIPE_REVISION}",
            "debootstrap",
            *DEBOOTSTRAP_OPTIONS,
            DEBIAN_SUITE,
            DEBIAN_MIRROR,
        ]
    )
    return f"{BASE_REPOSITORY}:{_short_hash(recipe.encode())}"


def _ensure_debootstrap() -> str:
    with contextlib.suppress(ImageBuildError):
        return _executable("debootstrap")
    if os.geteuid() != 0:
        msg = "debootstrap is missing and installing it needs root"
        raise ImageBuildError(msg)
    _progress("installing debootstrap with apt-get")
    apt_get = _executable("apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run([apt_get, "update"], env=env)
    _run([apt_get, "install", "-y", "--no-install-recommends", "debootstrap"], env=env)
    return _executable("debootstrap")


def _mounts_under(root: Path) -> list[str]:
    mounts: list[str] = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            # Field 5 is the mount point, with spaces etc. octal-escaped.
            mount_point = line.split(" ")[4].encode().decode("unicode_escape")
            if mount_point == str(root) or mount_point.startswith(f"{root}/"):
                mounts.append(mount_point)
    return mounts


def _remove_root_fs(root: Path) -> None:
    """Delete a debootstrap root, unmounting anything a failed run left mounted."""
    mounts = _mounts_under(root)
    if mounts:
        umount = _executable("umount")
        for mount_point in sorted(mounts, reverse=True):
            subprocess.run([umount, "--lazy", mount_point], check=False)
    if _mounts_under(root):
        _progress(f"not deleting {root}: file systems are still mounted below it")
        return
    shutil.rmtree(root, ignore_errors=True)


def _clean_root_fs(root: Path) -> None:
    """Drop the package cache and lists debootstrap leaves behind (about 80 MB)."""
    for pattern in _ROOT_FS_LITTER:
        for path in root.glob(pattern):
            if path.is_file() and not path.is_symlink():
                path.unlink()


def _import_root_fs(docker: str, root: Path, tag: str) -> None:
    tar = _executable("tar")
    with subprocess.Popen(
        [tar, "--numeric-owner", "-C", str(root), "-c", "."],
        stdout=subprocess.PIPE,
    ) as archive:
        assert archive.stdout is not None
        try:
            _run(
                [docker, "import", "--message", "debootstrap " + DEBIAN_SUITE, "-", tag],
                stdin=archive.stdout,
            )
        finally:
            archive.stdout.close()
            tar_status = archive.wait()
    if tar_status != 0:
        msg = f"tar of the debootstrap root failed with exit code {tar_status}"
        raise ImageBuildError(msg)


def _ensure_base_image(docker: str, *, force: bool) -> str:
    tag = _base_tag()
    if not force and _image_exists(docker, tag):
        _progress(f"base image {tag} exists")
        return tag
    debootstrap = _ensure_debootstrap()
    if os.geteuid() != 0:
        msg = "debootstrap needs root"
        raise ImageBuildError(msg)
    root = Path(tempfile.mkdtemp(prefix="manywheels-rootfs-"))
    try:
        _progress(f"debootstrapping Debian {DEBIAN_SUITE} into {root}")
        _run([debootstrap, *DEBOOTSTRAP_OPTIONS, DEBIAN_SUITE, str(root), DEBIAN_MIRROR])
        _clean_root_fs(root)
        _progress(f"importing the root fs as {tag}")
        _import_root_fs(docker, root, tag)
    finally:
        _remove_root_fs(root)
    return tag


# ---------------------------------------------------------------- the image ---


def image_tag(interpreters: Sequence[Interpreter]) -> str:
    """``manywheels-test:<hash of Dockerfile, this script and interpreter versions>``."""
    versions = " ".join(interpreter.version for interpreter in interpreters)
    recipe_hash = _short_hash(
        DOCKERFILE.read_bytes(),
        Path(__file__).read_bytes(),
        versions.encode(),
    )
    return f"{IMAGE_REPOSITORY}:{recipe_hash}"


def _build_image(
    docker: str, tag: str, interpreters: Sequence[Interpreter], *, force: bool
) -> None:
    base = _ensure_base_image(docker, force=force)
    ca_bundle = _build_ca_bundle()
    with tempfile.TemporaryDirectory(prefix="manywheels-image-") as temporary:
        context = Path(temporary)
        shutil.copyfile(DOCKERFILE, context / "Dockerfile")
        shutil.copyfile(ca_bundle, context / "build-ca.crt")
        for interpreter in interpreters:
            _progress(f"staging CPython {interpreter.version} as {interpreter.tag}")
            _stage_interpreter(interpreter, context / "python" / interpreter.tag)
        _progress(f"building {tag}")
        argv = [docker, "build", "--force-rm", "--tag", tag, "--build-arg", f"BASE_IMAGE={base}"]
        if force:
            argv.append("--no-cache")
        argv.extend(["--label", f"org.manywheels.test-image.base={base}", str(context)])
        _run(argv)


def ensure_test_image(*, force: bool = False) -> str:
    """Make sure the test image exists locally, building it if needed; return its tag.

    With ``force``, rebuild the base and the image from scratch even if they exist.
    Raises ImageBuildError when that is not possible.
    """
    docker = _executable("docker")
    try:
        interpreters = find_interpreters()
        tag = image_tag(interpreters)
        if not force and _image_exists(docker, tag):
            return tag
        with _build_lock():
            # Another process may have built it while we waited for the lock.
            if force or not _image_exists(docker, tag):
                _build_image(docker, tag, interpreters, force=force)
    except OSError as exc:  # includes shutil.Error from staging
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        msg = first_line[:300]
        raise ImageBuildError(msg) from exc
    return tag


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point: build (if needed) and print the image tag."""
    parser = argparse.ArgumentParser(
        description="Build the manylinux-layout Docker image for the manywheels tests.",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="rebuild the base and the image even if they exist",
    )
    args = parser.parse_args(argv)
    try:
        tag = ensure_test_image(force=args.force)
    except ImageBuildError as exc:
        sys.stderr.write(f"build_image: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("build_image: error: interrupted\n")
        return 130
    sys.stdout.write(f"{tag}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
