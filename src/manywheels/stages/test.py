"""The test stage: install each repaired wheel in a fresh virtual environment and run
the test-command there, from a directory outside the source tree, so the import
comes from the installed wheel."""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from manywheels._commands import stage_command
from manywheels._ui import SummaryRow
from manywheels.config._placeholders import fill_placeholders, uses_placeholder
from manywheels.config._project import is_excluded
from manywheels.config._selectors import group_requirements, matches_any
from manywheels.engine import Container
from manywheels.errors import CommandError, ConfigError
from manywheels.naming._tags import parse_python_tag
from manywheels.plan._targets import StepOptions, interpreter_path, step_options
from manywheels.stages import _test_image as test_image
from manywheels.stages._common import Job, StageResult, run_jobs, run_stage_script, select_recorded
from manywheels.stages._environment import container_environment
from manywheels.stages._interpreters import ensure_interpreters
from manywheels.stages._pipeline import collect
from manywheels.stages._render import render
from manywheels.stages._run import CONTAINER_ROOT, Run
from manywheels.stages._script_env import export_lines, leaked_names
from manywheels.stages._sdist_given import unpacked_sdist
from manywheels.stages._step_summary import append_step_summary

if TYPE_CHECKING:
    from manywheels.config import Config

__all__ = ["PROJECT_IN_CONTAINER", "test", "test_job", "test_script"]

PROJECT_IN_CONTAINER = f"{CONTAINER_ROOT}/project"
"""Where the project tree is copied for ``{project}`` in the test-command."""


def copy_project(run: Run, image: str, container: Container | None = None) -> None:
    """Copy the project tree (exclusions left out) to :data:`PROJECT_IN_CONTAINER` in the
    image's container (or ``container``), for ``{project}`` and ``{package}``; with the
    ``sdist`` option, the unpacked sdist instead
    (:func:`~manywheels.stages._sdist_given.unpacked_sdist`)."""
    config = run.config
    target = container or run.container(image)
    if config.sdist is not None:
        with unpacked_sdist(config.sdist) as tree:
            target.copy_into(tree, PROJECT_IN_CONTAINER)
        return
    skip = {config.dist_dir.resolve(), config.output_dir.resolve()}

    def exclude(path: Path) -> bool:
        return is_excluded(path.name) or path.resolve() in skip

    target.copy_into(config.project_dir, PROJECT_IN_CONTAINER, exclude=exclude)


def test_script(options: StepOptions, identifier: str, wheel_name: str,
                interpreter: str, *, unset: Sequence[str] = (),  # noqa: PT028
                groups: Sequence[str] = ()) -> tuple[str, str]:  # noqa: PT028
    """The in-container test script of one wheel (``templates/test.sh.j2``) and the
    test-command in it: ``{project}``, ``{package}`` and ``{wheel}`` filled, any other
    brace text left as written (:func:`~manywheels.config.fill_placeholders`). The test
    sees the markers and ``test-environment``, not the build's ``environment`` (``unset``:
    the names the container's own environment holds). ``groups``: the requirements of
    ``test-groups``, installed with the wheel; ``before-test`` runs in the venv before the
    install; ``test-timeout`` bounds the test-command."""
    assert options.test_command is not None
    base = f"{CONTAINER_ROOT}/{identifier}"
    wheel_in = f"{base}/test/{wheel_name}"
    extras = options.test_extras
    requirement = wheel_in + (f"[{','.join(extras)}]" if extras else "")
    install_args = " ".join(shlex.quote(a)
                            for a in [requirement, *options.test_requires, *groups])
    project = shlex.quote(PROJECT_IN_CONTAINER)
    places = {"project": project, "package": project, "wheel": shlex.quote(wheel_in)}
    command = fill_placeholders(options.test_command, **places)
    script = render(
        "test.sh.j2", identifier=identifier, interpreter=interpreter, wheel=wheel_in,
        venv=f"{base}/venv", install_args=install_args, test_cwd=f"{base}/testcwd",
        test_command=command, before_test=fill_placeholders(options.before_test, **places),
        timeout=options.test_timeout,
        environment=export_lines(shlex.quote(identifier), options.test_environment, unset),
    )
    return script, command


def test_source_paths(config: Config) -> list[Path]:
    """The ``test-sources`` paths on the host.

    Raises:
        ConfigError: a path is absolute, leaves the project or does not exist.
    """
    paths = []
    for source in config.test_sources:
        path = (config.project_dir / source).resolve()
        inside = path == config.project_dir or config.project_dir in path.parents
        if Path(source).is_absolute() or not inside or not path.exists():
            where = config.sources.get("test-sources", "default")
            msg = (f"test-sources ({where}): {source!r} is not an existing path inside the "
                   f"project {str(config.project_dir)!r}; allowed are relative paths in it")
            raise ConfigError(msg)
        paths.append(path)
    return paths


