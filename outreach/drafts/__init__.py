"""Draft stores: one protocol, several backends (``dir``, ``gmail``, ``imap``, ``memory``).

:class:`DraftStore` declares everything the executor (:mod:`outreach.executor`) may ask of a
store, and :class:`Capabilities` what a store may lack. The executor asks the protocol only,
never a store's type or name, so a new store is one module here plus a line in
:func:`open_store`. :class:`BaseStore` gives the defaults of a store that can do nothing more
than find and create (no batches, no conversations, nothing to check or clean; ``find_for``
asks ``find``).

Every store answers one question and does one thing: is a draft with this Message-ID already
there (crash recovery asks before writing again), and create these drafts. No store sends mail.
A store in a mailbox (``gmail``, ``imap``) can also read the headers of the mail in it
(:meth:`DraftStore.read_mail`, for mailbox awareness); never a body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from outreach.errors import StoreError
from outreach.message import Draft
from outreach.model import Settings
from outreach.paths import resolve


@dataclass(frozen=True)
class Stored:
    """Where a draft ended up: a path, or a provider's draft id."""

    message_id: str
    ref: str
    thread_id: str | None = None  # the conversation, where the store has one (Gmail)


@dataclass(frozen=True)
class Capabilities:
    """What a store can do beyond finding and creating drafts. The executor reads these and
    never probes a store's attributes or type."""

    #: how many drafts one ``create_many`` call takes together (1: the store has no batches);
    #: the executor composes that many, records them pending in one transaction, calls
    #: ``create_many`` once, and records the outcome in one transaction (a chunk)
    batch_size: int = 1
    #: ``conversation()`` can tell what became of a draft (sent, deleted unsent) and whether the
    #: contact replied (Gmail with ``reply_detection``); without it nothing is watched
    conversations: bool = False
    #: ``create`` reads each draft's message (its bytes); False: only its key and Message-ID
    #: (the memory store), so a draft composed for it need not build its message
    reads_messages: bool = True
    #: ``stage()`` can write a draft's bytes ahead, from another process (the composer's
    #: helper), to a place that is no draft until ``create`` makes it one (the ``dir`` store)
    stages: bool = False
    #: ``read_mail()`` can read the headers of the mail in the inbox and the sent folder
    #: (the ``gmail`` and ``imap`` stores)
    mailbox: bool = False


#: the header fields read of a message for mailbox awareness (never its body)
MAIL_FIELDS = (
    "From",
    "To",
    "Cc",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "List-Id",
    "Precedence",
    "Auto-Submitted",
)
MAIL_FOLDERS = ("inbox", "sent")
#: the backends whose store is a mailbox (Capabilities.mailbox): what reading mail can open
#: without asking the store first (plan and the dry run use the memory store)
MAILBOX_BACKENDS = ("gmail", "imap")
MAIL_MAX = 5000  # messages read of one folder in one run at most (the newest)
MAIL_HEADER_MAX = 65536  # bytes kept of one message's header block


@dataclass(frozen=True)
class Fetched:
    """One message as the mailbox gave it for mailbox awareness: its header block, never its
    body."""

    folder: str  # "inbox" or "sent" (MAIL_FOLDERS)
    headers: bytes  # the fields of MAIL_FIELDS the message has, as "Name: value\r\n" lines
    received: dt.datetime | None = None  # the mailbox's own date of it, aware (INTERNALDATE)
    thread_id: str | None = None  # the mailbox's conversation id, where it has one (Gmail)


@dataclass(frozen=True)
class MailRead:
    """What one :meth:`DraftStore.read_mail` read, and where the next one starts."""

    messages: list[Fetched]
    marks: dict[str, str]  # per folder: the store's own note of how far it read (opaque)


@dataclass(frozen=True)
class ThreadMessage:
    """One message of a draft's conversation, as far as watching it needs."""

    message_id: str
    sender: str  # the address, lower case ("" when the mailbox does not say)
    day: dt.date
    sent: bool  # the mailbox holds it as sent
    draft: bool  # it is still a draft


