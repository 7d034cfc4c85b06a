"""The feed-checking harness itself: vobject and ical.js read hand-written feeds the same way, and
both refuse broken ones.

Every sample is written out below as a client would receive it (CRLF line ends, UTF-8). Tests that
run ical.js skip without node and tests/js/node_modules, and fail instead when CI is set.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests import icalcheck
from tests.icalcheck import (
    Feed,
    FeedError,
    assert_folded,
    assert_same,
    parse_both,
    parse_icaljs,
    parse_vobject,
)

HEADER = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//outreach//icalcheck tests//EN\n"

BERLIN = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""

# The form icalendar's add_missing_timezones() writes: one observance per offset pair, its onsets
# listed on one RDATE line (legal RFC 5545; DTSTART is the post-transition wall time, as icalendar
# writes it).
BERLIN_RDATE_LISTS = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:20250330T030000
RDATE:20250330T030000,20260329T030000,20270328T030000
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:20251026T020000
RDATE:20251026T020000,20261025T020000,20271031T020000
END:STANDARD
END:VTIMEZONE
"""


def event(*lines: str, uid: str = "call-jane@outreach.test") -> str:
    """A VEVENT with a UID and DTSTAMP, then the given lines."""
    body = "".join(f"{line}\n" for line in lines)
    return f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20261101T120000Z\n{body}END:VEVENT\n"


def calendar(*components: str, properties: str = "") -> bytes:
    """A whole feed as the bytes a client downloads: CRLF line ends, UTF-8."""
    text = HEADER + properties + "".join(components) + "END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode("utf-8")


def both(tmp_path: Path, data: bytes) -> Feed:
    """Parse with both parsers, insist they agree, return what they read."""
    return parse_both(data, tmp_path)


# --- samples both parsers must read the same way ------------------------------------------------


def test_all_day_event(tmp_path: Path) -> None:
    """VALUE=DATE start and an exclusive next-day DTEND are plain dates, not datetimes."""
    feed = both(tmp_path, calendar(event(
        "DTSTART;VALUE=DATE:20261210",
        "DTEND;VALUE=DATE:20261211",
        "SUMMARY:Send Jane a birthday card",
        "TRANSP:TRANSPARENT",
        uid="card-jane@outreach.test",
    )))
    (ev,) = feed.events
    assert (ev.start, ev.end) == (date(2026, 12, 10), date(2026, 12, 11))
    assert type(ev.start) is date and type(ev.end) is date
    assert ev.transp == "TRANSPARENT"
    assert ev.summary == "Send Jane a birthday card"


def test_timed_utc_event(tmp_path: Path) -> None:
    """A ...Z start and end come back as aware UTC datetimes, with status and location."""
    feed = both(tmp_path, calendar(event(
        "DTSTART:20261203T150000Z",
        "DTEND:20261203T151500Z",
        "SUMMARY:Call Jane",
        "LOCATION:Phone",
        "STATUS:CONFIRMED",
    )))
    ev = feed.event("call-jane@outreach.test")
    assert ev.start == datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    assert ev.end == datetime(2026, 12, 3, 15, 15, tzinfo=UTC)
    assert isinstance(ev.start, datetime) and ev.start.tzinfo is UTC
    assert (ev.location, ev.status, ev.description, ev.alarms) == ("Phone", "CONFIRMED", None, ())


def test_berlin_time_in_summer_and_winter(tmp_path: Path) -> None:
    """TZID=Europe/Berlin with its VTIMEZONE: 09:00 is 07:00Z in July (CEST) and 08:00Z in
    January (CET), in both parsers."""
    feed = both(tmp_path, calendar(
        BERLIN,
        event("DTSTART;TZID=Europe/Berlin:20260701T090000",
              "DTEND;TZID=Europe/Berlin:20260701T093000", uid="summer@outreach.test"),
        event("DTSTART;TZID=Europe/Berlin:20260115T090000",
              "DTEND;TZID=Europe/Berlin:20260115T093000", uid="winter@outreach.test"),
    ))
    assert feed.event("summer@outreach.test").start == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert feed.event("summer@outreach.test").end == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert feed.event("winter@outreach.test").start == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


