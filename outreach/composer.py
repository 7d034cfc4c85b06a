"""Composing a night's chunks: in this process, or shared with a second one where the machine
has a core to spare.

The executor asks :func:`chunks` for the night's touches a chunk at a time, each composed: a
draft, or the error its compose raised. On Linux with two cores or more, and a night of at least
:data:`MIN_CHUNKS` chunks, a forked helper composes chunks as well (rendering and building the
message are most of a draft's cost), while this process records, stores and composes what the
helper has not been asked for. Nothing else changes:

* The helper only composes. It never reads the ledger, writes a file or talks to a mailbox; what
  it sends back is each draft's Message-ID, recipient, subject and message bytes (a store that
  reads no message gets no bytes). The chunks come out in plan order, whoever composed them.
* Composing is deterministic, so a chunk is the same whoever composes it. A touch the helper
  could not compose is composed again here, so its error is the one a night without a helper
  raises. A helper that dies, stops answering (:data:`STALL_SECONDS`) or sends what cannot be
  read is killed, and this process composes the rest: a slower night, the same drafts.
* The helper lives no longer than the night: it ends when this process stops asking (it reads
  end of file), when this process dies (the kernel's parent-death signal), or is killed when the
  night ends early.

A night whose later notes of a sequence thread into first notes composed the same night is
composed here alone (a later note needs its first note's subject).
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from email.message import EmailMessage

from outreach import forked
from outreach.faults import crash_point
from outreach.fsutil import write_all
from outreach.message import Draft
from outreach.model import Touch

Composed = Draft | Exception  # a touch's draft, or what its compose raised
Compose = Callable[[Touch], Draft]

MIN_CHUNKS = 3  # a night of fewer chunks is composed here (a fork costs more than it gives)
STALL_SECONDS = 10.0  # a helper silent this long while we wait is killed; we compose the rest
AHEAD = 2  # chunks asked of the helper and not yet received
PIPE_BYTES = 1 << 20  # the answers' pipe holds this much (a chunk or two of messages)
HELD = 4  # chunks this process composes ahead while it waits, at most
ENABLED = True  # tests compare a night composed with a helper and without

_FRAME = struct.Struct("<I")
# what the helper sends of a draft: Message-ID, To, subject, thread id, bytes, where staged
_Item = tuple[str, str, str, str | None, bytes | None, str | None]
_ASK = struct.Struct("<i")


def chunks(
    compose: Compose,
    touches: Sequence[Touch],
    size: int,
    *,
    messages: bool = True,
    stage: Callable[[Draft], str] | None = None,
    detach: Callable[[], None] | None = None,
    after: Callable[[], None] | None = None,
) -> Generator[tuple[Sequence[Touch], list[Composed]], None, None]:
    """Each chunk of ``touches`` (``size`` at a time, in order) with what composing each of its
    touches gave. ``messages``: the store reads the drafts' bytes (the helper builds them);
    ``stage``: the store's, which the helper calls with each draft it composed (the draft then
    carries where its bytes are, not the bytes); ``detach`` is called in the helper first (to
    let go of what only this process may use); ``after``, once the helper has ended (to remove
    what it staged for drafts that were not made). Close the iterator when stopping early
    (``contextlib.closing``): the helper is ended then."""
    parts = [touches[i : i + size] for i in range(0, len(touches), size)]
    if not _worth_a_helper(parts):
        for part in parts:
            yield part, [_compose(compose, t) for t in part]
        return
    # the first chunk is composed here before the fork: the helper inherits what composing
    # warmed up (each template compiled, the Markdown parser built: 25 ms of a first note)
    first = [_compose(compose, t) for t in parts[0]]
    helper = _Helper.start(compose, parts, messages, stage, detach)
    if helper is None:
        yield parts[0], first
        for part in parts[1:]:
            yield part, [_compose(compose, t) for t in part]
        return
    try:
        yield from _shared(compose, parts, helper, first)
    finally:
        helper.end()
        if after is not None:
            after()


def _worth_a_helper(parts: Sequence[Sequence[Touch]]) -> bool:
    if not ENABLED or len(parts) < MIN_CHUNKS or not sys.platform.startswith("linux"):
        return False
    try:
        if len(os.sched_getaffinity(0)) < 2:
            return False
    except (AttributeError, OSError):
        return False
    keys = {t.key for part in parts for t in part}
    return not any(t.step > 1 and t.first_key in keys for part in parts for t in part)


def _compose(compose: Compose, touch: Touch) -> Composed:
    try:
        return compose(touch)
    except Exception as exc:  # (the executor decides what an error means: it re-raises others)
        return exc


def _shared(
    compose: Compose, parts: Sequence[Sequence[Touch]], helper: _Helper, first: list[Composed]
) -> Iterator[tuple[Sequence[Touch], list[Composed]]]:
    """The chunks in order (the ``first`` composed already): the helper is kept :data:`AHEAD`
    chunks ahead; while we wait for it we compose the next chunk nobody has taken (at most
    :data:`HELD` ahead)."""
    asked: deque[int] = deque()  # chunks asked of the helper, in order, not yet received
    held: dict[int, list[Composed]] = {0: first}
    taken = 1  # chunks below this are asked of the helper or composed here

    def ask() -> None:
        nonlocal taken
        while helper.alive and len(asked) < AHEAD and taken < len(parts):
            if not helper.ask(taken):
                break
            asked.append(taken)
            taken += 1

    def take_back() -> None:  # the helper is gone: what it was asked for is ours again
        while asked:
            k = asked.popleft()
            held[k] = [_compose(compose, t) for t in parts[k]]

    ask()
    for k, part in enumerate(parts):
        while k not in held:
            if asked and asked[0] == k:
                ours = len(held)
                ready = helper.ready(0.0 if taken < len(parts) and ours < HELD else STALL_SECONDS)
                if ready:
                    got = helper.receive(compose, part)
                    if got is not None:
                        asked.popleft()
                        held[k] = [
                            _compose(compose, t) if d is None else d
                            for t, d in zip(part, got, strict=True)
                        ]
                        continue
                    helper.kill()
                    take_back()
                elif taken < len(parts) and ours < HELD:
                    held[taken] = [_compose(compose, t) for t in parts[taken]]
                    taken += 1
                else:  # silent for STALL_SECONDS while we had nothing else to do
                    helper.kill()
                    take_back()
            else:  # not asked of the helper (it is gone, or we were ahead): ours
                held[k] = [_compose(compose, t) for t in part]
                taken = max(taken, k + 1)
        yield part, held.pop(k)
        ask()


class _Helper:
    """The forked helper, seen from this process: ask it for a chunk, read what it sends."""

    def __init__(self, pid: int, asks: int, answers: int) -> None:
        self.pid = pid
        self.asks = asks  # we write chunk numbers here
        self.answers = answers  # it writes composed chunks here
        self.alive = True

    @classmethod
    def start(
        cls,
        compose: Compose,
        parts: Sequence[Sequence[Touch]],
        messages: bool,
        stage: Callable[[Draft], str] | None,
        detach: Callable[[], None] | None,
    ) -> _Helper | None:
        try:
            ask_r, ask_w = os.pipe()
            ans_r, ans_w = os.pipe()
        except OSError:
            return None
        import fcntl  # (here: a plan, which never forks, does not import it)

        with contextlib.suppress(OSError, AttributeError):  # room for a chunk or two
            fcntl.fcntl(ans_w, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)

        def work() -> None:  # the helper: compose what is asked, until end of file
            if detach is not None:
                detach()
            _serve(compose, parts, messages, stage, ask_r, ans_w)

        pid = forked.fork(work, child_fds=(ask_r, ans_w), parent_fds=(ask_w, ans_r))
        if pid is None:
            return None
        return cls(pid, ask_w, ans_r)

    def ask(self, k: int) -> bool:
        try:
            os.write(self.asks, _ASK.pack(k))
            return True
        except OSError:
            self.kill()
            return False

    def ready(self, timeout: float) -> bool:
        import select

        try:
            return bool(select.select([self.answers], [], [], timeout)[0])
        except (OSError, ValueError):
            return True  # (receive reads the failure)

    def receive(self, compose: Compose, part: Sequence[Touch]) -> list[Draft | None] | None:
        """The next chunk the helper sends, as drafts (None: compose that touch here); None
        when it sent nothing readable (it died, or sent what is not a chunk of ``part``)."""
        import pickle

        try:
            head = _read(self.answers, _FRAME.size)
            if head is None:
                return None
            body = _read(self.answers, _FRAME.unpack(head)[0])
            if body is None:
                return None
            items = pickle.loads(body)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
            return None
        if not isinstance(items, list) or len(items) != len(part):
            return None
        out: list[Draft | None] = []
        for touch, item in zip(part, items, strict=True):
            if item is None:
                out.append(None)
                continue
            mid, to, subject, thread_id, data, staged = item
            again = _again(compose, touch)
            out.append(Draft.composed(touch.key, mid, data, again, to, subject, thread_id, staged))
        return out

    def kill(self) -> None:
        """Give up on it: nothing more is asked of it (it is reaped by :meth:`end`)."""
        if self.alive:
            self.alive = False
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)

    def end(self) -> None:
        self.alive = False
        forked.end(self.pid, (self.asks, self.answers))


def _again(compose: Compose, touch: Touch) -> Callable[[], EmailMessage]:
    """The message of a draft the helper composed, built here when something asks for it."""
    return lambda: compose(touch).message


def _read(fd: int, n: int) -> bytes | None:
    """Exactly ``n`` bytes from ``fd``; None at end of file."""
    chunks: list[bytes] = []
    while n:
        got = os.read(fd, min(n, 1 << 20))
        if not got:
            return None
        chunks.append(got)
        n -= len(got)
    return b"".join(chunks)


def _serve(
    compose: Compose,
    parts: Sequence[Sequence[Touch]],
    messages: bool,
    stage: Callable[[Draft], str] | None,
    asks: int,
    answers: int,
) -> None:
    """The helper's loop: for each chunk number read, compose that chunk and send it back."""
    import pickle

    while True:
        head = _read(asks, _ASK.size)
        if head is None:
            return
        items: list[_Item | None] = []
        for touch in parts[_ASK.unpack(head)[0]]:
            crash_point("in-helper")
            try:
                draft = compose(touch)
                staged = data = None
                if stage is not None:
                    with contextlib.suppress(OSError):  # (then its bytes are sent)
                        staged = stage(draft)
                if staged is None and messages:
                    data = draft.as_bytes()
            except Exception:  # composed again by the night, which reports it
                items.append(None)
                continue
            items.append(
                (draft.message_id, draft.to, draft.subject, draft.thread_id, data, staged)
            )
        body = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
        write_all(answers, _FRAME.pack(len(body)) + body)
