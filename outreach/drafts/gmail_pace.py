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
* a run starts knowing of nothing spent (``used`` can say otherwise): another client of the same
  mailbox, or a run right before this one, can still get a 429, which the store backs off from.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

#: Google counts quota per user per minute
WINDOW_SECONDS = 60.0
EDGE = 1e-6  # seconds


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
