"""A Gmail API emulator for tests: stdlib HTTP server that the real google-api-python-client talks to.

Usage::

    with GmailEmulator() as gm:
        gmail = build_service(gm)
        gmail.users().drafts().create(userId="me", body={"message": {"raw": ...}}).execute()

It implements what the product touches (drafts create/list/get/update/delete, the `/upload/...`
media paths, threads.get, messages.list/get, getProfile, `/batch`, the OAuth `/token` endpoint) and
the ways those calls fail in production: 429/403 rate limits, 5xx, slow answers, replies lost after
the work was done, a per-user quota, a concurrency cap and missing scopes; and a mailbox that cannot
be reached at all (`go_down`: nothing listens, or it accepts and never answers; `token_down`).
Wire formats follow what googleapiclient 2.x sends (`?alt=json` on every URL, `multipart/related`
uploads, `multipart/mixed` batches with bare `\\n` line endings). Only the server half is here;
`build_service` is the one helper that imports the client (lazily), so the module itself needs
nothing beyond the stdlib.
"""

from __future__ import annotations

import base64
import binascii
import http
import itertools
import json
import random
import re
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lifecycle import Started

__all__ = [
    "COMPOSE",
    "FAULT_KINDS",
    "FULL",
    "METADATA",
    "MODIFY",
    "READONLY",
    "GmailEmulator",
    "build_service",
]

FULL = "https://mail.google.com/"
MODIFY = "https://www.googleapis.com/auth/gmail.modify"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
READONLY = "https://www.googleapis.com/auth/gmail.readonly"
METADATA = "https://www.googleapis.com/auth/gmail.metadata"
_ADDON_COMPOSE = "https://www.googleapis.com/auth/gmail.addons.current.action.compose"

#: Kinds understood by `faults()` and `fail_next()`. "lost" resets the connection (RST) after the
#: work is done; "closed" closes it cleanly (FIN) without a reply, which httplib2 answers by
#: silently re-sending the request once, POSTs included.
FAULT_KINDS = ("429", "403rate", "500", "503", "slow", "lost", "closed")
DEFAULT_FAULT_KINDS = ("429", "403rate", "500", "503", "slow", "lost")

#: Quota units per method (Gmail's published table).
UNITS = {
    "drafts.create": 10,
    "drafts.update": 15,
    "drafts.delete": 10,
    "drafts.list": 5,
    "drafts.get": 5,
    "threads.get": 10,
    "messages.list": 5,
    "messages.get": 5,
    "getProfile": 1,
}

_DRAFT_WRITE = frozenset({FULL, MODIFY, COMPOSE, _ADDON_COMPOSE})
_DRAFT_READ = frozenset({FULL, MODIFY, COMPOSE, READONLY})
_MAIL_READ = frozenset({FULL, MODIFY, READONLY, METADATA})
_PROFILE = frozenset({FULL, MODIFY, COMPOSE, READONLY, METADATA})
_SCOPES = {
    "drafts.create": _DRAFT_WRITE,
    "drafts.update": _DRAFT_WRITE,
    "drafts.delete": _DRAFT_WRITE,
    "drafts.list": _DRAFT_READ,
    "drafts.get": _DRAFT_READ,
    "threads.get": _MAIL_READ,
    "messages.list": _MAIL_READ,
    "messages.get": _MAIL_READ,
    "getProfile": _PROFILE,
}
_FORMATS = ("minimal", "metadata", "full", "raw")
_MAX_BATCH = 100
_JSON = "application/json; charset=UTF-8"

_REASON_TEXT = {
    "rateLimitExceeded": "Too many concurrent requests for user",
    "userRateLimitExceeded": "User-rate limit exceeded.",
    "dailyLimitExceeded": "Daily Limit Exceeded",
    "backendError": "Internal error encountered.",
    "insufficientPermissions": "Request had insufficient authentication scopes.",
    "notFound": "Requested entity was not found.",
    "authError": "Invalid Credentials",
    "failedPrecondition": "Precondition check failed.",
    "invalidArgument": "Invalid argument.",
}
_STATUS_NAME = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_DEFAULT_REASON = {
    400: "invalidArgument",
    401: "authError",
    403: "userRateLimitExceeded",
    404: "notFound",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}


# --------------------------------------------------------------------------------------------------
# client helper


def build_service(gm: GmailEmulator, credentials: Any | None = None, *, timeout: float = 5) -> Any:
    """The real googleapiclient Gmail service, built offline from the bundled discovery document.

    `rootUrl` is pointed at the emulator, which also moves the `/upload/` and `/batch` URLs
    (`client_options.api_endpoint` would not). With `credentials`, requests go through
    `google_auth_httplib2.AuthorizedHttp`, so refreshes hit `gm.token_uri`.
    """
    import googleapiclient.discovery_cache
    import httplib2
    from googleapiclient.discovery import build_from_document

    documents = Path(googleapiclient.discovery_cache.__file__).parent / "documents"
    doc = json.loads((documents / "gmail.v1.json").read_text(encoding="utf-8"))
    doc["rootUrl"] = gm.root_url
    http_: Any = httplib2.Http(timeout=timeout)
    if credentials is not None:
        import google_auth_httplib2

        http_ = google_auth_httplib2.AuthorizedHttp(credentials, http=http_)
    return build_from_document(doc, http=http_)


# --------------------------------------------------------------------------------------------------
# plumbing


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class _Reply:
    status: int
    body: Any = None  # JSON-able, or None for an empty body
    raw: bytes | None = None  # pre-encoded body (batch replies)
    content_type: str = _JSON
    headers: dict[str, str] = field(default_factory=dict)
    after: str | None = None  # "slow", "lost" or "closed": what the transport does after the work

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, indent=2).encode()


