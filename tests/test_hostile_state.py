"""Hostile machine state: a ledger that is garbage, truncated, empty, replayed from a stale log,
locked by another program, a folder, from a newer release; a state folder that is a file or cannot
be made; a drafts folder that is a file, cannot be written, or fills up. Every case ends in one
line naming the file and the fix, with the right exit code, no traceback and no hang; nothing is
drafted for a state that cannot be used, and nothing is recorded that was not written.

The nights run through the real command line (click's runner, or `python -m outreach` in its own
process where another process must hold a lock)."""

from __future__ import annotations

import email
import email.policy
import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import unprivileged
from click.testing import CliRunner
from factories import campaign_data, contact_data, rows_in_the_log, write_folder

from outreach import statefile
from outreach.cli import main
from outreach.drafts import Stored
from outreach.drafts import dir as dirstore
from outreach.message import Draft

DATE = "2026-11-22"
EARLIER = "2026-11-01"  # a night with nothing due: it makes the ledger
COMMANDS = {
    "run": ["run"],
    "plan": ["plan"],
    "preview": ["preview", "--all"],
    "calendar": ["calendar"],
    "dry-run": ["run", "--dry-run"],
}
RESTORE = (
    "restore it from a backup, or move it aside to start a new one (every touch it recorded "
    "would then be planned again and drafted a second time)"
)
MOVE_STATE = "move the file aside, or set state in outreach.yaml to a path in another folder"
DRAFTS_HINT = "set drafts.dir in outreach.yaml to a folder you can write in"




def cli(root: Path, *args: str) -> tuple[int, str, str]:
    """The command line in this process, on DATE unless told; any exception but an exit would
    be a traceback."""
    date = [] if "--date" in args else ["--date", DATE]
    result = CliRunner().invoke(main, ["-C", str(root), *args, *date])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def bound(root: Path, *args: str) -> tuple[int, str, str]:
    """`cli` in a process of its own that file permissions bind (see tests/unprivileged.py)."""
    return unprivileged.outreach(root, *args, "--date", DATE)


def folder(tmp_path: Path, n: int = 3, **settings: Any) -> Path:
    """n contacts whose birthday is DATE; one birthday campaign."""
    contacts = [contact_data(f"p{i:03d}-doe", dates={"birthday": "--11-22"}) for i in range(n)]
    return write_folder(tmp_path / "book", contacts, [campaign_data()], **settings)


def ledger_path(root: Path) -> Path:
    return root / ".outreach" / "state.db"


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the folder and its bytes; not the run lock, nor the index (-shm) and an empty
    log (-wal) that SQLite makes to read a ledger: they record nothing."""
    out = {}
    for path in sorted(root.rglob("*")):
        name = path.name
        if not path.is_file() or name == "run.lock" or name.endswith("-shm"):
            continue
        if name.endswith("-wal") and path.stat().st_size == 0:
            continue
        out[str(path.relative_to(root))] = path.read_bytes()
    return out


def emls(root: Path, drafts: str = "drafts") -> list[Path]:
    return sorted((root / drafts).glob("*.eml"))


def rows(root: Path) -> dict[str, tuple[str, str | None]]:
    """The ledger's touches: key -> (status, ref)."""
    conn = sqlite3.connect(ledger_path(root))
    try:
        return {k: (s, r) for k, s, r in conn.execute("SELECT key, status, ref FROM touches")}
    finally:
        conn.close()


def made_ledger(tmp_path: Path) -> Path:
    """A folder whose ledger is real: tonight's three drafts made and recorded."""
    root = folder(tmp_path)
    assert cli(root, "run")[0] == 0
    assert len(emls(root)) == 3
    return root


# --------------------------------------------------------------------------- a damaged ledger


def random_bytes(root: Path) -> str:
    ledger_path(root).write_bytes(bytes(range(7, 107)))
    return "file is not a database"


