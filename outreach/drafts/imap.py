"""The ``imap`` store: each draft APPENDed with the ``\\Draft`` flag to the mailbox's drafts
folder, for any provider (Fastmail, iCloud, Gmail with an app password, Dovecot, Exchange).

* One connection per run (:mod:`outreach.drafts.imap_conn`: the password, TLS verified, the
  login, the folders), made again when it drops.
* Exactly once: when the outcome of an APPEND is unknown (a timeout, a dropped connection, a
  BYE), the drafts folder is searched for the draft's Message-ID (``UID SEARCH HEADER
  Message-ID``) before it is appended again. The UID the server gives (UIDPLUS ``APPENDUID``)
  is recorded with the folder's UIDVALIDITY. Its crash point: ``after-append`` (the server took
  the draft; the ledger does not know yet).
* Bounded retries: a command the server drops or refuses for now (``NO [UNAVAILABLE]``) is tried
  again on a new connection, :data:`ATTEMPTS` times at most, then fails its draft only (the next
  run retries it). A server that cannot be reached at all (:data:`DOWN_AFTER` refused connects in
  a row, or two without an answer: 10 s, then 5 s) ends the night with
  :class:`MailboxUnreachable`, in seconds.
* Mailbox awareness: :meth:`ImapStore.read_mail` reads the header fields of
  :data:`outreach.drafts.MAIL_FIELDS` (``BODY.PEEK[HEADER.FIELDS ...]``, the first
  :data:`outreach.drafts.MAIL_HEADER_MAX` bytes at most; never a body, and nothing is marked
  read) of the inbox and the sent folder, from the UID after the last read on (the first read:
  since ``mailbox.lookback_days``).
"""

from __future__ import annotations

import datetime as dt
import functools
import imaplib
import random
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from outreach.drafts import (
    MAIL_FIELDS,
    MAIL_HEADER_MAX,
    MAIL_MAX,
    BaseStore,
    Capabilities,
    Fetched,
    MailRead,
    Stored,
)
from outreach.drafts import imap_conn as ic
from outreach.errors import NOTHING_LOST, MailboxUnreachable, StoreError
from outreach.faults import crash_point
from outreach.message import Draft
from outreach.model import ImapSettings

T = TypeVar("T")

ATTEMPTS = 30  # tries of one command on a server that answers but fails it for now
DOWN_AFTER = 3  # connects in a row refused (or 2 unanswered): the server is down
BATCH = 20  # drafts recorded pending together (a chunk); each is its own APPEND
FETCH_GROUP = 200  # messages per FETCH
SEARCH_SPAN = 4 * MAIL_MAX  # UIDs a read searches at most (the newest): a bounded answer
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.I)
_UID = re.compile(rb"\bUID (\d+)", re.I)
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"', re.I)
_FIELDS = " ".join(f.upper() for f in MAIL_FIELDS)


