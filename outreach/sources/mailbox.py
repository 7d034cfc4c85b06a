"""Mailbox awareness: the headers of mail exchanged with contacts, as interactions.

A store in a mailbox reads the header blocks of the inbox and the sent folder
(:meth:`outreach.drafts.DraftStore.read_mail`, never a body); this module reads them:

* a message to or from any address of a contact is an interaction of that contact ("email from
  Jane", "email to Jane"), kept in the ledger (never in contacts.yaml), so that it resets
  keep-in-touch and shows in the calendar's cheat-sheet and in ``plan``;
* a message from the contact holds their routine notes for ``mailbox.hold_days`` (the planner);
* a message from the contact that answers a note of a sequence (its References or In-Reply-To
  name the note's Message-ID, or it is in the note's conversation) stops the sequence;
* our own draft's Message-ID in the sent folder records the draft as sent.

Not interactions: mail between the user's own addresses only, mailing lists (``List-Id``,
``Precedence: bulk``/``list``/``junk``) and automatic replies (``Auto-Submitted``).

The headers come from strangers: a header block is read whole only up to
:data:`outreach.drafts.MAIL_HEADER_MAX` bytes, a message names at most :data:`MAX_ADDRESSES`
addresses and :data:`MAX_REFS` references, and a message whose headers cannot be read (no
From, garbage, 8-bit bytes) is read as far as it can be or left out. A Date missing, unreadable
or in the future gives way to the mailbox's own date of the message, and no interaction is dated
after the night it was read on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from zoneinfo import ZoneInfo

from outreach.book import Book
from outreach.drafts import MAIL_HEADER_MAX, Fetched

MAX_ADDRESSES = 500  # addresses read of one message (From, To and Cc together)
MAX_REFS = 100  # Message-IDs read of its In-Reply-To and References
_MSGID = re.compile(r"<([^<>\s]{1,998})>")
_BULK = {"bulk", "list", "junk"}


@dataclass(frozen=True)
class Header:
    """What mailbox awareness reads of one message."""

    folder: str
    senders: tuple[str, ...]  # From, lower case
    recipients: tuple[str, ...]  # To and Cc, lower case
    day: dt.date  # in the user's time zone
    message_id: str  # without <>; a digest of the header block when it has none
    refs: tuple[str, ...]  # In-Reply-To and References, without <>
    thread_id: str | None
    bulk: bool  # a mailing list or an automatic reply


@dataclass(frozen=True)
class Exchange:
    """One message with one contact."""

    contact: str
    day: dt.date
    inbound: bool  # from the contact
    header: Header


def _addresses(values: Sequence[str], room: int) -> tuple[str, ...]:
    out: list[str] = []
    try:
        pairs = getaddresses([v[:MAIL_HEADER_MAX] for v in values])
    except Exception:  # a header the email package cannot split: read nothing of it
        return ()
    for _, address in pairs:
        address = address.strip().lower()
        if "@" in address and len(address) <= 254 and address not in out:
            out.append(address)
            if len(out) >= room:
                break
    return tuple(out)


def _day(value: str | None, received: dt.datetime | None, tz: ZoneInfo) -> dt.date | None:
    """The message's day where the user lives: its Date, unless that is missing, unreadable or
    later than the mailbox received it (a clock off, or a lie); then the mailbox's date."""
    when: dt.datetime | None = None
    if value:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        if when is not None and received is not None and when > received + dt.timedelta(hours=24):
            when = None
    when = when or received
    if when is None:
        return None
    try:
        return when.astimezone(tz).date()
    except (OverflowError, ValueError):
        return None


def read_header(fetched: Fetched, tz: ZoneInfo) -> Header | None:
    """One message's header block as :class:`Header`; None when it names no sender or no day."""
    block = fetched.headers[:MAIL_HEADER_MAX]
    try:
        msg = BytesHeaderParser(policy=compat32).parsebytes(block)
    except Exception:  # the parser is lenient; anything it still raises leaves the message out
        return None

    def values(name: str) -> list[str]:
        return [str(v) for v in (msg.get_all(name) or [])]

    senders = _addresses(values("From"), 10)
    if not senders:
        return None
    recipients = _addresses(values("To") + values("Cc"), MAX_ADDRESSES)
    dates = values("Date")
    day = _day(dates[0] if dates else None, fetched.received, tz)
    if day is None:
        return None
    ids = _MSGID.findall(" ".join(values("Message-ID")))
    message_id = ids[0] if ids else "sha256:" + hashlib.sha256(block).hexdigest()[:32]
    refs = list(
        dict.fromkeys(_MSGID.findall(" ".join(values("In-Reply-To") + values("References"))))
    )
    auto = " ".join(values("Auto-Submitted")).strip().lower()
    bulk = (
        bool(values("List-Id"))
        or " ".join(values("Precedence")).strip().lower() in _BULK
        or (bool(auto) and auto != "no")
    )
    return Header(
        fetched.folder,
        senders,
        recipients,
        day,
        message_id,
        tuple(refs[-MAX_REFS:]),
        fetched.thread_id,
        bulk,
    )


def own_addresses(book: Book) -> frozenset[str]:
    """The user's own addresses: the sender, meetings.me and the IMAP login when it is one."""
    s = book.settings
    own = {s.sender.email.lower(), *(a.lower() for a in s.meetings.me)}
    if s.imap.username and "@" in s.imap.username:
        own.add(s.imap.username.lower())
    return frozenset(own)


def exchanges(book: Book, headers: Iterable[Header], today: dt.date) -> list[Exchange]:
    """The messages with contacts, one per message and contact: from them (inbound), or to
    them. Mail among the user's own addresses, mailing lists and automatic replies are none;
    no exchange is dated after ``today``."""
    own = own_addresses(book)
    index: dict[str, list[str]] = {}
    for contact in book.contacts:
        for a in (contact.email.work, contact.email.personal):
            if a:
                index.setdefault(a.lower(), []).append(contact.id)
    out: list[Exchange] = []
    for h in headers:
        if h.bulk:
            continue
        day = min(h.day, today)
        inbound = {c for a in h.senders if a not in own for c in index.get(a, ())}
        others = {c for a in h.recipients if a not in own for c in index.get(a, ())} - inbound
        out += [Exchange(c, day, True, h) for c in sorted(inbound)]
        out += [Exchange(c, day, False, h) for c in sorted(others)]
    return out


def summary(book: Book, exchange: Exchange) -> str:
    """``email from Jane`` or ``email to Jane`` (the contact's first name)."""
    name = book.contact(exchange.contact).name.first
    return f"email {'from' if exchange.inbound else 'to'} {name}"
