"""Recurring events made cheap to expand in a window, with the same occurrences there.

recurring-ical-events expands a rule with dateutil, which walks it from DTSTART period by
period: a MINUTELY rule from 1970 is some 30 million steps before a window in 2026, a DAILY one
from year 1 some 740,000 (4 s), and a rule whose BY-parts never match walks to the year 9999.
``tame`` rewrites one event before it is expanded:

- a rule more frequent than daily (SECONDLY, MINUTELY, HOURLY, or several times a day through
  BYHOUR/BYMINUTE/BYSECOND lists) is no meeting to thank people for: the event is skipped;
- a COUNT larger than the number of occurrences the rule can have up to the window's end never
  ends the series there: it is dropped (COUNT=999999999 is the same as no COUNT);
- a smaller COUNT is turned into the UNTIL of its last occurrence (found by walking the rule up
  to the window's end, at most ``steps`` periods), so that the start can move;
- a rule that ends before the window becomes a yearly one with the same end (cheap to walk);
- a DTSTART far before the window moves forward by whole INTERVALs of periods, to the start of
  a period (day, week from WKST, month, year) just before it, in the event's own wall time, with
  the values dateutil took from the old DTSTART (weekday, day of month, month, time of day)
  written into the rule: the occurrences from there on are the same, across DST changes too.
  DTEND becomes the same DURATION. EXDATE, RDATE and RECURRENCE-ID overrides are untouched.

``expand`` tames, expands and reads each series on its own, each within ``event_seconds`` (a
rule whose BY-parts never match still walks to the year 9999) and all of them within the
source's deadline, and says what was cut.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings as pywarnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import recurring_ical_events
import x_wr_timezone
from dateutil.rrule import rrule, rrulestr
from icalendar.prop import vDDDTypes, vDuration, vRecur

from outreach.sources.bounds import Budget, CalendarLimits, Overrun
from outreach.sources.icstext import label

SUBDAILY = {"SECONDLY": "second", "MINUTELY": "minute", "HOURLY": "hour"}
DAY_PARTS = ("BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MARGIN = dt.timedelta(days=2)
T = TypeVar("T")


def tame(event: Any, lo: dt.date, hi: dt.date, *, steps: int) -> str | None:
    """Rewrite ``event`` so that expanding it between ``lo`` and ``hi`` is cheap and gives the
    same occurrences there; or say why it is skipped (``"repeats every minute"``)."""
    rules = _values(event.get("RRULE"))
    if not rules:
        return None
    start = event.decoded("DTSTART")
    wall = _wall(start)
    first = dt.datetime.combine(lo - MARGIN, dt.time())
    last = dt.datetime.combine(hi + MARGIN, dt.time())
    for rule in rules:
        why = _too_often(rule)
        if why:
            return why
    if len(rules) > 1:  # several rules share one DTSTART: it cannot move for one of them
        if any(_periods(r, wall, last) > steps for r in rules):
            return (
                f"has {len(rules)} RRULEs from {wall.date().isoformat()}: "
                "too long a series to follow"
            )
        return None
    rule = vRecur({k: list(v) for k, v in rules[0].items()})
    if "COUNT" in rule:
        count = int(rule["COUNT"][0])
        if count < 1:
            return None  # nothing to walk (recurring-ical-events has its own view of these)
        if count > (_periods(rule, wall, last) + 1) * _most_per_period(rule):
            del rule["COUNT"]  # the series cannot end before the window does
        elif _periods(rule, wall, last) > steps:
            return (
                f"repeats {count:,} times from {wall.date().isoformat()}: "
                "too long a series to follow"
            )
        else:
            end = _last(rule, start, count, last)
            del rule["COUNT"]
            if end is not None:
                rule["UNTIL"] = [_until(end, start)]
    until = rule.get("UNTIL")
    if until and _wall(until[0]) < first:
        # no occurrence of the rule near the window; a yearly rule with the same end still says
        # whether DTSTART is one (recurring-ical-events drops a DTSTART after the UNTIL)
        event["RRULE"] = vRecur({"FREQ": ["YEARLY"], "UNTIL": list(until)})
        return None
    behind = _periods(rule, wall, first) // _interval(rule)
    if behind > 2:
        _move(event, rule, start, wall, (behind - 1) * _interval(rule))
    event["RRULE"] = rule
    return None


def _too_often(rule: Any) -> str | None:
    freq = _freq(rule)
    if freq in SUBDAILY:
        n = _interval(rule)
        unit = SUBDAILY[freq]
        return f"repeats every {unit}" if n == 1 else f"repeats every {n:,} {unit}s"
    per_day = math.prod(len(set(rule.get(k, [None]))) for k in ("BYHOUR", "BYMINUTE", "BYSECOND"))
    if per_day > 1:
        return f"repeats {per_day:,} times a day"
    return None


def _freq(rule: Any) -> str:
    return str(rule.get("FREQ", [""])[0]).upper()


def _interval(rule: Any) -> int:
    try:
        return max(1, int(rule.get("INTERVAL", [1])[0]))
    except (TypeError, ValueError):
        return 1


def _wall(value: dt.date) -> dt.datetime:
    """A DTSTART as naive wall time in its own zone (a date at midnight)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.combine(value, dt.time())


