"""Pacing the gmail store as Google counts its quota: units per user in any sliding window.

The limiter on its own (a fake clock): it never lets more than the quota into any window, however
long each request takes, and it waits no longer than it must. The store against the emulator's
sliding quota: a run of N drafts at a small quota and a short window gets no 429 and takes what
the quota allows, no less (no burst) and not twice as long; and when another client of the same
mailbox has spent the quota, the store backs off and still drafts each touch exactly once.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from gmail_emulator import COMPOSE, GmailEmulator, build_service
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.drafts.gmail import COST, GmailStore
from outreach.drafts.gmail_pace import EDGE, SlidingWindow, SpentFile
from outreach.message import Draft
from outreach.model import GmailSettings


class FakeTime:
    """A clock that moves only when someone sleeps (or a request takes time)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.now += seconds


# ------------------------------------------------------------------------------ the limiter alone

REQUESTS = st.lists(
    st.tuples(
        st.integers(1, 60),  # units
        st.floats(0, 3, allow_nan=False),  # how long the request takes to be answered
        st.floats(0, 5, allow_nan=False),  # idle time before the next one
    ),
    max_size=60,
)


def run_limiter(
    quota: int, window: float, requests: list[tuple[int, float, float]]
) -> list[tuple[float, float, int, float]]:
    """(sent at, answered at, units, ready at) for each request, through one SlidingWindow."""
    clock = FakeTime()
    limiter = SlidingWindow(quota, clock, clock.sleep, window=window)
    done = []
    for units, latency, idle in requests:
        units = min(units, quota)
        ready = clock.now
        with limiter.spend(units):
            sent = clock.now
            clock.now += latency
        done.append((sent, clock.now, units, ready))
        clock.now += idle
    return done


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 120), st.floats(0.5, 10, allow_nan=False), REQUESTS)
def test_no_window_ever_holds_more_than_the_quota(
    quota: int, window: float, requests: list[tuple[int, float, float]]
) -> None:
    """Google charges a request at some moment between sending it and its answer: whichever
    moments it picks, no window of that length holds more than the quota. (The window that
    starts at a request's answer and every request that could have been charged inside it.)"""
    done = run_limiter(quota, window, requests)
    for _, start, _, _ in done:
        inside = sum(u for sent, answered, u, _ in done if answered >= start and sent < start + window)
        assert inside <= quota, (start, inside)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 120), st.floats(0.5, 10, allow_nan=False), REQUESTS)
def test_it_waits_no_longer_than_it_must(
    quota: int, window: float, requests: list[tuple[int, float, float]]
) -> None:
    """A request that waited is sent as soon as enough earlier units have left the window
    (answered at least a window ago): a moment earlier, they would not have fitted."""
    done = run_limiter(quota, window, requests)
    for i, (sent, _, units, ready) in enumerate(done):
        earlier = done[:i]

        def counted(t: float, earlier: list[tuple[float, float, int, float]] = earlier) -> int:
            return sum(u for _, answered, u, _ in earlier if answered > t - window)

        assert counted(sent) + units <= quota
        if sent > ready:
            assert counted(sent - 2 * EDGE) + units > quota, (sent, ready)


def test_the_first_quota_goes_at_once_then_one_window_later() -> None:
    """A run starts knowing of nothing spent: a quota's worth goes at once; the next request
    waits until the first leaves the window, not a moment longer (a microsecond of margin)."""
    clock = FakeTime()
    limiter = SlidingWindow(60, clock, clock.sleep, window=2.0)
    for _ in range(6):
        with limiter.spend(10):
            pass
    assert clock.now == 1000.0
    with limiter.spend(10):
        pass
    assert clock.now == pytest.approx(1002.0, abs=10 * EDGE)
    assert limiter.waited == pytest.approx(2.0, abs=10 * EDGE)


def test_what_was_used_before_counts() -> None:
    """Units spent just before (``used``) count until they leave the window."""
    clock = FakeTime()
    limiter = SlidingWindow(100, clock, clock.sleep, window=60.0, used=[(990.0, 100)])
    with limiter.spend(10):
        pass
    assert clock.now == pytest.approx(1050.0, abs=10 * EDGE)


