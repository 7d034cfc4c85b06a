"""The gmail store against the emulator, through the real google-api-python-client: exactly once
under faults, lost replies and crashes; pacing; threads; replies; a dead token."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import campaign_data, contact_data, write_folder
from gmail_emulator import COMPOSE, READONLY, GmailEmulator

from outreach.cli import main
from outreach.drafts import gmail as gmail_store
from outreach.ledger import Ledger

DATE = "2026-11-22"
D = dt.date.fromisoformat


@pytest.fixture
def gm() -> Iterator[GmailEmulator]:
    with GmailEmulator(email="alex@rivera.example") as emulator:
        emulator.slow_seconds = 3.0
        yield emulator


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff waits milliseconds in these tests (the rules are the same)."""
    monkeypatch.setattr(gmail_store, "BACKOFF_CAP", 0.02)


def token_file(path: Path, scopes: list[str] | None = None) -> Path:
    path.write_text(json.dumps({"refresh_token": "r-1", "client_id": "c", "client_secret": "s",
                                "scopes": scopes or [COMPOSE]}))
    os.chmod(path, 0o600)
    return path


def gmail_folder(tmp_path: Path, gm: GmailEmulator, n: int = 20, *, campaigns: list[Any] | None = None,
                 reply_detection: bool = False, **gmail: Any) -> Path:
    contacts = [contact_data(f"p{i:03d}-doe", dates={"birthday": "--11-22"}) for i in range(n)]
    scopes = [COMPOSE, READONLY] if reply_detection else [COMPOSE]
    settings = {"api_root": gm.root_url, "token_uri": gm.token_uri, "timeout_seconds": 2,
                "batch_size": 10, "reply_detection": reply_detection,
                "token_file": str(token_file(tmp_path / "token.json", scopes)), **gmail}
    return write_folder(tmp_path / "book", contacts, campaigns or [campaign_data()],
                        drafts={"backend": "gmail"}, gmail=settings, limits={"nightly_cap": 500})


