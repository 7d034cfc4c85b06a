"""`outreach serve`: the follow-up calendar over HTTP at a secret URL, for calendar apps, and the
status page (:mod:`outreach.dashboard`) at ``/<token>/``, built anew for each request.

Only ``GET`` and ``HEAD`` of ``/<token>/calendar.ics`` and ``/<token>/`` are served. Everything
else gets a 404 that looks the same whatever was wrong (wrong token, other path, no feed yet),
so the answer never hints at the token. Other methods get a 405. The feed file is read fresh on
every request, because `outreach run` replaces it (os.replace) while the server runs: each
response is built from one read of one file, so its body, ETag and Last-Modified always belong
together.

Subscribed clients poll with ``If-None-Match`` / ``If-Modified-Since``. Those get correct 304s
(a wrong 304 freezes Apple Calendar for good), and no ``Accept`` header is required (Google's
importer sends none).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import hmac
import http.server
import os
import re
import secrets
import socket
import socketserver
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from outreach.errors import UsageError
from outreach.fsutil import fsync_dir, write_atomic

TOKEN_FILE = "feed-token"
FEED_NAME = "calendar.ics"
CONTENT_TYPE = "text/calendar; charset=utf-8"
# no-cache, not max-age: a client may keep its copy but must revalidate it every time. That costs
# one 304 (no body) per poll, and clients poll every few hours at most. The feed changes whenever
# `outreach run` runs, at a time no max-age can predict, and someone who just ran it and pressed
# refresh should see the new events, not a copy a cache was still allowed to hand out.
CACHE_CONTROL = "no-cache"
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,}")
_ETAG_RE = re.compile(r'(?:W/)?("[^"]*")')
_MAX_DRAINED_BODY = 64 * 1024  # bodies we read and drop to keep the connection; bigger: close


class FeedServerError(UsageError):
    """The server could not start (address in use, unknown host, unreadable token file)."""


# --------------------------------------------------------------------------- the token


def feed_token(state_dir: Path) -> str:
    """The feed's secret token, made once and kept in ``state_dir/feed-token`` (mode 0600).

    Deleting the file revokes the old URL: the next call makes a new token.
    """
    path = state_dir / TOKEN_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedServerError(
            f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}",
            "delete the file to make a new feed URL",
        ) from None
    if text:
        if not _TOKEN_RE.fullmatch(text):
            raise FeedServerError(
                f"{path} does not hold a feed token",
                "delete the file to make a new feed URL",
            )
        return text
    try:
        return _write_private(path, secrets.token_urlsafe(24) + "\n")
    except OSError as exc:
        raise FeedServerError(
            f"cannot write {path}: {exc.strerror or exc}",
            "check that the folder is writable",
        ) from None


def _write_private(path: Path, text: str) -> str:
    """Publish ``text`` at ``path`` (mode 0600) unless another process got there first; returns
    the text that is there now. Written under a temporary name, then hard-linked into place: a
    link never replaces an existing file, so two first-time servers agree on one token."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write_atomic(tmp, text.encode("ascii"), mode=0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    fsync_dir(path.parent)
    return text.strip()


# --------------------------------------------------------------------------- URLs


def feed_urls(host: str, port: int, token: str) -> tuple[str, str]:
    """(http URL, webcal URL) of the feed; an IPv6 host goes in brackets."""
    if ":" in host and not host.startswith("["):
        host = "[" + host.replace("%", "%25") + "]"  # a zone id's % must be escaped in a URL
    path = f"{host}:{port}/{token}/{FEED_NAME}"
    return f"http://{path}", f"webcal://{path}"


# --------------------------------------------------------------------------- the server


class FeedServer(http.server.ThreadingHTTPServer):
    """Serves one file at one secret path; one daemon thread per connection."""

    daemon_threads = True  # Ctrl-C is not held up by a client that keeps its connection open

    def __init__(
        self,
        feed: Path,
        token: str,
        host: str,
        port: int,
        page: Callable[[], tuple[str, Sequence[tuple[str, str]]]] | None = None,
    ) -> None:
        self.feed = feed
        self.page = page  # the status page and its headers (CSP), built for each request
        self.token = token.encode("ascii")
        # A literal IPv6 address needs an IPv6 socket; "::" also takes IPv4 (see server_bind).
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host.strip("[]"), port), FeedHandler)

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6 and self.server_address[0] == "::":
            with contextlib.suppress(OSError, AttributeError):
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        # HTTPServer.server_bind would also look up the host's full name (socket.getfqdn), which
        # can hang on reverse DNS for seconds and is used for nothing here.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response is normal; anything else is printed as usual.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


