"""`outreach serve`: the calendar feed over HTTP at a secret URL, with correct 304s."""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import os
import selectors
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from factories import campaign_data, contact_data, write_folder
from lifecycle import serving

from outreach.serve import FeedServerError, feed_token, feed_urls, make_server

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//outreach//test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:followup-1@outreach\r\nDTSTAMP:20261122T030000Z\r\n"
    "DTSTART;VALUE=DATE:20261210\r\nDTEND;VALUE=DATE:20261211\r\nSUMMARY:Call Jane ✓\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()
MTIME = int(time.time()) - 7 * 86400  # the feed's mtime in the tests: whole seconds, in the past


@dataclass
class Served:
    port: int
    token: str
    feed: Path

    @property
    def path(self) -> str:
        return f"/{self.token}/calendar.ics"

    def request(
        self,
        method: str = "GET",
        path: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(method, self.path if path is None else path, body, headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()


def replace_feed(feed: Path, data: bytes, mtime: float | None = None) -> None:
    """What `outreach run` does: write a temporary file, then os.replace it over the feed."""
    tmp = feed.with_name(feed.name + ".tmp")
    tmp.write_bytes(data)
    if mtime is not None:
        os.utime(tmp, (mtime, mtime))
    os.replace(tmp, feed)


def etag_of(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest() + '"'


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    feed = tmp_path / "calendar.ics"
    replace_feed(feed, ICS, mtime=MTIME)
    token = feed_token(tmp_path / ".outreach")
    server = make_server(feed, token, "127.0.0.1", 0)
    with serving(server) as port:
        yield Served(port, token, feed)


def test_get_serves_the_feed_with_calendar_headers(served: Served) -> None:
    """GET on the secret URL gives 200, the exact bytes, text/calendar; charset=utf-8, the length,
    a strong ETag (quoted SHA-256 of the bytes), Last-Modified (the file's mtime) and
    Cache-Control: no-cache, without the client sending any Accept header."""
    status, headers, body = served.request()
    assert status == 200
    assert body == ICS
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["Content-Length"] == str(len(ICS))
    assert headers["ETag"] == etag_of(ICS)
    assert headers["Last-Modified"] == email.utils.formatdate(MTIME, usegmt=True)
    assert headers["Cache-Control"] == "no-cache"


def test_query_strings_are_ignored(served: Served) -> None:
    """A query string (cache busters, tracking) does not change what is served."""
    status, _, body = served.request(path=served.path + "?nocache=123&x")
    assert (status, body) == (200, ICS)


def test_head_gives_the_headers_and_no_body(served: Served) -> None:
    """HEAD gives the same status and headers as GET, Content-Length included, but no body."""
    _, get_headers, _ = served.request("GET")
    status, headers, body = served.request("HEAD")
    assert (status, body) == (200, b"")
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control"):
        assert headers[name] == get_headers[name]


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"other", {etag}', '"a",W/"b" ,  {etag}', "*"],
)
def test_matching_if_none_match_gives_304(served: Served, if_none_match: str) -> None:
    """If-None-Match with the current ETag (alone, weak, in a list) or * gives 304 with the ETag
    and no body, for GET and HEAD."""
    value = if_none_match.format(etag=etag_of(ICS))
    for method in ("GET", "HEAD"):
        status, headers, body = served.request(method, headers={"If-None-Match": value})
        assert (status, body) == (304, b"")
        assert headers["ETag"] == etag_of(ICS)
        assert "Content-Type" not in headers


def test_if_none_match_wins_over_if_modified_since(served: Served) -> None:
    """A stale If-None-Match gives 200 even when If-Modified-Since alone would give 304."""
    status, _, body = served.request(
        headers={
            "If-None-Match": '"stale"',
            "If-Modified-Since": email.utils.formatdate(MTIME, usegmt=True),
        }
    )
    assert (status, body) == (200, ICS)


def test_if_modified_since_gives_304_when_not_modified(served: Served) -> None:
    """If-Modified-Since at or after the file's mtime gives 304; before it, or unparsable,
    gives 200 with the body."""
    for since, expected in [
        (MTIME, 304),
        (MTIME + 600, 304),
        (MTIME - 1, 200),
    ]:
        status, _, body = served.request(
            headers={"If-Modified-Since": email.utils.formatdate(since, usegmt=True)}
        )
        assert status == expected, since
        assert body == (ICS if expected == 200 else b"")
    status, _, body = served.request(headers={"If-Modified-Since": "yesterday-ish"})
    assert (status, body) == (200, ICS)


def test_a_replaced_feed_is_served_with_a_new_etag(served: Served) -> None:
    """After `outreach run` replaces the file (os.replace), the new bytes are served with a new
    ETag and Last-Modified, and the old ETag no longer gives 304."""
    old_etag = served.request()[1]["ETag"]
    new = ICS.replace(b"Call Jane", b"Call Jane again")
    replace_feed(served.feed, new, mtime=MTIME + 86400)
    status, headers, body = served.request(headers={"If-None-Match": old_etag})
    assert (status, body) == (200, new)
    assert headers["ETag"] == etag_of(new) != old_etag
    assert headers["Last-Modified"] == email.utils.formatdate(MTIME + 86400, usegmt=True)
    assert served.request(headers={"If-None-Match": headers["ETag"]})[0] == 304


def test_last_modified_is_never_in_the_future(served: Served) -> None:
    """A feed whose mtime is ahead of the clock is served with Last-Modified no later than now."""
    replace_feed(served.feed, ICS, mtime=time.time() + 86400)
    _, headers, _ = served.request()
    modified = email.utils.parsedate_to_datetime(headers["Last-Modified"]).timestamp()
    assert modified <= time.time()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/calendar.ics",
        "/{wrong}/calendar.ics",
        "/{short}/calendar.ics",
        "/{token}",
        "/{token}/",
        "/{token}/other.ics",
        "/{token}/calendar.ics/",
        "/x/{token}/calendar.ics",
    ],
)
def test_wrong_token_and_other_paths_give_404(served: Served, path: str) -> None:
    """Anything but /<token>/calendar.ics gives 404 with a short plain-text body that says
    nothing about the token."""
    wrong = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")
    target = path.format(token=served.token, wrong=wrong, short=served.token[:-1])
    status, headers, body = served.request(path=target)
    assert (status, body) == (404, b"not found\n")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert served.token not in body.decode() + str(headers)


