"""From a parsed calendar to meetings: which events are meetings, in which zone, and the rules
that decide it (README "Which calendar events are meetings").

``meetings_of`` checks each event's times, groups the components of each series by UID, has
``recurrence`` tame and expand them within the source's limits, and turns each occurrence into
a ``Found``: a timed event, not cancelled, not free, not declined by me, with at least one other
person. A series with more meetings in the window than ``CalendarLimits.occurrences`` is cut to
its first ones, with a note.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from outreach.sources import recurrence
from outreach.sources.bounds import Budget, CalendarLimits, clip
from outreach.sources.icstext import label as _event_label

UTC = dt.UTC
# attendees that are not people: rooms and equipment, and Google's calendar addresses
# (group calendars, holiday calendars, resources, imported calendars)
NOT_PEOPLE_CUTYPES = frozenset({"RESOURCE", "ROOM"})
NOT_PEOPLE_DOMAIN = ".calendar.google.com"
CANCELLED_PREFIX = re.compile(r"^\s*(?:cancell?ed|abgesagt|annulé)\s*:", re.IGNORECASE)
# properties whose breakage makes an event's occurrences unknowable
TIME_PROPERTIES = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "RRULE", "RDATE", "EXDATE")


@dataclass(frozen=True)
class Window:
    start: dt.date  # the local days asked for
    end: dt.date
    lo: dt.date  # the days expanded
    hi: dt.date
    limits: CalendarLimits


@dataclass(frozen=True)
class Found:
    series: str
    recurring: bool
    start: dt.datetime
    end: dt.datetime
    day: dt.date
    title: str
    description: str
    location: str
    attendees: tuple[str, ...]


def meetings_of(
    cal: Any,
    name: str,
    *,
    zone: ZoneInfo,
    tz: str,
    me: frozenset[str],
    window: Window,
    budget: Budget,
    notes: list[str],
) -> list[Found]:
    floating = _floating_zone(cal, name, tz, notes)
    events = [c for c in cal.subcomponents if c.name == "VEVENT"]
    by_uid: dict[str, list[Any]] = {}
    bad: set[str] = set()
    for event in events:
        uid = str(event.get("UID", "")).strip()
        if not uid:  # not allowed, but old exports do it: a stable stand-in
            uid = (
                "no-uid-"
                + hashlib.sha256(
                    (name + str(event.get("SUMMARY", "")) + _raw(event, "DTSTART")).encode()
                ).hexdigest()[:16]
            )
            event["UID"] = uid
        by_uid.setdefault(uid, []).append(event)
        problem = _event_problem(event)
        if problem:
            if uid not in bad:
                notes.append(f"{name}: event {_label(event, uid)} {problem}; skipped it")
            bad.add(uid)
        elif (tzid := _unknown_tzid(event)) is not None:
            notes.append(
                f"{name}: event {_label(event, uid)} uses the unknown time zone "
                f"{clip(tzid)!r}; read its times in {floating}"
            )
    recurring = {uid for uid, group in by_uid.items() if any(_repeats(e) for e in group)}
    local = ZoneInfo(floating)
    unreadable: set[str] = set()

    def read(uid: str, occ: Any) -> Found | None:
        try:
            item = _meeting(occ, uid, uid in recurring, zone=zone, local=local, me=me)
        except Exception as exc:
            if uid not in unreadable:
                unreadable.add(uid)
                notes.append(
                    f"{name}: event {_label(occ, uid)} cannot be read "
                    f"({recurrence.short(exc)}); skipped it"
                )
            return None
        if item is None or not window.start <= item.day <= window.end:
            return None
        return item

    series = recurrence.expand(
        cal,
        {uid: group for uid, group in by_uid.items() if uid not in bad},
        window.lo,
        window.hi,
        limits=window.limits,
        budget=budget,
        name=name,
        notes=notes,
        read=read,
    )
    found: list[Found] = []
    cap = window.limits.occurrences
    for uid, items in series.items():
        if len(items) > cap:
            items.sort(key=lambda f: f.start)
            notes.append(
                f"{name}: event {_event_label(items[0].title, uid)} occurs {len(items):,} "
                f"times in the window (more than {cap:,}); read the first {cap:,}"
            )
            items = items[:cap]
        found.extend(items)
    return found


def _floating_zone(cal: Any, name: str, tz: str, notes: list[str]) -> str:
    """The zone of floating times: Google's X-WR-TIMEZONE when it is valid, else the user's.
    An X-WR-TIMEZONE that names no zone (or a Windows name) is fixed or dropped first, since
    recurring-ical-events applies it and would fail on every event."""
    value = cal.get("X-WR-TIMEZONE")
    if value is None:
        return tz
    text = str(value).strip()
    try:
        ZoneInfo(text)
        return text
    except (ZoneInfoNotFoundError, ValueError):
        pass
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    olson = WINDOWS_TO_OLSON.get(text)
    del cal["X-WR-TIMEZONE"]
    if olson:
        cal["X-WR-TIMEZONE"] = olson
        return str(olson)
    notes.append(f"{name}: X-WR-TIMEZONE {text!r} is not a time zone; ignored it")
    return tz


def _event_problem(event: Any) -> str | None:
    """Why an event's times cannot be known, or None."""
    if "DTSTART" not in event:
        return "has no DTSTART"
    for prop, message in getattr(event, "errors", ()):
        if prop in TIME_PROPERTIES:
            return f"has a broken {prop} ({message})"
    try:
        value = event.decoded("DTSTART")
    except Exception as exc:
        return f"has a broken DTSTART ({recurrence.short(exc)})"
    if not isinstance(value, dt.date):
        return f"has a broken DTSTART ({_raw(event, 'DTSTART')})"
    return None


