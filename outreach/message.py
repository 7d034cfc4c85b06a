"""Touch + rendering -> an RFC 5322 message with a deterministic Message-ID."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from outreach import addresses, mime, render
from outreach.addresses import Pair
from outreach.book import Book
from outreach.errors import RenderError
from outreach.model import Touch
from outreach.touchkey import TouchKey

DRAFT_HOUR = 7  # the Date header: 07:00 on the run date, in the user's time zone


class _Written(str):
    """A header value that we encoded and folded ourselves (address headers, a subject that
    holds ``=?``): stored and written as it is, never parsed and refolded by the email package,
    which decodes encoded words and writes the decoded text back unquoted."""


def written(value: str) -> str:
    """A header value written as it is (one line of ASCII text that needs no folding)."""
    return _Written(value)


class _Folded(_Written):
    """A header the email package would parse and fold, kept as it folds it: written as it is,
    read as the text it was made from (``msg["Subject"]`` is the subject, as when parsed)."""

    text: str

    def __new__(cls, folded: str, text: str) -> _Folded:
        self = super().__new__(cls, folded)
        self.text = text
        return self


class _Policy(EmailPolicy):
    """SMTP's policy, but an ASCII subject is folded between its words with the first words on
    the ``Subject:`` line (Python's folder moves a subject that fits on a line of its own to the
    next line whole: ``Subject:`` CRLF SP ``Thought of you: ...``, which some readers show with
    a leading space), and `_Written` values are written as they are."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if isinstance(value, _Written):
            return name, value
        return super().header_store_parse(name, value)

    def header_max_count(self, name: str) -> int | None:
        """As the email package's registry says, without building a header class for the
        question (its registry makes a new class at every lookup): a header it does not
        limit (``X-Unsent``, which the dir store adds to every draft) is asked nothing."""
        if name.lower() not in _LIMITED:
            return None
        return super().header_max_count(name)

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if isinstance(value, _Folded):
            return super().header_fetch_parse(name, value.text)
        return super().header_fetch_parse(name, value)

    def fold(self, name: str, value: Any) -> str:
        if isinstance(value, _Written):
            return f"{name}: {value}{self.linesep}"
        folded = _fold_words(name, str(value), self.max_line_length or 998, self.linesep)
        return folded if folded is not None else super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if isinstance(value, _Written):
            return self.fold(name, value).encode("ascii")
        folded = _fold_words(name, str(value), self.max_line_length or 998, self.linesep)
        return folded.encode("ascii") if folded is not None else super().fold_binary(name, value)


# the headers the email package allows once or a few times in a message (Subject, To, ...)
_LIMITED = frozenset(
    name
    for name, cls in HeaderRegistry().registry.items()
    if getattr(cls, "max_count", None) is not None
)


def _fold_words(name: str, value: str, width: int, linesep: str) -> str | None:
    """``Subject: w1 w2`` folded before the spaces between words, lines at most ``width``; None
    when the default folder is needed (not a subject, not plain ASCII, a word that is too long)."""
    if name.lower() != "subject" or not value.isascii() or not value.isprintable():
        return None
    words = value.split(" ")
    if any(len(w) > width - 2 for w in words) or "" in words:
        return None
    lines, line = [], f"{name}:"
    for word in words:
        if len(line) + 1 + len(word) > width and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + word
    return linesep.join([*lines, line]) + linesep


_SMTP = _Policy(linesep="\r\n")


def _ids(name: str, ids: Sequence[str], width: int = 78) -> _Written:
    """A Message-ID, In-Reply-To or References value, written as it is: each ``<id>`` whole,
    beside the header's name (a long one too: a line may hold 998), the next ones folded before
    the space between them. Python's folder would move a long first id to a line of its own."""
    lines, line = [], ids[0]
    used = len(name) + 2 + len(line)
    for mid in ids[1:]:
        if used + 1 + len(mid) > width:
            lines.append(line)
            line, used = mid, 1 + len(mid)
        else:
            line, used = f"{line} {mid}", used + 1 + len(mid)
    return _Written("\r\n ".join([*lines, line]))


