"""The follow-ups: the calendar events a campaign adds around its touches (call Jane, write
Sam's card, book the review), on the days of the calendar's rolling window.

Part of the planner: an event is anchored on the occasion (it exists whether or not there is a
draft) or on the draft (it follows the night the draft was made).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from outreach import occasions
from outreach.audience import draft_blocker, in_audience
from outreach.book import Book
from outreach.model import Campaign, Contact, FollowUp, IntervalTrigger
from outreach.touch import History, Occasion, Touch
from outreach.triggers import country_of, make_touch, occasions_between, occasions_for

PROBE_DAYS = 30  # the nights a window is looked at from, this far apart


@dataclass(frozen=True)
class Scheduled:
    """A follow-up event of one touch on one day: call Jane, write Sam's card, book the review."""

    touch: Touch
    followup: FollowUp
    day: dt.date
    draft: str  # "made" (in the ledger), "planned" (a run will make it), "none" (no draft)

    @property
    def key(self) -> str:
        return f"{self.touch.key}#{self.followup.ident}"


def _occasions_around(
    book: Book,
    contact: Contact,
    camp: Campaign,
    history: History,
    start: dt.date,
    end: dt.date,
    today: dt.date,
) -> list[Touch]:
    """Every touch of this campaign for this contact whose occasion falls near [start, end]:
    the touches of the nights from two months before ``start`` to a month after ``end``."""
    if isinstance(camp.trigger, IntervalTrigger):
        found = {t.key: t for t in occasions_for(book, contact, camp, today, history)}
        # a note made, and due, longer ago than any follow-up reaches has no event in the
        # window: the cost stays that of the window, not of the years of notes before it
        reach = max(0, max((fu.offset_days for fu in camp.followups), default=0))
        oldest = start - dt.timedelta(days=3 * reach + 30)  # business days: 3x is ample
        for key, made in history.made_for(camp.id, contact.id):
            if key.step != 1 or str(key) in found:
                continue
            try:
                day = dt.date.fromisoformat(key.occasion)
            except ValueError:
                continue
            if made < oldest and day < oldest:
                continue
            occasion = Occasion("interval", day, camp.title, day.isoformat())
            found[str(key)] = make_touch(camp, contact, occasion, day, day, "keep in touch")
        return list(found.values())
    nights = []
    night = start - dt.timedelta(days=60)
    while night <= end + dt.timedelta(days=30):
        nights.append(night)
        night += dt.timedelta(days=PROBE_DAYS)
    return occasions_between(book, contact, camp, history, nights)


def followups(book: Book, history: History, *, today: dt.date) -> list[Scheduled]:
    """The follow-up events whose day falls in the calendar's rolling window around ``today``.

    Anchored on the occasion, an event exists whether or not there is a draft (a card for someone
    who wants no email). Anchored on the draft, it follows the night the draft was made; no draft
    made, no event.
    Do-not-contact is absolute here too.
    """
    cal = book.settings.calendar
    start = today - dt.timedelta(days=cal.past_days)
    end = today + dt.timedelta(days=cal.future_days)
    out: list[Scheduled] = []
    for camp in book.campaigns:
        if not camp.enabled or not camp.followups:
            continue
        for contact in book.contacts:
            if (
                not in_audience(contact, camp, book.settings.country)
                or contact.preferences.do_not_contact
            ):
                continue
            can_draft = camp.template is not None and draft_blocker(contact, camp) is None
            country = country_of(book, contact)
            for touch in _occasions_around(book, contact, camp, history, start, end, today):
                made = history.made_day(touch)
                if made is not None:
                    draft = "made"
                elif can_draft and touch.last_day >= today:
                    draft = "planned"
                else:
                    draft = "none"
                for fu in camp.followups:
                    if fu.anchor == "draft":
                        if made is None:
                            continue  # "call a week after the note": only once there is a note
                        base = made
                    else:
                        base = touch.occasion.date
                    day = occasions.add_days(base, fu.offset_days, country, fu.business_days)
                    if start <= day <= end:
                        out.append(Scheduled(touch, fu, day, draft))
    out.sort(key=lambda s: (s.day, s.key))
    return out