def make_server(
    feed: Path,
    token: str,
    host: str,
    port: int,
    page: Callable[[], tuple[str, Sequence[tuple[str, str]]]] | None = None,
) -> http.server.ThreadingHTTPServer:
    """A server for the feed at ``/<token>/calendar.ics`` (and ``page``, the status page, at
    ``/<token>/``), bound but not yet serving (the caller calls serve_forever()). Port 0 picks
    any free port: see ``server.server_address[1]``."""
    try:
        return FeedServer(feed, token, host, port, page)
    except OSError as exc:
        where = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        raise FeedServerError(
            f"cannot listen on {where}: {exc.strerror or exc}",
            "choose another --port (0: any free port) or --host",
        ) from None


class FeedHandler(http.server.BaseHTTPRequestHandler):
    server: FeedServer
    protocol_version = "HTTP/1.1"  # keep-alive, so a client's follow-up 304 reuses the connection
    timeout = 30  # seconds a connection may sit idle or trickle its request before it is dropped
    allowed: ClassVar[str] = "GET, HEAD"

    def version_string(self) -> str:
        return "outreach"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no line per request, nor per malformed request (the internet sends many).
        An unreadable feed, a problem on our side, is reported in _serve."""

    # Checking the method here (before dispatch) answers every method, PUT and PROPFIND alike,
    # with 405 rather than http.server's 501 for methods without a do_ method.
    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        self._drain_body()
        if self.command not in ("GET", "HEAD"):
            self._plain(405, "method not allowed\n", [("Allow", self.allowed)])
            return False
        return True

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    # ---------------------------------------------------------------- helpers

    def _drain_body(self) -> None:
        """Read and drop a small request body, so it is not taken for the next request; close
        the connection after answering when that is not possible."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length == 0:
            return
        if not 0 < length <= _MAX_DRAINED_BODY:
            self.close_connection = True
            return
        try:
            self.rfile.read(length)
        except OSError:
            self.close_connection = True

    def _is_path(self, wanted: str) -> bool:
        """Whether the request is for ``/<token>/<wanted>`` ("" for the page)."""
        path = urlsplit(self.path).path  # the query string is ignored
        prefix, sep, name = path.rpartition("/")
        if not sep or name != wanted or not prefix.startswith("/"):
            return False
        given = unquote(prefix[1:]).encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self.server.token)

    def _serve(self, *, body: bool) -> None:
        if self.server.page is not None and self._is_path(""):
            self._page(body=body)
            return
        if not self._is_path(FEED_NAME):
            self._plain(404, "not found\n")
            return
        try:
            with self.server.feed.open("rb") as fh:
                # fstat and read the one open file: a replacement meanwhile does not mix versions
                mtime = os.fstat(fh.fileno()).st_mtime
                data = fh.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self._plain(404, "not found\n")
            return
        except OSError as exc:
            sys.stderr.write(
                f"outreach serve: cannot read {self.server.feed}: {exc.strerror or exc}\n"
            )
            self._plain(500, "cannot read the calendar\n")
            return

        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        # Never later than now (RFC 9110 8.8.2.1), whatever the file system's clock said.
        modified = int(min(mtime, time.time()))
        headers = [
            ("ETag", etag),
            ("Last-Modified", email.utils.formatdate(modified, usegmt=True)),
            ("Cache-Control", CACHE_CONTROL),
        ]
        if _not_modified(
            self.headers.get_all("If-None-Match"),
            self.headers.get("If-Modified-Since"),
            etag,
            modified,
        ):
            self.send_response(304)
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            return
        self._ok(CONTENT_TYPE, data, headers, body=body)

    def _ok(
        self, content_type: str, data: bytes, headers: Sequence[tuple[str, str]], *, body: bool
    ) -> None:
        """A 200 with ``data`` (sent for GET, not for HEAD)."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _page(self, *, body: bool) -> None:
        assert self.server.page is not None
        try:
            text, headers = self.server.page()
        except Exception as exc:  # the folder has a problem now: say so here, and on stderr
            first = (str(exc).splitlines() or [""])[0]
            sys.stderr.write(f"outreach serve: the status page failed: {first}\n")
            self._plain(500, "the status page could not be made; see the server's output\n")
            return
        self._ok("text/html; charset=utf-8", text.encode("utf-8"), headers, body=body)

    def _plain(
        self,
        code: int,
        text: str,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        data = text.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in extra or ():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def _not_modified(
    if_none_match: list[str] | None, if_modified_since: str | None, etag: str, modified: int
) -> bool:
    """Whether a GET/HEAD gets 304 (RFC 9110 13.1.2, 13.1.3, 13.2.2)."""
    if if_none_match:
        # Weak comparison: W/"x" matches "x". "*" matches any current representation.
        field = ",".join(if_none_match)
        if field.strip() == "*":
            return True
        return etag in _ETAG_RE.findall(field)
    if if_modified_since:  # only when there is no If-None-Match
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False  # an invalid date is ignored
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        return modified <= since.timestamp()
    return False
