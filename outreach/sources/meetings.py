"""Meetings from iCalendar feeds and files, for the thank-you after a meeting.

``load_meetings`` reads each source (an ``http(s)://`` or ``webcal://`` URL, or a file), expands
recurring events in the window with recurring-ical-events (RRULE, RDATE, EXDATE, RECURRENCE-ID
overrides, Google's X-WR-TIMEZONE) and keeps the events that are real meetings: not cancelled, not
declined by the user, with at least one other person. It never raises for a source's trouble and
never prints: a calendar that is down, slow, failing or not iCalendar becomes one warning line
and, where there is one, its last good copy is used instead.

A calendar is someone else's text (anyone can put an invitation in it), so what one source may
cost is bounded (``CalendarLimits``): the text is cut down to what can touch the window before
icalendar parses it (``icstext``), recurring rules are made cheap to expand without changing
their occurrences in the window (``recurrence``), and parsing and expanding have a time limit.
What goes beyond a limit is left out with one warning line.

A URL is fetched with ``outreach.sources.fetch`` (a deadline for the whole fetch, a size limit,
conditional requests, the last good copy kept in ``cache_dir`` as one ``.ics`` per source and
used when the source fails).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import warnings as pywarnings
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import icalendar

from outreach import secrets
from outreach.idents import meeting_key as meeting_key  # domain: it goes in touch keys
from outreach.paths import resolve
from outreach.slugs import legacy_slug
from outreach.sources import icstext, recurrence
from outreach.sources.bounds import Budget, CalendarLimits, Overrun, size_text
from outreach.sources.fetch import describe_source, fetch
from outreach.sources.icsevents import Found, Window, address, meetings_of

UTC = dt.UTC
LIMITS = CalendarLimits()
MAX_BYTES = LIMITS.bytes  # a calendar larger than this is a mistake, not a feed


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
    limits: CalendarLimits = LIMITS,
) -> SourceReport:
    """The meetings of ``sources`` whose start falls on a local day (in ``tz``) from ``start`` to
    ``end``, both included, sorted by start time; plus the warnings. Relative file paths are read
    from ``root``. ``timeout`` is for fetching one source; ``limits`` bound what reading it may
    cost. Raises only for a bad ``tz`` (ZoneInfoNotFoundError)."""
    zone = ZoneInfo(tz)
    mine = frozenset(a for a in (address(m) for m in me) if a)
    # a day either side: the window is in local days, occurrences may be in any zone
    window = Window(start, end, start - dt.timedelta(days=1), end + dt.timedelta(days=2), limits)
    notes: list[str] = []
    found: list[Found] = []
    for source in sources:
        name = describe_source(source)
        budget = Budget(limits.seconds)  # reading this source, beyond fetching it
        cals = _read_source(
            source, name, root=root, cache_dir=cache_dir, timeout=timeout, zone=zone,
            window=window, budget=budget, notes=notes,
        )
        for cal in cals:
            found.extend(
                meetings_of(cal, name, zone=zone, tz=tz, me=mine, window=window,
                            budget=budget, notes=notes)
            )
    return SourceReport(meetings=_keyed(found), warnings=tuple(notes))


def fetch_url(source: str) -> str:
    """The URL to fetch for a source: ``webcal://`` becomes ``https://`` (``http://`` for a
    loopback host such as ``outreach serve``), ``webcals://`` ``https://``; others as given."""
    source = source.strip()
    parts = urlsplit(source)
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        scheme = "http" if secrets.is_loopback(parts.hostname or "") else "https"
    elif scheme == "webcals":
        scheme = "https"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))


# ---- reading a source ------------------------------------------------------------------------


class _Unavailable(Exception):
    """A body is not usable iCalendar; the message says why."""


class _TooCostly(Exception):
    """Reading a body took longer than the source may take; the message says so."""


