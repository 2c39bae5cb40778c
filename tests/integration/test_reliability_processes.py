"""signals.py and lock.py with real signals and real processes (no containers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from manywheels import _signals as signals
from manywheels._lock import LOCK_NAME, DirectoryLock
from manywheels.errors import ExitCode, LockedError


def test_deferred_postpones_a_signal_until_cleanup_is_done() -> None:
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt), signals.deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        steps.append("cleanup finished")
    assert steps == ["cleanup finished"]


def test_deferred_does_not_replace_the_exception_being_handled() -> None:
    def fail() -> None:
        msg = "first"
        raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="first"):
        try:
            fail()
        except RuntimeError:
            with signals.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
            raise
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_handling_turns_sigterm_into_terminated_and_restores() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(signals.Terminated) as caught, signals.handling():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
    assert caught.value.code == ExitCode.SIGTERM == signals.exit_code_for(caught.value)
    assert isinstance(caught.value, SystemExit) and not isinstance(caught.value, Exception)
    assert signals.exit_code_for(KeyboardInterrupt()) == ExitCode.SIGINT
    assert signals.exit_code_for(ValueError()) is None
    assert signal.getsignal(signal.SIGTERM) == before


CHILD = textwrap.dedent("""
    import sys, time
    from manywheels import _signals as signals
    assert signals.install() and signals.install()  # idempotent
    try:
        print("ready", flush=True)
        time.sleep(60)
    finally:
        print("cleanup ran", flush=True)
""")


def test_sigterm_to_a_real_process_runs_cleanup_and_exits_143() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 143, err
    assert "cleanup ran" in out
    assert "Traceback" not in err


def test_install_leaves_an_application_handler_alone() -> None:
    code = ("import signal; from manywheels import _signals as signals\n"
            "signal.signal(signal.SIGTERM, lambda *a: None)\n"
            "assert signals.install() is False\n")
    subprocess.run([sys.executable, "-c", code], check=True)


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from manywheels._lock import DirectoryLock
    DirectoryLock(Path(sys.argv[1]), "dist-dir").acquire()
    print("locked", flush=True)
    time.sleep(120)
""")


def test_a_second_process_is_refused_until_the_holder_dies(tmp_path: Path) -> None:
    directory = tmp_path / "dist"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory), "--marker"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        lock = DirectoryLock(directory, "dist-dir")
        with pytest.raises(LockedError) as caught:
            lock.acquire()
        message = str(caught.value)
        assert caught.value.exit_code == ExitCode.LOCKED == 9
        assert f"dist-dir {str(directory)!r} is in use by another manywheels run" in message
        assert f"pid {holder.pid}" in message and "--marker" in message
        assert "\n" not in message
        holder.kill()  # SIGKILL: no cleanup at all; the kernel drops the lock
        holder.wait()
        lock.acquire()
        assert lock.held
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert (directory / LOCK_NAME).read_text() == ""  # released: holder info cleared


def test_locks_of_one_process_are_shared(tmp_path: Path) -> None:
    first, second = DirectoryLock(tmp_path, "output-dir"), DirectoryLock(tmp_path, "dist-dir")
    first.acquire()
    second.acquire()  # a second run of the same process (another nox session config)
    first.release()
    probe = subprocess.run(
        [sys.executable, "-c", ("import sys; from pathlib import Path; "
                                "from manywheels._lock import DirectoryLock; "
                                "DirectoryLock(Path(sys.argv[1]), 'output-dir').acquire()"),
         str(tmp_path)],
        capture_output=True, text=True, check=False)
    assert probe.returncode != 0 and "LockedError" in probe.stderr  # still held by `second`
    second.release()
    with DirectoryLock(tmp_path, "output-dir") as again:
        assert again.held
