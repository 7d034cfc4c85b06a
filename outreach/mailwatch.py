"""Mailbox awareness, the night's first step (``mailbox.watch``): read the headers of the mail
that came since the last read (:meth:`outreach.drafts.DraftStore.read_mail`), find the contacts
in it (:mod:`outreach.sources.mailbox`) and keep what it says in the ledger, with where the next
read starts, in one transaction:

* each message with a contact is an interaction (``seen``, source ``mailbox``; a message from
  them is ``inbound`` and holds routine notes);
* a message from a contact answering a note of a sequence stops the sequence (``replies``);
* our own draft's Message-ID in the sent folder records that draft as sent.

``plan`` reads the same without keeping anything (:func:`peek`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from outreach.book import Book
from outreach.drafts import DraftStore
from outreach.ledger import Ledger, Seen
from outreach.model import History, Interaction
from outreach.sources import mailbox
from outreach.touchkey import TouchKey

Notes = Callable[[Iterable[str], Iterable[str]], list[tuple[str, str, str | None, str | None]]]


@dataclass
class MailFacts:
    """What one read of the mailbox found."""

    marks: dict[str, str]
    seen: list[Seen] = field(default_factory=list)
    replies: list[tuple[str, str, dt.date]] = field(default_factory=list)  # first key, contact
    sent: list[tuple[str, dt.date]] = field(default_factory=list)  # our drafts, sent
    read: int = 0  # messages read


def watching(book: Book, store: DraftStore) -> bool:
    return book.settings.mailbox.watch and store.capabilities.mailbox


def gather(
    book: Book, store: DraftStore, marks: dict[str, str], notes: Notes, today: dt.date
) -> MailFacts:
    """Read the mailbox from ``marks`` on (``mailbox.lookback_days`` before ``today`` for a
    folder read never) and say what it means; raises StoreError when the mailbox cannot be read."""
    since = today - dt.timedelta(days=book.settings.mailbox.lookback_days)
    got = store.read_mail(marks, since)
    tz = ZoneInfo(book.settings.timezone)
    headers = [h for f in got.messages if (h := mailbox.read_header(f, tz)) is not None]
    facts = MailFacts(got.marks, read=len(got.messages))
    found = mailbox.exchanges(book, headers, today)
    seen: dict[tuple[str, str], Seen] = {}
    for ex in found:
        pair = (ex.contact, ex.header.message_id)
        before = seen.get(pair)
        if before is not None and (before.inbound or not ex.inbound):
            continue
        seen[pair] = Seen(
            ex.contact,
            ex.day,
            "email",
            "mailbox",
            ex.header.message_id,
            mailbox.summary(book, ex),
            ex.inbound,
        )
    facts.seen = list(seen.values())
    inbound = [ex for ex in found if ex.inbound and (ex.header.refs or ex.header.thread_id)]
    sent = [h for h in headers if h.folder == "sent"]
    ids = {r for ex in inbound for r in ex.header.refs} | {h.message_id for h in sent}
    threads = {str(ex.header.thread_id) for ex in inbound if ex.header.thread_id}
    rows = notes({f"<{i}>" for i in ids}, threads) if ids or threads else []
    sequences = {c.id for c in book.campaigns if c.steps}
    by_id = {str(m).strip("<>"): (k, c) for k, c, m, _ in rows if m}
    by_thread: dict[str, list[tuple[str, str]]] = {}
    for k, c, _, t in rows:
        if t:
            by_thread.setdefault(t, []).append((k, c))
    replies: set[tuple[str, str, dt.date]] = set()
    for ex in inbound:
        hits = [by_id[r] for r in ex.header.refs if r in by_id]
        hits += by_thread.get(str(ex.header.thread_id), []) if ex.header.thread_id else []
        for note, contact in hits:
            parsed = TouchKey.read(note)
            if contact == ex.contact and parsed is not None and parsed.campaign in sequences:
                replies.add((str(parsed.first), contact, ex.day))
    facts.replies = sorted(replies)
    facts.sent = sorted(
        {(by_id[h.message_id][0], min(h.day, today)) for h in sent if h.message_id in by_id}
    )
    return facts


def remember(book: Book, ledger: Ledger, store: DraftStore, today: dt.date) -> MailFacts | None:
    """Read the mailbox and keep what it says (``run``); None when nothing is watched."""
    if not watching(book, store):
        return None
    where = store.where
    facts = gather(book, store, ledger.mail_marks(where), ledger.notes_by_message, today)
    ledger.save_mail(where, facts.marks, facts.seen, facts.replies)
    for key, day in facts.sent:
        row = ledger.get(key)
        if row is not None and row.outcome is None:
            ledger.set_outcome(key, "sent", day)
    return facts


def merged(history: History, facts: MailFacts) -> History:
    """The history with what a read found, as if it had been kept (``plan``)."""
    seen = {k: list(v) for k, v in (history.seen or {}).items()}
    sources = dict(history.seen_sources or {})
    heard = {k: list(v) for k, v in (history.heard or {}).items()}
    for s in facts.seen:
        seen.setdefault(s.contact, []).append(
            Interaction.model_construct(date=s.day, kind="email", summary=s.summary)
        )
        sources[(s.contact, s.day, s.summary)] = s.source
        if s.inbound:
            heard.setdefault(s.contact, []).append(s.day)
    replies = {k: list(v) for k, v in (history.replies or {}).items()}
    for _, contact, day in facts.replies:
        replies.setdefault(contact, []).append(day)
    return replace(
        history,
        seen={k: tuple(sorted(v, key=lambda i: i.date)) for k, v in seen.items()},
        seen_sources=sources,
        heard={k: tuple(sorted(set(v))) for k, v in heard.items()},
        replies={k: tuple(sorted(v)) for k, v in replies.items()},
        stopped=history.stopped | {k for k, _, _ in facts.replies},
    )
