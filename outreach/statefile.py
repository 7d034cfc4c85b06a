"""The ledger's file on disk, and the run lock beside it.

A ledger is used only once it is known to be a sound outreach ledger: it is looked at through a
read-only connection first (a writable one would, on closing, copy a stale or damaged write-ahead
log into the file and delete the log, destroying what a restore needs), and checked with SQLite's
``quick_check`` (about 50 ms for 100,000 touches). A new ledger is made whole under a temporary
name and then linked into place, so that a zero-length ``state.db`` is always damage, never a
ledger we were about to make. Every SQLite error that is not a bug becomes one line naming the
file and what to do; a write lock held by another program is given up after a few seconds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO
from urllib.parse import quote

from outreach.errors import EXIT_INVALID, EXIT_TOUCH_FAILED, Busy, OutreachError
from outreach.fsutil import fsync_dir

BUSY_TIMEOUT = 5.0  # seconds a write waits for another program's lock on the ledger
NOTHING = "nothing was drafted"
STOPPED = "outreach stopped"
HINT_STATE = "or set state in outreach.yaml to a path in another folder"


class LedgerError(OutreachError):
    """The ledger cannot be used as it is: damaged, not an outreach ledger, from a newer release,
    not a file, or in a folder that cannot be. Nothing is drafted until the user acts."""

    exit_code = EXIT_INVALID


class LedgerBusy(Busy):
    """Another program (not an outreach run: that would hold the run lock) holds a write lock on
    the ledger for longer than :data:`BUSY_TIMEOUT`."""


class LedgerDiskError(OutreachError):
    """The disk is full or failing: the ledger cannot record. What was written before is recorded
    or still pending, and the next run finds it by its Message-ID."""

    exit_code = EXIT_TOUCH_FAILED


def damaged(path: Path, why: str, *, opening: bool = True) -> LedgerError:
    """The ledger reads as garbage: restore it, or start afresh knowing what that costs."""
    hint = (
        "restore it from a backup, or move it aside to start a new one (every touch it recorded "
        "would then be planned again and drafted a second time)"
    )
    # A log with something in it goes with its ledger. Once a run has opened the ledger for
    # writing, closing it folds the log into the file and removes it: no word about it then.
    wal = _sidecar(path, "-wal")
    if opening and os.path.isfile(wal) and os.path.getsize(wal):
        extras = [f"{path.name}{s}" for s in ("-wal", "-shm") if os.path.exists(_sidecar(path, s))]
        hint += f"; {' and '.join(extras)} beside it belong to it: move them with it"
    return LedgerError(
        f"{path}: the ledger is damaged ({why}); {NOTHING if opening else STOPPED}", hint
    )


def translate(path: Path, exc: sqlite3.Error, *, opening: bool) -> OutreachError | None:
    """The one-line error for an SQLite error, or None for what can only be a bug (a crash log).
    ``opening``: the error came before anything was done, so nothing was drafted."""
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    primary, then, why = code & 0xFF, NOTHING if opening else STOPPED, str(exc)
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return damaged(path, why, opening=opening)
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return LedgerBusy(
            f"{path} is locked by another program (not an outreach run); {then}",
            f"close the program that has it open (lsof {path} names it); "
            "cron will try again tomorrow",
        )
    if primary == sqlite3.SQLITE_FULL:
        return LedgerDiskError(
            f"{path}: the disk is full, the ledger cannot record; {then}",
            "free some space; the next run goes on from what is recorded",
        )
    if primary == sqlite3.SQLITE_IOERR:
        return LedgerDiskError(
            f"{path}: the disk failed to read or write the ledger ({why}); {then}",
            "check the disk, then run again",
        )
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
        return LedgerError(
            f"{path} cannot be written ({why}); {then}",
            "make it and its folder writable for the user that runs outreach",
        )
    if primary == sqlite3.SQLITE_CANTOPEN:
        return LedgerError(
            f"{path} cannot be opened ({why}); {then}",
            "make it and its folder readable and writable for the user that runs outreach",
        )
    return None


@contextlib.contextmanager
def sqlite_errors(path: Path, *, opening: bool) -> Iterator[None]:
    """SQLite errors inside the block become our one-line errors (bugs stay what they are)."""
    try:
        yield
    except sqlite3.Error as exc:
        mapped = translate(path, exc, opening=opening)
        if mapped is None:
            raise
        raise mapped from exc


def folder_error(target: Path, exc: OSError) -> LedgerError:
    """``target`` (the ledger, or the run lock) cannot be kept where it should be."""
    for folder in target.parents:
        if os.path.lexists(folder):  # (never raises, unlike Path.exists on a name too long)
            if not os.path.isdir(folder):
                return LedgerError(
                    f"{folder} is a file, not a folder: outreach cannot keep {target} in it; "
                    f"{NOTHING}",
                    f"move the file aside, {HINT_STATE}",
                )
            break
    return LedgerError(
        f"cannot make the folder {target.parent} for {target.name}: "
        f"{exc.strerror or exc}; {NOTHING}",
        "set state in outreach.yaml to a path in a folder you can write in",
    )


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _stat(path: Path) -> os.stat_result | None:
    """The ledger's file, or None when there is none yet; one line when it cannot be one."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except NotADirectoryError as exc:
        raise folder_error(path, exc) from None
    except PermissionError as exc:
        raise LedgerError(
            f"cannot read {path}: {exc.strerror or exc}; {NOTHING}",
            "make it and its folder readable for the user that runs outreach",
        ) from None
    except OSError as exc:  # a name too long, a loop of links: no ledger can be there
        raise folder_error(path, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise LedgerError(
            f"{path} is a folder, not the ledger; {NOTHING}",
            f"move it aside (a new ledger is then started), {HINT_STATE}",
        )
    if not stat.S_ISREG(st.st_mode):
        raise LedgerError(
            f"{path} is not a regular file; {NOTHING}", f"move it aside, {HINT_STATE}"
        )
    return st


def connect_readonly(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT)


def connect(path: Path) -> sqlite3.Connection:
    """A writable connection to a ledger already inspected (or just made)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def probe_write(conn: sqlite3.Connection) -> None:
    """Take the write lock, change a page and give both back: a lock held by another program, a
    file that may not be written, are found now, before anything is recorded."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        conn.execute(f"PRAGMA user_version = {int(version)}")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def verdict(conn: sqlite3.Connection) -> str:
    """SQLite's ``quick_check``: "ok", or the first thing it found wrong. It reads every page,
    so damage anywhere is found before anything is done, not in the middle of a night."""
    row = conn.execute("PRAGMA quick_check(1)").fetchone()
    return str(row[0]) if row else "no answer"


def inspect(path: Path, known: int, tables: frozenset[str]) -> int | None:
    """The schema version of the ledger at ``path`` (None: there is none yet), once it is known
    to be a sound outreach ledger this release can use; one line (:class:`LedgerError`) if not.
    ``known``: the newest schema version this release knows; ``tables``: what version 1 made."""
    st = _stat(path)
    if st is None:
        return None
    if st.st_size == 0:
        raise damaged(path, "it is empty: 0 bytes")
    with sqlite_errors(path, opening=True):
        conn = connect_readonly(path)
        try:
            check = verdict(conn)
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            names = {n for (n,) in rows}
        finally:
            conn.close()
    if check != "ok":
        raise damaged(path, f"SQLite's check says: {check}")
    if version > known:
        raise LedgerError(
            f"{path} was written by a newer outreach (schema {version}, this one knows "
            f"{known}); {NOTHING}",
            "upgrade outreach to the release that wrote it (in its clone: git pull, then "
            "pip install -e .)",
        )
    missing = sorted(tables - names)
    if (version == 0 and names) or (version > 0 and missing):
        what = (
            f"it holds other tables: {', '.join(sorted(names)[:3])}"
            if version == 0
            else f"it has no {' or '.join(missing)} table"
        )
        raise LedgerError(
            f"{path} is not an outreach ledger ({what}); {NOTHING}",
            f"move it aside, {HINT_STATE}",
        )
    return version


def create(path: Path, setup: Callable[[sqlite3.Connection], None]) -> None:
    """Make a new ledger whole: under a temporary name, ``setup`` (the migrations) applied and
    flushed, then linked into place. A write-ahead log left beside a ledger that is gone belongs
    to nothing (SQLite would delete it): it is moved aside, never replayed into the new one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise folder_error(path, exc) from None
    tmp = path.with_name(f".{path.name}.new-{os.getpid()}")
    try:
        with sqlite_errors(path, opening=True):
            _remove(tmp)
            conn = connect(tmp)
            try:
                setup(conn)
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the file itself
            finally:
                conn.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        for suffix in ("-wal", "-shm"):
            side = _sidecar(path, suffix)
            if side.exists():
                side.replace(side.with_name(side.name + ".orphan"))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # made meanwhile by another process: that one is used
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
                raise
            if not path.exists():  # a file system without hard links
                os.rename(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise LedgerDiskError(
                f"{path}: the disk is full, the ledger cannot be made; {NOTHING}",
                "free some space; cron will try again tomorrow",
            ) from None
        raise LedgerError(
            f"cannot make the ledger {path}: {exc.strerror or exc}; {NOTHING}",
            "make its folder writable for the user that runs outreach, " + HINT_STATE,
        ) from None
    finally:
        _remove(tmp)


def _remove(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            _sidecar(db, suffix).unlink()


# --------------------------------------------------------------------------- the run lock


class RunLock:
    """An exclusive, non-blocking lock file next to the ledger; released when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise folder_error(self.path, exc) from None
        try:
            fh = self.path.open("a+")
        except IsADirectoryError:
            raise LedgerError(
                f"{self.path} is a folder, not outreach's run lock; {NOTHING}",
                "move it aside (outreach makes the lock file itself)",
            ) from None
        except OSError as exc:
            raise LedgerError(
                f"cannot open the run lock {self.path}: {exc.strerror or exc}; {NOTHING}",
                "make the folder writable for the user that runs outreach, " + HINT_STATE,
            ) from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise Busy(
                f"another outreach run is in progress (pid {holder}); nothing was drafted",
                "wait for it to finish; cron will try again tomorrow",
            ) from None
        with contextlib.suppress(OSError):  # who holds it, for the message above only
            os.ftruncate(fh.fileno(), 0)
            os.write(fh.fileno(), str(os.getpid()).encode())
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
