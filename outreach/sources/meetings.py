"""Meetings from iCalendar feeds and files, for the thank-you after a meeting.

``load_meetings`` reads each source (an ``http(s)://`` or ``webcal://`` URL, or a file), expands
recurring events in the window with recurring-ical-events (RRULE, RDATE, EXDATE, RECURRENCE-ID
overrides, Google's X-WR-TIMEZONE) and keeps the events that are real meetings: not cancelled, not
declined by the user, with at least one other person. It never raises for a source's trouble and
never prints: a calendar that is down, slow, failing or not iCalendar becomes one warning line
and, where there is one, its last good copy is used instead.

A URL is fetched with ``outreach.sources.fetch`` (timeout, conditional request, the last good
copy kept in ``cache_dir`` as one ``.ics`` per source and used when the source fails).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import unicodedata
import warnings as pywarnings
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events

from outreach.sources.fetch import describe_source, fetch

UTC = dt.UTC
MAX_BYTES = 50 * 1024 * 1024  # a calendar larger than this is a mistake, not a feed
# attendees that are not people: rooms and equipment, and Google's calendar addresses
# (group calendars, holiday calendars, resources, imported calendars)
NOT_PEOPLE_CUTYPES = frozenset({"RESOURCE", "ROOM"})
NOT_PEOPLE_DOMAIN = ".calendar.google.com"
CANCELLED_PREFIX = re.compile(r"^\s*(?:cancell?ed|abgesagt|annulé)\s*:", re.IGNORECASE)
# properties whose breakage makes an event's occurrences unknowable
TIME_PROPERTIES = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "RRULE", "RDATE", "EXDATE")


@dataclass(frozen=True)
class Meeting:
    """One occurrence of a meeting with at least one other person."""

    key: str  # "YYYY-MM-DD-<slug of title>-<6 hex of uid>": stable for this occurrence
    series: str  # the UID: the same for every occurrence of a recurring meeting
    recurring: bool
    start: dt.datetime  # aware, UTC
    end: dt.datetime  # aware, UTC
    day: dt.date  # the local date of the start in the user's time zone
    title: str
    description: str
    location: str
    attendees: tuple[str, ...]  # lowercased addresses of attendees and organizer, minus me


@dataclass(frozen=True)
class SourceReport:
    """The meetings found, and one line per problem met on the way."""

    meetings: tuple[Meeting, ...]
    warnings: tuple[str, ...]  # "<source>: <what happened>; <what was done>"


def load_meetings(
    sources: Sequence[str],
    *,
    root: Path,
    cache_dir: Path,
    me: Collection[str],
    start: dt.date,
    end: dt.date,
    tz: str,
    timeout: float = 10.0,
) -> SourceReport:
    """The meetings of ``sources`` whose start falls on a local day (in ``tz``) from ``start`` to
    ``end``, both included, sorted by start time; plus the warnings. Relative file paths are read
    from ``root``. Raises only for a bad ``tz`` (ZoneInfoNotFoundError)."""
    zone = ZoneInfo(tz)
    mine = frozenset(a for a in (_address(m) for m in me) if a)
    notes: list[str] = []
    found: list[_Found] = []
    for source in sources:
        name = describe_source(source)
        cals = _read_source(
            source, name, root=root, cache_dir=cache_dir, timeout=timeout, zone=zone, notes=notes
        )
        for cal in cals:
            found.extend(
                _meetings_of(
                    cal, name, zone=zone, tz=tz, me=mine, start=start, end=end, notes=notes
                )
            )
    return SourceReport(meetings=_keyed(found), warnings=tuple(notes))


def fetch_url(source: str) -> str:
    """The URL to fetch for a source: ``webcal://`` becomes ``https://`` (``http://`` for a
    loopback host such as ``outreach serve``), ``webcals://`` ``https://``; others as given."""
    source = source.strip()
    parts = urlsplit(source)
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        scheme = "http" if _is_loopback(parts.hostname or "") else "https"
    elif scheme == "webcals":
        scheme = "https"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))


# ---- reading a source ------------------------------------------------------------------------


class _Unavailable(Exception):
    """A body is not usable iCalendar; the message says why."""


