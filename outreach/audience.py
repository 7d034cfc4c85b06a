"""Who a campaign reaches, and what is known to have happened with each person.

Part of the planner: the audience and what keeps a contact from getting a draft, a contact's
addresses and meetings, and their last touch of any kind (drafts, interactions, replies,
meetings in the feeds or remembered by the ledger).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from outreach.book import Book
from outreach.model import Campaign, Contact, Interaction
from outreach.touch import History


def in_audience(contact: Contact, campaign: Campaign, country: str | None = None) -> bool:
    """Whether the campaign's audience holds the contact; ``country``: the settings' country, for
    a contact without one (``audience.countries``)."""
    a = campaign.audience
    if a.countries and (contact.country or country) not in a.countries:
        return False
    if a.tags and not any(t in a.tags for t in contact.tags):
        return False
    if a.tiers and contact.tier not in a.tiers:
        return False
    if a.stages and contact.stage not in a.stages:
        return False
    if a.exclude_tags and any(t in a.exclude_tags for t in contact.tags):
        return False
    if a.handwritten is not None and contact.preferences.handwritten != a.handwritten:
        return False
    return contact.id not in a.exclude


def draft_blocker(contact: Contact, campaign: Campaign) -> str | None:
    """Why this contact can get no draft from this campaign, or None."""
    if contact.preferences.do_not_contact:
        return "marked do-not-contact"
    if not contact.preferences.email_ok:
        return "prefers no email (preferences.email_ok: false)"
    if not (contact.email.work or contact.email.personal):  # contact.address(...) is None
        return "has no email address"
    return None


def addresses(contact: Contact) -> frozenset[str]:
    return frozenset(a.lower() for a in (contact.email.work, contact.email.personal) if a)


def meetings_with(book: Book, contact: Contact) -> list[Any]:
    """The meetings (from the meeting feeds) this contact attended, by any of their addresses,
    in the feeds' order (looked up by address: the cost does not grow with the feeds)."""
    if not book.meetings:
        return []
    index = _attendance(book.meetings)
    email = contact.email
    found = {n for a in (email.work, email.personal) if a for n in index.get(a.lower(), ())}
    return [book.meetings[n] for n in sorted(found)]


_INDEX: list[tuple[tuple[Any, ...], dict[str, tuple[int, ...]]]] = []  # the last feeds, indexed


def _attendance(meetings: tuple[Any, ...]) -> dict[str, tuple[int, ...]]:
    """Attendee address -> the positions of their meetings in ``meetings``; the last index made
    is kept (held with its tuple, so the identity check cannot see a new tuple as the old)."""
    if _INDEX and _INDEX[0][0] is meetings:
        return _INDEX[0][1]
    index: dict[str, list[int]] = {}
    for n, m in enumerate(meetings):
        for a in dict.fromkeys(m.attendees):
            index.setdefault(a, []).append(n)
    made = {a: tuple(ns) for a, ns in index.items()}
    _INDEX[:] = [(meetings, made)]
    return made


def with_interactions(book: Book, history: History) -> Book:
    """The book with what else is known to have happened with each person added to their
    ``interactions``: meetings in the calendar feeds, meetings the ledger remembers, replies in a
    sequence's conversation. Templates (``contact.last_interaction``) and the calendar's
    cheat-sheet then see them like the interactions written in contacts.yaml."""
    people = []
    for contact in book.contacts:
        extra = [
            Interaction.model_construct(date=m.day, kind="meeting", summary=m.title or None)
            for m in meetings_with(book, contact)
        ]
        extra += (history.seen or {}).get(contact.id, ())
        extra += [
            Interaction.model_construct(date=d, kind="email", summary="replied")
            for d in history.reply_days(contact.id)
        ]
        have = {(i.date, i.kind, i.summary) for i in contact.interactions}
        new = []
        for i in extra:
            if (i.date, i.kind, i.summary) not in have:
                have.add((i.date, i.kind, i.summary))
                new.append(i)
        if new:
            merged = tuple(sorted((*contact.interactions, *new), key=lambda i: i.date))
            contact = contact.model_copy(update={"interactions": merged})
        people.append(contact)
    return replace(book, contacts=tuple(people))


def last_touch(
    contact: Contact, history: History, before: dt.date, book: Book | None = None
) -> dt.date | None:
    """The contact's latest touch of any kind up to ``before``: a draft, a logged interaction, a
    reply, a meeting in the meeting feeds or one the ledger remembers from earlier nights."""
    days = [d for d in history.touch_days(contact.id) if d <= before]
    days += [d for d in history.reply_days(contact.id) if d <= before]  # they wrote to us
    days += [d for d in history.seen_days(contact.id) if d <= before]  # met, now out of the feed
    if book is not None:
        days += [m.day for m in meetings_with(book, contact) if m.day <= before]
    logged = contact.last_interaction(before)
    if logged:
        days.append(logged)
    return max(days) if days else None
