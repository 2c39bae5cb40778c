"""The options of one identifier's build and test (cibuildwheel's per-build options), with
``[[tool.manywheels.overrides]]`` applied (:func:`step_options`)."""

from __future__ import annotations

from dataclasses import dataclass

from manywheels.config import Config
from manywheels.config._options import BY_KEY, DEFAULT_AUDIT_COMMAND, DEFAULT_REPAIR_COMMAND
from manywheels.config._overrides import OVERRIDABLE, apply_overrides

__all__ = ["StepOptions", "step_options"]


@dataclass(frozen=True)
class StepOptions:
    """The options of one identifier's build and test (cibuildwheel's per-build options)."""

    before_all: str = ""
    before_build: str = ""
    environment: tuple[tuple[str, str], ...] = ()
    frontend: str = "build"
    test_command: str | None = None
    test_requires: tuple[str, ...] = ()
    test_extras: tuple[str, ...] = ()
    test_environment: tuple[tuple[str, str], ...] = ()
    repair_command: str = DEFAULT_REPAIR_COMMAND
    before_test: str = ""
    test_sources: tuple[str, ...] = ()
    test_groups: tuple[str, ...] = ()
    test_timeout: int | None = None
    frontend_args: tuple[str, ...] = ()
    config_settings: tuple[tuple[str, str], ...] = ()
    build_verbosity: int = 0
    audit_command: tuple[str, ...] = (DEFAULT_AUDIT_COMMAND,)
    audit_requires: tuple[str, ...] = ("abi3audit",)

    @classmethod
    def from_config(cls, config: Config) -> StepOptions:
        """The options a configuration gives every identifier."""
        return cls(
            before_all=config.before_all.strip(),
            before_build=config.before_build.strip(),
            environment=tuple(config.environment.items()),
            frontend=config.frontend,
            test_command=config.test_command,
            test_requires=tuple(config.test_requires),
            test_extras=tuple(config.test_extras),
            test_environment=tuple(config.test_environment.items()),
            repair_command=config.repair_command.strip(),
            before_test=config.before_test.strip(),
            test_sources=tuple(config.test_sources),
            test_groups=tuple(config.test_groups),
            test_timeout=config.test_timeout,
            frontend_args=tuple(config.frontend_args),
            config_settings=tuple(config.config_settings),
            build_verbosity=config.build_verbosity,
            audit_command=tuple(config.audit_command),
            audit_requires=tuple(config.audit_requires),
        )



def step_options(config: Config, identifier: str) -> StepOptions:
    """The options of one identifier: the configuration's, with every
    ``[[tool.manywheels.overrides]]`` entry selecting it applied in order
    (:func:`~manywheels.config._overrides.apply_overrides`)."""
    if not config.overrides:
        return StepOptions.from_config(config)
    current = {key: getattr(config, BY_KEY[key].attr) for key in OVERRIDABLE}
    current["frontend"] = (config.frontend, config.frontend_args)
    values = apply_overrides(config.overrides, identifier, current)
    changes = {BY_KEY[key].attr: value for key, value in values.items() if key != "frontend"}
    changes["frontend"], changes["frontend_args"] = values["frontend"]
    return StepOptions.from_config(config.with_(**changes))
