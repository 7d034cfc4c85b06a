"""Files written whole or not at all: a temporary name in the same folder, fsync, rename."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_all(fd: int, data: bytes) -> None:
    """Every byte of ``data`` to ``fd`` (a file or a pipe: ``os.write`` may take part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_atomic(
    path: Path, data: bytes, *, prefix: str = ".tmp-", mode: int | None = None
) -> None:
    """Replace ``path`` with ``data`` so that readers see the old bytes or the new, never half.
    ``mode`` (e.g. 0o600 for secrets) is set before any byte is written; by default the umask
    decides. Raises OSError; the temporary file is removed on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"{prefix}{path.name}.{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
