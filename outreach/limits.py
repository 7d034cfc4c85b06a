"""The bounds of one template render: time and memory, and the error that says which was hit.

- Time: at most MAX_SECONDS a render. In the main thread (where the CLI runs) a timer (SIGALRM)
  stops it wherever it is, and puts back any handler and timer that were there before; in any
  thread, the sandbox looks at the clock at each operator, call, filter, loop step over range()
  and piece of output (`tick`).
- Memory: while a render runs in the main thread, the address space may grow by at most
  MEMORY_BYTES (RLIMIT_AS, where the platform has it): what the sandbox's estimates miss ends in a
  MemoryError, which the sandbox turns into a TemplateLimit, never an exit 3.
- Size (MAX_CHARS, MAX_ITEMS, MAX_INT_BITS) is the sandbox's to check: see `outreach.sandbox`.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any

try:
    import resource
except ImportError:  # (not on Windows)
    resource = None  # type: ignore[assignment]

MAX_SECONDS = 3.0
MAX_CHARS = 100_000
MAX_ITEMS = 10_000
MAX_INT_BITS = 20_000  # about 6,000 digits; str() refuses more than 4,300 anyway
MEMORY_BYTES = 512 * 2**20


class TemplateLimit(Exception):
    """A render went past one of the bounds: a one-line message and a hint."""

    def __init__(self, message: str, hint: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line = line


class Stalled(TemplateLimit):
    """The render's time was up."""


@dataclass
class _Bound:
    deadline: float
    slow: TemplateLimit  # what to say when the time is up
    said: bool = False  # said once: the clock and the timer do not both raise

    def expire(self) -> None:
        """Raise ``slow``, once (the second one would land in Jinja's handling of the first,
        and lose the template's line)."""
        if not self.said:
            self.said = True
            raise Stalled(self.slow.message, self.slow.hint)


_bound: ContextVar[_Bound | None] = ContextVar("outreach_bound", default=None)

TOO_SLOW = TemplateLimit(
    f"the template ran for more than {MAX_SECONDS:g} seconds and was stopped",
    "look for a loop inside a loop, or a loop over a long range()",
)


def too_long() -> TemplateLimit:
    return TemplateLimit(
        f"the template writes more than {MAX_CHARS:,} characters",
        "a note is short: look for a loop or a filter that repeats text",
    )


def built(what: str, n: int, unit: str = "characters", most: int = MAX_CHARS) -> TemplateLimit:
    return TemplateLimit(
        f"{what} would make {n:,} {unit} (at most {most:,})",
        "templates write short text: use smaller numbers",
    )


def out_of_memory() -> TemplateLimit:
    return TemplateLimit(
        "the template needs more memory than a note may take",
        "look for a loop or a filter that builds long text",
    )


def tick() -> None:
    """Raise when the render's time is up (the check that works in any thread)."""
    bound = _bound.get()
    if bound is not None and time.monotonic() > bound.deadline:
        bound.expire()


class bounded:  # (a class named as the function it was: ``with bounded(...):``)
    """Run the block with the bounds of one render (time; memory in the main thread); ``slow``
    is what is raised when the time is up. Inside a bounded block, another one adds nothing.

    A class rather than a generator-based context manager: a night enters it three times a
    draft, and the calls below are the whole cost (about 10 us, where three nested
    ``contextlib`` managers and ``signal.signal``'s enum conversions took 48 us)."""

    __slots__ = ("_alarm", "_armed", "_bound", "_rlimit", "_token", "seconds", "slow")

    def __init__(self, slow: TemplateLimit = TOO_SLOW, seconds: float = MAX_SECONDS) -> None:
        self.slow = slow
        self.seconds = seconds
        self._bound: _Bound | None = None  # None: nested in another bound, nothing to undo
        self._token: Token[_Bound | None] | None = None
        self._rlimit: tuple[int, int] | None = None  # the limit to put back
        self._alarm: tuple[Any, float, float, float] | None = None  # (handler, t0, timer, every)
        self._armed = False

    def __enter__(self) -> None:
        if _bound.get() is not None:
            return
        seconds = self.seconds
        bound = self._bound = _Bound(time.monotonic() + seconds, self.slow)
        self._token = _bound.set(bound)
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            self._rlimit = _cap_memory()
            if _ITIMER is not None:  # the timer inside: stopped before the limit is put back
                self._armed = True
                previous = _set_handler(_SIGALRM, self._on_alarm)
                started = time.monotonic()
                before, interval = signal.setitimer(_ITIMER, seconds)
                self._alarm = (previous, started, before, interval)
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        if self._armed and self._bound is not None:
            self._bound.expire()

    def __exit__(self, *exc: object) -> None:
        if self._bound is None:
            return
        try:
            alarm, self._alarm = self._alarm, None
            if alarm is not None:
                self._stop_alarm(alarm)
        finally:
            try:
                rlimit, self._rlimit = self._rlimit, None
                if rlimit is not None:
                    resource.setrlimit(resource.RLIMIT_AS, rlimit)
            finally:
                if self._token is not None:
                    _bound.reset(self._token)
                self._token = self._bound = None

    def _stop_alarm(self, alarm: tuple[Any, float, float, float]) -> None:
        """The previous handler and timer back (a timer that was due meanwhile fires at once)."""
        previous, started, before, interval = alarm
        assert _ITIMER is not None  # (an alarm was set)
        try:
            self._armed = False  # an alarm due right now still raises here, and the rest runs
        finally:
            signal.setitimer(_ITIMER, 0)
            _set_handler(_SIGALRM, previous if previous is not None else signal.SIG_DFL)
            if before:
                left = before - (time.monotonic() - started)
                signal.setitimer(_ITIMER, max(left, 1e-6), interval)


_ITIMER: int | None = getattr(signal, "ITIMER_REAL", None)  # (no interval timers: no SIGALRM)
_SIGALRM: int = getattr(signal, "SIGALRM", 14)
# signal.signal without its conversions of numbers to enums (a third of a bound's cost)
_set_handler: Callable[[int, Any], Any] = signal._signal.signal  # type: ignore[attr-defined]


def _cap_memory() -> tuple[int, int] | None:
    """At most MEMORY_BYTES more address space from now on (Linux; elsewhere nothing): the
    limit to put back, or None when there is nothing to put back."""
    if resource is None:
        return None
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = _pages() * _PAGE + MEMORY_BYTES
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        if soft != resource.RLIM_INFINITY and soft <= cap:
            return None  # a stricter limit is already there
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (OSError, ValueError):
        return None
    return (soft, hard)


_PAGE = resource.getpagesize() if resource is not None else 4096
_statm: tuple[int, int] | None = None  # (pid, fd): /proc/self/statm, opened once per process


def _pages() -> int:
    """The process's address space in pages (/proc/self/statm, read again at each call from
    a file kept open: opening it for every render cost more than the render's bounds)."""
    global _statm
    pid = os.getpid()
    if _statm is None or _statm[0] != pid:  # (a child process reads its own)
        _statm = (pid, os.open("/proc/self/statm", os.O_RDONLY))
    return int(os.pread(_statm[1], 128, 0).split()[0])


def template_line(tb: TracebackType | None, filename: str | None) -> int | None:
    """The innermost line of the template (``filename``, or a template from a string) in a
    traceback, as Jinja rewrites it."""
    line = None
    while tb is not None:
        code = tb.tb_frame.f_code
        ours = filename and code.co_filename == filename
        if ours or (code.co_filename == "<template>" and filename is None):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
