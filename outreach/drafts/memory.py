"""An in-memory draft store: the reference behaviour, used by tests and ``--dry-run``."""

from __future__ import annotations

from collections.abc import Sequence

from outreach.drafts import Stored, create_each
from outreach.errors import StoreError
from outreach.message import Draft


class MemoryStore:
    name = "memory"

    def __init__(self) -> None:
        self.drafts: dict[str, Draft] = {}

    def find(self, message_id: str) -> Stored | None:
        return Stored(message_id, f"memory:{message_id}") if message_id in self.drafts else None

    def create_many(self, drafts: Sequence[Draft]) -> list[Stored | StoreError]:
        return create_each(self, drafts)

    def create(self, draft: Draft) -> Stored:
        self.drafts[draft.message_id] = draft
        return Stored(draft.message_id, f"memory:{draft.message_id}")