@dataclass
class _Msg:
    id: str
    thread_id: str
    label_ids: list[str]
    raw: bytes
    internal_date: int
    history_id: int
    seq: int
    draft_id: str | None = None
    _parsed: Message | None = None

    @property
    def parsed(self) -> Message:
        if self._parsed is None:
            self._parsed = BytesParser(policy=compat32).parsebytes(self.raw)
        return self._parsed

    @property
    def message_id(self) -> str:
        return _header(self.parsed, "Message-ID") or ""

    def header(self, name: str) -> str:
        return _header(self.parsed, name) or ""


@dataclass
class _Fault:
    kind: str  # a FAULT_KINDS member, or "status" for an explicit status/reason
    status: int = 0
    reason: str | None = None
    method: str | None = None
    times: int = 1


class _ApiError(Exception):
    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _error(
    code: int,
    message: str | None = None,
    reason: str | None = None,
    *,
    domain: str | None = None,
    headers: dict[str, str] | None = None,
) -> _Reply:
    """A reply in Google's JSON error shape."""
    reason = reason or _DEFAULT_REASON.get(code, "unknown")
    message = message or _REASON_TEXT.get(reason, http.HTTPStatus(code).phrase)
    if domain is None:
        domain = "usageLimits" if "imit" in reason else "global"
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason}],
        "status": _STATUS_NAME.get(code, "UNKNOWN"),
    }
    return _Reply(code, {"error": error}, headers=dict(headers or {}))


def _fault_reply(kind: str) -> _Reply:
    if kind == "429":
        return _error(429, "Too many concurrent requests for user", "rateLimitExceeded")
    if kind == "403rate":
        return _error(403, "User-rate limit exceeded.", "userRateLimitExceeded")
    if kind == "500":
        return _error(500, "Internal error encountered.", "backendError")
    if kind == "503":
        return _error(503, "The service is currently unavailable.", "backendError")
    raise ValueError(kind)


def _header(msg: Message, name: str) -> str | None:
    wanted = name.lower()
    value = next((v for k, v in msg.raw_items() if k.lower() == wanted), None)
    return None if value is None else _decode(_text(value))


def _text(value: Any) -> str:
    """A header value as the parser keeps it; 8-bit bytes are read as UTF-8, as Gmail does."""
    if isinstance(value, str):
        return value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    return str(value)


def _decode(value: str) -> str:
    value = re.sub(r"\r?\n[ \t]+", " ", value).strip()
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def _norm_msgid(value: str) -> str:
    return value.strip().strip("<>").strip().lower()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    text = re.sub(r"\s+", "", text).replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _split_multipart(body: bytes, content_type: str) -> list[tuple[Message, bytes]]:
    """(headers, payload bytes) per part; payload bytes untouched (no MIME decoding)."""
    holder = Message()
    holder["Content-Type"] = content_type
    boundary = holder.get_boundary()
    if not boundary:
        raise _ApiError(_error(400, "Missing multipart boundary.", "invalidArgument"))
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)
    parts: list[tuple[Message, bytes]] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.removeprefix(b"\n")
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        head, payload = _split_head(chunk)
        parts.append((BytesParser(policy=compat32).parsebytes(head, headersonly=True), payload))
    return parts


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    """Headers and body of an HTTP/MIME entity, whichever line ending it uses."""
    match = re.search(rb"\r?\n\r?\n", data)
    if match is None:
        return data, b""
    return data[: match.start()] + b"\n", data[match.end() :]


# --------------------------------------------------------------------------------------------------
# the emulator


