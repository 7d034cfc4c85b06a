"""A calendar's text cut down to what can matter in a window, before icalendar parses it.

icalendar costs about 0.4 ms and 7 KB per event to parse, and more for long or many properties
(a 10 MB SUMMARY takes 6 s, an event with 100,000 attendees 20 s). A Google feed holds every
event ever, and anyone can add invitations to it. So the text is read line by line first, which
is cheap, and what goes on to icalendar is only:

- the calendar's own VERSION, PRODID, CALSCALE, METHOD, X-WR-TIMEZONE and X-WR-CALNAME;
- its VTIMEZONEs, if they are sane (yearly rules, a reasonable size);
- the VEVENTs that may have an occurrence in the window: recurring ones, moved occurrences
  near it, one-off events starting near it (not all-day ones: those are never meetings), with
  only the properties a meeting is read from, and RDATE/EXDATE values near the window.

An event that goes beyond the limits (a huge property, too many attendees, copies of one
property or dates) is left out with a note; events beyond the source's limit are cut with one.
Notes are "<what>; <what was done>", without the source's name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from outreach.sources.bounds import CalendarLimits, clip

# the properties a meeting is read from (meetings.py, recurring-ical-events)
EVENT_PROPERTIES = frozenset(
    {
        "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID",
        "SEQUENCE", "SUMMARY", "DESCRIPTION", "LOCATION", "STATUS", "TRANSP",
        "X-MICROSOFT-CDO-BUSYSTATUS", "ATTENDEE", "ORGANIZER",
    }
)
CALENDAR_PROPERTIES = frozenset(
    {"VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-TIMEZONE", "X-WR-CALNAME"}
)
CALENDAR_VALUE_CHARS = 1_000
ZONE_LINES = 1_000  # lines of one VTIMEZONE
ZONE_CHANGES = 12  # dates a time zone rule may give in one year
MARGIN = dt.timedelta(days=2)  # dates in the text are in any zone: a day either side, and more

# unfolding and line splitting as icalendar's parser does them (without its blank lines inside a
# folded line, whose pattern costs it 2.8 s on 28 MB: this one costs a fifth of that)
_UNFOLD = re.compile(r"\r?\n[ \t]")
_HEAD = re.compile(r'(?:[^":]+|"[^"]*")*')  # name and parameters: up to the first free colon
# a VEVENT as one block of the unfolded text (none inside it), and what it is recognised by
_EVENT = re.compile(
    r"^BEGIN:VEVENT\r?\n(?:(?!(?:BEGIN|END):VEVENT)[^\n]*\n)*END:VEVENT\r?$", re.M | re.I
)
_RECURS = re.compile(r"^(?:RRULE|RDATE|EXRULE|RECURRENCE-ID)[;:]", re.M | re.I)
_START = re.compile(r"^DTSTART(?:;[^:\n]*)?:(\d{8})", re.M | re.I)
_UID = re.compile(r"^UID(?:;[^:\n]*)?:([^\r\n]*)", re.M | re.I)
_UNTIL = re.compile(r"(?:^|;)UNTIL=(\d{8})", re.IGNORECASE)
_ESCAPED = re.compile(r"\\([\\;,nN])")


class NotICalendar(ValueError):
    """The text's structure is broken; the message says how."""


@dataclass(frozen=True)
class Scan:
    text: str  # the VCALENDARs to parse, holding only what may matter in the window
    notes: tuple[str, ...]


@dataclass
class _Event:
    calendar: int
    lines: list[str] = field(default_factory=list)
    uid: str = ""
    summary: str = ""
    start: dt.date | None = None
    all_day: bool = False
    rules: int = 0
    rules_end: list[dt.date | None] = field(default_factory=list)
    override: dt.date | None = None
    is_override: bool = False
    this_and_future: bool = False
    dates_near: bool = False  # an RDATE value near the window
    counts: dict[str, int] = field(default_factory=dict)
    problem: str = ""


