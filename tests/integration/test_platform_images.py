"""The i686 and aarch64 test images are what they claim to be, checked with plain ``docker run``.

Each container is started with the docker CLI, ``--rm`` and a label
(``org.manywheels.test=test_platform_images``), and the image's own ENTRYPOINT, as
manywheels will start them: i686 runs under ``linux32`` on an x86_64 kernel, aarch64
under QEMU (binfmt_misc). The images come from the ``test_image_i686`` and
``test_image_aarch64`` fixtures (tests/conftest.py).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from dataclasses import dataclass

import pytest

LABEL = "org.manywheels.test=test_platform_images"

HELLO_C = r"""
#include <stdio.h>
int main(void) {
    printf("hello %zu\n", sizeof(void *));
    return 0;
}
"""


@dataclass(frozen=True)
class Expected:
    arch: str
    docker_architecture: str  # docker image inspect: .Architecture
    pointer_size: int
    elf_class: int  # e_ident[EI_CLASS]: 1 = 32-bit, 2 = 64-bit
    elf_machine: int  # e_machine: EM_386 = 3, EM_AARCH64 = 183


EXPECTED = {
    "i686": Expected("i686", "386", 4, elf_class=1, elf_machine=3),
    "aarch64": Expected("aarch64", "arm64", 8, elf_class=2, elf_machine=183),
}


@pytest.fixture(params=sorted(EXPECTED))
def platform_image(request: pytest.FixtureRequest) -> tuple[str, Expected]:
    """(image, what it should be) for each platform, built when missing."""
    arch: str = request.param
    image: str = request.getfixturevalue(f"test_image_{arch}")
    return image, EXPECTED[arch]


def _docker() -> str:
    docker = shutil.which("docker")
    if docker is None:
        pytest.fail("these tests need the docker CLI on PATH (Debian: apt-get install docker.io)")
    return docker


def docker_run(image: str, *command: str, stdin: str | None = None) -> str:
    """``docker run --rm`` *command* in *image* (through its entrypoint); its stdout."""
    result = subprocess.run(
        [_docker(), "run", "--rm", "--label", LABEL, *(["-i"] if stdin is not None else []),
         image, *command],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"docker run {image} {' '.join(command)} -> exit {result.returncode}\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result.stdout


def test_image_metadata(platform_image: tuple[str, Expected]) -> None:
    image, expected = platform_image
    result = subprocess.run(
        [_docker(), "image", "inspect", "--format",
         "{{.Architecture}} {{range .Config.Env}}{{println .}}{{end}}", image],
        capture_output=True, text=True, check=True,
    )
    architecture, _, env_lines = result.stdout.partition(" ")
    assert architecture == expected.docker_architecture
    env = dict(line.split("=", 1) for line in env_lines.splitlines() if "=" in line)
    assert env["AUDITWHEEL_ARCH"] == expected.arch
    assert env["AUDITWHEEL_POLICY"] == "manylinux_2_36"
    assert env["AUDITWHEEL_PLAT"] == f"manylinux_2_36_{expected.arch}"


def test_uname_through_the_entrypoint(platform_image: tuple[str, Expected]) -> None:
    image, expected = platform_image
    assert docker_run(image, "uname", "-m").strip() == expected.arch


def test_manylinux_python(platform_image: tuple[str, Expected]) -> None:
    image, expected = platform_image
    out = docker_run(
        image,
        "/opt/python/cp311-cp311/bin/python",
        "-c",
        "import platform, struct, build, packaging; "
        "print(platform.machine(), struct.calcsize('P'))",
    )
    assert out.split() == [expected.arch, str(expected.pointer_size)]


def test_tools_on_path(platform_image: tuple[str, Expected]) -> None:
    image, _ = platform_image
    out = docker_run(image, "sh", "-c", "auditwheel --version && patchelf --version")
    assert "auditwheel 6." in out
    assert "patchelf 0." in out


def test_gcc_builds_native_binaries(platform_image: tuple[str, Expected]) -> None:
    """gcc in the image compiles for the image's arch; the binary runs there."""
    image, expected = platform_image
    out = docker_run(
        image, "sh", "-c",
        "cat >/tmp/hello.c && gcc -O2 -o /tmp/hello /tmp/hello.c && /tmp/hello "
        "&& head -c 64 /tmp/hello | base64 -w0",
        stdin=HELLO_C,
    )
    first, encoded = out.splitlines()
    assert first == f"hello {expected.pointer_size}"
    header = base64.b64decode(encoded)
    assert header[:4] == b"\x7fELF"
    assert header[4] == expected.elf_class
    assert header[5] == 1  # little-endian
    assert int.from_bytes(header[18:20], "little") == expected.elf_machine


def test_exec_through_the_entrypoint(platform_image: tuple[str, Expected]) -> None:
    """``docker exec`` bypasses the ENTRYPOINT (an i686 container's exec'd processes say
    x86_64); prefixing the command with ``manylinux-entrypoint``, which the real images
    have at the same path, gives the image's arch again."""
    image, expected = platform_image
    started = subprocess.run(
        [_docker(), "run", "--detach", "--rm", "--label", LABEL, image, "tail", "-f", "/dev/null"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    container = started.stdout.strip()
    try:
        exec_argv = [_docker(), "exec", container, "/usr/local/bin/manylinux-entrypoint",
                     "uname", "-m"]
        result = subprocess.run(exec_argv, capture_output=True, text=True, check=True, timeout=120)
        assert result.stdout.strip() == expected.arch
    finally:
        subprocess.run([_docker(), "rm", "--force", container], capture_output=True, check=False)