def message_id(key: str, sender_email: str) -> str:
    """``<hash@sender-domain>``: the same key gives the same id on every run and machine."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    domain = addresses.ascii_domain(sender_email.rsplit("@", 1)[-1])
    return f"<{digest}.outreach@{domain}>"


def context_for(book: Book, touch: Touch, today: dt.date) -> dict[str, Any]:
    """The documented template context (README "Template context")."""
    contact = book.contact(touch.contact_id)
    camp = book.campaign(touch.campaign_id)
    s = book.settings.sender
    occ = touch.occasion
    return {
        "contact": render.contact_context(contact, contact.address(camp.to), today),
        "sender": {
            "name": s.name,
            "first": s.name.split()[0],
            "email": s.email,
            "company": s.company,
            "signature": s.signature or s.name.split()[0],
        },
        "occasion": {
            "kind": occ.kind,
            "date": occ.date,
            "label": occ.label,
            "person": occ.person,
            "years": occ.years,
            "field": occ.field,
            "days_until": (occ.date - today).days,
            "last_touch": occ.last_touch,
        },
        "campaign": {"id": camp.id, "name": camp.title},
        "date": today,
        "today": today,
        "meeting": _meeting(occ.meeting),
        "article": _article(occ.article),
        "intro": _intro(book, occ, camp.to, today),
    }


def _intro(book: Book, occ: Any, which: Any, today: dt.date) -> dict[str, Any] | None:
    """An introduction's values: the other person (their contact context), this note's role
    (``from``: they will call; ``to``: they benefit; none when both are in To), why, and the
    colleague (name, email, role) when one is introduced."""
    intro = occ.intro
    if intro is None:
        return None
    other = None
    if occ.person:
        c = book.contact(occ.person)
        other = render.contact_context(c, c.address(which), today)
    col = intro.colleague
    return {
        "other": other,
        "role": occ.field if occ.field in ("from", "to") else None,
        "why": intro.why,
        "colleague": {"name": col.name, "email": col.email, "role": col.role} if col else None,
        "date": intro.date,
    }


def _meeting(m: Any) -> dict[str, Any] | None:
    """A meeting's values; what the calendar entry lacks (a title, a description, a location:
    real exports have untitled events) is ``none``, for the template to test."""
    if m is None:
        return None
    return {
        "title": m.title or None,
        "date": m.day,
        "start": m.start,
        "description": m.description or None,
        "location": m.location or None,
        "attendees": list(m.attendees),
    }


def _article(a: Any) -> dict[str, Any] | None:
    """An article's values; a feed item has no personal note: ``note`` is then ``none``."""
    if a is None:
        return None
    return {
        "title": a.title,
        "url": a.url,
        "note": a.note or None,
        "tags": list(a.tags),
        "date": a.date,
    }


@dataclass(frozen=True)
class Thread:
    """Where a sequence's later note goes: the same conversation, the same subject."""

    subject: str
    references: tuple[str, ...]  # the Message-IDs of the earlier notes, oldest first
    thread_id: str | None = None  # the mailbox's conversation id, where it has one


def thread_for(book: Book, key: str, first_subject: str, thread_id: str | None) -> Thread:
    """The thread of note n of a sequence: its earlier notes' Message-IDs derive from the keys."""
    k = TouchKey.parse(key)
    keys = [str(k.at_step(n)) for n in range(1, k.step)]
    sender = book.settings.sender.email
    return Thread(first_subject, tuple(message_id(k, sender) for k in keys), thread_id)