def scan(text: str, *, lo: dt.date, hi: dt.date, limits: CalendarLimits) -> Scan:
    """The VCALENDARs of ``text`` with only what may touch the local days ``lo`` to ``hi``."""
    first, last = lo - MARGIN, hi + MARGIN

    def near(day: dt.date) -> bool:
        return first <= day <= last

    reader = _Reader(limits, near)
    for line in _without_far_events(_UNFOLD.sub("", text), near).split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        if line:
            reader.line(line)
    return reader.result(first)


def _without_far_events(text: str, near: Callable[[dt.date], bool]) -> str:
    """``text`` without the one-off events that start far from the window (whose UID no other
    event has): found by regular expressions, which is some ten times faster than reading
    them line by line, for the bulk of a long-lived calendar."""
    uids: dict[str, int] = {}
    far: list[tuple[int, int, str]] = []
    for match in _EVENT.finditer(text):
        a, b = match.span()
        found = _UID.search(text, a, b)
        uid = found[1].strip() if found else ""
        uids[uid] = uids.get(uid, 0) + 1
        if _RECURS.search(text, a, b):
            continue
        start = _START.search(text, a, b)
        day = _day(start[1]) if start else None
        if day is not None and not near(day):
            far.append((a, b, uid))
    drop = [(a, b) for a, b, uid in far if not uid or uids[uid] == 1]
    if not drop:
        return text
    pieces, at = [], 0
    for a, b in drop:
        pieces.append(text[at:a])
        at = b
    pieces.append(text[at:])
    return "".join(pieces)