def needs_project(command: str) -> bool:
    """Whether a command names the project copy (``{project}`` or ``{package}``)."""
    return uses_placeholder(command, "project") or uses_placeholder(command, "package")


@dataclass(frozen=True)
class _TestInput:
    identifier: str
    wheel: str
    image: str
    interpreter: str
    reused_from: str | None = None
    test_image: str | None = None  # test-image: tested in a clean container of it


def _container(run: Run, item: _TestInput) -> Container:
    if item.test_image is None:
        return run.container(item.image)
    return run.containers.clean(item.test_image, run.arch(item.image))


def _with_test_images(run: Run, items: list[_TestInput]) -> list[_TestInput]:
    """The items ``test-image`` moves to a clean container, with the interpreter found there
    (:mod:`manywheels.stages._test_image`)."""
    moved = []
    for item in items:
        ref = test_image.test_image_for(run.config, item.identifier, item.image)
        clean = item if ref is None else replace(item, test_image=ref)
        if ref is not None and not run.config.dry_run:
            python = parse_python_tag(item.identifier.split("-")[0])
            clean = replace(clean, interpreter=test_image.clean_interpreter(
                _container(run, clean), item.identifier, python, item.interpreter, ref))
        moved.append(clean)
    return moved


def _test_one(run: Run, item: _TestInput, script: str, command: str) -> str:
    container = _container(run, item)
    wheel_in = f"{CONTAINER_ROOT}/{item.identifier}/test/{item.wheel}"
    container.copy_into(run.config.output_dir / item.wheel, wheel_in)
    for source in step_options(run.config, item.identifier).test_sources:  # checked before
        container.copy_into(run.config.project_dir / source,
                            f"{CONTAINER_ROOT}/{item.identifier}/testcwd/{source}")
    started = time.monotonic()
    try:
        run_stage_script(
            run, container, item.identifier, "test", script,
            note=f"test {item.wheel}: {command}", started=started, wheel=item.wheel,
            run_id=run.run_id,
        )
    except CommandError as error:
        if item.test_image is not None:  # name what the clean image lacks
            venv = f"{CONTAINER_ROOT}/{item.identifier}/venv"
            missing = test_image.missing_libraries(container, venv)
            if missing:
                line = (f"manywheels: in test-image {item.test_image}, not found by the "
                        f"dynamic linker (neither vendored in the wheel nor in the image): "
                        f"{'; '.join(missing)}")
                with (run.log_dir(item.identifier) / "test.log").open("a") as log:
                    log.write(line + "\n")
                error.tail.append(line)
        raise
    run.report.record(
        item.identifier, "test", status="passed", wheel=item.wheel,
        duration_s=round(time.monotonic() - started, 3), log=f"logs/{item.identifier}/test.log",
        run_id=run.run_id, reused_from=item.reused_from,
    )
    if item.reused_from:
        return f"{item.wheel} (reused from {item.reused_from})"
    return item.wheel


def _skip_all(run: Run, items: list[_TestInput], reason: str = "no test-command",
              *, summary: bool = True) -> StageResult:
    """Record every item ``skipped`` (no test-command, or ``test-skip``)."""
    if reason == "no test-command" and summary:
        run.ui.warn(f"no test-command configured: test stage skipped; "
                    f"{stage_command('publish')} will refuse these untested wheels unless "
                    "--allow-untested")
    else:
        run.ui.info(f"{reason}: " + ", ".join(item.identifier for item in items))
    rows = []
    for item in items:
        if not run.config.dry_run:
            run.report.record(item.identifier, "test", status="skipped", wheel=item.wheel,
                              reason=reason, run_id=run.run_id)
        rows.append(SummaryRow(item.identifier, "skipped", None, reason))
    if summary:
        run.ui.summary("test summary", rows)
        append_step_summary(run, "test", rows)
    return StageResult("test", rows)


def _jobs(run: Run, items: list[_TestInput]) -> list[Job]:
    base = container_environment(run.config.with_(environment={}), run.host_env)
    unset = leaked_names(run.config.environment, base)
    pyproject = run.config.read_project().pyproject
    jobs = []
    for item in items:
        options = step_options(run.config, item.identifier)
        groups = group_requirements(pyproject, options.test_groups) \
            if options.test_groups else []
        script, command = test_script(options, item.identifier, item.wheel, item.interpreter,
                                      unset=unset, groups=groups)
        log = None if run.config.dry_run else run.log_dir(item.identifier) / "test.log"
        jobs.append(Job(item.identifier, partial(_test_one, run, item, script, command), log,
                        script=script, label="test.sh"))
    return jobs


