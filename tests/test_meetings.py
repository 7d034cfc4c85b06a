"""Meetings from iCalendar files and feeds: recurrence, what is not a meeting, time zones, and
a feed that fails (down, slow, 5xx, HTML) falling back to its last good copy."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach.sources.meetings import (
    Meeting,
    SourceReport,
    describe_source,
    fetch_url,
    load_meetings,
    slug,
)

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
ME = ("Me@Example.com",)
TODAY = dt.date(2026, 11, 21)  # the tests' "today": yesterday's meeting is on 2026-11-20
WINDOW = {"start": dt.date(2026, 10, 1), "end": dt.date(2026, 11, 30)}


def ics(*events: str, head: str = "") -> str:
    """A calendar with CRLF line ends around the given VEVENT bodies."""
    body = "".join(f"BEGIN:VEVENT\nDTSTAMP:20261001T000000Z\n{e.strip()}\nEND:VEVENT\n" for e in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//meetings//EN\n{head}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n")


ONE_OFF = """
UID:q4-review@crm.example
SUMMARY:Q4 Review — Müller & Co.
DESCRIPTION:Rates for next year
LOCATION:Their office
DTSTART:20261120T150000Z
DTEND:20261120T160000Z
ORGANIZER;CN=Carol:mailto:Carol@Client.example
ATTENDEE;CN=Jane;PARTSTAT=ACCEPTED:MAILTO:Jane@Client.example
ATTENDEE;CN=Me;PARTSTAT=ACCEPTED:mailto:me@example.com
"""
WEEKLY = """
UID:pipeline@crm.example
SUMMARY:Weekly pipeline
DTSTART;TZID=America/New_York:20261007T090000
DTEND;TZID=America/New_York:20261007T093000
RRULE:FREQ=WEEKLY;COUNT=8
EXDATE;TZID=America/New_York:20261021T090000
ORGANIZER:mailto:me@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dan@partner.example
"""
WEEKLY_MOVED = """
UID:pipeline@crm.example
RECURRENCE-ID;TZID=America/New_York:20261028T090000
SUMMARY:Weekly pipeline (moved)
DTSTART;TZID=America/New_York:20261029T140000
DTEND;TZID=America/New_York:20261029T150000
ORGANIZER:mailto:me@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dan@partner.example
"""
WEEKLY_CANCELLED_ONCE = """
UID:pipeline@crm.example
RECURRENCE-ID;TZID=America/New_York:20261111T090000
SUMMARY:Weekly pipeline
STATUS:CANCELLED
DTSTART;TZID=America/New_York:20261111T090000
DTEND;TZID=America/New_York:20261111T093000
ORGANIZER:mailto:me@example.com
ATTENDEE:mailto:dan@partner.example
"""
CANCELLED = """
UID:cancelled@crm.example
SUMMARY:Lunch with Fred
STATUS:CANCELLED
DTSTART:20261118T170000Z
DTEND:20261118T180000Z
ORGANIZER:mailto:fred@client.example
ATTENDEE:mailto:me@example.com
"""
DECLINED = """
UID:declined@crm.example
SUMMARY:Vendor pitch
DTSTART:20261119T140000Z
DTEND:20261119T150000Z
ORGANIZER:mailto:sales@vendor.example
ATTENDEE;PARTSTAT=DECLINED:mailto:ME@EXAMPLE.COM
ATTENDEE;PARTSTAT=ACCEPTED:mailto:gina@vendor.example
"""
PRIVATE = """
UID:dentist@crm.example
SUMMARY:Dentist
DTSTART:20261117T130000Z
DTEND:20261117T140000Z
"""
ONLY_ME = """
UID:focus@crm.example
SUMMARY:Focus time
DTSTART:20261116T130000Z
DTEND:20261116T140000Z
ORGANIZER:mailto:me@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.com
"""
NO_DTSTART = """
UID:broken-1@crm.example
SUMMARY:Lunch with Erin
ORGANIZER:mailto:erin@client.example
ATTENDEE:mailto:me@example.com
"""
BOOK = ics(ONE_OFF, WEEKLY, WEEKLY_MOVED, WEEKLY_CANCELLED_ONCE, CANCELLED, DECLINED, PRIVATE,
           ONLY_ME, NO_DTSTART)
WEEKLY_STARTS_NY = [  # 8 weeks from 7 Oct, minus the EXDATE, the moved one, the cancelled one
    dt.datetime(2026, 10, 7, 9, 0, tzinfo=NY),
    dt.datetime(2026, 10, 14, 9, 0, tzinfo=NY),
    dt.datetime(2026, 10, 29, 14, 0, tzinfo=NY),
    dt.datetime(2026, 11, 4, 9, 0, tzinfo=NY),
    dt.datetime(2026, 11, 18, 9, 0, tzinfo=NY),
    dt.datetime(2026, 11, 25, 9, 0, tzinfo=NY),
]


def load(tmp_path: Path, *sources: str, tz: str = "America/New_York", timeout: float = 10.0,
         **window: dt.date) -> SourceReport:
    return load_meetings(list(sources), root=tmp_path, cache_dir=tmp_path / "cache", me=ME,
                         tz=tz, timeout=timeout, **{**WINDOW, **window})


def write(tmp_path: Path, text: str, name: str = "book.ics") -> str:
    (tmp_path / name).write_text(text, encoding="utf-8", newline="")
    return name


def titles(report: SourceReport) -> list[str]:
    return [m.title for m in report.meetings]


# ---- what counts as a meeting ----------------------------------------------------------------


def test_a_one_off_meeting_with_attendees_and_organizer(tmp_path: Path) -> None:
    """Yesterday's one-off meeting comes out once, in UTC, on its local day, with its text and
    the attendees and organizer lowercased, without mailto: and without me."""
    report = load(tmp_path, write(tmp_path, BOOK), start=dt.date(2026, 11, 20),
                  end=dt.date(2026, 11, 20))
    assert report.meetings == (
        Meeting(
            key="2026-11-20-q4-review-muller-co-" + hashlib.sha256(b"q4-review@crm.example").hexdigest()[:6],
            series="q4-review@crm.example",
            recurring=False,
            start=dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
            end=dt.datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
            day=dt.date(2026, 11, 20),
            title="Q4 Review — Müller & Co.",
            description="Rates for next year",
            location="Their office",
            attendees=("carol@client.example", "jane@client.example"),
        ),
    )
    assert report.meetings[0].start.tzinfo is UTC


def test_cancelled_declined_and_private_events_are_left_out_silently(tmp_path: Path) -> None:
    """A cancelled event, an invitation I declined, an appointment with nobody and one with only
    me are not meetings; they cause no warning (only the event without DTSTART does)."""
    report = load(tmp_path, write(tmp_path, BOOK), start=dt.date(2026, 11, 16),
                  end=dt.date(2026, 11, 20))
    assert titles(report) == ["Weekly pipeline", "Q4 Review — Müller & Co."]
    assert len(report.warnings) == 1


def test_an_event_without_dtstart_warns_and_the_rest_is_read(tmp_path: Path) -> None:
    """A malformed event gives one warning naming the source, its summary and UID; every other
    event of the file is still read."""
    report = load(tmp_path, write(tmp_path, BOOK))
    assert report.warnings == (
        "book.ics: event 'Lunch with Erin' (UID broken-1@crm.example) has no DTSTART; skipped it",
    )
    assert "Q4 Review — Müller & Co." in titles(report)
    assert len(report.meetings) == 1 + len(WEEKLY_STARTS_NY)


def test_a_weekly_meeting_with_exdate_a_moved_and_a_cancelled_occurrence(tmp_path: Path) -> None:
    """The weekly series gives one meeting per remaining week, at 09:00 New York time on both
    sides of the DST change, the moved occurrence at its new time and title, no occurrence on the
    EXDATE or the cancelled week; all share the UID as series and are marked recurring."""
    report = load(tmp_path, write(tmp_path, BOOK))
    weekly = [m for m in report.meetings if m.title.startswith("Weekly pipeline")]
    assert [m.start for m in weekly] == [s.astimezone(UTC) for s in WEEKLY_STARTS_NY]
    assert [m.start.hour for m in weekly] == [13, 13, 18, 14, 14, 14]  # EDT, then EST
    assert {m.series for m in weekly} == {"pipeline@crm.example"}
    assert all(m.recurring for m in weekly)
    assert [m.title for m in weekly if m.day == dt.date(2026, 10, 29)] == ["Weekly pipeline (moved)"]
    assert weekly[0].end - weekly[0].start == dt.timedelta(minutes=30)
    assert {m.attendees for m in weekly} == {("dan@partner.example",)}


def test_keys_are_stable_unique_and_readable(tmp_path: Path) -> None:
    """Two loads give the same keys; each is the local day, the slug of the title and six hex
    digits of the UID, and no two are equal."""
    name = write(tmp_path, BOOK)
    first, second = load(tmp_path, name), load(tmp_path, name)
    keys = [m.key for m in first.meetings]
    assert keys == [m.key for m in second.meetings]
    assert len(set(keys)) == len(keys)
    for m in first.meetings:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d-[a-z0-9-]{1,40}-[0-9a-f]{6}", m.key)
        assert m.key.startswith(m.day.isoformat() + "-" + slug(m.title))
    assert "2026-10-29-weekly-pipeline-moved-" in " ".join(keys)


def test_two_same_titled_meetings_on_one_day_get_different_keys(tmp_path: Path) -> None:
    """The UID's hash in the key keeps two "Coffee" meetings on one day apart."""
    coffee = "SUMMARY:Coffee\nORGANIZER:mailto:x@client.example\n"
    text = ics(f"UID:a\nDTSTART:20261120T090000Z\n{coffee}", f"UID:b\nDTSTART:20261120T170000Z\n{coffee}")
    keys = [m.key for m in load(tmp_path, write(tmp_path, text)).meetings]
    assert len(set(keys)) == 2 and all(k.startswith("2026-11-20-coffee-") for k in keys)


