"""Pacing the Gmail store to its quota as Google counts it: units per user in any sliding window.

Google charges each request (each part of a batch) its units when it handles it and refuses a
request (429 ``rateLimitExceeded``) when the units of the last 60 s would go over the user's quota.
:class:`SlidingWindow` keeps the store under that, whatever the latency:

* a request's units are counted from the moment it is sent (while in flight it counts as "now")
  until ``window`` seconds after its answer came back. Google charged it somewhere between the two,
  so whatever Google counts in any window, this log counts too: no window ever holds more than
  ``quota`` units of this store's requests;
* ``spend(units)`` waits exactly until enough of the oldest units have left the window (no token
  bucket that starts full, no fixed sleeps), then counts the request in;
* a run starts knowing what the store spent in the last window, also in a run just before
  (:class:`SpentFile`, beside the token file); another client of the same mailbox can still
  cause a 429, which the store backs off from.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: Google counts quota per user per minute
WINDOW_SECONDS = 60.0
EDGE = 1e-6  # seconds
LOAD_MARGIN = 1.0  # seconds: times another process wrote are taken this much later (two clocks)


class SlidingWindow:
    """At most ``quota`` units in any ``window`` seconds: ``spend(n)`` waits until n units fit."""

    def __init__(
        self,
        quota: int,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        *,
        window: float = WINDOW_SECONDS,
        used: Iterable[tuple[float, int]] = (),
    ) -> None:
        if quota <= 0 or window <= 0:
            raise ValueError("a quota and a window must be positive")
        self.quota = quota
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self.log: deque[tuple[float, int]] = deque(sorted(used))  # (answered at, units), in order
        self.in_flight = 0  # units sent and not answered yet: they count as spent now
        self.waited = 0.0  # seconds spent waiting for the quota (for reports and tests)

    def used(self, now: float) -> int:
        """Units that still count at ``now``: answered less than ``window`` seconds before, or
        not answered yet."""
        while self.log and self.log[0][0] <= now - self.window:
            self.log.popleft()
        return self.in_flight + sum(units for _, units in self.log)

    def fits(self, units: int) -> int:
        """How many requests of ``units`` each could be sent right now."""
        return max(0, (self.quota - self.used(self.clock())) // max(1, units))

    def wait(self, units: int) -> None:
        """Sleep until ``units`` more fit in the window (at once when they already do)."""
        if units > self.quota:
            raise ValueError(f"{units} units can never fit a quota of {self.quota}")
        if units <= 0:  # a token refresh costs nothing
            return
        while True:
            now = self.clock()
            free = self.quota - self.used(now)
            if units <= free:
                return
            if self.in_flight:  # only its answer can free anything: nothing to wait for here
                raise RuntimeError("the quota is held by a request still in flight")
            need, delay = units - free, 0.0
            for answered, spent in self.log:  # the oldest leave first
                need -= spent
                if need <= 0:
                    # a microsecond more, so that the clock is past the edge however it rounds
                    delay = answered + self.window - now + EDGE
                    break
            self.waited += delay
            self.sleep(delay)

    @contextmanager
    def spend(self, units: int) -> Iterator[None]:
        """Wait for room, count ``units`` in for the request made in the ``with`` block, and
        date them when it ends (answered, failed or raised: Google may have charged it)."""
        self.wait(units)
        self.in_flight += units
        try:
            yield
        finally:
            self.in_flight -= units
            now = self.clock()
            if self.log and self.log[-1][0] > now:  # a clock that went back: keep the log sorted
                now = self.log[-1][0]
            self.log.append((now, units))


class SpentFile:
    """What the store spent in the last window, kept beside the mailbox's token file so that a run
    right after another (of this book or another using the same mailbox) starts knowing it.

    Wall-clock times on disk (a monotonic clock means nothing to the next process), read back
    onto the limiter's clock; a time in the future (the wall clock went back) counts as now. A
    hint only: written by rename without fsync, and a file that is missing, unreadable or
    damaged is taken as nothing spent (the 429 backoff covers what it does not know). Times
    read back are taken ``LOAD_MARGIN`` later than written: reading two clocks is not exact."""

    def __init__(self, path: Path, clock: Callable[[], float], wall: Callable[[], float]) -> None:
        self.path = path
        self.clock = clock
        self.wall = wall

    def load(self, window: float) -> list[tuple[float, int]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            spent = [(float(t), int(u)) for t, u in data["spent"]]
        except (OSError, ValueError, KeyError, TypeError):
            return []
        now, wall = self.clock(), self.wall()
        return [
            (min(now, now - (wall - t)) + LOAD_MARGIN, u)
            for t, u in spent
            if wall - t + LOAD_MARGIN < window and u > 0
        ]

    def save(self, limiter: SlidingWindow) -> None:
        now, wall = self.clock(), self.wall()
        limiter.used(now)  # drop what has left the window
        spent = [[round(wall - (now - t), 3), u] for t, u in limiter.log]
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({"window": limiter.window, "spent": spent}), "utf-8")
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()


class Rounds:
    """The tries of a request (or of a set of them) while ``pending()``: ``retries`` more after
    the first, with ``backoff(attempt, limited_since)`` before each (longer once rate limits
    came: ``limited_since`` is when the first was answered, on ``clock``)."""

    def __init__(
        self,
        retries: int,
        backoff: Callable[[int, float | None], None],
        clock: Callable[[], float],
        pending: Callable[[], bool],
    ) -> None:
        self.retries, self.backoff, self.clock, self.pending = retries, backoff, clock, pending
        self.limited: float | None = None

    def __iter__(self) -> Iterator[int]:
        for attempt in range(self.retries + 1):
            if not self.pending():
                return
            if attempt:
                self.backoff(attempt - 1, self.limited)
            yield attempt

    def saw(self, limited: bool) -> None:
        """An answer came; ``limited``: it was a rate limit."""
        if limited and self.limited is None:
            self.limited = self.clock()
