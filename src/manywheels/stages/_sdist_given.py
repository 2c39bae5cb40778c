"""Building from a given sdist file (the ``sdist`` option) instead of one built on the host.

:func:`given_sdist` checks the file, copies it into ``dist-dir`` (atomically; publish
uploads the sdist the record names from there) and records it; the wheels are then built
from it exactly as from a host-built sdist, so the record's sdist sha256 is that file's.
:func:`unpacked_sdist` gives the unpacked tree, the project copy of ``{project}`` when the
tests run from a given sdist (cibuildwheel's meaning of ``{project}`` for an sdist).
"""

from __future__ import annotations

import contextlib
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from manywheels._fsutil import atomic_copy, writing
from manywheels.config._sdist_file import sdist_member
from manywheels.errors import ProjectError
from manywheels.stages._run import Run
from manywheels.stages._sdist import SDIST_SECTION, SdistInfo, read_sdist

__all__ = ["check_given_sdist", "given_sdist", "unpacked_sdist"]


def check_given_sdist(path: Path) -> SdistInfo:
    """The name, version and Requires-Python of the sdist file at ``path``.

    Raises:
        ProjectError: the file is missing, unreadable or not an sdist (one line, exit 6).
    """
    sdist_member(path, "PKG-INFO")  # missing / unreadable / not an sdist: one line
    info = read_sdist(path)
    if not info.name or not info.version:
        msg = f"sdist {str(path)!r} is not an sdist: its PKG-INFO has no Name or Version"
        raise ProjectError(msg)
    return info


def given_sdist(run: Run) -> SdistInfo:
    """Use the ``sdist`` option's file: checked, copied into ``dist-dir`` unless it is
    there already, recorded in the run record's ``sdist`` section as ``given``.

    Raises:
        ProjectError: the file is missing, unreadable or not an sdist.
        OutputError: dist-dir is not writable.
    """
    config = run.config
    assert config.sdist is not None
    source = config.sdist
    check_given_sdist(source)
    target = config.dist_dir / source.name
    if target.resolve() != source.resolve():
        with writing("copying the sdist into dist-dir", target):
            atomic_copy(source, target)
    run.report.set_section(SDIST_SECTION, "build", status="given", sdist=target.name,
                           source=str(source), run_id=run.run_id)
    run.ui.info(f"building from the given sdist {source}")
    return read_sdist(target)


@contextlib.contextmanager
def unpacked_sdist(path: Path) -> Iterator[Path]:
    """The sdist at ``path`` unpacked in a temporary directory (tarfile's ``data``
    filter: no links or paths leaving it); yields its top-level directory, removed on exit.

    Raises:
        ProjectError: the file is not a readable sdist.
    """
    with tempfile.TemporaryDirectory(prefix="manywheels-sdist-tree-") as scratch:
        try:
            with tarfile.open(path, "r:gz") as archive:
                archive.extractall(scratch, filter="data")
        except (OSError, tarfile.TarError, EOFError) as error:
            msg = f"sdist {str(path)!r} is not a readable sdist (.tar.gz): {error}"
            raise ProjectError(msg) from None
        tops = [p for p in Path(scratch).iterdir() if p.is_dir()]
        if len(tops) != 1:
            msg = f"sdist {str(path)!r} is not an sdist: {len(tops)} top-level directories"
            raise ProjectError(msg)
        yield tops[0]
