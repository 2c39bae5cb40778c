"""The exception hierarchy of manywheels.

Every error a user can cause derives from :class:`ManywheelsError`. Its
``str()`` is one clear line (naming the bad value and what is allowed) and
``exit_code`` is the process exit code front ends use. Front ends print the
message without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "BeforeAllError",
    "CommandError",
    "ConfigError",
    "EmulationUnavailableError",
    "EngineUnavailableError",
    "ExitCode",
    "ForeignRecordError",
    "ImageNotFoundError",
    "LockedError",
    "ManywheelsError",
    "NoWheelBuiltError",
    "NotBuiltError",
    "NothingToDoError",
    "OutputError",
    "PolicyError",
    "ProjectError",
    "PublishError",
    "PythonTagMissingError",
    "SdistBuildError",
    "SessionClashError",
    "StageFailedError",
]


class ExitCode:
    """Process exit codes, one per failure kind (stable, documented in the README)."""

    OK = 0
    STAGE_FAILED = 1
    CONFIG = 2
    ENGINE = 3
    IMAGE = 4
    COMMAND = 5
    PROJECT = 6
    NOTHING_TO_DO = 7
    PUBLISH = 8
    LOCKED = 9
    SESSION_CLASH = 10
    OUTPUT = 11
    EMULATION = 12
    SIGINT = 130
    SIGTERM = 143


class ManywheelsError(Exception):
    """Base class: a failure with a one-line message and an exit code."""

    exit_code: int = ExitCode.STAGE_FAILED


class ConfigError(ManywheelsError):
    """A configuration key, type or value is invalid (names the key and what is allowed)."""

    exit_code = ExitCode.CONFIG


class PolicyError(ConfigError):
    """An auditwheel policy / platform tag (``plat``, an image's ``AUDITWHEEL_PLAT``) is not
    one of the forms PEP 600 / PEP 656 allow (``manylinux_2_28_x86_64``, ``manylinux2014_i686``,
    ``musllinux_1_2_aarch64``, ``linux_x86_64``)."""


class PythonTagMissingError(ConfigError):
    """A requested Python tag is not in the image (the message lists what the image has)."""


class ForeignRecordError(ConfigError):
    """The output-dir holds the run record of another project (one project per output-dir)."""


class SessionClashError(ConfigError):
    """``manywheels init``: the noxfile already defines a session named like manywheels'
    (``wheels``, ``wheels-build``, ...), which would silently replace it."""

    exit_code = ExitCode.SESSION_CLASH


class ProjectError(ManywheelsError):
    """The project directory is missing or is not a Python project."""

    exit_code = ExitCode.PROJECT


class SdistBuildError(ProjectError):
    """Building the sdist on the host failed (the message names the log).

    Attributes:
        log: the sdist build log, when one was written.
    """

    def __init__(self, message: str, log: Path | None = None) -> None:
        super().__init__(message)
        self.log = log


class EngineUnavailableError(ManywheelsError):
    """No container engine answers (no socket, wrong DOCKER_HOST, permission denied)."""

    exit_code = ExitCode.ENGINE


class ImageNotFoundError(ManywheelsError):
    """The image is neither present locally nor pullable."""

    exit_code = ExitCode.IMAGE


class EmulationUnavailableError(ManywheelsError):
    """The host cannot run a foreign architecture's containers: no QEMU binfmt handler for
    it (the message says how to register one)."""

    exit_code = ExitCode.EMULATION


class NothingToDoError(ManywheelsError):
    """A stage found no input (no raw wheels to repair, no repaired wheels to test)."""

    exit_code = ExitCode.NOTHING_TO_DO


class NotBuiltError(NothingToDoError):
    """An identifier asked for (``--python cp39``) has no wheel of the current sdist in the
    run record: the build stage never built it."""


class PublishError(ManywheelsError):
    """A publish check or upload failed."""

    exit_code = ExitCode.PUBLISH


class LockedError(ManywheelsError):
    """Another run holds the lock of the dist-dir or output-dir (:mod:`manywheels._lock`)."""

    exit_code = ExitCode.LOCKED


class OutputError(ManywheelsError):
    """A file or directory manywheels writes (dist-dir, output-dir, a log, a wheel, the run
    report) cannot be written: read-only, full, not a directory, permission denied. The
    message names the path and the reason; the run stops (exit code 11)."""

    exit_code = ExitCode.OUTPUT


class CommandError(ManywheelsError):
    """A command in a container exited non-zero.

    Attributes:
        command: the argv (or script) that ran.
        returncode: its exit code.
        tail: the last lines of its combined output.
    """

    exit_code = ExitCode.COMMAND

    def __init__(
        self, command: Sequence[str] | str, returncode: int, tail: Sequence[str] = ()
    ) -> None:
        self.command = command
        self.returncode = returncode
        self.tail = list(tail)
        shown = command if isinstance(command, str) else " ".join(command)
        first = shown.strip().splitlines()[0] if shown.strip() else shown
        if len(first) > 120:
            first = first[:117] + "..."
        super().__init__(f"command exited with code {returncode}: {first}")


class BeforeAllError(CommandError):
    """``before-all`` exited non-zero (exit code and last lines of its output)."""

    def __init__(
        self, command: Sequence[str] | str, returncode: int, tail: Sequence[str] = ()
    ) -> None:
        super().__init__(command, returncode, tail)
        self.args = (f"before-all failed with exit code {returncode}",)


class NoWheelBuiltError(ManywheelsError):
    """A build or repair script ended without error but left no wheel (or several) where
    one was expected: that identifier fails (exit code 1 for the stage)."""

    exit_code = ExitCode.STAGE_FAILED


class StageFailedError(ManywheelsError):
    """One or more identifiers failed in a stage; the others' results are kept.

    Attributes:
        failures: identifier -> one-line reason.
    """

    exit_code = ExitCode.STAGE_FAILED

    def __init__(self, stage: str, failures: dict[str, str]) -> None:
        self.stage = stage
        self.failures = dict(failures)
        names = ", ".join(sorted(failures))
        super().__init__(f"{stage} failed for {len(failures)} identifier(s): {names}")
