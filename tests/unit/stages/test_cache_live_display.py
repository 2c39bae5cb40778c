"""The live display of parallel identifiers (rich Live) and its plain fallback."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from manywheels._ui import UI, Board, wants_live


def terminal(buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=True, width=140, color_system=None)


def test_board_states_and_table() -> None:
    board = Board("build", ["cp311-x", "cp312-x"])
    assert board.state("cp311-x") == "waiting" and board.elapsed("cp311-x") is None
    board.start("cp311-x")
    board.output("cp311-x", "gcc -c _speedups.c")
    board.finish("cp311-x", "passed")
    took = board.elapsed("cp311-x")
    assert took is not None and took >= 0.0
    assert board.elapsed("cp311-x") == took  # the clock stops at the end
    buffer = io.StringIO()
    terminal(buffer).print(board.render())
    text = buffer.getvalue()
    assert "cp311-x" in text and "passed" in text and "gcc -c _speedups.c" in text
    assert "cp312-x" in text and "waiting" in text and "build" in text


def test_live_keeps_container_output_in_the_log_only(tmp_path: Path) -> None:
    buffer = io.StringIO()
    ui = UI(terminal(buffer), prefix=True, live=True)
    log = tmp_path / "build.log"
    with ui.progress("build", ["cp312-x"]) as board, ui.target_output("cp312-x", log) as sink:
        board.start("cp312-x")
        sink.note("build cp312-x")
        sink("compiling the extension", "stdout")
        assert board.state("cp312-x") == "running"
        board.finish("cp312-x", "passed")
    ui.info("after the stage")
    assert log.read_text() == "+ build cp312-x\ncompiling the extension\n"
    text = buffer.getvalue()
    # The table was drawn (and cleared: transient); no line was echoed as plain output.
    assert "[cp312-x] compiling the extension" not in text
    assert "cp312-x" in text
    assert "manywheels: after the stage" in text


def test_plain_lines_when_not_live(tmp_path: Path) -> None:
    buffer = io.StringIO()
    ui = UI(Console(file=buffer, width=140), prefix=True)
    assert ui.live is False  # not a terminal
    with ui.progress("test", ["cp39-x", "cp310-x"]), \
            ui.target_output("cp39-x", tmp_path / "a.log") as first, \
            ui.target_output("cp310-x", tmp_path / "b.log") as second:
        first("one", "stdout")
        second("two", "stderr")
    assert buffer.getvalue().splitlines() == ["[cp39-x] one", "[cp310-x] two"]


def test_wants_live_only_on_a_terminal_outside_ci() -> None:
    tty = terminal(io.StringIO())
    assert wants_live(tty, {})
    assert not wants_live(tty, {"CI": "true"})
    assert not wants_live(Console(file=io.StringIO()), {})