class Draft:
    """A composed draft. Its MIME message is built when first asked for (``message``): a store
    that writes it asks, ``run --dry-run`` (the memory store) never does. What can go wrong in a
    build is checked when the draft is composed, so a dry run fails where a run fails."""

    __slots__ = (
        "_build", "_data", "_message", "key", "message_id", "staged", "subject", "thread_id", "to"
    )

    def __init__(
        self,
        key: str,
        message_id: str,
        message: EmailMessage | Callable[[], EmailMessage],
        to: str,
        subject: str,
        thread_id: str | None = None,  # the conversation to draft into (a sequence's later steps)
    ) -> None:
        self.key = key
        self.message_id = message_id
        self.to = to
        self.subject = subject
        self.thread_id = thread_id
        self._message: EmailMessage | None = None
        self._data: bytes | None = None
        self.staged: str | None = None  # where the store staged its bytes (DraftStore.stage)
        self._build: Callable[[], EmailMessage] | None = None
        if isinstance(message, EmailMessage):
            self._message = message
        else:
            self._build = message

    @classmethod
    def composed(
        cls,
        key: str,
        message_id: str,
        data: bytes | None,
        again: Callable[[], EmailMessage],
        to: str,
        subject: str,
        thread_id: str | None,
        staged: str | None = None,
    ) -> Draft:
        """A draft composed elsewhere (:mod:`outreach.composer`): its bytes if they were sent,
        where they were staged if they were, and how to build its message here (``again``) when
        something asks for the message."""
        draft = cls(key, message_id, again, to, subject, thread_id)
        draft._data = data
        draft.staged = staged
        return draft

    @property
    def message(self) -> EmailMessage:
        """The RFC 5322 message, built once."""
        if self._message is None:
            assert self._build is not None
            self._message, self._build = self._build(), None
        return self._message

    def as_bytes(self, *, unsent: bool = False) -> bytes:
        """The message as its policy writes it (SMTP line ends), built once. With ``unsent``
        an ``X-Unsent: 1`` header ends the header block, as if it had been added last (a .eml
        file that mail programs open as a draft to edit)."""
        data = self._data
        if data is None:
            data = self._data = self.message.as_bytes()
        if not unsent:
            return data
        head, blank, body = data.partition(b"\r\n\r\n")
        return b"".join((head, b"\r\nX-Unsent: 1", blank, body))

    def __repr__(self) -> str:
        return f"Draft({self.key!r}, {self.message_id!r}, to={self.to!r})"


def _address_header(header: str, pairs: Sequence[Pair], tfile: str) -> _Written:
    """An address header from (name, address) pairs, as `addresses.header_value` writes it."""
    try:
        return _Written(addresses.header_value(header, pairs))
    except addresses.AddressRefused as exc:
        raise RenderError(exc.message, exc.hint, template=tfile) from None


def _sender_header(name: str, email: str, tfile: str) -> _Written:
    """The From header: the same for every draft of a night, written once."""
    try:
        return _sender_value(name, email)
    except addresses.AddressRefused as exc:
        raise RenderError(exc.message, exc.hint, template=tfile) from None


@functools.lru_cache(maxsize=16)
def _sender_value(name: str, email: str) -> _Written:
    return _Written(addresses.header_value("From", [(name, email)]))


def _subject(subject: str, tfile: str) -> str:
    """The Subject header's value. One that holds ``=?`` (contact data that looks like an
    encoded word) is written as encoded words, so that a reader shows it as it is and nothing
    in it becomes a header."""
    bad = addresses.bad_character(subject)
    if bad:
        raise RenderError(
            f"the subject holds {bad}", "a header must be one line of text", template=tfile
        )
    if "=?" not in subject:
        return subject
    header = Header(subject, "utf-8", maxlinelen=78, header_name="Subject")
    return _Written(header.encode(linesep="\r\n"))


def _stored_subject(value: str) -> Any:
    """The Subject as the policy would store it, without parsing it where the folded line is
    known: a plain ASCII subject folded between its words (its parse gives the same text back),
    a value we encoded ourselves, or any other subject as the email package folds it (worked out
    once per subject text: "Happy birthday, Zoë!" is one text for every Zoë). A subject whose
    folded line does not start beside ``Subject:`` is parsed as before."""
    if isinstance(value, _Written):
        return value
    folded = _fold_words("Subject", value, _SMTP.max_line_length or 998, "\r\n")
    if folded is not None:
        return _Written(folded[len("Subject: ") : -2])
    return _folded_subject(value)