def _periods(rule: Any, a: dt.datetime, b: dt.datetime) -> int:
    """Whole periods of the rule's FREQ from ``a`` to ``b`` (0 when ``b`` is not later)."""
    freq = _freq(rule)
    if b <= a:
        return 0
    if freq == "DAILY":
        return (b.date() - a.date()).days
    if freq == "WEEKLY":
        return (b.date() - a.date()).days // 7
    if freq == "MONTHLY":
        return (b.year - a.year) * 12 + b.month - a.month
    return b.year - a.year  # YEARLY


def _most_per_period(rule: Any) -> int:
    """At most how many occurrences one period of the rule holds (at most one a day)."""
    freq = _freq(rule)
    if freq == "DAILY":
        return 1
    if freq == "WEEKLY":
        return min(7, max(1, len(rule.get("BYDAY", []))))
    return 31 if freq == "MONTHLY" else 366


def _last(rule: Any, start: dt.date, count: int, last: dt.datetime) -> dt.datetime | None:
    """The ``count``-th occurrence of ``rule`` from ``start``, or None when it is after ``last``
    (dateutil counts the rule's own matches, as recurring-ical-events has it)."""
    bare: Any = vRecur({k: v for k, v in rule.items() if k not in ("COUNT", "UNTIL")})
    text = bare.to_ical()
    begin = start if isinstance(start, dt.datetime) else _wall(start)
    limit = last.replace(tzinfo=begin.tzinfo)
    if "UNTIL" in rule:
        end = rule["UNTIL"][0]
        end = end if isinstance(end, dt.datetime) else _wall(end)
        if (end.tzinfo is None) != (begin.tzinfo is None):
            end = end.replace(tzinfo=begin.tzinfo)
        limit = min(limit, end)
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        parsed = rrulestr(text.decode(), dtstart=begin)
        assert isinstance(parsed, rrule)  # one RRULE line, no RDATE: never an rruleset
        for n, occurrence in enumerate(parsed.replace(until=limit), start=1):
            if n == count:
                return occurrence
    return None


def _until(end: dt.datetime, start: dt.date) -> dt.date:
    """An UNTIL in the form RFC 5545 asks for: UTC for a zoned start, else like the start."""
    if not isinstance(start, dt.datetime):
        return end.date()
    if end.tzinfo is not None:
        return end.astimezone(dt.UTC)
    return end


