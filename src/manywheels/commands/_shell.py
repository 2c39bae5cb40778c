"""``manywheels shell IDENTIFIER [-- COMMAND]`` (``nox -s wheels-shell -- IDENTIFIER``,
``invoke wheels.shell``): a container of the identifier's image, as its build sees it.

The container is the run's container of that image (:mod:`manywheels.stages._containers`:
from the cached before-all image when there is one, else before-all runs), with the
recorded sdist unpacked in ``/manywheels/<identifier>/src``, the build environment in
``/manywheels/<identifier>/shell-env.sh`` (sourced by the shell) and the last build script
of ``logs/<identifier>/build.sh`` copied beside it. The container is removed when the
shell or COMMAND ends, like every container of a run.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence

from manywheels._ui import UI
from manywheels.config import Config
from manywheels.engine import EngineError
from manywheels.errors import ConfigError, EngineUnavailableError
from manywheels.plan._targets import BuildStep
from manywheels.stages._run import CONTAINER_ROOT, Run
from manywheels.stages._script_env import export_lines

__all__ = ["open_shell", "shell_environment"]


def shell_environment(step: BuildStep, sdist: str | None) -> str:
    """The script the shell sources: ``PYTHON``, ``SDIST``, ``SRC``, ``OUT`` as the build
    script sets them, the build's ``environment`` exported, the interpreter first on
    ``PATH``, and ``cd $SRC``."""
    base = f"{CONTAINER_ROOT}/{step.identifier}"
    lines = [
        "# manywheels shell: the build environment of " + step.identifier,
        f"PYTHON={shlex.quote(step.interpreter)}",
        f"SDIST={shlex.quote(sdist or '')}",
        f"SRC={shlex.quote(base + '/src')}",
        f"OUT={shlex.quote(base + '/dist')}",
        "export PYTHON SDIST SRC OUT",
        export_lines(shlex.quote(step.identifier), step.options.environment),
        'export PATH="$(dirname "$PYTHON"):$PATH"',
        'cd "$SRC"',
    ]
    return "\n".join(line for line in lines if line) + "\n"


def _step(run: Run, identifier: str) -> BuildStep:
    steps = run.plan(run.config.requires_python).steps
    found = next((s for s in steps if s.identifier == identifier), None)
    if found is None:
        planned = ", ".join(s.identifier for s in steps) or "none"
        msg = (f"shell: {identifier!r} is not an identifier of this configuration's plan; "
               f"planned are: {planned}")
        raise ConfigError(msg)
    return found


def _prepare(run: Run, step: BuildStep) -> str:
    """Start the container (before-all done), unpack the recorded sdist, write the
    environment script and copy the last build script; return the environment script's
    path in the container."""
    run.ensure_before_all(step.image)
    container = run.container(step.image)
    base = f"{CONTAINER_ROOT}/{step.identifier}"
    recorded = run.report.project.sdist
    sdist_path = run.config.dist_dir / recorded if recorded else None
    sdist_in = None
    container.run(["mkdir", "-p", f"{base}/src"])
    if sdist_path is not None and sdist_path.is_file():
        sdist_in = f"{CONTAINER_ROOT}/sdist/{sdist_path.name}"
        container.copy_into(sdist_path, sdist_in)
        container.run(["tar", "-xzf", sdist_in, "-C", f"{base}/src", "--strip-components=1"])
        run.ui.info(f"shell: {sdist_path.name} unpacked in {base}/src")
    else:
        run.ui.warn(f"shell: no recorded sdist in {run.config.dist_dir} (run the build "
                    f"stage first); {base}/src is empty")
    script = run.config.output_dir / "logs" / step.identifier / "build.sh"
    if script.is_file():
        container.copy_into(script, f"{base}/build.sh")
        run.ui.info(f"shell: the last build script is {base}/build.sh (bash {base}/build.sh)")
    env_script = f"{base}/shell-env.sh"
    container.write_text(env_script, shell_environment(step, sdist_in))
    return env_script


def _write(line: str, stream: str) -> None:
    out = sys.stderr if stream == "stderr" else sys.stdout
    out.write(line + "\n")
    out.flush()


def open_shell(config: Config, identifier: str, command: Sequence[str], ui: UI) -> int:
    """Open the shell of ``identifier`` (interactive ``bash``), or run ``command`` there
    (an argv, in the build environment) and return its exit code.

    Raises:
        ConfigError: ``identifier`` is not planned (the line names the planned ones).
        EngineUnavailableError: an interactive shell and no ``docker`` CLI on ``PATH``.
        BeforeAllError, ImageNotFoundError, EngineError: as a build's container.
    """
    with Run(config, ui) as run:
        step = _step(run, identifier)
        env_script = _prepare(run, step)
        container = run.container(step.image)
        if command:
            wrapper = f'source {shlex.quote(env_script)} && exec "$@"'
            return container.run(["bash", "-c", wrapper, "bash", *command], sink=_write,
                                 check=False)
        argv = container.interactive_command(
            ["bash", "--rcfile", env_script, "-i"], tty=sys.stdin.isatty())
        if argv and argv[0] == "docker" and shutil.which("docker") is None:
            msg = (f"shell: an interactive shell needs the docker CLI on PATH; without it run "
                   f"a command: manywheels shell {identifier} -- COMMAND")
            raise EngineUnavailableError(msg)
        run.ui.info(f"shell: {identifier} in {container.name} ({step.image}); exit to leave "
                    "(the container is removed)")
        try:
            return subprocess.run(argv, check=False).returncode
        except OSError as error:
            msg = f"shell: {shlex.join(argv)} could not start: {error}"
            raise EngineError(msg) from error
