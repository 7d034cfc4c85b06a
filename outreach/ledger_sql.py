"""The ledger's SQL: the schema as ordered migrations, and the statements a chunk of touches is
recorded with (pending before the store writes, drafted or failed after). Only
:mod:`outreach.ledger` uses it."""

from __future__ import annotations

import datetime as dt

from outreach.model import Touch

MIGRATIONS: tuple[str, ...] = (
    # 1: touches and runs
    """
    CREATE TABLE touches (
        key        TEXT PRIMARY KEY,
        contact    TEXT NOT NULL,
        campaign   TEXT NOT NULL,
        occasion   TEXT NOT NULL,
        due        TEXT NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('pending', 'drafted', 'failed')),
        message_id TEXT,
        ref        TEXT,
        made_on    TEXT,
        attempts   INTEGER NOT NULL DEFAULT 0,
        error      TEXT
    );
    CREATE INDEX touches_contact ON touches (contact, status);
    CREATE TABLE runs (
        id        INTEGER PRIMARY KEY,
        run_date  TEXT NOT NULL,
        backend   TEXT NOT NULL,
        made      INTEGER NOT NULL DEFAULT 0,
        failed    INTEGER NOT NULL DEFAULT 0,
        finished  INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 2: the subject of each draft (shown in the calendar), and what the feed published
    """
    ALTER TABLE touches ADD COLUMN subject TEXT;
    ALTER TABLE touches ADD COLUMN reason TEXT;
    CREATE TABLE events (
        uid      TEXT PRIMARY KEY,
        digest   TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        changed  TEXT NOT NULL
    );
    """,
    # 3: mailbox conversations: the thread of each draft, what became of it, replies
    """
    ALTER TABLE touches ADD COLUMN thread_id TEXT;
    ALTER TABLE touches ADD COLUMN outcome TEXT;
    ALTER TABLE touches ADD COLUMN outcome_on TEXT;
    CREATE TABLE replies (
        first_key TEXT NOT NULL,
        contact   TEXT NOT NULL,
        day       TEXT NOT NULL,
        PRIMARY KEY (first_key, day)
    );
    """,
    # 4: interactions seen in outside sources (meetings in the calendar feeds), remembered after
    # they leave the source's window so that a person's last touch never moves backwards
    """
    CREATE TABLE seen (
        contact TEXT NOT NULL,
        day     TEXT NOT NULL,
        kind    TEXT NOT NULL,
        source  TEXT NOT NULL,
        ref     TEXT NOT NULL,
        summary TEXT,
        PRIMARY KEY (contact, source, ref)
    );
    CREATE INDEX seen_contact ON seen (contact, day);
    """,
)


_PENDING = (
    "INSERT INTO touches (key, contact, campaign, occasion, due, status, message_id, "
    "made_on, attempts, subject, reason) "
    "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, 1, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET status = 'pending', "
    "message_id = excluded.message_id, subject = excluded.subject, "
    "reason = excluded.reason, "
    "made_on = excluded.made_on, attempts = touches.attempts + 1, error = NULL "
    "WHERE touches.status != 'drafted'"
)
_FAILED = (
    "INSERT INTO touches (key, contact, campaign, occasion, due, status, made_on, "
    "attempts, error) VALUES (?, ?, ?, ?, ?, 'failed', NULL, 1, ?) "
    "ON CONFLICT (key) DO UPDATE SET status = 'failed', error = excluded.error, "
    "attempts = touches.attempts "
    "+ CASE WHEN touches.status = 'pending' THEN 0 ELSE 1 END "
    "WHERE touches.status != 'drafted'"
)


def _touch_args(touch: Touch) -> tuple[str, ...]:
    """The columns that name a touch: key, contact, campaign, occasion, due."""
    return (
        touch.key,
        touch.contact_id,
        touch.campaign_id,
        touch.occasion.date.isoformat(),
        touch.due.isoformat(),
    )


def _pending_args(touch: Touch, message_id: str, subject: str, today: dt.date) -> tuple[str, ...]:
    return (*_touch_args(touch), message_id, today.isoformat(), subject, touch.reason)


def _failed_args(touch: Touch, error: str) -> tuple[str, ...]:
    return (*_touch_args(touch), error)