def run(root: Path, day: str = DATE, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", day, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_exactly_once(gm: GmailEmulator, expected: int) -> None:
    by_id = gm.drafts_by_message_id()
    assert all(len(ids) == 1 for ids in by_id.values()), {k: v for k, v in by_id.items() if len(v) > 1}
    assert len(by_id) == expected


def test_a_clean_run_creates_each_draft_once(tmp_path: Path, gm: GmailEmulator) -> None:
    """Twenty touches: twenty drafts, each with its own Message-ID, in batches of at most ten;
    the ledger records draft and thread ids."""
    root = gmail_folder(tmp_path, gm)
    code, _, err = run(root)
    assert (code, err) == (0, "")
    assert_exactly_once(gm, 20)
    batches = [r for r in gm.request_log if r["path"] == "/batch"]
    assert len(batches) == 2
    ledger = Ledger.open(root / ".outreach" / "state.db")
    rows = ledger.rows("drafted")
    assert len(rows) == 20 and all(r.ref.startswith("r") and r.thread_id for r in rows)
    ledger.close()


def test_the_raw_message_is_what_the_dir_store_would_write(tmp_path: Path, gm: GmailEmulator) -> None:
    """Gmail gets the same RFC 5322 message: plain text first, HTML second, our Message-ID."""
    root = gmail_folder(tmp_path, gm, 1)
    run(root)
    (draft,) = gm.drafts.values()
    msg = email.message_from_bytes(draft["message"]["raw"], policy=email.policy.default)
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Message-ID"] in gm.drafts_by_message_id()


def test_a_second_run_creates_nothing(tmp_path: Path, gm: GmailEmulator) -> None:
    """Re-running the night asks Gmail for nothing new."""
    root = gmail_folder(tmp_path, gm)
    run(root)
    before = len(gm.requests)
    code, _, _ = run(root)
    assert code == 0
    assert_exactly_once(gm, 20)
    assert [r for r in gm.requests[before:] if "drafts" in r[1] or r[1] == "/batch"] == []


@pytest.mark.waits
def test_faults_and_lost_replies_never_duplicate(tmp_path: Path, gm: GmailEmulator) -> None:
    """Under 30 % injected faults (429, rate-limit 403, 5xx, slow, lost) and 20 % replies lost after
    a successful create, every draft still exists exactly once after the run and a re-run."""
    root = gmail_folder(tmp_path, gm, 40)
    gm.faults(rate=0.3, seed=7)
    gm.lost_rate = 0.2
    code, _, err = run(root)
    assert code in (0, 1), err
    gm.faults(rate=0.0)
    gm.lost_rate = 0.0
    code, _, err = run(root)
    assert (code, err) == (0, "")
    assert_exactly_once(gm, 40)
    assert gm.faults_injected  # the faults really happened


def test_retries_inside_a_batch(tmp_path: Path, gm: GmailEmulator) -> None:
    """A 429 and a rate-limit 403 on parts of a batch are retried by us (the library does not)."""
    root = gmail_folder(tmp_path, gm, 10)
    gm.fail_next(429, "rateLimitExceeded", method="drafts.create")
    gm.fail_next("403rate", method="drafts.create")
    code, _, err = run(root)
    assert (code, err) == (0, "")
    assert_exactly_once(gm, 10)
    assert [kind for _, kind in gm.faults_injected] == ["429", "403rate"]


def test_a_bad_request_fails_only_its_touch(tmp_path: Path, gm: GmailEmulator) -> None:
    """A 400 (or a missing permission) cannot be fixed by retrying: that touch fails with a clear
    line, the others are drafted, exit code 1, and the next run tries it again."""
    root = gmail_folder(tmp_path, gm, 3, batch_size=1)
    gm.fail_next(403, "insufficientPermissions", method="drafts.create")
    code, _, err = run(root)
    assert code == 1
    assert "Gmail refused the draft (permission): insufficientPermissions; grant the compose scope: " \
           "run 'outreach auth gmail'" in err
    assert_exactly_once(gm, 2)
    assert run(root)[0] == 0
    assert_exactly_once(gm, 3)


def test_a_dead_refresh_token_stops_the_run_with_one_line(tmp_path: Path, gm: GmailEmulator) -> None:
    """invalid_grant: one line naming `outreach auth gmail` and the likely cause, exit code 5,
    no traceback, nothing drafted."""
    root = gmail_folder(tmp_path, gm, 3)
    gm.revoke()
    code, out, err = run(root)
    assert code == 5
    assert out == ""
    assert err.splitlines() == [
        "Gmail refused the stored token (invalid_grant: expired or revoked); run 'outreach auth "
        "gmail'; if this happens every 7 days, your OAuth app is still in 'Testing' on Google's "
        "consent screen: publish it (or make it Internal in Google Workspace), then run "
        "'outreach auth gmail'"]
    assert gm.drafts == {}


def test_a_missing_token_says_how_to_make_one(tmp_path: Path, gm: GmailEmulator) -> None:
    """Before `outreach auth gmail` was ever run, the run says so (exit 5)."""
    root = gmail_folder(tmp_path, gm, 1)
    (tmp_path / "token.json").unlink()
    code, _, err = run(root)
    assert code == 5
    assert err == f"no Gmail token at {tmp_path / 'token.json'}; run 'outreach auth gmail' once\n"


def test_requests_are_paced_to_the_quota(tmp_path: Path, gm: GmailEmulator) -> None:
    """With 600 units in any minute, 100 creates (1,000 units) wait for the quota instead of
    hitting 429s: Gmail never says 429, and the run takes a minute (600 units at once, the rest
    when they have left the window), not less (a burst) and not twice as long."""
    from outreach import render
    from outreach.config import load_book
    from outreach.drafts.gmail import GmailStore
    from outreach.message import compose
    from outreach.model import History
    from outreach.planner import plan

    now = [1000.0]
    gm.clock = lambda: now[0]
    gm.quota_per_minute = 600

    def sleep(seconds: float) -> None:
        now[0] += seconds

    root = gmail_folder(tmp_path, gm, 100, quota_per_minute=600)
    book = load_book(root)
    store = GmailStore(book.settings.gmail, root, sleep=sleep, clock=lambda: now[0])
    env = render.environment(book.templates_dir, book.root)
    drafts = [compose(book, env, t, D(DATE)) for t in plan(book, History(), today=D(DATE)).touches]
    results = store.create_many(drafts)
    assert all(not isinstance(r, Exception) for r in results)
    assert 60 <= store.pacer.waited < 60.01
    assert 1060 <= now[0] < 1060.01
    assert (gm.sent_429, store.retries) == (0, 0)
    assert_exactly_once(gm, 100)


def test_a_run_killed_part_way_then_rerun_never_duplicates(tmp_path: Path, gm: GmailEmulator) -> None:
    """SIGKILL right after Gmail created a batch of drafts and before the ledger recorded it (the
    batch is one chunk: recorded pending, then drafted, each in one transaction): the next run
    finds each by Message-ID and records it; every touch has exactly one draft."""
    root = gmail_folder(tmp_path, gm, 12, batch_size=5)
    proc = subprocess.run([sys.executable, "-m", "outreach", "-C", str(root), "run", "--date", DATE],
                          env={**os.environ, "OUTREACH_CRASH_AT": "after-write:3"},
                          capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert len(gm.drafts_by_message_id()) == 5  # the first batch reached Gmail
    code, out, _ = run(root, DATE, "-v")
    assert code == 0
    assert sum(1 for line in out.splitlines() if line.startswith("recovered ")) == 5
    assert_exactly_once(gm, 12)


@pytest.mark.slow
def test_five_random_kills_then_a_normal_run(tmp_path: Path, gm: GmailEmulator) -> None:
    """Five runs killed at random moments, then a normal run: exactly one draft per touch."""
    root = gmail_folder(tmp_path, gm, 60, batch_size=5)
    rng = random.Random(20261122)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-m", "outreach", "-C", str(root), "run",
                                 "--date", DATE], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    code, _, err = run(root)
    assert (code, err) == (0, "")
    assert_exactly_once(gm, 60)


def test_later_steps_go_into_the_same_conversation(tmp_path: Path, gm: GmailEmulator) -> None:
    """A two-note sequence: the second note is drafted four days later into the first one's
    thread, with its subject, In-Reply-To and References."""
    camp = campaign_data("intro", {"kind": "interval", "days": 90}, steps=[{"template": "note.md",
                                                                              "after": 4}])
    root = gmail_folder(tmp_path, gm, 1, campaigns=[camp])
    run(root, "2026-11-22")
    run(root, "2026-11-26")
    drafts = list(gm.drafts.values())
    assert len(drafts) == 2
    assert drafts[0]["message"]["threadId"] == drafts[1]["message"]["threadId"]
    ledger = Ledger.open(root / ".outreach" / "state.db")
    first, second = sorted(ledger.rows("drafted"), key=lambda r: r.key)
    ledger.close()
    assert second.key == f"{first.key}/step-2"
    msg = email.message_from_bytes(gm.drafts[second.ref]["message"]["raw"],
                                   policy=email.policy.default)
    assert msg["In-Reply-To"] == first.message_id
    assert msg["References"] == first.message_id
    assert msg["Subject"] == first.subject


def test_a_reply_stops_the_sequence_and_counts_as_a_touch(tmp_path: Path, gm: GmailEmulator) -> None:
    """With reply detection: the user sends the first note, the contact replies; the run sees it,
    drafts no second note, and keep-in-touch counts from the reply."""
    gm.scopes = {COMPOSE, READONLY}
    camp = campaign_data("intro", {"kind": "interval", "days": 90}, steps=[{"template": "note.md",
                                                                              "after": 4}])
    root = gmail_folder(tmp_path, gm, 1, campaigns=[camp], reply_detection=True)
    run(root, "2026-11-22")
    ((draft_id, draft),) = gm.drafts.items()
    gm.send_draft(draft_id)
    when = int(dt.datetime(2026, 11, 24, 15, tzinfo=dt.UTC).timestamp() * 1000)
    gm.reply(draft["message"]["threadId"], "p000-doe@acme.example", when_ms=when)
    code, _, err = run(root, "2026-11-26")
    assert (code, err) == (0, "")
    assert gm.drafts == {}  # no second note
    ledger = Ledger.open(root / ".outreach" / "state.db")
    history = ledger.history()
    (row,) = ledger.rows("drafted")
    ledger.close()
    assert (row.outcome, row.outcome_on) == ("sent", "2026-11-22") or row.outcome == "sent"
    assert history.stopped == frozenset({row.key})
    assert history.reply_days("p000-doe") == (D("2026-11-24"),)


def test_a_draft_deleted_unsent_is_recorded_and_never_recreated(tmp_path: Path, gm: GmailEmulator) -> None:
    """With reply detection, a draft the user deleted is recorded as deleted, and no run makes it
    again."""
    gm.scopes = {COMPOSE, READONLY}
    root = gmail_folder(tmp_path, gm, 1, reply_detection=True)
    run(root)
    ((draft_id, _),) = gm.drafts.items()
    gm.delete_draft(draft_id)
    assert run(root)[0] == 0
    ledger = Ledger.open(root / ".outreach" / "state.db")
    (row,) = ledger.rows("drafted")
    ledger.close()
    assert row.outcome == "deleted"
    assert gm.drafts == {}


def test_auth_gmail_stores_a_refreshable_token_0600(tmp_path: Path, gm: GmailEmulator) -> None:
    """`outreach auth gmail --no-browser` prints the consent URL, takes Google's redirect on the
    local port, exchanges the code and stores the token with mode 0600; a run then works with it."""
    import socket
    import urllib.parse
    import urllib.request

    root = gmail_folder(tmp_path, gm, 1)
    (tmp_path / "token.json").unlink()
    (root / "client_secret.json").write_text(json.dumps({"installed": {
        "client_id": "c", "client_secret": "s", "auth_uri": gm.root_url + "auth",
        "token_uri": gm.token_uri, "redirect_uris": ["http://localhost"]}}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "outreach", "-C", str(root), "auth", "gmail",
                             "--no-browser", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # the emulator speaks plain http on 127.0.0.1; oauthlib wants https
                            env={**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1",
                                 "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        url = ""
        for _ in range(5):
            line = proc.stdout.readline()
            if line.startswith("http"):
                url = line.strip()
                break
        query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
        assert query["scope"] == [COMPOSE]
        assert query["access_type"] == ["offline"]
        redirect = (f"http://localhost:{port}/?state={query['state'][0]}&code=4/abc"
                    f"&scope={urllib.parse.quote(COMPOSE)}")
        for _ in range(50):
            try:
                urllib.request.urlopen(redirect, timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    token = tmp_path / "token.json"
    assert f"Saved the Gmail token to {token} (mode 0600)." in out
    assert "expires this token after 7 days" in out
    assert token.stat().st_mode & 0o777 == 0o600
    assert json.loads(token.read_text())["refresh_token"].startswith("1//r-")
    assert run(root)[0] == 0
    assert_exactly_once(gm, 1)


def test_the_calendar_links_to_the_gmail_draft(tmp_path: Path, gm: GmailEmulator) -> None:
    """A follow-up of a Gmail draft carries a link that opens the draft's conversation in Gmail."""
    from icalcheck import parse_vobject

    camp = campaign_data(followups=[{"kind": "call", "anchor": "draft", "after": 2}])
    root = gmail_folder(tmp_path, gm, 1, campaigns=[camp])
    assert run(root)[0] == 0
    ((_, draft),) = gm.drafts.items()
    thread = draft["message"]["threadId"]
    call = next(e for e in parse_vobject((root / "calendar.ics").read_bytes()).events
                if e.summary.startswith("Call"))
    assert f"https://mail.google.com/mail/u/0/#drafts/{thread}" in call.description


def test_auth_gmail_with_a_broken_client_file_says_so(tmp_path: Path, gm: GmailEmulator) -> None:
    """A client file that is not Google's OAuth JSON: one line and exit 2, no crash log."""
    root = gmail_folder(tmp_path, gm, 1)
    (root / "client_secret.json").write_text('{"web": 1}')
    result = CliRunner().invoke(main, ["-C", str(root), "auth", "gmail", "--no-browser"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{root / 'client_secret.json'} is not an OAuth client file (no ")
    assert result.stderr.rstrip().endswith(
        "; download the JSON of an OAuth client of type 'Desktop app' again")
    assert not (root / ".outreach" / "crash.log").exists()
