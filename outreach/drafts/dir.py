"""The ``dir`` store: one RFC 5322 ``.eml`` file per draft in a folder.

File names derive from the touch key, so the same touch always lands on the same name, and
finding a touch's draft reads that one file (never the whole folder: a night costs the same after
years of drafts). Files are written to a temporary name, then renamed: a crash leaves either the
whole draft or none of it. A chunk of drafts (:attr:`CHUNK`, the executor records each chunk
pending before and drafted after) is made durable at once, the files and the folder in one sync,
instead of one file and one folder sync per draft. ``X-Unsent: 1`` makes Outlook and others open
the file as a draft to edit.

A folder that cannot hold any draft at all (a file where it should be, no right to write) is one
line and exit 2 before the run records anything (:meth:`DirStore.check`); a draft that cannot be
written later (a full disk) fails its touch only, and the next run retries it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import sys
from collections.abc import Sequence
from email.parser import BytesHeaderParser
from pathlib import Path

from outreach.drafts import BaseStore, Capabilities, Stored
from outreach.errors import EXIT_INVALID, OutreachError, StoreError
from outreach.faults import crash_point
from outreach.fsutil import fsync_dir, write_all
from outreach.message import Draft

_TMP_PREFIX = ".tmp-"
_HINT = "set drafts.dir in outreach.yaml to a folder you can write in"
_ROOM = "check that the drafts folder is writable and the disk has room"
CHUNK = 50  # drafts made durable together (one sync of the files and the folder)


class FolderUnusable(OutreachError):
    """The drafts folder cannot hold a single draft: nothing is tried, nothing recorded."""

    exit_code = EXIT_INVALID


def file_name(key: str) -> str:
    """``birthday/jane-doe/2026`` -> ``birthday--jane-doe--2026.eml``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", key.replace("/", "--")) + ".eml"


def write_atomic(path: Path | str, data: bytes, *, prefix: str) -> None:
    """Put ``data`` at ``path`` whole: a temporary name in the same folder, then a rename, so a
    reader (or a kill -9) sees the whole draft or none. Not synced to disk here: the store syncs
    a chunk's files and folder at once (:func:`sync_folder`). The folder is made when it is
    not there. Raises OSError; the temporary file is removed on failure."""
    target = os.fspath(path)
    tmp = _tmp_path(target, prefix)
    _write_new(tmp, data)
    try:
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _tmp_path(target: str, prefix: str) -> str:
    folder, name = os.path.split(target)
    return os.path.join(folder, f"{prefix}{name}.{os.getpid()}")


def _write_new(tmp: str, data: bytes) -> None:
    """``data`` in the file ``tmp`` (made with its folder if need be); removed on failure."""
    try:
        try:
            fd = os.open(tmp, _CREATE, 0o666)
        except FileNotFoundError:  # the folder is not there (yet, or any more)
            os.makedirs(os.path.dirname(tmp) or ".", exist_ok=True)
            fd = os.open(tmp, _CREATE, 0o666)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _renamed(staged: str, target: Path) -> bool:
    """The staged file is the draft now; False when it is not there (removed since)."""
    try:
        os.replace(staged, target)
    except FileNotFoundError:
        return False
    return True


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def _syncfs() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


_SYNCFS = _syncfs()


def sync_folder(folder: Path, paths: Sequence[Path]) -> None:
    """Make the files at ``paths`` and their names in ``folder`` durable. On Linux one
    ``syncfs`` of the folder's file system does it (one journal commit for the chunk);
    elsewhere each file is fsynced, then the folder. Raises OSError."""
    if _SYNCFS is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if _SYNCFS(fd) != 0:  # type: ignore[operator]
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err), str(folder))
        finally:
            os.close(fd)
        return
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fsync_dir(folder)


