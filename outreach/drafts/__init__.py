"""Draft stores: one protocol, several backends (``dir``, ``gmail``; ``imap`` later).

Every store answers one question and does one thing: is a draft with this Message-ID already
there (crash recovery asks before writing again), and create these drafts. No store sends mail.
"""

from __future__ import annotations

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


@runtime_checkable
class DraftStore(Protocol):
    name: str

    def find(self, message_id: str) -> Stored | None:
        """The stored draft with this Message-ID, if there is one."""
        ...

    def create(self, draft: Draft) -> Stored:
        """Store the draft; raises :class:`outreach.errors.StoreError` when it cannot."""
        ...

    def create_many(self, drafts: Sequence[Draft]) -> list[Stored | StoreError]:
        """Store several drafts (a batch where the store has one); one result per draft, in
        order: where it went, or why it could not be stored."""
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


def open_store(backend: str, root: Path, directory: str, gmail: GmailSettings) -> DraftStore:
    if backend == "dir":
        from outreach.drafts.dir import DirStore

        store = DirStore(resolve(root, directory))
        store.check()  # a folder that can hold no draft at all stops the run before it starts
        return store
    if backend == "memory":
        from outreach.drafts.memory import MemoryStore

        return MemoryStore()
    if backend == "gmail":
        from outreach.drafts.gmail import GmailStore

        return GmailStore(gmail, root)
    from outreach.errors import UsageError

    raise UsageError(f"unknown draft backend '{backend}'", "use --backend dir or gmail")
