"""The run record: typed, versioned, with provenance.

Written to ``<output-dir>/manywheels-report.json`` (atomically, on every change) and merged
across stage invocations, so ``wheels-build``, ``wheels-repair`` and ``wheels-test`` run one
after another give the same record as ``wheels``. It is the only state between stages:
repair, test and publish act on the wheels it names for the current sdist, never on
whatever lies in dist-dir or output-dir. Shape (``version`` 2)::

    {
      "version": 2,
      "project": {"name": "markupsafe", "version": "3.0.4", "project_dir": "/src/markupsafe",
                  "sdist": "markupsafe-3.0.4.tar.gz", "sdist_sha256": "…", "build_run": "…"},
      "targets": {
        "cp312-manylinux_x86_64": {
          "python": "cp312", "image": "…", "image_digest": "…", "arch": "x86_64",
          "plat": "manylinux_2_28_x86_64", "sdist_sha256": "…",
          "stages": {
            "build":  {"status": "passed", "duration_s": 2.1, "wheel": "….whl", "sha256": "…",
                       "pure": false, "log": "logs/cp312-…/build.log", "run_id": "…"},
            "repair": {"status": "passed", "wheel": "….whl", "sha256": "…", "source": "….whl",
                       "sboms": [{"path": "….dist-info/sboms/auditwheel.cdx.json",
                                  "format": "CycloneDX 1.4", "components": [{"name": "…",
                                  "version": "…", "purl": "pkg:…"}]}]},
            "audit":  {"status": "passed", "wheel": "….whl", "log": "logs/cp312-…/audit.log"},
            "test":   {"status": "passed" | "failed" | "skipped", "duration_s": 1.0}
          }
        }
      },
      "before_all": {"<image>": {"status": "ran" | "cached" | "failed", "image": "…",
                                 "duration_s": 3.2, "log": "logs/before-all/before-all.log"}}
    }

Durations are seconds. Statuses: ``passed``, ``failed``, ``skipped``, ``interrupted``. A
target whose ``sdist_sha256`` is not the project's is *stale*: built from an older sdist,
ignored by every later stage. Each stage record may carry ``timing``
(:mod:`manywheels._timing`): ``wall_s``, ``command_s``, ``tool_s`` and ``commands``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from manywheels._fsutil import atomic_write_text

__all__ = [
    "RECORD_VERSION",
    "REPORT_NAME",
    "ProjectRecord",
    "ResolvedWheel",
    "RunReport",
    "StageRecord",
    "TargetRecord",
]

REPORT_NAME = "manywheels-report.json"
RECORD_VERSION = 2


@dataclass
class StageRecord:
    """One stage of one identifier.

    Attributes:
        status: ``passed``, ``failed``, ``skipped`` or ``interrupted``.
        duration_s: seconds the stage took for this identifier.
        wheel: the wheel file the stage produced (build: in dist-dir; repair: in
            output-dir) or tested.
        sha256: that file's sha256 (hex).
        pure: the wheel is pure Python (platform ``any``).
        log: the log, relative to output-dir.
        source: repair: the raw wheel it repaired.
        reused_from: the identifier whose wheel this one reuses (a pure wheel is built once,
            an abi3 wheel once per platform: build, repair and test records say so).
        cached: build and repair: the wheel came from the wheel cache, nothing ran
            (:mod:`manywheels.stages._wheel_cache`).
        reason: why the stage was skipped or failed.
        run_id: the run that produced this record.
        timing: wall/command/tool seconds (:mod:`manywheels._timing`).
        sboms: repair: the SBOM files inside the repaired wheel (PEP 770,
            ``*.dist-info/sboms/*``), each ``{"path", "format", "components": [{"name",
            "version", "purl"}]}`` (:mod:`manywheels.stages._sbom`).
    """

    status: str
    duration_s: float | None = None
    wheel: str | None = None
    sha256: str | None = None
    pure: bool | None = None
    log: str | None = None
    source: str | None = None
    reused_from: str | None = None
    cached: bool | None = None
    reason: str | None = None
    run_id: str | None = None
    timing: dict[str, Any] | None = None
    sboms: list[dict[str, Any]] | None = None


@dataclass
class TargetRecord:
    """One identifier: where it was built and its stages."""

    python: str | None = None
    image: str | None = None
    image_digest: str | None = None
    arch: str | None = None
    plat: str | None = None
    sdist_sha256: str | None = None
    stages: dict[str, StageRecord] = field(default_factory=dict)


@dataclass
class ProjectRecord:
    """The project the output-dir belongs to and its current sdist."""

    name: str | None = None
    version: str | None = None
    project_dir: str | None = None
    sdist: str | None = None
    sdist_sha256: str | None = None
    build_run: str | None = None
    source_date_epoch: int | None = None


def _known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


@dataclass(frozen=True)
class ResolvedWheel:
    """What the run record says of one wheel file.

    Attributes:
        identifier: the build identifier (``cp312-manylinux_x86_64``).
        stage: the stage that wrote the file (``build``: a raw wheel; ``repair``).
        python: the Python tag (``cp312``), if recorded.
        image: the image it was built in.
        plat: the policy it was (or is to be) repaired for.
        sha256: the recorded sha256 of the file.
    """

    identifier: str
    stage: str
    python: str | None
    image: str | None
    plat: str | None
    sha256: str | None


class RunReport:
    """The run record of one output directory (thread-safe; saved on every change).

    A missing or unreadable file (or ``load=False``) starts an empty record; the next
    change replaces the file.
    """

    def __init__(self, output_dir: Path, *, load: bool = True) -> None:
        self.path = output_dir / REPORT_NAME
        self._lock = threading.RLock()
        self.project = ProjectRecord()
        self.target_records: dict[str, TargetRecord] = {}
        self.sections: dict[str, dict[str, Any]] = {}
        self.existed = False
        loaded = self._load() if load else None
        if loaded is not None:
            self._parse(loaded)

    def _load(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("targets"), dict):
            return None
        self.existed = True
        return loaded

    def _parse(self, data: Mapping[str, Any]) -> None:
        project = data.get("project")
        if isinstance(project, Mapping):
            self.project = ProjectRecord(**_known(ProjectRecord, project))
        for identifier, raw in data.get("targets", {}).items():
            if not isinstance(raw, Mapping):
                continue
            stages = {
                name: StageRecord(**_known(StageRecord, stage))
                for name, stage in (raw.get("stages") or {}).items()
                if isinstance(stage, Mapping) and isinstance(stage.get("status"), str)
            }
            target = TargetRecord(**_known(TargetRecord, {**raw, "stages": {}}))
            target.stages = stages
            self.target_records[str(identifier)] = target
        for key, value in data.items():
            if key not in {"version", "project", "targets"} and isinstance(value, dict):
                self.sections[key] = value

    # ------------------------------------------------------------------ JSON views

    @property
    def data(self) -> dict[str, Any]:
        """The record as JSON data (a copy)."""
        with self._lock:
            return {
                "version": RECORD_VERSION,
                "project": _drop_none(asdict(self.project)),
                "targets": {
                    identifier: self._target_json(target)
                    for identifier, target in self.target_records.items()
                },
                **{key: dict(value) for key, value in self.sections.items()},
            }

    @staticmethod
    def _target_json(target: TargetRecord) -> dict[str, Any]:
        data = _drop_none({f.name: getattr(target, f.name) for f in fields(TargetRecord)
                           if f.name != "stages"})
        data["stages"] = {name: _drop_none(asdict(stage)) for name, stage in target.stages.items()}
        return data

    @property
    def targets(self) -> dict[str, Any]:
        """identifier -> target record as JSON data (a copy)."""
        targets: dict[str, Any] = self.data["targets"]
        return targets

    def stage(self, identifier: str, stage: str) -> Mapping[str, Any]:
        """The record of one stage as JSON data (empty when absent)."""
        with self._lock:
            record = self.target_records.get(identifier, TargetRecord()).stages.get(stage)
            return _drop_none(asdict(record)) if record is not None else {}

    # ------------------------------------------------------------------ typed access

    def target(self, identifier: str) -> TargetRecord | None:
        """The typed record of one identifier."""
        return self.target_records.get(identifier)

    def is_current(self, identifier: str) -> bool:
        """True when the identifier's record belongs to the project's current sdist."""
        target = self.target_records.get(identifier)
        current = self.project.sdist_sha256
        return target is not None and current is not None and target.sdist_sha256 == current

    def current(self, stage: str, status: str = "passed") -> dict[str, StageRecord]:
        """identifier -> ``stage`` record, for the identifiers of the current sdist whose
        ``stage`` has ``status``."""
        with self._lock:
            return {
                identifier: target.stages[stage]
                for identifier, target in self.target_records.items()
                if self.is_current(identifier) and stage in target.stages
                and target.stages[stage].status == status
            }

    # ------------------------------------------------------------------ changes

    def set_project(self, **values: Any) -> None:
        """Record project-level facts (name, version, project_dir, sdist, sdist_sha256,
        build_run)."""
        with self._lock:
            for key, value in values.items():
                setattr(self.project, key, value)
            self._save()

    def set_target(self, identifier: str, **values: Any) -> None:
        """Record target-level facts (python, image, image_digest, arch, plat,
        sdist_sha256)."""
        with self._lock:
            target = self.target_records.setdefault(identifier, TargetRecord())
            for key, value in values.items():
                if key == "stages" or key not in {f.name for f in fields(TargetRecord)}:
                    msg = f"unknown target field {key!r}"
                    raise TypeError(msg)
                setattr(target, key, value)
            self._save()

    def reset_target(self, identifier: str, **values: Any) -> None:
        """Start the record of an identifier afresh (a new build): its earlier stages go."""
        with self._lock:
            self.target_records[identifier] = TargetRecord()
            self.set_target(identifier, **values)

    def record(self, identifier: str, stage: str, **values: Any) -> None:
        """Replace the record of one stage of one identifier."""
        with self._lock:
            target = self.target_records.setdefault(identifier, TargetRecord())
            target.stages[stage] = StageRecord(**values)
            self._save()

    def update(self, identifier: str, stage: str, **values: Any) -> None:
        """Add fields to the record of one stage of one identifier (created when absent,
        with status ``skipped``), e.g. the time accounting ``timing``."""
        with self._lock:
            target = self.target_records.setdefault(identifier, TargetRecord())
            record = target.stages.setdefault(stage, StageRecord(status="skipped"))
            for key, value in values.items():
                setattr(record, key, value)
            self._save()

    def set_section(self, section: str, key: str, /, **values: Any) -> None:
        """Replace ``record[section][key]``: run-level facts such as ``before_all`` (per
        image: ``ran`` or ``cached``, the image, seconds)."""
        with self._lock:
            self.sections.setdefault(section, {})[key] = dict(values)
            self._save()

    def find_wheel(self, stage: str, wheel_name: str) -> str | None:
        """The identifier of the current sdist whose ``stage`` record names ``wheel_name``."""
        with self._lock:
            for identifier, target in self.target_records.items():
                record = target.stages.get(stage)
                if record is not None and record.wheel == wheel_name \
                        and self.is_current(identifier):
                    return identifier
            return None

    def resolve_wheel(self, wheel_name: str) -> ResolvedWheel | None:
        """Identifier, image and policy of a wheel file of the current sdist (the one
        answer to "which build is this wheel?"); ``None`` when the record does not name it.
        """
        with self._lock:
            for stage in ("repair", "build"):
                identifier = self.find_wheel(stage, wheel_name)
                if identifier is None:
                    continue
                target = self.target_records[identifier]
                record = target.stages[stage]
                return ResolvedWheel(identifier, stage, target.python, target.image,
                                     target.plat, record.sha256)
            return None

    def _save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")