def test_slug_folds_to_ascii_and_is_at_most_40_characters() -> None:
    """Titles become ascii, lowercase, dashed, at most 40 characters; an empty one "meeting"."""
    assert slug("Q4 Review — Müller & Co.") == "q4-review-muller-co"
    assert slug("Crème brûlée / Ångström!") == "creme-brulee-angstrom"
    assert len(slug("a very long meeting title " * 5)) <= 40
    assert not slug("a very long meeting title " * 5).endswith("-")
    assert slug("会议") == "meeting"


def test_rooms_calendars_and_people_who_declined_are_not_attendees(tmp_path: Path) -> None:
    """A room (CUTYPE=ROOM/RESOURCE), a Google resource or group calendar address, Apple's
    invalid:nomail and another attendee who declined are left out of attendees; with nobody
    left, the event is not a meeting."""
    text = ics(
        """UID:room
SUMMARY:Board
DTSTART:20261120T090000Z
ORGANIZER:mailto:me@example.com
ATTENDEE;CUTYPE=ROOM:mailto:board-room@example.com
ATTENDEE;CUTYPE=RESOURCE:mailto:beamer@example.com
ATTENDEE:mailto:c_1883@resource.calendar.google.com
ATTENDEE;CN=Hal:invalid:nomail
ATTENDEE;PARTSTAT=DECLINED:mailto:ian@client.example
ATTENDEE;PARTSTAT=TENTATIVE:mailto:Kim@Client.example""",
        """UID:alone
SUMMARY:Booked a room
DTSTART:20261120T110000Z
ORGANIZER:mailto:en.usa#holiday@group.v.calendar.google.com
ATTENDEE;CUTYPE=ROOM:mailto:board-room@example.com""",
    )
    report = load(tmp_path, write(tmp_path, text))
    assert [(m.title, m.attendees) for m in report.meetings] == [("Board", ("kim@client.example",))]


