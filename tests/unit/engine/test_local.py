"""engine none: this machine as the container (subprocesses, in-place tar copies)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from manywheels.engine import LocalContainer, LocalEngine
from manywheels.engine._local import check_layout
from manywheels.errors import CommandError, EngineUnavailableError


def test_run_streams_both_streams_and_returns_the_code(tmp_path: Path) -> None:
    container = LocalContainer("img", env={"GREETING": "hi"})
    seen: list[tuple[str, str]] = []
    code = container.run('echo "$GREETING"; echo oops >&2; exit 3', cwd=str(tmp_path),
                         sink=lambda line, stream: seen.append((line, stream)), check=False)
    assert code == 3
    assert sorted(seen) == [("hi", "stdout"), ("oops", "stderr")]
    assert container.output(["pwd"], cwd=str(tmp_path)) == str(tmp_path)


def test_a_failing_command_raises_with_its_tail() -> None:
    container = LocalContainer("img")
    with pytest.raises(CommandError) as raised:
        container.run("echo one; echo two; exit 5", tail_lines=1)
    assert raised.value.returncode == 5
    assert list(raised.value.tail) == ["two"]


def test_copies_keep_modes_and_skip_links_out_of_the_tree(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "run.sh").write_text("#!/bin/sh\n")
    (src / "pkg" / "run.sh").chmod(0o755)
    (src / "skip.me").write_text("x")
    (src / "out").symlink_to("/etc/passwd")
    container = LocalContainer("img")
    dest = tmp_path / "in" / "tree"
    skipped = container.copy_into(src, str(dest), exclude=lambda p: p.name == "skip.me")
    assert skipped == [src / "out"]
    assert (dest / "pkg" / "run.sh").stat().st_mode & 0o777 == 0o755
    assert not (dest / "skip.me").exists()
    back = tmp_path / "back"
    container.copy_out(str(dest / "pkg"), back)
    assert (back / "run.sh").read_text() == "#!/bin/sh\n"
    container.write_text(str(tmp_path / "w" / "f.txt"), "text", mode=0o600)
    assert container.read_text(str(tmp_path / "w" / "f.txt")) == "text"
    with pytest.raises(CommandError):
        container.read_text(str(tmp_path / "absent"))


def test_remove_deletes_only_what_it_created_and_kills_commands(tmp_path: Path) -> None:
    container = LocalContainer("img")
    container.write_text(str(tmp_path / "kept-dir-existed.txt"), "x")
    started = threading.Event()

    def sink(line: str, stream: str) -> None:
        started.set()

    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(
        container.run("echo go; exec sleep 300", sink=sink, check=False)))
    worker.start()
    assert started.wait(30)
    container.remove()
    worker.join(30)
    assert codes == [-9]
    assert (tmp_path / "kept-dir-existed.txt").exists()  # /tmp existed before: not removed
    with pytest.raises(RuntimeError, match="was removed"):
        container.run(["true"])


def test_check_layout_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailableError, match="no AUDITWHEEL_PLAT") as raised:
        check_layout({"PATH": str(tmp_path)})
    assert "auditwheel on PATH" in str(raised.value)
    engine = LocalEngine({"AUDITWHEEL_PLAT": "manylinux_2_36_x86_64", "PATH": "/bin"})
    assert engine.image("any").plat == "manylinux_2_36_x86_64"
    assert engine.images() == []
    assert engine.leftovers() == []