def test_the_feeds_own_vtimezone_wins_over_what_vobject_saw_before(tmp_path: Path) -> None:
    """vobject keeps one process-wide TZID registry; the harness still reads each feed's own
    VTIMEZONE, so a Berlin zone with a made-up +0300 offset gives 06:00Z even after a real one."""
    parse_vobject(calendar(BERLIN, event("DTSTART;TZID=Europe/Berlin:20260701T090000")))
    fake = BERLIN.replace("+0200", "+0300")
    feed = both(tmp_path, calendar(fake, event("DTSTART;TZID=Europe/Berlin:20260701T090000")))
    assert feed.events[0].start == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


def test_text_escaping(tmp_path: Path) -> None:
    """Escaped commas, semicolons, backslashes and newlines (\\n and \\N) and non-ASCII text decode
    the same way in both parsers, in event and calendar properties."""
    feed = both(tmp_path, calendar(
        event(
            r"SUMMARY:Zoë\, Łukasz\; café\nsecond line",
            r"DESCRIPTION:Folder C:\\Users\\zoe\; see notes\Nthird line",
            r"LOCATION:Café Łódź\, 2nd floor\; room 3",
            "DTSTART:20261203T150000Z",
        ),
        properties="NAME:Zoë\\, Łukasz\\; café\nX-WR-CALNAME:Zoë\\, Łukasz\\; café\n",
    ))
    ev = feed.events[0]
    assert ev.summary == "Zoë, Łukasz; café\nsecond line"
    assert ev.description == "Folder C:\\Users\\zoe; see notes\nthird line"
    assert ev.location == "Café Łódź, 2nd floor; room 3"
    assert feed.name == "Zoë, Łukasz; café"


FOLDED = "\n".join([
    "DESCRIPTION:Ask Zoë about the Łódź trip — and the café in Kraków\\;",
    "  bring the 2026 catalogue\\, the price list and the 日本語 brochure",
    "  🎉 then write it up for Ł",
    " ukasz.",
    "SUMMARY:日本語のパンフレット",
    " を送る — Łukasz\\, Zoë\\, and the Krak",
    " ów café team to follow up",
])


def test_folded_long_lines(tmp_path: Path) -> None:
    """Lines folded at character boundaries (between CJK characters, before an emoji or a
    two-byte letter, after one, with a space or a TAB) unfold to the same text in both parsers;
    every physical line is at most 75 octets."""
    data = calendar(event(FOLDED, "DTSTART:20261203T150000Z"))
    data = data.replace(b"brochure\r\n ", b"brochure\r\n\t")  # a TAB fold too
    assert_folded(data)
    ev = both(tmp_path, data).events[0]
    assert ev.description == (
        "Ask Zoë about the Łódź trip — and the café in Kraków; bring the 2026 catalogue, the "
        "price list and the 日本語 brochure 🎉 then write it up for Łukasz."
    )
    assert ev.summary == "日本語のパンフレットを送る — Łukasz, Zoë, and the Kraków café team to follow up"


def test_sequence_dtstamp_and_last_modified(tmp_path: Path) -> None:
    """SEQUENCE is an int (0 when absent, as RFC 5545 says), DTSTAMP and LAST-MODIFIED are UTC."""
    feed = both(tmp_path, calendar(
        event("SEQUENCE:3", "LAST-MODIFIED:20261102T083000Z", "DTSTART:20261203T150000Z",
              uid="changed@outreach.test"),
        event("DTSTART:20261204T150000Z", uid="new@outreach.test"),
    ))
    changed, new = feed.event("changed@outreach.test"), feed.event("new@outreach.test")
    assert (changed.sequence, new.sequence) == (3, 0)
    assert changed.dtstamp == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert changed.last_modified == datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert (new.last_modified, new.end) == (None, None)


def alarm(trigger: str) -> str:
    return f"BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:Reminder\n{trigger}\nEND:VALARM"


def test_alarm_triggers(tmp_path: Path) -> None:
    """Alarm triggers come back in one canonical form whatever the spelling: -PT90M is -PT1H30M,
    -P1W is -P7D; absolute and end-relative triggers are kept as such."""
    feed = both(tmp_path, calendar(
        event("DTSTART:20261203T150000Z", "DTEND:20261203T151500Z",
              alarm("TRIGGER:-PT30M"), alarm("TRIGGER:-PT90M"), alarm("TRIGGER;RELATED=END:-PT5M"),
              alarm("TRIGGER;VALUE=DATE-TIME:20261203T080000Z"), alarm("TRIGGER:PT0S")),
        event("DTSTART;VALUE=DATE:20261210", "DTEND;VALUE=DATE:20261211",
              alarm("TRIGGER:-PT15H"), alarm("TRIGGER:-P1W"), alarm("TRIGGER:-P1DT2H"),
              uid="card@outreach.test"),
    ))
    assert feed.event("call-jane@outreach.test").alarms == (
        "-PT30M", "-PT1H30M", "RELATED=END:-PT5M", "20261203T080000Z", "PT0S")
    assert feed.event("card@outreach.test").alarms == ("-PT15H", "-P7D", "-P1DT2H")


def test_calendar_level_properties(tmp_path: Path) -> None:
    """NAME/X-WR-CALNAME, X-WR-TIMEZONE, REFRESH-INTERVAL;VALUE=DURATION and X-PUBLISHED-TTL are
    read by both; the two refresh hints are canonical durations."""
    feed = both(tmp_path, calendar(properties=(
        "NAME:Follow-ups\nX-WR-CALNAME:Follow-ups\nX-WR-TIMEZONE:Europe/Berlin\n"
        "REFRESH-INTERVAL;VALUE=DURATION:PT12H\nX-PUBLISHED-TTL:PT12H\n"
    )))
    assert (feed.name, feed.timezone) == ("Follow-ups", "Europe/Berlin")
    assert (feed.refresh_interval, feed.published_ttl) == ("PT12H", "PT12H")
    assert (feed.prodid, feed.version, feed.method) == (
        "-//outreach//icalcheck tests//EN", "2.0", None)
    assert feed.events == ()


def test_x_wr_calname_alone_names_the_calendar(tmp_path: Path) -> None:
    """Without NAME the calendar's name is X-WR-CALNAME; without either it is None."""
    assert both(tmp_path, calendar(properties="X-WR-CALNAME:Follow-ups\n")).name == "Follow-ups"
    assert both(tmp_path, calendar()).name is None


def test_icaljs_dump_reports_values_as_icaljs_gives_them(tmp_path: Path) -> None:
    """ical_dump.mjs prints ical.js's own ISO value, is_date, UTC epoch and zone for each time."""
    icalcheck.require_icaljs()
    path = tmp_path / "feed.ics"
    path.write_bytes(calendar(BERLIN, event(
        "DTSTART;TZID=Europe/Berlin:20260701T090000", "DTEND;VALUE=DATE:20260702")))
    node = shutil.which("node")
    assert node
    result = subprocess.run([node, str(icalcheck.DUMP_SCRIPT), str(path)], capture_output=True,
                            text=True, check=True)
    dump = json.loads(result.stdout)
    ev = dump["events"][0]
    assert ev["dtstart"] == {"value": "2026-07-01T09:00:00", "is_date": False,
                             "utc_epoch": 1782889200, "tz": "Europe/Berlin",
                             "tzid_param": "Europe/Berlin"}
    assert ev["dtend"]["value"] == "2026-07-02" and ev["dtend"]["is_date"] is True
    assert ev["dtend"]["utc_epoch"] is None
    assert ev["dtstamp"]["tz"] == "UTC"
    assert dump["timezones"] == ["Europe/Berlin"]
    usage = subprocess.run([node, str(icalcheck.DUMP_SCRIPT)], capture_output=True, text=True)
    assert usage.returncode == 2 and usage.stderr.startswith("ical_dump: usage:")


# --- broken samples both parsers must refuse ----------------------------------------------------

GOOD_EVENT = event("DTSTART:20261203T150000Z", "SUMMARY:Meet at the café")

BROKEN = {
    "event missing END:VEVENT": (
        calendar(GOOD_EVENT.replace("END:VEVENT\n", "")),
        "wasn't closed", "component began but did not end"),
    "calendar missing END:VCALENDAR": (
        calendar(GOOD_EVENT).replace(b"END:VCALENDAR\r\n", b""),
        "never closed", "component began but did not end"),
    "line without a colon": (
        calendar(GOOD_EVENT.replace("SUMMARY:", "SUMMARY ")),
        "Failed to parse line", "invalid line"),
    "fold inside a UTF-8 character": (
        calendar(GOOD_EVENT).replace("café".encode(), b"caf\xc3\r\n \xa9"),
        "not UTF-8", "not valid for encoding utf-8"),
    "no VCALENDAR": (b"", "expected one VCALENDAR", "expected one VCALENDAR"),
    "two VCALENDARs": (calendar() + calendar(), "expected one VCALENDAR", "expected one VCALENDAR"),
    "floating time": (
        calendar(event("DTSTART:20261203T150000")),
        "floating time", "floating time"),
    "TZID without VTIMEZONE": (
        calendar(event("DTSTART;TZID=Europe/Berlin:20261203T150000")),
        "has no VTIMEZONE", "has no VTIMEZONE"),
    "event without DTSTART": (calendar(event("SUMMARY:x")), "no DTSTART", "no DTSTART"),
    "event without UID": (
        calendar(GOOD_EVENT.replace("UID:call-jane@outreach.test\n", "")),
        "UID", "without UID"),
    "event without DTSTAMP": (
        calendar(GOOD_EVENT.replace("DTSTAMP:20261101T120000Z\n", "")),
        "DTSTAMP", "no DTSTAMP"),
    "DTSTAMP in local time": (
        calendar(GOOD_EVENT.replace("DTSTAMP:20261101T120000Z", "DTSTAMP:20261101T120000")),
        "must be a UTC date-time", "must be a UTC date-time"),
    "X-PUBLISHED-TTL written from a bare timedelta (12:00:00)": (
        calendar(properties="X-PUBLISHED-TTL:12:00:00\n"),
        "is not a duration", "invalid duration value"),
    "NAME and X-WR-CALNAME differ": (
        calendar(properties="NAME:Follow-ups\nX-WR-CALNAME:Leads\n"), "differ", "differ"),
}


@pytest.mark.parametrize(("data", "vobject_says", "icaljs_says"), BROKEN.values(), ids=BROKEN.keys())
def test_both_parsers_refuse_a_broken_feed(
    tmp_path: Path, data: bytes, vobject_says: str, icaljs_says: str
) -> None:
    """Each broken sample makes vobject and ical.js raise, each for the intended reason."""
    with pytest.raises(FeedError, match=vobject_says) as by_vobject:
        parse_vobject(data)
    path = tmp_path / "broken.ics"
    path.write_bytes(data)
    with pytest.raises(FeedError, match=icaljs_says) as by_icaljs:
        parse_icaljs(path)
    assert str(by_vobject.value).startswith("vobject: ")
    assert str(by_icaljs.value).startswith("ical.js: ")


# --- where the parsers disagree, assert_same must say so ----------------------------------------


def test_an_unescaped_comma_is_caught(tmp_path: Path) -> None:
    """A TEXT value with a bare comma (RFC 5545 wants \\,) is cut there by vobject and kept whole by
    ical.js, so parse_both fails and names the field."""
    data = calendar(event("DTSTART:20261203T150000Z", "SUMMARY:Call Jane, then Zoë"))
    with pytest.raises(AssertionError, match=r"summary: vobject read 'Call Jane', ical\.js read 'Call Jane, then Zoë'"):
        parse_both(data, tmp_path)


def test_rdate_list_vtimezones_are_read_by_the_vobject_path(tmp_path: Path) -> None:
    """The vobject path reads every onset of an RDATE list, so Berlin's summer time in the
    add_missing_timezones() form is right: 09:00 on 1 July 2026 is 07:00Z."""
    feed = parse_vobject(calendar(BERLIN_RDATE_LISTS, event(
        "DTSTART;TZID=Europe/Berlin:20260701T090000", "DTEND;TZID=Europe/Berlin:20260115T090000")))
    assert feed.events[0].start == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert feed.events[0].end == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