def test_outlook_canceled_prefix_and_occurrence_i_declined(tmp_path: Path) -> None:
    """Outlook's "Canceled: " title marks a cancelled meeting; declining one occurrence of a
    series (an override with my PARTSTAT=DECLINED) drops only that occurrence."""
    text = ics(
        "UID:c1\nSUMMARY:Canceled: Demo\nDTSTART:20261120T090000Z\nORGANIZER:mailto:x@client.example",
        "UID:s1\nSUMMARY:Standup\nDTSTART:20261116T090000Z\nRRULE:FREQ=DAILY;COUNT=3\n"
        "ORGANIZER:mailto:x@client.example\nATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.com",
        "UID:s1\nRECURRENCE-ID:20261117T090000Z\nSUMMARY:Standup\nDTSTART:20261117T090000Z\n"
        "ORGANIZER:mailto:x@client.example\nATTENDEE;PARTSTAT=DECLINED:mailto:me@example.com",
    )
    report = load(tmp_path, write(tmp_path, text))
    assert [(m.title, m.day.day) for m in report.meetings] == [("Standup", 16), ("Standup", 18)]


def test_all_day_events_are_not_meetings(tmp_path: Path) -> None:
    """An all-day entry (VALUE=DATE: an offsite, a trade fair, someone's birthday, an
    out-of-office) is not a meeting, even with an organizer and attendees: no thank-you for it."""
    text = ics("UID:offsite\nSUMMARY:Offsite\nDTSTART;VALUE=DATE:20261120\nDTEND;VALUE=DATE:20261121\n"
               "ORGANIZER:mailto:x@client.example\nATTENDEE;PARTSTAT=ACCEPTED:mailto:jane@client.example",
               "UID:fair\nSUMMARY:Trade fair\nDTSTART;VALUE=DATE:20261116\nDTEND;VALUE=DATE:20261119\n"
               "RRULE:FREQ=YEARLY\nORGANIZER:mailto:x@client.example")
    assert load(tmp_path, write(tmp_path, text), tz="Asia/Tokyo") == SourceReport((), ())


def test_events_shown_as_free_are_not_meetings(tmp_path: Path) -> None:
    """An event marked free (TRANSP:TRANSPARENT, or Exchange's X-MICROSOFT-CDO-BUSYSTATUS:FREE)
    is a reminder, not time spent with someone: a bin-collection reminder with an attendee gets
    no thank-you. The same event shown as busy (OPAQUE, the default) is a meeting."""
    bins = ("SUMMARY:Bin collection\nDTSTART:20261120T070000Z\nDTEND:20261120T071500Z\n"
            "ORGANIZER:mailto:me@example.com\nATTENDEE;PARTSTAT=ACCEPTED:mailto:neighbour@home.example\n")
    text = ics(f"UID:bins\n{bins}TRANSP:TRANSPARENT",
               f"UID:bins-exchange\n{bins}X-MICROSOFT-CDO-BUSYSTATUS:FREE",
               f"UID:lunch\n{bins.replace('Bin collection', 'Lunch')}TRANSP:OPAQUE")
    assert titles(load(tmp_path, write(tmp_path, text))) == ["Lunch"]


def test_an_invitee_who_never_answered_counts_one_who_declined_does_not(tmp_path: Path) -> None:
    """People attend without answering: an attendee with PARTSTAT=NEEDS-ACTION (or none) is met;
    one who declined is not, and a meeting whose only other attendee declined is no meeting."""
    text = ics("UID:a\nSUMMARY:Review\nDTSTART:20261120T150000Z\nORGANIZER:mailto:me@example.com\n"
               "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:jane@client.example\n"
               "ATTENDEE:mailto:kim@client.example\n"
               "ATTENDEE;PARTSTAT=DECLINED:mailto:ian@client.example",
               "UID:b\nSUMMARY:Pitch\nDTSTART:20261120T170000Z\nORGANIZER:mailto:me@example.com\n"
               "ATTENDEE;PARTSTAT=DECLINED:mailto:ian@client.example")
    report = load(tmp_path, write(tmp_path, text))
    assert [(m.title, m.attendees) for m in report.meetings] == [
        ("Review", ("jane@client.example", "kim@client.example"))]


