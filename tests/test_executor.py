"""The executor and the seams around it: one code path for run, dry run and preview, that asks a
store only what the DraftStore protocol declares; the crash hook; the output layer."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from factories import book, campaign, campaign_data, contact, contact_data, write_folder

from outreach import faults
from outreach.book import Book
from outreach.drafts import Capabilities, Stored, ThreadMessage
from outreach.drafts.memory import MemoryStore
from outreach.errors import StoreError
from outreach.executor import Failed, Made, execute, reconcile
from outreach.ledger import Ledger
from outreach.message import Draft
from outreach.model import History, Touch
from outreach.planner import plan

TODAY = dt.date(2026, 4, 12)
REPO = Path(__file__).resolve().parent.parent


def birthdays(tmp_path: Path, n: int = 5) -> tuple[Book, list[Touch]]:
    tdir = tmp_path / "templates"
    tdir.mkdir()
    (tdir / "note.md").write_text("---\nsubject: Hi {{ contact.first }}\n---\nHi {{ contact.first }},\n")
    people = [contact(f"p{i}-doe", dates={"birthday": "--04-12"}) for i in range(n)]
    b = book(people, [campaign()], root=tmp_path)
    return b, list(plan(b, History(), today=TODAY).touches)


class Batches(MemoryStore):
    """A memory store with batches of two, that remembers what each create_many got."""

    name = "batches"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(batch_size=2)

    def create_many(self, drafts: Sequence[Draft]) -> list[Stored | StoreError]:
        self.calls.append(len(drafts))
        return super().create_many(drafts)


def test_the_executor_sends_the_batches_the_store_declares(tmp_path: Path) -> None:
    """Five touches and a store with batches of two: create_many gets 2, 2, 1; every touch is
    recorded drafted with the store's ref, and the run is recorded under the store's name."""
    b, touches = birthdays(tmp_path)
    store, ledger = Batches(), Ledger.open(tmp_path / "state.db")
    done = execute(b, touches, store, ledger, today=TODAY)
    assert store.calls == [2, 2, 1]
    assert [type(r) for r in done.results] == [Made] * 5 and done.failed == []
    assert {r.key: r.ref for r in ledger.rows("drafted")} == {
        m.touch.key: m.ref for m in done.made}
    assert ledger.conn.execute("SELECT backend, made, finished FROM runs").fetchall() == [
        ("batches", 5, 1)]
    ledger.close()


class Refusing(MemoryStore):
    """A store whose every create fails, and that must never be asked for a conversation."""

    name = "refusing"

    @property
    def where(self) -> str:
        return "the refusing store"

    def create(self, draft: Draft) -> Stored:
        raise StoreError("no room", "make room")

    def conversation(self, thread_id: str) -> list[ThreadMessage] | None:
        raise AssertionError("a store without conversations was asked for one")


def test_a_store_failure_fails_its_touch_naming_where(tmp_path: Path) -> None:
    """A draft the store cannot take fails its touch with a line naming the store's ``where``,
    and is recorded failed (the next run retries it)."""
    b, touches = birthdays(tmp_path, 1)
    ledger = Ledger.open(tmp_path / "state.db")
    done = execute(b, touches, Refusing(), ledger, today=TODAY)
    (failed,) = done.failed
    assert isinstance(failed, Failed)
    assert str(failed.problem) == f"the refusing store: {touches[0].key}: no room; make room"
    assert [r.status for r in ledger.rows()] == ["failed"]
    ledger.close()


def test_reconcile_recovers_by_message_id_and_watches_only_where_declared(tmp_path: Path) -> None:
    """A pending row whose draft the store holds is recorded drafted; a store without
    conversations is never asked about threads, even for rows that have one."""
    b, touches = birthdays(tmp_path, 2)
    ledger = Ledger.open(tmp_path / "state.db")
    store = MemoryStore()
    done = execute(b, touches[:1], store, ledger, today=TODAY)
    ledger.conn.execute("UPDATE touches SET thread_id = 't-1'")  # as if it had a conversation
    ledger.mark_pending(touches[1], "<lost@x>", TODAY, "Hi")
    refusing = Refusing()
    refusing.drafts = {"<lost@x>": done.made[0].touch.key}
    assert reconcile(b, refusing, ledger, TODAY) == [touches[1].key]
    assert ledger.get(touches[1].key).status == "drafted"  # type: ignore[union-attr]
    ledger.close()


def test_the_dry_run_and_preview_leave_the_ledger_file_as_it_was(tmp_path: Path) -> None:
    """The scratch ledger is a copy: the executor records in it what a run would, the file's
    bytes do not change, and a folder without a ledger gets none."""
    b, touches = birthdays(tmp_path, 2)
    path = tmp_path / "state.db"
    real = Ledger.open(path)
    execute(b, touches[:1], MemoryStore(), real, today=TODAY)
    real.close()
    before = path.read_bytes()
    scratch = Ledger.scratch(path)
    assert [r.key for r in scratch.rows("drafted")] == [touches[0].key]
    execute(b, touches, MemoryStore(), scratch, today=TODAY)
    assert len(scratch.rows("drafted")) == 2
    scratch.close()
    assert path.read_bytes() == before
    Ledger.scratch(tmp_path / "none.db").close()
    assert not (tmp_path / "none.db").exists()


def test_crash_points_are_a_no_op_unless_the_environment_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without OUTREACH_CRASH_AT a crash point does nothing; the variable is read once (setting
    it later changes nothing) and never written back."""
    monkeypatch.setattr(faults, "_armed", None)
    faults.crash_point("after-write")
    monkeypatch.setenv(faults.ENV, "after-write:1")
    faults.crash_point("after-write")  # still alive: read before it was set
    assert os.environ[faults.ENV] == "after-write:1"


