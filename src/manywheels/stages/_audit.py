"""``audit-command``: check each repaired wheel in the container before it is copied out.

cibuildwheel's option (docs/options.md, "audit-command" and "audit-requires"): commands run
on each repaired wheel; ``{wheel}`` stands for every wheel, ``{abi3_wheel}`` for a wheel
with an ``abi3`` tag only (other commands are skipped for other wheels). The default,
``abi3audit --strict --report {abi3_wheel}``, audits abi3 wheels only. cibuildwheel runs
them on the host in a venv of ``audit-requires``; manywheels runs them in the build's
container: with the default ``audit-requires`` the image's own ``abi3audit`` (the manylinux
images install it with pipx, on ``PATH``), otherwise a venv of ``audit-requires`` made from
the image's newest CPython (``templates/audit.sh.j2``). The script and its log are
``logs/<identifier>/audit.sh`` / ``audit.log``; the record's ``audit`` stage of that
identifier says ``passed`` or ``failed``.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from manywheels.config._placeholders import fill_placeholders, uses_placeholder
from manywheels.engine import Container
from manywheels.errors import CommandError, ManywheelsError
from manywheels.plan._step_options import StepOptions
from manywheels.stages._abi3 import is_abi3
from manywheels.stages._common import run_stage_script
from manywheels.stages._render import render
from manywheels.stages._run import CONTAINER_ROOT, Run

__all__ = ["AuditError", "audit_commands", "audit_script", "audit_wheel", "finding"]


class AuditError(ManywheelsError):
    """The audit-command failed for a repaired wheel (one line: the wheel and the finding)."""


def audit_commands(options: StepOptions, wheel_name: str) -> list[str]:
    """The audit-commands that apply to a wheel: those naming ``{wheel}``, and those naming
    ``{abi3_wheel}`` when the wheel has an ``abi3`` tag (cibuildwheel's ``needs_audit``)."""
    abi3 = is_abi3(wheel_name)
    return [command for command in options.audit_command
            if uses_placeholder(command, "wheel")
            or (abi3 and uses_placeholder(command, "abi3_wheel"))]


def audit_script(identifier: str, wheel_in_container: str, commands: Sequence[str],
                 requires: Sequence[str], interpreter: str) -> str:
    """The in-container audit script (``templates/audit.sh.j2``): ``requires`` installed into
    a venv unless it is just ``abi3audit`` and the image has one, then each command with
    ``{wheel}`` / ``{abi3_wheel}`` filled (other braces kept). ``interpreter``: the venv's
    Python when the image has no other CPython under /opt/python."""
    filled = [fill_placeholders(command, wheel='"$WHEEL"', abi3_wheel='"$WHEEL"')
              for command in commands]
    return render(
        "audit.sh.j2", identifier=identifier, wheel=wheel_in_container, commands=filled,
        requires=" ".join(shlex.quote(r) for r in requires),
        shipped=list(requires) == ["abi3audit"], interpreter=interpreter,
        venv=f"{CONTAINER_ROOT}/{identifier}/audit-venv",
    )


def _report_findings(report: dict[str, Any]) -> list[str]:
    """The problems an ``abi3audit --report`` JSON report names (``specs`` -> wheel ->
    shared objects, each with ``non_abi3_symbols``, ``future_abi3_objects`` and the
    ``baseline``/``computed`` ABI versions)."""
    found = []
    for spec in (report.get("specs") or {}).values():
        items = (spec.get("wheel") or [spec]) if isinstance(spec, dict) else []
        for item in items:
            result = (item.get("result") if isinstance(item, dict) else None) or {}
            name = item.get("name") or "the extension"
            symbols = result.get("non_abi3_symbols") or []
            if symbols:
                found.append(f"{name} uses symbols outside the stable ABI: "
                             + ", ".join(map(str, symbols)))
            if result.get("is_abi3_baseline_compatible") is False:
                found.append(f"{name} needs the Python {result.get('computed')} stable ABI, "
                             f"but is tagged for {result.get('baseline')}")
    return found


def finding(tail: Sequence[str]) -> str:
    """The audit's finding in one line, from the last lines of its output: what an
    abi3audit JSON report (``--report``) names, else the last non-empty line."""
    for line in reversed(tail):
        text = line.strip()
        if text.startswith("{") and '"specs"' in text:
            try:
                report = json.loads(text)
            except ValueError:
                continue
            found = _report_findings(report) if isinstance(report, dict) else []
            if found:
                return "; ".join(found)
    return next((" ".join(line.split()) for line in reversed(tail) if line.strip()),
                "no output")


def audit_wheel(run: Run, container: Container, identifier: str, options: StepOptions, *,
                wheel: str, wheel_in_container: str, interpreter: str,
                also_log: Path | None = None) -> bool:
    """Run the audit-commands that apply to a repaired wheel, in ``container``; when one
    fails, its last lines and the finding are also appended to ``also_log`` (the repair
    log, whose tail a failing stage shows).

    Returns:
        True when an audit ran (and passed); False when none applies.

    Raises:
        AuditError: a command failed (the wheel and the finding, one line; the record's
            ``audit`` stage of ``identifier`` is ``failed`` with that reason).
    """
    commands = audit_commands(options, wheel)
    if not commands:
        return False
    script = audit_script(identifier, wheel_in_container, commands, options.audit_requires,
                          interpreter)
    started = time.monotonic()
    log = f"logs/{identifier}/audit.log"
    try:
        run_stage_script(run, container, identifier, "audit", script,
                         note=f"audit {wheel}: {' && '.join(commands)}", started=started,
                         wheel=wheel, run_id=run.run_id)
    except CommandError as error:
        msg = f"{wheel} fails the audit-command: {finding(error.tail)} (log: {log})"
        run.report.update(identifier, "audit", reason=msg)
        if also_log is not None:  # the stage's own log ends with what the audit said
            with also_log.open("a", encoding="utf-8") as stream:
                stream.write("".join(f"{line}\n" for line in [
                    f"+ the audit of {wheel} failed; its log: {log}", *error.tail[-8:], msg]))
        raise AuditError(msg) from None
    run.report.record(identifier, "audit", status="passed", wheel=wheel, log=log,
                      duration_s=round(time.monotonic() - started, 3), run_id=run.run_id)
    return True