def test_a_token_refresh_never_waits() -> None:
    """A request that costs nothing (a token refresh) goes at once, even with the window over
    full (a run before had a larger quota)."""
    clock = FakeTime()
    limiter = SlidingWindow(50, clock, clock.sleep, window=60.0, used=[(999.0, 80)])
    with limiter.spend(0):
        pass
    assert clock.now == 1000.0


def test_a_request_larger_than_the_quota_is_refused() -> None:
    """No wait could ever let more units than the quota through: that is a bug, said at once."""
    clock = FakeTime()
    with pytest.raises(ValueError, match="can never fit"):
        SlidingWindow(50, clock, clock.sleep).wait(60)


# ------------------------------------------------------------------------------ the store


@pytest.fixture
def gm() -> Iterator[GmailEmulator]:
    with GmailEmulator(email="alex@rivera.example") as emulator:
        yield emulator


def drafts(n: int) -> list[Draft]:
    out = []
    for i in range(n):
        msg = EmailMessage()
        msg["From"] = "alex@rivera.example"
        msg["To"] = f"p{i}@acme.example"
        msg["Subject"] = f"Hello {i}"
        msg["Message-ID"] = f"<pace-{i}@outreach.test>"
        msg.set_content(f"Note {i}.\n")
        out.append(Draft(f"k{i}", msg["Message-ID"], msg, msg["To"], msg["Subject"]))
    return out


def spend_elsewhere(gm: GmailEmulator, creates: int) -> None:
    """Another client of the same mailbox creates drafts (10 units each), now."""
    other = build_service(gm)
    for i in range(creates):
        msg = EmailMessage()
        msg["Message-ID"] = f"<other-{i}@elsewhere.test>"
        msg.set_content("x")
        raw = base64.urlsafe_b64encode(msg.as_bytes()).decode()
        other.users().drafts().create(userId="me", body={"message": {"raw": raw}}).execute()


def store(
    tmp_path: Path,
    gm: GmailEmulator,
    quota: int,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    window: float = 60.0,
    max_retries: int = 6,
) -> GmailStore:
    token = tmp_path / "token.json"
    token.write_text(json.dumps({"refresh_token": "r-1", "client_id": "c", "client_secret": "s",
                                 "scopes": [COMPOSE]}))
    os.chmod(token, 0o600)
    settings = GmailSettings(api_root=gm.root_url, token_uri=gm.token_uri, token_file=str(token),
                             timeout_seconds=5, batch_size=10, quota_per_minute=quota,
                             max_retries=max_retries)
    return GmailStore(settings, tmp_path, clock=clock, sleep=sleep, window=window)


def test_a_run_at_a_small_quota_gets_no_429_and_takes_what_the_quota_allows(
    tmp_path: Path, gm: GmailEmulator
) -> None:
    """100 units per 1 s window (10 drafts), 40 drafts (4 windows' worth), real time: Gmail never
    says 429, and the run takes at least 3 windows (faster, some window would have held more
    than the quota: a burst) and less than twice 4 windows."""
    window, quota, n = 1.0, 100, 40
    gm.quota_per_minute, gm.quota_window = quota, window
    s = store(tmp_path, gm, quota, window=window)
    start = time.monotonic()
    results = s.create_many(drafts(n))
    elapsed = time.monotonic() - start
    assert all(not isinstance(r, Exception) for r in results)
    assert (gm.sent_429, s.retries) == (0, 0)
    assert len(gm.drafts_by_message_id()) == n
    windows = n * COST["create"] / quota
    assert (windows - 1) * window <= elapsed < 2 * windows * window, elapsed


def test_a_batch_never_asks_for_more_than_the_quota(tmp_path: Path, gm: GmailEmulator) -> None:
    """A quota of 50 units holds 5 creates: batches of 10 go as batches of 5 (each part costs
    its units), and none gets a 429."""
    clock = FakeTime()
    gm.clock = clock
    s = store(tmp_path, gm, 50, clock=clock, sleep=clock.sleep)
    results = s.create_many(drafts(10))
    assert all(not isinstance(r, Exception) for r in results)
    assert gm.sent_429 == 0
    assert len([r for r in gm.request_log if r["path"] == "/batch"]) == 2
    assert clock.now == pytest.approx(1060.0, abs=1e-3)