class _Reader:
    def __init__(self, limits: CalendarLimits, near: Callable[[dt.date], bool]) -> None:
        self.limits = limits
        self.near = near
        self.stack: list[str] = []
        self.calendars: list[list[str]] = []  # the calendar-level lines of each VCALENDAR
        self.closed: list[bool] = []
        self.zones: list[list[str]] = []  # per calendar: the kept VTIMEZONE lines
        self.events: list[_Event] = []
        self.notes: list[str] = []
        self.event: _Event | None = None
        self.zone: list[str] | None = None
        self.zone_count = 0
        self.seen: set[str] = set()  # calendar properties kept once
        self.nested = False

    def line(self, line: str) -> None:
        name = _name(line)
        if name in ("BEGIN", "END"):
            value = line.partition(":")[2].strip().upper()
            if name == "BEGIN":
                self.begin(value, line)
            else:
                self.end(value)
            return
        depth = len(self.stack)
        if depth == 1 and self.stack[0] == "VCALENDAR":
            self.calendar_property(name, line)
        elif self.zone is not None:
            self.zone.append(line)
        elif self.event is not None and depth == 2:
            self.event_property(name, line)

    def begin(self, component: str, line: str) -> None:
        depth = len(self.stack)
        self.stack.append(component)
        in_calendar = self.stack[0] == "VCALENDAR"
        if depth == 0 and component == "VCALENDAR":
            self.calendars.append(["BEGIN:VCALENDAR"])
            self.closed.append(False)
            self.zones.append([])
            self.seen = set()
        elif depth == 1 and in_calendar and component == "VEVENT":
            self.event = _Event(len(self.calendars) - 1)
            self.event.lines.append("BEGIN:VEVENT")
        elif depth == 1 and in_calendar and component == "VTIMEZONE":
            self.zone = [line]
        elif depth == 1 and in_calendar and component == "VCALENDAR" and not self.nested:
            self.nested = True
            self.notes.append("holds a VCALENDAR inside a VCALENDAR; left out what is in it")
        elif self.zone is not None:
            self.zone.append(line)

    def end(self, component: str) -> None:
        if not self.stack:
            raise NotICalendar(f"END:{clip(component, 30)} without a BEGIN")
        opened = self.stack.pop()  # like icalendar, END closes the open component, named or not
        depth = len(self.stack)
        if depth == 0 and opened == "VCALENDAR":
            self.calendars[-1].append("END:VCALENDAR")
            self.closed[-1] = True
        elif depth == 1 and self.event is not None:
            self.event.lines.append("END:VEVENT")
            self.finish(self.event)
            self.event = None
        elif depth == 1 and self.zone is not None:
            self.zone.append(f"END:{opened}")
            self.finish_zone(self.zone)
            self.zone = None
        elif self.zone is not None:
            self.zone.append(f"END:{opened}")

    def calendar_property(self, name: str, line: str) -> None:
        if name not in CALENDAR_PROPERTIES or name in self.seen:
            return
        if len(line) > CALENDAR_VALUE_CHARS:
            self.notes.append(f"its {name} has {len(line):,} characters; left it out")
            return
        self.seen.add(name)
        self.calendars[-1].append(line)

    def event_property(self, name: str, line: str) -> None:
        event = self.event
        assert event is not None
        if name not in EVENT_PROPERTIES:
            return
        counts = event.counts
        counts[name] = counts.get(name, 0) + 1
        if name in ("RDATE", "EXDATE"):  # long lists are cut to the window first
            head, values = _split(line)
            kept = [v for v in values.split(",") if (d := _day(v)) is None or self.near(d)]
            counts[f"{name} values"] = counts.get(f"{name} values", 0) + len(kept)
            if not kept:
                return
            event.dates_near = event.dates_near or name == "RDATE"
            line = f"{head}:{','.join(kept)}"
        if len(line) > self.limits.value_chars and not event.problem:
            event.problem = (
                f"has {len(line):,} characters in its {name} "
                f"(more than {self.limits.value_chars:,})"
            )
        if name == "UID":
            event.uid = _split(line)[1].strip()
        elif name == "SUMMARY":
            event.summary = _ESCAPED.sub(lambda m: " " if m[1] in "nN" else m[1], _split(line)[1])
        elif name == "DTSTART":
            value = _split(line)[1].strip()
            event.start = _day(value)
            event.all_day = event.start is not None and len(value) == 8
        elif name == "RRULE":
            event.rules += 1
            until = _UNTIL.search(_split(line)[1])
            event.rules_end.append(_day(until[1]) if until else None)
        elif name == "RECURRENCE-ID":
            head, value = _split(line)
            event.is_override = True
            event.override = _day(value.strip())
            event.this_and_future = "THISANDFUTURE" in head.upper()
        event.lines.append(line)

    def finish(self, event: _Event) -> None:
        limits = self.limits
        many = [
            (n, name)
            for name, n in event.counts.items()
            if name not in ("ATTENDEE", "RDATE", "EXDATE")
            and not name.endswith(" values")
            and n > limits.repeats
        ]
        if event.problem:
            pass
        elif event.counts.get("ATTENDEE", 0) > limits.attendees:
            event.problem = (
                f"has {event.counts['ATTENDEE']:,} attendees (more than {limits.attendees:,})"
            )
        elif many:
            n, name = max(many)
            event.problem = f"has {n:,} {name} properties (more than {limits.repeats:,})"
        else:
            for name in ("RDATE", "EXDATE"):
                n = event.counts.get(f"{name} values", 0)
                if n > limits.dates:
                    event.problem = (
                        f"has {n:,} {name} values near the window (more than {limits.dates:,})"
                    )
                    break
        self.events.append(event)

    def finish_zone(self, lines: list[str]) -> None:
        tzid = next((_split(x)[1].strip() for x in lines if _name(x) == "TZID"), "")
        why = ""
        if self.zone_count >= self.limits.timezones:
            if self.zone_count == self.limits.timezones:
                self.notes.append(
                    f"has more than {self.limits.timezones:,} time zones; left out the others"
                )
            self.zone_count += 1
            return
        if len(lines) > ZONE_LINES:
            why = f"has {len(lines):,} lines"
        elif any(len(x) > self.limits.value_chars for x in lines):
            why = f"has a line of more than {self.limits.value_chars:,} characters"
        else:
            for x in lines:
                if _name(x) == "RRULE":
                    why = _zone_rule_problem(_split(x)[1])
                    if why:
                        break
        if why:
            self.notes.append(f"time zone {clip(tzid)!r} {why}; left it out")
            return
        self.zone_count += 1
        self.zones[-1].extend(lines)

    def result(self, first: dt.date) -> Scan:
        if not any(self.closed):
            raise NotICalendar("no complete VCALENDAR in it")
        uids = Counter(e.uid for e in self.events if e.uid)
        kept: list[_Event] = []
        for event in self.events:
            if not self._may_matter(event, uids[event.uid] > 1, first):
                continue
            if event.problem:
                self.notes.append(f"event {label(event.summary, event.uid)} {event.problem}; "
                                  "skipped it")
                continue
            kept.append(event)
        if len(kept) > self.limits.events:
            self.notes.append(
                f"has {len(kept):,} events near the window (more than "
                f"{self.limits.events:,}); read the first {self.limits.events:,}"
            )
            kept = kept[: self.limits.events]
        out: list[str] = []
        for n, head in enumerate(self.calendars):
            if not self.closed[n]:
                continue  # never closed: icalendar would drop it too
            out.extend(head[:-1])
            out.extend(self.zones[n])
            for event in kept:
                if event.calendar == n:
                    out.extend(event.lines)
            out.append(head[-1])
        return Scan("\r\n".join(out) + "\r\n", tuple(self.notes))

    def _may_matter(self, event: _Event, shared_uid: bool, first: dt.date) -> bool:
        """Whether an event can give (or change) an occurrence in the window."""
        starts_near = event.start is not None and self.near(event.start)
        if event.start is None and "DTSTART" not in event.counts:
            return True  # no DTSTART: kept, so that the warning about it is given
        if event.is_override:
            return (
                starts_near
                or event.this_and_future
                or event.override is None
                or self.near(event.override)
            )
        if event.all_day:
            return False  # an all-day entry is never a meeting
        if event.rules:
            ended = all(end is not None and end < first for end in event.rules_end)
            return not ended or event.dates_near or starts_near or event.start is None
        return starts_near or event.dates_near or event.start is None or shared_uid


