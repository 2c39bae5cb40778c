"""The nox front end: ``register()`` and the stage functions.

In a project's ``noxfile.py``::

    import manywheels.nox
    manywheels.nox.register()

registers ``wheels`` (build -> repair -> test, chained with nox's ``requires=``) and
one session per stage of :data:`manywheels.stages.STAGES`: ``wheels-build``,
``wheels-repair``, ``wheels-test``, ``wheels-publish``, ``wheels-troubleshoot`` (each
problem's cause and fix; ``-- --json`` for tools) and ``wheels-clean-cache``, all
``default=False`` (a bare ``nox`` does not run them) and ``python=False`` (they drive
containers). The stage bodies are also plain functions for a user's own sessions:
``manywheels.nox.build(session, **overrides)``, ``.repair(...)``, ``.test(...)``,
``.publish(...)``, ``.troubleshoot(...)``, ``.clean_cache(...)``.

The implementation is :mod:`manywheels.frontends._nox` (generated from the stage
registry; errors, configuration and the chain go through
:mod:`manywheels.frontends._adapter`); this module is its public face.

Configuration: defaults -> ``[tool.manywheels]`` -> keyword overrides (of
``register()`` and of the stage functions) -> ``MANYWHEELS_*`` -> session posargs
(``nox -s wheels-build -- --python cp312``). See :mod:`manywheels.config`.

Within one nox invocation the stages share one :class:`~manywheels.stages._run.Run` per
configuration, so ``nox -s wheels`` starts one container per image, not one per
stage; containers are removed when the chain ends and at interpreter exit.

Exit codes: a stage where some identifiers failed fails its session (nox goes on
with the next sessions, so the wheels that built are still repaired and tested,
and exits 1). Any other error (bad configuration, missing project, no engine, no
image, nothing to do, a locked output directory) ends nox at once with the error's
own code (:class:`~manywheels.errors.ExitCode`). Ctrl-C exits 130 and SIGTERM 143,
after the run's containers are removed.
"""

from __future__ import annotations

from manywheels.frontends._nox import STAGE_FUNCTIONS, register

__all__ = ["build", "clean_cache", "publish", "register", "repair", "test", "troubleshoot",
           "verify"]

build = STAGE_FUNCTIONS["build"]
repair = STAGE_FUNCTIONS["repair"]
test = STAGE_FUNCTIONS["test"]
test.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported
publish = STAGE_FUNCTIONS["publish"]
troubleshoot = STAGE_FUNCTIONS["troubleshoot"]
clean_cache = STAGE_FUNCTIONS["clean-cache"]
verify = STAGE_FUNCTIONS["verify"]
