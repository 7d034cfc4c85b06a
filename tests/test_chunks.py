"""Exactly once in chunks: a run killed (SIGKILL) at each moment of a chunk of drafts, then a
normal run, gives every draft once and loses none (the random kills are in test_run.py)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from factories import campaign_data, contact_data, write_folder
from test_run import DATE, cli, message_ids, small_folder, subprocess_run

from outreach.ledger import Ledger


def statuses(root: Path) -> dict[str, int]:
    ledger = Ledger.open(root / ".outreach" / "state.db")
    try:
        rows = ledger.rows()
    finally:
        ledger.close()
    return {s: sum(1 for r in rows if r.status == s) for s in ("drafted", "pending", "failed")}


# Sixty touches are two chunks of the dir store (50, then 10). Each crash point of a chunk, in
# its second chunk: (point, files on disk, rows drafted, rows pending, recovered by the next run).
CHUNK_CRASHES = [
    ("after-pending:1", 0, 0, 50, 0),  # the first chunk recorded pending, nothing written
    ("after-pending:2", 50, 50, 10, 0),  # the first chunk drafted, the second pending
    ("after-file:53", 53, 50, 10, 3),  # three files of the second chunk written, not synced
    ("after-sync:2", 60, 50, 10, 10),  # the second chunk written and synced, not recorded
    ("after-write:55", 60, 50, 10, 10),  # ... the store answered for five of them
    ("before-drafted:2", 60, 50, 10, 10),  # ... the moment before it is recorded drafted
]


@pytest.mark.parametrize(("point", "files", "drafted", "pending", "recovered"), CHUNK_CRASHES)
def test_a_kill_at_any_point_of_a_chunk_then_a_run_makes_each_draft_once(
    tmp_path: Path, point: str, files: int, drafted: int, pending: int, recovered: int
) -> None:
    """A run killed (SIGKILL) at each moment of a chunk (recorded pending, some files written,
    the folder synced, the store's answers, just before it is recorded drafted): the ledger holds
    every file's touch, drafted only where its file exists; the next run finds the written ones
    by key and Message-ID, writes the others, and every touch has exactly one draft."""
    contacts = [contact_data(f"p{i:03d}-doe", dates={"birthday": "--11-22"}) for i in range(60)]
    root = write_folder(tmp_path / "book", contacts, [campaign_data()], limits={"nightly_cap": 100})
    proc = subprocess_run(root, "run", "--date", DATE, env={"OUTREACH_CRASH_AT": point})
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    on_disk = message_ids(root)
    assert (len(on_disk), statuses(root)) == (
        files, {"drafted": drafted, "pending": pending, "failed": 0})
    code, out, err = cli(root, "run", "--date", DATE, "-v")
    assert (code, err) == (0, "")
    assert sum(1 for line in out.splitlines() if line.startswith("recovered ")) == recovered
    ids = message_ids(root)
    assert len(ids) == len(set(ids)) == 60 and set(on_disk) <= set(ids)
    assert statuses(root) == {"drafted": 60, "pending": 0, "failed": 0}
    assert not list((root / "drafts").glob(".tmp-*"))


def test_a_crash_between_write_and_record_makes_no_duplicate(tmp_path: Path) -> None:
    """A process killed (SIGKILL) right after writing a chunk's drafts and before recording them:
    the next run finds each draft by its key and Message-ID, records it, and writes nothing
    twice."""
    root = small_folder(tmp_path)
    proc = subprocess_run(root, "run", "--date", DATE, env={"OUTREACH_CRASH_AT": "after-write:2"})
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    before = {p.name: p.read_bytes() for p in (root / "drafts").glob("*.eml")}
    assert len(before) == 3
    assert statuses(root) == {"drafted": 0, "pending": 3, "failed": 0}
    code, out, _ = cli(root, "run", "--date", DATE, "-v")
    assert code == 0
    assert out.splitlines()[:3] == [
        f"recovered birthday/p00{i}-doe/2026 (written before a crash)" for i in range(3)]
    assert {p.name: p.read_bytes() for p in (root / "drafts").glob("*.eml")} == before
    assert statuses(root) == {"drafted": 3, "pending": 0, "failed": 0}
