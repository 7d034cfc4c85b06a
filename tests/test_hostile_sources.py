"""Hostile calendars and feeds: every case ends in one warning line naming the source and what
was done, in bounded time, and the rest of the night goes on.

Servers that drip, never answer, send too much, redirect in loops or elsewhere, compress
uninvited; invitations that repeat every minute since 1970, carry 100,000 attendees or a 10 MB
title, time zones that change every second; feeds with entity bombs, 100,000 items or 10 MB
titles. Small limits (``CalendarLimits``, ``FeedLimits``) keep each test to a few seconds where
the production limits would make it slow; the production figures are in the README."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from factories import campaign_data, contact_data, write_folder
from lifecycle import serving

from outreach.sources.articles import ArticlesReport, FeedSpec, load_articles
from outreach.sources.bounds import MB, CalendarLimits, FeedLimits
from outreach.sources.meetings import SourceReport, load_meetings

DATA = Path(__file__).parent / "data" / "hostile-sources"
ME = "alex@rivera.example"
WINDOW = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}

BOMB = gzip.compress(b"\0" * (8 * MB), compresslevel=9)  # 8 KB that inflate a thousandfold
RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Rates</title><link>https://rates.example/</link>
<description>d</description>
<item><title>Rates in March</title><link>https://rates.example/march</link></item>
</channel></rss>
"""


# --------------------------------------------------------------------------- a hostile server