def test_job(run: Run, identifier: str) -> Job:
    """The test job of one identifier whose repair passed (the pipelined chain:
    :mod:`._pipeline`).

    Raises:
        KeyError: the record names no passed repair of the identifier.
        ConfigError: an unknown ``test-groups`` group.
    """
    record = run.report.current("repair")[identifier]
    target = run.report.target(identifier)
    tag = identifier.split("-", maxsplit=1)[0]
    python = parse_python_tag((target.python if target and target.python else None) or tag)
    image = (target.image if target else None) or run.config.image
    return _jobs(run, [_TestInput(identifier, str(record.wheel), image,
                                  interpreter_path(python), record.reused_from)])[0]


def _inputs(run: Run) -> list[_TestInput]:
    """The repaired wheels of the current sdist (from the run record); before any build
    in a dry run, placeholders for the wheels the plan would make."""
    if run.config.dry_run and not run.report.current("repair"):
        return [_TestInput(s.identifier, f"<the repaired wheel of {s.identifier}>", s.image,
                           s.interpreter)
                for s in run.plan(run.config.requires_python).steps]
    items = []
    for identifier, record in select_recorded(run, "repair", run.config.output_dir):
        target = run.report.target(identifier)
        python = parse_python_tag(
            (target.python if target and target.python else None) or identifier.split("-")[0])
        image = (target.image if target else None) or run.config.image
        items.append(_TestInput(identifier, str(record.wheel), image, interpreter_path(python),
                                record.reused_from))
    return items


def test(run: Run) -> StageResult:
    """Install every repaired wheel of the current sdist (from the run record) into a fresh
    venv with its identifier's interpreter and run the test-command (placeholders
    ``{project}``, ``{package}``, ``{wheel}``; other braces pass through); a pure wheel
    is tested with every identifier's interpreter. Identifiers matching ``test-skip`` are
    recorded ``skipped``; ``test-sources`` are copied into the test's working directory.
    With ``test-image`` an identifier is tested in a clean container of that image (no
    before-all, :mod:`manywheels.stages._test_image`); a failure there names the shared
    libraries the wheel lacks. Without a test-command the stage says it skipped and
    records ``skipped``. With
    ``dry-run`` the scripts are printed on stdout and nothing runs or is written.

    Raises:
        NothingToDoError: the record names no repaired wheel of the current sdist.
        NotBuiltError: a ``python`` tag asked for has no repaired wheel of the current sdist.
        ForeignRecordError: the output-dir holds another project's record.
        StageFailedError: the test-command failed (or passed ``test-timeout``) for one or
            more identifiers.
        ConfigError: a ``test-sources`` path outside the project or missing; an unknown
            ``test-groups`` group; a malformed ``test-image`` entry, or a test image
            without the identifier's Python.
    """
    config = run.config
    run.ui.heading("manywheels: test")
    if (pipelined := collect(run, "test")) is not None:
        return pipelined
    items = _inputs(run)
    if not config.dry_run:
        run.lock_outputs()
    options = {item.identifier: step_options(config, item.identifier) for item in items}
    if all(o.test_command is None for o in options.values()):
        return _skip_all(run, items)
    untested = {i for i, o in options.items() if o.test_command is None}
    excluded = {i for i in options if matches_any(i, config.test_skip)}
    rows: list[SummaryRow] = []
    for reason, names in (("no test-command", untested), ("test-skip", excluded - untested)):
        skipped = [item for item in items if item.identifier in names]
        if skipped:
            items = [item for item in items if item not in skipped]
            rows += _skip_all(run, skipped, reason, summary=False).rows
    if not items:  # every identifier skipped
        run.ui.summary("test summary", rows)
        append_step_summary(run, "test", rows)
        return StageResult("test", rows)
    for item in items:
        test_source_paths(config.with_(test_sources=options[item.identifier].test_sources))
    items = _with_test_images(run, items)
    images = list(dict.fromkeys(item.image for item in items if item.test_image is None))
    for image in images:
        run.ensure_before_all(image)  # what before-all installed is there for the tests too
        if not config.dry_run:  # PyPy / GraalPy on demand
            ensure_interpreters(run.container(image),
                                (i.interpreter for i in items if i.image == image), run.ui.info)
    uses_project = any(needs_project(f"{o.test_command} {o.before_test}")
                       for o in options.values())
    if uses_project and not config.dry_run:
        for image in images:
            copy_project(run, image)
        clean = {(i.test_image, run.arch(i.image)): i for i in items if i.test_image}
        for item in clean.values():  # one clean container per test image and arch
            copy_project(run, item.image, _container(run, item))
    return run_jobs(run, "test", _jobs(run, items), skipped=rows)


test.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported
test_script.__test__ = False  # type: ignore[attr-defined]
test_source_paths.__test__ = False  # type: ignore[attr-defined]
test_job.__test__ = False  # type: ignore[attr-defined]
