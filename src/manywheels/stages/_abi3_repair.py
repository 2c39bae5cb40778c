"""The repair stage's side of wheel reuse (:mod:`._abi3`): the identifier that built a shared
wheel (abi3, or pure) repairs or copies it, and audits it, once; the identifiers whose build
record says ``reused_from`` it wait for that and record its result as theirs, with
``reused_from``. Its failure (an audit finding included) fails them with the same line."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from manywheels._fsutil import sha256_file
from manywheels.errors import ManywheelsError
from manywheels.plan._record import StageRecord
from manywheels.stages._abi3 import Repaired, RepairGate
from manywheels.stages._audit import AuditError
from manywheels.stages._common import is_pure
from manywheels.stages._run import Run

__all__ = ["gate_order", "repair_gate", "repair_reused", "repair_source", "reusable"]

Inputs = Sequence[tuple[str, StageRecord]]


def _reusers(inputs: Inputs) -> dict[str, str]:
    """identifier -> the identifier of this stage's inputs whose raw wheel it reuses."""
    built = {identifier: record.wheel for identifier, record in inputs}
    return {identifier: record.reused_from for identifier, record in inputs
            if record.reused_from is not None and built.get(record.reused_from) == record.wheel}


def repair_gate(inputs: Inputs) -> RepairGate:
    """The hand-over of this stage's inputs: one entry per identifier whose raw wheel other
    inputs reuse."""
    return RepairGate(sorted(set(_reusers(inputs).values())))


def gate_order(inputs: Inputs) -> list[tuple[str, StageRecord]]:
    """``inputs`` with the reusing identifiers last (each part in its order): an identifier
    never waits for a repair that is still queued behind it."""
    reusers = _reusers(inputs)
    return ([item for item in inputs if item[0] not in reusers]
            + [item for item in inputs if item[0] in reusers])


def _recorded(run: Run, source: str, wheel: str) -> Repaired | None:
    """The repair of ``source`` the record has for the current sdist, when it repaired this
    very raw wheel and its file in output-dir is unchanged."""
    record = run.report.current("repair").get(source)
    if record is None or record.source != wheel or record.wheel is None:
        return None
    path = run.config.output_dir / record.wheel
    if not path.is_file() or sha256_file(path) != record.sha256:
        return None
    return Repaired(record.wheel, record.sha256, tuple(record.sboms or ()))


def reusable(run: Run, source: str, wheel: str, gate: RepairGate) -> bool:
    """Whether an identifier that reused ``source``'s raw ``wheel`` can take its repair:
    ``source`` is repaired in this stage, or was, from this very wheel (else the identifier
    repairs the wheel itself, e.g. ``--python`` left ``source`` out)."""
    return source in gate or _recorded(run, source, wheel) is not None


def repair_source(run: Run, identifier: str, gate: RepairGate, work: Callable[[], str]) -> str:
    """Repair (and audit) a shared raw wheel with ``work``, then hand the result to the
    identifiers reusing it."""
    try:
        detail = work()
    except AuditError as error:
        gate.publish(identifier, Repaired(None, reason=str(error)))
        raise
    except BaseException:
        gate.publish(identifier, Repaired(None, reason=f"the repair of {identifier} failed"))
        raise
    record = run.report.current("repair").get(identifier)
    if record is None or record.wheel is None:
        gate.publish(identifier, Repaired(None, reason=f"the repair of {identifier} failed"))
    else:
        gate.publish(identifier,
                     Repaired(record.wheel, record.sha256, tuple(record.sboms or ())))
    return detail


def repair_reused(run: Run, identifier: str, wheel: str, source: str, gate: RepairGate) -> str:
    """Record ``source``'s repair of the shared raw wheel as ``identifier``'s (no second
    repair, no second audit).

    Raises:
        ManywheelsError: ``source``'s repair or audit failed (its line, and whose it is).
    """
    started = time.monotonic()
    result = (gate.wait(source, run.cancelled) if source in gate
              else _recorded(run, source, wheel) or Repaired(None, reason="not repaired"))
    if result.wheel is None:
        msg = f"{result.reason} (reused from {source})"
        run.report.record(identifier, "repair", status="failed", reason=msg, source=wheel,
                          reused_from=source, run_id=run.run_id)
        raise ManywheelsError(msg)
    pure = is_pure(wheel)
    run.report.record(
        identifier, "repair", status="passed", duration_s=round(time.monotonic() - started, 3),
        wheel=result.wheel, sha256=result.sha256, source=wheel, reused_from=source,
        pure=pure or None, run_id=run.run_id, sboms=list(result.sboms),
    )
    return f"{result.wheel} ({'pure Python' if pure else 'abi3'}: reused from {source})"