def _move(event: Any, rule: Any, start: dt.date, wall: dt.datetime, periods: int) -> None:
    """Move DTSTART ``periods`` periods on, to the start of that period, keeping what dateutil
    read from the old one in the rule and the duration as DURATION."""
    if "DTEND" in event:
        end = event.decoded("DTEND")
        if isinstance(end, dt.datetime) != isinstance(start, dt.datetime) or end < start:
            return  # no duration to keep: expanded from where it is (within event_seconds)
        del event["DTEND"]
        event["DURATION"] = vDuration(end - start)
    freq = _freq(rule)
    if not any(k in rule for k in DAY_PARTS):  # dateutil took the day from DTSTART
        if freq == "YEARLY":
            rule.setdefault("BYMONTH", [wall.month])
            rule["BYMONTHDAY"] = [wall.day]
        elif freq == "MONTHLY":
            rule["BYMONTHDAY"] = [wall.day]
        elif freq == "WEEKLY":
            rule["BYDAY"] = [WEEKDAYS[wall.weekday()]]
    rule.setdefault("BYHOUR", [wall.hour])
    rule.setdefault("BYMINUTE", [wall.minute])
    rule.setdefault("BYSECOND", [wall.second])
    if freq == "DAILY":
        day = wall.date() + dt.timedelta(days=periods)
    elif freq == "WEEKLY":
        day = wall.date() + dt.timedelta(weeks=periods)
        wkst = str(rule.get("WKST", ["MO"])[0]).upper()
        day -= dt.timedelta(days=(day.weekday() - WEEKDAYS.index(wkst)) % 7)
    elif freq == "MONTHLY":
        month = wall.year * 12 + wall.month - 1 + periods
        day = dt.date(month // 12, month % 12 + 1, 1)
    else:
        day = dt.date(wall.year + periods, 1, 1)
    if isinstance(start, dt.datetime):
        event["DTSTART"] = vDDDTypes(dt.datetime.combine(day, dt.time(), start.tzinfo))
    else:
        event["DTSTART"] = vDDDTypes(day)


# ---- expanding ---------------------------------------------------------------------------------


def expand(
    cal: Any,
    groups: dict[str, list[Any]],
    lo: dt.date,
    hi: dt.date,
    *,
    limits: CalendarLimits,
    budget: Budget,
    name: str,
    notes: list[str],
    read: Callable[[str, Any], T | None],
) -> dict[str, list[T]]:
    """What ``read(uid, occurrence)`` makes of the occurrences between ``lo`` and ``hi`` of every
    series (``groups``: UID -> its components), each series tamed, expanded and read on its
    own: one that repeats too often, fails or takes longer than ``limits.event_seconds`` is
    skipped with a note, and once the source's ``budget`` is spent the rest is left out with
    one note."""
    zones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    found: dict[str, list[T]] = {}
    for done, (uid, group) in enumerate(groups.items()):
        left = budget.left()
        what = f"{name}: event {label(_title(group[0]), uid)}"
        try:
            with budget.spend(limits.event_seconds):
                single = cal.copy()
                single.subcomponents = [*zones, *group]
                # Google's UTC times with X-WR-TIMEZONE repeat in that zone's wall time: tame
                # them there (recurring-ical-events does the same conversion, once)
                single = x_wr_timezone.to_standard(single)
                events = [c for c in single.subcomponents if c.name == "VEVENT"]
                why = next((w for c in events if (w := tame(c, lo, hi, steps=limits.steps))), None)
                if why is None:
                    items = [x for o in _expand(single, lo, hi) if (x := read(uid, o)) is not None]
                    found[uid] = items
            if why is not None:
                notes.append(f"{what} {why}; skipped it")
        except Overrun:
            if budget.passed() or left < limits.event_seconds:
                notes.append(
                    f"{name}: reading its events took more than {budget.seconds:g} s; "
                    f"left out the last {len(groups) - done:,} of {len(groups):,}"
                )
                break
            notes.append(f"{what} takes more than {limits.event_seconds:g} s to expand; skipped it")
        except Exception as exc:
            notes.append(f"{what} cannot be expanded ({short(exc)}); skipped it")
    return found


def _expand(cal: Any, lo: dt.date, hi: dt.date) -> list[Any]:
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        return list(recurring_ical_events.of(cal).between(lo, hi))


def _title(event: Any) -> str:
    value = event.get("SUMMARY")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "")


def _values(value: Any) -> Sequence[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:117] + "...") if len(text) > 120 else (text or type(exc).__name__)
