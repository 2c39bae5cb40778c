"""The run report: a JSON record of every identifier's stages.

Written to ``<output-dir>/manywheels-report.json`` (atomically) and merged across
stage invocations, so ``wheels-build``, ``wheels-repair`` and ``wheels-test`` run
one after another give the same report as ``wheels``. Shape::

    {
      "version": 1,
      "project": {"name": "markupsafe", "version": "3.0.4", "sdist": "markupsafe-3.0.4.tar.gz",
                  "sdist_sha256": "…"},
      "targets": {
        "cp312-manylinux_x86_64": {
          "python": "cp312", "image": "…", "image_digest": "…", "plat": "manylinux_2_28_x86_64",
          "stages": {
            "build":  {"status": "passed", "duration_s": 2.1, "wheel": "….whl",
                       "sha256": "…", "pure": false, "log": "logs/cp312-…/build.log"},
            "repair": {"status": "passed", "duration_s": 0.4, "wheel": "….whl", "sha256": "…"},
            "test":   {"status": "passed" | "failed" | "skipped", "duration_s": 1.0}
          }
        }
      }
    }

Durations are seconds. Statuses: ``passed``, ``failed``, ``skipped``, ``interrupted``.

Each stage record also has ``timing`` (:mod:`manywheels._timing`): ``wall_s`` of the
identifier's work, ``command_s`` spent in the commands it ran, ``tool_s`` (the rest:
manywheels itself) and ``commands``. Run-level sections: ``before_all`` (per image:
``{"status": "ran" | "cached", "image": "manywheels-before-all:…", "key": "…",
"duration_s": …}``, see :mod:`manywheels.stages._cache`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from manywheels._fsutil import atomic_write_text

__all__ = ["REPORT_NAME", "RunReport"]

REPORT_NAME = "manywheels-report.json"


class RunReport:
    """The run report of one output directory (thread-safe; saved on every change)."""

    def __init__(self, output_dir: Path) -> None:
        self.path = output_dir / REPORT_NAME
        self._lock = threading.Lock()
        self.data: dict[str, Any] = {"version": 1, "project": {}, "targets": {}}
        if self.path.is_file():
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = None
            if isinstance(loaded, dict) and isinstance(loaded.get("targets"), dict):
                self.data = loaded

    @property
    def targets(self) -> dict[str, Any]:
        """identifier -> target record."""
        targets: dict[str, Any] = self.data["targets"]
        return targets

    def set_project(self, **fields: Any) -> None:
        """Record project-level facts (name, version, sdist)."""
        with self._lock:
            self.data.setdefault("project", {}).update(fields)
            self._save()

    def set_target(self, identifier: str, **fields: Any) -> None:
        """Record target-level facts (python, image, image_digest, plat)."""
        with self._lock:
            self.targets.setdefault(identifier, {"stages": {}}).update(fields)
            self._save()

    def record(self, identifier: str, stage: str, **fields: Any) -> None:
        """Replace the record of one stage of one identifier."""
        with self._lock:
            target = self.targets.setdefault(identifier, {"stages": {}})
            target.setdefault("stages", {})[stage] = dict(fields)
            self._save()

    def update(self, identifier: str, stage: str, **fields: Any) -> None:
        """Add fields to the record of one stage of one identifier (created when absent),
        e.g. the time accounting ``timing`` of :mod:`manywheels._timing`."""
        with self._lock:
            target = self.targets.setdefault(identifier, {"stages": {}})
            target.setdefault("stages", {}).setdefault(stage, {}).update(fields)
            self._save()

    def set_section(self, section: str, key: str, /, **fields: Any) -> None:
        """Replace ``report[section][key]`` with ``fields``: run-level facts such as
        ``before_all`` (per image: ``ran`` or ``cached``, the image, seconds) and
        ``caches`` (per image: the mounted cache directories or volumes)."""
        with self._lock:
            self.data.setdefault(section, {})[key] = dict(fields)
            self._save()

    def stage(self, identifier: str, stage: str) -> Mapping[str, Any]:
        """The record of one stage (empty when absent)."""
        record: Mapping[str, Any] = self.targets.get(identifier, {}).get("stages", {}).get(
            stage, {}
        )
        return record

    def find_wheel(self, stage: str, wheel_name: str) -> str | None:
        """The identifier whose ``stage`` record names ``wheel_name``."""
        for identifier, target in self.targets.items():
            if target.get("stages", {}).get(stage, {}).get("wheel") == wheel_name:
                return str(identifier)
        return None

    def is_stale(self, identifier: str | None) -> bool:
        """True when ``identifier`` was built by an earlier build run than the latest one
        (its wheels are leftovers that repair and test skip)."""
        latest = self.data.get("project", {}).get("build_run")
        if identifier is None or not latest:
            return False
        built_by = self.stage(identifier, "build").get("run_id")
        return built_by is not None and built_by != latest

    def _save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")
