"""The Gmail store's transport: when the mailbox is to be taken as unreachable.

Every request of the Gmail store, token refreshes included, goes through ``GuardedHttp`` (an
``httplib2.Http`` built on first use, so that Google's libraries stay out of the cron start-up):
a short connect timeout, and a :class:`Breaker` that counts, per endpoint, the requests in a row
that got no HTTP answer at all. Three in a row, or two that took 20 s or more, and the night
stops with :class:`MailboxUnreachable`.
"""

from __future__ import annotations

import errno
import functools
import time
from collections.abc import Callable
from typing import Any

from outreach.errors import MailboxUnreachable

UNREACHABLE_TRIES = 3  # requests in a row to one endpoint without any HTTP answer: night over
UNREACHABLE_SECONDS = 20.0  # ... or two, when they took this long (timeouts: a black hole)
CONNECT_TIMEOUT = 10.0  # seconds to wait for a connection (TCP and TLS), however long the reply
RETRY_TIMEOUT = 5.0  # seconds an endpoint that has just failed gets to answer the next request


def _why(exc: BaseException) -> str:
    """A transport failure in a few words, for the one line the night ends with."""
    import http.client
    import socket
    import ssl

    if isinstance(exc, TimeoutError):  # socket.timeout, and a connect that timed out
        return "no answer"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, socket.gaierror) or type(exc).__name__ == "ServerNotFoundError":
        return "DNS lookup failed"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"[:120]
    if isinstance(exc, (http.client.HTTPException, ConnectionError)):
        return "connection closed without an answer"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "network unreachable"
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:120]


class Breaker:
    """Counts, per endpoint (Gmail, the token endpoint), the requests in a row that got no HTTP
    answer at all, and says when the mailbox is to be taken as unreachable. Any HTTP answer (a 401
    or a 503 too) resets that endpoint's count: the server is there, and those answers have
    retries of their own. Endpoints are told apart by what they are, not by host: a proxy may
    serve both, and Gmail's 401s must not hide a token endpoint that never answers."""

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout  # gmail.timeout_seconds
        self.clock = clock
        self.failing: dict[str, tuple[float, int]] = {}  # endpoint -> (first failure, failures)
        self.tripped: str | None = None  # the line the night ended with

    def timeout_for(self, endpoint: str) -> float:
        """How long the next request may wait for an answer; raises once the night has stopped."""
        if self.tripped is not None:
            raise MailboxUnreachable(self.tripped)
        return min(self.timeout, RETRY_TIMEOUT) if endpoint in self.failing else self.timeout

    def answered(self, endpoint: str) -> None:
        self.failing.pop(endpoint, None)

    def failed(self, endpoint: str, exc: BaseException, started: float) -> bool:
        """Count a request that got no answer; True when that makes the mailbox unreachable."""
        now = self.clock()
        since, tries = self.failing.get(endpoint, (started, 0))
        tries += 1
        self.failing[endpoint] = (since, tries)
        if tries >= UNREACHABLE_TRIES or (tries >= 2 and now - since >= UNREACHABLE_SECONDS):
            self.tripped = (
                f"cannot reach {endpoint} ({_why(exc)}, {tries} attempts in {now - since:.0f} s)"
            )
            return True
        return False


@functools.cache
def guarded_http_class() -> Any:
    """``httplib2.Http`` with the breaker in front and a short connect timeout (built on first
    use: Google's libraries are imported only when the gmail store is)."""
    import http.client

    import httplib2

    def connecting_briefly(base: Any) -> Any:
        class Connection(base):  # type: ignore[misc]
            timeout: Any  # annotations only: httplib2's connection classes set them
            sock: Any

            def connect(self) -> None:
                wait = self.timeout
                self.timeout = CONNECT_TIMEOUT if wait is None else min(wait, CONNECT_TIMEOUT)
                try:
                    super().connect()
                finally:
                    self.timeout = wait
                if self.sock is not None:
                    self.sock.settimeout(wait)

        return Connection

    plain = connecting_briefly(httplib2.HTTPConnectionWithTimeout)
    tls = connecting_briefly(httplib2.HTTPSConnectionWithTimeout)

    class GuardedHttp(httplib2.Http):  # type: ignore[misc]
        def __init__(self, breaker: Breaker, label: Callable[[str], str]) -> None:
            super().__init__(timeout=breaker.timeout)
            self.breaker = breaker
            self.label = label  # a URL -> what it reaches, e.g. "Gmail at gmail.googleapis.com"

        def request(
            self,
            uri: str,
            method: str = "GET",
            body: Any = None,
            headers: Any = None,
            redirections: int = httplib2.DEFAULT_MAX_REDIRECTS,
            connection_type: Any = None,
        ) -> Any:
            scheme, host, _, _ = httplib2.urlnorm(uri)
            endpoint = self.label(uri)
            wait = self.breaker.timeout_for(endpoint)
            self.timeout = wait  # for a new connection; a kept-alive one is set here:
            conn = self.connections.get(f"{scheme}:{host}")
            if conn is not None:
                conn.timeout = wait
                if conn.sock is not None:
                    conn.sock.settimeout(wait)
            started = time.monotonic()
            try:
                answer = super().request(
                    uri,
                    method,
                    body,
                    headers,
                    redirections,
                    connection_type or (tls if scheme == "https" else plain),
                )
            except httplib2.HttpLib2ErrorWithResponse:
                self.breaker.answered(endpoint)
                raise
            except (OSError, httplib2.HttpLib2Error, http.client.HTTPException) as exc:
                if self.breaker.failed(endpoint, exc, started):
                    raise MailboxUnreachable(str(self.breaker.tripped)) from exc
                raise
            self.breaker.answered(endpoint)
            return answer

    return GuardedHttp


def endpoint_label(url: str, token_uri: str, what: str) -> str:
    """What a request URL reaches, for the line a night ends with: the OAuth token endpoint, or
    ``what`` ("Gmail", "Google Contacts"), at its host."""
    import httplib2

    host = httplib2.urlnorm(url)[1]
    if token_uri and url.split("?")[0] == token_uri:
        return f"the OAuth token endpoint at {host}"
    return f"{what} at {host}"
