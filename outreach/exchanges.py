"""What the mailbox says, as the planner uses it (pure: no I/O, no clock).

Mail seen in the mailbox (``mailbox.watch``, :mod:`outreach.sources.mailbox`) is in the history:
interactions of ``seen`` whose source is ``mailbox``, and ``heard`` (the days a contact wrote).

* :func:`held`: after a message from a contact, their notes below priority :data:`HOLD_PRIORITY`
  wait ``mailbox.hold_days`` (a thank-you or a birthday never waits, and nothing waits past its
  last day: a greeting is never lost to a hold);
* :func:`last_touch`: the latest touch of a contact with its kind and source, for ``plan``;
* :func:`quieted`: keep-in-touch notes that mail made unnecessary, with the reason, for ``plan``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from outreach import audience
from outreach.book import Book
from outreach.model import Campaign, Contact, IntervalTrigger
from outreach.touch import History, Touch
from outreach.triggers import due_touches

HOLD_PRIORITY = 80  # notes of this priority or higher are never held (a thank-you, a birthday)
MAILBOX = "mailbox"


@dataclass(frozen=True)
class LastTouch:
    """A contact's latest touch: when, what, and where it is known from."""

    date: dt.date
    kind: str  # email, meeting, call, draft ...
    source: str  # draft (ours), mailbox (mail, a reply), meeting (the calendar feeds), logged
    summary: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "date": self.date.isoformat(),
            "kind": self.kind,
            "source": self.source,
            "summary": self.summary,
        }

    def line(self) -> str:
        """``Sat 28 Nov, email from Jane``."""
        what = self.summary or self.kind
        return f"{self.date:%a %d %b}, {what}"


def held(touch: Touch, history: History, today: dt.date, hold_days: int) -> str | None:
    """Why the touch waits after a message from the contact, or None."""
    if not hold_days or touch.priority >= HOLD_PRIORITY:
        return None
    heard = [d for d in history.heard_days(touch.contact_id) if d <= today]
    if not heard:
        return None
    last = max(heard)
    until = last + dt.timedelta(days=hold_days)
    if not today < until <= touch.last_day:
        return None
    return (
        f"held: they wrote on {last:%a %d %b}; notes below priority {HOLD_PRIORITY} wait "
        f"{hold_days} days (mailbox.hold_days), until {until:%a %d %b}"
    )


def _mail(history: History, contact_id: str) -> list[tuple[dt.date, str, str | None]]:
    sources = history.seen_sources or {}
    return [
        (i.date, i.kind, i.summary)
        for i in (history.seen or {}).get(contact_id, ())
        if sources.get((contact_id, i.date, i.summary)) == MAILBOX
    ]


def last_touch(
    contact: Contact, history: History, before: dt.date, book: Book | None = None
) -> LastTouch | None:
    """The contact's latest touch up to ``before`` (as :func:`outreach.audience.last_touch`
    finds it), with its kind and source; on one day, mail wins over a meeting over the rest."""
    found: list[tuple[dt.date, int, LastTouch]] = []
    sources = history.seen_sources or {}
    for d in history.touch_days(contact.id):
        if d <= before:
            found.append((d, 0, LastTouch(d, "draft", "draft")))
    for d in history.reply_days(contact.id):
        if d <= before:
            found.append((d, 3, LastTouch(d, "email", MAILBOX, "replied")))
    seen = {(i.date, i.kind, i.summary) for i in (history.seen or {}).get(contact.id, ())}
    for day, kind, summary in seen:
        if day <= before:
            source = "meeting" if sources.get((contact.id, day, summary)) != MAILBOX else MAILBOX
            found.append(
                (day, 4 if source == MAILBOX else 2, LastTouch(day, kind, source, summary))
            )
    if book is not None:
        for m in audience.meetings_with(book, contact):
            if m.day <= before:
                found.append((m.day, 2, LastTouch(m.day, "meeting", "meeting", m.title or None)))
    for i in contact.interactions:
        if i.date <= before and (i.date, i.kind, i.summary) not in seen:
            found.append((i.date, 1, LastTouch(i.date, i.kind, "logged", i.summary)))
    if not found:
        return None
    return max(found, key=lambda f: (f[0], f[1]))[2]


def _without_mail(contact: Contact, history: History) -> tuple[Contact, History]:
    """The contact and the history as if the mailbox had not been read."""
    mail = set(_mail(history, contact.id))
    kept = tuple(i for i in contact.interactions if (i.date, i.kind, i.summary) not in mail)
    sources = history.seen_sources or {}
    seen = {
        c: tuple(i for i in v if sources.get((c, i.date, i.summary)) != MAILBOX)
        for c, v in (history.seen or {}).items()
    }
    return contact.model_copy(update={"interactions": kept}), replace(history, seen=seen)


def quieted(
    book: Book, history: History, today: dt.date, camp: Campaign, contact: Contact
) -> str | None:
    """Why a keep-in-touch note for ``contact``, not due today (the caller knows), would be due
    without the mail seen with them: ``not due: last exchange Mon 30 Nov, email from Jane
    (mailbox)``; else None."""
    if not isinstance(camp.trigger, IntervalTrigger):
        return None
    if not any(m[0] <= today for m in _mail(history, contact.id)):
        return None
    bare, without = _without_mail(contact, history)
    would = [t for t in due_touches(book, bare, camp, today, without) if not history.is_done(t)]
    if not would:
        return None
    last = last_touch(contact, history, today, book)
    line = last.line() if last is not None else ""
    return f"not due: last exchange {line} (mailbox)"
