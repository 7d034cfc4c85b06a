"""An in-memory draft store: the reference behaviour, used by the tests, ``run --dry-run`` and
``preview`` (the executor's own code, with nothing written anywhere). It keeps the Message-ID
and key of each draft, not the message: a dry run of 10,000 drafts holds no MIME tree (and never
builds one: a draft's message is built when a store asks for it). It takes drafts in chunks of
:data:`CHUNK`, as the ``dir`` store does, so that a dry run records them as a run would, a chunk
to a transaction, not one by one."""

from __future__ import annotations

from outreach.drafts import BaseStore, Capabilities, Stored
from outreach.message import Draft

CHUNK = 200  # drafts recorded pending, then drafted, in one transaction each


class MemoryStore(BaseStore):
    name = "memory"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(batch_size=CHUNK, reads_messages=False)

    def __init__(self) -> None:
        self.drafts: dict[str, str] = {}  # Message-ID -> touch key

    def find(self, message_id: str) -> Stored | None:
        return Stored(message_id, f"memory:{message_id}") if message_id in self.drafts else None

    def create(self, draft: Draft) -> Stored:
        self.drafts[draft.message_id] = draft.key
        return Stored(draft.message_id, f"memory:{draft.message_id}")