def _is_url(source: str) -> bool:
    return re.match(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://", source) is not None


def _read_source(
    source: str,
    name: str,
    *,
    root: Path,
    cache_dir: Path,
    timeout: float,
    zone: ZoneInfo,
    window: Window,
    budget: Budget,
    notes: list[str],
) -> list[Any]:
    """The calendars of one source (empty after a warning when there is nothing to use)."""
    if not _is_url(source):
        return _read_file(source, name, root, window, budget, notes)
    scheme = source.strip().split("://", 1)[0].lower()
    if scheme not in ("http", "https", "webcal", "webcals"):
        notes.append(
            f"{name}: not a calendar address (use https://, webcal:// or a file); "
            "no meetings from it"
        )
        return []
    last: list[Any] = []  # the body validated last, its calendars and notes: parsed once

    def validate(body: bytes, content_type: str) -> str | None:
        try:
            cals, said = _parse(body, window, budget)
        except _Unavailable as exc:
            ctype = content_type.split(";")[0].strip().lower()
            kind = f"{ctype}, " if ctype and "calendar" not in ctype else ""
            return f"sent something that is not iCalendar ({kind}{exc})"
        except _TooCostly as exc:
            return str(exc)
        last[:] = [body, cals, said]
        return None

    got = fetch(
        fetch_url(source),
        cache_dir=cache_dir,
        suffix=".ics",
        validate=validate,
        timeout=timeout,
        accept="text/calendar, */*;q=0.5",
        max_bytes=window.limits.bytes,
        zone=zone,
    )
    notes.extend(got.warnings(name))
    if got.body is None:
        return []
    if not (last and last[0] is got.body):
        try:
            last[:] = [got.body, *_parse(got.body, window, budget)]
        except (_Unavailable, _TooCostly):  # cannot happen: fetch gives only accepted bodies
            return []
    notes.extend(f"{name}: {note}" for note in last[2])
    return list(last[1])


def _read_file(
    source: str, name: str, root: Path, window: Window, budget: Budget, notes: list[str]
) -> list[Any]:
    path = resolve(root, source)
    try:
        if path.stat().st_size > window.limits.bytes:
            notes.append(
                f"{name}: is larger than {size_text(window.limits.bytes)}; no meetings from it"
            )
            return []
        body = path.read_bytes()
    except FileNotFoundError:
        notes.append(f"{name}: no such file; no meetings from it")
        return []
    except OSError as exc:
        notes.append(f"{name}: cannot be read ({exc.strerror or exc}); no meetings from it")
        return []
    try:
        cals, said = _parse(body, window, budget)
    except _Unavailable as exc:
        notes.append(f"{name}: is not iCalendar ({exc}); no meetings from it")
        return []
    except _TooCostly as exc:
        notes.append(f"{name}: {exc}; no meetings from it")
        return []
    notes.extend(f"{name}: {note}" for note in said)
    return cals


def _parse(body: bytes, window: Window, budget: Budget) -> tuple[list[Any], tuple[str, ...]]:
    """The VCALENDARs in ``body``, cut down to what may touch the window, and the notes on what
    was left out; raises _Unavailable saying why it is not iCalendar, or _TooCostly."""
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
    limits = window.limits
    try:
        with budget.spend():
            scanned = icstext.scan(stripped, lo=window.lo, hi=window.hi, limits=limits)
            del text, stripped
            with pywarnings.catch_warnings():
                pywarnings.simplefilter("ignore")
                cals = icalendar.Calendar.from_ical(scanned.text, multiple=True)
    except Overrun:
        raise _TooCostly(f"took more than {budget.seconds:g} s to read") from None
    except icstext.NotICalendar as exc:
        raise _Unavailable(f"cannot be parsed: {exc}") from None
    except Exception as exc:  # icalendar raises ValueError and friends for broken files
        raise _Unavailable(f"cannot be parsed: {recurrence.short(exc)}") from None
    found = [c for c in cals if getattr(c, "name", "") == "VCALENDAR"]
    if not found:
        raise _Unavailable("no VCALENDAR in it")
    return found, scanned.notes


# ---- keys ------------------------------------------------------------------------------------


def slug(title: str, limit: int = 40) -> str:
    """``Q4 Review — Müller & Co.`` -> ``q4-review-muller-co``: the title part of the keys earlier
    releases made (``Straße`` -> ``strae``, ``会议`` -> ``meeting``); new keys use
    ``outreach.slugs.slug`` (``strasse``, ``huiyi``), and ``outreach.idents.meeting_aliases``
    gives this spelling of a key, to recognise one already recorded."""
    return legacy_slug(title, limit=limit, empty="meeting")


def _keyed(found: Iterable[Found]) -> tuple[Meeting, ...]:
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
