"""The test stage: install each repaired wheel in a fresh virtual environment and run
the test-command there, from a directory outside the source tree, so the import
comes from the installed wheel."""

from __future__ import annotations

import shlex
import time
from functools import partial
from pathlib import Path

from packaging.utils import parse_wheel_filename

from manywheels._ui import SummaryRow
from manywheels.errors import NothingToDoError
from manywheels.naming._tags import parse_python_tag
from manywheels.plan._targets import interpreter_path
from manywheels.stages._common import Job, StageResult, run_jobs, run_stage_script, wheel_identifier
from manywheels.stages._render import render
from manywheels.stages._run import CONTAINER_ROOT, Run

__all__ = ["PROJECT_IN_CONTAINER", "repaired_wheels", "test", "test_script"]

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


def test_script(run: Run, identifier: str, wheel_name: str, interpreter: str) -> tuple[str, str]:
    """The in-container test script of one wheel (``templates/test.sh.j2``) and the
    test-command in it (placeholders filled)."""
    config = run.config
    assert config.test_command is not None
    base = f"{CONTAINER_ROOT}/{identifier}"
    wheel_in = f"{base}/test/{wheel_name}"
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
    return script, command


def _dry_run(run: Run, plan: list[tuple[str, str, str]]) -> StageResult:
    """``dry-run``: print the test scripts (for the repaired wheels of output-dir, or for
    the wheels the earlier stages would make); test nothing, write nothing."""
    config = run.config
    if not plan:
        plan = [(f"<the repaired wheel of {t.identifier}>", t.identifier, t.interpreter)
                for t in run.targets(config.requires_python)]
    rows = []
    for name, identifier, interpreter in plan:
        if config.test_command is None:
            rows.append(SummaryRow(identifier, "skipped", None, "no test-command"))
            continue
        script, _ = test_script(run, identifier, name, interpreter)
        run.show_script(f"{identifier} test.sh", script)
        rows.append(SummaryRow(identifier, "skipped", None, "dry run: script printed"))
    run.ui.summary("test summary (dry run)", rows)
    return StageResult("test", rows)


def _test_one(run: Run, wheel: Path, identifier: str, image: str, interpreter: str) -> str:
    container = run.container(image)
    wheel_in = f"{CONTAINER_ROOT}/{identifier}/test/{wheel.name}"
    container.copy_into(wheel, wheel_in)
    script, command = test_script(run, identifier, wheel.name, interpreter)
    started = time.monotonic()
    run_stage_script(
        run, container, identifier, "test", script,
        note=f"test {wheel.name}: {command}",
        started=started, wheel=wheel.name,
    )
    run.report.record(
        identifier, "test", status="passed", wheel=wheel.name,
        duration_s=round(time.monotonic() - started, 3), log=f"logs/{identifier}/test.log",
    )
    return command


def test(run: Run) -> StageResult:
    """Install every repaired wheel of ``output-dir`` into a fresh venv and run the
    test-command (placeholders ``{project}``, ``{wheel}``). Without a test-command the
    stage says it skipped and records ``skipped``. With ``dry-run`` the scripts are
    printed on stdout and nothing runs or is written.

    Raises:
        NothingToDoError: ``output-dir`` holds no repaired wheels.
        StageFailedError: the test-command failed for one or more identifiers.
    """
    config = run.config
    run.ui.heading("manywheels: test")
    wheels = repaired_wheels(config.output_dir)
    if config.dry_run and not wheels:
        return _dry_run(run, [])
    if not wheels:
        msg = (
            f"no repaired wheels to test in output-dir {config.output_dir}: run the repair "
            "stage first (nox -s wheels-repair)"
        )
        raise NothingToDoError(msg)
    plan = []
    for wheel in wheels:
        identifier = run.report.find_wheel("repair", wheel.name)
        if run.report.is_stale(identifier):
            run.ui.warn(f"skipping {wheel.name}: left over from an earlier build run")
            continue
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
    if config.dry_run:
        return _dry_run(run, [(w.name, i, interpreter) for w, i, _, interpreter in plan])
    if not plan:
        msg = f"output-dir {config.output_dir} holds only wheels left over from earlier build runs"
        raise NothingToDoError(msg)
    run.lock_outputs()
    if config.test_command is None:
        run.ui.info("no test-command configured: test stage skipped")
        rows = []
        for wheel, identifier, _, _ in plan:
            run.report.record(identifier, "test", status="skipped", wheel=wheel.name,
                              reason="no test-command")
            rows.append(SummaryRow(identifier, "skipped", None, "no test-command"))
        run.ui.summary("test summary", rows)
        return StageResult("test", rows)
    for image in dict.fromkeys(p[2] for p in plan):
        run.ensure_before_all(image)  # what before-all installed is there for the tests too
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
test_script.__test__ = False  # type: ignore[attr-defined]
