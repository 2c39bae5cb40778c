"""The invoke front end: the ``wheels`` collection :data:`ns`.

In a project's ``tasks.py``::

    from invoke import Collection
    import manywheels.invoke

    ns = Collection()
    ns.add_collection(manywheels.invoke.ns)     # or: ns = Collection(manywheels.invoke.ns)

``invoke --list`` then shows ``wheels.build``, ``wheels.repair``, ``wheels.test``,
``wheels.publish``, ``wheels.troubleshoot``, ``wheels.clean-cache`` and ``wheels.all``,
the default task of the collection: ``invoke wheels`` runs build -> repair -> test
(``pre=`` chain; one container per image serves the whole chain) and removes the run's
containers. As under nox, identifiers that fail in one stage do not stop the chain for
the others; ``invoke wheels`` then exits 1.

Configuration, lowest to highest precedence (as for the nox sessions, with invoke's
layers in the place of nox's keyword overrides):

1. defaults;
2. ``[tool.manywheels]`` in the project's ``pyproject.toml``;
3. invoke's configuration, section ``wheels`` (snake_case or kebab-case keys), itself
   merged by invoke: ``ns.configure({"wheels": {...}})`` in tasks.py, ``wheels:`` in
   ``invoke.yaml`` (system, user, project), ``INVOKE_WHEELS_<KEY>`` variables
   (``INVOKE_WHEELS_PYTHON="cp311 cp312"``), ``invoke -f FILE``;
4. ``MANYWHEELS_<KEY>`` variables;
5. task flags: ``invoke wheels.build --python cp312 --image IMAGE``. List flags may be
   repeated or hold several words (``--python "cp311 cp312"``); switches
   (``--fail-fast``, ``--dry-run``) can only turn a setting on.

Flags belong to the task they follow: ``invoke wheels --python cp312`` is not possible
(pre-tasks get no flags); use ``INVOKE_WHEELS_PYTHON=cp312 invoke wheels``, or
``invoke wheels.build --python cp312 wheels.repair wheels.test``.

The project is ``project_dir`` from any layer, else the directory of the tasks file.
Errors end the task with one line ``manywheels: error: ...`` (after the automatic short
diagnosis of a failing stage) and the error's exit code; Ctrl-C exits 130, SIGTERM 143,
and the run's containers are removed first. ``wheels.troubleshoot`` takes ``--json``
and ``--min-free-gib N`` besides the configuration flags.

The implementation is :mod:`manywheels.frontends._invoke` (generated from the stage
registry and the configuration options); this module is its public face.
"""

from __future__ import annotations

from typing import Any

from invoke.tasks import Task

from manywheels.frontends._invoke import SECTION, collection, resolve_config_for

__all__ = ["SECTION", "build", "clean_cache", "ns", "publish", "repair", "resolve_config", "test",
           "troubleshoot"]

resolve_config = resolve_config_for
"""Resolve the configuration of a task call: ``resolve_config(c, flags)`` (see
:func:`manywheels.frontends._invoke.resolve_config_for`)."""

ns, _tasks = collection()
"""The ``wheels`` collection: a task per stage and ``all`` (the default: build -> repair
-> test)."""

build: Task[Any] = _tasks["build"]
repair: Task[Any] = _tasks["repair"]
test: Task[Any] = _tasks["test"]
test.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported
publish: Task[Any] = _tasks["publish"]
troubleshoot: Task[Any] = _tasks["troubleshoot"]
clean_cache: Task[Any] = _tasks["clean-cache"]
