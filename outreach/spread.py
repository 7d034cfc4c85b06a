"""Steady mornings: when a night's due touches are more than a morning should hold, what can
wait is left for the coming nights of its window. Pure: a function of the book, the history and
the night, like the planner that calls it.

The rule (README "Steady mornings"):

* The morning target is ``limits.morning_target``, else the book's average load. A night of no
  more than ``threshold`` touches (the target set by hand, else the larger of the target and
  ``MIN_TARGET``) moves nothing.
* Above it, the dated touches stay: a birthday, a holiday, a scheduled update, a thank-you. What
  can wait (keep-in-touch, article shares, a campaign marked ``flexible: true``, each until
  ``MARGIN`` nights before its last day) fills the morning up to the target, by rank; as many as
  their last days need go whatever the target (spread evenly: the earliest deadlines first).
* A keep-in-touch that was already due when the person came into the book (a new book, an
  import) starts over the campaign's interval: at most ``ceil(newcomers / days)`` of them a
  night, the longest overdue first.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from outreach.book import Book
from outreach.campaigns import Campaign, IntervalTrigger
from outreach.datefields import how_many
from outreach.model import Contact
from outreach.nightly import cooldown
from outreach.touch import OPEN_ENDED, History, Touch, expires
from outreach.triggers import DEFAULT_SCHEDULE_CATCH_UP, occasions_between

MIN_TARGET = 20  # the morning a person reads with care: a small book is never spread
MARGIN = 2  # a touch that can wait is made at the latest this many nights before its last day
Reachable = Callable[[Campaign], list[Contact]]


@dataclass(frozen=True)
class Spread:
    """A night's touches after spreading: those made, those left for the coming nights, and
    what ``plan`` says about it."""

    kept: list[Touch]
    moved: list[Touch]
    lines: tuple[str, ...] = ()
    target: int = 0  # the night's morning target (0: not worked out, the night was small)


def movable(t: Touch, camp: Campaign, today: dt.date) -> bool:
    """Whether ``t`` may wait for a later night: its campaign's notes may (keep-in-touch,
    articles, ``flexible: true``), it is a first note (a sequence keeps its steps), and its
    window stays open past the margin."""
    if t.occasion.kind in ("step", "introduction") or not _waits(camp):
        return False
    return t.last_day - dt.timedelta(days=MARGIN) > today


def average_load(book: Book, reachable: Reachable) -> float:
    """Drafts a night over a year, as the book's campaigns and people make them: each
    keep-in-touch once an interval, each date and holiday once a year, each schedule once an
    issue, each article campaign once its ``every_days``; a sequence's notes with the first."""
    total = 0.0
    for camp in book.campaigns:
        if not camp.enabled or camp.template is None:
            continue
        people = reachable(camp)
        trig = camp.trigger
        if trig.kind == "interval":
            rate = len(people) / trig.days
        elif trig.kind == "content":
            rate = len(people) / trig.every_days if book.articles else 0.0
        elif trig.kind == "schedule":
            rate = len(people) * len(trig.months) / 365
        elif trig.kind == "holiday":
            rate = len(people) / 365
        elif trig.kind == "date":
            rate = sum(how_many(c, trig.field) for c in people) / 365
        else:  # meetings and introductions: few, and dated
            rate = 0.0
        if camp.every_days:
            rate = min(rate, len(people) / camp.every_days)
        total += rate * (1 + len(camp.steps))
    return total


def morning_target(book: Book, reachable: Reachable) -> int:
    """Drafts a morning should hold: ``limits.morning_target``, else the book's average load."""
    target = book.settings.limits.morning_target
    if target is not None:
        return target
    load = book.memo("average_load", lambda: average_load(book, reachable))
    return max(1, math.ceil(load))


def threshold(book: Book, target: int) -> int:
    """A night of no more touches than this moves nothing: ``limits.morning_target`` when it
    is set, else the larger of the book's target and ``MIN_TARGET`` (a small book is never
    spread)."""
    if book.settings.limits.morning_target is not None:
        return target
    return max(MIN_TARGET, target)


def least(book: Book) -> int:
    """The smallest threshold the book can have: a night of no more touches than this is never
    spread (and its target need not be worked out)."""
    return book.settings.limits.morning_target or MIN_TARGET


def needed(deadlines: Sequence[dt.date], today: dt.date) -> int:
    """How many of the touches with these last nights must be made tonight for all of them to
    be made in time at an even pace: for each deadline, those due by it over the nights left."""
    need = 0
    for n, last in enumerate(sorted(deadlines), start=1):
        need = max(need, math.ceil(n / ((last - today).days + 1)))
    return need