def _is_url(source: str) -> bool:
    return re.match(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://", source) is not None


def _is_loopback(host: str) -> bool:
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _read_source(
    source: str,
    name: str,
    *,
    root: Path,
    cache_dir: Path,
    timeout: float,
    zone: ZoneInfo,
    notes: list[str],
) -> list[Any]:
    """The calendars of one source (empty after a warning when there is nothing to use)."""
    if not _is_url(source):
        return _read_file(source, name, root, notes)
    scheme = source.strip().split("://", 1)[0].lower()
    if scheme not in ("http", "https", "webcal", "webcals"):
        notes.append(
            f"{name}: not a calendar address (use https://, webcal:// or a file); "
            "no meetings from it"
        )
        return []
    last: list[Any] = []  # the body validated last and its calendars: parsed once

    def validate(body: bytes, content_type: str) -> str | None:
        try:
            cals = _parse(body)
        except _Unavailable as exc:
            ctype = content_type.split(";")[0].strip().lower()
            kind = f"{ctype}, " if ctype and "calendar" not in ctype else ""
            return f"sent something that is not iCalendar ({kind}{exc})"
        last[:] = [body, cals]
        return None

    got = fetch(
        fetch_url(source),
        cache_dir=cache_dir,
        suffix=".ics",
        validate=validate,
        timeout=timeout,
        accept="text/calendar, */*;q=0.5",
        max_bytes=MAX_BYTES,
        zone=zone,
    )
    notes.extend(got.warnings(name))
    if got.body is None:
        return []
    if last and last[0] is got.body:
        return list(last[1])
    try:
        return _parse(got.body)
    except _Unavailable:  # cannot happen: fetch gives only bodies that validate accepted
        return []


def _read_file(source: str, name: str, root: Path, notes: list[str]) -> list[Any]:
    path = Path(source).expanduser()
    if not path.is_absolute():
        path = root / path
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        notes.append(f"{name}: no such file; no meetings from it")
        return []
    except OSError as exc:
        notes.append(f"{name}: cannot be read ({exc.strerror or exc}); no meetings from it")
        return []
    try:
        return _parse(body)
    except _Unavailable as exc:
        notes.append(f"{name}: is not iCalendar ({exc}); no meetings from it")
        return []


def _parse(body: bytes) -> list[Any]:
    """The VCALENDARs in ``body``; raises _Unavailable saying why it is not iCalendar."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("cp1252", errors="replace")  # old Outlook exports
    stripped = text.strip()
    if not stripped:
        raise _Unavailable("empty")
    if not stripped[:15].upper().startswith("BEGIN:VCALENDAR"):
        first = stripped.splitlines()[0][:30]
        raise _Unavailable(f"begins {first!r}")
    if not stripped[-13:].upper().endswith("END:VCALENDAR"):
        raise _Unavailable("cut short: no END:VCALENDAR")
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            cals = icalendar.Calendar.from_ical(stripped, multiple=True)
    except Exception as exc:  # icalendar raises ValueError and friends for broken files
        raise _Unavailable(f"cannot be parsed: {exc}") from None
    found = [c for c in cals if getattr(c, "name", "") == "VCALENDAR"]
    if not found:
        raise _Unavailable("no VCALENDAR in it")
    return found


# ---- from a calendar to meetings -------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    series: str
    recurring: bool
    start: dt.datetime
    end: dt.datetime
    day: dt.date
    title: str
    description: str
    location: str
    attendees: tuple[str, ...]


def _meetings_of(
    cal: Any,
    name: str,
    *,
    zone: ZoneInfo,
    tz: str,
    me: frozenset[str],
    start: dt.date,
    end: dt.date,
    notes: list[str],
) -> list[_Found]:
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
                f"{tzid!r}; read its times in {floating}"
            )
    if bad:
        cal.subcomponents = [
            c
            for c in cal.subcomponents
            if not (c.name == "VEVENT" and str(c.get("UID", "")).strip() in bad)
        ]
    # a day either side: the window is in local days, occurrences may be in any zone
    lo, hi = start - dt.timedelta(days=1), end + dt.timedelta(days=2)
    occurrences: list[Any] = []
    try:
        occurrences = _expand(cal, lo, hi)
    except Exception:  # one bad series must not hide the others: expand them one by one
        zones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
        for uid, group in by_uid.items():
            if uid in bad:
                continue
            single = cal.copy()
            single.subcomponents = [*zones, *group]
            try:
                occurrences.extend(_expand(single, lo, hi))
            except Exception as exc:
                notes.append(
                    f"{name}: event {_label(group[0], uid)} cannot be expanded "
                    f"({_short(exc)}); skipped it"
                )
    recurring = {uid for uid, group in by_uid.items() if any(_repeats(e) for e in group)}
    local = ZoneInfo(floating)
    found: list[_Found] = []
    for occ in occurrences:
        uid = str(occ.get("UID", "")).strip()
        try:
            item = _meeting(occ, uid, uid in recurring, zone=zone, local=local, me=me)
        except Exception as exc:
            notes.append(
                f"{name}: event {_label(occ, uid)} cannot be read ({_short(exc)}); skipped it"
            )
            continue
        if item is not None and start <= item.day <= end:
            found.append(item)
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


def _expand(cal: Any, lo: dt.date, hi: dt.date) -> list[Any]:
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        return list(recurring_ical_events.of(cal).between(lo, hi))


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
        return f"has a broken DTSTART ({_short(exc)})"
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
) -> _Found | None:
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
        address = _address(str(attendee))
        params = getattr(attendee, "params", {})
        partstat = str(params.get("PARTSTAT", "")).upper()
        if address in me:
            if partstat == "DECLINED":
                return None
            continue
        if partstat == "DECLINED" or str(params.get("CUTYPE", "")).upper() in NOT_PEOPLE_CUTYPES:
            continue
        people.add(address)
    for organizer in _values(occ.get("ORGANIZER")):
        people.add(_address(str(organizer)))
    people = {p for p in people if p and p not in me and _is_person(p)}
    if not people:
        return None
    begin, finish = _instant(occ.decoded("DTSTART"), local), _instant(occ.decoded("DTEND"), local)
    finish = max(finish, begin)
    return _Found(
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


def _address(value: str) -> str:
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
    title = _text(event.get("SUMMARY"))
    return f"{title!r} (UID {uid})" if title else f"(UID {uid})"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:117] + "...") if len(text) > 120 else (text or type(exc).__name__)


# ---- keys ------------------------------------------------------------------------------------


def slug(title: str, limit: int = 40) -> str:
    """``Q4 Review — Müller & Co.`` -> ``q4-review-muller-co``: ascii, lowercase, dashes."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return text[:limit].rstrip("-") or "meeting"


def meeting_key(day: dt.date, title: str, uid: str) -> str:
    """The stable key of one occurrence: its local day, its title and its series."""
    return f"{day.isoformat()}-{slug(title)}-{hashlib.sha256(uid.encode()).hexdigest()[:6]}"


def _keyed(found: Iterable[_Found]) -> tuple[Meeting, ...]:
    """Meetings sorted by start, the same occurrence from two sources once, keys unique."""
    seen: set[tuple[str, dt.datetime]] = set()
    keys: set[str] = set()
    meetings: list[Meeting] = []
    for item in sorted(found, key=lambda f: (f.start, f.series, f.title)):
        if (item.series, item.start) in seen:
            continue
        seen.add((item.series, item.start))
        key = base = meeting_key(item.day, item.title, item.series)
        n = 1
        while key in keys:  # the same series twice on one day under one title
            n += 1
            key = f"{base}-{n}"
        keys.add(key)
        meetings.append(
            Meeting(
                key=key,
                series=item.series,
                recurring=item.recurring,
                start=item.start,
                end=item.end,
                day=item.day,
                title=item.title,
                description=item.description,
                location=item.location,
                attendees=item.attendees,
            )
        )
    return tuple(meetings)


def sample_meetings(day: dt.date, attendees: tuple[str, ...]) -> tuple[Meeting, Meeting]:
    """Two meetings on ``day`` for ``outreach check`` to render templates with: one with a title,
    a description and a location, and one with none of them, as real calendar exports have."""
    start = dt.datetime.combine(day, dt.time(15), UTC)
    full = Meeting(
        key=meeting_key(day, "Quarterly review", "sample-full"),
        series="sample-full",
        recurring=False,
        start=start,
        end=start + dt.timedelta(hours=1),
        day=day,
        title="Quarterly review",
        description="Next steps for the coming quarter",
        location="Their office",
        attendees=attendees,
    )
    bare = dataclasses.replace(
        full,
        key=meeting_key(day, "", "sample-bare"),
        series="sample-bare",
        title="",
        description="",
        location="",
    )
    return full, bare
