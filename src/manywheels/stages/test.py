"""The test stage: install each repaired wheel in a fresh virtual environment and run
the test-command there, from a directory outside the source tree, so the import
comes from the installed wheel."""

from __future__ import annotations

import shlex
import time
from functools import partial
from pathlib import Path

from packaging.utils import parse_wheel_filename

from manywheels.errors import CommandError, NothingToDoError
from manywheels.plan import interpreter_path
from manywheels.render import render
from manywheels.run import CONTAINER_ROOT, Run
from manywheels.stages._common import Job, StageResult, run_jobs, wheel_identifier
from manywheels.tags import parse_python_tag
from manywheels.ui import SummaryRow

__all__ = ["PROJECT_IN_CONTAINER", "repaired_wheels", "test"]

PROJECT_IN_CONTAINER = f"{CONTAINER_ROOT}/project"
"""Where the project tree is copied for ``{project}`` in the test-command."""

_NEVER_COPY = {".git", ".hg", ".nox", ".tox", ".venv", "venv", "__pycache__", ".mypy_cache",
               ".pytest_cache", ".ruff_cache", "node_modules"}


def repaired_wheels(output_dir: Path) -> list[Path]:
    """The repaired (or pure) wheels in ``output-dir``."""
    result = []
    for path in sorted(output_dir.glob("*.whl")):
        try:
            _, _, _, tags = parse_wheel_filename(path.name)
        except ValueError:
            continue
        if not any(t.platform.startswith("linux_") for t in tags):
            result.append(path)
    return result


def _copy_project(run: Run, image: str) -> None:
    config = run.config
    skip = {config.dist_dir.resolve(), config.output_dir.resolve()}

    def exclude(path: Path) -> bool:
        return path.name in _NEVER_COPY or path.resolve() in skip

    run.container(image).copy_into(config.project_dir, PROJECT_IN_CONTAINER, exclude=exclude)


def _test_one(run: Run, wheel: Path, identifier: str, image: str, interpreter: str) -> str:
    config = run.config
    assert config.test_command is not None
    container = run.container(image)
    base = f"{CONTAINER_ROOT}/{identifier}"
    wheel_in = f"{base}/test/{wheel.name}"
    container.copy_into(wheel, wheel_in)
    requirement = wheel_in + (f"[{','.join(config.test_extras)}]" if config.test_extras else "")
    install_args = " ".join(shlex.quote(a) for a in [requirement, *config.test_requires])
    command = config.test_command.format(
        project=shlex.quote(PROJECT_IN_CONTAINER), wheel=shlex.quote(wheel_in)
    )
    script = render(
        "test.sh.j2", identifier=identifier, interpreter=interpreter, wheel=wheel_in,
        venv=f"{base}/venv", install_args=install_args, test_cwd=f"{base}/testcwd",
        test_command=command,
    )
    log_dir = run.log_dir(identifier)
    log = log_dir / "test.log"
    log.unlink(missing_ok=True)
    run.save_script(log_dir / "test.sh", script)
    started = time.monotonic()
    with run.ui.target_output(identifier, log) as sink:
        sink.note(f"test {wheel.name}: {command}")
        try:
            container.run(script, sink=sink)
        except CommandError:
            run.report.record(
                identifier, "test", status="failed", wheel=wheel.name,
                duration_s=round(time.monotonic() - started, 3), log=f"logs/{identifier}/test.log",
            )
            raise
    run.report.record(
        identifier, "test", status="passed", wheel=wheel.name,
        duration_s=round(time.monotonic() - started, 3), log=f"logs/{identifier}/test.log",
    )
    return command


def test(run: Run) -> StageResult:
    """Install every repaired wheel of ``output-dir`` into a fresh venv and run the
    test-command (placeholders ``{project}``, ``{wheel}``). Without a test-command the
    stage says it skipped and records ``skipped``.

    Raises:
        NothingToDoError: ``output-dir`` holds no repaired wheels.
        StageFailedError: the test-command failed for one or more identifiers.
    """
    config = run.config
    run.ui.heading("manywheels: test")
    wheels = repaired_wheels(config.output_dir)
    if not wheels:
        msg = (
            f"no repaired wheels to test in output-dir {config.output_dir}: run the repair "
            "stage first (nox -s wheels-repair)"
        )
        raise NothingToDoError(msg)
    plan = []
    for wheel in wheels:
        identifier = run.report.find_wheel("repair", wheel.name)
        target = run.report.targets.get(identifier or "", {})
        image = str(target.get("image") or config.image)
        if identifier is None:
            identifier, python = wheel_identifier(wheel.name, config.plat or "linux")
        else:
            python = parse_python_tag(str(target.get("python") or identifier.split("-")[0]))
        if python is None:
            msg = f"cannot tell which interpreter tests {wheel.name}"
            raise NothingToDoError(msg)
        plan.append((wheel, identifier, image, interpreter_path(python)))
    if config.test_command is None:
        run.ui.info("no test-command configured: test stage skipped")
        rows = []
        for wheel, identifier, _, _ in plan:
            run.report.record(identifier, "test", status="skipped", wheel=wheel.name,
                              reason="no test-command")
            rows.append(SummaryRow(identifier, "skipped", None, "no test-command"))
        run.ui.summary("test summary", rows)
        return StageResult("test", rows)
    if "{project}" in config.test_command:
        for image in {p[2] for p in plan}:
            _copy_project(run, image)
    jobs = [
        Job(identifier, partial(_test_one, run, wheel, identifier, image, interpreter),
            run.log_dir(identifier) / "test.log")
        for wheel, identifier, image, interpreter in plan
    ]
    return run_jobs(run, "test", jobs)


test.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported
