"""Mailbox awareness for the ``gmail`` store: the header blocks of the inbox and the sent folder.

* ``users.messages.list`` by label (INBOX, SENT), newest first, 500 a page, without ``q`` (a
  token that holds ``gmail.metadata`` could list so too; outreach asks for ``gmail.readonly``,
  see :func:`outreach.auth.scopes`).
* ``users.messages.get`` with ``format=metadata`` and the fields of :data:`MAIL_FIELDS` only: the
  body never leaves Gmail. Gets go in batches of ``gmail.batch_size``, paced like the store's
  other requests (5 units each, 5 a list page), retried as its creates are (429, rate-limit
  403s, 5xx, timeouts); a get is a read, so a retry needs no look first.
* A folder is read back to its mark (the newest ``internalDate`` the last read saw) less
  :data:`MARGIN_MS`, or, without a mark, to the start of the day ``since`` (UTC); the newest
  :data:`MAIL_MAX` at most. Messages inside the margin come again: the reader keeps what it
  has by Message-ID.
* Drafts are no mail exchanged: a message labelled DRAFT is skipped. A message listed and gone
  before its get (404) is skipped. A 403 for the scope stops the night with :class:`AuthError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from outreach.drafts import MAIL_FIELDS, MAIL_HEADER_MAX, MAIL_MAX, Fetched, MailRead
from outreach.drafts.gmail import COST, RATE_REASONS, _classify, _message, _Outcome, _reason
from outreach.errors import AuthError, StoreError

if TYPE_CHECKING:
    from outreach.drafts.gmail import GmailStore

LABELS = {"inbox": "INBOX", "sent": "SENT"}  # MAIL_FOLDERS -> Gmail's system labels
PAGE_SIZE = 500  # messages.list's largest page
MARGIN_MS = 6 * 3600 * 1000  # read this far behind a mark: mail is not filed in date order
SCOPE_HINT = "run 'outreach auth gmail' again: mailbox.watch needs the gmail.readonly scope"
PERMISSION_REASONS = {"insufficientPermissions", "forbidden"}


class _Got(_Outcome):
    """A get's outcome; ``gone``: the message was listed and deleted before the get (404)."""

    def __init__(self) -> None:
        super().__init__()
        self.gone = False


def read_mail(store: GmailStore, marks: dict[str, str], since: dt.date) -> MailRead:
    """:meth:`outreach.drafts.DraftStore.read_mail` for Gmail (see the module's docstring)."""
    messages: list[Fetched] = []
    new_marks: dict[str, str] = {}
    start = int(dt.datetime.combine(since, dt.time(), dt.UTC).timestamp() * 1000)
    for folder, label in LABELS.items():
        mark = _mark(marks.get(folder))
        cutoff = start if mark is None else mark - MARGIN_MS
        newest = mark
        for message in _folder(store, label, cutoff):
            millis = _millis(message)
            newest = millis if newest is None else max(newest, millis)
            messages.append(_fetched(folder, message, millis))
        if newest is not None:
            new_marks[folder] = str(newest)
    return MailRead(messages, new_marks)


