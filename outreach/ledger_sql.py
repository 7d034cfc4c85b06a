"""The ledger's SQL: the schema as ordered migrations, and the statements a chunk of touches is
recorded with (pending before the store writes, drafted or failed after). Only
:mod:`outreach.ledger` uses it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from outreach.model import Touch


@dataclass(frozen=True)
class Published:
    """What the calendar feed last published for one event UID."""

    uid: str
    digest: str
    sequence: int
    changed: dt.datetime  # UTC: DTSTAMP and LAST-MODIFIED


@dataclass(frozen=True)
class Seen:
    """An interaction with a contact seen in an outside source, e.g. a meeting in a calendar."""

    contact: str
    day: dt.date
    kind: str  # meeting
    source: str  # calendar, mailbox
    ref: str  # the source's own id: the meeting's key, the message's Message-ID
    summary: str | None = None
    inbound: bool = False  # a message from the person (it holds routine notes)


@dataclass(frozen=True)
class Row:
    key: str
    contact: str
    campaign: str
    status: str
    message_id: str | None
    ref: str | None
    made_on: str | None
    attempts: int
    error: str | None
    subject: str | None
    reason: str | None
    thread_id: str | None = None
    outcome: str | None = None  # sent | deleted (where the mailbox can tell)
    outcome_on: str | None = None


_ROW = (
    "key, contact, campaign, status, message_id, ref, made_on, attempts, error, subject, reason, "
    "thread_id, outcome, outcome_on"
)


_SEEN = (
    "INSERT INTO seen (contact, day, kind, source, ref, summary, inbound) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (contact, source, ref) DO UPDATE SET "
    "day = excluded.day, kind = excluded.kind, summary = excluded.summary, "
    "inbound = excluded.inbound"
)


def _seen_rows(seen: Iterable[Seen]) -> list[tuple[str, str, str, str, str, str | None, int]]:
    return [
        (s.contact, s.day.isoformat(), s.kind, s.source, s.ref, s.summary, int(s.inbound))
        for s in seen
    ]  # what migration 1 made: every ledger has them


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
    # 5: mailbox awareness: which interactions were mail from the person (they hold routine
    # notes), how far each folder of a mailbox was read, and the notes by Message-ID (a reply's
    # References name them)
    """
    ALTER TABLE seen ADD COLUMN inbound INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE mail_marks (
        mailbox TEXT NOT NULL,
        folder  TEXT NOT NULL,
        mark    TEXT NOT NULL,
        PRIMARY KEY (mailbox, folder)
    );
    CREATE INDEX touches_message_id ON touches (message_id);
    CREATE INDEX touches_thread_id ON touches (thread_id);
    """,
    # 6: contact sync: where each source's next pull starts, and each remote person's contact
    # with the fields the sync wrote there (what it may update; the rest is the person's)
    """
    CREATE TABLE sync_state (
        source TEXT PRIMARY KEY,
        state  TEXT NOT NULL
    );
    CREATE TABLE sync_links (
        source    TEXT NOT NULL,
        remote_id TEXT NOT NULL,
        contact   TEXT NOT NULL,
        written   TEXT NOT NULL,
        gone      INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (source, remote_id)
    );
    """,
    # 7: the night each person came into the book (a new book's, or an import's, keep-in-touch
    # ramps up from then); those already drafted for arrived at the first run
    """
    CREATE TABLE arrivals (
        contact TEXT PRIMARY KEY,
        night   TEXT NOT NULL
    );
    INSERT OR IGNORE INTO arrivals (contact, night)
        SELECT DISTINCT contact, (SELECT MIN(run_date) FROM runs) FROM touches
        WHERE EXISTS (SELECT 1 FROM runs);
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
