"""A night's chunks composed with a forked helper: the same drafts, ledger and report as a night
composed in one process, whoever composes which chunk; a helper that dies, stalls or is
orphaned costs time, never a draft; what it staged and was not made is removed."""

from __future__ import annotations

import datetime as dt
import functools
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import alive, book, campaign, campaign_data, contact, contact_data, write_folder
from test_run import DATE, cli, message_ids, subprocess_run

from outreach import composer
from outreach.drafts import memory
from outreach.message import Draft
from outreach.model import History, Touch
from outreach.planner import plan

TODAY = dt.date(2026, 11, 22)
FAILS = "Bad"  # the first name whose note cannot be rendered (an undefined value)
TEMPLATE = """---
subject: Happy birthday, {{ contact.first }}!
---
Hi {{ contact.first }},
{% if contact.first == "Bad" %}{{ no_such_value.here }}{% endif %}
Many happy returns. [Our news](https://rivera.example/news?for={{ contact.id }})

{{ sender.signature }}
"""


def night_folder(root: Path, n: int = 110, failing: int = 3) -> Path:
    """``n`` people with a birthday tonight (three chunks of the dir store at 110), the first
    ``failing`` of them with a note that cannot be rendered, some with accented names."""
    people = []
    for i in range(n):
        first = FAILS if i < failing else ("Zoë" if i % 7 == 0 else f"P{i:03d}")
        people.append(
            contact_data(f"p{i:03d}-doe", name={"first": first, "last": "Doe"},
                         dates={"birthday": "--11-22"})
        )
    return write_folder(root, people, [campaign_data()], {"note.md": TEMPLATE},
                        limits={"nightly_cap": 1000})


def ledger_rows(root: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(root / ".outreach" / "state.db")
    try:
        return conn.execute(
            "SELECT key, contact, campaign, occasion, due, status, message_id, made_on, attempts,"
            " error, subject, reason, thread_id FROM touches ORDER BY key"
        ).fetchall()
    finally:
        conn.close()


def drafts(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "drafts").iterdir())}


