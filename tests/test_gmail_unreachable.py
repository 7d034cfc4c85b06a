"""The mailbox unreachable at night: nothing listening, a token endpoint refusing or dropping
connections, an address that accepts and never answers, the mailbox going silent part-way. Each
night ends within a minute with one line and exit code 1, records nothing as drafted that was not
made, and the next night (the mailbox back) makes every draft exactly once. A revoked token still
ends in seconds with exit code 5.

The nights run as cron runs them: `outreach run --backend gmail` in its own process, with the real
timeouts and backoff (no fast-backoff fixture here)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import campaign_data, contact_data, write_folder
from gmail_emulator import COMPOSE, GmailEmulator

from outreach.cli import main
from outreach.drafts.gmail_http import Breaker
from outreach.ledger import Ledger, RunLock

DATE = "2026-11-22"
LINE = re.compile(
    r"cannot reach (?P<what>.+) \((?P<why>[^,]+), (?P<tries>\d+) attempts in (?P<seconds>\d+) s\); "
    r"nothing was lost; the next run retries"
)


@pytest.fixture
def gm() -> Iterator[GmailEmulator]:
    """The mailbox (the Gmail API)."""
    with GmailEmulator(email="alex@rivera.example") as emulator:
        yield emulator


@pytest.fixture
def oauth() -> Iterator[GmailEmulator]:
    """Google's token endpoint: another host than the API, as oauth2.googleapis.com is."""
    with GmailEmulator() as emulator:
        yield emulator


def book(tmp_path: Path, api_root: str, token_uri: str, n: int = 20, *, token: str | None = None,
         **gmail: Any) -> Path:
    """A folder with n birthday notes due; only what a user would write in outreach.yaml (no
    timeout unless the test says so). Without `token`, the stored access token has expired."""
    info: dict[str, Any] = {"refresh_token": "r-1", "client_id": "c", "client_secret": "s",
                            "scopes": [COMPOSE]}
    if token:
        info |= {"token": token, "expiry": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
                 .replace(tzinfo=None).isoformat() + "Z"}
    path = tmp_path / "token.json"
    path.write_text(json.dumps(info))
    os.chmod(path, 0o600)
    contacts = [contact_data(f"p{i:03d}-doe", dates={"birthday": "--11-22"}) for i in range(n)]
    settings = {"api_root": api_root, "token_uri": token_uri, "token_file": str(path), **gmail}
    return write_folder(tmp_path / "book", contacts, [campaign_data()], gmail=settings,
                        limits={"nightly_cap": 500})


def night(root: Path, *args: str) -> tuple[int, str, str, float]:
    """`outreach run --backend gmail` as cron starts it: exit code, stdout, stderr, seconds."""
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "outreach", "-C", str(root), "run", "--backend",
                           "gmail", "--date", DATE, *args], capture_output=True, text=True, timeout=240)
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


def ledger_rows(root: Path) -> dict[str, tuple[str, str | None]]:
    """key -> (status, Message-ID); empty when the night stopped before the ledger was opened."""
    if not (root / ".outreach" / "state.db").exists():
        return {}
    ledger = Ledger.open(root / ".outreach" / "state.db")
    try:
        return {r.key: (r.status, r.message_id) for r in ledger.rows()}
    finally:
        ledger.close()


def assert_stopped(root: Path, gm: GmailEmulator, result: tuple[int, str, str, float], what: str,
                   why: str) -> re.Match[str]:
    """The night ended as it must when the mailbox cannot be reached: exit code 1, quiet stdout,
    exactly one line naming what could not be reached, within a minute, no crash log; the ledger
    records as drafted only drafts that exist, the rest stays pending; the run lock is free."""
    code, out, err, seconds = result
    assert code == 1, err
    assert out == ""
    assert len(err.splitlines()) == 1, err
    m = LINE.fullmatch(err.rstrip("\n"))
    assert m is not None, err
    assert (m["what"], m["why"]) == (what, why), err
    assert seconds < 60
    assert not (root / ".outreach" / "crash.log").exists()
    made = gm.drafts_by_message_id()
    rows = ledger_rows(root)
    assert all(mid in made for status, mid in rows.values() if status == "drafted")
    assert {status for status, _ in rows.values()} <= {"drafted", "pending"}
    lock = RunLock(root / ".outreach" / "run.lock")
    lock.acquire()
    lock.release()
    return m


def assert_next_night_makes_each_draft_once(root: Path, gm: GmailEmulator, n: int) -> None:
    code, _, err, _ = night(root)
    assert (code, err) == (0, "")
    by_id = gm.drafts_by_message_id()
    assert len(by_id) == n
    assert all(len(ids) == 1 for ids in by_id.values())
    rows = ledger_rows(root)
    assert sorted(mid for _, mid in rows.values()) == sorted(by_id)
    assert {status for status, _ in rows.values()} == {"drafted"}


