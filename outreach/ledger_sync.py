"""The ledger's part for contact sync (:mod:`outreach.sync`): where each source's next pull
starts, and which contact each remote person is, with the fields the sync wrote there. Mixed
into :class:`outreach.ledger.Ledger`; only it knows the tables (migration 6)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from outreach import statefile


@dataclass
class Link:
    """A remote person and the contact they are, with what the sync wrote there."""

    remote_id: str
    contact: str
    written: dict[str, Any] = field(default_factory=dict)  # field path -> value last written
    gone: bool = False  # reported deleted at the source


class SyncRows:
    """Ledger methods for contact sync (the mixin needs ``conn``, ``path`` and ``_tx``)."""

    conn: sqlite3.Connection
    path: Path

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def sync_state(self, source: str) -> str | None:
        with statefile.sqlite_errors(self.path, opening=False):
            row = self.conn.execute(
                "SELECT state FROM sync_state WHERE source = ?", (source,)
            ).fetchone()
        return str(row[0]) if row else None

    def sync_links(self, source: str) -> dict[str, Link]:
        """The remote people of ``source`` the ledger knows, by remote id."""
        with statefile.sqlite_errors(self.path, opening=False):
            rows = self.conn.execute(
                "SELECT remote_id, contact, written, gone FROM sync_links WHERE source = ?",
                (source,),
            ).fetchall()
        return {r: Link(r, c, _written(w), bool(g)) for r, c, w, g in rows}

    def save_sync(self, source: str, state: str, links: Iterable[Link]) -> None:
        """Where the next pull of ``source`` starts and its links, in one transaction (written
        after contacts.yaml: a crash between leaves links to be found again by e-mail)."""
        rows = [
            (source, k.remote_id, k.contact, json.dumps(k.written, sort_keys=True), int(k.gone))
            for k in links
        ]
        with statefile.sqlite_errors(self.path, opening=False), self._tx() as c:
            c.execute(
                "INSERT INTO sync_state (source, state) VALUES (?, ?) "
                "ON CONFLICT (source) DO UPDATE SET state = excluded.state",
                (source, state),
            )
            c.executemany(
                "INSERT INTO sync_links (source, remote_id, contact, written, gone) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, remote_id) DO UPDATE SET "
                "contact = excluded.contact, written = excluded.written, gone = excluded.gone",
                rows,
            )


def _written(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
