"""The triggers: which touches each campaign could make for a contact, and when.

Part of the planner. One function per trigger kind (a date in the contact's life, a holiday, a
schedule, keeping in touch, after a meeting, an article to share) gives the touches with their
window (``due`` .. ``last_day``), before any filter: ``occasions_for`` around one night,
``occasions_between`` for every night of a span at once (the calendar's follow-ups).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, pairwise
from typing import Any

from outreach import occasions
from outreach.audience import last_touch, meetings_with
from outreach.book import Book
from outreach.datefields import dated_people
from outreach.idents import article_aliases, meeting_aliases
from outreach.matching import interests_of, matches
from outreach.model import (
    AfterMeetingTrigger,
    Campaign,
    Contact,
    ContentTrigger,
    DateTrigger,
    HolidayTrigger,
    IntervalTrigger,
    ScheduleTrigger,
)
from outreach.slugs import child_slugs as child_slugs
from outreach.touch import History, Occasion, Touch
from outreach.touchkey import TouchKey

DEFAULT_SCHEDULE_CATCH_UP = 14
FLEXIBLE_SCHEDULE_CATCH_UP = 45  # an issue that may wait for a quieter morning: six weeks
DEFAULT_THANKS_CATCH_UP = 2
AFTER_CATCH_UP = 14  # a note some days after a date (days_after): caught up this long
FAR = dt.timedelta(days=3650)
MAX_GAP = 30  # occasions_between: the most days between two nights it is asked about
SHIFT_MAX = 31  # the most days a business-day shift moves a day (occasions.shift_business: 30)


@functools.lru_cache(maxsize=4096)
def fmt_day(day: dt.date) -> str:
    """``Sun 22 Nov``: how reasons name a day."""
    return f"{day:%a} {day.day} {day:%b}"


def country_of(book: Book, contact: Contact) -> str:
    return contact.country or book.settings.country


def shifted(day: dt.date, country: str, camp: Campaign, not_after: dt.date | None) -> dt.date:
    moved = occasions.shift_business(day, country, camp.business_days)
    if not_after is not None and moved > not_after:
        moved = occasions.shift_business(day, country, "previous")
    return moved


def make_touch(
    camp: Campaign,
    contact: Contact,
    occasion: Occasion,
    due: dt.date,
    last: dt.date,
    reason: str,
    old_idents: Iterable[str] = (),
) -> Touch:
    """The touch for ``occasion``; ``old_idents``: its key part as earlier releases made it."""
    olds = [i for i in old_idents if i != occasion.ident]
    aliases = tuple(str(TouchKey(camp.id, contact.id, i)) for i in olds) if olds else ()
    return Touch(
        key=str(TouchKey(camp.id, contact.id, occasion.ident)),
        contact_id=contact.id,
        campaign_id=camp.id,
        occasion=occasion,
        due=due,
        last_day=last,
        priority=camp.priority,
        reason=reason,
        aliases=aliases,
    )


# --------------------------------------------------------------------------- the six triggers


def _holds(due: dt.date, last: dt.date, night: dt.date | None) -> bool:
    """Whether the window ``due`` .. ``last`` holds ``night`` (any window when None)."""
    return night is None or due <= night <= last


def _near(occ: dt.date, days_before: int, night: dt.date | None) -> bool:
    """Whether a date's or holiday's window may hold ``night``: it closes by the day itself and
    opens at most ``days_before`` days and a business-day shift (30 days at most) before it."""
    return night is None or night <= occ <= night + dt.timedelta(days=days_before + SHIFT_MAX)


def _years(trig: DateTrigger, first: dt.date, last: dt.date) -> range:
    """The years of occasions due from ``first`` to ``last`` (days_after: last year's too)."""
    back = 1 + trig.days_after // 365 if trig.days_after else 0
    return range(first.year - back, last.year + 2)


def _date_occasions(
    book: Book,
    contact: Contact,
    camp: Campaign,
    trig: DateTrigger,
    years: range,
    night: dt.date | None = None,
) -> Iterator[Touch]:
    f = trig.field
    people = dated_people(contact, f)
    country, after = country_of(book, contact), trig.days_after
    for pdate, prefix, label, person, old in people:
        for year in years:
            occ = pdate.in_year(year)
            if pdate.year is not None and year <= pdate.year:
                continue  # the event itself, not an anniversary of it
            catch_up = camp.catch_up_days
            if after:  # some days after the day: then, caught up for catch_up_days (14)
                due = shifted(occ + dt.timedelta(days=after), country, camp, None)
                last = due + dt.timedelta(days=AFTER_CATCH_UP if catch_up is None else catch_up)
            elif not _near(occ, trig.days_before, night):
                continue
            else:
                due = shifted(occ - dt.timedelta(days=trig.days_before), country, camp, occ)
                last = occ if catch_up is None else min(occ, due + dt.timedelta(days=catch_up))
            if not _holds(due, last, night):
                continue
            n = occasions.years_between(pdate.year, year)
            occasion = Occasion(
                "date", occ, label, f"{prefix}{year}", field=f, person=person, years=n
            )
            lead = f", {trig.days_before} days ahead" if trig.days_before else ""
            lead += f", {after} days after" if after else ""
            turns = ""
            if n is not None:
                turns = f" (turns {n})" if "birthday" in f else f" ({n} years)"
            reason = f"{label} on {fmt_day(occ)}{turns}{lead}"
            yield make_touch(camp, contact, occasion, due, last, reason, (f"{old}{year}",))


def _holiday_occasions(
    book: Book,
    contact: Contact,
    camp: Campaign,
    trig: HolidayTrigger,
    years: range,
    night: dt.date | None = None,
) -> Iterator[Touch]:
    country = trig.country or country_of(book, contact)
    days: set[dt.date] = set()
    if trig.dates:  # explicit dates replace the package's (no second note on a near-miss date)
        days = {d for d in trig.dates if d.year in years}
    else:
        for year in years:
            days.update(occasions.holiday_dates(trig.name, country, year, trig.categories))
    for occ in sorted(days):
        if not _near(occ, trig.days_before, night):
            continue
        # the holiday's date comes from trigger.country; business days are the contact's own
        due = shifted(
            occ - dt.timedelta(days=trig.days_before), country_of(book, contact), camp, occ
        )
        last = occ
        if camp.catch_up_days is not None:
            last = min(last, due + dt.timedelta(days=camp.catch_up_days))
        if not _holds(due, last, night):
            continue
        occasion = Occasion("holiday", occ, trig.name, occ.isoformat())
        lead = f", {trig.days_before} days ahead" if trig.days_before else ""
        yield make_touch(camp, contact, occasion, due, last, f"{trig.name} on {fmt_day(occ)}{lead}")


def _schedule_occasions(
    book: Book,
    contact: Contact,
    camp: Campaign,
    trig: ScheduleTrigger,
    first: dt.date,
    last_night: dt.date,
    night: dt.date | None = None,
) -> Iterator[Touch]:
    catch_up = camp.catch_up_days
    if catch_up is None:
        catch_up = FLEXIBLE_SCHEDULE_CATCH_UP if camp.flexible else DEFAULT_SCHEDULE_CATCH_UP
    windows = _schedule_windows(
        trig.months, trig.day, catch_up, camp.business_days, country_of(book, contact), first,
        last_night,
    )
    for occ, due, last in windows:
        if not _holds(due, last, night):
            continue
        occasion = Occasion("schedule", occ, camp.title, occ.isoformat())
        reason = f"{camp.title}: scheduled {fmt_day(occ)}"
        yield make_touch(camp, contact, occasion, due, last, reason)


@functools.lru_cache(maxsize=1024)
def _schedule_windows(
    months: tuple[int, ...],
    day: int,
    catch_up: int,
    business_days: occasions.Direction,
    country: str,
    first: dt.date,
    last_night: dt.date,
) -> tuple[tuple[dt.date, dt.date, dt.date], ...]:
    """A schedule's (day, due, last day) around ``first`` .. ``last_night`` in ``country``: the
    same for every contact of that country (a pure lookup, cached)."""
    start = first - dt.timedelta(days=catch_up + 40)
    end = last_night + dt.timedelta(days=40)
    out = []
    for occ in occasions.schedule_days(months, day, start, end):
        due = occasions.shift_business(occ, country, business_days)
        last = due + dt.timedelta(days=catch_up)
        following = occasions.schedule_days(
            months, day, occ + dt.timedelta(days=1), occ + dt.timedelta(days=400)
        )
        if following:
            # caught up until the next scheduled day, or until the next one is due if a
            # business-day shift brings that earlier: one issue of a schedule at a time
            next_due = occasions.shift_business(following[0], country, business_days)
            last = min(last, following[0] - dt.timedelta(days=1), next_due - dt.timedelta(days=1))
        out.append((occ, due, last))
    return tuple(out)


def _interval_occasions(
    book: Book,
    contact: Contact,
    camp: Campaign,
    trig: IntervalTrigger,
    today: dt.date,
    history: History,
) -> Iterator[Touch]:
    last = last_touch(contact, history, today, book)
    if last is None:
        anchor = history.since or today
        due = anchor
        reason = f"no touch on record; keep in touch every {trig.days} days"
    else:
        due = last + dt.timedelta(days=trig.days)
        # no "N days ago": a reason must not change from one night to the next (the calendar
        # would see a changed event every night)
        reason = f"last touch {last.isoformat()}, keep in touch every {trig.days} days"
    country = country_of(book, contact)
    moved = shifted(due, country, camp, None)
    if last is not None and moved <= last:
        # 'previous' must not bring it to or before the last touch: that key may be done
        # already, and the keep-in-touch would never come again
        moved = occasions.shift_business(due, country, "next")
    due = moved
    occasion = Occasion("interval", due, camp.title, due.isoformat(), last_touch=last)
    yield make_touch(camp, contact, occasion, due, today + FAR, reason)


def _meeting_occasions(
    book: Book, contact: Contact, camp: Campaign, trig: AfterMeetingTrigger, today: dt.date
) -> Iterator[Touch]:
    """A note after each meeting with this contact, the next (business) morning; a recurring
    meeting only once (one key per series) unless the campaign asks for each occurrence."""
    country = country_of(book, contact)
    catch_up = camp.catch_up_days if camp.catch_up_days is not None else DEFAULT_THANKS_CATCH_UP
    series: dict[str, list[Touch]] = {}
    for m in sorted(meetings_with(book, contact), key=lambda m: (m.start, m.key)):
        once = m.recurring and not trig.each_occurrence
        ident = "series-" + hashlib.sha1(m.series.encode()).hexdigest()[:10] if once else m.key
        due = occasions.add_days(m.day, trig.days_after, country, trig.business_days)
        what = f"meeting '{m.title}'" if m.title else "untitled meeting"
        occasion = Occasion("after_meeting", m.day, m.title or "meeting", ident, meeting=m)
        touch = make_touch(
            camp,
            contact,
            occasion,
            due,
            due + dt.timedelta(days=catch_up),
            f"{what} on {fmt_day(m.day)}",
            () if once else meeting_aliases(m),
        )
        if once:
            series.setdefault(ident, []).append(touch)
        else:
            yield touch
    for touches in series.values():
        # one note per series (one key): after the occurrence whose window holds today, if any
        yield next((t for t in touches if t.due <= today <= t.last_day), touches[0])


def _content_occasions(
    book: Book,
    contact: Contact,
    camp: Campaign,
    trig: ContentTrigger,
    nights: Sequence[dt.date],
    history: History,
) -> Iterator[Touch]:
    """On each of ``nights``: the freshest matching article this person has not had from this
    campaign, at the campaign's cadence. An article dated after the night is not published yet:
    it is not available that night (and does not hide the older ones)."""
    shared = [d for _, d in history.made_for(camp.id, contact.id)]
    done = history.done_for(camp.id, contact.id)
    wanted = interests_of(contact)
    unshared = [a for a in book.articles if not any(i in done for i in (a.id, *article_aliases(a)))]
    fits: dict[int, bool] = {}  # matches() once per article, whatever the number of nights

    def fit(n: int) -> bool:
        if n not in fits:
            fits[n] = matches(unshared[n], wanted)
        return fits[n]

    for today in nights:
        fresh = [
            a
            for n, a in enumerate(unshared)
            if (a.date is None or 0 <= (today - a.date).days <= trig.max_age_days) and fit(n)
        ]
        if not fresh:
            continue
        best = max(fresh, key=lambda a: (a.date or dt.date.min, a.title, a.id))
        since = history.since or today
        due = max(shared) + dt.timedelta(days=trig.every_days) if shared else since
        due = max(due, best.date) if best.date else due
        occasion = Occasion("content", due, best.title, best.id, article=best)
        tags = ", ".join(sorted(set(best.tags) & wanted)) or "their interests"
        # shared while it is fresh (an undated article: always); then the next freshest is chosen
        last = best.date + dt.timedelta(days=trig.max_age_days) if best.date else today + FAR
        reason = f"article '{best.title}' ({tags})"
        yield make_touch(camp, contact, occasion, due, last, reason, article_aliases(best))


# --------------------------------------------------------------------------- the queries


def _introductions(book: Book, contact: Contact, camp: Campaign, trig: Any) -> list[Touch]:
    from outreach import intro_touches  # (it builds on this module)

    return intro_touches.touches(book, contact, camp, trig)


def occasions_for(
    book: Book, contact: Contact, camp: Campaign, today: dt.date, history: History
) -> Iterator[Touch]:
    """Every touch this campaign could make for this contact around ``today`` (not filtered)."""
    trig = camp.trigger
    years = range(today.year, today.year + 2)
    if isinstance(trig, DateTrigger):
        yield from _date_occasions(book, contact, camp, trig, _years(trig, today, today))
    elif isinstance(trig, HolidayTrigger):
        yield from _holiday_occasions(book, contact, camp, trig, years)
    elif isinstance(trig, ScheduleTrigger):
        yield from _schedule_occasions(book, contact, camp, trig, today, today)
    elif isinstance(trig, IntervalTrigger):
        yield from _interval_occasions(book, contact, camp, trig, today, history)
    elif isinstance(trig, AfterMeetingTrigger):
        yield from _meeting_occasions(book, contact, camp, trig, today)
    elif isinstance(trig, ContentTrigger):
        yield from _content_occasions(book, contact, camp, trig, (today,), history)
    else:
        yield from _introductions(book, contact, camp, trig)


def due_touches(
    book: Book, contact: Contact, camp: Campaign, today: dt.date, history: History
) -> list[Touch]:
    """The touches of ``occasions_for`` whose window holds ``today``, in its order; the dates,
    holidays and schedules whose window cannot hold it are passed over before a touch is made."""
    trig = camp.trigger
    years = range(today.year, today.year + 2)
    if isinstance(trig, DateTrigger):
        return list(_date_occasions(book, contact, camp, trig, _years(trig, today, today), today))
    if isinstance(trig, HolidayTrigger):
        return list(_holiday_occasions(book, contact, camp, trig, years, today))
    if isinstance(trig, ScheduleTrigger):
        return list(_schedule_occasions(book, contact, camp, trig, today, today, today))
    touches = occasions_for(book, contact, camp, today, history)
    return [t for t in touches if t.due <= today <= t.last_day]


def occasions_between(
    book: Book, contact: Contact, camp: Campaign, history: History, nights: Sequence[dt.date]
) -> list[Touch]:
    """Every touch ``occasions_for`` gives on any of ``nights`` (in order, at most ``MAX_GAP``
    days apart), the earliest night's where two nights give one key; in one pass per trigger
    rather than one per night (the years, or the schedule's days, that the nights' windows
    cover together)."""
    if not nights:
        return []
    if any(not 0 < (b - a).days <= MAX_GAP for a, b in pairwise(nights)):
        raise ValueError(f"nights must be in order, at most {MAX_GAP} days apart")
    first, last = nights[0], nights[-1]
    trig = camp.trigger
    years = range(first.year, last.year + 2)
    touches: Iterable[Touch]
    if isinstance(trig, DateTrigger):
        touches = _date_occasions(book, contact, camp, trig, _years(trig, first, last))
    elif isinstance(trig, HolidayTrigger):
        touches = _holiday_occasions(book, contact, camp, trig, years)
    elif isinstance(trig, ScheduleTrigger):
        touches = _schedule_occasions(book, contact, camp, trig, first, last)
    elif isinstance(trig, AfterMeetingTrigger):
        # every meeting on every night; a series' note is the one the first night chooses
        touches = _meeting_occasions(book, contact, camp, trig, first)
    elif isinstance(trig, ContentTrigger):
        touches = _content_occasions(book, contact, camp, trig, nights, history)
    else:  # keeping in touch depends on the night itself
        touches = chain.from_iterable(
            occasions_for(book, contact, camp, night, history) for night in nights
        )
    found: dict[str, Touch] = {}
    for t in touches:
        found.setdefault(t.key, t)
    return list(found.values())
