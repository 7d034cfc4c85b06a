"""What ``outreach check`` renders each template with, so that a gap shows when editing.

For every contact a campaign applies to: the touches the planner would make around today (one per
person: each child's birthday once), and for the triggers that take their values from outside
sources, also the thinnest values those sources give: a meeting without a title, description or
location (real calendar exports have them), an article from a feed, which has no personal note.
The real calendar and library may hold none of these tonight; a template must still work when
they come.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace

from outreach import planner
from outreach.book import Book
from outreach.model import Campaign, Contact, History, Touch


@dataclass(frozen=True)
class Sample:
    touch: Touch
    what: str = ""  # what is special about it, for the problem line: "a meeting without a title"


def samples(book: Book, contact: Contact, camp: Campaign, today: dt.date) -> list[Sample]:
    """The touches to render for this contact and campaign (none when it has no occasion): this
    year's and next year's dates and holidays (an age or a number of years differs), the next
    scheduled day even when it is months away, and the source samples."""
    out = [Sample(t) for t in planner.occasions_for(book, contact, camp, today, History())]
    if camp.trigger.kind == "schedule" and not any(s.touch.occasion.date >= today for s in out):
        out.extend(_next_scheduled(book, contact, camp, today))
    out.extend(_source_samples(book, contact, camp, today))
    return out


def _next_scheduled(
    book: Book, contact: Contact, camp: Campaign, today: dt.date
) -> Iterator[Sample]:
    """The first scheduled day after ``today`` (within a year): a schedule for March only has
    no occasion around a December ``check``, but its template must work in March too."""
    for month in range(1, 13):
        probe = today + dt.timedelta(days=30 * month)
        for touch in planner.occasions_for(book, contact, camp, probe, History()):
            if touch.occasion.date > today:
                yield Sample(touch)
                return


def _source_samples(
    book: Book, contact: Contact, camp: Campaign, today: dt.date
) -> Iterator[Sample]:
    kind = camp.trigger.kind
    if kind == "after_meeting":
        from outreach.sources.meetings import sample_meetings

        attendees = tuple(sorted(planner.addresses(contact)))
        if not attendees:
            return  # meetings are matched by address: nobody to meet
        full, bare = sample_meetings(today - dt.timedelta(days=1), attendees)
        lacking = "a meeting without a title, description or location"
        for meeting, what in ((full, ""), (bare, lacking)):
            yield from _first(replace(book, meetings=(meeting,)), contact, camp, today, what)
    elif kind == "introduction":
        yield from _introduction_samples(book, contact, camp, today)
    elif kind == "content":
        from outreach.sources.articles import sample_articles

        tags = tuple(sorted(planner.interests_of(contact)))
        if not tags:
            return  # no article can match them
        library, feed = sample_articles(today, tags)
        for article, what in ((library, ""), (feed, "a feed article, which has no note")):
            yield from _first(replace(book, articles=(article,)), contact, camp, today, what)


def _introduction_samples(
    book: Book, contact: Contact, camp: Campaign, today: dt.date
) -> Iterator[Sample]:
    """An introduction of this contact in each shape (to another person of the book, or to
    themselves when nobody else can be introduced), and of a colleague without a role."""
    from outreach.introduction import Colleague, Introduction

    if not contact.address("preferred"):
        return
    other = next(
        (
            c.id
            for c in book.contacts
            if c.id != contact.id and c.address("preferred") and not c.preferences.do_not_contact
        ),
        contact.id,
    )
    why = "a sample reason"
    shapes = [
        (
            Introduction.model_construct(
                date=today, from_=contact.id, to=other, why=why, mode="together", colleague=None
            ),
            "an introduction to both",
        ),
        (
            Introduction.model_construct(
                date=today, from_=contact.id, to=other, why=why, mode="apart", colleague=None
            ),
            "the one who will call",
        ),
        (
            Introduction.model_construct(
                date=today, from_=other, to=contact.id, why=why, mode="apart", colleague=None
            ),
            "the one who benefits",
        ),
        (
            Introduction.model_construct(
                date=today,
                from_=None,
                to=contact.id,
                why=why,
                mode=None,
                colleague=Colleague.model_construct(
                    name="Sam Sample", email="sam@example.com", role=None
                ),
            ),
            "a colleague without a role",
        ),
    ]
    for intro, what in shapes:
        yield from _first(replace(book, introductions=(intro,)), contact, camp, today, what)


def _first(
    book: Book, contact: Contact, camp: Campaign, today: dt.date, what: str
) -> Iterator[Sample]:
    """The first touch the planner makes of this book's one meeting or article."""
    for touch in planner.occasions_for(book, contact, camp, today, History()):
        yield Sample(touch, what)
        return
