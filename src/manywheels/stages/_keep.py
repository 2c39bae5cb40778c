"""``keep-failed``: keep a container of each failing identifier (cibuildwheel has only
``CIBW_DEBUG_KEEP_CONTAINER``, which keeps every container).

A run shares one container per image among its identifiers, so the failing identifier's
state is kept as its own container: the shared container is committed into an image
labelled :data:`KEPT_LABEL` and a container of that image is started, with the run's
labels and ``io.manywheels.kept=<identifier>``. The run's :meth:`close` never sees it (it
is not one of the run's containers), an interrupt removes everything else. A later run
reports it as left behind; ``--remove-leftovers`` removes it and its image
(:func:`remove_kept_images`).
"""

from __future__ import annotations

import re
import weakref
from typing import TYPE_CHECKING

from manywheels._ui import UI
from manywheels.engine import Container, Engine, EngineError, find_ca_bundle

if TYPE_CHECKING:
    from manywheels.stages._run import Run

__all__ = ["KEPT_CONTAINER_LABEL", "KEPT_LABEL", "keep_failed", "remove_kept_images"]

KEPT_LABEL = "io.manywheels.kept"
"""The identifier whose failed state a kept container (and its image) holds."""
KEPT_CONTAINER_LABEL = "io.manywheels.kept-container"
"""On a kept image: the name of the container started from it."""
KEPT_REPOSITORY = "manywheels-kept"
_KEPT: weakref.WeakKeyDictionary[Run, set[str]] = weakref.WeakKeyDictionary()
"""The identifiers each run has kept (once per identifier and run)."""


def kept_name(run_id: str, identifier: str) -> str:
    """``manywheels-kept-<identifier>-<run id>`` (a valid container name)."""
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", f"manywheels-kept-{identifier}-{run_id}")


def keep_failed(run: Run, identifier: str, container: Container, stage: str) -> str | None:
    """Keep ``identifier``'s state after its ``stage`` failed in ``container`` (when
    ``keep-failed`` is set; once per identifier and run) and print how to enter it.

    Returns:
        The kept container's name, ``None`` when not kept (not asked, already kept, the
        run interrupted, or the engine refused: a warning names why). Never raises.
    """
    if not run.config.keep_failed or run.cancelled.is_set():
        return None
    name = kept_name(run.run_id, identifier)
    with run._lock:
        kept = _KEPT.setdefault(run, set())
        if identifier in kept:
            return None
        kept.add(identifier)
    labels = {KEPT_LABEL: identifier, "io.manywheels.project": str(run.config.project_dir),
              "io.manywheels.kept-stage": stage}
    try:
        image = container.commit(KEPT_REPOSITORY, name.removeprefix("manywheels-kept-"),
                                 conf={"Labels": {**labels, KEPT_CONTAINER_LABEL: name}},
                                 message=f"manywheels keep-failed: {identifier} ({stage})")
        target = run.report.target(identifier)
        kept_container = run.engine.container(
            image, ca_bundle=find_ca_bundle(run.host_env), run_id=run.run_id, labels=labels,
            name=name, arch=target.arch if target is not None else None)
        kept_container.start()
    except (EngineError, RuntimeError) as error:
        run.ui.warn(f"keep-failed: {identifier}'s container could not be kept: {error}")
        return None
    run.ui.warn(f"keep-failed: {identifier} ({stage} failed) kept as container {name}: "
                f"docker exec -it {name} bash (its files under /manywheels/{identifier}), "
                f"or manywheels shell {identifier}; --remove-leftovers removes it")
    return name


def remove_kept_images(engine: Engine, ui: UI, removed: list[str]) -> None:
    """Remove the images of the kept containers just removed (by ``--remove-leftovers``).
    An image the engine refuses to remove is named in a warning."""
    if not removed:
        return
    try:
        images = engine.images(label=KEPT_CONTAINER_LABEL)
    except EngineError:
        return
    for image in images:
        if image.labels.get(KEPT_CONTAINER_LABEL) in removed:
            try:
                engine.remove_image(image.id)
            except EngineError as error:
                ui.warn(f"could not remove the kept image {image.id}: {error}")
