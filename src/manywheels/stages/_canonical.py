"""The canonical rewrite of a repaired wheel (``reproducible = true``, the default).

A wheel built twice from the same sdist differs in its zip container even when every file
is the same: entry order, timestamps, permissions, compression, RECORD's row order. After
the repair, :func:`canonicalize` rewrites the wheel so that only the files' contents decide
its bytes:

- entries sorted by name, ``*.dist-info/`` entries after the others and
  ``*.dist-info/RECORD`` last (the layout ``wheel`` and PEP 427 recommend);
- ``RECORD`` regenerated from the contents (PEP 376/427: ``sha256=`` urlsafe base64
  without padding, sizes; its own row with neither), rows sorted by path; signatures of
  the old RECORD (``RECORD.jws``, ``RECORD.p7s``) no longer match and are dropped;
- every timestamp the ``SOURCE_DATE_EPOCH`` (clamped to 1980-01-01, the zip format's
  first date), read as UTC;
- regular files only (directory entries dropped), mode ``0644``, or ``0755`` for an entry
  that had any execute bit; Unix as the creating system;
- DEFLATE at level 6 for every entry (stored for empty files is not used: one method).

Extra SBOM files (``sbom-components``, :mod:`._sbom_components`) are added in the same
pass under ``<name>.dist-info/sboms/`` (PEP 770). Rows are written with
:class:`installer.records.RecordEntry`; the zip with :mod:`zipfile`. ``wheel``'s
``WheelFile`` and ``repro-zipfile`` were considered: both take the time (and
repro-zipfile the modes) from ``SOURCE_DATE_EPOCH`` in the process environment, which
the repair's worker threads share, and ``WheelFile`` gives RECORD its own mode, so the
rewrite sets each entry's :class:`zipfile.ZipInfo` itself.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import stat
import tempfile
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from installer.records import Hash, RecordEntry

from manywheels._fsutil import writing
from manywheels.errors import NoWheelBuiltError
from manywheels.stages._sbom_components import sbom_files

if TYPE_CHECKING:
    from manywheels.stages._run import Run

__all__ = ["ZIP_EPOCH_MIN", "canonicalize", "dist_info_dir", "rewrite_repaired",
           "zip_date_time"]

ZIP_EPOCH_MIN = 315532800
"""1980-01-01T00:00:00Z: the earliest time a zip entry can carry."""

_COMPRESSION = zipfile.ZIP_DEFLATED
_LEVEL = 6
_SIGNATURES = ("RECORD.jws", "RECORD.p7s")


def zip_date_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    """The zip ``date_time`` of a ``SOURCE_DATE_EPOCH`` (seconds, UTC), clamped to 1980.

    The zip format stores even seconds only, so an odd second is rounded down.
    """
    moment = time.gmtime(max(int(epoch), ZIP_EPOCH_MIN))
    return (moment.tm_year, moment.tm_mon, moment.tm_mday, moment.tm_hour, moment.tm_min,
            moment.tm_sec - moment.tm_sec % 2)


def dist_info_dir(names: list[str]) -> str:
    """The wheel's ``<name>-<version>.dist-info`` directory (the one holding ``RECORD``).

    Raises:
        ValueError: no ``*.dist-info/RECORD`` at the top level, or more than one.
    """
    found = sorted({n.split("/")[0] for n in names
                    if n.count("/") == 1 and n.endswith(".dist-info/RECORD")})
    if len(found) != 1:
        msg = f"expected one *.dist-info/RECORD in the wheel, found {len(found)}"
        raise ValueError(msg)
    return found[0]


def _row(path: str, data: bytes) -> tuple[str, str, str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return RecordEntry(path, Hash("sha256", digest), len(data)).to_row()


def _record_text(rows: list[tuple[str, str, str]], record: str) -> bytes:
    """RECORD's text: ``rows`` sorted by path, then RECORD's own row (no hash, no size)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerows(sorted(rows))
    writer.writerow((record, "", ""))
    return text.getvalue().encode()


def _order(name: str, record: str) -> tuple[int, str]:
    if name == record:
        return (2, name)
    return (1 if name.split("/", maxsplit=1)[0].endswith(".dist-info") else 0, name)


def _zipinfo(name: str, date_time: tuple[int, int, int, int, int, int],
             executable: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.create_system = 3  # Unix: external_attr holds the mode
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = _COMPRESSION
    return info


def canonicalize(wheel: Path, epoch: int, extra: Mapping[str, bytes] | None = None) -> None:
    """Rewrite ``wheel`` in place, canonically (see the module docstring).

    Args:
        wheel: the wheel file; replaced atomically (a temporary file beside it, renamed).
        epoch: ``SOURCE_DATE_EPOCH`` in seconds since 1970 (UTC); clamped to 1980.
        extra: files to add, by path relative to the ``.dist-info`` directory
            (``sboms/manywheels.cdx.json``) -> content; an existing file of that path
            is replaced.

    Raises:
        zipfile.BadZipFile: ``wheel`` is not a zip archive.
        ValueError: it has no single top-level ``*.dist-info/RECORD``.
        OSError: it cannot be read or replaced.
    """
    with zipfile.ZipFile(wheel) as source:
        infos = [i for i in source.infolist() if not i.is_dir()]
        dist_info = dist_info_dir([i.filename for i in infos])
        record = f"{dist_info}/RECORD"
        dropped = {record, *(f"{dist_info}/{s}" for s in _SIGNATURES)}
        files: dict[str, tuple[bytes, bool]] = {}
        for info in infos:
            if info.filename in dropped:
                continue
            executable = bool((info.external_attr >> 16) & 0o111)
            files[info.filename] = (source.read(info), executable)
    for relative, content in (extra or {}).items():
        files[f"{dist_info}/{relative}"] = (content, False)
    rows = [_row(name, data) for name, (data, _) in files.items()]
    files[record] = (_record_text(rows, record), False)
    date_time = zip_date_time(epoch)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in sorted(files, key=lambda n: _order(n, record)):
            data, executable = files[name]
            target.writestr(_zipinfo(name, date_time, executable), data,
                            compress_type=_COMPRESSION, compresslevel=_LEVEL)
    mode = stat.S_IMODE(wheel.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=wheel.parent, prefix=f".{wheel.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(mode)
        os.replace(tmp, wheel)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rewrite_repaired(run: Run, identifier: str, wheel: Path) -> None:
    """The repair stage's hook: rewrite ``wheel`` (in output-dir) canonically with the
    run's ``SOURCE_DATE_EPOCH`` and the ``sbom-components`` SBOM, unless
    ``reproducible = false``.

    Raises:
        NoWheelBuiltError: the file is not a wheel (a zip archive with one
            ``*.dist-info/RECORD``); the failure is recorded for ``identifier``.
        OutputError: the wheel cannot be rewritten.
    """
    if not run.config.reproducible:
        return
    epoch = run.source_date_epoch()
    try:
        with writing("the repaired wheel", wheel):
            canonicalize(wheel, ZIP_EPOCH_MIN if epoch is None else epoch,
                         sbom_files(run.config, wheel))
    except (zipfile.BadZipFile, ValueError) as error:
        msg = (f"{identifier}: {wheel.name} cannot be rewritten canonically: {error} "
               "(reproducible = false keeps the repaired wheel as it is)")
        run.report.record(identifier, "repair", status="failed", reason=msg,
                          log=f"logs/{identifier}/repair.log", run_id=run.run_id)
        raise NoWheelBuiltError(msg) from None
