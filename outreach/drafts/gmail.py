"""The ``gmail`` store: ``users.drafts.create`` through google-api-python-client, exactly once.

* The client is built offline from the discovery document the package ships, with its ``rootUrl``
  set to ``gmail.api_root``: JSON calls, media uploads and batches all go there (a Workspace proxy
  or a local emulator can stand in for Google).
* Requests are paced to ``gmail.quota_per_minute`` as Google counts it, in any sliding minute
  (:mod:`outreach.drafts.gmail_pace`; drafts.create costs 10 units, each part of a batch too,
  drafts.list 5), and sent in batches of at most ``gmail.batch_size`` (Google advises no more
  than 50; as many as the quota has room for when it has less). What a run spent in the last
  minute is kept beside the token file (``<token>.quota.json``), for a run right after it.
* 429, rate-limit 403s, 5xx, timeouts and dropped connections are retried with exponential
  backoff and jitter, inside batches too (the library does not retry those); when rate limits
  last to the last retry, it waits until a whole quota window has passed since the first (what
  another client of the mailbox spent has left it by then). 400 and other 403s fail only their
  draft.
* When the outcome of a create is unknown (a timeout, a lost reply), the store asks Gmail for the
  Message-ID (``drafts.list q=rfc822msgid:``) before creating again: never two drafts for a touch.
* An expired or revoked refresh token stops the run with :class:`AuthError` (exit code 5).
* A mailbox that does not answer at all stops the run with :class:`MailboxUnreachable` (exit code
  1): every request, token refreshes included (also those googleapiclient makes inside batches),
  goes through one guarded transport that counts, per endpoint, the requests in a row that got no
  HTTP answer (refused or dropped connections, DNS failures, timeouts). Three in a row, or two
  that took 20 s or more, and the night stops. Any HTTP answer, a 401 or a 503 too, resets the
  count: those keep their retries. Connecting waits at most 10 s, and an endpoint that has just
  failed gets 5 s to answer the next request (a Message-ID lookup or a token refresh, never a
  batch), so a black-holed address ends the night after about ``timeout_seconds`` + 6 s.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from outreach.drafts import BaseStore, Capabilities, MailRead, Stored, ThreadMessage
from outreach.drafts.gmail_http import Breaker, endpoint_label, guarded_http_class
from outreach.drafts.gmail_pace import WINDOW_SECONDS, Rounds, SlidingWindow, SpentFile
from outreach.errors import AuthError, MailboxUnreachable, StoreError
from outreach.message import Draft
from outreach.model import GmailSettings

COST = {"create": 10, "list": 5, "get": 5, "threads": 10}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError"}
BACKOFF_CAP = 64.0


class _Outcome:
    """What became of one request: a result, a retryable fault, a final error, or unknown."""

    def __init__(self) -> None:
        self.result: Any = None
        self.retry: str | None = None  # a fault worth another try
        self.limited = False  # that fault is a rate limit (429, a rate-limit 403)
        self.error: StoreError | None = None  # final for this draft
        self.unknown = False  # the request may have been carried out: look before retrying


def _classify(exc: BaseException, outcome: _Outcome) -> None:
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError):
        status = int(exc.resp.status)
        reason = _reason(exc)
        if status == 401:
            raise AuthError(
                "Gmail answered 401 (invalid credentials) after a token refresh",
                "run 'outreach auth gmail'",
            )
        if status == 429 or status >= 500 or (status == 403 and reason in RATE_REASONS):
            outcome.retry = f"{status} {reason or ''}".strip()
            outcome.limited = status == 429 or status == 403
            outcome.unknown = status >= 500  # a 5xx may still have created the draft
            return
        what = {
            400: "Gmail refused the draft as invalid",
            403: "Gmail refused the draft (permission)",
            404: "Gmail did not find the conversation",
        }.get(status, f"Gmail answered {status}")
        hint = (
            "grant the compose scope: run 'outreach auth gmail'"
            if reason == "insufficientPermissions"
            else "check the draft's headers and size"
        )
        outcome.error = StoreError(f"{what}: {reason or _message(exc)}", hint)
        return
    _classify_transport(exc, outcome)


def _classify_transport(exc: BaseException, outcome: _Outcome) -> None:
    from google.auth.exceptions import RefreshError

    if isinstance(exc, RefreshError):
        from outreach.auth import refresh_failed

        raise refresh_failed(exc) from None
    if isinstance(exc, (AuthError, MailboxUnreachable)):
        raise exc
    # timeouts, refused or dropped connections, half-read replies: the request may have been done
    outcome.retry = f"{type(exc).__name__}: {exc}"[:200]
    outcome.unknown = True


def _reason(exc: Any) -> str:
    try:
        data = json.loads(exc.content.decode("utf-8"))
        errors = data.get("error", {}).get("errors") or []
        return str(errors[0].get("reason", "")) if errors else str(data["error"].get("status", ""))
    except (ValueError, AttributeError, KeyError, IndexError, TypeError):
        return ""


def _message(exc: Any) -> str:
    try:
        return str(json.loads(exc.content.decode("utf-8"))["error"]["message"])[:200]
    except (ValueError, AttributeError, KeyError, TypeError):
        return str(exc)[:200]


class _Refresh:
    """A token refresh shaped like a googleapiclient request, for :meth:`GmailStore._call`."""

    def __init__(self, credentials: Any, request: Any) -> None:
        self.credentials = credentials
        self.request = request

    def execute(self, num_retries: int = 0) -> None:
        del num_retries
        self.credentials.refresh(self.request)


class GmailStore(BaseStore):
    name = "gmail"

    def __init__(
        self,
        settings: GmailSettings,
        root: Path,
        *,
        mailbox: bool = False,
        credentials: Any = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
        window: float = WINDOW_SECONDS,
    ) -> None:
        import google_auth_httplib2

        from outreach import auth

        self.settings = settings
        self.mailbox = mailbox  # mailbox.watch: read_mail() is called
        self.sleep: Callable[[float], None] = sleep or (lambda seconds: time.sleep(seconds))
        self.rng = rng or random.Random()
        clock = clock or time.monotonic
        token = auth.token_path(settings, root)
        self.spent = SpentFile(token.with_name(token.stem + ".quota.json"), clock, time.time)
        used = self.spent.load(window)  # a run just before may have spent some of the window
        self.pacer = SlidingWindow(
            settings.quota_per_minute, clock, self.sleep, window=window, used=used
        )
        self.retries = 0  # how many retries this store made (for reports and tests)
        self.credentials = credentials or auth.load_credentials(settings, root, watch=mailbox)
        self.breaker = Breaker(settings.timeout_seconds)
        self.http = guarded_http_class()(self.breaker, self._label)
        # Every refresh goes through that transport: AuthorizedHttp's, and googleapiclient's inside
        # batches, which would use a fresh httplib2.Http() without a timeout or the breaker.
        refresh = functools.partial(type(self.credentials).refresh, self.credentials)
        self._refresh_request = google_auth_httplib2.Request(self.http)
        self.credentials.refresh = lambda _request: refresh(self._refresh_request)
        self.service = self._build()
        if not self.credentials.valid:
            # now, so that a dead token stops the night before anything is recorded
            self._call(lambda: _Refresh(self.credentials, self._refresh_request), 0)

    def _label(self, url: str) -> str:
        """What a request URL reaches, for the line the night ends with."""
        token_uri = str(getattr(self.credentials, "token_uri", "") or "")
        return endpoint_label(url, token_uri, "Gmail")

    def _build(self) -> Any:
        import google_auth_httplib2
        import googleapiclient
        import httplib2
        from googleapiclient.discovery import build_from_document

        doc_path = (
            Path(googleapiclient.__file__).parent
            / "discovery_cache"
            / "documents"
            / "gmail.v1.json"
        )
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
        doc["rootUrl"] = self.settings.api_root  # JSON calls, /upload/ and /batch all follow it
        # httplib2 silently re-sends a request (a POST too) once when the connection drops before
        # the reply: that would create a second draft behind our back. We retry ourselves, after
        # looking the Message-ID up.
        httplib2.RETRIES = 1
        http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=self.http)
        return build_from_document(doc, http=http)

    @property
    def batch_size(self) -> int:
        return self.settings.batch_size

    @property
    def where(self) -> str:
        return "gmail"

    @property
    def capabilities(self) -> Capabilities:
        """Batches of ``gmail.batch_size``; conversations with ``gmail.reply_detection`` (it
        needs the read-only scope); the mailbox with ``mailbox.watch`` (metadata scope)."""
        return Capabilities(
            self.settings.batch_size, self.settings.reply_detection, mailbox=self.mailbox
        )

    # ----------------------------------------------------------------- helpers

    @contextlib.contextmanager
    def _spending(self, units: int) -> Iterator[None]:
        """A request paced to the quota; what it spent is then remembered for the next run."""
        with self.pacer.spend(units):
            yield
        if units:
            self.spent.save(self.pacer)

    def _backoff(self, attempt: int, limited_since: float | None) -> None:
        """Exponential backoff with jitter before retry ``attempt + 1``. Before the last one, when
        rate limits have been answered since ``limited_since``, at least until a whole quota
        window has gone by since: whatever filled the mailbox's quota has left it by then."""
        delay = min(BACKOFF_CAP, 2.0**attempt) * (0.5 + self.rng.random())
        if limited_since is not None and attempt + 1 == self.settings.max_retries:
            delay = max(delay, limited_since + self.pacer.window - self.pacer.clock())
        self.retries += 1
        self.sleep(delay)

    def rounds(self, pending: Callable[[], bool] = lambda: True) -> Rounds:
        return Rounds(self.settings.max_retries, self._backoff, self.pacer.clock, pending)

    def _call(self, make: Callable[[], Any], units: int) -> Any:
        """One request, paced and retried; raises StoreError when it keeps failing."""
        last = ""
        rounds = self.rounds()
        for _ in rounds:
            outcome = _Outcome()
            with self._spending(units):
                try:
                    return make().execute(num_retries=0)
                except Exception as exc:
                    _classify(exc, outcome)
            if outcome.error is not None:
                raise outcome.error
            last = outcome.retry or "unknown"
            rounds.saw(outcome.limited)
        raise StoreError(
            f"Gmail kept failing ({last})",
            "the next run tries again; check Gmail's status if this persists",
        )

    # ----------------------------------------------------------------- the protocol

    def find(self, message_id: str) -> Stored | None:
        """The draft with this Message-ID (5 quota units)."""
        drafts = self.service.users().drafts()
        response = self._call(
            lambda: drafts.list(userId="me", q=f"rfc822msgid:{message_id}", maxResults=10),
            COST["list"],
        )
        found = (response or {}).get("drafts") or []
        if not found:
            return None
        first = sorted(found, key=lambda d: str(d.get("id")))[0]
        return Stored(message_id, str(first["id"]), (first.get("message") or {}).get("threadId"))

    def create(self, draft: Draft) -> Stored:
        result = self.create_many([draft])[0]
        if isinstance(result, StoreError):
            raise result
        return result

    def create_many(self, drafts: Sequence[Draft]) -> list[Stored | StoreError]:
        """Create drafts in batches; retry what failed; look up what may exist before retrying."""
        results: dict[int, Stored | StoreError] = {}
        todo = list(range(len(drafts)))
        check: set[int] = set()  # outcome unknown: ask Gmail before creating again
        last: dict[int, str] = {}
        rounds = self.rounds(lambda: bool(todo))
        for _ in rounds:
            for i in sorted(check & set(todo)):
                try:
                    found = self.find(drafts[i].message_id)
                except StoreError as exc:
                    results[i] = exc
                    todo.remove(i)
                    continue
                if found is not None:
                    results[i] = found
                    todo.remove(i)
            check -= set(results)
            again: list[int] = []
            waiting = list(todo)
            while waiting:
                # as many as the quota has room for now (a batch at most): never idle while
                # there is room, never a request that must wait for more than it needs
                self.pacer.wait(COST["create"])
                fit = min(self.batch_size, self.pacer.fits(COST["create"]))
                chunk, waiting = waiting[:fit], waiting[fit:]
                for i, outcome in zip(chunk, self._batch([drafts[i] for i in chunk]), strict=True):
                    if outcome.error is not None:
                        results[i] = outcome.error
                    elif outcome.retry is not None:
                        again.append(i)
                        last[i] = outcome.retry
                        rounds.saw(outcome.limited)
                        if outcome.unknown:
                            check.add(i)
                    else:
                        results[i] = self._stored(drafts[i], outcome.result)
            todo = again
        for i in todo:
            results[i] = StoreError(
                f"Gmail kept failing ({last.get(i, 'unknown')})",
                "the next run looks for it and tries again",
            )
        return [results[i] for i in range(len(drafts))]

    def conversation(self, thread_id: str) -> list[ThreadMessage] | None:
        """The messages of a conversation (needs the read-only scope), None if it is gone."""
        if not self.capabilities.conversations:
            raise NotImplementedError("gmail.reply_detection is off: conversations are not read")
        from email.utils import parseaddr

        threads = self.service.users().threads()
        try:
            data = self._call(
                lambda: threads.get(
                    userId="me",
                    id=thread_id,
                    format="metadata",
                    metadataHeaders=["From", "Message-ID"],
                ),
                COST["threads"],
            )
        except StoreError as exc:
            if "did not find" in exc.message:
                return None
            raise
        out: list[ThreadMessage] = []
        for m in (data or {}).get("messages") or []:
            headers = {
                h.get("name", "").lower(): h.get("value", "")
                for h in (m.get("payload") or {}).get("headers") or []
            }
            millis = int(m.get("internalDate") or 0)
            labels = frozenset(m.get("labelIds") or ())
            out.append(
                ThreadMessage(
                    headers.get("message-id", "").strip(),
                    parseaddr(headers.get("from", ""))[1].lower(),
                    dt.datetime.fromtimestamp(millis / 1000, dt.UTC).date(),
                    sent="SENT" in labels,
                    draft="DRAFT" in labels,
                )
            )
        return out

    def read_mail(self, marks: dict[str, str], since: dt.date) -> MailRead:
        """The header blocks of the inbox and the sent folder (:mod:`.gmail_mail`)."""
        if not self.mailbox:
            raise NotImplementedError("mailbox.watch is off: the mailbox is not read")
        from outreach.drafts.gmail_mail import read_mail

        return read_mail(self, marks, since)

    def _body(self, draft: Draft) -> dict[str, Any]:
        raw = base64.urlsafe_b64encode(draft.as_bytes()).decode("ascii")
        message: dict[str, Any] = {"raw": raw}
        if draft.thread_id:
            message["threadId"] = draft.thread_id
        return {"message": message}

    def _stored(self, draft: Draft, result: Any) -> Stored:
        return Stored(
            draft.message_id, str(result["id"]), (result.get("message") or {}).get("threadId")
        )

    def _batch(self, chunk: list[Draft]) -> list[_Outcome]:
        """One batch request (a single create goes alone); an outcome per draft."""
        outcomes = [_Outcome() for _ in chunk]
        with self._spending(COST["create"] * len(chunk)):
            return self._send(chunk, outcomes)

    def _send(self, chunk: list[Draft], outcomes: list[_Outcome]) -> list[_Outcome]:
        drafts_api = self.service.users().drafts()
        if len(chunk) == 1:
            try:
                outcomes[0].result = drafts_api.create(
                    userId="me", body=self._body(chunk[0])
                ).execute(num_retries=0)
            except Exception as exc:
                _classify(exc, outcomes[0])
            return outcomes

        def callback(request_id: str, response: Any, exception: BaseException | None) -> None:
            outcome = outcomes[int(request_id)]
            if exception is not None:
                _classify(exception, outcome)
            else:
                outcome.result = response

        batch = self.service.new_batch_http_request(callback=callback)
        for n, draft in enumerate(chunk):
            batch.add(drafts_api.create(userId="me", body=self._body(draft)), request_id=str(n))
        try:
            batch.execute()
        except Exception as exc:
            for outcome in outcomes:
                if outcome.result is None and outcome.error is None:
                    _classify(exc, outcome)
                    outcome.unknown = outcome.unknown or outcome.retry is not None
        for outcome in outcomes:
            if outcome.result is None and outcome.error is None and outcome.retry is None:
                outcome.retry, outcome.unknown = "no answer in the batch", True
        return outcomes


def thread_messages(store: GmailStore, thread_id: str) -> list[ThreadMessage] | None:
    """The messages of a conversation (needs the read-only scope), None if it is gone."""
    return store.conversation(thread_id)
