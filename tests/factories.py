"""Factories for contacts, campaigns and books: tests say only what matters to them."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Any

import yaml

from outreach.book import Book
from outreach.model import Campaign, Contact, History, Settings

SENDER = {"name": "Alex Rivera", "email": "alex@rivera.example"}


def contact(id: str = "jane-doe", **fields: Any) -> Contact:
    """A valid contact; ``fields`` override keys (nested dicts as in contacts.yaml)."""
    data: dict[str, Any] = {
        "id": id,
        "name": {"first": id.split("-")[0].capitalize(), "last": "Doe"},
        "email": {"work": f"{id}@acme.example"},
        "country": "US",
        "stage": "customer",
    }
    data.update(fields)
    return Contact.model_validate(data)


def campaign(
    id: str = "birthday", trigger: dict[str, Any] | None = None, **fields: Any
) -> Campaign:
    """A valid campaign; the default is a birthday greeting on the day."""
    data: dict[str, Any] = {
        "id": id,
        "template": "note.md",
        "trigger": trigger or {"kind": "date", "field": "birthday"},
    }
    data.update(fields)
    return Campaign.model_validate(data)


def settings(**fields: Any) -> Settings:
    data: dict[str, Any] = {"sender": SENDER, "timezone": "America/Chicago", "country": "US"}
    data.update(fields)
    return Settings.model_validate(data)


def book(
    contacts: list[Contact],
    campaigns: list[Campaign],
    root: Path | None = None,
    **settings_fields: Any,
) -> Book:
    """An in-memory book (no files), for planner tests."""
    return Book(
        root or Path("/nonexistent"),
        settings(**settings_fields),
        tuple(contacts),
        tuple(campaigns),
        {},
    )


def history(
    done: set[str] | None = None,
    touched: dict[str, list[dt.date]] | None = None,
    since: dt.date | None = None,
) -> History:
    return History(frozenset(done or ()), {k: tuple(v) for k, v in (touched or {}).items()}, since)


NOTE_TEMPLATE = """---
subject: A note for {{ contact.greet }}
---
Hi {{ contact.greet }},

{{ occasion.label | capitalize }} on {{ occasion.date | friendly_date }}.

{{ sender.signature }}
"""


def write_folder(
    root: Path,
    contacts: list[dict[str, Any]],
    campaigns: list[dict[str, Any]],
    templates: dict[str, str] | None = None,
    **settings_fields: Any,
) -> Path:
    """A user folder on disk: outreach.yaml, contacts.yaml, campaigns.yaml and templates/."""
    root.mkdir(parents=True, exist_ok=True)
    cfg: dict[str, Any] = {"sender": SENDER, "timezone": "America/Chicago", "country": "US"}
    cfg.update(settings_fields)
    (root / "outreach.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    (root / "contacts.yaml").write_text(
        yaml.safe_dump({"contacts": contacts}, sort_keys=False), encoding="utf-8"
    )
    (root / "campaigns.yaml").write_text(
        yaml.safe_dump({"campaigns": campaigns}, sort_keys=False), encoding="utf-8"
    )
    tdir = root / "templates"
    tdir.mkdir(exist_ok=True)
    for name, text in (templates or {"note.md": NOTE_TEMPLATE}).items():
        (tdir / name).write_text(text, encoding="utf-8")
    return root


def contact_data(id: str = "jane-doe", **fields: Any) -> dict[str, Any]:
    """Contact YAML data (for folders on disk)."""
    data: dict[str, Any] = {
        "id": id,
        "name": {"first": id.split("-")[0].capitalize(), "last": "Doe"},
        "email": {"work": f"{id}@acme.example"},
        "country": "US",
        "stage": "customer",
    }
    data.update(fields)
    return data


def campaign_data(
    id: str = "birthday", trigger: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": id,
        "template": "note.md",
        "trigger": trigger or {"kind": "date", "field": "birthday"},
    }
    data.update(fields)
    return data


def rows_in_the_log(db: Path) -> tuple[bytes, bytes]:
    """Write 3,000 touches to the ledger ``db`` and delete half, all kept in its write-ahead log
    (no checkpoint); the log and its index as they are then."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # keep the later nights in the log
    conn.execute("BEGIN")
    for i in range(3000):
        conn.execute(
            "INSERT INTO touches (key, contact, campaign, occasion, due, status) "
            "VALUES (?, 'c', 'kit', '2026-12-01', '2026-12-01', 'drafted')",
            (f"kit/c{i:05d}/2026-12-01",),
        )
    conn.execute("COMMIT")
    conn.execute("DELETE FROM touches WHERE key < 'kit/c01500'")
    logs = (Path(f"{db}-wal").read_bytes(), Path(f"{db}-shm").read_bytes())
    conn.close()
    return logs


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (a child not yet reaped counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
