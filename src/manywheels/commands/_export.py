"""``manywheels export-script``: the configured flow as one standalone shell script.

The script (``templates/build-wheels.sh.j2``; its steps are the stage scripts' own, from
``templates/_steps.sh.j2``) runs inside a manylinux or musllinux image with the project
mounted at ``/io`` and needs nothing but Docker on the host::

    docker run --rm -v "$PWD":/io quay.io/pypa/manylinux_2_28_x86_64 bash /io/build-wheels.sh

It does what ``nox -s wheels`` does, in one container: the sdist with
``python -m build --sdist``, then per Python tag a wheel from that sdist,
``auditwheel repair`` and the test-command in a fresh venv. Repaired wheels land in
``/io/<output-dir>``, the sdist and raw wheels in ``/io/<dist-dir>``.
"""

from __future__ import annotations

import shlex
from pathlib import Path, PurePosixPath

from manywheels.config import Config
from manywheels.config._placeholders import fill_placeholders
from manywheels.config._project import EXCLUDED_PATHS, VCS_PATHS
from manywheels.config._selectors import expand_braces, group_requirements
from manywheels.errors import ConfigError
from manywheels.stages._frontend_args import frontend_extra_args
from manywheels.stages._render import render
from manywheels.stages._script_env import export_lines

__all__ = ["WORK_DIR", "render_script"]

WORK_DIR = "/tmp/manywheels"
"""The script's scratch directory inside the container (``$MANYWHEELS_WORK``)."""



def _inside(config: Config, key: str, path: Path) -> str:
    try:
        relative = path.resolve().relative_to(config.project_dir)
    except ValueError:
        msg = (
            f"export-script: {key} {str(path)!r} is outside the project "
            f"{str(config.project_dir)!r}; the script can only write below /io"
        )
        raise ConfigError(msg) from None
    text = PurePosixPath(*relative.parts).as_posix()
    if text in {"", "."}:
        msg = f"export-script: {key} must be a directory below the project, not the project"
        raise ConfigError(msg)
    return text


def render_script(config: Config) -> str:
    """Render ``build-wheels.sh`` for a configuration.

    Args:
        config: resolved configuration. ``python`` fixes the tags; when ``None`` the
            script picks every CPython of the image that ``requires-python`` allows, at
            run time. ``plat`` fixes the policy; when ``None`` the image's
            ``AUDITWHEEL_PLAT`` is used. ``before-all``, ``before-build``,
            ``environment`` (before-all, build and repair), ``test-environment``
            (tests), ``frontend``, ``test-command``, ``before-test``, ``test-groups``,
            ``test-timeout``, ``test-requires`` and
            ``test-extras`` are honoured as in the stages.

    Returns:
        The script text (bash).

    Raises:
        ConfigError: ``output-dir`` or ``dist-dir`` is not below the project directory.
    """
    output_dir = _inside(config, "output-dir", config.output_dir)
    dist_dir = _inside(config, "dist-dir", config.dist_dir)
    extras = f"[{','.join(config.test_extras)}]" if config.test_extras else ""
    groups = group_requirements(config.read_project().pyproject, config.test_groups) \
        if config.test_groups else []
    install_args = " ".join(
        [f'"$WHEEL{extras}"', *(shlex.quote(r) for r in [*config.test_requires, *groups])]
    )
    test_command = None
    if config.test_command is not None:
        test_command = fill_placeholders(config.test_command, project='"$PROJECT"',
                                         package='"$PROJECT"', wheel='"$WHEEL"')
    # tar --exclude patterns match names at any depth, like EXCLUDED_PATHS; the copy keeps
    # version-control metadata for the sdist build and drops it after (VCS_PATHS).
    excludes = [*sorted(EXCLUDED_PATHS - VCS_PATHS), f"./{output_dir}", f"./{dist_dir}"]
    return render(
        "build-wheels.sh.j2",
        project_name=config.read_project().display_name,
        image=config.image,
        python=[tag.tag for tag in sorted(config.python)] if config.python else [],
        requires_python=config.requires_python or "",
        plat=config.plat or "",
        before_all_environment=export_lines(None, config.environment.items()),
        build_environment=export_lines('"$ID"', config.environment.items()),
        test_environment=export_lines('"$ID"', config.test_environment.items()),
        environment_pass=list(config.environment_pass),
        before_all=config.before_all.strip(),
        before_build=config.before_build.strip(),
        frontend=config.frontend,
        frontend_args=frontend_extra_args(
            config.frontend, verbosity=config.build_verbosity,
            settings=config.config_settings, args=config.frontend_args),
        test_command=test_command,
        before_test=fill_placeholders(config.before_test.strip(), project='"$PROJECT"',
                                      package='"$PROJECT"', wheel='"$WHEEL"'),
        test_timeout=config.test_timeout,
        test_skip=[shlex.quote(p).replace("*", "'*'").replace("?", "'?'")
                   for pattern in config.test_skip for p in expand_braces(pattern)],
        test_sources=list(config.test_sources),
        has_overrides=bool(config.overrides),
        repair_command=fill_placeholders(
            config.repair_command.strip(), wheel='"$WHEEL"', dest_dir='"$OUT"', plat='"$PLAT"',
            project='"$PROJECT"', package='"$PROJECT"'),
        install_args=install_args,
        output_dir=output_dir,
        dist_dir=dist_dir,
        excludes=excludes,
        vcs_paths=sorted(VCS_PATHS),
    )