def test_another_client_spent_the_quota_the_store_backs_off_and_drafts_once(
    tmp_path: Path, gm: GmailEmulator
) -> None:
    """Another client of the mailbox (or the run before) spent the whole minute just now: the
    store's batches get 429s, it backs off, it is never further than a window and a backoff
    late, and every draft exists exactly once."""
    clock = FakeTime()
    gm.clock = clock
    gm.quota_per_minute = 200
    spend_elsewhere(gm, 20)  # 200 units, all at t = 1000
    s = store(tmp_path, gm, 200, clock=clock, sleep=clock.sleep)
    results = s.create_many(drafts(20))
    assert all(not isinstance(r, Exception) for r in results), results
    assert gm.quota_429 > 0 and s.retries > 0
    assert all(len(v) == 1 for v in gm.drafts_by_message_id().values())
    assert len(gm.drafts_by_message_id()) == 40
    assert 1060.0 <= clock.now < 1060.0 + 1.5  # the window, and the first backoff at most


def test_rate_limits_to_the_last_retry_still_wait_out_a_window(
    tmp_path: Path, gm: GmailEmulator
) -> None:
    """Short backoffs that add up to less than the quota's window: the last retry waits until a
    whole window has passed since the first rate limit, so a minute spent by someone else never
    fails the night's drafts."""
    clock = FakeTime()
    gm.clock = clock
    gm.quota_per_minute = 100
    spend_elsewhere(gm, 10)  # 100 units at t = 1000
    s = store(tmp_path, gm, 100, clock=clock, sleep=clock.sleep, max_retries=2)
    (result,) = s.create_many(drafts(1))  # the store's own 10-unit tries leave it room: no wait
    assert not isinstance(result, Exception), result
    assert s.retries == 2 and gm.quota_429 == 2
    assert 1060.0 <= clock.now < 1060.0 + 1.0


def test_a_run_right_after_another_knows_what_it_spent(tmp_path: Path, gm: GmailEmulator) -> None:
    """The quota a run spent is remembered beside the token file: a second run started at once
    waits for it to leave the window instead of meeting 429s."""
    clock = FakeTime()
    gm.clock = clock
    gm.quota_per_minute = 100
    first = store(tmp_path, gm, 100, clock=clock, sleep=clock.sleep)
    first.create_many(drafts(10))  # the whole minute, at t = 1000
    assert (tmp_path / "token.quota.json").is_file()
    second = store(tmp_path, gm, 100, clock=clock, sleep=clock.sleep)
    (result,) = second.create_many([drafts(11)[10]])
    assert not isinstance(result, Exception), result
    assert (gm.sent_429, second.retries) == (0, 0)
    assert 1060.0 <= clock.now <= 1061.0 + EDGE  # what it spent, and a second of margin


@pytest.mark.parametrize("text", ["", "{", '{"spent": [["x", 1]]}', '{"spent": 3}', "[]"])
def test_a_damaged_spent_file_is_taken_as_nothing_spent(tmp_path: Path, text: str) -> None:
    """The file is a hint: whatever is in it, a run starts (and the 429 backoff covers the rest)."""
    path = tmp_path / "token.quota.json"
    path.write_text(text)
    clock = FakeTime()
    assert SpentFile(path, clock, time.time).load(60.0) == []
    assert SpentFile(tmp_path / "missing.json", clock, time.time).load(60.0) == []


def test_spent_units_come_back_on_the_next_clock(tmp_path: Path) -> None:
    """Saved on one process's clock, read on another's: the same age (and a second of margin);
    what has left the window is not kept, and a time in the future (the wall clock went back)
    counts as now."""
    wall = [5000.0]
    a = FakeTime(10.0)
    limiter = SlidingWindow(100, a, a.sleep, window=60.0, used=[(5.0, 30), (9.0, 20), (-70.0, 5)])
    SpentFile(tmp_path / "q.json", a, lambda: wall[0]).save(limiter)
    b = FakeTime(700.0)
    wall[0] += 2
    assert SpentFile(tmp_path / "q.json", b, lambda: wall[0]).load(60.0) == [(694.0, 30), (698.0, 20)]
    wall[0] -= 100
    assert SpentFile(tmp_path / "q.json", b, lambda: wall[0]).load(60.0) == [(701.0, 30), (701.0, 20)]