def test_the_window_is_local_days_both_ends_included(tmp_path: Path) -> None:
    """A meeting at 23:30 New York time on the 20th (04:30 UTC on the 21st) is on the 20th for a
    New York user, so it is in a window ending on the 20th and not in one starting on the 21st."""
    text = ics("UID:late\nSUMMARY:Late call\nDTSTART:20261121T043000Z\nORGANIZER:mailto:x@client.example")
    name = write(tmp_path, text)
    (m,) = load(tmp_path, name, start=dt.date(2026, 11, 20), end=dt.date(2026, 11, 20)).meetings
    assert m.day == dt.date(2026, 11, 20)
    assert load(tmp_path, name, start=dt.date(2026, 11, 21), end=dt.date(2026, 11, 30)).meetings == ()


def test_the_same_event_in_two_sources_is_one_meeting(tmp_path: Path) -> None:
    """A meeting that is in two calendars (shared and personal) comes out once."""
    a, b = write(tmp_path, ics(ONE_OFF), "a.ics"), write(tmp_path, ics(ONE_OFF, PRIVATE), "b.ics")
    assert titles(load(tmp_path, a, b)) == ["Q4 Review — Müller & Co."]


# ---- time zones ------------------------------------------------------------------------------

GOOGLE = ics(
    """UID:7kukuqrfedlm2f9t6e2ulv4e1s@google.com
SUMMARY:Late sync with Lena
DTSTART;TZID=Europe/Berlin:20261020T233000
DTEND;TZID=Europe/Berlin:20261021T000000
RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=3
ORGANIZER;CN=Lena:mailto:lena@client.example
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=me@example.com;X-NUM-GUESTS=0:mailto:me@example.com""",
    """UID:floating@google.com
SUMMARY:Floating breakfast
DTSTART:20261022T080000
DTEND:20261022T090000
ORGANIZER:mailto:lena@client.example""",
    """UID:utc@google.com
SUMMARY:UTC call
DTSTART:20261022T120000Z
DTEND:20261022T123000Z
ORGANIZER:mailto:lena@client.example""",
    head="""CALSCALE:GREGORIAN
METHOD:PUBLISH
X-WR-CALNAME:me@example.com
X-WR-TIMEZONE:Europe/Berlin
BEGIN:VTIMEZONE
TZID:Europe/Berlin
X-LIC-LOCATION:Europe/Berlin
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
""",
)


def test_a_google_feed_across_a_dst_change(tmp_path: Path) -> None:
    """Google's feed (X-WR-TIMEZONE, VTIMEZONE, TZID times): a weekly 23:30 Berlin meeting keeps
    its wall time across the end of summer time (21:30 then 22:30 UTC), and for a Tokyo user
    each falls on the next local day; floating times are read in X-WR-TIMEZONE; UTC stays."""
    report = load(tmp_path, write(tmp_path, GOOGLE), tz="Asia/Tokyo")
    berlin, tokyo = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo")
    late = [m for m in report.meetings if m.title == "Late sync with Lena"]
    expected = [dt.datetime(2026, 10, d, 23, 30, tzinfo=berlin) for d in (20, 27)] + [
        dt.datetime(2026, 11, 3, 23, 30, tzinfo=berlin)
    ]
    assert [m.start for m in late] == [e.astimezone(UTC) for e in expected]
    assert [m.start.hour for m in late] == [21, 22, 22]
    assert [m.day for m in late] == [e.astimezone(tokyo).date() for e in expected]
    assert [m.day for m in late] == [dt.date(2026, 10, 21), dt.date(2026, 10, 28), dt.date(2026, 11, 4)]
    assert [m.end - m.start for m in late] == [dt.timedelta(minutes=30)] * 3
    by_title = {m.title: m for m in report.meetings}
    assert by_title["Floating breakfast"].start == dt.datetime(2026, 10, 22, 6, 0, tzinfo=UTC)
    assert by_title["UTC call"].start == dt.datetime(2026, 10, 22, 12, 0, tzinfo=UTC)
    assert report.warnings == ()


def test_floating_times_without_x_wr_timezone_are_in_the_users_zone(tmp_path: Path) -> None:
    """Without X-WR-TIMEZONE a floating time is wall time in the user's zone."""
    text = ics("UID:f\nSUMMARY:Walk\nDTSTART:20261120T080000\nORGANIZER:mailto:x@client.example")
    (m,) = load(tmp_path, write(tmp_path, text), tz="America/New_York").meetings
    assert m.start == dt.datetime(2026, 11, 20, 8, 0, tzinfo=NY).astimezone(UTC)


