"""Tar streams for copies between the host and a container.

:func:`pack_tree` writes a host tree as a tar archive whose members carry the full
container path; :func:`unpack_stream` extracts an archive from the engine beside a host
path and renames it into place. File modes are kept; symbolic links are never followed
and never allowed to point outside the tree; members that would land outside the
destination are skipped.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import IO

__all__ = ["SPOOL_BYTES", "file_archive", "pack_tree", "unpack_stream"]

SPOOL_BYTES = 64 * 1024 * 1024
"""Archives up to this size (bytes) stay in memory; larger ones spill to a temporary file."""


def pack_tree(
    buffer: IO[bytes],
    src: Path,
    dest: PurePosixPath,
    *,
    exclude: Callable[[Path], bool] | None = None,
    mode: int | None = None,
) -> list[Path]:
    """Write the host file or directory ``src`` into ``buffer`` as a tar archive whose
    members are named by their absolute container path below ``/`` (``dest`` is the
    path ``src`` gets), owned by root.

    Args:
        buffer: a writable binary file.
        src: host file or directory.
        dest: absolute container path.
        exclude: predicate on host paths below ``src``; true skips the path (and, for a
            directory, everything below it).
        mode: override the mode of every copied file (e.g. ``0o444``).

    Returns:
        The symbolic links skipped because they point outside ``src``.
    """
    root = src.resolve() if not src.is_symlink() else src.parent.resolve() / src.name
    arcname = str(dest.relative_to("/"))
    skipped: list[Path] = []

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        relative = PurePosixPath(info.name).relative_to(arcname)
        host = root / relative if relative.parts else root
        if exclude is not None and relative.parts and exclude(host):
            return None
        if info.issym() and src.is_dir():
            target = (host.parent / info.linkname).resolve()
            if target != root and root not in target.parents:
                skipped.append(host)
                return None
        if mode is not None and info.isfile():
            info.mode = mode
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(str(root), arcname=arcname, recursive=True, filter=keep)
    return skipped


def file_archive(name: str, data: bytes, *, mode: int = 0o644) -> bytes:
    """A tar archive holding one file ``name`` (a base name) with ``data``."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(time.time())
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack_stream(chunks: Iterable[bytes], src: str, dest: Path) -> None:
    """Extract the archive ``chunks`` (the engine's copy of the container path ``src``)
    to the host path ``dest``.

    The copy is written under a temporary name beside ``dest`` and renamed into place,
    so ``dest`` never exists half-written. An existing ``dest`` file is replaced; an
    existing directory is merged into.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.tmp-") as tmp:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as buffer:
            for chunk in chunks:
                buffer.write(chunk)
            buffer.seek(0)
            with tarfile.open(fileobj=buffer, mode="r") as archive:
                _safe_extract(archive, Path(tmp))
        extracted = Path(tmp) / posixpath.basename(src.rstrip("/"))
        if extracted.is_dir() and dest.is_dir():
            for child in extracted.iterdir():
                target = dest / child.name
                if target.is_dir() and not target.is_symlink() and child.is_dir():
                    _merge_dirs(child, target)
                else:
                    os.replace(child, target)
        else:
            os.replace(extracted, dest)


def safe_extract(buffer: IO[bytes], dest: Path) -> None:
    """Extract the tar archive in ``buffer`` below the host directory ``dest``, as a copy
    out of a container is (members outside ``dest`` or linking outside it skipped)."""
    with tarfile.open(fileobj=buffer, mode="r") as archive:
        _safe_extract(archive, dest)


def _merge_dirs(src: Path, dest: Path) -> None:
    for child in src.iterdir():
        target = dest / child.name
        if child.is_dir() and target.is_dir() and not target.is_symlink():
            _merge_dirs(child, target)
        else:
            os.replace(child, target)


def _safe_extract(archive: tarfile.TarFile, dest: Path) -> None:
    """Extract with tarfile's ``data`` filter, skipping (not failing on) members that
    would land outside ``dest`` or link outside it; file modes are kept."""
    data_filter = getattr(tarfile, "data_filter", None)
    for member in archive.getmembers():
        if data_filter is not None:
            try:
                checked = data_filter(member, str(dest))
            except tarfile.FilterError:
                continue
            # data_filter clears group/other write and executable bits only for
            # non-executables; keep the original mode bits (minus setuid/setgid).
            if checked.isfile() or checked.isdir():
                checked = checked.replace(mode=member.mode & 0o777, deep=False)
            archive.extract(checked, str(dest), filter="fully_trusted")
        else:  # pragma: no cover - Python < 3.10.12
            name = PurePosixPath(member.name)
            if name.is_absolute() or ".." in name.parts or member.islnk() or member.isdev():
                continue
            if member.issym():
                target = (dest / name.parent / member.linkname).resolve()
                if dest.resolve() not in target.parents:
                    continue
            archive.extract(member, str(dest))