def cut_in_half(root: Path) -> str:
    db = ledger_path(root)
    os.truncate(db, db.stat().st_size // 2)
    return "database disk image is malformed"


def zero_length(root: Path) -> str:
    ledger_path(root).write_bytes(b"")
    return "it is empty: 0 bytes"


def stale_log(root: Path) -> str:
    """A backup of state.db put back while the write-ahead log of later nights stays beside it:
    SQLite replays that log onto pages it does not belong to."""
    db = ledger_path(root)
    backup = root / "backup.db"
    shutil.copy(db, backup)
    logs = dict(zip(("-wal", "-shm"), rows_in_the_log(db), strict=True))
    cleanup = sqlite3.connect(backup)
    cleanup.execute("VACUUM")
    cleanup.close()
    shutil.move(backup, db)
    for suffix, data in logs.items():
        Path(f"{db}{suffix}").write_bytes(data)
    return "database disk image is malformed"


DAMAGE: dict[str, Callable[[Path], str]] = {
    "random-bytes": random_bytes,
    "cut-in-half": cut_in_half,
    "zero-length": zero_length,
    "stale-log": stale_log,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_ledger_stops_every_command_with_one_line(tmp_path: Path, damage: str) -> None:
    """A ledger that is garbage (100 bytes of it), cut at half its size, empty (0 bytes), or read
    with a stale write-ahead log beside it: run, plan, preview, calendar and run --dry-run each
    print one line naming the ledger, what to do and what moving it aside costs, and exit 2. No
    draft is written, the calendar is not rewritten, and not a byte of the ledger changes."""
    root = made_ledger(tmp_path)
    why = DAMAGE[damage](root)
    db = ledger_path(root)
    hint = RESTORE
    if damage == "stale-log":
        hint += "; state.db-wal and state.db-shm beside it belong to it: move them with it"
    before = snapshot(root)
    for name, args in COMMANDS.items():
        code, out, err = cli(root, *args)
        assert (name, code, out) == (name, 2, "")
        assert err == f"{db}: the ledger is damaged ({why}); nothing was drafted; {hint}\n"
        assert snapshot(root) == before, name


def test_damage_found_in_the_middle_of_a_run_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that goes bad while the night runs (here the calendar's table, overwritten after
    the first draft is written, read only at the end): one line, exit 2. The drafts made before
    are recorded, every one whose file exists, and nothing else is."""
    root = folder(tmp_path)
    assert cli(root, "run", "--date", EARLIER)[0] == 0  # the ledger, checkpointed to its file
    db = ledger_path(root)
    conn = sqlite3.connect(db)
    (events_page,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    create = dirstore.DirStore.create

    def create_then_damage(store: dirstore.DirStore, draft: Draft) -> Stored:
        stored = create(store, draft)
        with db.open("r+b") as fh:
            fh.seek((events_page - 1) * page_size)
            fh.write(b"\xee" * page_size)
        return stored

    monkeypatch.setattr(dirstore.DirStore, "create", create_then_damage)
    code, out, err = cli(root, "run")
    assert (code, out) == (2, "")
    assert err == (
        f"{db}: the ledger is damaged (database disk image is malformed); outreach stopped; "
        f"{RESTORE}\n"
    )
    recorded = rows(root)
    assert sorted(recorded) == [f"birthday/p00{i}-doe/2026" for i in range(3)]
    assert {s for s, _ in recorded.values()} == {"drafted"}
    assert sorted(Path(str(ref)) for _, ref in recorded.values()) == emls(root)


# --------------------------------------------------------------------------- another program's lock


def run_in_process(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "outreach", "-C", str(root), *args, "--date", DATE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.waits
def test_a_ledger_locked_by_another_program_is_busy_within_seconds(tmp_path: Path) -> None:
    """Another program holds a write lock on the ledger (a sqlite3 shell in BEGIN EXCLUSIVE):
    run and calendar each give up after a few seconds, not 30, with one line that names the
    ledger and says it is not an outreach run, and exit 4. Nothing is drafted or recorded."""
    root = folder(tmp_path)
    assert cli(root, "run", "--date", EARLIER)[0] == 0
    db = ledger_path(root)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        done, took = {}, {}
        for name in ("run", "calendar"):  # one after the other: they take the run lock too
            started = time.monotonic()
            proc = run_in_process(root, *COMMANDS[name])
            done[name] = (proc.wait(timeout=60), *proc.communicate())
            took[name] = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    line = (
        f"{db} is locked by another program (not an outreach run); nothing was drafted; close "
        f"the program that has it open (lsof {db} names it); cron will try again tomorrow\n"
    )
    for name in ("run", "calendar"):
        assert (name, *done[name]) == (name, 4, "", line)
        assert statefile.BUSY_TIMEOUT <= took[name] < statefile.BUSY_TIMEOUT + 10, name
    assert emls(root) == [] and rows(root) == {}


def test_reading_commands_work_while_another_program_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    """plan, preview and run --dry-run only read the ledger: with a write lock held elsewhere
    (and an uncommitted row in it) they answer as if no one held it, from what was committed (a
    reader that needed the lock would give up with exit 4)."""
    root = folder(tmp_path)
    assert cli(root, "run", "--date", EARLIER)[0] == 0
    holder = sqlite3.connect(ledger_path(root), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute(
        "INSERT INTO touches (key, contact, campaign, occasion, due, status) VALUES "
        "('birthday/p001-doe/2026', 'p001-doe', 'birthday', '2026-11-22', '2026-11-22', 'pending')"
    )
    try:
        plan = run_in_process(root, "plan")
        preview = run_in_process(root, "preview", "--all")
        dry = run_in_process(root, "run", "--dry-run")
        outs = [p.communicate(timeout=60) for p in (plan, preview, dry)]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [p.returncode for p in (plan, preview, dry)] == [0, 0, 0]
    assert [err for _, err in outs] == ["", "", ""]
    assert outs[0][0].splitlines()[1] == "  birthday/p000-doe/2026  ->  p000-doe@acme.example"
    assert outs[1][0].count("=== birthday/") == 3
    assert outs[2][0].splitlines()[-1] == "3 would be drafted, 0 failed (nothing written)"


# --------------------------------------------------------------------------- the ledger's place


def test_a_state_folder_that_is_a_file_stops_every_command(tmp_path: Path) -> None:
    """`.outreach` is a file: each command says so in one line (naming what outreach keeps
    there) and exits 2; nothing is drafted and the file is left as it was."""
    root = folder(tmp_path)
    (root / ".outreach").write_text("notes\n")
    state = root / ".outreach"
    before = snapshot(root)
    for name, args in COMMANDS.items():
        kept = "run.lock" if name in ("run", "calendar") else "state.db"
        code, out, err = cli(root, *args)
        assert (name, code, out) == (name, 2, "")
        assert err == (
            f"{state} is a file, not a folder: outreach cannot keep {state / kept} in it; "
            f"nothing was drafted; {MOVE_STATE}\n"
        )
    assert snapshot(root) == before


def test_a_state_path_whose_folder_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    """`state:` in outreach.yaml points into a folder that cannot be made (a name longer than the
    file system allows; a file on the way): one line, exit 2, nothing drafted."""
    long_name = "x" * 300
    root = folder(tmp_path, state=f"{long_name}/state.db")
    code, out, err = cli(root, "run")
    assert (code, out) == (2, "")
    assert err == (
        f"cannot make the folder {root / long_name} for run.lock: File name too long; nothing "
        "was drafted; set state in outreach.yaml to a path in a folder you can write in\n"
    )
    code, _, err = cli(root, "plan")
    assert code == 2
    assert err == (
        f"cannot make the folder {root / long_name} for state.db: File name too long; nothing "
        "was drafted; set state in outreach.yaml to a path in a folder you can write in\n"
    )
    root = folder(tmp_path / "other", state="contacts.yaml/state/state.db")
    code, _, err = cli(root, "run")
    assert code == 2
    assert err == (
        f"{root / 'contacts.yaml'} is a file, not a folder: outreach cannot keep "
        f"{root / 'contacts.yaml/state/run.lock'} in it; nothing was drafted; {MOVE_STATE}\n"
    )
    assert not (root / "drafts").exists() and not (tmp_path / "book" / "drafts").exists()


def test_a_ledger_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    """`state.db` is a folder: one line for every command, exit 2."""
    root = folder(tmp_path)
    ledger_path(root).mkdir(parents=True)
    for name, args in COMMANDS.items():
        code, _, err = cli(root, *args)
        assert (name, code) == (name, 2)
        assert err == (
            f"{ledger_path(root)} is a folder, not the ledger; nothing was drafted; move it "
            "aside (a new ledger is then started), or set state in outreach.yaml to a path in "
            "another folder\n"
        )
    assert not (root / "drafts").exists()


def test_a_run_lock_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    """`.outreach/run.lock` is a folder: run says so and exits 2, nothing drafted."""
    root = folder(tmp_path)
    (root / ".outreach" / "run.lock").mkdir(parents=True)
    code, _, err = cli(root, "run")
    assert code == 2
    assert err == (
        f"{root / '.outreach' / 'run.lock'} is a folder, not outreach's run lock; nothing was "
        "drafted; move it aside (outreach makes the lock file itself)\n"
    )
    assert not (root / "drafts").exists()


def test_a_ledger_from_a_newer_release_is_exit_2_with_the_fix(tmp_path: Path) -> None:
    """A ledger whose schema is newer than this release knows: one line saying so and how to
    upgrade, exit 2 (it is the folder's state, not a bug: no crash log), for every command."""
    root = made_ledger(tmp_path)
    conn = sqlite3.connect(ledger_path(root))
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = snapshot(root)
    for name, args in COMMANDS.items():
        code, _, err = cli(root, *args)
        assert (name, code) == (name, 2)
        assert err == (
            f"{ledger_path(root)} was written by a newer outreach (schema 99, this one knows 7); "
            "nothing was drafted; upgrade outreach to the release that wrote it (in its clone: "
            "git pull, then pip install -e .)\n"
        )
    assert snapshot(root) == before
    assert not (root / ".outreach" / "crash.log").exists()


def test_another_programs_database_is_not_taken_for_a_ledger(tmp_path: Path) -> None:
    """`state:` pointing at some other SQLite file (a browser's history): refused, one line,
    exit 2; not a table is added to it."""
    root = folder(tmp_path, state="places.sqlite")
    conn = sqlite3.connect(root / "places.sqlite")
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.close()
    before = snapshot(root)
    for name in ("run", "plan"):
        code, _, err = cli(root, *COMMANDS[name])
        assert (name, code) == (name, 2)
        assert err == (
            f"{root / 'places.sqlite'} is not an outreach ledger (it holds other tables: "
            "moz_places); nothing was drafted; move it aside, or set state in outreach.yaml to a "
            "path in another folder\n"
        )
    assert snapshot(root) == before


def test_a_ledger_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    """A ledger the user may read but not write: run says so in one line, exit 2, and plan
    still reads it; a state folder the user may not write in: the same for the run lock (run
    as a user whom file modes bind: as root, without the capabilities that write through
    them)."""
    root = made_ledger(tmp_path)
    state = root / ".outreach"
    ledger_path(root).chmod(0o444)
    try:
        before = snapshot(root)
        code, _, err = bound(root, "run")
        assert code == 2
        assert err == (
            f"{ledger_path(root)} cannot be written (attempt to write a readonly database); "
            "nothing was drafted; make it and its folder writable for the user that runs "
            "outreach\n"
        )
        assert bound(root, "plan")[0] == 0
        (state / "run.lock").unlink()
        state.chmod(0o555)
        code, _, err = bound(root, "run")
        assert code == 2
        assert err == (
            f"cannot open the run lock {state / 'run.lock'}: Permission denied; nothing was "
            "drafted; make the folder writable for the user that runs outreach, or set state in "
            "outreach.yaml to a path in another folder\n"
        )
        assert snapshot(root) == before
    finally:
        state.chmod(0o755)
        ledger_path(root).chmod(0o644)


# --------------------------------------------------------------------------- the drafts folder


def test_a_drafts_folder_that_is_a_file_stops_the_run_before_anything_is_recorded(
    tmp_path: Path,
) -> None:
    """`drafts` is a file: one line (not one per touch), exit 2, before the ledger records
    anything, not even that a run started; the file is left as it was."""
    root = folder(tmp_path, n=13)
    assert cli(root, "run", "--date", EARLIER)[0] == 0
    shutil.rmtree(root / "drafts", ignore_errors=True)
    (root / "drafts").write_text("my drafts are elsewhere\n")
    before = snapshot(root)
    code, out, err = cli(root, "run")
    assert (code, out) == (2, "")
    assert err == (
        f"the drafts folder {root / 'drafts'} is a file; nothing was drafted; move the file "
        f"aside, or {DRAFTS_HINT}\n"
    )
    assert snapshot(root) == before


def test_a_drafts_folder_under_a_file_is_one_line(tmp_path: Path) -> None:
    """`drafts.dir: out/drafts` where `out` is a file: one line, exit 2, no ledger made."""
    root = folder(tmp_path, drafts={"dir": "out/drafts"})
    (root / "out").write_text("")
    code, _, err = cli(root, "run")
    assert code == 2
    assert err == (
        f"cannot make the drafts folder {root / 'out' / 'drafts'}: {root / 'out'} is a file; "
        f"nothing was drafted; move the file aside, or {DRAFTS_HINT}\n"
    )
    assert not (root / ".outreach").exists()


def test_a_drafts_folder_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    """A drafts folder the user may not write in: nothing can be written at all, so one line,
    exit 2, and no touch is recorded (run as a user whom file modes bind)."""
    root = folder(tmp_path)
    (root / "drafts").mkdir()
    (root / "drafts").chmod(0o555)
    try:
        code, _, err = bound(root, "run")
    finally:
        (root / "drafts").chmod(0o755)
    assert code == 2
    assert err == (
        f"cannot write in the drafts folder {root / 'drafts'}: permission denied; nothing was "
        f"drafted; make {root / 'drafts'} writable for the user that runs outreach, or "
        f"{DRAFTS_HINT}\n"
    )
    assert not ledger_path(root).exists()


def test_a_disk_that_fills_up_mid_run_fails_the_touches_it_could_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up after the first draft: that one is made and recorded; each of the others
    fails with one line naming its file, exit 1, recorded as failed, never as drafted. With room
    again, the next run makes them, each once."""
    root = folder(tmp_path)
    from outreach.fsutil import write_atomic as write
    calls: list[Path] = []

    def fill_up(path: Path, data: bytes, *, prefix: str) -> None:
        calls.append(path)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        write(path, data, prefix=prefix)

    monkeypatch.setattr("outreach.drafts.dir.write_atomic", fill_up)
    code, out, err = cli(root, "run")
    drafts = root / "drafts"
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        *(
            f"{drafts}: birthday/p00{i}-doe/2026: cannot write {drafts}/birthday--p00{i}-doe--"
            "2026.eml: No space left on device; check that the drafts folder is writable and the "
            "disk has room"
            for i in (1, 2)
        ),
        "outreach: 2 of 3 touches failed; fix the lines above, the next run retries them",
    ]
    assert {k: s for k, (s, _) in rows(root).items()} == {
        "birthday/p000-doe/2026": "drafted",
        "birthday/p001-doe/2026": "failed",
        "birthday/p002-doe/2026": "failed",
    }
    assert [p.name for p in emls(root)] == ["birthday--p000-doe--2026.eml"]
    monkeypatch.setattr("outreach.drafts.dir.write_atomic", write)
    assert cli(root, "run")[:2] == (0, "")
    assert {s for s, _ in rows(root).values()} == {"drafted"}
    ids = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Message-ID"]
           for p in emls(root)]
    assert len(ids) == len(set(ids)) == 3


def test_a_ledger_that_fills_the_disk_mid_run_stops_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger cannot grow any more part-way through the night (SQLite: database or disk is
    full): one line, exit 1. The night is recorded in chunks: every chunk the ledger could take
    is recorded drafted, at most one is left pending (the disk filled between writing it and
    recording it), every draft on disk is recorded, nothing is recorded that is not on disk, and
    the next run finds the pending ones by key and Message-ID and makes the rest, each once."""
    root = folder(tmp_path, n=120, limits={"nightly_cap": 200})
    assert cli(root, "run", "--date", EARLIER)[0] == 0
    connect = statefile.connect

    def small_disk(path: Path) -> sqlite3.Connection:
        conn = connect(path)
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count = {pages + 8}")  # room for a chunk, not three
        return conn

    monkeypatch.setattr(statefile, "connect", small_disk)
    code, out, err = cli(root, "run")
    db = ledger_path(root)
    assert (code, out) == (1, "")
    assert err == (
        f"{db}: the disk is full, the ledger cannot record; outreach stopped; free some space; "
        "the next run goes on from what is recorded\n"
    )
    recorded = rows(root)
    statuses = [s for s, _ in recorded.values()]
    drafted, pending = statuses.count("drafted"), statuses.count("pending")
    assert 0 < drafted < 120 and drafted % dirstore.CHUNK == 0 and pending <= dirstore.CHUNK
    on_disk = {p.name for p in emls(root)}
    assert {Path(str(ref)).name for s, ref in recorded.values() if s == "drafted"} <= on_disk
    assert {dirstore.file_name(k) for k in recorded} >= on_disk
    monkeypatch.setattr(statefile, "connect", connect)
    assert cli(root, "run")[:2] == (0, "")
    assert {s for s, _ in rows(root).values()} == {"drafted"} and len(rows(root)) == 120
    ids = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Message-ID"]
           for p in emls(root)]
    assert len(ids) == len(set(ids)) == 120