def test_icaljs_misreading_rdate_lists_is_caught(tmp_path: Path) -> None:
    """ical.js 2.2.1 reads only the first onset of each RDATE line, so summer times in the
    add_missing_timezones() form come out an hour late (research/calendar.md §1.5); parse_both
    reports it. If a newer ical.js reads the list, this test fails: then drop it."""
    data = calendar(BERLIN_RDATE_LISTS, event("DTSTART;TZID=Europe/Berlin:20260701T090000"))
    with pytest.raises(AssertionError, match=r"start: vobject read datetime\.datetime\(2026, 7, 1, 7, 0.*ical\.js read datetime\.datetime\(2026, 7, 1, 8, 0"):
        parse_both(data, tmp_path)


def test_assert_same_lists_every_difference() -> None:
    """assert_same names each differing calendar and event field with both values, including a
    date read as a datetime, and reports events that only one parser saw."""
    feed = parse_vobject(calendar(event("DTSTART;VALUE=DATE:20261210", "SEQUENCE:2")))
    ev = feed.events[0]
    other = dataclasses.replace(
        feed, parser="ical.js", published_ttl="PT12H",
        events=(dataclasses.replace(ev, sequence=3, start=datetime(2026, 12, 10, tzinfo=UTC)),))
    assert_same(feed, dataclasses.replace(feed, parser="ical.js"))
    with pytest.raises(AssertionError) as raised:
        assert_same(feed, other)
    assert str(raised.value).splitlines() == [
        "vobject and ical.js read the feed differently:",
        "  calendar published_ttl: vobject read None, ical.js read 'PT12H'",
        "  event call-jane@outreach.test sequence: vobject read 2, ical.js read 3",
        "  event call-jane@outreach.test start: vobject read datetime.date(2026, 12, 10), ical.js "
        "read datetime.datetime(2026, 12, 10, 0, 0, tzinfo=datetime.timezone.utc)",
    ]
    with pytest.raises(AssertionError, match=r"events: vobject read UIDs \['call-jane@outreach.test'\], ical.js read \[\]"):
        assert_same(feed, dataclasses.replace(feed, parser="ical.js", events=()))


# --- the helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "PT0S"), (-1800, "-PT30M"), (-5400, "-PT1H30M"), (43200, "PT12H"), (-86400, "-P1D"),
    (-93600, "-P1DT2H"), (604800, "P7D"), (61, "PT1M1S"), (-54000, "-PT15H"),
])
def test_duration_text(seconds: int, text: str) -> None:
    """Durations are written from their length in seconds: days, then hours, minutes, seconds."""
    assert icalcheck.duration_text(seconds) == text


def test_assert_folded_refuses_long_lines_bare_newlines_and_split_characters() -> None:
    """assert_folded accepts CRLF lines of at most 75 octets and refuses anything else."""
    assert_folded(b"BEGIN:VCALENDAR\r\n" + b"X" * 75 + b"\r\n")
    with pytest.raises(AssertionError, match="line 2: 76 octets"):
        assert_folded(b"BEGIN:VCALENDAR\r\n" + b"X" * 76 + b"\r\n")
    with pytest.raises(AssertionError, match="bare CR or LF"):
        assert_folded(b"BEGIN:VCALENDAR\nEND:VCALENDAR\r\n")
    with pytest.raises(AssertionError, match="does not end with CRLF"):
        assert_folded(b"BEGIN:VCALENDAR")
    with pytest.raises(AssertionError, match="not UTF-8"):
        assert_folded(b"SUMMARY:caf\xc3\r\n \xa9\r\n")


def test_require_icaljs_skips_locally_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without ical.js a test is skipped on a developer's machine but fails when CI is set, so CI
    can never silently skip the ical.js checks."""
    monkeypatch.setattr(icalcheck, "ICALJS_PACKAGE", tmp_path / "missing" / "package.json")
    assert not icalcheck.icaljs_available()
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="run `npm ci` in tests/js"):
        icalcheck.require_icaljs()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI must run the ical\.js checks"):
        icalcheck.require_icaljs()
    with pytest.raises(pytest.fail.Exception):
        parse_icaljs(tmp_path / "feed.ics")
