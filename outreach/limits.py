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

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType, TracebackType

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


@contextlib.contextmanager
def bounded(slow: TemplateLimit = TOO_SLOW, seconds: float = MAX_SECONDS) -> Iterator[None]:
    """Run the block with the bounds of one render (time; memory in the main thread); ``slow``
    is what is raised when the time is up. Inside a bounded block, another one adds nothing."""
    if _bound.get() is not None:
        yield
        return
    bound = _Bound(time.monotonic() + seconds, slow)
    token = _bound.set(bound)
    main = threading.current_thread() is threading.main_thread()
    try:
        # the timer inside: it is stopped before the memory limit is put back
        with (
            _memory_cap() if main else contextlib.nullcontext(),
            _alarm(seconds, bound) if main else contextlib.nullcontext(),
        ):
            yield
    finally:
        _bound.reset(token)


@contextlib.contextmanager
def _alarm(seconds: float, bound: _Bound) -> Iterator[None]:
    """SIGALRM after ``seconds``, raised where the code is; the previous handler and timer are
    put back (a timer that was due meanwhile fires at once)."""
    if not hasattr(signal, "setitimer"):
        yield
        return
    armed = True

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        if armed:
            bound.expire()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    started = time.monotonic()
    before, interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        try:
            armed = False  # an alarm due right now still raises here, and the rest still runs
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
            if before:
                left = before - (time.monotonic() - started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), interval)


@contextlib.contextmanager
def _memory_cap() -> Iterator[None]:
    """At most MEMORY_BYTES more address space for the block (Linux; elsewhere nothing)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        used = _pages() * resource.getpagesize()
        cap = used + MEMORY_BYTES
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        restore = (soft, hard)  # made now: putting it back must not need memory
        stricter = soft != resource.RLIM_INFINITY and soft <= cap
        if not stricter:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        if not stricter:
            resource.setrlimit(resource.RLIMIT_AS, restore)


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
