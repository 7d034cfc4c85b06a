"""The ledger: user state that survives upgrades, crashes and concurrent readers."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from outreach.errors import OutreachError
from outreach.ledger import MIGRATIONS, Ledger


def v1_database(path: Path) -> None:
    """A ledger as the first release wrote it, with one drafted touch in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(f"BEGIN;\n{MIGRATIONS[0]}\nPRAGMA user_version = 1;\nCOMMIT;")
    conn.execute("INSERT INTO touches (key, contact, campaign, occasion, due, status, message_id, ref, "
                 "made_on, attempts) VALUES ('birthday/jane/2026', 'jane', 'birthday', '2026-04-12', "
                 "'2026-04-12', 'drafted', '<x@y>', '/d/x.eml', '2026-04-12', 1)")
    conn.execute("INSERT INTO runs (run_date, backend, made, finished) VALUES ('2026-04-12', 'dir', 1, 1)")
    conn.close()


def test_migrations_upgrade_an_old_ledger_and_keep_its_history(tmp_path: Path) -> None:
    """Opening a ledger from an older release applies the newer migrations in order and keeps
    every row: the touch stays drafted (never made again), its new columns are empty."""
    path = tmp_path / "state.db"
    v1_database(path)
    ledger = Ledger.open(path)
    assert ledger.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    row = ledger.get("birthday/jane/2026")
    assert row is not None and (row.status, row.subject, row.reason) == ("drafted", None, None)
    history = ledger.history()
    assert history.done == frozenset({"birthday/jane/2026"})
    assert history.since == dt.date(2026, 4, 12)
    assert ledger.published() == {}
    ledger.close()


def test_a_ledger_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    """A schema this version does not know is never written to: one clear error instead."""
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(OutreachError, match="was written by a newer outreach"):
        Ledger.open(path)


def test_plan_reads_an_old_ledger(tmp_path: Path) -> None:
    """The read-only path used by `plan` sees an old ledger's history too."""
    path = tmp_path / "state.db"
    v1_database(path)
    ledger = Ledger.open_readonly(path)
    assert ledger is not None
    assert ledger.history().done == frozenset({"birthday/jane/2026"})
    ledger.close()