def test_outlook_windows_zone_names_and_unknown_zones(tmp_path: Path) -> None:
    """Outlook's Windows zone names are understood; an unknown TZID is read in the user's zone,
    with a warning that says so."""
    text = ics(
        "UID:w\nSUMMARY:Windows\nDTSTART;TZID=W. Europe Standard Time:20261120T100000\n"
        "ORGANIZER:MAILTO:X@Client.example",
        "UID:u\nSUMMARY:Nowhere\nDTSTART;TZID=Mars/Olympus:20261120T100000\n"
        "ORGANIZER:mailto:x@client.example",
    )
    report = load(tmp_path, write(tmp_path, text))
    by_title = {m.title: m for m in report.meetings}
    assert by_title["Windows"].start == dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert by_title["Nowhere"].start == dt.datetime(2026, 11, 20, 10, 0, tzinfo=NY).astimezone(UTC)
    assert report.warnings == (
        "book.ics: event 'Nowhere' (UID u) uses the unknown time zone 'Mars/Olympus'; "
        "read its times in America/New_York",
    )


def test_broken_dates_and_rules_warn_and_spare_the_rest(tmp_path: Path) -> None:
    """A broken DTSTART and a broken RRULE each give a warning naming the event; the good event
    in the same file is still a meeting; an event without UID gets a stable stand-in series."""
    org = "ORGANIZER:mailto:x@client.example"
    text = ics(
        f"UID:bad-date\nSUMMARY:Bad date\nDTSTART:20261345T100000Z\n{org}",
        f"UID:bad-rule\nSUMMARY:Bad rule\nDTSTART:20261120T100000Z\nRRULE:FREQ=SOMETIMES\n{org}",
        f"SUMMARY:No UID\nDTSTART:20261120T120000Z\n{org}",
    )
    name = write(tmp_path, text)
    report = load(tmp_path, name)
    assert titles(report) == ["No UID"]
    assert len(report.warnings) == 2
    assert report.warnings[0].startswith("book.ics: event 'Bad date' (UID bad-date) has a broken DTSTART")
    assert report.warnings[1].startswith("book.ics: event 'Bad rule' (UID bad-rule) has a broken RRULE")
    assert all(w.endswith("; skipped it") for w in report.warnings)
    assert load(tmp_path, name).meetings == report.meetings


# ---- files -----------------------------------------------------------------------------------


def test_a_missing_or_non_calendar_file_is_a_warning(tmp_path: Path) -> None:
    """A file that does not exist or is not iCalendar gives one warning each, never an error;
    the other sources are still read."""
    write(tmp_path, "hello", "notes.txt")
    report = load(tmp_path, "gone.ics", "notes.txt", write(tmp_path, ics(ONE_OFF)))
    assert titles(report) == ["Q4 Review — Müller & Co."]
    assert report.warnings == (
        "gone.ics: no such file; no meetings from it",
        "notes.txt: is not iCalendar (begins 'hello'); no meetings from it",
    )


def test_absolute_paths_and_a_byte_order_mark(tmp_path: Path) -> None:
    """An absolute path is read as is, and a UTF-8 byte order mark (Outlook) is fine."""
    path = tmp_path / "sub" / "bom.ics"
    path.parent.mkdir()
    path.write_bytes(b"\xef\xbb\xbf" + ics(ONE_OFF).encode())
    assert titles(load(tmp_path / "elsewhere", str(path))) == ["Q4 Review — Müller & Co."]


# ---- feeds over HTTP -------------------------------------------------------------------------


@dataclass
class Feed:
    """A tiny calendar server on 127.0.0.1 with ETags and fault modes."""

    server: http.server.ThreadingHTTPServer
    body: bytes = BOOK.encode()
    mode: str = "ok"  # ok | 500 | html | slow
    requests: int = 0
    not_modified: int = 0
    conditional: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/calendar/ical/secret-key/basic.ics"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feed() -> Iterator[Feed]:
    state: list[Feed] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            f = state[0]
            f.requests += 1
            f.conditional.append(self.headers.get("If-None-Match", ""))
            try:
                if f.mode == "slow":
                    f.release.wait(5)
                    return
                if f.mode == "500":
                    self.send_error(500)
                    return
                body, ctype = f.body, "text/calendar; charset=utf-8"
                if f.mode == "html":
                    body, ctype = b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/html"
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    f.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", "Fri, 20 Nov 2026 10:00:00 GMT")
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.append(Feed(server))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state[0]
    finally:
        state[0].release.set()
        if thread.is_alive():
            server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_feed_is_fetched_cached_and_revalidated(tmp_path: Path, feed: Feed) -> None:
    """The first load fetches (200) and keeps a copy with its ETag; the second sends
    If-None-Match, gets 304 and reads the copy: same meetings, no warning beyond the file's own."""
    first = load(tmp_path, feed.url)
    assert (feed.requests, feed.not_modified, feed.conditional) == (1, 0, [""])
    assert len(first.meetings) == 1 + len(WEEKLY_STARTS_NY)
    (copy,) = (tmp_path / "cache").glob("*.ics")
    assert copy.read_bytes() == feed.body
    meta = json.loads(copy.with_suffix(".json").read_text())
    assert meta["etag"].startswith('"') and meta["last_modified"] == "Fri, 20 Nov 2026 10:00:00 GMT"
    second = load(tmp_path, feed.url)
    assert (feed.requests, feed.not_modified) == (2, 1)
    assert feed.conditional[1] == meta["etag"]
    assert second == first
    assert [w.split(": ", 1)[1] for w in first.warnings] == [
        "event 'Lunch with Erin' (UID broken-1@crm.example) has no DTSTART; skipped it"
    ]


