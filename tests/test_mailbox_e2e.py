"""Mailbox awareness end to end, with mailbox.watch on: against a real Dovecot (the imap store)
and the Gmail emulator through the real client (the gmail store). Mail from a contact resets
keep-in-touch and is the reason in plan; a reply in a sequence's conversation stops it."""

from __future__ import annotations

import calendar
import datetime as dt
import email
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dovecot
import pytest
import yaml
from click.testing import CliRunner
from dovecot import Dovecot
from factories import campaign_data, contact_data
from gmail_emulator import COMPOSE, READONLY, GmailEmulator
from test_gmail import gmail_folder
from test_imap import drafts_of, imap_folder

from outreach.cli import main
from outreach.drafts import gmail as gmail_store

dovecot_server = dovecot.dovecot_server
imap_user = dovecot.imap_user

CALLED = [{"date": "2026-10-01", "kind": "call"}]
PEOPLE = [contact_data("jane-doe", interactions=CALLED), contact_data("bob-roe", interactions=CALLED)]
KEEP = [campaign_data("keep-in-touch", {"kind": "interval", "days": 45}, priority=30)]
INTRO = [campaign_data("intro", {"kind": "date", "field": "birthday"}, priority=50,
                       steps=[{"template": "note.md", "after": 4}])]
BIRTHDAYS = [contact_data("jane-doe", dates={"birthday": "--11-22"}),
             contact_data("bob-roe", dates={"birthday": "--11-22"})]


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def watching(root: Path, **mailbox: Any) -> Path:
    cfg = yaml.safe_load((root / "outreach.yaml").read_text())
    cfg["mailbox"] = {"watch": True, **mailbox}
    (root / "outreach.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return root


def mail(frm: str, to: str, day: str, msgid: str, *extra: str) -> bytes:
    lines = [f"From: {frm}", f"To: {to}", f"Date: {day}", f"Message-ID: <{msgid}>",
             "Subject: hello", *extra, "", "SECRET BODY", ""]
    return "\r\n".join(lines).encode()


YESTERDAY = "Mon, 30 Nov 2026 09:15:00 -0600"


def seen_rows(root: Path) -> list[tuple[str, str, str, str, int]]:
    with sqlite3.connect(root / ".outreach" / "state.db") as db:
        return db.execute("SELECT contact, day, source, summary, inbound FROM seen "
                          "WHERE source = 'mailbox' ORDER BY contact, day").fetchall()


def drafted_keys(root: Path) -> list[str]:
    with sqlite3.connect(root / ".outreach" / "state.db") as db:
        return [k for (k,) in db.execute("SELECT key FROM touches WHERE status = 'drafted' "
                                         "ORDER BY key")]


def check_keep_in_touch(root: Path) -> None:
    """Bob is due (no mail), Jane is not (she wrote yesterday): plan says why, the run drafts
    Bob's note only, the ledger keeps her message, contacts.yaml is untouched."""
    before = (root / "contacts.yaml").read_bytes()
    code, out, err = invoke(root, "plan", "--date", "2026-12-01")
    assert (code, err) == (0, "")
    assert "keep-in-touch/bob-roe/" in out
    assert "no draft: keep-in-touch/jane-doe: not due: last exchange Mon 30 Nov, email from Jane" in out
    code, out, err = invoke(root, "plan", "--json", "--date", "2026-12-01")
    items = json.loads(out)
    assert [i["contact"] for i in items] == ["bob-roe"]
    assert items[0]["last_touch"] == {"date": "2026-10-01", "kind": "call", "source": "logged",
                                      "summary": None}
    code, out, err = invoke(root, "run", "--date", "2026-12-01")
    assert (code, err) == (0, "")
    assert drafted_keys(root) == ["keep-in-touch/bob-roe/2026-11-15"]
    assert seen_rows(root) == [("jane-doe", "2026-11-30", "mailbox", "email from Jane", 1)]
    assert (root / "contacts.yaml").read_bytes() == before


# --------------------------------------------------------------------------- imap


def test_imap_mail_from_a_contact_resets_keep_in_touch(tmp_path: Path, dovecot_server: Dovecot,
                                                       imap_user: str) -> None:
    """A message from Jane dropped into the inbox yesterday: no keep-in-touch note for her
    tonight, a reason in plan; Bob gets his."""
    root = watching(imap_folder(tmp_path, dovecot_server, imap_user, contacts=PEOPLE,
                                campaigns=KEEP))
    dovecot_server.deliver(imap_user, "INBOX", mail("Jane Doe <jane-doe@acme.example>",
                                                    "alex@rivera.example", YESTERDAY, "j1@acme.example"))
    check_keep_in_touch(root)
    assert len(drafts_of(dovecot_server, imap_user)) == 1


def test_imap_lists_and_own_mail_are_no_interactions(tmp_path: Path, dovecot_server: Dovecot,
                                                     imap_user: str) -> None:
    """A newsletter from Jane's address (List-Id) and a note to ourselves: both still get their
    keep-in-touch note; nothing is kept of them."""
    root = watching(imap_folder(tmp_path, dovecot_server, imap_user, contacts=PEOPLE,
                                campaigns=KEEP))
    dovecot_server.deliver(imap_user, "INBOX", mail("jane-doe@acme.example", "alex@rivera.example",
                                                    YESTERDAY, "l1@acme.example",
                                                    "List-Id: <news.acme.example>"))
    dovecot_server.deliver(imap_user, "Sent", mail("alex@rivera.example", "alex@rivera.example",
                                                   YESTERDAY, "o1@rivera.example",
                                                   "Cc: bob-roe@acme.example"), flags="\\Seen")
    code, _, err = invoke(root, "run", "--date", "2026-12-01")
    assert (code, err) == (0, "")
    assert drafted_keys(root) == ["keep-in-touch/jane-doe/2026-11-15"]  # Bob was cc'd: a touch
    assert seen_rows(root) == [("bob-roe", "2026-11-30", "mailbox", "email to Bob", 0)]


def test_imap_a_reply_in_a_sequence_stops_it(tmp_path: Path, dovecot_server: Dovecot,
                                             imap_user: str) -> None:
    """Both got note 1 on 22 Nov; Jane answered it (In-Reply-To its Message-ID) on 24 Nov: on
    26 Nov only Bob gets note 2 (no hold here: the reply alone stops it)."""
    root = watching(imap_folder(tmp_path, dovecot_server, imap_user, contacts=BIRTHDAYS,
                                campaigns=INTRO), hold_days=0)
    assert invoke(root, "run", "--date", "2026-11-22")[0] == 0
    with sqlite3.connect(root / ".outreach" / "state.db") as db:
        (first,) = db.execute("SELECT message_id FROM touches WHERE contact = 'jane-doe'").fetchone()
    dovecot_server.deliver(imap_user, "INBOX", mail(
        "jane-doe@acme.example", "alex@rivera.example", "Tue, 24 Nov 2026 10:00:00 -0600",
        "r1@acme.example", f"In-Reply-To: {first}", f"References: {first}"))
    code, _, err = invoke(root, "run", "--date", "2026-11-26")
    assert (code, err) == (0, "")
    assert drafted_keys(root) == ["intro/bob-roe/2026", "intro/bob-roe/2026/step-2",
                                  "intro/jane-doe/2026"]
    assert len(drafts_of(dovecot_server, imap_user)) == 3
    with sqlite3.connect(root / ".outreach" / "state.db") as db:
        ids = dict(db.execute("SELECT key, message_id FROM touches WHERE contact = 'bob-roe'"))
    step2 = [email.message_from_bytes(raw) for _, _, raw in dovecot_server.messages(imap_user, "Drafts")
             if f"Message-ID: {ids['intro/bob-roe/2026/step-2']}".encode() in raw]
    assert [(m["In-Reply-To"], m["References"]) for m in step2] == [
        (ids["intro/bob-roe/2026"], ids["intro/bob-roe/2026"])]  # note 2 answers note 1


def test_imap_strange_headers_are_read_or_left_out(tmp_path: Path, dovecot_server: Dovecot,
                                                   imap_user: str) -> None:
    """8-bit and encoded names, no Date, a Date in 2099, no From at all, a garbage Date: the night
    goes on; Jane's mail (dated in the future: the day the mailbox got it, at most tonight)
    resets her keep-in-touch, the rest is left out."""
    root = watching(imap_folder(tmp_path, dovecot_server, imap_user, contacts=PEOPLE,
                                campaigns=KEEP))
    for raw in (
        "From: J\u00f6rg <stranger@x.example>\r\nTo: alex@rivera.example\r\n\r\nx\r\n".encode(),
        b"From: =?utf-8?q?Jane_D=C3=B6e?= <jane-doe@acme.example>\r\nTo: alex@rivera.example\r\n"
        b"Date: Fri, 01 Jan 2099 00:00:00 +0000\r\nMessage-ID: <f1@acme.example>\r\n\r\nx\r\n",
        b"To: bob-roe@acme.example\r\nSubject: no sender\r\n\r\nx\r\n",
        b"From: bob-roe@acme.example\r\nDate: 32 Foo 20x6 99:99\r\nList-Id: <l.x>\r\n\r\nx\r\n",
    ):
        dovecot_server.deliver(imap_user, "INBOX", raw)
    code, _, err = invoke(root, "run", "--date", "2026-12-01")
    assert (code, err) == (0, "")
    assert drafted_keys(root) == ["keep-in-touch/bob-roe/2026-11-15"]
    assert seen_rows(root) == [("jane-doe", "2026-12-01", "mailbox", "email from Jane", 1)]


def test_a_dry_run_reads_the_mailbox_and_keeps_nothing(tmp_path: Path, dovecot_server: Dovecot,
                                                       imap_user: str) -> None:
    """run --dry-run sees Jane's mail as the run would (no note for her) and records nothing;
    with the dir store, mailbox.watch is said to read nothing."""
    root = watching(imap_folder(tmp_path, dovecot_server, imap_user, contacts=PEOPLE,
                                campaigns=KEEP))
    dovecot_server.deliver(imap_user, "INBOX", mail("jane-doe@acme.example", "alex@rivera.example",
                                                    YESTERDAY, "j1@acme.example"))
    code, out, err = invoke(root, "run", "--dry-run", "--date", "2026-12-01")
    assert (code, err) == (0, "")
    assert "would draft keep-in-touch/bob-roe/" in out and "jane-doe" not in out
    assert not (root / ".outreach" / "state.db").exists()
    code, out, err = invoke(root, "run", "--backend", "dir", "--date", "2026-12-01")
    assert code == 0 and "mailbox.watch is on, but the dir store reads no mailbox" in err


def test_imap_reads_only_what_came_since_the_last_run(tmp_path: Path, dovecot_server: Dovecot,
                                                      imap_user: str) -> None:
    """The first run reads lookback_days back; the next starts after the last UID it read, and
    finds a message that came in between; our sent draft is recorded sent."""
    root = watching(imap_folder(tmp_path, dovecot_server, imap_user, contacts=PEOPLE,
                                campaigns=KEEP), lookback_days=10)
    old = "Mon, 02 Nov 2026 09:00:00 -0600"  # 29 days back: before the lookback
    dovecot_server.deliver(imap_user, "INBOX", mail("jane-doe@acme.example", "alex@rivera.example",
                                                    old, "old@acme.example"),
                           when=dt.datetime(2026, 11, 2, 15, tzinfo=dt.UTC))
    assert invoke(root, "run", "--date", "2026-12-01")[0] == 0
    assert seen_rows(root) == []
    assert sorted(drafted_keys(root)) == ["keep-in-touch/bob-roe/2026-11-15",
                                          "keep-in-touch/jane-doe/2026-11-15"]
    with sqlite3.connect(root / ".outreach" / "state.db") as db:
        (sent_id,) = db.execute("SELECT message_id FROM touches WHERE contact = 'bob-roe'").fetchone()
        marks = dict(db.execute("SELECT folder, mark FROM mail_marks").fetchall())
    assert set(marks) == {"inbox", "sent"}
    dovecot_server.deliver(imap_user, "Sent", mail("alex@rivera.example", "bob-roe@acme.example",
                                                   "Wed, 02 Dec 2026 08:00:00 -0600",
                                                   sent_id.strip("<>")), flags="\\Seen")
    dovecot_server.deliver(imap_user, "INBOX", mail("jane-doe@acme.example", "alex@rivera.example",
                                                    "Wed, 02 Dec 2026 09:00:00 -0600", "new@acme.example"))
    assert invoke(root, "run", "--date", "2026-12-02")[0] == 0
    assert seen_rows(root) == [("bob-roe", "2026-12-02", "mailbox", "email to Bob", 0),
                               ("jane-doe", "2026-12-02", "mailbox", "email from Jane", 1)]
    with sqlite3.connect(root / ".outreach" / "state.db") as db:
        outcome = db.execute("SELECT outcome, outcome_on FROM touches WHERE contact = 'bob-roe'").fetchone()
    assert outcome == ("sent", "2026-12-02")


# --------------------------------------------------------------------------- gmail


@pytest.fixture
def gm() -> Iterator[GmailEmulator]:
    with GmailEmulator(email="alex@rivera.example") as emulator:
        emulator.scopes = {COMPOSE, READONLY}
        yield emulator


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gmail_store, "BACKOFF_CAP", 0.02)