def _mark(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:  # not ours (hand-edited state): read from ``since`` again
        return None


def _millis(message: dict[str, Any]) -> int:
    try:
        return int(message.get("internalDate") or 0)
    except (TypeError, ValueError):
        return 0


def _folder(store: GmailStore, label: str, cutoff: int) -> Iterator[dict[str, Any]]:
    """The messages of one label no older than ``cutoff`` (ms), newest first, MAIL_MAX at most;
    drafts left out. Stops going back after the batch that reached past the cutoff."""
    kept = 0
    for ids in _pages(store, label):
        for start in range(0, len(ids), store.batch_size):
            older = False
            for message in _get_many(store, ids[start : start + store.batch_size]):
                if _millis(message) < cutoff:
                    older = True
                    continue
                if "DRAFT" in (message.get("labelIds") or ()):
                    continue
                yield message
                kept += 1
                if kept >= MAIL_MAX:
                    return
            if older:
                return


def _pages(store: GmailStore, label: str) -> Iterator[list[str]]:
    """The message ids of one label, a page at a time (5 units a page)."""
    api = store.service.users().messages()
    token: str | None = None
    while True:

        def listing(page: str | None = token) -> _Checked:
            return _Checked(
                api.list(userId="me", labelIds=[label], maxResults=PAGE_SIZE, pageToken=page)
            )

        try:
            response = store._call(listing, COST["list"])
        except StoreError as exc:
            raise StoreError(f"Gmail did not list {label}: {exc.message}", exc.hint) from None
        response = response or {}
        ids = [str(m["id"]) for m in response.get("messages") or () if m.get("id")]
        if ids:
            yield ids
        token = response.get("nextPageToken")
        if not token:
            return


class _Checked:
    """A request whose 403 for the scope stops the night (:class:`AuthError` passes through
    :meth:`GmailStore._call`); anything else is the store's to judge."""

    def __init__(self, request: Any) -> None:
        self.request = request

    def execute(self, num_retries: int = 0) -> Any:
        from googleapiclient.errors import HttpError

        try:
            return self.request.execute(num_retries=num_retries)
        except HttpError as exc:
            _scope_refused(exc)
            raise


def _scope_refused(exc: Any) -> None:
    if int(exc.resp.status) == 403 and _reason(exc) in PERMISSION_REASONS:
        raise AuthError(
            f"Gmail refused to read the mailbox ({_reason(exc)}: {_message(exc)})", SCOPE_HINT
        )


def _get_many(store: GmailStore, ids: list[str]) -> list[dict[str, Any]]:
    """The messages of ``ids`` (format=metadata), in order, those gone left out: in batches as
    large as the quota has room for, what failed retried with the store's backoff."""
    results: dict[str, dict[str, Any] | None] = {}
    todo, last = list(ids), ""
    rounds = store.rounds(lambda: bool(todo))
    for _ in rounds:
        again: list[str] = []
        waiting = list(todo)
        while waiting:
            store.pacer.wait(COST["get"])
            fit = max(1, min(store.batch_size, store.pacer.fits(COST["get"])))
            chunk, waiting = waiting[:fit], waiting[fit:]
            for mid, outcome in zip(chunk, _batch(store, chunk), strict=True):
                if outcome.error is not None:
                    raise outcome.error
                if outcome.retry is not None:
                    again.append(mid)
                    last = outcome.retry
                    rounds.saw(outcome.limited)
                else:
                    results[mid] = None if outcome.gone else outcome.result
        todo = again
    if todo:
        raise StoreError(
            f"Gmail kept failing while reading the mailbox ({last or 'unknown'})",
            "the next run reads it again; check Gmail's status if this persists",
        )
    return [m for m in (results[i] for i in ids) if m is not None]


def _batch(store: GmailStore, chunk: list[str]) -> list[_Got]:
    """One batch of gets (a single get goes alone); an outcome per message."""
    outcomes = [_Got() for _ in chunk]
    api = store.service.users().messages()

    def get(mid: str) -> Any:
        return api.get(userId="me", id=mid, format="metadata", metadataHeaders=list(MAIL_FIELDS))

    with store._spending(COST["get"] * len(chunk)):
        if len(chunk) == 1:
            try:
                outcomes[0].result = get(chunk[0]).execute(num_retries=0)
            except Exception as exc:
                _classify_get(exc, outcomes[0])
            return outcomes

        def callback(request_id: str, response: Any, exception: BaseException | None) -> None:
            if exception is not None:
                _classify_get(exception, outcomes[int(request_id)])
            else:
                outcomes[int(request_id)].result = response

        batch = store.service.new_batch_http_request(callback=callback)
        for n, mid in enumerate(chunk):
            batch.add(get(mid), request_id=str(n))
        try:
            batch.execute()
        except Exception as exc:
            for outcome in outcomes:
                if outcome.result is None and outcome.error is None and not outcome.gone:
                    _classify(exc, outcome)
    for outcome in outcomes:
        if outcome.result is None and outcome.error is None and not outcome.gone:
            outcome.retry = outcome.retry or "no answer in the batch"
    return outcomes


def _classify_get(exc: BaseException, outcome: _Got) -> None:
    """A get's failure: gone (404), the scope (AuthError), a refusal, or the store's retries."""
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError):
        status = int(exc.resp.status)
        if status == 404:
            outcome.gone = True
            return
        _scope_refused(exc)
        reason = _reason(exc)
        rate_limited = status == 403 and reason in RATE_REASONS
        if not (status in (401, 429) or status >= 500 or rate_limited):
            outcome.error = StoreError(
                f"Gmail answered {status} reading a message: {reason or _message(exc)}",
                "the next run reads the mailbox again",
            )
            return
    _classify(exc, outcome)


def _fetched(folder: str, message: dict[str, Any], millis: int) -> Fetched:
    wanted = {f.lower() for f in MAIL_FIELDS}
    block = bytearray()
    for header in (message.get("payload") or {}).get("headers") or ():
        name, value = str(header.get("name", "")), str(header.get("value", ""))
        if name.lower() not in wanted:
            continue
        value = value.replace("\r", " ").replace("\n", " ")
        line = f"{name}: {value}\r\n".encode("utf-8", "replace")
        if len(block) + len(line) <= MAIL_HEADER_MAX:  # a line that does not fit is left out
            block += line
    thread = message.get("threadId")
    return Fetched(
        folder,
        bytes(block),
        dt.datetime.fromtimestamp(millis / 1000, dt.UTC),
        str(thread) if thread else None,
    )
