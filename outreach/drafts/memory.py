"""An in-memory draft store: the reference behaviour, used by the tests, ``run --dry-run`` and
``preview`` (the executor's own code, with nothing written anywhere). It keeps the Message-ID
and key of each draft, not the message: a dry run of 10,000 drafts holds no MIME tree."""

from __future__ import annotations

from outreach.drafts import BaseStore, Stored
from outreach.message import Draft


class MemoryStore(BaseStore):
    name = "memory"

    def __init__(self) -> None:
        self.drafts: dict[str, str] = {}  # Message-ID -> touch key

    def find(self, message_id: str) -> Stored | None:
        return Stored(message_id, f"memory:{message_id}") if message_id in self.drafts else None

    def create(self, draft: Draft) -> Stored:
        self.drafts[draft.message_id] = draft.key
        return Stored(draft.message_id, f"memory:{draft.message_id}")