def ms(day: str) -> int:
    return calendar.timegm(dt.datetime.fromisoformat(day).timetuple()) * 1000


def gmail_watching(tmp_path: Path, gm: GmailEmulator, contacts: list[Any],
                   campaigns: list[Any], **mailbox: Any) -> Path:
    root = gmail_folder(tmp_path, gm, campaigns=campaigns, reply_detection=False)
    (root / "contacts.yaml").write_text(yaml.safe_dump({"contacts": contacts}, sort_keys=False))
    (tmp_path / "token.json").write_text(json.dumps({
        "refresh_token": "r-1", "client_id": "c", "client_secret": "s",
        "scopes": [COMPOSE, READONLY]}))
    return watching(root, **mailbox)


def test_gmail_mail_from_a_contact_resets_keep_in_touch(tmp_path: Path, gm: GmailEmulator) -> None:
    """The same rule on the gmail store: Jane's message in the inbox yesterday."""
    root = gmail_watching(tmp_path, gm, PEOPLE, KEEP)
    gm.add_message(mail("Jane Doe <jane-doe@acme.example>", "alex@rivera.example", YESTERDAY,
                        "j1@acme.example"), when_ms=ms("2026-11-30T15:15:00"))
    check_keep_in_touch(root)
    assert len(gm.drafts_by_message_id()) == 1


def test_gmail_a_reply_in_a_sequence_stops_it(tmp_path: Path, gm: GmailEmulator) -> None:
    """Jane replies in the conversation of her note 1 (Gmail's thread): on 26 Nov only Bob gets
    note 2 (no hold here: the reply alone stops it)."""
    root = gmail_watching(tmp_path, gm, BIRTHDAYS, INTRO, hold_days=0)
    assert invoke(root, "run", "--date", "2026-11-22")[0] == 0
    with sqlite3.connect(root / ".outreach" / "state.db") as db:
        (ref,) = db.execute("SELECT ref FROM touches WHERE contact = 'jane-doe'").fetchone()
    thread = gm.drafts[ref]["message"]["threadId"]
    gm.send_draft(ref)
    gm.reply(thread, "jane-doe@acme.example", when_ms=ms("2026-11-24T16:00:00"))
    code, _, err = invoke(root, "run", "--date", "2026-11-26")
    assert (code, err) == (0, "")
    assert drafted_keys(root) == ["intro/bob-roe/2026", "intro/bob-roe/2026/step-2",
                                  "intro/jane-doe/2026"]