def test_nothing_listening_at_the_api_root_ends_the_night_in_seconds(
        tmp_path: Path, gm: GmailEmulator, oauth: GmailEmulator) -> None:
    """Connections to the API are refused (the token endpoint answers): after three refused
    requests the night stops with one line naming Gmail's address, exit code 1, in seconds, with
    nothing drafted; the next night, the mailbox back at the same address, makes each draft once."""
    root = book(tmp_path, gm.root_url, oauth.token_uri)
    gm.go_down("refused")
    m = assert_stopped(root, gm, night(root), f"Gmail at {gm.root_url[7:-1]}", "connection refused")
    assert m["tries"] == "3"
    assert [s for s, _ in ledger_rows(root).values()] == ["pending"] * 20  # the first batch
    gm.come_back()
    assert_next_night_makes_each_draft_once(root, gm, 20)


@pytest.mark.waits
def test_the_run_lock_is_released_in_the_same_process(
        tmp_path: Path, gm: GmailEmulator, oauth: GmailEmulator) -> None:
    """Run in-process (as a wrapper calling the CLI would): the unreachable night raises no
    traceback, prints one line, exits 1 and releases the run lock, so a second run in the same
    process is not told another run is in progress."""
    root = book(tmp_path, gm.root_url, oauth.token_uri, 3)
    gm.go_down("refused")
    for _ in range(2):
        result = CliRunner().invoke(main, ["-C", str(root), "run", "--backend", "gmail",
                                           "--date", DATE])
        assert isinstance(result.exception, SystemExit)
        assert result.exit_code == 1
        assert len(result.stderr.splitlines()) == 1
        assert LINE.fullmatch(result.stderr.rstrip("\n")), result.stderr
    gm.come_back()
    assert_next_night_makes_each_draft_once(root, gm, 3)


def test_a_token_endpoint_refusing_connections_ends_the_night(
        tmp_path: Path, gm: GmailEmulator, oauth: GmailEmulator) -> None:
    """The stored access token has expired and the token endpoint refuses connections: the
    refresh is tried three times, then one line names the token endpoint, exit code 1, before
    anything is recorded; with the endpoint back, the next night makes each draft once."""
    root = book(tmp_path, gm.root_url, oauth.token_uri)
    oauth.go_down("refused")
    assert_stopped(root, gm, night(root), f"the OAuth token endpoint at {oauth.root_url[7:-1]}",
                   "connection refused")
    assert ledger_rows(root) == {}
    assert gm.requests == []  # no request reached Gmail without a token
    oauth.come_back()
    assert_next_night_makes_each_draft_once(root, gm, 20)


@pytest.mark.waits
@pytest.mark.parametrize(("down", "why"), [("lost", "connection reset"), ("silent", "no answer")])
def test_a_refresh_inside_a_batch_that_cannot_connect_ends_the_night(
        tmp_path: Path, gm: GmailEmulator, down: str, why: str) -> None:
    """The access token looks valid but Gmail answers 401, and the token endpoint (here on the
    same host as the API, as behind a proxy) drops every connection or never answers.
    googleapiclient's own refresh inside the batch (which would use an httplib2.Http without a
    timeout, and hang on the silent endpoint for ever) and the refreshes before each lookup all go
    through the guarded transport; Gmail's 401 answers do not hide that the token endpoint never
    answers: one line, exit 1."""
    gm.require_auth = True
    gm.token_down = down
    root = book(tmp_path, gm.root_url, gm.token_uri, token="ya29.stale", timeout_seconds=3)
    assert_stopped(root, gm, night(root), f"the OAuth token endpoint at {gm.root_url[7:-1]}", why)
    assert gm.request_log[0]["api"] == "batch"  # the first refresh was the one inside the batch
    assert gm.drafts == {}
    gm.token_down = None
    assert_next_night_makes_each_draft_once(root, gm, 20)


@pytest.mark.waits
def test_an_address_that_accepts_and_never_answers_ends_the_night(
        tmp_path: Path, gm: GmailEmulator, oauth: GmailEmulator) -> None:
    """A black hole: connections are accepted, requests read, nothing ever answered. With
    timeout_seconds: 3 the night stops after three unanswered requests, one line, exit 1, well
    within a minute; the next night makes each draft once."""
    root = book(tmp_path, gm.root_url, oauth.token_uri, timeout_seconds=3)
    gm.go_down("silent")
    result = night(root)
    assert_stopped(root, gm, result, f"Gmail at {gm.root_url[7:-1]}", "no answer")
    assert result[3] < 30
    assert gm.unanswered == 3
    gm.come_back()
    assert_next_night_makes_each_draft_once(root, gm, 20)


@pytest.mark.slow
@pytest.mark.waits
def test_a_black_hole_with_default_timeouts_ends_within_a_minute(
        tmp_path: Path, gm: GmailEmulator, oauth: GmailEmulator) -> None:
    """The same black hole with nothing tuned (timeout_seconds 30): the first batch waits its 30 s,
    the Message-ID lookup that follows gets 5 s, and the night stops after those two: one line,
    exit code 1, within a minute."""
    root = book(tmp_path, gm.root_url, oauth.token_uri)
    gm.go_down("silent")
    m = assert_stopped(root, gm, night(root), f"Gmail at {gm.root_url[7:-1]}", "no answer")
    assert m["tries"] == "2"
    gm.come_back()
    assert_next_night_makes_each_draft_once(root, gm, 20)


