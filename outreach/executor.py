"""The executor: one code path that turns touches into drafts, for ``run``, ``run --dry-run`` and
``preview`` alike (the last two with the memory store and a scratch copy of the ledger).

* :func:`reconcile`, before planning: a crash's leftovers are cleaned up, a draft written just
  before a crash is found by its Message-ID and recorded, and (where the store can read
  conversations) what became of recent drafts is recorded: sent, deleted, replied to.
* :func:`execute`: in chunks of the store's ``batch_size``, compose each touch (threaded into
  its sequence's conversation, see :class:`Threads`), record the chunk ``pending`` with the
  Message-IDs in one transaction, hand it to the store at once, and record it ``drafted`` in one
  transaction. A touch tried before is looked up first (by key and Message-ID): it may exist
  although we never heard back. A store failure (the mailbox refused our token, or cannot be
  reached) fails the touch; the store itself raises what ends the night. The chunks are
  composed by :mod:`outreach.composer` (with a forked helper on a second core, which records
  and stores nothing: all of the above happens here).

Crash points (:mod:`outreach.faults`) mark each moment of a chunk: ``after-pending``, then the
store's own (the ``dir`` store: ``after-file`` per file, ``after-sync``), ``after-write`` per
stored draft, ``before-drafted``.

It asks stores only what :class:`outreach.drafts.DraftStore` declares.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from outreach import composer, render
from outreach.book import Book
from outreach.drafts import DraftStore
from outreach.errors import OutreachError, Problem, RenderError, StoreError
from outreach.faults import crash_point
from outreach.ledger import Ledger, Row
from outreach.message import Draft, Thread, compose, thread_for
from outreach.model import Touch
from outreach.touchkey import TouchKey

Progress = Callable[[int, int], None]

WATCH_DAYS = 60  # how long a draft's conversation is watched after it was made


@dataclass(frozen=True)
class Made:
    touch: Touch
    draft: Draft
    ref: str
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class Drafted:
    """What a run reports of a draft it made: the message itself is not kept."""

    key: str
    to: str
    subject: str
    reason: str
    late_days: int
    ref: str
    message_id: str
    recovered: bool = False

    @classmethod
    def of(cls, made: Made, today: dt.date) -> Drafted:
        t, d = made.touch, made.draft
        return cls(
            t.key,
            d.to,
            d.subject,
            t.reason,
            t.late_days(today),
            made.ref,
            d.message_id,
            made.recovered,
        )


@dataclass(frozen=True)
class Failed:
    touch: Touch
    problem: Problem


@dataclass
class Executed:
    """What :func:`execute` did, in the order of the touches it was given (``results`` stays
    empty when they were handed to ``each``)."""

    results: list[Made | Failed] = field(default_factory=list)
    made_count: int = 0
    failed_count: int = 0

    @property
    def made(self) -> list[Made]:
        return [r for r in self.results if isinstance(r, Made)]

    @property
    def failed(self) -> list[Failed]:
        return [r for r in self.results if isinstance(r, Failed)]


def failure_problem(book: Book, touch: Touch, exc: RenderError, what: str = "") -> Problem:
    """A render failure as one line naming the template, the touch, the contact and the fix;
    ``what`` says what was special about a sample ``check`` rendered ("a meeting without a
    title")."""
    cfile, cline = book.contact_line(touch.contact_id)
    where = f"{cfile}:{cline}" if cline else cfile
    sample = f", with {what}" if what else ""
    return Problem(
        exc.template or "template",
        exc.line,
        f"{touch.key}",
        f"{exc.message} (contact {touch.contact_id} at {where}{sample})",
        exc.hint,
    )


class Threads:
    """Where a sequence's later note goes: into its first note's conversation, under its subject.
    The first notes are those the ledger holds (looked up by key when a later note needs one, so
    a night reads only those), and those composed earlier in the same plan (a ``plan --days``
    run makes first notes on coming nights)."""

    def __init__(
        self,
        book: Book,
        firsts: dict[str, tuple[str, str | None]],
        lookup: Callable[[str], tuple[str, str | None] | None] | None = None,
    ) -> None:
        self.book = book
        self.firsts = firsts  # first-note key -> (subject, the mailbox's thread id)
        self.lookup = lookup  # the ledger, for a first note not in ``firsts``

    @classmethod
    def of_ledger(cls, book: Book, ledger: Ledger | None) -> Threads:
        """Looking up the ledger's first notes as they are needed."""
        sequences = {c.id for c in book.campaigns if c.steps}
        lookup = ledger.first_note if ledger is not None and sequences else None
        return cls(book, {}, lookup)

    @classmethod
    def read(cls, book: Book) -> Threads:
        """From the ledger opened read-only (``plan``): its first notes, read at once."""
        ledger = Ledger.open_readonly(book.path(book.settings.state))
        if ledger is None:
            return cls(book, {})
        try:
            sequences = {c.id for c in book.campaigns if c.steps}
            rows = ledger.rows("drafted") if sequences else []
            return cls(
                book,
                {
                    r.key: (r.subject, r.thread_id)
                    for r in rows
                    if r.subject and r.campaign in sequences
                },
            )
        finally:
            ledger.close()

    def first(self, key: str) -> tuple[str, str | None] | None:
        found = self.firsts.get(key)
        if found is None and self.lookup is not None:
            found = self.lookup(key)
            if found is not None:
                self.firsts[key] = found
        return found

    def thread(self, touch: Touch) -> Thread | None:
        if touch.step == 1:
            return None
        first = self.first(touch.first_key)
        if first is None:
            return None
        return thread_for(self.book, touch.key, first[0], first[1])

    def resolve(self, touches: Sequence[Touch]) -> None:
        """Look up now the first notes the later notes of ``touches`` thread into: composing
        them then reads no ledger (:mod:`outreach.composer`'s helper must not)."""
        for touch in touches:
            if touch.step > 1:
                self.first(touch.first_key)

    def detach(self) -> None:
        """Read the ledger no more (a forked helper: the ledger's connection is this process's)."""
        self.lookup = None

    def compose(self, env: render.Environment, touch: Touch, today: dt.date) -> Draft:
        """The draft of ``touch``, threaded; a first note is remembered for its later notes."""
        draft = compose(self.book, env, touch, today, self.thread(touch))
        if touch.step == 1:  # being drafted: not in the ledger as drafted
            self.firsts.setdefault(touch.key, (draft.subject, None))
        return draft


# --------------------------------------------------------------------------- before planning


def reconcile(book: Book, store: DraftStore, ledger: Ledger, today: dt.date) -> list[str]:
    """Make the ledger agree with the store before planning; the keys recovered after a crash."""
    store.clean()
    # Recovery: a draft written just before a crash is found by its key and Message-ID.
    found = [
        (row.key, hit.ref, hit.thread_id)
        for row in ledger.rows("pending")
        if row.message_id and (hit := store.find_for(row.key, row.message_id)) is not None
    ]
    ledger.record_drafted(found)
    recovered = [key for key, _, _ in found]
    if store.capabilities.conversations:
        watch(book, ledger, store, today)
    return recovered


def watch(book: Book, ledger: Ledger, store: DraftStore, today: dt.date) -> None:
    """Look at the conversations of recent drafts: a draft sent or deleted unsent is recorded;
    a reply from the contact stops the sequence and counts as a touch for keep-in-touch."""
    sender = book.settings.sender.email.lower()
    since = today - dt.timedelta(days=WATCH_DAYS)
    by_thread: dict[str, list[Row]] = {}
    for r in ledger.watched(since):  # only the recent drafts with a conversation
        by_thread.setdefault(str(r.thread_id), []).append(r)
    for thread_id, group in sorted(by_thread.items()):
        try:
            messages = store.conversation(thread_id) or []
        except StoreError:
            continue  # the mailbox did not answer: look again tomorrow
        for r in group:
            ours = [m for m in messages if m.message_id == r.message_id]
            if r.outcome is None:
                if any(m.sent for m in ours):
                    ledger.set_outcome(r.key, "sent", max(m.day for m in ours))
                elif not any(m.draft for m in ours):
                    sent = [m for m in messages if m.sent and m.sender == sender]
                    if sent:  # Gmail may give the sent message a Message-ID of its own
                        ledger.set_outcome(r.key, "sent", max(m.day for m in sent))
                    else:
                        ledger.set_outcome(r.key, "deleted", today)
            made = dt.date.fromisoformat(str(r.made_on))
            for m in messages:
                if m.sender and m.sender != sender and not m.draft and m.day >= made:
                    ledger.add_reply(str(TouchKey.parse(r.key).first), r.contact, m.day)


# --------------------------------------------------------------------------- drafting


def execute(
    book: Book,
    touches: Sequence[Touch],
    store: DraftStore,
    ledger: Ledger,
    *,
    today: dt.date,
    progress: Progress | None = None,
    each: Callable[[Made | Failed], None] | None = None,
) -> Executed:
    """Draft ``touches`` into ``store``, recording each in ``ledger``, as one recorded run, in
    chunks of the store's ``batch_size`` (:func:`draft_chunk`). With ``each``, every result is
    handed to it as it comes and none is kept (a night of 10,000 drafts keeps no message)."""
    done = Executed()
    run_id = ledger.start_run(today, store.name, (c.id for c in book.contacts))
    env = render.environment(book.templates_dir, book.root)
    threads = Threads.of_ledger(book, ledger)
    threads.resolve(touches)
    caps = store.capabilities
    night = composer.chunks(
        lambda touch: threads.compose(env, touch, today),
        touches,
        max(1, caps.batch_size),
        messages=caps.reads_messages,
        stage=store.stage if caps.stages else None,
        detach=threads.detach,
        after=store.clean if caps.stages else None,
    )
    start = 0
    with contextlib.closing(night):
        for chunk, composed in night:
            if progress:
                progress(start, len(touches))
            start += len(chunk)
            for result in draft_chunk(book, chunk, composed, store, ledger, today):
                if isinstance(result, Made):
                    done.made_count += 1
                else:
                    done.failed_count += 1
                if each is None:
                    done.results.append(result)
                else:
                    each(result)
    if progress:
        progress(len(touches), len(touches))
    ledger.finish_run(run_id, done.made_count, done.failed_count)
    return done


def draft_chunk(
    book: Book,
    chunk: Sequence[Touch],
    drafts: Sequence[composer.Composed],
    store: DraftStore,
    ledger: Ledger,
    today: dt.date,
) -> list[Made | Failed]:
    """One chunk, exactly once, with what composing each touch gave (``drafts``, a draft or
    the error): record it pending in one transaction (those that could not be composed failed
    in the same one); look up those tried before (the draft may exist although we never heard
    back); hand the rest to the store at once; record the outcome in one transaction. A kill at
    any point leaves rows pending whose drafts the next run finds by Message-ID, or writes. The
    results, in the order of ``chunk``."""
    results: list[Made | Failed | None] = [None] * len(chunk)
    composed: list[tuple[int, Touch, Draft]] = []
    broken: list[tuple[Touch, str]] = []
    for i, (touch, draft) in enumerate(zip(chunk, drafts, strict=True)):
        if isinstance(draft, RenderError):
            problem = failure_problem(book, touch, draft)
            broken.append((touch, str(problem)))
            results[i] = Failed(touch, problem)
            continue
        if isinstance(draft, Exception):  # not a touch's failure: it ends the night
            raise draft
        composed.append((i, touch, draft))
    tried = ledger.recorded(t.key for _, t, _ in composed)
    ledger.record_pending(
        [(t, d.message_id, d.subject) for _, t, d in composed], broken, today=today
    )
    crash_point("after-pending")
    drafted: list[tuple[str, str, str | None]] = []
    failed: list[tuple[Touch, str]] = []

    def store_failed(i: int, touch: Touch, exc: OutreachError) -> None:
        problem = Problem(store.where, None, touch.key, exc.message, exc.hint)
        failed.append((touch, str(problem)))
        results[i] = Failed(touch, problem)

    ready: list[tuple[int, Touch, Draft]] = []
    for i, touch, draft in composed:
        if touch.key in tried:  # tried before: it may exist although we never heard back
            try:
                existing = store.find_for(touch.key, draft.message_id)
            except StoreError as exc:  # AuthError and MailboxUnreachable end the night
                store_failed(i, touch, exc)
                continue
            if existing is not None:
                drafted.append((touch.key, existing.ref, existing.thread_id))
                results[i] = Made(touch, draft, existing.ref, recovered=True)
                continue
        ready.append((i, touch, draft))
    outcomes = store.create_many([d for _, _, d in ready]) if ready else []
    for (i, touch, draft), result in zip(ready, outcomes, strict=True):
        if isinstance(result, OutreachError):
            store_failed(i, touch, result)
            continue
        crash_point("after-write")
        drafted.append((touch.key, result.ref, result.thread_id))
        results[i] = Made(touch, draft, result.ref)
    crash_point("before-drafted")
    if drafted or failed:
        ledger.record_drafted(drafted, failed)
    return [r for r in results if r is not None]