class DirStore(BaseStore):
    name = "dir"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: dict[str, Path] | None = None
        self._chunk: list[Path] | None = None  # the files create_many has yet to sync

    @property
    def where(self) -> str:
        return str(self.folder)

    @property
    def capabilities(self) -> Capabilities:
        """Chunks of :data:`CHUNK` drafts, synced to disk together."""
        return Capabilities(batch_size=CHUNK, stages=True)

    def check(self) -> None:
        """Before anything is recorded: the folder is one that can be written in, or one that
        can be made there (the first draft makes it; a night with nothing due leaves none)."""
        folder = self.folder
        nothing = "nothing was drafted"
        try:
            os.stat(folder)
        except (FileNotFoundError, NotADirectoryError):
            pass  # not made yet: its nearest folder decides
        except OSError as exc:  # a name too long, a loop of links, no right to look
            raise FolderUnusable(
                f"cannot use the drafts folder {folder}: {exc.strerror or exc}; {nothing}", _HINT
            ) from None
        there = next((p for p in (folder, *folder.parents) if os.path.exists(p)), Path("."))
        if not os.path.isdir(there):
            if there == folder:
                raise FolderUnusable(
                    f"the drafts folder {folder} is a file; {nothing}",
                    f"move the file aside, or {_HINT}",
                )
            raise FolderUnusable(
                f"cannot make the drafts folder {folder}: {there} is a file; {nothing}",
                f"move the file aside, or {_HINT}",
            )
        if not os.access(there, os.W_OK | os.X_OK):
            why = "read-only file system" if _read_only(there) else "permission denied"
            what = "write in the drafts folder" if there == folder else "make the drafts folder"
            raise FolderUnusable(
                f"cannot {what} {folder}: {why}; {nothing}",
                f"make {there} writable for the user that runs outreach, or {_HINT}",
            )

    def _scan(self) -> dict[str, Path]:
        """Every draft in the folder by Message-ID: only for :meth:`find` without a key (a
        night never needs it: :meth:`find_for` reads the touch's own file)."""
        if self._index is None:
            index: dict[str, Path] = {}
            if self.folder.is_dir():
                for path in sorted(self.folder.glob("*.eml")):
                    mid = _message_id(path)
                    if mid:
                        index[mid] = path
            self._index = index
        return self._index

    def find(self, message_id: str) -> Stored | None:
        path = self._scan().get(message_id)
        if path is not None and _message_id(path) == message_id:
            return Stored(message_id, str(path))
        return None

    def find_for(self, key: str, message_id: str) -> Stored | None:
        """The draft of ``key`` is at the file its key names: that file, if it holds this
        Message-ID."""
        path = self.folder / file_name(key)
        if _message_id(path) == message_id:
            return Stored(message_id, str(path))
        return None

    def stage(self, draft: Draft) -> str:
        """The draft's bytes in a temporary file beside its name (a dot file, the writer's
        pid in its name), which :meth:`create` renames; :meth:`clean` removes what is left."""
        data = draft.as_bytes(unsent=True)
        tmp = _tmp_path(os.fspath(self.folder / file_name(draft.key)), _TMP_PREFIX)
        _write_new(tmp, data)
        return tmp

    def create(self, draft: Draft) -> Stored:
        """Write the draft whole (or rename its staged file); on its own it is synced at once,
        in :meth:`create_many` with the rest of its chunk."""
        target = self.folder / file_name(draft.key)
        try:
            if not (draft.staged and _renamed(draft.staged, target)):
                # its own policy: SMTP line ends, folded subjects
                write_atomic(target, draft.as_bytes(unsent=True), prefix=_TMP_PREFIX)
            if self._chunk is None:
                sync_folder(self.folder, [target])
        except OSError as exc:
            raise StoreError(f"cannot write {target}: {exc.strerror or exc}", _ROOM) from None
        if self._index is not None:
            self._index[draft.message_id] = target
        if self._chunk is not None:
            self._chunk.append(target)
        return Stored(draft.message_id, str(target))

    def create_many(self, drafts: Sequence[Draft]) -> list[Stored | StoreError]:
        """Write each draft of the chunk, then sync them and the folder once. A sync that fails
        fails the whole chunk (it cannot say which file it could not keep); their files are
        removed, and the next run writes them again."""
        self._chunk = []
        out: list[Stored | StoreError] = []
        try:
            for draft in drafts:
                try:
                    out.append(self.create(draft))
                except StoreError as exc:
                    out.append(exc)
                crash_point("after-file")
            written = self._chunk
        finally:
            self._chunk = None
        if written:
            try:
                sync_folder(self.folder, written)
            except OSError as exc:
                for path in written:
                    with contextlib.suppress(OSError):
                        path.unlink()
                error = StoreError(f"cannot sync {self.folder}: {exc.strerror or exc}", _ROOM)
                return [error if isinstance(r, Stored) else r for r in out]
            crash_point("after-sync")
        return out

    def clean(self) -> None:
        """Remove temporary files left by a crash (only this store's own prefix)."""
        if self.folder.is_dir():
            for tmp in self.folder.glob(f"{_TMP_PREFIX}*"):
                tmp.unlink(missing_ok=True)


def _message_id(path: Path) -> str:
    """The Message-ID in the headers of the file at ``path`` ("" when there is none, or no
    such file)."""
    try:
        with path.open("rb") as fh:
            headers = BytesHeaderParser().parse(fh)
    except OSError:
        return ""
    return str(headers.get("Message-ID", "")).strip()


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False