def _zone_rule_problem(rule: str) -> str:
    """Why a time zone's RRULE is not a sane yearly change (dateutil walks it to every date
    it is asked about), or ""."""
    parts = dict(p.partition("=")[::2] for p in rule.upper().split(";") if p)
    if parts.get("FREQ", "YEARLY") != "YEARLY":
        return f"changes its offset {parts['FREQ'].lower()}, not yearly"
    changes = 1
    for key, value in parts.items():
        if key.startswith("BY"):
            changes *= len(value.split(","))
    if changes > ZONE_CHANGES:
        return f"changes its offset up to {changes:,} times a year"
    return ""


def _name(line: str) -> str:
    return line.partition(":")[0].partition(";")[0].upper()


def _split(line: str) -> tuple[str, str]:
    """(name and parameters, value): split at the first colon outside a quoted parameter."""
    match = _HEAD.match(line)
    i = match.end() if match else 0
    if i < len(line) and line[i] == ":":
        return line[:i], line[i + 1 :]
    head, _, value = line.partition(":")  # an unbalanced quote: the first colon
    return head, value


def _day(value: str) -> dt.date | None:
    """The date a DATE, DATE-TIME or PERIOD value begins with, or None."""
    text = value.strip()[:8]
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def label(title: str, uid: str) -> str:
    """How an event is named in a warning: ``'Title' (UID x)``, both clipped."""
    title = title.strip()
    which = f"(UID {clip(uid)})" if uid else "(no UID)"
    return f"{clip(title)!r} {which}" if title else which
