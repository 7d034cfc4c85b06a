"""Read calendar feeds back with parsers that did not write them, for the tests.

The feed is written with `icalendar`; reading it back with the same library would hide its own
mistakes, so the tests read every feed with two independent parsers and compare what they saw:

- `parse_vobject`: the pure-Python `vobject` package. Time zones come from the feed's own
  VTIMEZONE (vobject builds them with `dateutil.tz.tzical`), never from its global TZID registry
  or pytz, so a broken VTIMEZONE is read as broken.
- `parse_icaljs`: ical.js 2.x, the parser behind Thunderbird and the Nextcloud web UI, run by
  `node tests/js/ical_dump.mjs` (install it with `npm ci` in tests/js).

Both produce the same normalized `Feed`, compared with `assert_same`. Both reject what a strict
client would choke on: bytes that are not UTF-8 (for example a line folded inside a character),
unbalanced BEGIN/END, a missing UID, DTSTAMP or DTSTART, a floating time, a TZID without its
VTIMEZONE, a DTSTAMP that is not UTC, and a refresh hint that is not a duration (`12:00:00`).
They raise `FeedError` for all of these. vobject is the stricter of the two on syntax: it also
refuses an END that names another component, a calendar without PRODID or VERSION, an impossible
date and a SEQUENCE that is not a number, all of which ical.js lets through. Neither checks UID
uniqueness, DTEND after DTSTART, or line length and CRLF (`assert_folded` does the last two).

Normal forms:
- start and end: a `datetime.date` for all-day values, otherwise an aware datetime in UTC;
  end is None when the event has no DTEND (it is never computed from DURATION).
- durations (alarm triggers, REFRESH-INTERVAL, X-PUBLISHED-TTL): a canonical RFC 5545 string
  rebuilt from the number of seconds, in days, hours, minutes and seconds: "-PT30M", "-PT1H30M",
  "P7D" (never weeks), "PT0S". An absolute trigger is "20261210T090000Z"; a trigger relative to
  the end gets a "RELATED=END:" prefix.
- text: unescaped (`\\,` `\\;` `\\\\` `\\n`); absent properties are None; SEQUENCE absent is 0.
- name: NAME, or X-WR-CALNAME when there is no NAME; the two must agree when both are present.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import pytest
import vobject  # type: ignore[import-untyped]
from vobject import icalendar as vobject_icalendar

JS_DIR = Path(__file__).resolve().parent / "js"
DUMP_SCRIPT = JS_DIR / "ical_dump.mjs"
ICALJS_PACKAGE = JS_DIR / "node_modules" / "ical.js" / "package.json"

# vobject 0.9.9 does not list RDATE among the properties of a STANDARD/DAYLIGHT observance, so it
# reads RDATE there as TEXT and keeps only the part before the first comma: a VTIMEZONE written
# as "RDATE:20250330T030000,20260329T030000,..." (icalendar's add_missing_timezones form) loses
# every onset but the first, and summer times come out an hour off. ical.js 2.2.1 has the same
# fault (research/calendar.md §1.5), and two parsers sharing one fault would agree on the wrong
# hour. Declaring RDATE makes vobject read it as a list of date-times, as RFC 5545 §3.6.5 says.
# The change is process-wide, which is fine: only the tests import vobject.
vobject_icalendar.DaylightOrStandard.knownChildren.setdefault("RDATE", (0, None, None))


class FeedError(Exception):
    """A parser rejected the feed, or the feed lacks something every client needs."""


@dataclass(frozen=True)
class Event:
    """One VEVENT as a parser read it (see the module docstring for the normal forms)."""

    uid: str
    summary: str | None
    description: str | None
    location: str | None
    sequence: int
    status: str | None
    transp: str | None
    dtstamp: datetime
    last_modified: datetime | None
    start: date | datetime
    end: date | datetime | None
    alarms: tuple[str, ...]


@dataclass(frozen=True)
class Feed:
    """One VCALENDAR as a parser read it. `parser` names the parser and is not compared."""

    name: str | None
    timezone: str | None
    refresh_interval: str | None
    published_ttl: str | None
    prodid: str | None
    version: str | None
    method: str | None
    events: tuple[Event, ...]
    parser: str = field(default="", compare=False)

    def event(self, uid: str) -> Event:
        """The only event with this UID."""
        found = [e for e in self.events if e.uid == uid]
        if len(found) != 1:
            raise KeyError(f"{len(found)} events with UID {uid!r} in the {self.parser} parse")
        return found[0]


# ---------------------------------------------------------------------------------------------
# Shared normal forms


def duration_text(seconds: int) -> str:
    """The canonical RFC 5545 duration for a number of seconds: -5400 -> "-PT1H30M"."""
    sign = "-" if seconds < 0 else ""
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    if not days and not clock:
        return "PT0S"
    return f"{sign}P{f'{days}D' if days else ''}{f'T{clock}' if clock else ''}"


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _trigger(text: str, related: str | None) -> str:
    return f"RELATED=END:{text}" if related and related.upper() == "END" else text


def _calendar_name(name: str | None, calname: str | None) -> str | None:
    if name is not None and calname is not None and name != calname:
        raise FeedError(f"NAME {name!r} and X-WR-CALNAME {calname!r} differ")
    return name if name is not None else calname


def _check_tzid(tzid: str, zones: Collection[str], what: str) -> None:
    if tzid not in zones:
        raise FeedError(f"{what}: TZID={tzid} has no VTIMEZONE in the feed (RFC 5545 §3.2.19)")


# ---------------------------------------------------------------------------------------------
# vobject


def _param(line: Any, name: str) -> str | None:
    values = line.params.get(name)
    return str(values[0]) if values else None


def _vobject_text(component: Any, name: str) -> str | None:
    lines = component.contents.get(name)
    if not lines:
        return None
    value = lines[0].value
    return value if isinstance(value, str) else str(value)


def _vobject_duration(component: Any, name: str) -> str | None:
    text = _vobject_text(component, name)
    if text is None:
        return None
    try:
        (delta,) = vobject_icalendar.stringToDurations(text)
    except Exception as error:
        raise FeedError(f"{name.upper()}: {text!r} is not a duration ({error})") from error
    return duration_text(int(delta.total_seconds()))


def _vobject_time(
    component: Any, name: str, zones: Mapping[str, tzinfo], where: str
) -> date | datetime | None:
    lines = component.contents.get(name)
    if not lines:
        return None
    line = lines[0]
    value = line.value
    what = f"{where} {name.upper()}"
    if isinstance(value, datetime):
        # vobject moves TZID to X-VOBJ-ORIGINAL-TZID and attaches whatever its process-wide
        # registry holds for that name (the first VTIMEZONE it ever saw, or pytz): re-read the
        # wall time in this feed's own VTIMEZONE instead.
        tzid = _param(line, "X-VOBJ-ORIGINAL-TZID") or _param(line, "TZID")
        if tzid is not None:
            _check_tzid(tzid, zones, what)
            value = value.replace(tzinfo=None).replace(tzinfo=zones[tzid])
        elif value.tzinfo is None:
            raise FeedError(f"{what}: floating time {value.isoformat()} (no Z, no TZID)")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return value
    raise FeedError(f"{what}: not a date or date-time: {value!r}")


def _vobject_utc(component: Any, name: str, where: str) -> datetime | None:
    lines = component.contents.get(name)
    if not lines:
        return None
    value = lines[0].value
    if (
        not isinstance(value, datetime)
        or value.utcoffset() != timedelta(0)
        or _param(lines[0], "X-VOBJ-ORIGINAL-TZID")
    ):
        raise FeedError(f"{where} {name.upper()}: must be a UTC date-time, got {value!r}")
    return value.astimezone(UTC)


def _vobject_alarm(valarm: Any) -> str:
    lines = valarm.contents.get("trigger")
    if not lines:
        raise FeedError("VALARM without TRIGGER")
    value = lines[0].value
    if isinstance(value, timedelta):
        text = duration_text(int(value.total_seconds()))
    elif isinstance(value, datetime):
        text = _utc_text(value)
    else:
        raise FeedError(f"TRIGGER is neither a duration nor a date-time: {value!r}")
    return _trigger(text, _param(lines[0], "RELATED"))


def _vobject_event(vevent: Any, zones: Mapping[str, tzinfo]) -> Event:
    uid = _vobject_text(vevent, "uid")
    if not uid:
        raise FeedError("VEVENT without UID")
    where = f"VEVENT {uid}"
    dtstamp = _vobject_utc(vevent, "dtstamp", where)
    start = _vobject_time(vevent, "dtstart", zones, where)
    if dtstamp is None:
        raise FeedError(f"{where}: no DTSTAMP")
    if start is None:
        raise FeedError(f"{where}: no DTSTART")
    sequence = _vobject_text(vevent, "sequence")
    try:
        seq = int(sequence) if sequence is not None else 0
    except ValueError as error:
        raise FeedError(f"{where} SEQUENCE: not an integer: {sequence!r}") from error
    return Event(
        uid=uid,
        summary=_vobject_text(vevent, "summary"),
        description=_vobject_text(vevent, "description"),
        location=_vobject_text(vevent, "location"),
        sequence=seq,
        status=_vobject_text(vevent, "status"),
        transp=_vobject_text(vevent, "transp"),
        dtstamp=dtstamp,
        last_modified=_vobject_utc(vevent, "last-modified", where),
        start=start,
        end=_vobject_time(vevent, "dtend", zones, where),
        alarms=tuple(_vobject_alarm(a) for a in vevent.contents.get("valarm", [])),
    )


def parse_vobject(data: bytes) -> Feed:
    """Parse a feed with vobject; raise FeedError ("vobject: ...") when it cannot be read."""
    try:
        return _parse_vobject(data)
    except FeedError as error:
        raise FeedError(f"vobject: {error}") from error


def _parse_vobject(data: bytes) -> Feed:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FeedError(f"not UTF-8 (a line folded inside a character?): {error}") from error
    try:
        components = list(vobject.readComponents(text, validate=True))
    except Exception as error:
        raise FeedError(f"{type(error).__name__}: {error}") from error
    if len(components) != 1 or components[0].name != "VCALENDAR":
        raise FeedError(f"expected one VCALENDAR, found {[c.name for c in components]}")
    calendar = components[0]
    zones: dict[str, tzinfo] = {}
    for vtimezone in calendar.contents.get("vtimezone", []):
        tzid = vtimezone.contents["tzid"][0].value
        try:
            zones[tzid] = vtimezone.gettzinfo()
        except Exception as error:
            raise FeedError(f"VTIMEZONE {tzid}: {error}") from error
    return Feed(
        name=_calendar_name(_vobject_text(calendar, "name"), _vobject_text(calendar, "x-wr-calname")),
        timezone=_vobject_text(calendar, "x-wr-timezone"),
        refresh_interval=_vobject_duration(calendar, "refresh-interval"),
        published_ttl=_vobject_duration(calendar, "x-published-ttl"),
        prodid=_vobject_text(calendar, "prodid"),
        version=_vobject_text(calendar, "version"),
        method=_vobject_text(calendar, "method"),
        events=tuple(_vobject_event(v, zones) for v in calendar.contents.get("vevent", [])),
        parser="vobject",
    )


# ---------------------------------------------------------------------------------------------
# ical.js


def icaljs_available() -> bool:
    """True when node is on PATH and ical.js is installed in tests/js/node_modules."""
    return shutil.which("node") is not None and ICALJS_PACKAGE.is_file()


def require_icaljs() -> None:
    """Skip the calling test when ical.js cannot run; under CI (CI set) fail instead."""
    if icaljs_available():
        return
    if shutil.which("node") is None:
        missing = "node is not on PATH; install Node.js 20 or later with npm, then run `npm ci` in tests/js"
    else:
        missing = (f"{ICALJS_PACKAGE} is missing; run `npm ci` in tests/js (the test suite "
                   "does it by itself where npm is on the PATH)")
    message = f"ical.js cannot run: {missing}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run the ical.js checks", pytrace=False)
    pytest.skip(message)


def _js_time(
    value: Mapping[str, Any] | None, zones: list[str], what: str
) -> date | datetime | None:
    if value is None:
        return None
    if value["is_date"]:
        return date.fromisoformat(value["value"])
    tzid = value["tzid_param"]
    if tzid is not None:
        _check_tzid(tzid, zones, what)
    if value["tz"] == "floating":
        raise FeedError(f"{what}: floating time {value['value']} (ical.js found no zone)")
    return datetime.fromtimestamp(value["utc_epoch"], UTC)


def _js_utc(value: Mapping[str, Any] | None, what: str) -> datetime | None:
    if value is None:
        return None
    if value["is_date"] or value["tz"] != "UTC" or value["tzid_param"] is not None:
        raise FeedError(f"{what}: must be a UTC date-time, got {value['value']!r}")
    return datetime.fromtimestamp(value["utc_epoch"], UTC)


def _js_alarm(alarm: Mapping[str, Any]) -> str:
    if alarm["trigger"] is None:
        raise FeedError("VALARM without TRIGGER")
    if alarm["trigger_seconds"] is not None:
        text = duration_text(int(alarm["trigger_seconds"]))
    else:
        text = _utc_text(datetime.fromtimestamp(alarm["trigger_utc_epoch"], UTC))
    return _trigger(text, alarm["related"])


def _js_event(raw: Mapping[str, Any], zones: list[str]) -> Event:
    uid = raw["uid"]
    if not uid:
        raise FeedError("VEVENT without UID")
    where = f"VEVENT {uid}"
    dtstamp = _js_utc(raw["dtstamp"], f"{where} DTSTAMP")
    start = _js_time(raw["dtstart"], zones, f"{where} DTSTART")
    if dtstamp is None:
        raise FeedError(f"{where}: no DTSTAMP")
    if start is None:
        raise FeedError(f"{where}: no DTSTART")
    return Event(
        uid=uid,
        summary=raw["summary"],
        description=raw["description"],
        location=raw["location"],
        sequence=raw["sequence"] if raw["sequence"] is not None else 0,
        status=raw["status"],
        transp=raw["transp"],
        dtstamp=dtstamp,
        last_modified=_js_utc(raw["last-modified"], f"{where} LAST-MODIFIED"),
        start=start,
        end=_js_time(raw["dtend"], zones, f"{where} DTEND"),
        alarms=tuple(_js_alarm(a) for a in raw["alarms"]),
    )


def _js_duration(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else duration_text(int(value["seconds"]))


def parse_icaljs(path: Path) -> Feed:
    """Parse a feed file with ical.js; raise FeedError ("ical.js: ...") when it cannot be read.

    Skips the calling test (fails it under CI) when node or ical.js is missing.
    """
    require_icaljs()
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, str(DUMP_SCRIPT), str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        message = result.stderr.strip().removeprefix("ical_dump: ")
        raise FeedError(f"ical.js: {message or f'exit {result.returncode}'}")
    try:
        return _icaljs_feed(json.loads(result.stdout))
    except FeedError as error:
        raise FeedError(f"ical.js: {error}") from error


def _icaljs_feed(dump: Mapping[str, Any]) -> Feed:
    calendar = dump["calendar"]
    zones = list(dump["timezones"])
    return Feed(
        name=_calendar_name(calendar["name"], calendar["x-wr-calname"]),
        timezone=calendar["x-wr-timezone"],
        refresh_interval=_js_duration(calendar["refresh-interval"]),
        published_ttl=_js_duration(calendar["x-published-ttl"]),
        prodid=calendar["prodid"],
        version=calendar["version"],
        method=calendar["method"],
        events=tuple(_js_event(e, zones) for e in dump["events"]),
        parser="ical.js",
    )


# ---------------------------------------------------------------------------------------------
# Comparing and checking


def assert_same(a: Feed, b: Feed) -> None:
    """Fail with every difference between two parses of one feed, field by field."""
    la, lb = a.parser or "a", b.parser or "b"
    problems: list[str] = []

    def differ(where: str, x: object, y: object) -> None:
        if x != y or type(x) is not type(y):
            problems.append(f"{where}: {la} read {x!r}, {lb} read {y!r}")

    for f in fields(Feed):
        if f.compare and f.name != "events":
            differ(f"calendar {f.name}", getattr(a, f.name), getattr(b, f.name))
    uids_a = [e.uid for e in a.events]
    uids_b = [e.uid for e in b.events]
    if uids_a != uids_b:
        problems.append(f"events: {la} read UIDs {uids_a}, {lb} read {uids_b}")
    else:
        for ea, eb in zip(a.events, b.events, strict=True):
            for f in fields(Event):
                differ(f"event {ea.uid} {f.name}", getattr(ea, f.name), getattr(eb, f.name))
    if problems:
        raise AssertionError(
            f"{la} and {lb} read the feed differently:\n  " + "\n  ".join(problems)
        )


def parse_both(data: bytes, workdir: Path, name: str = "feed.ics") -> Feed:
    """Parse a feed with vobject and ical.js, check they agree, and return the parse."""
    path = workdir / name
    path.write_bytes(data)
    via_vobject = parse_vobject(data)
    assert_same(via_vobject, parse_icaljs(path))
    return via_vobject


def assert_folded(data: bytes) -> None:
    """Every line ends in CRLF and holds at most 75 octets (RFC 5545 §3.1), and the whole feed is
    UTF-8 even where lines fold, so no fold splits a character."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AssertionError(f"not UTF-8 (a line folded inside a character?): {error}") from error
    if not data.endswith(b"\r\n"):
        raise AssertionError("the feed does not end with CRLF")
    lines = data[:-2].split(b"\r\n")
    for number, line in enumerate(lines, 1):
        if b"\n" in line or b"\r" in line:
            raise AssertionError(f"line {number}: bare CR or LF: {line[:40]!r}")
        if len(line) > 75:
            raise AssertionError(f"line {number}: {len(line)} octets, over 75: {line[:40]!r}...")