class GmailEmulator(Started):
    """Gmail API emulator on 127.0.0.1; a context manager that runs it in a daemon thread.

    Public knobs (plain attributes, safe to set from tests at any time):
      require_auth        demand `Authorization: Bearer <issued token>` on API calls (default False)
      scopes              scopes granted by the token endpoint (enforced only with require_auth)
      slow_seconds        how long a "slow" fault stalls before answering (default 6)
      lost_rate           probability that a successful drafts.create loses its reply
      quota_per_minute    units per user in any sliding `quota_window` (default 6000; None =
                          unlimited); beyond it a request (each batch part) gets 429
                          rateLimitExceeded and is not charged, as Google does
      quota_window        the length of that sliding window in seconds (default 60: Google's
                          minute; tests use a short one, e.g. 60 units per 2 s)
      max_concurrent      simultaneous API requests allowed (default None = unlimited)
      clock               monotonic clock used for the quota window (replace to fast-forward)
      email               the mailbox address, returned by getProfile
      token_down          "lost" (TCP reset) or "silent" (no answer, ever): the token endpoint is
                          unreachable while the API answers (default None)
      on_request          called with (method, path) for every request, before its reply goes
                          out, in the server's thread: e.g. to go down in the middle of a run

    Counters (read-only): `sent_429` every 429 answer sent (each batch part and each outer batch
    counts one: quota, concurrency cap, injected faults), `quota_429` those of the sliding quota.
    """

    def __init__(
        self,
        *,
        email: str = "me@example.com",
        quota_per_minute: int | None = 6000,
        quota_window: float = 60.0,
    ) -> None:
        self.email = email
        self.require_auth = False
        self.scopes: set[str] = {COMPOSE}
        self.slow_seconds: float = 6.0
        self.lost_rate: float = 0.0
        self.quota_per_minute: int | None = quota_per_minute
        self.quota_window: float = quota_window
        self.max_concurrent: int | None = None
        self.clock: Callable[[], float] = time.monotonic
        self.token_down: str | None = None
        self.on_request: Callable[[str, str], None] | None = None

        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._counters: dict[str, Iterator[int]] = {k: itertools.count(1) for k in "rmt"}
        self._seq = itertools.count(1)
        self._history = itertools.count(1000)
        self._messages: dict[str, _Msg] = {}
        self._drafts: dict[str, str] = {}  # draft id -> message id
        self._threads: dict[str, list[str]] = {}  # thread id -> message ids
        self._tokens: dict[str, frozenset[str]] = {}
        self._token_counter = itertools.count(1)
        self._revoked = False
        self._tokens_issued = 0
        self._fault_rate = 0.0
        self._fault_kinds: tuple[str, ...] = DEFAULT_FAULT_KINDS
        self._fault_methods: frozenset[str] | None = None
        self._rng = random.Random(0)
        self._queued: list[_Fault] = []
        self._injected: list[tuple[str, str]] = []
        self._window: deque[tuple[float, int]] = deque()
        self._units_used = 0
        self._window_units = 0  # the units in _window
        self._sent_429 = 0
        self._quota_429 = 0
        self._in_flight = 0
        self._requests: list[tuple[str, str]] = []
        self._log: list[dict[str, Any]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0  # kept while down, so that the mailbox comes back at the same address
        self._silent = False
        self._unanswered = 0

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self) -> GmailEmulator:
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.emulator = self
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="gmail-emulator"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._stop_serving()

    def _stop_serving(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def root_url(self) -> str:
        if not self._port:
            raise RuntimeError("GmailEmulator is not running")
        return f"http://127.0.0.1:{self._port}/"

    @property
    def token_uri(self) -> str:
        return self.root_url + "token"

    # ---- test controls --------------------------------------------------------------------------

    def faults(
        self,
        rate: float = 0.3,
        kinds: Iterable[str] = DEFAULT_FAULT_KINDS,
        seed: int | None = None,
        *,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Fail each API request (batch parts and the outer batch included) with probability `rate`.

        `methods` limits the faults to some method ids ("drafts.create", "batch", ...).
        `faults(0)` turns them off.
        """
        kinds = tuple(kinds)
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {FAULT_KINDS}")
        with self._lock:
            self._fault_rate = rate
            self._fault_kinds = kinds
            self._fault_methods = None if methods is None else frozenset(methods)
            self._rng = random.Random(seed)

    def fail_next(
        self,
        status: int | str,
        reason: str | None = None,
        *,
        method: str | None = None,
        times: int = 1,
    ) -> None:
        """Fail the next API request (or the next one of `method`) deterministically.

        `status` is an HTTP status (reply in Google's error shape with `reason`) or a fault kind
        from FAULT_KINDS ("slow", "lost", "closed", ...). Queued faults fire in order.
        """
        if isinstance(status, str):
            if status not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {status!r}; use {FAULT_KINDS}")
            fault = _Fault(status, method=method, times=times)
        else:
            fault = _Fault("status", status, reason, method=method, times=times)
        with self._lock:
            self._queued.append(fault)

    def go_down(self, mode: str = "refused") -> None:
        """The mailbox becomes unreachable: "refused" stops listening (connections are refused,
        open ones reset); "silent" accepts connections and reads requests but never answers.
        `come_back()` serves again at the same address. Call "refused" from the test's thread."""
        if mode == "silent":
            self._silent = True
        elif mode == "refused":
            self._stop_serving()
        else:
            raise ValueError(f"unknown mode {mode!r}; use 'refused' or 'silent'")

    def come_back(self) -> None:
        """Serve again, at the same address, with everything the mailbox held."""
        self._silent = False
        if self._server is None:
            self.start()

    @property
    def unanswered(self) -> int:
        """Requests received while silent (never answered)."""
        with self._lock:
            return self._unanswered

    def reauthorize(self) -> None:
        """The user ran `outreach auth gmail` again after `revoke()`: refreshes work again."""
        with self._lock:
            self._revoked = False

    def revoke(self) -> None:
        """The refresh token dies (revoked, or a 7-day "Testing" app): refreshes get invalid_grant.

        Access tokens already issued stop working too.
        """
        with self._lock:
            self._revoked = True
            self._tokens.clear()

    def expire_tokens(self) -> None:
        """Every issued access token expires: the next API call gets 401 and the client refreshes."""
        with self._lock:
            self._tokens.clear()

    def send_draft(self, draft_id: str) -> str:
        """The user sends the draft: it disappears, a SENT message with the same raw joins its thread.

        Returns the new message id (Gmail gives the sent message a new id).
        """
        with self._lock:
            if draft_id not in self._drafts:
                raise KeyError(draft_id)
            draft = self._messages[self._drafts[draft_id]]
            sent = self._add(draft.raw, draft.thread_id, ["SENT"], None)  # first: keeps the thread
            self._pop_draft(draft_id)
            return sent.id

    def delete_draft(self, draft_id: str) -> None:
        """The user deletes the draft unsent."""
        with self._lock:
            self._pop_draft(draft_id)

    def reply(
        self,
        thread_id: str,
        from_addr: str,
        when_ms: int | None = None,
        *,
        body: str = "Thanks, let's talk soon.",
    ) -> str:
        """An inbound reply in `thread_id` (labels INBOX, UNREAD), answering its last non-draft message.

        Returns the new message id; its Message-ID is `<reply-N@emulator.invalid>`.
        """
        with self._lock:
            if thread_id not in self._threads:
                raise KeyError(thread_id)
            thread = [self._messages[m] for m in self._threads[thread_id]]
            parents = [m for m in thread if "DRAFT" not in m.label_ids] or thread
            parent = parents[-1]
            subject = parent.header("Subject")
            if subject and not subject.lower().startswith("re:"):
                subject = "Re: " + subject
            references = " ".join(x for x in (parent.header("References"), parent.message_id) if x)
            n = next(self._seq)
            when = when_ms if when_ms is not None else int(time.time() * 1000)
            lines = [
                f"From: {from_addr}",
                f"To: {parent.header('From') or self.email}",
                f"Subject: {subject}",
                f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(when / 1000))}",
                f"Message-ID: <reply-{n}@emulator.invalid>",
                f"In-Reply-To: {parent.message_id}",
                f"References: {references}",
                "MIME-Version: 1.0",
                'Content-Type: text/plain; charset="utf-8"',
                "",
                body,
                "",
            ]
            raw = "\r\n".join(lines).encode()
            return self._add(raw, thread_id, ["INBOX", "UNREAD"], when).id

    def add_message(
        self,
        raw: bytes,
        *,
        thread_id: str | None = None,
        label_ids: Iterable[str] = ("INBOX", "UNREAD"),
        when_ms: int | None = None,
    ) -> tuple[str, str]:
        """Put any message in the mailbox (inbound mail, an old sent thread...): (message id, thread id)."""
        with self._lock:
            if thread_id is not None and thread_id not in self._threads:
                raise KeyError(thread_id)
            msg = self._add(raw, thread_id, list(label_ids), when_ms)
            return msg.id, msg.thread_id

    def delete_message(self, message_id: str) -> None:
        """The user deletes a message for good (a listed message then answers 404)."""
        with self._lock:
            self._remove(message_id)

    def drafts_by_message_id(self) -> dict[str, list[str]]:
        """{Message-ID header (verbatim, "" if none): [draft ids]}; exactly-once means lists of one."""
        with self._lock:
            result: dict[str, list[str]] = {}
            for draft_id, message_id in sorted(self._drafts.items()):
                result.setdefault(self._messages[message_id].message_id, []).append(draft_id)
            return result

    @property
    def drafts(self) -> dict[str, dict[str, Any]]:
        """Snapshot: {draft id: {"id", "message": {"id", "threadId", "labelIds", "raw": bytes}}}."""
        with self._lock:
            return {
                draft_id: {"id": draft_id, "message": self._snapshot(self._messages[mid])}
                for draft_id, mid in sorted(self._drafts.items())
            }

    @property
    def threads(self) -> dict[str, list[dict[str, Any]]]:
        """Snapshot: {thread id: [{"id", "threadId", "labelIds", "raw", "internalDate"}, ...]}."""
        with self._lock:
            return {
                tid: [self._snapshot(self._messages[m]) for m in self._ordered(tid)]
                for tid in sorted(self._threads)
            }

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path without query) for every request received, batch parts included."""
        with self._lock:
            return list(self._requests)

    @property
    def request_log(self) -> list[dict[str, Any]]:
        """Details per request: method, path, query, content_type, in_batch, api (method id)."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    def calls(self, api: str) -> int:
        """How many requests of one method id ("messages.get", "messages.list", "batch"...)
        reached the emulator, batch parts included."""
        with self._lock:
            return sum(1 for entry in self._log if entry["api"] == api)

    @property
    def faults_injected(self) -> list[tuple[str, str]]:
        """(method id, fault kind or status) for every fault that fired."""
        with self._lock:
            return list(self._injected)

    @property
    def units_used(self) -> int:
        """Quota units charged since start (only requests that reached the handler are charged)."""
        with self._lock:
            return self._units_used

    @property
    def sent_429(self) -> int:
        """429 answers sent since start, for any cause (each batch part and outer batch: one)."""
        with self._lock:
            return self._sent_429

    @property
    def quota_429(self) -> int:
        """429 answers sent because the sliding-window quota was spent (batch parts each count)."""
        with self._lock:
            return self._quota_429

    def _counted(self, reply: _Reply) -> _Reply:
        if reply.status == 429:
            with self._lock:
                self._sent_429 += 1
        return reply

    @property
    def tokens_issued(self) -> int:
        with self._lock:
            return self._tokens_issued

    # ---- state helpers (call with the lock held) ------------------------------------------------

    def _new_id(self, kind: str) -> str:
        return f"{kind}{next(self._counters[kind]):04d}"

    def _add(self, raw: bytes, thread_id: str | None, labels: list[str], when: int | None) -> _Msg:
        if thread_id is None:
            thread_id = self._new_id("t")
            self._threads[thread_id] = []
        msg = _Msg(
            id=self._new_id("m"),
            thread_id=thread_id,
            label_ids=labels,
            raw=raw,
            internal_date=when if when is not None else int(time.time() * 1000),
            history_id=next(self._history),
            seq=next(self._seq),
        )
        self._messages[msg.id] = msg
        self._threads[thread_id].append(msg.id)
        return msg

    def _remove(self, message_id: str) -> _Msg:
        msg = self._messages.pop(message_id)
        thread = self._threads[msg.thread_id]
        thread.remove(message_id)
        if not thread:
            del self._threads[msg.thread_id]
        return msg

    def _pop_draft(self, draft_id: str) -> _Msg:
        if draft_id not in self._drafts:
            raise KeyError(draft_id)
        return self._remove(self._drafts.pop(draft_id))

    def _ordered(self, thread_id: str) -> list[str]:
        msgs = [self._messages[m] for m in self._threads[thread_id]]
        return [m.id for m in sorted(msgs, key=lambda m: (m.internal_date, m.seq))]

    @staticmethod
    def _snapshot(msg: _Msg) -> dict[str, Any]:
        return {
            "id": msg.id,
            "threadId": msg.thread_id,
            "labelIds": list(msg.label_ids),
            "raw": msg.raw,
            "internalDate": str(msg.internal_date),
        }

    # ---- request pipeline -----------------------------------------------------------------------

    def _record(self, req: _Request, *, in_batch: bool, api: str | None) -> None:
        with self._lock:
            self._requests.append((req.method, req.path))
            self._log.append(
                {
                    "method": req.method,
                    "path": req.path,
                    "query": {k: list(v) for k, v in req.query.items()},
                    "content_type": req.headers.get("content-type", ""),
                    "in_batch": in_batch,
                    "api": api,
                }
            )

    @contextmanager
    def _slot(self) -> Iterator[tuple[bool, int]]:
        """Count an in-flight request: yields (over the concurrency cap?, other requests in flight)."""
        with self._lock:
            self._in_flight += 1
            others = self._in_flight - 1
            over = self.max_concurrent is not None and self._in_flight > self.max_concurrent
        try:
            yield over, others
        finally:
            with self._lock:
                self._in_flight -= 1

    def _pick_fault(self, method_id: str) -> _Fault | None:
        with self._lock:
            for i, fault in enumerate(self._queued):
                if fault.method is None or fault.method == method_id:
                    fault.times -= 1
                    if fault.times <= 0:
                        del self._queued[i]
                    self._injected.append(
                        (method_id, fault.kind if fault.kind != "status" else str(fault.status))
                    )
                    return fault
            eligible = self._fault_methods is None or method_id in self._fault_methods
            if self._fault_rate > 0 and eligible and self._rng.random() < self._fault_rate:
                kind = self._rng.choice(self._fault_kinds)
                self._injected.append((method_id, kind))
                return _Fault(kind)
            return None

    def _charge(self, method_id: str) -> bool:
        """Charge the quota; False when the sliding window (the last `quota_window` seconds,
        this instant included) cannot take the request's units."""
        units = UNITS.get(method_id, 0)
        with self._lock:
            now = self.clock()
            while self._window and self._window[0][0] <= now - self.quota_window:
                self._window_units -= self._window.popleft()[1]
            quota = self.quota_per_minute
            if quota is not None and self._window_units + units > quota:
                self._quota_429 += 1  # _api counts it in sent_429
                return False
            self._window.append((now, units))
            self._window_units += units
            self._units_used += units
            return True

    def _token_scopes(self, req: _Request) -> frozenset[str] | None:
        """The scopes of the request's bearer token; None when it has none we issued."""
        auth = req.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        with self._lock:
            return self._tokens.get(token)

    def _authorize(self, req: _Request, method_id: str) -> _Reply | None:
        if not self.require_auth:
            return None
        scopes = self._token_scopes(req)
        if scopes is None:
            return _error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
                "authError",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        if not scopes & _SCOPES.get(method_id, frozenset()):
            return _error(403, None, "insufficientPermissions")
        # Google applies the metadata scope's limits whenever it is granted, beside broader
        # scopes too (issuetracker.google.com/issues/115621456)
        metadata_only = METADATA in scopes
        if metadata_only and method_id in ("messages.list", "drafts.list") and req.arg("q"):
            return _error(403, "Metadata scope does not support 'q' parameter", "forbidden")
        fmt = req.arg("format", "full")
        if (
            metadata_only
            and method_id in ("threads.get", "messages.get")
            and fmt in ("full", "raw")
        ):
            return _error(403, f"Metadata scope doesn't allow format {fmt.upper()}", "forbidden")
        return None

    def _api(self, req: _Request, *, in_batch: bool = False, over_cap: bool = False) -> _Reply:
        """One API call, top-level or a batch part: auth, faults, quota, then the handler."""
        return self._counted(self._call(req, in_batch=in_batch, over_cap=over_cap))

    def _call(self, req: _Request, *, in_batch: bool, over_cap: bool) -> _Reply:
        route = _route(req.method, req.path)
        self._record(req, in_batch=in_batch, api=route[0] if route else None)
        if route is None:
            return _error(404, f"Not found: {req.method} {req.path}", "notFound")
        method_id, handler, user_id, args = route
        if over_cap:
            return _error(429, "Too many concurrent requests for user", "rateLimitExceeded")
        denied = self._authorize(req, method_id)
        if denied is not None:
            return denied
        if user_id != "me":
            return _error(403, f"Delegation denied for {user_id}", "forbidden")
        fault = self._pick_fault(method_id)
        if fault is not None and fault.kind == "status":
            return _error(fault.status, None, fault.reason)
        if fault is not None and fault.kind not in ("slow", "lost", "closed"):
            return _fault_reply(fault.kind)
        if not self._charge(method_id):
            return _error(
                429,
                "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' "
                "of service 'gmail.googleapis.com'.",
                "rateLimitExceeded",
            )
        try:
            with self._lock:
                reply = handler(self, req, *args)
        except _ApiError as exc:
            reply = exc.reply
        if fault is not None:
            reply.after = fault.kind
        elif method_id == "drafts.create" and reply.status == 200 and self.lost_rate > 0:
            with self._lock:
                lost = self._rng.random() < self.lost_rate
            if lost:
                self._injected_append(method_id, "lost")
                reply.after = "lost"
        if in_batch and reply.after in ("lost", "closed"):
            # One part cannot lose its connection: the work is done but the part reports failure.
            return _error(500, "Internal error encountered.", "backendError")
        return reply

    def _injected_append(self, method_id: str, kind: str) -> None:
        with self._lock:
            self._injected.append((method_id, kind))

    def _batch(self, req: _Request, others: int) -> _Reply:
        self._record(req, in_batch=False, api="batch")
        fault = self._pick_fault("batch")
        if fault is not None and fault.kind == "status":
            return _error(fault.status, None, fault.reason)
        if fault is not None and fault.kind not in ("slow", "lost", "closed"):
            return _fault_reply(fault.kind)
        content_type = req.headers.get("content-type", "")
        if not content_type.startswith("multipart/mixed"):
            return _error(400, "Batch requests must be multipart/mixed.", "invalidArgument")
        try:
            parts = _split_multipart(req.body, content_type)
        except _ApiError as exc:
            return exc.reply
        if len(parts) > _MAX_BATCH:
            return _error(
                400,
                f"A batch request cannot contain more than {_MAX_BATCH} requests ({len(parts)} sent).",
                "invalidArgument",
            )
        boundary = "batch_" + uuid.uuid4().hex
        out: list[bytes] = []
        stall = False
        for index, (headers, payload) in enumerate(parts):
            content_id = str(headers.get("Content-ID", "")).strip()
            inner = _parse_inner(payload)
            cap = self.max_concurrent
            over = cap is not None and others + index + 1 > cap
            if inner is None:
                reply = _error(400, "Malformed batch part.", "invalidArgument")
            else:
                reply = self._api(inner, in_batch=True, over_cap=over)
            stall = stall or reply.after == "slow"
            response_id = (
                "<response-" + content_id[1:]
                if content_id.startswith("<")
                else "response-" + content_id
            )
            body = reply.encoded()
            status = http.HTTPStatus(reply.status)
            inner_head = [f"HTTP/1.1 {status.value} {status.phrase}"]
            if body:
                inner_head.append(f"Content-Type: {reply.content_type}")
            inner_head += [f"{k}: {v}" for k, v in reply.headers.items()]
            inner_head.append(f"Content-Length: {len(body)}")
            out.append(
                (
                    f"--{boundary}\r\nContent-Type: application/http\r\n"
                    f"Content-ID: {response_id}\r\n\r\n" + "\r\n".join(inner_head) + "\r\n\r\n"
                ).encode()
                + body
                + b"\r\n"
            )
        out.append(f"--{boundary}--\r\n".encode())
        after = fault.kind if fault is not None else ("slow" if stall else None)
        return _Reply(
            200,
            raw=b"".join(out),
            content_type=f"multipart/mixed; boundary={boundary}",
            after=after,
        )

    def _token(self, req: _Request) -> _Reply:
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        with self._lock:
            self._requests.append((req.method, req.path))
            self._log.append(
                {
                    "method": req.method,
                    "path": req.path,
                    "query": {},
                    "in_batch": False,
                    "content_type": req.headers.get("content-type", ""),
                    "api": "token",
                }
            )
            if form.get("grant_type") == "authorization_code" and form.get("code"):
                # the installed-app flow's exchange: the consent's code for a refresh token
                token = f"ya29.{next(self._token_counter)}"
                self._tokens[token] = frozenset(self.scopes)
                self._tokens_issued += 1
                return _Reply(200, {"access_token": token, "expires_in": 3600,
                                    "token_type": "Bearer", "refresh_token": f"1//r-{token}",
                                    "scope": " ".join(sorted(self.scopes))})
            if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
                return _Reply(
                    400,
                    {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."},
                )
            if not form.get("client_id") or not form.get("client_secret"):
                return _Reply(401, {"error": "invalid_client", "error_description": "Unauthorized"})
            if self._revoked:
                return _Reply(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                )
            granted = frozenset(self.scopes)
            requested = frozenset(form.get("scope", "").split()) or granted
            if not requested <= granted:
                return _Reply(400, {"error": "invalid_scope", "error_description": "Bad Request"})
            token = f"ya29.{next(self._token_counter)}"
            self._tokens[token] = requested
            self._tokens_issued += 1
            return _Reply(
                200,
                {
                    "access_token": token,
                    "expires_in": 3600,
                    "token_type": "Bearer",
                    "scope": " ".join(sorted(requested)),
                },
            )

    # ---- API methods (lock held) ----------------------------------------------------------------

    def _raw_from(self, req: _Request) -> tuple[bytes, dict[str, Any]]:
        """The RFC 822 bytes and the JSON metadata of a drafts.create/update request, any upload type."""
        upload_type = req.arg("uploadType")
        content_type = req.headers.get("content-type", "")
        if req.path.startswith("/upload/"):
            if upload_type == "media":
                return req.body, {}
            if upload_type == "multipart":
                parts = _split_multipart(req.body, content_type)
                if len(parts) != 2:
                    raise _ApiError(
                        _error(400, "Multipart upload needs a JSON part and a media part.")
                    )
                meta = _json(parts[0][1])
                return parts[1][1], meta
            raise _ApiError(
                _error(400, f"gmail_emulator: uploadType={upload_type} is not supported")
            )
        body = _json(req.body)
        message = body.get("message") or {}
        raw = message.get("raw")
        if not isinstance(raw, str) or not raw:
            raise _ApiError(
                _error(
                    400,
                    "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
                )
            )
        try:
            return _unb64(raw), body
        except (binascii.Error, ValueError) as exc:
            raise _ApiError(_error(400, "Invalid value for ByteString: " + raw[:40])) from exc

    def _create(self, req: _Request) -> _Reply:
        raw, meta = self._raw_from(req)
        if not raw.strip():
            raise _ApiError(_error(400, "Invalid raw message: empty"))
        thread_id = (meta.get("message") or {}).get("threadId")
        if thread_id and thread_id not in self._threads:
            raise _ApiError(_error(404))
        draft_id = self._new_id("r")
        msg = self._add(raw, thread_id or None, ["DRAFT"], None)
        msg.draft_id = draft_id
        self._drafts[draft_id] = msg.id
        return _Reply(200, _draft_json(draft_id, msg))

    def _update(self, req: _Request, draft_id: str) -> _Reply:
        if draft_id not in self._drafts:
            raise _ApiError(_error(404))
        raw, meta = self._raw_from(req)
        old = self._messages[self._drafts[draft_id]]
        thread_id = (meta.get("message") or {}).get("threadId") or old.thread_id
        if thread_id not in self._threads:
            raise _ApiError(_error(404))
        msg = self._add(raw, thread_id, ["DRAFT"], None)  # before removing old: keeps the thread
        self._remove(old.id)
        msg.draft_id = draft_id
        self._drafts[draft_id] = msg.id
        return _Reply(200, _draft_json(draft_id, msg))

    def _list_drafts(self, req: _Request) -> _Reply:
        match = _matcher(req.arg("q", "") or "")
        msgs = [self._messages[m] for m in self._drafts.values()]
        hits = sorted((m for m in msgs if match(m)), key=lambda m: -m.seq)
        page, token = _page(req, hits)
        body: dict[str, Any] = {}
        if page:
            body["drafts"] = [
                {"id": m.draft_id, "message": {"id": m.id, "threadId": m.thread_id}} for m in page
            ]
        if token:
            body["nextPageToken"] = token
        body["resultSizeEstimate"] = len(hits)
        return _Reply(200, body)

    def _get_draft(self, req: _Request, draft_id: str) -> _Reply:
        if draft_id not in self._drafts:
            raise _ApiError(_error(404))
        msg = self._messages[self._drafts[draft_id]]
        return _Reply(200, {"id": draft_id, "message": _message_json(msg, req)})

    def _delete_draft(self, req: _Request, draft_id: str) -> _Reply:
        if draft_id not in self._drafts:
            raise _ApiError(_error(404))
        self._pop_draft(draft_id)
        return _Reply(204)

    def _get_thread(self, req: _Request, thread_id: str) -> _Reply:
        if thread_id not in self._threads:
            raise _ApiError(_error(404))
        msgs = [_message_json(self._messages[m], req) for m in self._ordered(thread_id)]
        history = max(self._messages[m].history_id for m in self._threads[thread_id])
        return _Reply(200, {"id": thread_id, "historyId": str(history), "messages": msgs})

    def _list_messages(self, req: _Request) -> _Reply:
        match = _matcher(req.arg("q", "") or "")
        labels = set(req.query.get("labelIds", []))
        hits = sorted(  # newest first by internalDate, as Gmail lists them
            (m for m in self._messages.values() if match(m) and labels <= set(m.label_ids)),
            key=lambda m: (-m.internal_date, -m.seq),
        )
        page, token = _page(req, hits)
        body: dict[str, Any] = {}
        if page:
            body["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if token:
            body["nextPageToken"] = token
        body["resultSizeEstimate"] = len(hits)
        return _Reply(200, body)

    def _get_message(self, req: _Request, message_id: str) -> _Reply:
        if message_id not in self._messages:
            raise _ApiError(_error(404))
        return _Reply(200, _message_json(self._messages[message_id], req))

    def _profile(self, req: _Request) -> _Reply:
        return _Reply(
            200,
            {
                "emailAddress": self.email,
                "messagesTotal": len(self._messages),
                "threadsTotal": len(self._threads),
                "historyId": str(next(self._history)),
            },
        )


# --------------------------------------------------------------------------------------------------
# routing and representations

_Handler_t = Callable[..., _Reply]
_PREFIX = re.compile(r"^/(?P<upload>upload/)?gmail/v1/users/(?P<user>[^/]+)/(?P<rest>.*)$")
_ROUTES: list[tuple[str, re.Pattern[str], str, _Handler_t, bool]] = [
    ("POST", re.compile(r"drafts"), "drafts.create", GmailEmulator._create, True),
    ("GET", re.compile(r"drafts"), "drafts.list", GmailEmulator._list_drafts, False),
    ("GET", re.compile(r"drafts/([^/]+)"), "drafts.get", GmailEmulator._get_draft, False),
    ("PUT", re.compile(r"drafts/([^/]+)"), "drafts.update", GmailEmulator._update, True),
    ("DELETE", re.compile(r"drafts/([^/]+)"), "drafts.delete", GmailEmulator._delete_draft, False),
    ("GET", re.compile(r"threads/([^/]+)"), "threads.get", GmailEmulator._get_thread, False),
    ("GET", re.compile(r"messages"), "messages.list", GmailEmulator._list_messages, False),
    ("GET", re.compile(r"messages/([^/]+)"), "messages.get", GmailEmulator._get_message, False),
    ("GET", re.compile(r"profile"), "getProfile", GmailEmulator._profile, False),
]


def _route(method: str, path: str) -> tuple[str, _Handler_t, str, tuple[str, ...]] | None:
    """(method id, handler, userId, path args) or None for an unknown path."""
    prefix = _PREFIX.match(path)
    if prefix is None:
        return None
    for verb, pattern, method_id, handler, uploadable in _ROUTES:
        match = pattern.fullmatch(prefix["rest"])
        if verb == method and match and (uploadable or not prefix["upload"]):
            return method_id, handler, prefix["user"], match.groups()
    return None


def _json(data: bytes) -> dict[str, Any]:
    if not data.strip():
        return {}
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise _ApiError(_error(400, f"Invalid JSON payload received. {exc}")) from exc
    if not isinstance(value, dict):
        raise _ApiError(_error(400, "Invalid JSON payload received. Expected an object."))
    return value


def _page(req: _Request, hits: list[_Msg]) -> tuple[list[_Msg], str | None]:
    try:
        size = int(req.arg("maxResults", "100") or "100")
        start = int((req.arg("pageToken", "") or "p0").removeprefix("p"))
    except ValueError as exc:
        raise _ApiError(_error(400, "Invalid maxResults or pageToken")) from exc
    if not 1 <= size <= 500 or start < 0:
        raise _ApiError(_error(400, "Invalid maxResults or pageToken"))
    end = start + size
    return hits[start:end], (f"p{end}" if end < len(hits) else None)


def _matcher(q: str) -> Callable[[_Msg], bool]:
    """The Gmail search terms the product uses; anything else is refused loudly (400)."""
    terms: list[tuple[bool, str, str]] = []  # (negated, field, wanted)
    for token in q.split():
        key, sep, value = token.lstrip("-").partition(":")
        key, value = key.lower(), value.strip('"')
        if not sep or key not in ("rfc822msgid", "in", "is", "label", "from", "to", "subject"):
            raise _ApiError(_error(400, f"gmail_emulator: unsupported search term {token!r}"))
        if key == "rfc822msgid":
            value = _norm_msgid(value)
        elif key in ("in", "is", "label"):
            key, value = "label", {"drafts": "DRAFT", "draft": "DRAFT"}.get(value.lower(), value)
            value = value.upper()
        else:
            value = value.lower()
        terms.append((token.startswith("-"), key, value))

    def match(msg: _Msg) -> bool:
        for negated, key, wanted in terms:
            if key == "rfc822msgid":
                hit = _norm_msgid(msg.message_id) == wanted
            elif key == "label":
                hit = wanted in msg.label_ids
            else:
                hit = wanted in msg.header(key.capitalize()).lower()
            if hit == negated:
                return False
        return True

    return match


def _draft_json(draft_id: str, msg: _Msg) -> dict[str, Any]:
    return {
        "id": draft_id,
        "message": {"id": msg.id, "threadId": msg.thread_id, "labelIds": list(msg.label_ids)},
    }


def _message_json(msg: _Msg, req: _Request) -> dict[str, Any]:
    fmt = req.arg("format", "full") or "full"
    if fmt not in _FORMATS:
        raise _ApiError(_error(400, f"Invalid value for format: {fmt}"))
    body: dict[str, Any] = {
        "id": msg.id,
        "threadId": msg.thread_id,
        "labelIds": list(msg.label_ids),
        "snippet": _snippet(msg.parsed),
        "sizeEstimate": len(msg.raw),
        "historyId": str(msg.history_id),
        "internalDate": str(msg.internal_date),
    }
    if fmt == "raw":
        body["raw"] = _b64url(msg.raw)
    elif fmt == "metadata":
        wanted = {h.lower() for h in req.query.get("metadataHeaders", [])}
        headers = _headers(msg.parsed)
        if wanted:
            headers = [h for h in headers if h["name"].lower() in wanted]
        body["payload"] = {"mimeType": msg.parsed.get_content_type(), "headers": headers}
    elif fmt == "full":
        body["payload"] = _payload(msg.parsed, "")
    return body


def _headers(part: Message) -> list[dict[str, str]]:
    return [{"name": name, "value": _decode(_text(value))} for name, value in part.raw_items()]


def _payload(part: Message, part_id: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": _headers(part),
    }
    if part.is_multipart():
        children = part.get_payload()
        assert isinstance(children, list)
        result["body"] = {"size": 0}
        result["parts"] = [
            _payload(child, f"{part_id}.{i}" if part_id else str(i))
            for i, child in enumerate(children)
        ]
    else:
        data = part.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        result["body"] = {"size": len(data), "data": _b64url(data)} if data else {"size": 0}
    return result


def _snippet(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                text = data.decode(part.get_content_charset() or "utf-8", "replace")
                return " ".join(text.split())[:100]
    return ""


def _parse_inner(payload: bytes) -> _Request | None:
    """An `application/http` batch part: `METHOD /path?query HTTP/1.1` + headers + body."""
    line, _, rest = payload.partition(b"\n")
    pieces = line.decode("latin-1").strip().split(" ")
    if len(pieces) != 3:
        return None
    head, body = _split_head(rest)
    headers = BytesParser(policy=compat32).parsebytes(head, headersonly=True)
    length = headers.get("Content-Length")
    if length is not None and str(length).strip().isdigit():
        body = body[: int(str(length).strip())]
    url = urlsplit(pieces[1])
    return _Request(
        method=pieces[0].upper(),
        path=url.path,
        query=parse_qs(url.query, keep_blank_values=True),
        headers={k.lower(): str(v) for k, v in headers.items()},
        body=body,
    )


# --------------------------------------------------------------------------------------------------
# HTTP server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: GmailEmulator

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out or hang up are expected here; stay quiet about them."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        gm = self.server.emulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        req = _Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        if gm._silent or (req.path == "/token" and gm.token_down == "silent"):
            self._hold()
            return
        if gm.on_request is not None:
            gm.on_request(req.method, req.path)
        if req.path == "/token" and req.method == "POST":
            if gm.token_down == "lost":
                self._reset()
            else:
                self._send(gm._token(req))
            return
        with gm._slot() as (over, others):
            if req.path in ("/batch", "/batch/gmail/v1") and req.method == "POST":
                if over:
                    gm._record(req, in_batch=False, api="batch")
                    reply = _error(
                        429, "Too many concurrent requests for user", "rateLimitExceeded"
                    )
                else:
                    reply = gm._batch(req, others)
                gm._counted(reply)
            else:
                reply = gm._api(req, over_cap=over)
            if reply.after == "slow":
                gm._stop.wait(gm.slow_seconds)
        if reply.after == "lost":
            self._reset()
        elif reply.after == "closed":
            self.close_connection = True
        else:
            self._send(reply)

    def _send(self, reply: _Reply) -> None:
        data = reply.encoded()
        self.send_response(reply.status)
        if reply.status != 204:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _hold(self) -> None:
        """Never answer: keep the connection open until the mailbox comes back or closes."""
        gm = self.server.emulator
        with gm._lock:
            gm._unanswered += 1
        while (gm._silent or gm.token_down == "silent") and not gm._stop.is_set():
            gm._stop.wait(0.05)
        self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP RST: the client sees ECONNRESET instead of a reply."""
        self.close_connection = True
        with suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