class ImapStore(BaseStore):
    name = "imap"

    def __init__(
        self,
        settings: ImapSettings,
        root: Path,
        *,
        watch: bool = False,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self.root = root
        self.watch = watch  # mailbox.watch: the sent folder is needed too
        self.sleep = sleep or time.sleep
        self.retries = 0  # how many retries this store made (for reports and tests)
        self._conn: imaplib.IMAP4 | None = None
        self._secret: str | None = None
        self._folders: ic.Folders | None = None
        self._selected: tuple[str, str] | None = None  # (folder and mode, its UIDVALIDITY)
        self._refused = 0  # connects in a row refused
        self._silent = 0  # connects or commands in a row without an answer

    # ----------------------------------------------------------------- the protocol

    @property
    def where(self) -> str:
        folder = ic.utf7_decode(self._folders.drafts) if self._folders else "drafts"
        return f"imap://{self.settings.username}@{self.settings.host}/{folder}"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(batch_size=BATCH, mailbox=True)

    def check(self) -> None:
        """Log in and find the folders now: a setting that cannot work stops the night before
        anything is recorded."""
        self._run(lambda conn: None)

    def find(self, message_id: str) -> Stored | None:
        return self._run(lambda conn: self._search(conn, message_id))

    def create(self, draft: Draft) -> Stored:
        unknown = False

        def append(conn: imaplib.IMAP4) -> Stored:
            nonlocal unknown
            if unknown:  # the last APPEND may have been carried out: look before appending
                hit = self._search(conn, draft.message_id)
                if hit is not None:
                    return hit
            folder = self._drafts()
            unknown = True
            try:
                typ, data = conn.append(ic.quote(folder), r"(\Draft \Seen)", None, draft.as_bytes())
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as exc:  # BAD: the server will not take it
                unknown = False
                raise StoreError(
                    f"the IMAP server refused the draft: {exc}", NOTHING_LOST
                ) from None
            crash_point("after-append")
            if typ != "OK":
                unknown = False
                text = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
                if any(f"[{code}" in text for code in ic.TRANSIENT):
                    raise ic.Transient(f"APPEND: {text}", unknown=False)
                raise StoreError(
                    f"the IMAP server refused the draft: {text[:200]}",
                    "check the drafts folder and the mailbox's quota; " + NOTHING_LOST,
                )
            m = _APPENDUID.search(b" ".join(d for d in data if isinstance(d, bytes)))
            if m is None:  # no UIDPLUS: find the UID it got
                hit = self._search(conn, draft.message_id)
                return hit or Stored(draft.message_id, f"{folder};UID=?")
            return Stored(draft.message_id, _ref(folder, m.group(1), m.group(2)))

        return self._run(append)

    def read_mail(self, marks: dict[str, str], since: dt.date) -> MailRead:
        out: list[Fetched] = []
        new_marks = dict(marks)
        for kind in ("inbox", "sent"):
            folder = "INBOX" if kind == "inbox" else self._sent()
            mark = marks.get(kind)
            validity, uids, top = self._run(
                functools.partial(self._new_uids, folder=folder, mark=mark, since=since)
            )
            uids = uids[-MAIL_MAX:]
            for start in range(0, len(uids), FETCH_GROUP):
                group = uids[start : start + FETCH_GROUP]
                out += self._run(
                    functools.partial(self._fetch, folder=folder, kind=kind, uids=group)
                )
            last = max([top, *uids])
            new_marks[kind] = f"{validity}:{last}"
        return MailRead(out, new_marks)

    # ----------------------------------------------------------------- connection and retries

    def _run(self, op: Callable[[imaplib.IMAP4], T]) -> T:
        """``op`` on a live connection; again on a new one after a transient fault."""
        last = ""
        for attempt in range(ATTEMPTS):
            try:
                conn = self._connection()
                result = op(conn)
                self._silent = 0
                return result
            except ic.Transient as exc:
                last = str(exc)
            except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
                last = str(exc) or type(exc).__name__
                self._drop()
                if isinstance(exc, socket.timeout | TimeoutError):
                    self._silent += 1
                    if self._silent >= 2:
                        raise MailboxUnreachable(
                            f"the IMAP server {self._host()} does not answer"
                        ) from None
            except (
                imaplib.IMAP4.error
            ) as exc:  # BAD to a command of ours, or a NO we did not expect
                last = str(exc)
                self._drop()
            self.retries += 1
            self._pause(attempt)
        raise StoreError(
            f"the IMAP server {self._host()} failed {ATTEMPTS} times in a row: {last[:200]}",
            NOTHING_LOST,
        )

    def _connection(self) -> imaplib.IMAP4:
        if self._conn is not None:
            return self._conn
        if self._secret is None:
            self._secret = ic.password(self.settings, self.root)
        try:
            wait = ic.RETRY_CONNECT_SECONDS if self._silent else ic.CONNECT_SECONDS
            conn = ic.connect(self.settings, self.root, self._secret, wait)
        except MailboxUnreachable as exc:
            silent = "no answer" in exc.message
            self._silent += silent
            self._refused += not silent
            if self._refused >= DOWN_AFTER or self._silent >= 2:
                raise
            raise ic.Transient(exc.message, unknown=True) from None
        self._refused = 0
        self._conn, self._selected = conn, None
        if self._folders is None:
            try:
                self._folders = ic.find_folders(conn, self.settings, sent=self.watch)
            except BaseException:
                self._drop()
                raise
        return conn

    def _drop(self) -> None:
        conn, self._conn, self._selected = self._conn, None, None
        if conn is not None:
            ic.shut(conn)

    def _pause(self, attempt: int) -> None:
        base = min(0.02 * 2**attempt, 0.5)
        self.sleep(base * (0.5 + random.random()))

    def _host(self) -> str:
        return f"{self.settings.host}:{ic.port_of(self.settings)}"

    # ----------------------------------------------------------------- commands

    def _drafts(self) -> str:
        assert self._folders is not None
        return self._folders.drafts

    def _sent(self) -> str:
        self._run(lambda conn: None)
        assert self._folders is not None
        if self._folders.sent is None:  # made without mailbox.watch: find it now
            self._folders = self._run(lambda c: ic.find_folders(c, self.settings, sent=True))
        assert self._folders.sent is not None
        return self._folders.sent

    def _select(
        self, conn: imaplib.IMAP4, folder: str, *, readonly: bool = False, again: bool = True
    ) -> str:
        """Select ``folder``; its UIDVALIDITY (its UIDNEXT is then in ``conn.response``).
        Without ``again``, a folder selected already (so, read-only) stays so."""
        key = f"{folder}:{readonly}"
        if not again and self._selected is not None and self._selected[0] == key:
            return self._selected[1]
        typ, data = conn.select(ic.quote(folder), readonly=readonly)
        if typ != "OK":
            text = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
            raise ic.Transient(f"SELECT {folder}: {text}", unknown=False)
        _, found = conn.response("UIDVALIDITY")
        validity = (found[0] or b"0").decode() if found and found[0] else "0"
        self._selected = (key, validity)
        return validity

    def _search(self, conn: imaplib.IMAP4, message_id: str) -> Stored | None:
        folder = self._drafts()
        validity = self._select(conn, folder)
        typ, data = conn.uid("SEARCH", "UNDELETED", "HEADER", "Message-ID", ic.quote(message_id))
        if typ != "OK":
            raise ic.Transient(f"SEARCH: {data!r}", unknown=False)
        uids = (data[0] or b"").split() if data else []
        if not uids:
            return None
        return Stored(message_id, _ref(folder, validity.encode(), uids[0]))

    def _new_uids(
        self, conn: imaplib.IMAP4, folder: str, mark: str | None, since: dt.date
    ) -> tuple[str, list[int], int]:
        """The folder's UIDVALIDITY, the UIDs to read, and the last UID read or known (where the
        next read starts when there is nothing to read)."""
        validity = self._select(conn, folder, readonly=True)
        _, nxt = conn.response("UIDNEXT")
        top = int(nxt[0]) - 1 if nxt and nxt[0] and nxt[0].isdigit() else 0
        after = _mark_uid(mark, validity)
        span = f"{max((after or 0) + 1, top + 1 - SEARCH_SPAN, 1)}:*"
        if after is not None:
            typ, data = conn.uid("SEARCH", "UID", span)
        else:
            day = f"{since.day:02d}-{_MONTHS[since.month - 1]}-{since.year}"
            typ, data = conn.uid("SEARCH", "UID", span, "OR", "SINCE", day, "SENTSINCE", day)
        if typ != "OK":
            raise ic.Transient(f"SEARCH: {data!r}", unknown=False)
        uids = sorted(int(u) for u in (data[0] or b"").split() if u.isdigit()) if data else []
        if after is not None:
            uids = [u for u in uids if u > after]  # "n:*" names the last message even if older
            top = max(top, after)
        return validity, uids, top

    def _fetch(self, conn: imaplib.IMAP4, folder: str, kind: str, uids: list[int]) -> list[Fetched]:
        self._select(conn, folder, readonly=True, again=False)
        what = f"(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS ({_FIELDS})]<0.{MAIL_HEADER_MAX}>)"
        typ, data = conn.uid("FETCH", ",".join(str(u) for u in uids), what)
        if typ != "OK":
            raise ic.Transient(f"FETCH: {data!r}", unknown=False)
        out: list[Fetched] = []
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                meta, block = item
                out.append(Fetched(kind, bytes(block)[:MAIL_HEADER_MAX], _internal(bytes(meta))))
        return out


def _ref(folder: str, validity: bytes, uid: bytes) -> str:
    return f"{ic.utf7_decode(folder)};UIDVALIDITY={validity.decode()};UID={uid.decode()}"


def _mark_uid(mark: str | None, validity: str) -> int | None:
    """The last UID read of a folder, when the mark is of this UIDVALIDITY."""
    if not mark:
        return None
    got, _, last = mark.partition(":")
    if got != validity or not last.isdigit():
        return None  # the folder was made anew: read it again from lookback_days
    return int(last)


def _internal(meta: bytes) -> dt.datetime | None:
    m = _INTERNALDATE.search(meta)
    if m is None:
        return None
    try:
        return dt.datetime.strptime(m.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None