def spread(
    book: Book,
    history: History,
    today: dt.date,
    touches: Sequence[Touch],
    reachable: Reachable,
) -> Spread:
    """Of a night's ``touches`` (in rank order, all limits passed), those to make tonight."""
    if len(touches) <= least(book):
        return Spread(list(touches), [])
    target = morning_target(book, reachable)
    if len(touches) <= threshold(book, target):
        return Spread(list(touches), [], target=target)
    camps = {c.id: c for c in book.campaigns}
    fixed = [t for t in touches if not movable(t, camps[t.campaign_id], today)]
    waiting = [t for t in touches if movable(t, camps[t.campaign_id], today)]
    deadline = {t.key: t.last_day - dt.timedelta(days=MARGIN) for t in waiting if expires(t)}
    need = needed(list(deadline.values()), today)
    rank = {t.key: n for n, t in enumerate(touches)}
    ahead = _Ahead(book, history, today, reachable)
    by_key = {t.key: t for t in waiting}
    soonest = sorted(deadline, key=lambda k: (deadline[k], rank[k]))
    # those the deadlines need, the soonest first; passing over (among a few more than needed)
    # one that would hold a dated note back by its cool-down
    forced = _first(soonest[: need * 3], need, lambda k: not ahead.held_by(by_key[k]))
    forced |= set(_first([k for k in soonest if k not in forced], need - len(forced)))
    room = max(target - len(fixed), need) - need
    slots = _newcomer_slots(book, history, today, waiting, camps, reachable)
    paces = Counter(slots)  # (what a night may hold; ``slots`` counts down)
    kept = forced | {t.key for t in fixed}
    for t in waiting:
        if t.key in forced or room <= 0:
            continue
        if ahead.held_by(t):
            continue  # a dated note of theirs comes within its cool-down: it goes first
        group = _newcomer(t, camps[t.campaign_id], history, today)
        if group is not None:
            if slots[group] <= 0:
                continue
            slots[group] -= 1
        kept.add(t.key)
        room -= 1
    made = [t for t in touches if t.key in kept]
    moved = [t for t in waiting if t.key not in kept]
    waits = {g for t in moved if (g := _newcomer(t, camps[t.campaign_id], history, today))}
    pace: Counter[str] = Counter()
    for group in waits:
        pace[group[0]] += paces[group]
    return Spread(made, moved, _lines(book, target, waiting, moved, pace), target)


def _first(keys: Sequence[str], n: int, ok: Callable[[str], bool] = bool) -> set[str]:
    """The first ``n`` of ``keys`` that are ``ok``."""
    out: set[str] = set()
    for k in keys:
        if len(out) >= n:
            break
        if ok(k):
            out.add(k)
    return out


class _Ahead:
    """The dated touches coming in the next nights, asked for per contact: a note that can wait
    is not made when it would hold one of them back by its campaign's cool-down."""

    def __init__(self, book: Book, history: History, today: dt.date, reachable: Reachable) -> None:
        self.book, self.history, self.today = book, history, today
        self.dated = [
            c
            for c in book.campaigns
            if c.enabled and c.template is not None and not _waits(c) and cooldown(book, c) > 1
        ]
        self._reach = {c.id: {p.id for p in reachable(c)} for c in self.dated}

    def held_by(self, t: Touch) -> bool:
        """Whether making ``t`` tonight would make a dated touch of its contact wait."""
        contact = self.book.contact(t.contact_id)
        for camp in self.dated:
            if contact.id not in self._reach[camp.id]:
                continue
            days = cooldown(self.book, camp)
            free = self.today + dt.timedelta(days=days)  # the first night it could go
            nights = [self.today + dt.timedelta(days=n) for n in range(1, days)]
            for o in occasions_between(self.book, contact, camp, self.history, nights):
                if self.today < o.due < free <= o.last_day and not self.history.is_done(o):
                    return True
        return False


def came_later(camp: Campaign, t: Touch, history: History, today: dt.date) -> bool:
    """Whether ``t`` is an issue of a flexible schedule that was due more than the usual
    catch-up (14 days) before the person came into the book: theirs starts with the next issue
    (a new book's first night does not owe everyone last month's update)."""
    if not camp.flexible or t.occasion.kind != "schedule":
        return False
    came = history.arrival(t.contact_id, today)
    return t.due < came - dt.timedelta(days=DEFAULT_SCHEDULE_CATCH_UP)


def _waits(camp: Campaign) -> bool:
    return camp.flexible or camp.trigger.kind in OPEN_ENDED


def _newcomer(
    t: Touch, camp: Campaign, history: History, today: dt.date
) -> tuple[str, dt.date] | None:
    """(campaign, arrival night) for a keep-in-touch that was already due when the person came
    into the book; None for any other touch."""
    if not isinstance(camp.trigger, IntervalTrigger):
        return None
    arrived = history.arrival(t.contact_id, today)
    return (camp.id, arrived) if t.due <= arrived else None


def _newcomer_slots(
    book: Book,
    history: History,
    today: dt.date,
    waiting: Sequence[Touch],
    camps: dict[str, Campaign],
    reachable: Reachable,
) -> Counter[tuple[str, dt.date]]:
    """Per (campaign, arrival night): the newcomers' keep-in-touch notes a night may hold, so
    that those who came that night start over one interval."""
    groups = {g for t in waiting if (g := _newcomer(t, camps[t.campaign_id], history, today))}
    slots: Counter[tuple[str, dt.date]] = Counter()
    for camp_id, arrived in groups:
        camp = camps[camp_id]
        assert isinstance(camp.trigger, IntervalTrigger)
        came = sum(1 for c in reachable(camp) if history.arrival(c.id, today) == arrived)
        slots[(camp_id, arrived)] = max(1, math.ceil(came / camp.trigger.days))
    return slots


def _lines(
    book: Book,
    target: int,
    waiting: Sequence[Touch],
    moved: Sequence[Touch],
    newcomers: Counter[str],
) -> tuple[str, ...]:
    """One line per campaign whose touches moved: how many of how many, and why (the morning
    target; for people new to the book, the interval they start over)."""
    due = Counter(t.campaign_id for t in waiting)
    left = Counter(t.campaign_id for t in moved)
    out = []
    for c in book.campaigns:
        if not left[c.id]:
            continue
        why = [f"a morning target of {target}"]
        if newcomers[c.id] and isinstance(c.trigger, IntervalTrigger):
            why.append(
                f"people new to the book start over the {c.trigger.days}-day interval, "
                f"{newcomers[c.id]} a night"
            )
        out.append(
            f"spread: {left[c.id]} of {due[c.id]} due {c.id} notes moved to the coming nights "
            f"({'; '.join(why)})"
        )
    return tuple(out)