def test_a_crash_point_kills_on_its_nth_pass(tmp_path: Path) -> None:
    """OUTREACH_CRASH_AT=after-write:3: the first two passes go by, the third is SIGKILL; another
    point's name is no-op."""
    code = ("from outreach import faults\n"
            "faults.crash_point('elsewhere')\n"
            "for i in range(5):\n"
            "    print(i, flush=True)\n"
            "    faults.crash_point('after-write')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, faults.ENV: "after-write:3"})
    assert proc.returncode == -9
    assert proc.stdout.split() == ["0", "1", "2"]


def test_the_cli_imports_no_google_library_and_only_it_imports_click() -> None:
    """`import outreach.cli` loads no Google library (the Gmail store and auth.py import them
    when called); no module but cli.py imports click."""
    proc = subprocess.run([sys.executable, "-c", "import sys, outreach.cli, outreach.commands, "
                           "outreach.output, outreach.executor; print(sorted(sys.modules))"],
                          capture_output=True, text=True, timeout=60)
    loaded = proc.stdout
    assert "googleapiclient" not in loaded and "'google." not in loaded
    for path in sorted((REPO / "outreach").rglob("*.py")):
        if path.name != "cli.py":
            text = path.read_text(encoding="utf-8")
            assert "import click" not in text and "from click" not in text, path


def test_nothing_outside_drafts_asks_a_store_its_type(tmp_path: Path) -> None:
    """The executor and the commands ask stores what the protocol declares: no probing of a
    store's attributes, no test of its type or name."""
    for path in sorted((REPO / "outreach").rglob("*.py")):
        if "drafts" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for probe in ('getattr(store', "isinstance(store", "GmailStore", "DirStore",
                      '== "gmail"', "== 'gmail'"):
            assert probe not in text, (path, probe)


def test_run_and_dry_run_report_the_same_drafts(tmp_path: Path) -> None:
    """The dry run is the run's own code: it would draft what the run then drafts."""
    from outreach import commands

    people = [contact_data(f"p{i:03d}-doe", dates={"birthday": "--11-22"}) for i in range(4)]
    root = write_folder(tmp_path / "book", people, [campaign_data()])
    day = dt.date(2026, 11, 22)
    dry = commands.run(root, today=day, dry_run=True, limit=3)
    real = commands.run(root, today=day, limit=3)
    assert [(m.key, m.message_id) for m in dry.made] == [(m.key, m.message_id) for m in real.made]
    assert (dry.limited, dry.exit_code, real.exit_code) == (1, 0, 0)


class KeyedOnly(MemoryStore):
    """A memory store that must only be asked find_for (by key), never find."""

    def find(self, message_id: str) -> Stored | None:
        raise AssertionError("a night asked the store to look everywhere")

    def find_for(self, key: str, message_id: str) -> Stored | None:
        return Stored(message_id, f"memory:{message_id}") if self.drafts.get(message_id) == key else None


def test_a_night_records_each_chunk_in_two_transactions_and_looks_up_by_key(tmp_path: Path) -> None:
    """Five touches in chunks of two: each chunk is recorded pending in one transaction and
    drafted in one (with the run's start and end: 2 + 3 + 3 commits); a pending row is recovered
    and a touch tried before is looked up by key and Message-ID, never by a scan of the store."""
    b, touches = birthdays(tmp_path)
    ledger = Ledger.open(tmp_path / "state.db")
    commits: list[str] = []
    ledger.conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    store = Batches()
    execute(b, touches, store, ledger, today=TODAY)
    assert len(commits) == 8
    assert {r.status for r in ledger.rows()} == {"drafted"}
    ledger.close()
    (tmp_path / "again").mkdir()
    b, touches = birthdays(tmp_path / "again", 3)
    ledger = Ledger.open(tmp_path / "again.db")
    keyed = KeyedOnly()
    done = execute(b, touches[:1], MemoryStore(), ledger, today=TODAY)
    ledger.conn.execute("UPDATE touches SET status = 'pending'")  # as if killed before drafted
    keyed.drafts = {done.made[0].draft.message_id: touches[0].key}
    ledger.mark_failed(touches[1], "no room", TODAY)  # tried before, not written
    assert reconcile(b, keyed, ledger, TODAY) == [touches[0].key]
    again = execute(b, touches[1:], keyed, ledger, today=TODAY)
    assert [type(r) for r in again.results] == [Made, Made]
    assert {r.status for r in ledger.rows()} == {"drafted"}
    ledger.close()
