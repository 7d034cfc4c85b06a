"""The ledger: user state that survives upgrades, crashes and concurrent readers."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from factories import rows_in_the_log

from outreach.errors import OutreachError
from outreach.ledger import MIGRATIONS, Ledger, LedgerBusy, LedgerDiskError, LedgerError, Seen


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


def test_each_person_arrives_on_the_first_run_that_saw_them(tmp_path: Path) -> None:
    """A run records the night each person of the book was first seen (a new book's, or an
    import's, keep-in-touch ramps up from then); a later run keeps that night, and someone no
    run has seen arrives tonight. An upgraded ledger's people already drafted for arrived at
    its first run."""
    path = tmp_path / "state.db"
    v1_database(path)
    ledger = Ledger.open(path)
    assert ledger.history().arrived == {"jane": dt.date(2026, 4, 12)}
    ledger.start_run(dt.date(2026, 12, 1), "dir", ["jane", "sam"])
    ledger.start_run(dt.date(2026, 12, 2), "dir", ["jane", "sam", "ann"])
    h = ledger.history()
    assert h.arrived == {
        "jane": dt.date(2026, 4, 12), "sam": dt.date(2026, 12, 1), "ann": dt.date(2026, 12, 2)
    }
    assert h.arrival("nobody", dt.date(2026, 12, 3)) == dt.date(2026, 12, 3)  # new: tonight
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


def test_a_ledger_from_a_newer_release_is_invalid_input_not_a_crash(tmp_path: Path) -> None:
    """The newer schema is the folder's state, not a bug: exit code 2 and the way to upgrade."""
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    for opener in (Ledger.open, Ledger.open_readonly):
        with pytest.raises(OutreachError) as caught:
            opener(path)
        assert caught.value.exit_code == 2
        assert caught.value.lines() == [
            f"{path} was written by a newer outreach (schema {len(MIGRATIONS) + 1}, this one "
            f"knows {len(MIGRATIONS)}); nothing was drafted; upgrade outreach to the release "
            "that wrote it (in its clone: git pull, then pip install -e .)"
        ]


def test_a_new_ledger_is_made_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new ledger appears only once every migration is in it: if making it fails (or the
    process dies) part-way, there is no state.db at all, never an empty or half-made one that a
    later run would take for a ledger with nothing in it; nor any temporary file."""
    import outreach.ledger

    folder = tmp_path / ".outreach"
    path = folder / "state.db"
    monkeypatch.setattr(outreach.ledger, "MIGRATIONS", (*MIGRATIONS, "THIS IS NOT SQL;"))
    with pytest.raises(sqlite3.OperationalError):
        Ledger.open(path)
    assert sorted(os.listdir(folder)) == []
    monkeypatch.undo()
    Ledger.open(path).close()
    assert sorted(os.listdir(folder)) == ["state.db"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    conn.close()


def test_a_zero_length_ledger_is_damage_not_a_fresh_start(tmp_path: Path) -> None:
    """outreach never leaves an empty state.db (see above): an empty one is a ledger that lost
    its contents, and starting afresh would draft every recorded touch again. It is refused
    with one line, for writing and for reading, and left as it is."""
    path = tmp_path / "state.db"
    path.write_bytes(b"")
    for opener in (Ledger.open, Ledger.open_readonly):
        with pytest.raises(LedgerError) as caught:
            opener(path)
        assert caught.value.exit_code == 2
        assert caught.value.lines() == [
            f"{path}: the ledger is damaged (it is empty: 0 bytes); nothing was drafted; restore "
            "it from a backup, or move it aside to start a new one (every touch it recorded "
            "would then be planned again and drafted a second time)"
        ]
    assert path.read_bytes() == b""


def _with_log(path: Path) -> tuple[bytes, bytes]:
    """A ledger with 3,000 rows still in its write-ahead log; the log and index as they were."""
    Ledger.open(path).close()
    return rows_in_the_log(path)


def test_a_ledger_with_a_stale_log_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    """A backup put back with a later night's write-ahead log beside it reads as damaged. It is
    looked at read-only: the log is not folded into the file (a writable connection would, on
    closing, and delete the log), so putting things right stays possible."""
    path = tmp_path / "state.db"
    Ledger.open(path).close()
    backup = path.read_bytes()
    wal, shm = _with_log(tmp_path / "later.db")
    path.write_bytes(backup)
    conn = sqlite3.connect(path)
    conn.execute("VACUUM")
    conn.close()
    Path(f"{path}-wal").write_bytes(wal)
    Path(f"{path}-shm").write_bytes(shm)
    before = path.read_bytes()
    for opener in (Ledger.open, Ledger.open_readonly):
        with pytest.raises(LedgerError, match="the ledger is damaged"):
            opener(path)
    assert path.read_bytes() == before
    assert Path(f"{path}-wal").read_bytes() == wal


def test_an_orphaned_log_is_moved_aside_never_replayed_into_a_new_ledger(tmp_path: Path) -> None:
    """state.db moved away without its -wal: a new ledger is started, sound and empty, and the
    orphaned log is kept beside it (renamed .orphan), not replayed into it nor deleted."""
    path = tmp_path / "state.db"
    wal, _ = _with_log(path)
    path.unlink()
    Path(f"{path}-shm").unlink(missing_ok=True)
    Path(f"{path}-wal").write_bytes(wal)
    ledger = Ledger.open(path)
    assert ledger.rows() == [] and ledger.history().done == frozenset()
    assert ledger.conn.execute("PRAGMA quick_check").fetchone() == ("ok",)
    ledger.close()
    assert Path(f"{path}-wal.orphan").read_bytes() == wal


def test_sqlite_errors_met_later_are_one_line_errors(tmp_path: Path) -> None:
    """Damage that shows only when a page is read (here: half the file gone, opened without the
    check) fails every reading and writing method with one line that says outreach stopped."""
    path = tmp_path / "state.db"
    ledger = Ledger.open(path)
    ledger.remember([Seen(f"c{i}", dt.date(2026, 1, 1), "meeting", "calendar", f"r{i}", "x" * 90)
                     for i in range(2000)])
    ledger.close()
    os.truncate(path, path.stat().st_size // 2)
    raw = Ledger(sqlite3.connect(path, isolation_level=None), path)
    calls: dict[str, Callable[[], object]] = {
        "history": raw.history,
        "rows": raw.rows,
        "published": raw.published,
        "remember": lambda: raw.remember([Seen("c9999", dt.date(2026, 1, 2), "meeting",
                                               "calendar", "r9999")]),
    }
    for name, call in calls.items():
        with pytest.raises(LedgerError) as caught:
            call()
        assert (name, caught.value.exit_code) == (name, 2)
        assert caught.value.message == (
            f"{path}: the ledger is damaged (database disk image is malformed); outreach stopped"
        )
    raw.close()


def test_a_full_disk_in_a_transaction_is_one_line_and_leaves_the_ledger_usable(
    tmp_path: Path,
) -> None:
    """SQLite undoes a transaction itself when the disk is full: the error is the full disk
    (exit 1, the next run goes on), not "cannot rollback"; the ledger reads on and records
    nothing of the failed write."""
    path = tmp_path / "state.db"
    ledger = Ledger.open(path)
    (pages,) = ledger.conn.execute("PRAGMA page_count").fetchone()
    ledger.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(LedgerDiskError) as caught:
        ledger.remember([Seen(f"c{i}", dt.date(2026, 1, 1), "meeting", "calendar", f"r{i}", "x" * 50)
                         for i in range(2000)])
    assert caught.value.exit_code == 1
    assert caught.value.lines() == [
        f"{path}: the disk is full, the ledger cannot record; outreach stopped; free some space; "
        "the next run goes on from what is recorded"
    ]
    assert not ledger.conn.in_transaction
    assert ledger.history().seen == {}
    ledger.close()


def test_another_programs_write_lock_is_given_up_after_a_short_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write lock held by another program: opening for writing is Busy (exit 4) after
    BUSY_TIMEOUT, naming the ledger; opening for reading works at once and sees what was
    committed (WAL)."""
    from outreach import statefile

    monkeypatch.setattr(statefile, "BUSY_TIMEOUT", 0.3)
    path = tmp_path / "state.db"
    v1_database(path)
    Ledger.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(LedgerBusy) as caught:
            Ledger.open(path)
        assert 0.3 <= time.monotonic() - started < 3
        assert caught.value.exit_code == 4
        assert caught.value.message == (
            f"{path} is locked by another program (not an outreach run); nothing was drafted"
        )
        reader = Ledger.open_readonly(path)
        assert reader is not None
        assert reader.history().done == frozenset({"birthday/jane/2026"})
        reader.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_plan_makes_no_folder_for_a_ledger_that_is_not_there(tmp_path: Path) -> None:
    """Reading a ledger that does not exist yet is None, with no side effect."""
    assert Ledger.open_readonly(tmp_path / ".outreach" / "state.db") is None
    assert not (tmp_path / ".outreach").exists()


def _drafted(ledger: Ledger, key: str, made_on: str, thread_id: str | None = None,
             outcome: str | None = None) -> None:
    ledger.conn.execute(
        "INSERT INTO touches (key, contact, campaign, occasion, due, status, message_id, ref, "
        "made_on, subject, thread_id, outcome) VALUES (?, 'ann-doe', 'kit', ?, ?, 'drafted', ?, "
        "?, ?, 'Hi', ?, ?)",
        (key, made_on, made_on, f"<{key}@x>", f"/d/{key}.eml", made_on, thread_id, outcome))


def test_a_night_reads_the_drafts_it_shows_and_watches_not_all_of_history(tmp_path: Path) -> None:
    """What the calendar shows is the drafts of its follow-ups' keys and those made since its
    window opens; what watching the mailbox reads is the recent drafts with a conversation, not
    deleted. Older drafts are not read."""
    ledger = Ledger.open(tmp_path / "state.db")
    for n in range(30):
        _drafted(ledger, f"kit/ann-doe/old-{n:02d}", "2025-01-05", thread_id=f"t{n}")
    _drafted(ledger, "kit/ann-doe/followed", "2025-02-01")
    _drafted(ledger, "kit/ann-doe/recent", "2026-11-20", thread_id="t-r")
    _drafted(ledger, "kit/ann-doe/gone", "2026-11-21", thread_id="t-g", outcome="deleted")
    _drafted(ledger, "kit/ann-doe/no-thread", "2026-11-21")
    shown = ledger.drafts_for(["kit/ann-doe/followed", "kit/ann-doe/never"], dt.date(2026, 11, 8))
    assert [r.key for r in shown] == [
        "kit/ann-doe/followed", "kit/ann-doe/gone", "kit/ann-doe/no-thread", "kit/ann-doe/recent"]
    assert [r.key for r in ledger.watched(dt.date(2026, 9, 22))] == ["kit/ann-doe/recent"]
    ledger.close()


def test_a_chunk_is_recorded_in_one_transaction_each_way(tmp_path: Path) -> None:
    """record_pending writes a chunk's pending rows and its failures at once; record_drafted
    marks them drafted (or failed) at once; recorded tells which keys were tried before. A
    drafted row is never set back to pending or failed."""
    from factories import book, campaign, contact

    from outreach.model import History
    from outreach.planner import plan

    people = [contact(f"p{i}-doe", dates={"birthday": "--04-12"}) for i in range(3)]
    day = dt.date(2026, 4, 12)
    a, b, c = plan(book(people, [campaign()]), History(), today=day).touches
    ledger = Ledger.open(tmp_path / "state.db")
    commits: list[str] = []
    ledger.conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    assert ledger.recorded([a.key, b.key, c.key]) == set()
    ledger.record_pending([(a, "<a@x>", "Hi A"), (b, "<b@x>", "Hi B")], [(c, "broken")], today=day)
    assert ledger.recorded([a.key, b.key, c.key, "x/y/z"]) == {a.key, b.key, c.key}
    ledger.record_drafted([(a.key, "/d/a.eml", None)], [(b, "no room")])
    ledger.record_pending([(a, "<a2@x>", "Hi again")], today=day)
    assert len(commits) == 3
    assert {r.key: (r.status, r.message_id, r.attempts) for r in ledger.rows()} == {
        a.key: ("drafted", "<a@x>", 1), b.key: ("failed", "<b@x>", 1), c.key: ("failed", None, 1)}
    ledger.close()