def test_a_changed_feed_replaces_the_copy(tmp_path: Path, feed: Feed) -> None:
    """When the feed changes, the new version is fetched (200) and kept."""
    load(tmp_path, feed.url)
    feed.body = ics(ONE_OFF).encode()
    report = load(tmp_path, feed.url)
    assert (feed.requests, feed.not_modified) == (2, 0)
    assert titles(report) == ["Q4 Review — Müller & Co."]
    (copy,) = (tmp_path / "cache").glob("*.ics")
    assert copy.read_bytes() == feed.body


def copy_day(tmp_path: Path) -> str:
    (meta,) = (tmp_path / "cache").glob("*.json")
    fetched = dt.datetime.fromisoformat(json.loads(meta.read_text())["fetched"])
    return fetched.astimezone(NY).date().isoformat()


@pytest.mark.parametrize(
    ("fault", "what"),
    [
        ("down", "unreachable (connection refused)"),
        ("500", "answered HTTP 500 Internal Server Error"),
        ("slow", "unreachable (timed out after 0.5 s)"),
        ("html", "sent something that is not iCalendar (text/html, begins '<!DOCTYPE html><html><body>Sig')"),
    ],
)
def test_a_failing_feed_falls_back_to_its_copy(tmp_path: Path, feed: Feed, fault: str, what: str) -> None:
    """A feed that is down, answers 500, is slower than the timeout or sends HTML gives one
    warning naming it (without its secret path) and what happened, and the copy is used: the same
    meetings as before. The HTML does not replace the copy."""
    good = load(tmp_path, feed.url, timeout=0.5)
    if fault == "down":
        feed.stop()
    else:
        feed.mode = fault
    report = load(tmp_path, feed.url, timeout=0.5)
    port = feed.server.server_address[1]
    assert report.warnings[0] == (
        f"http://127.0.0.1:{port}/…/basic.ics: {what}; used the copy from {copy_day(tmp_path)}"
    )
    assert report.meetings == good.meetings
    assert report.warnings[1:] == good.warnings
    (copy,) = (tmp_path / "cache").glob("*.ics")
    assert copy.read_bytes() == BOOK.encode()


def test_a_feed_never_fetched_and_unreachable_gives_no_meetings(tmp_path: Path) -> None:
    """An unreachable feed without a copy: a warning, no meetings, no exception."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = load(tmp_path, f"webcal://127.0.0.1:{port}/u/0/private-abc123/basic.ics?key=secret")
    assert report == SourceReport(
        meetings=(),
        warnings=(f"webcal://127.0.0.1:{port}/…/basic.ics: unreachable (connection refused); no saved copy, skipped it",),
    )


def test_a_feed_sending_html_the_first_time_gives_no_meetings(tmp_path: Path, feed: Feed) -> None:
    """HTML (a sign-in page) with no copy to fall back on: a warning and no meetings; nothing is
    cached."""
    feed.mode = "html"
    report = load(tmp_path, feed.url)
    assert report.meetings == ()
    assert report.warnings[0].endswith("; no saved copy, skipped it")
    assert not list((tmp_path / "cache").glob("*.ics"))


def test_webcal_and_secret_urls() -> None:
    """webcal:// is fetched over https (http for a loopback host, as `outreach serve` prints
    it); warnings name a URL by scheme, host and last segment, never its secret path, query or
    password."""
    assert fetch_url("webcal://calendar.google.com/calendar/ical/x/basic.ics") == (
        "https://calendar.google.com/calendar/ical/x/basic.ics"
    )
    assert fetch_url("webcals://example.com/a.ics") == "https://example.com/a.ics"
    assert fetch_url("webcal://127.0.0.1:8025/tok/calendar.ics") == "http://127.0.0.1:8025/tok/calendar.ics"
    assert fetch_url("webcal://localhost/c.ics") == "http://localhost/c.ics"
    assert fetch_url("http://127.0.0.1:8025/c.ics") == "http://127.0.0.1:8025/c.ics"
    assert describe_source(
        "https://calendar.google.com/calendar/ical/me%40example.com/private-0123abcd/basic.ics"
    ) == "https://calendar.google.com/…/basic.ics"
    assert describe_source("https://user:pw@dav.example.com:8443/cal.ics?token=s") == (
        "https://dav.example.com:8443/cal.ics"
    )
    assert describe_source("calendars/work.ics") == "calendars/work.ics"


# ---- series that began long ago ----------------------------------------------------------------
# dateutil walks a rule from its DTSTART: the series below are moved to just before the window
# before they are expanded (outreach.sources.recurrence), and must keep their occurrences there.

STANDUP = """
UID:standup@crm.example
SUMMARY:Standup
DTSTART;TZID=America/New_York:{start}T091500
DTEND;TZID=America/New_York:{start}T093000
RRULE:{rule}
ORGANIZER:mailto:me@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dan@partner.example
"""


def starts(report: SourceReport) -> list[dt.datetime]:
    return [m.start for m in report.meetings]


def test_a_daily_series_from_year_one_has_the_same_meetings_as_one_from_this_year(
    tmp_path: Path,
) -> None:
    """A daily standup whose DTSTART is 0001-01-01 (some exports begin series far back) has
    the same meetings in the window as one that began this year: at 09:15 New York time on both
    sides of the DST change, 15 minutes long, read at once (dateutil alone walks 740,000 days)."""
    old = ics(STANDUP.format(start="00010101", rule="FREQ=DAILY"))
    new = ics(STANDUP.format(start="20260101", rule="FREQ=DAILY"))
    began = dt.datetime.now()
    report = load(tmp_path, write(tmp_path, old, "old.ics"))
    assert (dt.datetime.now() - began).total_seconds() < 1
    assert report.warnings == ()
    assert starts(report) == starts(load(tmp_path, write(tmp_path, new, "new.ics")))
    assert len(report.meetings) == 61
    assert {m.start.astimezone(NY).time() for m in report.meetings} == {dt.time(9, 15)}
    assert {m.end - m.start for m in report.meetings} == {dt.timedelta(minutes=15)}


def test_a_fortnightly_series_from_1970_keeps_its_weeks_exdates_and_moved_occurrences(
    tmp_path: Path,
) -> None:
    """Every other week on Monday and Wednesday since 5 January 1970, with an EXDATE and an
    occurrence moved to Friday in the window: the same weeks as the series computed from 1970
    (weeks 0, 2, 4, ... counted from its start), without the EXDATE, with the moved one."""
    rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE"
    series = STANDUP.format(start="19700105", rule=rule) + (
        "EXDATE;TZID=America/New_York:20261014T091500\n")
    moved = """
