"""Draft stores: one protocol, several backends (``dir``, ``gmail``, ``memory``; ``imap`` next).

:class:`DraftStore` declares everything the executor (:mod:`outreach.executor`) may ask of a
store, and :class:`Capabilities` what a store may lack. The executor asks the protocol only,
never a store's type or name, so a new store is one module here plus a line in
:func:`open_store`. :class:`BaseStore` gives the defaults of a store that can do nothing more
than find and create (no batches, no conversations, nothing to check or clean; ``find_for``
asks ``find``).

Every store answers one question and does one thing: is a draft with this Message-ID already
there (crash recovery asks before writing again), and create these drafts. No store sends mail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from outreach.errors import StoreError
from outreach.message import Draft
from outreach.model import GmailSettings
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


def open_store(backend: str, root: Path, directory: str, gmail: GmailSettings) -> DraftStore:
    """The store named ``backend``, checked: a store that can hold no draft at all stops the run
    before it starts."""
    store: DraftStore
    if backend == "dir":
        from outreach.drafts.dir import DirStore

        store = DirStore(resolve(root, directory))
    elif backend == "memory":
        from outreach.drafts.memory import MemoryStore

        store = MemoryStore()
    elif backend == "gmail":
        from outreach.drafts.gmail import GmailStore

        store = GmailStore(gmail, root)
    else:
        from outreach.errors import UsageError

        raise UsageError(f"unknown draft backend '{backend}'", "use --backend dir or gmail")
    store.check()
    return store