@runtime_checkable
class DraftStore(Protocol):
    """Everything a store offers the executor."""

    #: the backend's name, recorded with each run ("dir", "gmail", "memory")
    name: str

    @property
    def where(self) -> str:
        """Where drafts go, for the run's last line ("in ...") and its failure lines."""
        ...

    @property
    def capabilities(self) -> Capabilities:
        """What this store can do beyond find and create."""
        ...

    def check(self) -> None:
        """Before anything is recorded: raise an :class:`outreach.errors.OutreachError` when the
        store cannot hold a single draft (the ``dir`` store's folder is a file, say)."""
        ...

    def clean(self) -> None:
        """Remove what a crash left behind that is no draft (the ``dir`` store's temporary
        files); run before crash recovery."""
        ...

    def find(self, message_id: str) -> Stored | None:
        """The stored draft with this Message-ID, if there is one (crash recovery, and a touch
        tried before: the draft may exist although we never heard back)."""
        ...

    def find_for(self, key: str, message_id: str) -> Stored | None:
        """The stored draft of the touch ``key`` with this Message-ID, if there is one. What a
        night asks (recovering pending rows, a touch tried before): a store whose place for a
        draft follows from its key looks there only, so a night does not grow with history."""
        ...

    def stage(self, draft: Draft) -> str:
        """Write the draft's bytes where no reader takes them for a draft yet; what to hand
        ``create`` with it (``draft.staged``). Any process may call it, before the draft is
        recorded pending; ``clean`` removes what was staged and never created. Raises OSError.
        Called only when ``capabilities.stages``."""
        ...

    def create(self, draft: Draft) -> Stored:
        """Store the draft (from its staged bytes where it has them); raises
        :class:`outreach.errors.StoreError` when it cannot."""
        ...

    def create_many(self, drafts: Sequence[Draft]) -> list[Stored | StoreError]:
        """Store several drafts (a batch or a chunk where the store has one); one result per
        draft, in order: where it went, or why it could not be stored. When it returns, what it
        stored is kept (on disk, in the mailbox): the executor records it drafted then."""
        ...

    def conversation(self, thread_id: str) -> list[ThreadMessage] | None:
        """The messages of a draft's conversation, None when it is gone; raises
        :class:`outreach.errors.StoreError` when the mailbox does not answer. Called only when
        ``capabilities.conversations``."""
        ...

    def read_mail(self, marks: dict[str, str], since: dt.date) -> MailRead:
        """The header blocks (:data:`MAIL_FIELDS`) of the messages of the inbox and the sent
        folder that came after ``marks`` (what the last read returned), or, for a folder without
        a mark, since the day ``since``; the newest :data:`MAIL_MAX` of each at most. Raises
        :class:`outreach.errors.StoreError` (the mailbox does not answer, or the credentials do
        not allow reading). Called only when ``capabilities.mailbox``."""
        ...


def create_each(store: DraftStore, drafts: Sequence[Draft]) -> list[Stored | StoreError]:
    """``create_many`` for stores without batches: one by one."""
    out: list[Stored | StoreError] = []
    for d in drafts:
        try:
            out.append(store.create(d))
        except StoreError as exc:
            out.append(exc)
    return out


class BaseStore:
    """The defaults of a store without batches or conversations, and nothing to check or clean.
    A store overrides what it has (``name``, ``where``, ``find`` and ``create`` at least)."""

    name = "base"

    @property
    def where(self) -> str:
        return self.name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities()

    def check(self) -> None:
        return None

    def clean(self) -> None:
        return None

    def find(self, message_id: str) -> Stored | None:
        raise NotImplementedError

    def find_for(self, key: str, message_id: str) -> Stored | None:
        """By default the key tells nothing: ask :meth:`find`."""
        return self.find(message_id)

    def stage(self, draft: Draft) -> str:
        raise NotImplementedError(f"the {self.name} store stages nothing")

    def create(self, draft: Draft) -> Stored:
        raise NotImplementedError

    def create_many(self, drafts: Sequence[Draft]) -> list[Stored | StoreError]:
        return create_each(self, drafts)

    def conversation(self, thread_id: str) -> list[ThreadMessage] | None:
        raise NotImplementedError(f"the {self.name} store cannot read conversations")

    def read_mail(self, marks: dict[str, str], since: dt.date) -> MailRead:
        raise NotImplementedError(f"the {self.name} store reads no mailbox")


def open_store(backend: str, root: Path, settings: Settings) -> DraftStore:
    """The store named ``backend``, checked: a store that can hold no draft at all stops the run
    before it starts."""
    store: DraftStore
    if backend == "dir":
        from outreach.drafts.dir import DirStore

        store = DirStore(resolve(root, settings.drafts.dir))
    elif backend == "memory":
        from outreach.drafts.memory import MemoryStore

        store = MemoryStore()
    elif backend == "gmail":
        from outreach.drafts.gmail import GmailStore

        store = GmailStore(settings.gmail, root, mailbox=settings.mailbox.watch)
    elif backend == "imap":
        from outreach.drafts.imap import ImapStore

        store = ImapStore(settings.imap, root, watch=settings.mailbox.watch)
    else:
        from outreach.errors import UsageError

        raise UsageError(f"unknown draft backend '{backend}'", "use --backend dir, gmail or imap")
    store.check()
    return store
