"""Draft stores: one protocol, several backends (``dir`` now; ``gmail`` and ``imap`` later).

Every store answers two questions and does one thing: is a draft with this Message-ID already
there (crash recovery asks before writing again), and create this draft. No store sends mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from outreach.message import Draft


@dataclass(frozen=True)
class Stored:
    """Where a draft ended up: a path, or a provider's draft id."""

    message_id: str
    ref: str


@runtime_checkable
class DraftStore(Protocol):
    name: str

    def find(self, message_id: str) -> Stored | None:
        """The stored draft with this Message-ID, if there is one."""
        ...

    def create(self, draft: Draft) -> Stored:
        """Store the draft; raises :class:`outreach.errors.StoreError` when it cannot."""
        ...


def open_store(backend: str, root: Path, directory: str) -> DraftStore:
    if backend == "dir":
        from outreach.drafts.dir import DirStore

        path = Path(directory).expanduser()
        return DirStore(path if path.is_absolute() else root / path)
    if backend == "memory":
        from outreach.drafts.memory import MemoryStore

        return MemoryStore()
    from outreach.errors import UsageError

    raise UsageError(f"unknown draft backend '{backend}'", "use --backend dir")