UID:standup@crm.example
RECURRENCE-ID;TZID=America/New_York:20261026T091500
SUMMARY:Standup (moved)
DTSTART;TZID=America/New_York:20261030T140000
DTEND;TZID=America/New_York:20261030T143000
ORGANIZER:mailto:me@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dan@partner.example
"""
    text = ics(series, moved)
    report = load(tmp_path, write(tmp_path, text))
    # 1970-01-05 was a Monday; 2026-10-12 is 2,962 weeks later: an even week of the series
    local = [(m.start.astimezone(NY).strftime("%a %d %b %H:%M"), m.title) for m in report.meetings]
    assert local == [
        ("Mon 12 Oct 09:15", "Standup"),
        ("Wed 28 Oct 09:15", "Standup"),
        ("Fri 30 Oct 14:00", "Standup (moved)"),
        ("Mon 09 Nov 09:15", "Standup"),
        ("Wed 11 Nov 09:15", "Standup"),
        ("Mon 23 Nov 09:15", "Standup"),
        ("Wed 25 Nov 09:15", "Standup"),
    ]
    assert starts(report) == reference(text)


def reference(text: str, tz: str = "America/New_York", **window: dt.date) -> list[dt.datetime]:
    """The starts recurring-ical-events gives for ``text`` as it is (dateutil walking every rule
    from its DTSTART), on the local days of the window: what the moved series must give."""
    import warnings

    import icalendar
    import recurring_ical_events

    first, last = window.get("start", WINDOW["start"]), window.get("end", WINDOW["end"])
    cal = icalendar.Calendar.from_ical(text)
    floating = ZoneInfo(str(cal.get("X-WR-TIMEZONE", tz)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = recurring_ical_events.of(cal).between(first - dt.timedelta(days=1),
                                                      last + dt.timedelta(days=2))
    out = []
    for occurrence in found:
        start = occurrence.decoded("DTSTART")
        start = (start if start.tzinfo else start.replace(tzinfo=floating)).astimezone(UTC)
        if first <= start.astimezone(ZoneInfo(tz)).date() <= last:
            out.append(start)
    return sorted(out)


def test_a_google_weekly_series_in_utc_from_2015_keeps_its_local_time(tmp_path: Path) -> None:
    """Google writes some series in UTC with X-WR-TIMEZONE: the rule repeats in that zone's wall
    time. Moved to the window, a Monday 14:00 UTC series from January 2015 (09:00 in New York,
    winter time) is still at 09:00 New York time on both sides of the DST change."""
    text = ics("""
