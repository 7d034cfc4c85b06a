"""The touches of an introduction campaign (``trigger: {kind: introduction, mode: ...}``): one
act about two people, from introductions.yaml.

* ``together``: one note, the ``from`` contact's touch, to both (both in To);
* ``apart``: one note to each: the ``from`` person (who will call) gets the other's details, the
  ``to`` person (who benefits) learns that a call is on its way;
* a colleague of the user's: one note to the contact, the colleague in Cc.

Due on the entry's date, caught up for ``catch_up_days`` (2). Do-not-contact, or no e-mail, on
either side cancels the introduction (:func:`cancelled` says why, for ``plan``). Part of the
planner: pure.
"""

from __future__ import annotations

import datetime as dt

from outreach.book import Book
from outreach.introduction import Introduction
from outreach.model import Campaign, Contact, IntroductionTrigger
from outreach.touch import Occasion, Touch
from outreach.triggers import DEFAULT_THANKS_CATCH_UP, fmt_day, make_touch


def mode_of(intro: Introduction, trig: IntroductionTrigger) -> str:
    return "colleague" if intro.colleague is not None else (intro.mode or trig.mode)


def _why_not(book: Book, ident: str | None) -> str | None:
    if ident is None:
        return None
    c = book.contact(ident)
    if c.preferences.do_not_contact:
        return f"{ident} is do-not-contact"
    if not c.preferences.email_ok:
        return f"{ident} takes no email (preferences.email_ok: false)"
    return None


def cancelled(book: Book, intro: Introduction) -> str | None:
    """Why this introduction makes no note at all, or None."""
    for ident in (intro.from_, intro.to):
        why = _why_not(book, ident)
        if why is not None:
            return (
                f"introduction of {intro.from_ or 'your colleague'} and {intro.to} on "
                f"{fmt_day(intro.date)} cancelled: {why}"
            )
    return None


def touches(book: Book, contact: Contact, camp: Campaign, trig: IntroductionTrigger) -> list[Touch]:
    """The introduction touches of ``contact`` (the touch's contact: who the note goes to)."""
    catch_up = camp.catch_up_days if camp.catch_up_days is not None else DEFAULT_THANKS_CATCH_UP
    out: list[Touch] = []
    for intro in book.introductions:
        if cancelled(book, intro) is not None:
            continue
        mode = mode_of(intro, trig)
        if mode == "together":
            roles = [("together", intro.from_, intro.to)]
        elif mode == "apart":
            roles = [("from", intro.from_, intro.to), ("to", intro.to, intro.from_)]
        else:
            roles = [("to", intro.to, None)]
        for role, who, other in roles:
            if who != contact.id:
                continue
            ident = intro.ident if mode != "apart" else f"{intro.ident}-{role}"
            other_name = (
                book.contact(other).name.full
                if other
                else (intro.colleague.name if intro.colleague else "")
            )
            label = (
                f"introduction to {other_name}"
                if role != "from"
                else f"introduction of {other_name}"
            )
            occasion = Occasion(
                "introduction", intro.date, label, ident, field=role, person=other, intro=intro
            )
            last = intro.date + dt.timedelta(days=catch_up)
            reason = f"{label} on {fmt_day(intro.date)}: {intro.why}"
            out.append(make_touch(camp, contact, occasion, intro.date, last, reason))
    return out