def _unknown_tzid(event: Any) -> str | None:
    """The TZID of a DTSTART that icalendar could not resolve (it then reads it as floating)."""
    prop = event.get("DTSTART")
    tzid = getattr(prop, "params", {}).get("TZID")
    value = getattr(prop, "dt", None)
    if tzid and isinstance(value, dt.datetime) and value.tzinfo is None:
        return str(tzid)
    return None


def _repeats(event: Any) -> bool:
    return any(p in event for p in ("RRULE", "RDATE", "RECURRENCE-ID"))


def _meeting(
    occ: Any, uid: str, recurring: bool, *, zone: ZoneInfo, local: ZoneInfo, me: frozenset[str]
) -> Found | None:
    """The meeting of one occurrence, or None for what is not a meeting (README "Which calendar
    events are meetings"): cancelled, all-day, marked free, declined by me, or with nobody else."""
    title = _text(occ.get("SUMMARY"))
    if _text(occ.get("STATUS")).upper() == "CANCELLED" or CANCELLED_PREFIX.match(title):
        return None
    if not isinstance(occ.decoded("DTSTART"), dt.datetime):
        return None  # an all-day entry: a birthday, a holiday, an out-of-office, not a meeting
    if _text(occ.get("TRANSP")).upper() == "TRANSPARENT" or _text(
        occ.get("X-MICROSOFT-CDO-BUSYSTATUS")
    ).upper() == "FREE":
        return None  # shown as free: a reminder (bin collection), not time spent with someone
    people: set[str] = set()
    for attendee in _values(occ.get("ATTENDEE")):
        person = address(str(attendee))
        params = getattr(attendee, "params", {})
        partstat = str(params.get("PARTSTAT", "")).upper()
        if person in me:
            if partstat == "DECLINED":
                return None
            continue
        if partstat == "DECLINED" or str(params.get("CUTYPE", "")).upper() in NOT_PEOPLE_CUTYPES:
            continue
        people.add(person)
    for organizer in _values(occ.get("ORGANIZER")):
        people.add(address(str(organizer)))
    people = {p for p in people if p and p not in me and _is_person(p)}
    if not people:
        return None
    begin, finish = _instant(occ.decoded("DTSTART"), local), _instant(occ.decoded("DTEND"), local)
    finish = max(finish, begin)
    return Found(
        series=uid,
        recurring=recurring,
        start=begin,
        end=finish,
        day=begin.astimezone(zone).date(),
        title=title,
        description=_text(occ.get("DESCRIPTION")),
        location=_text(occ.get("LOCATION")),
        attendees=tuple(sorted(people)),
    )


def _instant(value: dt.date, local: ZoneInfo) -> dt.datetime:
    """UTC of a DTSTART/DTEND: floating times and dates (at 00:00) are in ``local``."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=local)
    return value.astimezone(UTC)


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def address(value: str) -> str:
    """``mailto:Jane@Example.COM`` -> ``jane@example.com``."""
    value = value.strip()
    if value[:7].lower() == "mailto:":
        value = value[7:]
    return unquote(value).strip().lower()


def _is_person(address: str) -> bool:
    """An email address of a person, not Apple's ``invalid:nomail`` or a Google calendar."""
    local, at, domain = address.rpartition("@")
    return bool(
        at
        and local
        and "." in domain
        and ":" not in address
        and not domain.endswith(NOT_PEOPLE_DOMAIN)
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # a repeated property: keep the first
        value = value[0] if value else ""
    return str(value).strip()


def _raw(event: Any, prop: str) -> str:
    value = event.get(prop)
    if value is None:
        return ""
    try:
        return bytes(value.to_ical()).decode(errors="replace")
    except Exception:
        return str(value)


def _label(event: Any, uid: str) -> str:
    return _event_label(_text(event.get("SUMMARY")), uid)