def test_a_missing_feed_gives_the_same_404(served: Served) -> None:
    """Before the first run wrote the feed (or after it was deleted), the right URL gives the same
    404 as a wrong one."""
    served.feed.unlink()
    assert served.request() == served.request(path="/nope/calendar.ics")
    status, _, body = served.request()
    assert (status, body) == (404, b"not found\n")
    status, headers, body = served.request("HEAD")
    assert (status, headers["Content-Length"], body) == (404, "10", b"")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PROPFIND"])
def test_other_methods_give_405(served: Served, method: str) -> None:
    """Any method but GET and HEAD gives 405 with Allow: GET, HEAD, on any path."""
    for path in (served.path, "/elsewhere"):
        status, headers, _ = served.request(method, path=path, body=b"x=1")
        assert status == 405
        assert headers["Allow"] == "GET, HEAD"


def test_a_405_keeps_the_connection_usable(served: Served) -> None:
    """A refused POST with a body does not spoil the kept-alive connection: the next GET on it
    is answered normally."""
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
    try:
        conn.request("POST", served.path, b"some form data")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (405, b"method not allowed\n")
        conn.request("GET", served.path)
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, ICS)
    finally:
        conn.close()


def test_serving_is_quiet(served: Served, capfd: pytest.CaptureFixture[str]) -> None:
    """Requests, good, bad and malformed, print nothing on stdout or stderr."""
    served.request()
    served.request(path="/nope")
    served.request("POST")
    with urllib.request.urlopen(f"http://127.0.0.1:{served.port}{served.path}", timeout=5) as r:
        assert r.read() == ICS
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        headers = b"".join(b"X-%d: y\r\n" % i for i in range(200))
        sock.sendall(b"GET / HTTP/1.1\r\n" + headers + b"\r\n")
        assert sock.makefile("rb").readline().startswith(b"HTTP/1.1 431 ")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_the_token_is_kept_private_and_stable(tmp_path: Path) -> None:
    """The first call makes a URL-safe token in state_dir/feed-token (mode 0600, folder created);
    later calls return the same token; deleting the file makes a new one."""
    state = tmp_path / "deep" / ".outreach"
    token = feed_token(state)
    assert len(token) == 32
    assert token.replace("-", "").replace("_", "").isalnum()
    path = state / "feed-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == token
    assert feed_token(state) == token == feed_token(state)
    assert [p.name for p in state.iterdir()] == ["feed-token"]  # no temporary file left
    path.unlink()
    assert feed_token(state) != token


def test_a_damaged_token_file_is_refused(tmp_path: Path) -> None:
    """A token file holding something that is not a token is an error that says how to fix it."""
    (tmp_path / "feed-token").write_text("not a token/../\n")
    with pytest.raises(FeedServerError) as exc:
        feed_token(tmp_path)
    assert exc.value.hint == "delete the file to make a new feed URL"


def test_feed_urls() -> None:
    """The http and webcal URLs carry host, port and token; an IPv6 host goes in brackets."""
    assert feed_urls("127.0.0.1", 8025, "tok") == (
        "http://127.0.0.1:8025/tok/calendar.ics",
        "webcal://127.0.0.1:8025/tok/calendar.ics",
    )
    assert feed_urls("::1", 8025, "tok") == (
        "http://[::1]:8025/tok/calendar.ics",
        "webcal://[::1]:8025/tok/calendar.ics",
    )


def test_a_port_in_use_is_a_clear_error(served: Served) -> None:
    """Listening on a port that is taken is a one-line error with a hint, not a crash."""
    with pytest.raises(FeedServerError) as exc:
        make_server(served.feed, served.token, "127.0.0.1", served.port)
    assert exc.value.message.startswith(f"cannot listen on 127.0.0.1:{served.port}: ")
    assert "--port" in exc.value.hint


def read_line(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """The first line of the process's stdout, or b"" if none comes within timeout seconds."""
    assert proc.stdout is not None
    line = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n") and sel.select(timeout):
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                break
            line += chunk
    return line


def test_outreach_serve_prints_the_urls_and_serves_the_feed(tmp_path: Path) -> None:
    """End to end: `outreach -C DIR serve --port 0` prints the http and webcal URLs on its first
    line, and GET on the http URL returns the folder's calendar.ics."""
    root = write_folder(tmp_path / "book", [contact_data()], [campaign_data()])
    (root / "calendar.ics").write_bytes(ICS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "outreach", "-C", str(root), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = read_line(proc, timeout=10).decode()
        assert line, proc.stderr.read().decode() if proc.poll() is not None and proc.stderr else ""
        http_url, webcal_url = line.split()
        token = (root / ".outreach" / "feed-token").read_text().strip()
        assert http_url.startswith("http://127.0.0.1:")
        assert http_url.endswith(f"/{token}/calendar.ics")
        assert webcal_url == "webcal://" + http_url.removeprefix("http://")
        with urllib.request.urlopen(http_url, timeout=5) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
            assert resp.read() == ICS
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
