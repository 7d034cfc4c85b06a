"""One HTTP(S) GET that ends: an overall deadline and a size limit, enforced while reading.

urllib's ``timeout`` applies to each socket operation, not to the request: a server that sends
one byte every half second keeps ``urlopen(url, timeout=10).read()`` busy for ever. Here the
deadline covers everything (connecting, redirects, the headers and every read of the body): a
watchdog shuts the connection down when it passes, which ends any read that is waiting, and the
body is read in chunks, counted against the size limit as they come (a body without a
Content-Length is never read past it).

Redirects are followed at most ``MAX_REDIRECTS`` times, only to http and https addresses, and
the credentials of a ``https://user:password@host/`` address are not sent on to another host.
Bodies are not decompressed (no Accept-Encoding is sent): a compressed answer is refused, so a
"gzip bomb" costs nothing. Messages never contain the URL.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.client
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import IO, Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from outreach.sources.bounds import clip, size_text

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class Failed(Exception):
    """The source gave nothing usable; the message says what happened (one line, no URL)."""


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    url: str  # where the body came from, after redirects (without credentials)


def get(
    url: str, headers: dict[str, str], *, deadline: float, timeout: float, max_bytes: int
) -> Answer | None:
    """The answer to a GET of ``url`` (None for 304 Not Modified) by ``deadline`` (a
    ``time.monotonic()`` value; ``timeout`` is the seconds it stands for, in messages); raises
    Failed."""
    watchdog = _Watchdog(deadline)
    opener = urllib.request.build_opener(
        _HTTPHandler(watchdog), _HTTPSHandler(watchdog), _Redirects()
    )
    answered = False
    try:
        if watchdog.left() <= 0:
            raise _Late
        url, headers = _credentials(url, headers)
        request = urllib.request.Request(url, headers=headers)
        with opener.open(request, timeout=watchdog.left()) as response:
            answered = True
            _refuse(response.headers, response.length, max_bytes)
            body = _read(response, watchdog, max_bytes)
            if watchdog.fired:  # the watchdog's shutdown looks like the end of the body
                raise _Late
            return Answer(
                body,
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                response.headers.get("Content-Type"),
                response.geturl(),
            )
    except urllib.error.HTTPError as exc:
        exc.close()
        if watchdog.fired:
            raise Failed(_late(answered, timeout)) from None
        if exc.code == 304:
            return None
        reason = f" {clip(exc.reason)}" if isinstance(exc.reason, str) and exc.reason else ""
        raise Failed(f"answered HTTP {exc.code}{reason}") from None
    except Failed:
        raise
    except (_Late, OSError, http.client.HTTPException, ValueError) as exc:
        if isinstance(exc, _Late) or watchdog.fired or watchdog.left() <= 0:
            raise Failed(_late(answered, timeout)) from None
        raise Failed(f"unreachable ({why(exc, timeout)})") from None
    finally:
        watchdog.close()


def _credentials(url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """``https://user:password@host/...`` (Nextcloud, Radicale) as a Basic Authorization header
    and the URL without them."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, headers
    secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    headers = {**headers, "Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), headers


def _refuse(headers: Message, length: int | None, max_bytes: int) -> None:
    """Fail before reading a body that is compressed or announced larger than the limit."""
    encoding = str(headers.get("Content-Encoding") or "").strip().lower()
    if encoding not in ("", "identity"):
        raise Failed(
            f"sent a compressed answer (Content-Encoding: {clip(encoding, 20)}) "
            "though none was asked for"
        )
    if length is not None and length > max_bytes:
        raise Failed(f"sent more than {size_text(max_bytes)}")


def _read(response: http.client.HTTPResponse, watchdog: _Watchdog, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if watchdog.left() <= 0:
            raise _Late
        chunk = response.read1(CHUNK)  # whatever has arrived, up to CHUNK
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise Failed(f"sent more than {size_text(max_bytes)}")
        chunks.append(chunk)


def _late(answered: bool, timeout: float) -> str:
    if answered:
        return f"too slow (the answer was not complete after {timeout:g} s)"
    return f"unreachable (timed out after {timeout:g} s)"


def why(exc: BaseException, timeout: float) -> str:
    """A short human reason for a failed request."""
    while isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, socket.gaierror):
        return "host not found"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, http.client.IncompleteRead):
        return "the answer was cut short"
    if isinstance(exc, urllib.error.URLError):
        return clip(str(exc.reason), 120)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip()
    return clip(text, 120) or type(exc).__name__


# ---- the deadline ----------------------------------------------------------------------------


class _Late(Exception):
    """The deadline passed."""


class _Watchdog:
    """Shuts every connection of one request down when the deadline passes: a read that waits
    for the next byte returns at once. It holds a duplicate of each socket, so that it also
    reaches a socket that TLS has wrapped (and detached) since."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, self.left()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            copy = sock.dup()
            self._sockets.append(copy)
            if self.fired:
                _shut(copy)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(socket.SHUT_RDWR)


class _Watched(http.client.HTTPConnection):
    """A connection whose socket the watchdog holds, and that never waits past the deadline."""

    _watchdog: _Watchdog

    def _connect_watched(
        self,
        address: tuple[str, int],
        timeout: float | None = None,
        source_address: tuple[str, int] | None = None,
    ) -> socket.socket:
        left = self._watchdog.left()
        if left <= 0:
            raise _Late
        wait = left if timeout is None else min(timeout, left)
        sock = socket.create_connection(address, wait, source_address)
        self._watchdog.watch(sock)
        return sock


class _HTTPConnection(_Watched):
    def __init__(self, host: str, *, watchdog: _Watchdog, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._watchdog = watchdog
        self._create_connection = self._connect_watched


class _HTTPSConnection(_Watched, http.client.HTTPSConnection):
    def __init__(self, host: str, *, watchdog: _Watchdog, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._watchdog = watchdog
        self._create_connection = self._connect_watched


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_HTTPConnection, watchdog=self._watchdog)
        return self.do_open(connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_HTTPSConnection, watchdog=self._watchdog)
        context = getattr(self, "_context", None)
        return self.do_open(connection, req, context=context)


class _Redirects(urllib.request.HTTPRedirectHandler):
    """At most MAX_REDIRECTS hops, to http(s) only, credentials kept to their own host; the
    body of a redirect is never read."""

    def __init__(self) -> None:
        super().__init__()
        self.hops = 0

    def http_error_302(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
    ) -> Any:
        location = headers.get("Location") or headers.get("URI")
        fp.close()
        if not location:
            raise Failed(f"answered HTTP {code} without saying where to")
        target = urljoin(req.full_url, str(location).strip())
        scheme = urlsplit(target).scheme.lower()
        if scheme not in ("http", "https"):
            raise Failed(
                f"redirected to a {clip(scheme, 20) or 'relative'}: address "
                "(only http and https are followed)"
            )
        self.hops += 1
        if self.hops > MAX_REDIRECTS:
            raise Failed(f"redirected more than {MAX_REDIRECTS} times")
        new = self.redirect_request(req, fp, code, msg, headers, target)
        if new is None:
            raise Failed(f"answered HTTP {code}")
        before, after = urlsplit(req.full_url), urlsplit(target)
        if (before.scheme, before.netloc.lower()) != (after.scheme, after.netloc.lower()):
            new.remove_header("Authorization")
        return self.parent.open(new, timeout=req.timeout)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302