@dataclass
class Server:
    """Routes of a server on 127.0.0.1: path -> (mode, body)."""

    port: int = 0
    routes: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    headers: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(state: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.headers.append((self.path, dict(self.headers.items())))
            mode, body = state.routes.get(self.path, ("missing", b""))
            with contextlib.suppress(OSError):  # the client gave up
                getattr(self, f"_{mode}")(body)

        def _start(self, **headers: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.flush()

        def _ok(self, body: bytes) -> None:
            etag = '"' + hashlib.sha256(body).hexdigest()[:12] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self._start(Content_Length=str(len(body)), ETag=etag)
            self.wfile.write(body)

        def _drip(self, body: bytes) -> None:  # one byte every 0.2 s: each read succeeds
            self._start()
            for i in range(len(body)):
                if state.stop.wait(0.2):
                    return
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()

        def _unsized(self, body: bytes) -> None:  # no Content-Length, then the whole body
            self._start()
            self.wfile.write(body)

        def _endless(self, body: bytes) -> None:
            self._start()
            chunk = b"<item>" * 10_000
            while not state.stop.is_set():
                self.wfile.write(chunk)

        def _lying(self, body: bytes) -> None:  # announces a terabyte
            self._start(Content_Length=str(10**12))
            self.wfile.write(body)

        def _gzip(self, body: bytes) -> None:
            self._start(Content_Encoding="gzip", Content_Length=str(len(BOMB)))
            self.wfile.write(BOMB)

        def _redirect(self, body: bytes) -> None:
            self.send_response(302)
            self.send_header("Location", body.decode())
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _missing(self, body: bytes) -> None:
            self.send_error(404)

    return Handler


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    state = Server()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    with serving(httpd):
        try:
            yield state
        finally:
            state.stop.set()  # before the shutdown: a dripping handler stops


def feeds(tmp_path: Path, *urls: str, timeout: float = 1.0, **limits: float) -> ArticlesReport:
    return load_articles(None, [FeedSpec(u) for u in urls], cache_dir=tmp_path / "cache",
                         timeout=timeout, limits=FeedLimits(**limits))


def copied(tmp_path: Path, server: Server, path: str, mode: str, body: bytes = RSS) -> str:
    """A feed that was good once (its copy is saved), then turns hostile."""
    server.routes[path] = ("ok", RSS)
    assert feeds(tmp_path, server.url(path)).warnings == ()
    server.routes[path] = (mode, body)
    return server.url(path)


def today(zone: str | None = None) -> str:
    """The day of a copy saved in this test, in ``zone`` (the calendars' time zone; feeds: the
    local one): a copy saved at 01:00 UTC is from the day before in Chicago."""
    if zone is None:
        return dt.date.today().isoformat()
    return dt.datetime.now(ZoneInfo(zone)).date().isoformat()


# --------------------------------------------------------------------------- fetching


@pytest.mark.parametrize(
    ("mode", "body", "what"),
    [
        ("drip", RSS, "too slow (the answer was not complete after 1 s)"),
        ("unsized", b"<rss>" + b" " * (2 * MB), "sent more than 1 MB"),
        ("endless", b"", "sent more than 1 MB"),
        ("lying", RSS, "sent more than 1 MB"),
        ("gzip", b"",
         "sent a compressed answer (Content-Encoding: gzip) though none was asked for"),
    ],
)
def test_a_feed_that_drips_or_sends_too_much_falls_back_to_its_copy(
    tmp_path: Path, server: Server, mode: str, body: bytes, what: str
) -> None:
    """The timeout is for the whole fetch, not for each read: a feed that sends one byte every
    0.2 s ends at the deadline. The size limit is counted while reading: a body without
    Content-Length larger than the limit, an endless one and one announced larger end there, and
    a compressed body nobody asked for is not inflated. Each: one warning, the saved copy."""
    url = copied(tmp_path, server, "/feed.xml", mode, body)
    began = time.monotonic()
    report = feeds(tmp_path, url, bytes=1 * MB)
    assert report.warnings == (f"{url}: {what}; used the copy from {today()}",)
    assert [a.title for a in report.articles] == ["Rates in March"]
    assert time.monotonic() - began < 3


def test_a_server_that_never_answers_costs_the_timeout(tmp_path: Path) -> None:
    """A server that accepts the connection and never answers: one warning after the timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/feed.xml"
        began = time.monotonic()
        report = feeds(tmp_path, url, timeout=0.5)
    assert report.warnings == (
        f"{url}: unreachable (timed out after 0.5 s); no saved copy, skipped it",
    )
    assert time.monotonic() - began < 2


@pytest.mark.parametrize(
    ("location", "what"),
    [
        ("/loop.xml", "redirected more than 5 times"),
        ("file:///etc/passwd", "redirected to a file: address (only http and https are followed)"),
        ("ftp://127.0.0.1/feed.xml",
         "redirected to a ftp: address (only http and https are followed)"),
    ],
)
def test_redirect_loops_and_redirects_off_the_web_are_not_followed(
    tmp_path: Path, server: Server, location: str, what: str
) -> None:
    """A redirect loop stops after five hops; a redirect to file:, ftp: or any other scheme than
    http(s) is not followed. One warning, the copy."""
    url = copied(tmp_path, server, "/loop.xml", "redirect", location.encode())
    report = feeds(tmp_path, url)
    assert report.warnings == (f"{url}: {what}; used the copy from {today()}",)
    assert len([p for p, _ in server.headers if p == "/loop.xml"]) <= 1 + 6


def test_credentials_are_not_sent_on_to_another_host(tmp_path: Path, server: Server) -> None:
    """https://user:password@host/: the password goes to that host, through a redirect on the
    same host too, but not to another host (or port) a redirect points to."""
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))) as other:
        elsewhere = f"http://127.0.0.1:{other}/there.xml"
        server.routes.update({"/here.xml": ("redirect", b"/same.xml"),
                              "/same.xml": ("ok", RSS),
                              "/away.xml": ("redirect", elsewhere.encode()),
                              "/there.xml": ("ok", RSS)})
        base = f"http://jane:s3cret@127.0.0.1:{server.port}"
        report = feeds(tmp_path, f"{base}/here.xml", f"{base}/away.xml")
    assert report.warnings == ()
    sent = {path: "Authorization" in headers for path, headers in server.headers}
    assert sent == {"/here.xml": True, "/same.xml": True, "/away.xml": True, "/there.xml": False}


@pytest.fixture
def tls_server(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The hostile routes over https with a self-signed certificate for 127.0.0.1 that the
    client trusts (SSL_CERT_FILE): the base URL."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    with serving(httpd) as port:
        yield f"https://127.0.0.1:{port}"


def test_over_https_the_deadline_holds_too(tmp_path: Path, server: Server, tls_server: str) -> None:
    """Over TLS the watchdog reaches the wrapped socket: a feed that drips ends at the deadline;
    a server that never finishes the TLS handshake costs the timeout."""
    server.routes["/feed.xml"] = ("ok", RSS)
    assert feeds(tmp_path, f"{tls_server}/feed.xml").warnings == ()
    server.routes["/feed.xml"] = ("drip", RSS)
    began = time.monotonic()
    report = feeds(tmp_path, f"{tls_server}/feed.xml")
    assert report.warnings == (
        f"{tls_server}/feed.xml: too slow (the answer was not complete after 1 s); used the copy "
        f"from {today()}",
    )
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"https://127.0.0.1:{silent.getsockname()[1]}/feed.xml"
        assert feeds(tmp_path, url, timeout=0.5).warnings == (
            f"{url}: unreachable (timed out after 0.5 s); no saved copy, skipped it",
        )
    assert time.monotonic() - began < 4


def test_a_dripping_calendar_falls_back_to_its_copy(tmp_path: Path, server: Server) -> None:
    """Calendars are fetched the same way: a feed that drips ends at the timeout, with the
    meetings of its saved copy."""
    body = (DATA / "stranger-invitation.ics").read_bytes()
    server.routes["/basic.ics"] = ("ok", body)
    good = calendar(tmp_path, server.url("/basic.ics"))
    server.routes["/basic.ics"] = ("drip", body)
    began = time.monotonic()
    report = calendar(tmp_path, server.url("/basic.ics"))
    assert report.warnings[0] == (
        f"http://127.0.0.1:{server.port}/basic.ics: too slow (the answer was not complete "
        f"after 1 s); used the copy from {today('America/Chicago')}"
    )
    assert report.meetings == good.meetings and len(good.meetings) == 1
    assert time.monotonic() - began < 3


# --------------------------------------------------------------------------- calendars


def calendar(tmp_path: Path, source: str, **limits: float) -> SourceReport:
    return load_meetings([source], root=tmp_path, cache_dir=tmp_path / "cache", me=[ME],
                         tz="America/Chicago", timeout=1.0,
                         limits=CalendarLimits(**limits),
                         **WINDOW)


def ics(*events: str, head: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{head}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


PEOPLE = "ORGANIZER:mailto:jane@acme.example\nATTENDEE;PARTSTAT=ACCEPTED:mailto:" + ME
REAL = f"UID:real@x\nSUMMARY:Q4 review\nDTSTART:20261119T150000Z\nDTEND:20261119T160000Z\n{PEOPLE}"


def write(tmp_path: Path, body: bytes) -> str:
    (tmp_path / "book.ics").write_bytes(body)
    return "book.ics"


def titles(report: SourceReport) -> list[str]:
    return [m.title for m in report.meetings]


def test_an_invitation_repeating_every_minute_since_1970_is_skipped(tmp_path: Path) -> None:
    """The invitation a stranger can put in a Google calendar (DTSTART 1970, RRULE:FREQ=MINUTELY,
    no end) no longer keeps the run busy for ever: one warning, the other meeting is read."""
    began = time.monotonic()
    report = calendar(tmp_path, str(DATA / "stranger-invitation.ics"))
    assert report.warnings == (
        f"{DATA / 'stranger-invitation.ics'}: event 'Free money' (UID free-money-1970@lottery"
        ".example) repeats every minute; skipped it",
    )
    assert titles(report) == ["Q4 review"]
    assert time.monotonic() - began < 2


@pytest.mark.parametrize(
    ("rule", "what"),
    [
        ("FREQ=SECONDLY", "repeats every second"),
        ("FREQ=MINUTELY;INTERVAL=15", "repeats every 15 minutes"),
        ("FREQ=HOURLY;INTERVAL=2", "repeats every 2 hours"),
        ("FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,30", "repeats 16 times a day"),
        ("FREQ=WEEKLY;BYSECOND=" + ",".join(map(str, range(60))), "repeats 60 times a day"),
    ],
)
def test_rules_more_frequent_than_daily_are_skipped(tmp_path: Path, rule: str, what: str) -> None:
    """Nobody is thanked for a meeting that repeats several times a day: a SECONDLY, MINUTELY or
    HOURLY rule, or BYHOUR/BYMINUTE/BYSECOND lists that multiply a day's occurrences, skip the
    event with one warning saying how often it repeats."""
    spam = f"UID:spam@x\nSUMMARY:Spam\nDTSTART:19700101T000000Z\nRRULE:{rule}\n{PEOPLE}"
    report = calendar(tmp_path, write(tmp_path, ics(spam, REAL)))
    assert report.warnings == (f"book.ics: event 'Spam' (UID spam@x) {what}; skipped it",)
    assert titles(report) == ["Q4 review"]


def test_a_huge_count_is_the_same_as_no_count(tmp_path: Path) -> None:
    """A daily standup since 1970 with COUNT=999999999 has the same meetings in the window as one
    without COUNT, read at once."""
    standup = (f"UID:s@x\nSUMMARY:Standup\nDTSTART:19700101T150000Z\n"
               f"DTEND:19700101T151500Z\n{PEOPLE}")
    began = time.monotonic()
    huge = ics(f"{standup}\nRRULE:FREQ=DAILY;COUNT=999999999")
    counted = calendar(tmp_path, write(tmp_path, huge))
    endless = calendar(tmp_path, write(tmp_path, ics(standup + "\nRRULE:FREQ=DAILY")))
    assert counted == endless
    assert [m.day.day for m in counted.meetings] == list(range(1, 31))
    assert time.monotonic() - began < 2


def test_a_count_that_ends_long_before_the_window_is_followed_or_refused(tmp_path: Path) -> None:
    """A COUNT that may end before the window is followed to its end (20,000 days from 1970 end
    in 2024: no meeting); one that would take more than ``steps`` periods to follow is refused
    with a warning, as is the same with several RRULEs."""
    standup = f"UID:s@x\nSUMMARY:Standup\nDTSTART:19700101T150000Z\n{PEOPLE}"
    name = write(tmp_path, ics(standup + "\nRRULE:FREQ=DAILY;COUNT=20000"))
    assert calendar(tmp_path, name) == SourceReport((), ())
    assert calendar(tmp_path, name, steps=1000).warnings == (
        "book.ics: event 'Standup' (UID s@x) repeats 20,000 times from 1970-01-01: too long a "
        "series to follow; skipped it",
    )
    two = write(tmp_path, ics(standup + "\nRRULE:FREQ=DAILY\nRRULE:FREQ=WEEKLY;BYDAY=SA"))
    assert calendar(tmp_path, two, steps=1000).warnings == (
        "book.ics: event 'Standup' (UID s@x) has 2 RRULEs from 1970-01-01: too long a series "
        "to follow; skipped it",
    )


def test_rdate_and_exdate_lists_are_read_near_the_window_only(tmp_path: Path) -> None:
    """An RDATE list of 100,000 days (1900 to 2173) and an EXDATE list as long cost no more than
    the few values near the window: November's 30 days, less the EXDATE on the 2nd. More than
    ``dates`` values near the window (the window, and a few days either side) skip the event."""
    days = [dt.date(1900, 1, 1) + dt.timedelta(days=i) for i in range(100_000)]
    rdates = ",".join(d.strftime("%Y%m%dT150000Z") for d in days)
    exdates = ",".join(d.strftime("%Y%m%dT150000Z") for d in days if d.day == 2)
    event = (f"UID:r@x\nSUMMARY:Office hours\nDTSTART:20261101T150000Z\nRDATE:{rdates}\n"
             f"EXDATE:{exdates}\n{PEOPLE}")
    began = time.monotonic()
    report = calendar(tmp_path, write(tmp_path, ics(event)))
    assert time.monotonic() - began < 3
    assert report.warnings == ()
    assert [m.day.day for m in report.meetings] == [1, *range(3, 31)]
    assert calendar(tmp_path, write(tmp_path, ics(event)), dates=10).warnings == (
        "book.ics: event 'Office hours' (UID r@x) has 37 RDATE values near the window (more "
        "than 10); skipped it",  # 29 October to 4 December
    )


def test_a_hundred_thousand_events_cost_what_the_window_holds(tmp_path: Path) -> None:
    """A 30 MB calendar of 100,000 past events is cut down to the window before it is parsed:
    the meeting in the window is read in seconds, not in the 40 s icalendar would take."""
    past = "".join(
        f"BEGIN:VEVENT\r\nUID:e{i}@x\r\nSUMMARY:Old {i}\r\nDTSTART:2016{i % 12 + 1:02d}10T150000Z"
        "\r\nORGANIZER:mailto:jane@acme.example\r\nEND:VEVENT\r\n"
        for i in range(100_000)
    )
    body = ics(REAL).replace(b"BEGIN:VEVENT", past.encode() + b"BEGIN:VEVENT", 1)
    assert len(body) > 10 * MB
    began = time.monotonic()
    report = calendar(tmp_path, write(tmp_path, body))
    assert time.monotonic() - began < 10
    assert titles(report) == ["Q4 review"] and report.warnings == ()


def test_more_events_near_the_window_than_the_limit_are_cut(tmp_path: Path) -> None:
    """More events near the window than ``events``: the first ones are read, with one warning."""
    many = [f"UID:m{i}@x\nSUMMARY:Call {i}\nDTSTART:202611{i % 28 + 1:02d}T150000Z\n{PEOPLE}"
            for i in range(300)]
    report = calendar(tmp_path, write(tmp_path, ics(*many)), events=100)
    assert report.warnings == (
        "book.ics: has 300 events near the window (more than 100); read the first 100",
    )
    assert len(report.meetings) == 100


@pytest.mark.parametrize(
    ("extra", "what"),
    [
        ("\n".join(f"ATTENDEE:mailto:p{i}@crowd.example" for i in range(100_000)),
         "has 100,001 attendees (more than 1,000)"),
        ("DESCRIPTION:" + "x" * 10_000_000, "has 10,000,012 characters in its DESCRIPTION "
         "(more than 100,000)"),
        ("\n".join(["LOCATION:Room 1"] * 5_000), "has 5,000 LOCATION properties (more than 10)"),
    ],
)
def test_an_event_too_large_to_be_a_meeting_is_skipped(
    tmp_path: Path, extra: str, what: str
) -> None:
    """An event with 100,000 attendees, a 10 MB property or 5,000 copies of one is skipped with
    one warning before icalendar parses it (which would take 20 s); the rest is read."""
    huge = f"UID:huge@x\nSUMMARY:All hands\nDTSTART:20261118T150000Z\n{PEOPLE}\n{extra}"
    began = time.monotonic()
    report = calendar(tmp_path, write(tmp_path, ics(huge, REAL)))
    assert report.warnings == (f"book.ics: event 'All hands' (UID huge@x) {what}; skipped it",)
    assert titles(report) == ["Q4 review"]
    assert time.monotonic() - began < 3


def test_a_ten_megabyte_title_is_clipped_in_the_warning(tmp_path: Path) -> None:
    """The warning about an event with a 10 MB SUMMARY quotes 60 characters of it."""
    huge = f"UID:huge@x\nSUMMARY:{'Free money ' * 1_000_000}\nDTSTART:20261118T150000Z\n{PEOPLE}"
    report = calendar(tmp_path, write(tmp_path, ics(huge, REAL)))
    assert report.warnings == (
        f"book.ics: event '{('Free money ' * 6)[:59]}…' (UID huge@x) has 11,000,008 characters "
        "in its SUMMARY (more than 100,000); skipped it",
    )


def test_calendars_nested_a_thousand_deep(tmp_path: Path) -> None:
    """A VEVENT inside 1,000 nested VCALENDARs is left out with one warning; the events of the
    calendar itself are read."""
    deep = ics(REAL.replace("real@x", "deep@x")).decode()
    inner = "BEGIN:VCALENDAR\r\n" * 999 + deep + "END:VCALENDAR\r\n" * 999 + "END:VCALENDAR"
    body = ics(REAL).replace(b"END:VCALENDAR", inner.encode(), 1)
    report = calendar(tmp_path, write(tmp_path, body))
    assert report.warnings == (
        "book.ics: holds a VCALENDAR inside a VCALENDAR; left out what is in it",
    )
    assert [m.series for m in report.meetings] == ["real@x"]


def test_a_time_zone_that_changes_every_second_is_left_out(tmp_path: Path) -> None:
    """A VTIMEZONE with FREQ=SECONDLY (dateutil would walk it for ever to find an offset) is left
    out with a warning; its events are read in the user's zone, as for any unknown zone."""
    zone = ("BEGIN:VTIMEZONE\nTZID:Lottery Time\nBEGIN:STANDARD\nTZOFFSETFROM:+0100\n"
            "TZOFFSETTO:+0200\nDTSTART:19700101T000000\nRRULE:FREQ=SECONDLY\nEND:STANDARD\n"
            "END:VTIMEZONE\n")
    event = REAL.replace("DTSTART:20261119T150000Z", "DTSTART;TZID=Lottery Time:20261119T090000")
    event = event.replace("DTEND:20261119T160000Z", "DTEND;TZID=Lottery Time:20261119T100000")
    report = calendar(tmp_path, write(tmp_path, ics(event, head=zone)))
    assert report.warnings == (
        "book.ics: time zone 'Lottery Time' changes its offset secondly, not yearly; left it out",
        "book.ics: event 'Q4 review' (UID real@x) uses the unknown time zone 'Lottery Time'; "
        "read its times in America/Chicago",
    )
    assert [m.start.hour for m in report.meetings] == [15]  # 09:00 in Chicago


def test_a_rule_that_never_matches_costs_at_most_event_seconds(tmp_path: Path) -> None:
    """A daily rule on the 30th of February walks to the year 9999 in dateutil (7 s); it is
    stopped after ``event_seconds`` with a warning, and the other meeting is read."""
    never = (f"UID:n@x\nSUMMARY:Never\nDTSTART:20200101T150000Z\n"
             f"RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\n{PEOPLE}")
    began = time.monotonic()
    report = calendar(tmp_path, write(tmp_path, ics(never, REAL)), event_seconds=0.3)
    assert report.warnings == (
        "book.ics: event 'Never' (UID n@x) takes more than 0.3 s to expand; skipped it",
    )
    assert titles(report) == ["Q4 review"]
    assert time.monotonic() - began < 2


def test_a_source_that_costs_more_than_its_seconds_is_cut(tmp_path: Path) -> None:
    """Many slow series: the source stops after ``seconds`` with one warning saying how many
    series were left out; what was read before stays."""
    never = [f"UID:n{i}@x\nSUMMARY:Never\nDTSTART:20200101T150000Z\n"
             f"RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\n{PEOPLE}" for i in range(20)]
    began = time.monotonic()
    report = calendar(tmp_path, write(tmp_path, ics(REAL, *never)), event_seconds=0.2, seconds=1)
    assert time.monotonic() - began < 3
    assert titles(report) == ["Q4 review"]
    *skipped, stop = report.warnings
    assert stop.startswith("book.ics: reading its events took more than 1 s; left out the last ")
    assert stop.endswith(" of 21")
    assert all(w.endswith("takes more than 0.2 s to expand; skipped it") for w in skipped)


def test_a_series_with_more_meetings_in_the_window_than_the_limit_is_cut(tmp_path: Path) -> None:
    """A daily series has 30 meetings in November; with ``occurrences`` 10, the first 10 are
    read, with one warning."""
    daily = f"UID:d@x\nSUMMARY:Standup\nDTSTART:20260101T150000Z\nRRULE:FREQ=DAILY\n{PEOPLE}"
    report = calendar(tmp_path, write(tmp_path, ics(daily)), occurrences=10)
    assert report.warnings == (
        "book.ics: event 'Standup' (UID d@x) occurs 30 times in the window (more than 10); "
        "read the first 10",
    )
    assert [m.day.day for m in report.meetings] == list(range(1, 11))


def test_a_calendar_that_takes_too_long_to_parse_is_not_read(tmp_path: Path) -> None:
    """Parsing has the source's time limit too: a file that takes longer gives one warning."""
    many = [f"UID:m{i}@x\nSUMMARY:Call {i}\nDTSTART:202611{i % 28 + 1:02d}T150000Z\n{PEOPLE}"
            for i in range(5_000)]
    report = calendar(tmp_path, write(tmp_path, ics(*many)), seconds=0.05)
    assert report == SourceReport(
        (), ("book.ics: took more than 0.05 s to read; no meetings from it",))


def test_a_calendar_file_larger_than_the_limit_is_not_read(tmp_path: Path) -> None:
    """A file larger than ``bytes`` is not read at all."""
    report = calendar(tmp_path, write(tmp_path, ics(REAL, "X-JUNK:" + "x" * 2 * MB)), bytes=MB)
    assert report == SourceReport((), ("book.ics: is larger than 1 MB; no meetings from it",))


# --------------------------------------------------------------------------- feeds


def test_an_entity_bomb_is_refused_before_it_is_parsed(tmp_path: Path, server: Server) -> None:
    """A feed that declares its own XML entities (the "billion laughs", all on one line, which
    feedparser's own clean-up misses) is refused with one warning; the saved copy is used."""
    url = copied(tmp_path, server, "/laughs.xml", "ok", (DATA / "entity-bomb.xml").read_bytes())
    report = feeds(tmp_path, url)
    assert report.warnings == (
        f"{url}: declares XML entities of its own (<!ENTITY), which no feed needs; used the "
        f"copy from {today()}",
    )
    assert [a.title for a in report.articles] == ["Rates in March"]


def test_a_feed_with_a_hundred_thousand_items_is_read_up_to_the_limit(
    tmp_path: Path, server: Server
) -> None:
    """100,000 items (7 MB, 20 s for feedparser): the first ``items`` are read, with a warning;
    parsing has the feed's time limit (``seconds``) too."""
    items = "".join(f"<item><title>T{i}</title><link>https://e.example/{i}</link></item>"
                    for i in range(100_000))
    server.routes["/many.xml"] = ("ok", f'<rss version="2.0"><channel><title>x</title>'
                                        f"{items}</channel></rss>".encode())
    began = time.monotonic()
    report = feeds(tmp_path, server.url("/many.xml"), items=50, bytes=10 * MB)
    assert time.monotonic() - began < 3
    assert report.warnings == (
        f"{server.url('/many.xml')}: has 100,000 items (more than 50); read the first 50",
    )
    assert [a.title for a in report.articles] == [f"T{i}" for i in range(50)]
    slow = feeds(tmp_path / "again", server.url("/many.xml"), items=100_000, seconds=0.2)
    assert slow.warnings == (
        f"{server.url('/many.xml')}: took more than 0.2 s to read; no saved copy, skipped it",
    )


def test_an_item_with_a_ten_megabyte_title_is_skipped(tmp_path: Path, server: Server) -> None:
    """An item whose title is 10 MB is skipped with a warning quoting 60 characters of it; the
    other items are read."""
    big = "Win!" * 2_500_000
    server.routes["/big.xml"] = ("ok", RSS.replace(
        b"<item>", f"<item><title>{big}</title><link>https://e.example/x</link></item><item>"
        .encode(), 1))
    report = feeds(tmp_path, server.url("/big.xml"), bytes=11 * MB)
    assert report.warnings == (
        f"{server.url('/big.xml')}: item '{big[:59]}…' has a title of 10,000,000 characters "
        "(more than 1,000); skipped it",
    )
    assert [a.title for a in report.articles] == ["Rates in March"]


# --------------------------------------------------------------------------- a whole night


def test_a_night_with_a_hostile_invitation_and_a_dripping_feed_ends_with_the_drafts(
    tmp_path: Path, server: Server
) -> None:
    """`outreach run` with a calendar holding the every-minute invitation and a feed that drips
    one byte every 0.2 s: within a minute (measured: about 3 s), exit 0, Jane's birthday note
    and the thank-you for yesterday's meeting drafted, one warning per hostile source, no
    traceback."""
    server.routes["/calendar/ical/secret/basic.ics"] = (
        "ok", (DATA / "stranger-invitation.ics").read_bytes())
    server.routes["/feed.xml"] = ("drip", RSS)
    root = write_folder(
        tmp_path / "book",
        [contact_data("jane-doe", email={"work": "jane@acme.example"},
                      dates={"birthday": "--11-20"})],
        [campaign_data("birthday"),
         campaign_data("thank-you", {"kind": "after_meeting"}, priority=80)],
        sender={"name": "Alex Rivera", "email": ME},
        limits={"per_contact_per_day": 2},
        meetings={"sources": [server.url("/calendar/ical/secret/basic.ics")],
                  "timeout_seconds": 2},
        articles={"feeds": [{"url": server.url("/feed.xml")}], "timeout_seconds": 2},
    )
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    began = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "outreach", "-C", str(root), "run", "--date", "2026-11-20"],
            capture_output=True, text=True, timeout=60, env=env,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the night did not end within a minute")
    elapsed = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    assert sorted(p.name.split("--")[0] for p in (root / "drafts").glob("*.eml")) == [
        "birthday", "thank-you"]
    assert done.stderr.splitlines() == [
        f"warning: http://127.0.0.1:{server.port}/…/basic.ics: event 'Free money' (UID "
        "free-money-1970@lottery.example) repeats every minute; skipped it",
        f"warning: {server.url('/feed.xml')}: too slow (the answer was not complete after 2 s); "
        "no saved copy, skipped it",
    ]
    assert "Traceback" not in done.stdout + done.stderr
    assert elapsed < 60
