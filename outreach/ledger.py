"""The ledger: what exists, what failed, and the run lock. The only module that knows SQLite.

One row per touch key. A draft is recorded as ``pending`` (with its Message-ID) before the store
is asked to write it and ``drafted`` right after; a crash in between leaves ``pending``, and the
next run asks the store whether that Message-ID exists before writing again. Schema changes are
ordered migrations recorded in ``PRAGMA user_version``; user data is never dropped.

The file itself (inspected before use, made whole, its SQLite errors as one line each, the run
lock beside it) is :mod:`outreach.statefile`'s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from outreach import ledger_history, statefile
from outreach.ledger_sql import (
    _FAILED,
    _PENDING,
    _ROW,
    _SEEN,
    _failed_args,
    _pending_args,
    _seen_rows,
)
from outreach.ledger_sql import MIGRATIONS as MIGRATIONS
from outreach.ledger_sql import Published as Published
from outreach.ledger_sql import Row as Row
from outreach.ledger_sql import Seen as Seen
from outreach.ledger_sync import Link as Link
from outreach.ledger_sync import SyncRows
from outreach.model import History, Touch
from outreach.statefile import LedgerBusy as LedgerBusy
from outreach.statefile import LedgerDiskError as LedgerDiskError
from outreach.statefile import LedgerError as LedgerError
from outreach.statefile import RunLock as RunLock

P = ParamSpec("P")
R = TypeVar("R")


TABLES = frozenset({"touches", "runs"})


def _guarded(fn: Callable[Concatenate[Ledger, P], R]) -> Callable[Concatenate[Ledger, P], R]:
    """SQLite errors met later (a page that reads garbage, a full disk, a lock held by another
    program) are one line each, like those met when opening."""

    @functools.wraps(fn)
    def wrapper(ledger: Ledger, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with statefile.sqlite_errors(ledger.path, opening=False):
            return fn(ledger, *args, **kwargs)

    return wrapper


class Ledger(SyncRows):
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(cls, path: Path) -> Ledger:
        """Open for writing, making a new ledger (whole) or applying migrations; one line
        (:mod:`outreach.statefile`'s errors) when the file cannot be used, and nothing done."""
        if statefile.inspect(path, len(MIGRATIONS), TABLES) is None:
            statefile.create(path, lambda conn: cls(conn, path)._migrate())
        with statefile.sqlite_errors(path, opening=True):
            conn = statefile.connect(path)
            try:
                cls(conn, path)._migrate()
                statefile.probe_write(conn)
            except BaseException:
                conn.close()
                raise
        return cls(conn, path)

    @classmethod
    def open_readonly(cls, path: Path) -> Ledger | None:
        """Open for reading, or None when there is no ledger yet (``plan`` has no side effects).
        Works while a run holds the write lock (WAL)."""
        version = statefile.inspect(path, len(MIGRATIONS), TABLES)
        if not version:
            return None
        if version < len(MIGRATIONS):
            cls.open(path).close()
        with statefile.sqlite_errors(path, opening=True):
            return cls(statefile.connect_readonly(path), path)

    @classmethod
    def scratch(cls, path: Path) -> Ledger:
        """A private copy in memory of the ledger at ``path`` (empty when there is none yet), for
        ``run --dry-run`` and ``preview``: they record what a run would, and the file is only
        read (as :meth:`open_readonly` reads it)."""
        conn = sqlite3.connect(":memory:", isolation_level=None)
        source = cls.open_readonly(path)
        if source is not None:
            try:
                with statefile.sqlite_errors(path, opening=True):
                    source.conn.backup(conn)
            finally:
                source.close()
        ledger = cls(conn, path)
        ledger._migrate()
        return ledger

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # what was committed is safe in the log
            self.conn.close()

    def _version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self._version()
        for n, script in enumerate(MIGRATIONS[version:], start=version + 1):
            try:
                self.conn.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {n};\nCOMMIT;"
                )
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        """Undo an open transaction, if SQLite has not already (it does on a full disk)."""
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    # ----------------------------------------------------------------- reading

    @_guarded
    def history(self) -> History:
        """What the planner needs of the ledger (:class:`outreach.model.History`)."""
        return ledger_history.read(self.conn)

    @_guarded
    def get(self, key: str) -> Row | None:
        r = self.conn.execute(
            f"SELECT {_ROW} FROM touches WHERE key = ?",
            (key,),
        ).fetchone()
        return Row(*r) if r else None

    @_guarded
    def rows(self, status: str | None = None) -> list[Row]:
        sql = f"SELECT {_ROW} FROM touches"
        args: tuple[str, ...] = ()
        if status:
            sql += " WHERE status = ?"
            args = (status,)
        return [Row(*r) for r in self.conn.execute(sql + " ORDER BY key", args)]

    # ----------------------------------------------------------------- writing

    @_guarded
    def start_run(self, run_date: dt.date, backend: str, contacts: Iterable[str] = ()) -> int:
        """A run on ``run_date``; ``contacts``: the book's people (those new arrive tonight)."""
        night = run_date.isoformat()
        with self._tx() as c:
            cur = c.execute("INSERT INTO runs (run_date, backend) VALUES (?, ?)", (night, backend))
            c.executemany(
                "INSERT OR IGNORE INTO arrivals (contact, night) VALUES (?, ?)",
                ((i, night) for i in contacts),
            )
            return int(cur.lastrowid or 0)

    @_guarded
    def finish_run(self, run_id: int, made: int, failed: int) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE runs SET made = ?, failed = ?, finished = 1 WHERE id = ?",
                (made, failed, run_id),
            )

    @_guarded
    def mark_pending(self, touch: Touch, message_id: str, today: dt.date, subject: str) -> None:
        """Record the intent to write a draft, before the store is asked to."""
        self.record_pending([(touch, message_id, subject)], today=today)

    @_guarded
    def mark_drafted(self, key: str, ref: str, thread_id: str | None = None) -> None:
        self.record_drafted([(key, ref, thread_id)])

    @_guarded
    def record_pending(
        self,
        pending: Sequence[tuple[Touch, str, str]],
        failed: Sequence[tuple[Touch, str]] = (),
        *,
        today: dt.date,
    ) -> None:
        """A chunk's intent, in one transaction, before the store is asked to write it:
        ``(touch, message_id, subject)`` pending, and the touches that could not be composed
        failed ``(touch, error)``."""
        if not pending and not failed:
            return
        with self._tx() as c:
            c.executemany(_PENDING, [_pending_args(t, m, s, today) for t, m, s in pending])
            c.executemany(_FAILED, [_failed_args(t, e) for t, e in failed])

    @_guarded
    def record_drafted(
        self,
        drafted: Sequence[tuple[str, str, str | None]],
        failed: Sequence[tuple[Touch, str]] = (),
    ) -> None:
        """A chunk's outcome, in one transaction, once the store holds its drafts:
        ``(key, ref, thread_id)`` drafted, and the touches the store could not take failed."""
        if not drafted and not failed:
            return
        with self._tx() as c:
            c.executemany(
                "UPDATE touches SET status = 'drafted', ref = ?, thread_id = ?, error = NULL "
                "WHERE key = ?",
                [(ref, thread_id, key) for key, ref, thread_id in drafted],
            )
            c.executemany(_FAILED, [_failed_args(t, e) for t, e in failed])

    @_guarded
    def recorded(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` have a row already (tried before: pending or failed)."""
        wanted = list(keys)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ", ".join("?" * len(part))
            sql = f"SELECT key FROM touches WHERE key IN ({marks})"
            found.update(k for (k,) in self.conn.execute(sql, part))
        return found

    @_guarded
    def first_note(self, key: str) -> tuple[str, str | None] | None:
        """A drafted first note's subject and conversation (a sequence's later note goes
        there); None when it was not drafted or has no subject."""
        r = self.conn.execute(
            "SELECT subject, thread_id FROM touches WHERE key = ? AND status = 'drafted' "
            "AND subject IS NOT NULL AND subject != ''",
            (key,),
        ).fetchone()
        return (str(r[0]), r[1]) if r else None

    @_guarded
    def drafts_for(self, keys: Iterable[str], since: dt.date) -> list[Row]:
        """The drafted rows the calendar shows: those of ``keys`` (the touches of its follow-up
        events) and those made on or after ``since`` (its review events), not every draft ever
        made."""
        wanted = sorted(set(keys))
        rows = {
            r[0]: Row(*r)
            for r in self.conn.execute(
                f"SELECT {_ROW} FROM touches WHERE status = 'drafted' AND made_on >= ?",
                (since.isoformat(),),
            )
        }
        for start in range(0, len(wanted), 500):
            part = [k for k in wanted[start : start + 500] if k not in rows]
            if part:
                marks = ", ".join("?" * len(part))
                sql = f"SELECT {_ROW} FROM touches WHERE status = 'drafted' AND key IN ({marks})"
                rows.update((r[0], Row(*r)) for r in self.conn.execute(sql, part))
        return [rows[k] for k in sorted(rows)]

    @_guarded
    def watched(self, since: dt.date) -> list[Row]:
        """The drafted rows made on or after ``since`` with a conversation, not deleted: what
        watching the mailbox looks at (not the whole history)."""
        return [
            Row(*r)
            for r in self.conn.execute(
                f"SELECT {_ROW} FROM touches WHERE status = 'drafted' AND thread_id IS NOT NULL "
                "AND thread_id != '' AND made_on >= ? "
                "AND (outcome IS NULL OR outcome != 'deleted') ORDER BY key",
                (since.isoformat(),),
            )
        ]

    @_guarded
    def set_outcome(self, key: str, outcome: str, day: dt.date) -> None:
        """What the mailbox says became of a draft: sent, or deleted unsent (never re-created:
        the row stays drafted)."""
        with self._tx() as c:
            c.execute(
                "UPDATE touches SET outcome = ?, outcome_on = ? WHERE key = ?",
                (outcome, day.isoformat(), key),
            )

    @_guarded
    def add_reply(self, first_key: str, contact: str, day: dt.date) -> None:
        """The contact wrote back in a sequence's thread: it stops, and it counts as a touch."""
        with self._tx() as c:
            c.execute(
                "INSERT OR IGNORE INTO replies (first_key, contact, day) VALUES (?, ?, ?)",
                (first_key, contact, day.isoformat()),
            )

    @_guarded
    def remember(self, seen: Iterable[Seen]) -> int:
        """Keep interactions seen in an outside source (a meeting in a calendar feed); the same
        one (contact, source, ref) seen again updates its day and summary. Returns how many."""
        rows = _seen_rows(seen)
        with self._tx() as c:
            c.executemany(_SEEN, rows)
        return len(rows)

    # ----------------------------------------------------------------- the mailbox

    @_guarded
    def mail_marks(self, mailbox: str) -> dict[str, str]:
        """How far each folder of ``mailbox`` was read (the store's own marks)."""
        return {
            folder: mark
            for folder, mark in self.conn.execute(
                "SELECT folder, mark FROM mail_marks WHERE mailbox = ?", (mailbox,)
            )
        }

    @_guarded
    def notes_by_message(
        self, message_ids: Iterable[str], thread_ids: Iterable[str]
    ) -> list[tuple[str, str, str | None, str | None]]:
        """The drafted notes with one of these Message-IDs or conversations: (key, contact,
        Message-ID, thread id); what a reply's References and thread name."""
        found: dict[str, tuple[str, str, str | None, str | None]] = {}
        for column, values in (("message_id", message_ids), ("thread_id", thread_ids)):
            wanted = sorted(set(values))
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                sql = (
                    "SELECT key, contact, message_id, thread_id FROM touches "
                    f"WHERE status = 'drafted' AND {column} IN ({', '.join('?' * len(part))})"
                )
                found.update((r[0], (r[0], r[1], r[2], r[3])) for r in self.conn.execute(sql, part))
        return [found[k] for k in sorted(found)]

    @_guarded
    def save_mail(
        self,
        mailbox: str,
        marks: dict[str, str],
        seen: Sequence[Seen],
        replies: Iterable[tuple[str, str, dt.date]],
    ) -> None:
        """What one read of the mailbox found, in one transaction with where the next read
        starts: a crash keeps all of it or none (and reading again finds the same)."""
        with self._tx() as c:
            c.executemany(_SEEN, _seen_rows(seen))
            c.executemany(
                "INSERT OR IGNORE INTO replies (first_key, contact, day) VALUES (?, ?, ?)",
                [(k, contact, day.isoformat()) for k, contact, day in replies],
            )
            c.executemany(
                "INSERT INTO mail_marks (mailbox, folder, mark) VALUES (?, ?, ?) "
                "ON CONFLICT (mailbox, folder) DO UPDATE SET mark = excluded.mark",
                [(mailbox, folder, mark) for folder, mark in sorted(marks.items())],
            )

    @_guarded
    def mark_failed(self, touch: Touch, error: str, today: dt.date) -> None:
        with self._tx() as c:
            c.execute(_FAILED, _failed_args(touch, error))
        del today

    # ----------------------------------------------------------------- the calendar feed

    @_guarded
    def published(self) -> dict[str, Published]:
        return {
            uid: Published(uid, digest, seq, dt.datetime.fromisoformat(changed))
            for uid, digest, seq, changed in self.conn.execute(
                "SELECT uid, digest, sequence, changed FROM events"
            )
        }

    @_guarded
    def save_published(self, records: list[Published]) -> None:
        with self._tx() as c:
            c.executemany(
                "INSERT INTO events (uid, digest, sequence, changed) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (uid) DO UPDATE SET digest = excluded.digest, "
                "sequence = excluded.sequence, changed = excluded.changed",
                [(r.uid, r.digest, r.sequence, r.changed.isoformat()) for r in records],
            )
