"""tests/image/platform_images.py without Docker: binfmt diagnosis, tags, the CLI's checks."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _load_platform_images

images: Any = _load_platform_images()

ENABLED_PF = """enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: PF
offset 0
magic 7f454c460201010000000000000000000200b700
"""

@pytest.fixture
def binfmt_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(images, "BINFMT_DIR", tmp_path)
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")  # aarch64 hosts need none
    return tmp_path


def test_binfmt_ok(binfmt_dir: Path) -> None:
    (binfmt_dir / "register").touch()
    (binfmt_dir / "qemu-aarch64").write_text(ENABLED_PF)
    assert images.binfmt_problem("aarch64") is None


@pytest.mark.parametrize(
    ("handler", "register", "expected"),
    [
        (None, False, "not mounted"),
        (None, True, "absent from"),
        (ENABLED_PF.replace("enabled", "disabled"), True, "is disabled"),
        (ENABLED_PF.replace("flags: PF", "flags: P"), True, "lacks flag F (flags: P)"),
    ],
)
def test_binfmt_problems_say_how_to_fix(
    binfmt_dir: Path, handler: str | None, register: bool, expected: str
) -> None:
    if register:
        (binfmt_dir / "register").touch()
    if handler is not None:
        (binfmt_dir / "qemu-aarch64").write_text(handler)
    problem = images.binfmt_problem("aarch64")
    assert expected in problem
    assert ".ci/ensure-binfmt.sh" in problem


def test_native_arches_need_no_binfmt(binfmt_dir: Path) -> None:
    assert images.binfmt_problem("i686") is None
    assert images.binfmt_problem("x86_64") is None


def test_tags_per_arch() -> None:
    i686, aarch64 = images.image_tag("i686"), images.image_tag("aarch64")
    assert i686.startswith("manywheels-test-i686:")
    assert aarch64.startswith("manywheels-test-aarch64:")
    assert i686.split(":")[1] != aarch64.split(":")[1]
    assert images.image_tag("i686") == i686  # stable
    assert images._base_tag(images.PLATFORMS["aarch64"]).startswith("manywheels-test-base-aarch64:")


def test_unknown_arch() -> None:
    with pytest.raises(images.ImageBuildError, match="unknown arch 'ppc64le'"):
        images.ensure_test_image("ppc64le")


def test_cli_rejects_unknown_arch(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        images.main(["--arch", "ppc64le"])
    assert "invalid choice" in capsys.readouterr().err