@functools.lru_cache(maxsize=4096)
def _folded_subject(value: str) -> Any:
    """The Subject the email package's way: parsed, then folded as its generator folds it; kept
    as that folded text (reading it back parses it: the same subject)."""
    parsed = _SMTP.header_store_parse("Subject", value)[1]
    folded = _SMTP.fold("Subject", parsed)
    if folded.startswith("Subject: ") and folded.endswith("\r\n") and folded.isascii():
        return _Folded(folded[len("Subject: ") : -2], value)
    return parsed


@functools.cache
def _date(day: dt.date, timezone: str) -> str:
    """The Date header's value: 07:00 on ``day`` in ``timezone``, as RFC 5322 writes it."""
    when = dt.datetime.combine(day, dt.time(DRAFT_HOUR), ZoneInfo(timezone))
    return format_datetime(when)


def compose(
    book: Book, env: jinja2.Environment, touch: Touch, today: dt.date, thread: Thread | None = None
) -> Draft:
    """Render the touch's template for its contact and build the message (a later note of a
    sequence goes into ``thread``: same subject, In-Reply-To and References)."""
    contact = book.contact(touch.contact_id)
    camp = book.campaign(touch.campaign_id)
    to_addr = contact.address(camp.to)
    if to_addr is None:
        raise RenderError(f"{contact.id} has no email address", "add email.work or email.personal")
    n = touch.step
    template = camp.template if n == 1 else camp.steps[n - 2].template
    if template is None:
        raise RenderError(f"campaign {camp.id} has no template", "add 'template:' to draft notes")
    rendered = render.render(env, template, context_for(book, touch, today))
    s = book.settings.sender
    mid = message_id(touch.key, s.email)
    tfile = rendered.file
    to_pairs, cc = [(contact.name.full, to_addr)], list(rendered.cc)
    intro = touch.occasion.intro
    if intro is not None and touch.occasion.field == "together" and touch.occasion.person:
        other = book.contact(touch.occasion.person)
        other_addr = other.address(camp.to)
        if other_addr is None:
            raise RenderError(f"{other.id} has no email address", "add email.work or personal")
        to_pairs.append((other.name.full, other_addr))
    if intro is not None and intro.colleague is not None:
        cc.append((intro.colleague.name, intro.colleague.email))
    headers: list[tuple[str, Any]] = [
        ("From", _sender_header(s.name, s.email, tfile)),
        ("To", _address_header("To", to_pairs, tfile)),
    ]
    for header, pairs in (
        ("Cc", cc),
        ("Bcc", rendered.bcc),
        ("Reply-To", rendered.reply_to),
    ):
        if pairs:
            headers.append((header, _address_header(header, pairs, tfile)))
    subject = thread.subject if thread is not None else rendered.subject
    checked_subject = _subject(subject, tfile)
    # (what a build could refuse, a part that is not UTF-8, render refused: no surrogate)
    parts = [("plain", rendered.text), ("html", rendered.html)]
    date = _date(today, book.settings.timezone)

    def build() -> EmailMessage:
        """The rest cannot fail: the Subject, threading, Date and Message-ID headers, the parts."""
        headers.append(("Subject", _stored_subject(checked_subject)))
        if thread is not None and thread.references:
            headers.append(("In-Reply-To", _ids("In-Reply-To", thread.references[-1:])))
            headers.append(("References", _ids("References", thread.references)))
        headers.append(("Date", _Written(date)))
        headers.append(("Message-ID", _ids("Message-ID", [mid])))
        # A fixed boundary keeps the bytes of a draft the same on every run.
        return mime.build(_SMTP, headers, f"=_outreach_{mid[1:17]}", parts, _Written)

    return Draft(
        touch.key, mid, build, to_addr, subject, thread.thread_id if thread is not None else None
    )