UID:utc-weekly@google.com
SUMMARY:Pipeline
DTSTART:20150105T140000Z
DTEND:20150105T143000Z
RRULE:FREQ=WEEKLY;BYDAY=MO
ORGANIZER:mailto:dan@partner.example
""", head="X-WR-TIMEZONE:America/New_York\n")
    report = load(tmp_path, write(tmp_path, text))
    assert {m.start.astimezone(NY).time() for m in report.meetings} == {dt.time(9, 0)}
    assert [m.start.hour for m in report.meetings][:5] == [13, 13, 13, 13, 14]  # EDT, then EST
    assert starts(report) == reference(text)


def test_a_count_that_ends_in_the_window_ends_there(tmp_path: Path) -> None:
    """A daily series from 2000 whose COUNT runs out on 15 November 2026 has its meetings up to
    that day and none after (the COUNT is followed to its last occurrence, then the start moves);
    a series whose UNTIL is before its own DTSTART has none at all."""
    count = (dt.date(2026, 11, 15) - dt.date(2000, 1, 1)).days + 1
    text = ics(STANDUP.format(start="20000101", rule=f"FREQ=DAILY;COUNT={count}"))
    report = load(tmp_path, write(tmp_path, text))
    assert [m.day for m in report.meetings][-1] == dt.date(2026, 11, 15)
    assert starts(report) == reference(text)
    ended = ics(STANDUP.format(start="20261015", rule="FREQ=DAILY;UNTIL=20080515T000000Z"))
    assert load(tmp_path, write(tmp_path, ended)) == SourceReport((), ())


WEEKDAY = st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])


@st.composite
def rules(draw: st.DrawFn) -> str:
    """A rule that has occurrences (one whose BY-parts never match is another test's case)."""
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    interval = draw(st.integers(1, 4))
    parts = [f"FREQ={freq}", f"INTERVAL={interval}"]
    days = draw(st.lists(WEEKDAY, min_size=1, max_size=3, unique=True))
    kind = ""
    if freq in ("MONTHLY", "YEARLY"):
        kind = draw(st.sampled_from(["", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO"]))
        if kind == "BYDAY":
            prefix = draw(st.sampled_from(["", "1", "2", "-1"]))
            parts.append("BYDAY=" + ",".join(prefix + d for d in days))
        elif kind == "BYMONTHDAY":
            parts.append("BYMONTHDAY=" + ",".join(map(str, draw(st.lists(
                st.sampled_from([1, 2, 15, 28, -1]), min_size=1, max_size=2, unique=True)))))
        elif kind and freq == "YEARLY":
            values = [1, 44, 45, 46, 47, -1] if kind == "BYWEEKNO" else [1, 290, 300, 310, 320, -1]
            parts.append(f"{kind}=" + ",".join(map(str, draw(st.lists(
                st.sampled_from(values), min_size=1, max_size=3, unique=True)))))
    elif draw(st.booleans()):
        kind = "BYDAY"
        parts.append("BYDAY=" + ",".join(days))
    if freq != "DAILY" and kind == "BYDAY" and draw(st.booleans()):
        parts.append(f"BYSETPOS={draw(st.sampled_from([1, -1]))}")
    if kind not in ("BYYEARDAY", "BYWEEKNO") and (freq != "MONTHLY" or interval == 1) and (
        draw(st.booleans())
    ):
        parts.append("BYMONTH=" + ",".join(map(str, draw(st.lists(
            st.integers(1, 12), min_size=1, max_size=4, unique=True)))))
    parts.append(f"WKST={draw(WEEKDAY)}")
    end = draw(st.sampled_from(["", "", "COUNT", "UNTIL"]))
    if end == "COUNT":
        parts.append(f"COUNT={draw(st.sampled_from([5, 300, 5000, 12000, 999999999]))}")
    elif end == "UNTIL":
        year, month = draw(st.integers(2000, 2027)), draw(st.integers(1, 12))
        parts.append(f"UNTIL={year}{month:02d}15T000000Z")
    return ";".join(parts)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rule=rules(),
    year=st.integers(1985, 2026),
    month=st.integers(1, 12),
    day=st.integers(1, 28),
    hour=st.integers(0, 23),
    zone=st.sampled_from(["Z", "America/New_York", "Europe/Berlin", "floating", "Google"]),
)
def test_moving_a_series_to_the_window_keeps_its_meetings(
    tmp_path: Path, rule: str, year: int, month: int, day: int, hour: int, zone: str
) -> None:
    """Any daily, weekly, monthly or yearly rule (INTERVAL, BYDAY with positions, BYMONTHDAY,
    BYYEARDAY, BYWEEKNO, BYSETPOS, BYMONTH, WKST, COUNT, UNTIL), starting in any year since
    1985, at any hour, in UTC, a zone with DST, floating or Google's UTC with X-WR-TIMEZONE:
    the meetings in the window are those dateutil gives walking the rule from its DTSTART."""
    start = f"{year:04d}{month:02d}{day:02d}T{hour:02d}3000"
    head = "X-WR-TIMEZONE:Europe/Berlin\n" if zone == "Google" else ""
    if zone in ("Z", "Google"):
        times = f"DTSTART:{start}Z\nDTEND:{start[:-4]}5500Z"
    elif zone == "floating":
        times = f"DTSTART:{start}\nDURATION:PT25M"
    else:
        times = f"DTSTART;TZID={zone}:{start}\nDTEND;TZID={zone}:{start[:-4]}5500"
    text = ics(f"UID:x@crm.example\nSUMMARY:S\n{times}\nRRULE:{rule}\n"
               "ORGANIZER:mailto:dan@partner.example", head=head)
    report = load(tmp_path, write(tmp_path, text))
    assert report.warnings == ()
    assert starts(report) == reference(text)


def test_an_address_with_a_broken_port_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    """A calendar address with credentials and a port that is no number gives one warning (it
    used to raise out of the fetch and end the night with a crash log)."""
    report = load(tmp_path, "https://jane:pw@dav.example.com:8o8o/cal.ics")
    assert report == SourceReport((), (
        "https://…: unreachable (Port could not be cast to integer value as '8o8o'); "
        "no saved copy, skipped it",
    ))
