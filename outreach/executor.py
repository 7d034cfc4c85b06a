"""The executor: one code path that turns touches into drafts, for ``run``, ``run --dry-run`` and
``preview`` alike (the last two with the memory store and a scratch copy of the ledger).

* :func:`reconcile`, before planning: a crash's leftovers are cleaned up, a draft written just
  before a crash is found by its Message-ID and recorded, and (where the store can read
  conversations) what became of recent drafts is recorded: sent, deleted, replied to.
* :func:`execute`: compose each touch (threaded into its sequence's conversation, see
  :class:`Threads`), record it ``pending`` with its Message-ID, hand the batch to the store, and
  record it ``drafted``. A touch tried before is looked up first: it may exist although we never
  heard back. A store failure (the mailbox refused our token, or cannot be reached) fails the
  touch; the store itself raises what ends the night.

It asks stores only what :class:`outreach.drafts.DraftStore` declares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from outreach import render
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


@dataclass(frozen=True)
class Failed:
    touch: Touch
    problem: Problem


@dataclass
class Executed:
    """What :func:`execute` did, in the order of the touches it was given."""

    results: list[Made | Failed] = field(default_factory=list)

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
    The first notes are those the ledger holds, and those composed earlier in the same plan (a
    ``plan --days`` run makes first notes on coming nights)."""

    def __init__(self, book: Book, firsts: dict[str, tuple[str, str | None]]) -> None:
        self.book = book
        self.firsts = firsts  # first-note key -> (subject, the mailbox's thread id)

    @classmethod
    def of_ledger(cls, book: Book, ledger: Ledger | None) -> Threads:
        sequences = {c.id for c in book.campaigns if c.steps}
        rows = ledger.rows("drafted") if ledger is not None and sequences else []
        return cls(
            book,
            {
                r.key: (r.subject, r.thread_id)
                for r in rows
                if r.subject and r.campaign in sequences
            },
        )

    @classmethod
    def read(cls, book: Book) -> Threads:
        """From the ledger opened read-only (``plan``)."""
        ledger = Ledger.open_readonly(book.path(book.settings.state))
        try:
            return cls.of_ledger(book, ledger)
        finally:
            if ledger is not None:
                ledger.close()

    def thread(self, touch: Touch) -> Thread | None:
        if touch.step == 1:
            return None
        first = self.firsts.get(touch.first_key)
        if first is None:
            return None
        return thread_for(self.book, touch.key, first[0], first[1])

    def compose(self, env: render.Environment, touch: Touch, today: dt.date) -> Draft:
        """The draft of ``touch``, threaded; a first note is remembered for its later notes."""
        draft = compose(self.book, env, touch, today, self.thread(touch))
        if touch.step == 1:
            self.firsts.setdefault(touch.key, (draft.subject, None))
        return draft


# --------------------------------------------------------------------------- before planning


def reconcile(book: Book, store: DraftStore, ledger: Ledger, today: dt.date) -> list[str]:
    """Make the ledger agree with the store before planning; the keys recovered after a crash."""
    store.clean()
    recovered = []
    # Recovery: a draft written just before a crash is found by its Message-ID and recorded.
    for row in ledger.rows("pending"):
        if row.message_id and (found := store.find(row.message_id)) is not None:
            ledger.mark_drafted(row.key, found.ref, found.thread_id)
            recovered.append(row.key)
    if store.capabilities.conversations:
        watch(book, ledger, store, today)
    return recovered


def watch(book: Book, ledger: Ledger, store: DraftStore, today: dt.date) -> None:
    """Look at the conversations of recent drafts: a draft sent or deleted unsent is recorded;
    a reply from the contact stops the sequence and counts as a touch for keep-in-touch."""
    sender = book.settings.sender.email.lower()
    since = today - dt.timedelta(days=WATCH_DAYS)
    by_thread: dict[str, list[Row]] = {}
    for r in ledger.rows("drafted"):
        if (
            r.thread_id
            and r.outcome != "deleted"
            and r.made_on
            and dt.date.fromisoformat(r.made_on) >= since
        ):
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
) -> Executed:
    """Draft ``touches`` into ``store``, recording each in ``ledger``, as one recorded run."""
    done = Executed()
    run_id = ledger.start_run(today, store.name)
    env = render.environment(book.templates_dir, book.root)
    threads = Threads.of_ledger(book, ledger)
    size = max(1, store.capabilities.batch_size)

    def store_failed(touch: Touch, exc: OutreachError) -> None:
        problem = Problem(store.where, None, touch.key, exc.message, exc.hint)
        ledger.mark_failed(touch, str(problem), today)
        done.results.append(Failed(touch, problem))

    for start in range(0, len(touches), size):
        if progress:
            progress(start, len(touches))
        ready: list[tuple[Touch, Draft]] = []
        for touch in touches[start : start + size]:
            try:
                draft = threads.compose(env, touch, today)
            except RenderError as exc:
                problem = failure_problem(book, touch, exc)
                ledger.mark_failed(touch, str(problem), today)
                done.results.append(Failed(touch, problem))
                continue
            prior = ledger.get(touch.key)
            ledger.mark_pending(touch, draft.message_id, today, draft.subject)
            if prior is not None:  # tried before: it may exist although we never heard back
                try:
                    existing = store.find(draft.message_id)
                except StoreError as exc:  # AuthError and MailboxUnreachable end the night
                    store_failed(touch, exc)
                    continue
                if existing is not None:
                    ledger.mark_drafted(touch.key, existing.ref, existing.thread_id)
                    done.results.append(Made(touch, draft, existing.ref, recovered=True))
                    continue
            ready.append((touch, draft))
        results = store.create_many([d for _, d in ready]) if ready else []
        for (touch, draft), result in zip(ready, results, strict=True):
            if isinstance(result, OutreachError):
                store_failed(touch, result)
                continue
            crash_point("after-write")
            ledger.mark_drafted(touch.key, result.ref, result.thread_id)
            done.results.append(Made(touch, draft, result.ref))
    if progress:
        progress(len(touches), len(touches))
    ledger.finish_run(run_id, len(done.made), len(done.failed))
    return done
