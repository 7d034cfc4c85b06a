"""What one outside source may cost, and how its reading is stopped when it costs more.

A calendar or a feed comes from someone else: a stranger's invitation lands in the user's Google
Calendar on its own, a feed's server may be hostile or broken. Each source therefore has limits
(bytes, events, attendees, occurrences, items, seconds); what goes beyond them is left out with
one warning line, and the night goes on with the rest.

``time_limit`` is the hard stop behind the structural limits: in the main thread on Unix it
raises ``Overrun`` (a ``BaseException``, so that no library's ``except Exception`` swallows it)
in whatever Python code runs when the time is up. Elsewhere it only checks the time when asked.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

KB = 1024
MB = 1024 * 1024


@dataclass(frozen=True)
class CalendarLimits:
    """What one calendar source may cost (the defaults are far above any real calendar)."""

    bytes: int = 50 * MB  # the body (a calendar larger than this is a mistake, not a feed)
    events: int = 5_000  # VEVENTs read, once those that cannot touch the window are left out
    attendees: int = 1_000  # ATTENDEE lines of one event
    value_chars: int = 100_000  # characters of one property (SUMMARY, DESCRIPTION, ...)
    repeats: int = 10  # copies of one property in an event (RRULE, SUMMARY, ...)
    dates: int = 1_000  # RDATE or EXDATE values of one event near the window
    occurrences: int = 500  # meetings of one series in the window
    steps: int = 50_000  # periods walked to find where a series with a COUNT ends
    timezones: int = 100  # VTIMEZONE components
    event_seconds: float = 2.0  # expanding one series
    seconds: float = 20.0  # reading the source in all: parsing it and expanding its series


@dataclass(frozen=True)
class FeedLimits:
    """What one RSS or Atom feed may cost."""

    bytes: int = 10 * MB
    items: int = 5_000  # items read (the first ones: feeds list the newest first)
    title_chars: int = 1_000
    link_chars: int = 4_000
    seconds: float = 20.0  # parsing the feed


class Overrun(BaseException):
    """The time given to a piece of work is over."""


def _alarm_usable() -> bool:
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0  # nobody else's alarm is pending
    )


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``Overrun`` inside the block once ``seconds`` have passed (at once if none are left).
    Where no alarm can be set (another thread, no SIGALRM), the block runs without a hard stop.

    The alarm's ``Overrun`` can land where Python swallows exceptions (a weakref callback or a
    ``__del__`` that the collector runs just then: "Exception ignored in ..."), and the work goes
    on. So a block that ends after its time, without an Overrun, raises one at its end: what it
    made is never taken for work done in time."""
    if seconds <= 0:
        raise Overrun
    if not _alarm_usable():
        yield
        return

    def ring(signum: int, frame: FrameType | None) -> None:
        raise Overrun

    deadline = time.monotonic() + seconds
    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if time.monotonic() >= deadline:
        raise Overrun  # the alarm rang where it was swallowed


class Budget:
    """The seconds of work one source may take (parsing, expanding; not the network), spent
    piece by piece: each piece runs under ``time_limit`` with what is left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.spent = 0.0

    def left(self) -> float:
        return self.seconds - self.spent

    def passed(self) -> bool:
        return self.left() <= 0

    @contextmanager
    def spend(self, at_most: float | None = None) -> Iterator[None]:
        """Run the block within what is left (and within ``at_most``); raises ``Overrun``."""
        limit = self.left() if at_most is None else min(at_most, self.left())
        began = time.monotonic()
        try:
            with time_limit(limit):
                yield
        finally:
            self.spent += time.monotonic() - began


def clip(text: str, limit: int = 60) -> str:
    """``text`` as quoted in a warning: at most ``limit`` characters (a hostile title or UID can
    be megabytes long, and a warning is one line)."""
    text = " ".join(text.split()) if any(c in text for c in "\r\n\t") else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def size_text(n: int) -> str:
    """``10 MB``, ``64 KB`` or ``1,000 bytes``."""
    if n >= MB and n % MB == 0:
        return f"{n // MB:,} MB"
    if n >= KB and n % KB == 0:
        return f"{n // KB:,} KB"
    return f"{n:,} bytes"