@pytest.mark.waits
def test_the_mailbox_going_silent_part_way_loses_nothing(
        tmp_path: Path, gm: GmailEmulator, oauth: GmailEmulator) -> None:
    """Thirty notes in batches of ten: the first batch is answered; the second is carried out but
    its reply is lost, and from then on the mailbox never answers. The night stops with one line
    and exit 1; the ledger records the first ten as drafted and keeps the second ten pending
    (their drafts exist, unconfirmed). The next night finds those ten by Message-ID instead of
    creating them again, makes the last ten, and every touch has exactly one draft."""
    batches = 0

    def outage(method: str, path: str) -> None:
        nonlocal batches
        if path.startswith("/batch"):
            batches += 1
            if batches == 2:
                gm.fail_next("lost", method="batch")
                gm.go_down("silent")

    gm.on_request = outage
    root = book(tmp_path, gm.root_url, oauth.token_uri, 30, batch_size=10, timeout_seconds=2)
    assert_stopped(root, gm, night(root), f"Gmail at {gm.root_url[7:-1]}", "no answer")
    rows = ledger_rows(root)
    assert len(gm.drafts_by_message_id()) == 20
    assert sorted(s for s, _ in rows.values()) == ["drafted"] * 10 + ["pending"] * 10
    assert {mid for s, mid in rows.values() if s == "pending"} <= set(gm.drafts_by_message_id())
    gm.on_request = None
    gm.come_back()
    code, out, _, _ = night(root, "-v")
    assert code == 0
    assert sum(1 for line in out.splitlines() if line.startswith("recovered ")) == 10
    assert_next_night_makes_each_draft_once(root, gm, 30)


def test_a_revoked_token_still_ends_in_seconds_with_exit_5(tmp_path: Path, gm: GmailEmulator) -> None:
    """Gmail answers 401 and the token endpoint answers invalid_grant: that is an answer, not an
    unreachable mailbox. One line naming `outreach auth gmail`, exit code 5, within seconds, no
    draft; after the user authorizes again, the next night makes each draft once."""
    gm.require_auth = True
    root = book(tmp_path, gm.root_url, gm.token_uri, token="ya29.stale")
    gm.revoke()
    code, out, err, seconds = night(root)
    assert code == 5
    assert out == ""
    assert err.splitlines() == [
        "Gmail refused the stored token (invalid_grant: expired or revoked); run 'outreach auth "
        "gmail'; if this happens every 7 days, your OAuth app is still in 'Testing' on Google's "
        "consent screen: publish it (or make it Internal in Google Workspace), then run "
        "'outreach auth gmail'"]
    assert seconds < 15
    assert gm.drafts == {}
    assert all(s != "drafted" for s, _ in ledger_rows(root).values())
    gm.reauthorize()
    assert_next_night_makes_each_draft_once(root, gm, 20)


def test_http_errors_are_not_an_unreachable_mailbox() -> None:
    """The rule itself: three requests in a row without an answer stop the night, or two when
    they took 20 s or more; any HTTP answer (a 503 too) starts the count again; Gmail and the
    token endpoint are counted apart; a host that has just failed gets 5 s for the next
    request; once stopped, every further request stops at once with the same line."""
    import socket

    from outreach.errors import MailboxUnreachable

    now = [0.0]
    breaker = Breaker(30.0, clock=lambda: now[0])
    api, token = "Gmail at gmail.googleapis.com", "the OAuth token endpoint at oauth2.googleapis.com"
    dns = socket.gaierror(-2, "Name or service not known")
    assert breaker.timeout_for(api) == 30.0
    assert not breaker.failed(api, dns, 0.0)
    assert breaker.timeout_for(api) == 5.0
    assert not breaker.failed(api, dns, 0.0)
    breaker.answered(api)  # e.g. a 503: the retries of HTTP errors go on as before
    assert breaker.timeout_for(api) == 30.0
    assert not breaker.failed(api, dns, 0.0)
    assert not breaker.failed(token, dns, 0.0)
    assert not breaker.failed(api, dns, 0.0)
    assert not breaker.failed(token, dns, 0.0)
    assert breaker.failed(api, dns, 0.0)
    assert breaker.tripped == f"cannot reach {api} (DNS lookup failed, 3 attempts in 0 s)"
    with pytest.raises(MailboxUnreachable):
        breaker.timeout_for(token)

    slow = Breaker(30.0, clock=lambda: now[0])
    now[0] = 30.0
    assert not slow.failed(api, TimeoutError("timed out"), 0.0)
    now[0] = 36.0
    assert slow.failed(api, TimeoutError("timed out"), 31.0)
    assert slow.tripped == f"cannot reach {api} (no answer, 2 attempts in 36 s)"
