"""Containers that crashed earlier runs left behind: reported before a run's first
container, removed with ``remove-leftovers``.

Containers of live runs (on this host) are never touched; those of another host's runs
(a shared engine) count as leftovers only when stopped
(:func:`manywheels._lock.classify_leftovers`).
"""

from __future__ import annotations

from manywheels._lock import classify_leftovers
from manywheels._ui import UI
from manywheels.engine import OWNER_LABEL, RUN_LABEL, Engine, EngineError
from manywheels.stages._keep import remove_kept_images

__all__ = ["check_leftovers"]


def check_leftovers(engine: Engine, ui: UI, *, run_id: str, remove: bool) -> list[str]:
    """Report the containers that crashed earlier runs left behind, and remove them when
    ``remove`` is set (``remove-leftovers``). An engine that cannot list them is ignored.

    Args:
        engine: the engine to look at.
        ui: where the report goes (warnings; an info line for what was removed).
        run_id: the current run's id (its own containers are never leftovers).
        remove: remove the orphaned containers instead of only reporting them.

    Returns:
        The names of the containers removed.
    """
    try:
        found = engine.leftovers()
    except EngineError:
        return []
    kinds = classify_leftovers(
        [(c.name, c.labels, c.status) for c in found],
        OWNER_LABEL, RUN_LABEL, current_run=run_id,
    )
    if kinds.unknown:
        ui.warn(
            f"{len(kinds.unknown)} running manywheels container(s) whose owner cannot be "
            f"checked (another host, or an older manywheels): {', '.join(kinds.unknown)}; "
            "left alone (`docker rm -f NAME` removes one)"
        )
    if not kinds.orphaned:
        return []
    names = ", ".join(kinds.orphaned)
    if not remove:
        ui.warn(
            f"{len(kinds.orphaned)} container(s) left behind by crashed earlier manywheels "
            f"runs: {names}; remove them with --remove-leftovers "
            "(or MANYWHEELS_REMOVE_LEFTOVERS=1)"
        )
        return []
    removed = [name for name in kinds.orphaned if _remove_leftover(engine, ui, name)]
    remove_kept_images(engine, ui, removed)  # keep-failed's images
    if removed:
        ui.info(
            f"removed {len(removed)} container(s) left behind by crashed earlier runs: "
            + ", ".join(removed)
        )
    return removed


def _remove_leftover(engine: Engine, ui: UI, name: str) -> bool:
    try:
        engine.remove_leftover(name)
    except EngineError as error:
        ui.warn(f"could not remove leftover container {name}: {error}")
        return False
    return True