@pytest.fixture
def helpers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the helpers started (the helper itself is not touched)."""
    started: list[int] = []
    real = composer._Helper.start.__func__  # type: ignore[attr-defined]

    def start(cls: type[composer._Helper], *args: object) -> composer._Helper | None:
        helper = real(cls, *args)
        if helper is not None:
            started.append(helper.pid)
        return helper

    monkeypatch.setattr(composer._Helper, "start", classmethod(start))
    return started


def test_a_night_with_a_helper_is_byte_for_byte_the_night_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helpers: list[int]
) -> None:
    """The same book run with the helper and without: the same .eml bytes, the same ledger
    rows (Message-IDs, subjects, the three failures and their problems), the same output, and
    nothing left in the drafts folder but drafts."""
    alone, shared = night_folder(tmp_path / "alone"), night_folder(tmp_path / "shared")
    monkeypatch.setattr(composer, "ENABLED", False)
    first = cli(alone, "run", "--date", DATE)
    assert helpers == []
    monkeypatch.setattr(composer, "ENABLED", True)
    second = cli(shared, "run", "--date", DATE)
    assert len(helpers) == 1
    assert first == second and first[0] == 1  # three notes could not be made
    assert drafts(alone) == drafts(shared)
    assert len(drafts(shared)) == 107 and not list((shared / "drafts").glob(".*"))
    assert ledger_rows(alone) == ledger_rows(shared)


def test_dry_run_and_preview_with_a_helper_say_what_they_say_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helpers: list[int]
) -> None:
    """A dry run (the memory store, which reads no message: the helper builds none) and a
    preview (which shows each message: those the helper composed are built here on demand)
    print the same with and without a helper, and write nothing (the memory store in chunks
    of 50 here: 110 people are three chunks)."""
    monkeypatch.setattr(memory, "CHUNK", 50)
    root = night_folder(tmp_path / "book")
    out = {}
    for enabled in (False, True):
        monkeypatch.setattr(composer, "ENABLED", enabled)
        out[enabled] = (cli(root, "run", "--date", DATE, "--dry-run", "-v"),
                        cli(root, "preview", "--all", "--date", DATE))
    assert out[False] == out[True]
    assert len(helpers) == 2 and not (root / "drafts").exists()


def test_a_helper_killed_mid_night_costs_no_draft(tmp_path: Path) -> None:
    """The helper dies (SIGKILL, at its 30th touch): the night composes what it had asked of
    it itself and ends as a night without a helper does: every draft once, exit 1 for the
    three that cannot be rendered, nothing staged left behind."""
    alone = night_folder(tmp_path / "alone")
    root = night_folder(tmp_path / "shared")
    proc = subprocess_run(root, "run", "--date", DATE, env={"OUTREACH_CRASH_AT": "in-helper:30"})
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert sum("unknown variable 'no_such_value'" in line for line in err.decode().splitlines()) == 3
    ids = message_ids(root)
    assert len(ids) == len(set(ids)) == 107
    assert drafts(root) == drafts(cli_run_alone(alone))


def cli_run_alone(root: Path) -> Path:
    old = composer.ENABLED
    composer.ENABLED = False
    try:
        cli(root, "run", "--date", DATE)
    finally:
        composer.ENABLED = old
    return root


def test_a_stopped_helper_is_killed_and_its_chunks_composed_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helpers: list[int]
) -> None:
    """A helper that stops answering (SIGSTOP as soon as it starts) is killed once the night
    has waited STALL_SECONDS with nothing else to do; the night makes every draft itself."""
    monkeypatch.setattr(composer, "STALL_SECONDS", 0.3)
    real = composer._Helper.ask

    def ask(self: composer._Helper, k: int) -> bool:
        os.kill(self.pid, signal.SIGSTOP)
        return real(self, k)

    monkeypatch.setattr(composer._Helper, "ask", ask)
    root = night_folder(tmp_path / "book", failing=0)
    code, _, err = cli(root, "run", "--date", DATE)
    assert (code, err) == (0, "")
    assert len(helpers) == 1 and not alive(helpers[0])
    assert len(message_ids(root)) == 110 and not list((root / "drafts").glob(".*"))


def test_a_helper_does_not_outlive_a_night_killed_with_sigkill(tmp_path: Path) -> None:
    """The night's process killed (SIGKILL) in its second chunk: its helper dies with it (the
    kernel's parent-death signal), and the next run makes each draft exactly once."""
    root = night_folder(tmp_path / "book", failing=0)
    proc = subprocess_run(root, "run", "--date", DATE, env={"OUTREACH_CRASH_AT": "after-pending:2"})
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while _processes_naming(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_naming(root) == []
    code, _, err = cli(root, "run", "--date", DATE)
    assert (code, err) == (0, "")
    ids = message_ids(root)
    assert len(ids) == len(set(ids)) == 110 and not list((root / "drafts").glob(".*"))


def _processes_naming(root: Path) -> list[int]:
    """The processes whose command line names ``root`` (a helper is a fork: the same one)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if str(root).encode() in cmdline and state != "Z":
                found.append(int(entry.name))
    return found


# --------------------------------------------------------------------------- the scheduler


def touches(tmp_path: Path, n: int) -> list[Touch]:
    return list(_touches(n))


@functools.cache
def _touches(n: int) -> tuple[Touch, ...]:
    """A night of ``n`` birthdays (the scheduler never reads the book's folder)."""
    people = [contact(f"p{i:03d}-doe", dates={"birthday": "--11-22"}) for i in range(n)]
    b = book(people, [campaign()], limits={"nightly_cap": 10_000})
    return tuple(plan(b, History(), today=TODAY).touches)


def by_pid(touch: Touch) -> Draft:
    """A draft whose subject says which process composed it; p013's compose fails."""
    if touch.contact_id == "p013-doe":
        raise ValueError("p013 cannot be composed")
    data = f"Subject: {touch.key}\r\n\r\n{os.getpid()}\r\n".encode()
    draft = Draft.composed(touch.key, f"<{touch.key}@x>", data, _never, "x@y.example",
                           f"{os.getpid()}", None)
    return draft


def _never() -> object:
    raise AssertionError("the message is not asked for")


def all_chunks(items: Iterator[tuple[object, list[object]]]) -> list[tuple[object, list[object]]]:
    return list(items)


@pytest.mark.parametrize("size", [1, 7, 50])
def test_chunks_come_in_plan_order_whoever_composed_them(
    tmp_path: Path, helpers: list[int], size: int
) -> None:
    """Every chunk, in order, each touch with its own draft (the bytes as composed) or its own
    error (composed again here, so the error is this process's); both processes composed some."""
    night = touches(tmp_path, 300)
    got = list(composer.chunks(by_pid, night, size))
    assert [t for part, _ in got for t in part] == night
    composed = [d for _, ds in got for d in ds]
    for touch, d in zip(night, composed, strict=True):
        if touch.contact_id == "p013-doe":
            assert isinstance(d, ValueError)
        else:
            assert isinstance(d, Draft) and d.key == touch.key
            assert d.as_bytes() == f"Subject: {touch.key}\r\n\r\n{d.subject}\r\n".encode()
    pids = {d.subject for d in composed if isinstance(d, Draft)}
    assert len(helpers) == 1 and pids == {str(os.getpid()), str(helpers[0])}
    assert not alive(helpers[0])


def test_a_short_night_or_one_core_gets_no_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helpers: list[int]
) -> None:
    """Fewer than MIN_CHUNKS chunks, or a machine with one core for us, compose here alone."""
    night = touches(tmp_path, 120)
    assert len(list(composer.chunks(by_pid, night, 50))) == 3 and len(helpers) == 1
    assert len(list(composer.chunks(by_pid, night, 60))) == 2 and len(helpers) == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert len(list(composer.chunks(by_pid, night, 50))) == 3 and len(helpers) == 1


def test_later_notes_threading_into_tonights_first_notes_get_no_helper(
    tmp_path: Path, helpers: list[int]
) -> None:
    """A later note of a sequence whose first note is made the same night needs that note's
    subject: such a night is composed here alone."""
    night = touches(tmp_path, 200)
    later = night[0].as_step(2)
    list(composer.chunks(by_pid, [*night, later], 50))
    assert helpers == []
    list(composer.chunks(by_pid, [*night[1:], later], 50))  # its first note not tonight
    assert len(helpers) == 1


def test_a_night_that_ends_early_ends_its_helper(tmp_path: Path, helpers: list[int]) -> None:
    """The night stops after its first chunk (a store ended it): closing the chunks ends the
    helper at once, and what it staged is cleaned up (``after``)."""
    cleaned: list[bool] = []
    night = composer.chunks(by_pid, touches(tmp_path, 300), 50, after=lambda: cleaned.append(True))
    next(night)
    night.close()
    assert len(helpers) == 1 and not alive(helpers[0]) and cleaned == [True]


def test_the_unsent_header_ends_the_header_block_as_the_email_package_adds_it(
    tmp_path: Path,
) -> None:
    """``as_bytes(unsent=True)`` is the message with ``X-Unsent: 1`` added last, as the dir
    store wrote it before it had bytes of its own: headers, the blank line, the body."""
    from email import message_from_bytes, policy

    data = (b"From: a@b.example\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain\r\n\r\nbody\r\n\r\nmore\r\n")
    draft = Draft.composed("k", "<m@x>", data, _never, "a@b.example", "Hi", None)
    msg = message_from_bytes(data, policy=policy.SMTP)
    msg["X-Unsent"] = "1"
    assert draft.as_bytes(unsent=True) == msg.as_bytes()
    assert draft.as_bytes() == data
