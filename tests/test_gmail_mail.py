"""Mailbox awareness in the gmail store: ``read_mail`` reads the header blocks of the inbox and the
sent folder through the real google-api-python-client, against the emulator, with a token that
grants compose and read-only (what ``outreach auth gmail`` asks for with ``mailbox.watch``)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gmail_emulator import COMPOSE, METADATA, READONLY, GmailEmulator

from outreach import auth
from outreach.drafts import MAIL_FIELDS, Fetched, gmail_mail
from outreach.drafts import gmail as gmail_store
from outreach.drafts.gmail import GmailStore
from outreach.errors import AuthError
from outreach.model import GmailSettings

SINCE = dt.date(2026, 11, 1)
HOUR = 3600 * 1000


def ms(day: str, hour: int = 12) -> int:
    """``day`` at ``hour`` UTC, in ms since the epoch (Gmail's internalDate)."""
    when = dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


@pytest.fixture
def gm() -> Iterator[GmailEmulator]:
    with GmailEmulator(email="alex@rivera.example") as emulator:
        emulator.require_auth = True
        emulator.scopes = {COMPOSE, READONLY}
        yield emulator


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff waits milliseconds in these tests (the rules are the same)."""
    monkeypatch.setattr(gmail_store, "BACKOFF_CAP", 0.02)


def settings(tmp_path: Path, gm: GmailEmulator, scopes: list[str] | None = None,
             **extra: Any) -> GmailSettings:
    token = tmp_path / "token.json"
    info: dict[str, Any] = {"refresh_token": "r-1", "client_id": "c", "client_secret": "s",
                            "scopes": [COMPOSE, READONLY] if scopes is None else scopes}
    info.update(extra.pop("token", {}))
    token.write_text(json.dumps(info))
    os.chmod(token, 0o600)
    values: dict[str, Any] = {"api_root": gm.root_url, "token_uri": gm.token_uri,
                              "token_file": str(token), "timeout_seconds": 5, "batch_size": 10}
    return GmailSettings(**{**values, **extra})


def store(tmp_path: Path, gm: GmailEmulator, **extra: Any) -> GmailStore:
    return GmailStore(settings(tmp_path, gm, **extra), tmp_path, mailbox=True)


def mail(n: int, frm: str = "jo@acme.example", to: str = "alex@rivera.example",
         extra: str = "") -> bytes:
    lines = [f"From: {frm}", f"To: {to}", "Cc: cc@acme.example", "Subject: hello",
             "Date: Tue, 10 Nov 2026 12:00:00 +0000", f"Message-ID: <m{n}@acme.example>",
             "In-Reply-To: <p@rivera.example>", "References: <o@rivera.example> <p@rivera.example>",
             *([extra] if extra else []), "MIME-Version: 1.0",
             'Content-Type: text/plain; charset="utf-8"', "", f"SECRET BODY {n}", ""]
    return "\r\n".join(lines).encode()


def ids(fetched: list[Fetched], folder: str | None = None) -> set[str]:
    out = set()
    for f in fetched:
        if folder is None or f.folder == folder:
            msg = email.message_from_bytes(f.headers, policy=email.policy.default)
            out.add(str(msg["Message-ID"]))
    return out


def test_the_first_read_returns_inbox_and_sent_headers_since_the_day_never_a_body(
    tmp_path: Path, gm: GmailEmulator
) -> None:
    """Without marks: the inbox and the sent folder since the start of ``since`` (UTC), each
    message its header block of MAIL_FIELDS as "Name: value\\r\\n" lines, its internalDate as an
    aware UTC datetime and its threadId; nothing older; never a body; a mark per folder."""
    s = store(tmp_path, gm)
    assert s.capabilities.mailbox
    _, thread = gm.add_message(mail(1), when_ms=ms("2026-11-10"))
    gm.add_message(mail(2, "alex@rivera.example", "jo@acme.example"), label_ids=("SENT",),
                   when_ms=ms("2026-11-12"))
    gm.add_message(mail(3), when_ms=ms("2026-10-31", 23))  # the day before: not read
    gm.add_message(mail(4), when_ms=ms("2026-11-01", 0))  # the first instant of the day
    read = s.read_mail({}, SINCE)
    assert ids(read.messages, "inbox") == {"<m1@acme.example>", "<m4@acme.example>"}
    assert ids(read.messages, "sent") == {"<m2@acme.example>"}
    first = next(f for f in read.messages if b"<m1@" in f.headers)
    assert first.received == dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC)
    assert first.thread_id == thread
    lines = first.headers.split(b"\r\n")
    assert lines[-1] == b"" and all(b": " in line for line in lines[:-1])
    names = [line.split(b":")[0].decode() for line in lines[:-1]]
    assert names == ["From", "To", "Cc", "Date", "Message-ID", "In-Reply-To", "References"]
    assert b"References: <o@rivera.example> <p@rivera.example>\r\n" in first.headers
    assert all(b"SECRET BODY" not in f.headers and b"Subject" not in f.headers
               for f in read.messages)
    assert read.marks == {"inbox": str(ms("2026-11-10")), "sent": str(ms("2026-11-12"))}
    gets = [r for r in gm.request_log if r["api"] == "messages.get"]
    assert gets and all(r["query"]["format"] == ["metadata"] for r in gets)
    assert all(sorted(r["query"]["metadataHeaders"]) == sorted(MAIL_FIELDS) for r in gets)
    lists = [r for r in gm.request_log if r["api"] == "messages.list"]
    assert sorted(r["query"]["labelIds"][0] for r in lists) == ["INBOX", "SENT"]
    assert all("q" not in r["query"] for r in lists)


def test_a_second_read_from_the_marks_returns_only_what_came_after(
    tmp_path: Path, gm: GmailEmulator
) -> None:
    """With the marks of the last read: what came after them, and what Gmail filed up to 6 hours
    behind a mark (the margin); a message far older than the mark is not read again."""
    s = store(tmp_path, gm)
    gm.add_message(mail(1), when_ms=ms("2026-11-05"))
    gm.add_message(mail(2), when_ms=ms("2026-11-10"))
    gm.add_message(mail(3, "alex@rivera.example"), label_ids=("SENT",), when_ms=ms("2026-11-06"))
    first = s.read_mail({}, SINCE)
    assert len(first.messages) == 3
    gm.add_message(mail(4), when_ms=ms("2026-11-13"))
    gm.add_message(mail(5), when_ms=ms("2026-11-10") - HOUR)  # filed late, inside the margin
    gm.add_message(mail(6), when_ms=ms("2026-11-10") - 7 * HOUR)  # outside it
    gm.add_message(mail(7, "alex@rivera.example"), label_ids=("SENT",), when_ms=ms("2026-11-14"))
    second = s.read_mail(first.marks, SINCE)
    # m2 and m3 are the marks themselves: inside the margin, they come again (the reader keeps
    # a message once); m1 and m6, more than 6 hours older, do not
    assert ids(second.messages, "inbox") == {"<m2@acme.example>", "<m4@acme.example>",
                                             "<m5@acme.example>"}
    assert ids(second.messages, "sent") == {"<m3@acme.example>", "<m7@acme.example>"}
    assert second.marks == {"inbox": str(ms("2026-11-13")), "sent": str(ms("2026-11-14"))}
    third = s.read_mail(second.marks, SINCE)
    assert ids(third.messages) == {"<m4@acme.example>", "<m7@acme.example>"}
    assert third.marks == second.marks  # nothing newer: the old marks


def test_drafts_are_not_returned(tmp_path: Path, gm: GmailEmulator) -> None:
    """A draft is no mail exchanged: a message labelled DRAFT is left out, whatever else it is
    labelled; the store's own drafts are not read."""
    s = store(tmp_path, gm)
    _, thread = gm.add_message(mail(1), when_ms=ms("2026-11-10"))
    gm.add_message(mail(2), label_ids=("DRAFT", "INBOX"), when_ms=ms("2026-11-11"))
    gm.add_message(mail(3), label_ids=("DRAFT", "SENT"), when_ms=ms("2026-11-11"))
    gm.add_message(mail(4), thread_id=thread, label_ids=("DRAFT",), when_ms=ms("2026-11-11"))
    read = s.read_mail({}, SINCE)
    assert ids(read.messages) == {"<m1@acme.example>"}


def test_pages_are_followed_back_to_the_day(
    tmp_path: Path, gm: GmailEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """messages.list pages (3 a page here) are followed while the messages are new enough; the
    read stops going back at the batch that reaches past the day, not at the folder's end."""
    monkeypatch.setattr(gmail_mail, "PAGE_SIZE", 3)
    s = store(tmp_path, gm, batch_size=3)
    for n in range(10):
        gm.add_message(mail(n), when_ms=ms("2026-11-20") - n * 24 * HOUR)  # Nov 20, 19, ... 11
    for n in range(10, 40):
        gm.add_message(mail(n), when_ms=ms("2026-10-20") - n * HOUR)  # before the day
    read = s.read_mail({}, SINCE)
    assert ids(read.messages) == {f"<m{n}@acme.example>" for n in range(10)}
    # 10 new ones: 4 pages of the inbox (the 4th reaches past the day) and one of sent
    assert gm.calls("messages.list") == 5
    assert gm.calls("messages.get") == 12  # 4 batches of 3; not the 30 old ones


def test_mail_max_caps_a_folder_to_its_newest(
    tmp_path: Path, gm: GmailEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most MAIL_MAX messages of a folder in one read: the newest; the mark is the newest."""
    monkeypatch.setattr(gmail_mail, "MAIL_MAX", 4)
    s = store(tmp_path, gm)
    for n in range(9):  # added oldest last: the listing goes by internalDate, not by arrival
        gm.add_message(mail(n), when_ms=ms("2026-11-20") - n * HOUR)
    read = s.read_mail({}, SINCE)
    assert ids(read.messages) == {f"<m{n}@acme.example>" for n in range(4)}
    assert read.marks["inbox"] == str(ms("2026-11-20"))


def test_a_token_without_the_read_only_scope_stops_the_night(
    tmp_path: Path, gm: GmailEmulator
) -> None:
    """mailbox.watch with a token whose grant lacks gmail.readonly: AuthError (exit code 5) naming
    the scope, before anything is read."""
    with pytest.raises(AuthError) as caught:
        store(tmp_path, gm, scopes=[COMPOSE])
    assert caught.value.exit_code == 5
    assert auth.SCOPE_READONLY in caught.value.message
    assert "mailbox.watch" in caught.value.message
    assert "outreach auth gmail" in caught.value.hint
    store(tmp_path, gm, scopes=[COMPOSE, READONLY]).read_mail({}, SINCE)
    GmailStore(settings(tmp_path, gm, scopes=[COMPOSE]), tmp_path)  # watch off: compose is enough


def test_gmail_refusing_the_scope_stops_the_night(tmp_path: Path, gm: GmailEmulator) -> None:
    """When Gmail itself refuses the read (403 insufficientPermissions: the consent left the
    scope out although the token file lists it), AuthError (exit code 5) says to run
    'outreach auth gmail' again for the gmail.readonly scope."""
    gm.scopes = {COMPOSE}
    form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": "r-1",
                                   "client_id": "c", "client_secret": "s"}).encode()
    with urllib.request.urlopen(gm.token_uri, form) as answer:  # an access token for compose only
        access = json.loads(answer.read())["access_token"]
    s = store(tmp_path, gm, token={"token": access, "expiry": "2999-01-01T00:00:00Z"})
    gm.add_message(mail(1), when_ms=ms("2026-11-10"))
    with pytest.raises(AuthError) as caught:
        s.read_mail({}, SINCE)
    assert caught.value.exit_code == 5
    assert "insufficientPermissions" in caught.value.message
    assert "outreach auth gmail" in caught.value.hint and "gmail.readonly" in caught.value.hint


def test_a_token_with_the_metadata_scope_is_refused(tmp_path: Path, gm: GmailEmulator) -> None:
    """gmail.metadata reads headers only, but a token holding it cannot search: Gmail refuses
    drafts.list q=rfc822msgid:, the look-up that keeps each draft made once. Such a token stops
    the night at once (exit 5) with the fix, whatever else it grants."""
    from gmail_emulator import build_service

    gm.scopes = {COMPOSE, METADATA}
    form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": "r-1",
                                   "client_id": "c", "client_secret": "s"}).encode()
    with urllib.request.urlopen(gm.token_uri, form) as answer:
        access = json.loads(answer.read())["access_token"]
    from google.oauth2.credentials import Credentials
    from googleapiclient.errors import HttpError

    service = build_service(gm, Credentials(access))
    with pytest.raises(HttpError, match="Metadata scope does not support 'q'"):
        service.users().drafts().list(userId="me", q="rfc822msgid:<a@b>").execute()
    for granted in ([COMPOSE, METADATA], [COMPOSE, READONLY, METADATA]):
        with pytest.raises(AuthError) as caught:
            store(tmp_path, gm, scopes=granted)
        assert caught.value.exit_code == 5
        assert "gmail.metadata" in caught.value.message and "searches" in caught.value.message


def test_scopes_are_the_narrowest_that_work(tmp_path: Path, gm: GmailEmulator) -> None:
    """Compose only by default; compose and read-only with mailbox.watch or reply detection
    (never metadata: a token holding it cannot search drafts by Message-ID)."""
    plain = settings(tmp_path, gm)
    replies = settings(tmp_path, gm, reply_detection=True)
    assert auth.scopes(plain) == [COMPOSE]
    assert auth.scopes(plain, watch=True) == [COMPOSE, READONLY]
    assert auth.scopes(replies) == [COMPOSE, READONLY]
    assert auth.scopes(replies, watch=True) == [COMPOSE, READONLY]


def test_the_quota_is_spent_as_google_counts_it(tmp_path: Path, gm: GmailEmulator) -> None:
    """5 units a list page and 5 a get, each part of a batch too; the store's own count is
    Gmail's; gets go in batches of at most gmail.batch_size."""
    s = store(tmp_path, gm, batch_size=4)
    for n in range(9):
        gm.add_message(mail(n), when_ms=ms("2026-11-10") + n * HOUR)
    gm.add_message(mail(9, "alex@rivera.example"), label_ids=("SENT",), when_ms=ms("2026-11-11"))
    before = gm.units_used
    read = s.read_mail({}, SINCE)
    assert len(read.messages) == 10
    lists, gets = gm.calls("messages.list"), gm.calls("messages.get")
    assert (lists, gets) == (2, 10)
    assert gm.units_used - before == 5 * lists + 5 * gets
    assert sum(units for _, units in s.pacer.log) == 5 * lists + 5 * gets
    assert gm.calls("batch") == 2  # inbox 4 + 4 + 1 (a single get goes alone), sent 1 alone


def test_a_5xx_on_a_get_inside_a_batch_is_retried(tmp_path: Path, gm: GmailEmulator) -> None:
    """A 503 for one get of a batch: that get is retried after a backoff; nothing is lost."""
    s = store(tmp_path, gm)
    for n in range(5):
        gm.add_message(mail(n), when_ms=ms("2026-11-10") + n * HOUR)
    gm.fail_next(503, method="messages.get")
    read = s.read_mail({}, SINCE)
    assert ids(read.messages) == {f"<m{n}@acme.example>" for n in range(5)}
    assert gm.faults_injected == [("messages.get", "503")]
    assert s.retries == 1
    assert gm.calls("messages.get") == 6


def test_a_message_gone_before_its_get_is_skipped(tmp_path: Path, gm: GmailEmulator) -> None:
    """A message listed and deleted before it is fetched (404) is left out; the rest is read."""
    s = store(tmp_path, gm)
    victims = [gm.add_message(mail(n), when_ms=ms("2026-11-10") + n * HOUR)[0] for n in range(3)]

    def delete_first(method: str, path: str) -> None:
        if path == "/batch" and victims:
            gm.delete_message(victims.pop(0))

    gm.on_request = delete_first
    read = s.read_mail({}, SINCE)
    assert ids(read.messages) == {"<m1@acme.example>", "<m2@acme.example>"}


def test_8bit_and_encoded_word_headers_come_through_intact(
    tmp_path: Path, gm: GmailEmulator
) -> None:
    """An encoded-word From and an 8-bit UTF-8 To come as UTF-8 bytes of what Gmail gives (the
    text, decoded): the names and the addresses read back as they were written."""
    s = store(tmp_path, gm)
    raw = mail(1, "=?utf-8?q?J=C3=B6rg?= <jorg@x.example>", "Zoë Ça <zoe@y.example>")
    assert "Zoë".encode() in raw  # 8-bit, as mail() writes it
    gm.add_message(raw, when_ms=ms("2026-11-10"))
    (fetched,) = s.read_mail({}, SINCE).messages
    assert "From: Jörg <jorg@x.example>\r\n".encode() in fetched.headers
    assert "To: Zoë Ça <zoe@y.example>\r\n".encode() in fetched.headers
    msg = email.message_from_string(fetched.headers.decode("utf-8"), policy=email.policy.default)
    assert (msg["From"].addresses[0].display_name, msg["From"].addresses[0].addr_spec) == (
        "Jörg", "jorg@x.example")
    assert msg["To"].addresses[0].addr_spec == "zoe@y.example"


def test_a_header_block_is_one_line_a_field_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """CR and LF inside a value become spaces (one field, one line); fields not asked for are left
    out; at most MAIL_HEADER_MAX bytes are kept (a line that does not fit is left out)."""
    message = {"threadId": "t1", "internalDate": str(ms("2026-11-10")), "payload": {"headers": [
        {"name": "From", "value": "a@x.example\r\nBcc: evil@x.example"},
        {"name": "Subject", "value": "not read"},
        {"name": "References", "value": "<" + "r" * 200 + "@x>"},
        {"name": "Message-ID", "value": "<m@x>"},
    ]}}
    fetched = gmail_mail._fetched("inbox", message, ms("2026-11-10"))
    assert fetched.headers.split(b"\r\n")[0] == b"From: a@x.example  Bcc: evil@x.example"
    assert b"Subject" not in fetched.headers
    monkeypatch.setattr(gmail_mail, "MAIL_HEADER_MAX", 100)
    small = gmail_mail._fetched("inbox", message, ms("2026-11-10"))
    assert small.headers == b"From: a@x.example  Bcc: evil@x.example\r\nMessage-ID: <m@x>\r\n"


@pytest.mark.parametrize(("watch", "wanted"), [(False, [COMPOSE]), (True, [COMPOSE, READONLY])])
def test_auth_gmail_asks_for_read_only_only_with_watch(
    tmp_path: Path, gm: GmailEmulator, monkeypatch: pytest.MonkeyPatch, watch: bool,
    wanted: list[str]
) -> None:
    """`outreach auth gmail` asks for the read-only scope when mailbox.watch is on, never else."""
    from click.testing import CliRunner
    from factories import campaign_data, contact_data, write_folder
    from google_auth_oauthlib.flow import InstalledAppFlow

    from outreach.cli import main

    asked: list[list[str]] = []

    def flow(path: str, scopes: list[str]) -> Any:
        asked.append(list(scopes))
        raise SystemExit(0)  # no consent in a test: the scopes asked for are the point

    monkeypatch.setattr(InstalledAppFlow, "from_client_secrets_file", staticmethod(flow))
    root = write_folder(tmp_path / "book", [contact_data()], [campaign_data()],
                        gmail={"api_root": gm.root_url}, mailbox={"watch": watch})
    (root / "client_secret.json").write_text(json.dumps({"installed": {
        "client_id": "c", "client_secret": "s", "auth_uri": gm.root_url + "auth",
        "token_uri": gm.token_uri, "redirect_uris": ["http://localhost"]}}))
    CliRunner().invoke(main, ["-C", str(root), "auth", "gmail", "--no-browser"])
    assert asked == [wanted]
