"""``outreach calendar``: (re)write the follow-up feed; also the last step of every run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from outreach import planner, render
from outreach.book import Book
from outreach.commands.common import Warn, ignore, load_with_sources
from outreach.errors import EXIT_OK, EXIT_TOUCH_FAILED, OutreachError, Problem
from outreach.feed import DraftInfo
from outreach.fsutil import write_atomic
from outreach.ledger import Ledger, RunLock


@dataclass(frozen=True)
class CalendarReport:
    path: Path
    events: int
    changed: int
    problems: list[Problem]
    dropped: int = 0  # left out to keep the file under the size clients accept
    until: dt.date | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_TOUCH_FAILED if self.problems else EXIT_OK


def _draft_infos(
    book: Book, ledger: Ledger, scheduled: list[planner.Scheduled], today: dt.date
) -> list[DraftInfo]:
    """The drafts the feed shows: those of its follow-ups and those its review events list (made
    since the window opens), not every draft ever made."""
    since = today - dt.timedelta(days=book.settings.calendar.past_days)
    out = []
    for r in ledger.drafts_for((s.touch.key for s in scheduled), since):
        if r.made_on:
            made_on = dt.date.fromisoformat(r.made_on)
            out.append(
                DraftInfo(r.key, r.contact, r.subject, r.ref, made_on, r.reason, r.thread_id)
            )
    return out


def write_calendar(
    book: Book, ledger: Ledger, *, today: dt.date, now: dt.datetime, out: Path | None = None
) -> CalendarReport:
    """Rebuild the follow-up feed and write it atomically. What was published is recorded first:
    a crash between the two rewrites the same events with the same SEQUENCE next time."""
    from outreach import feed

    env = render.environment(book.templates_dir, book.root)
    history = ledger.history()
    book = planner.with_interactions(book, history)
    scheduled = planner.followups(book, history, today=today)
    drafts = _draft_infos(book, ledger, scheduled, today)
    specs, problems = feed.events(book, env, scheduled, drafts, today=today)
    records, changed = feed.publish(specs, ledger.published(), now=now)
    result = feed.serialize(book, specs, records, today=today)
    ledger.save_published(changed)
    path = out or book.path(book.settings.calendar.path)
    try:
        write_atomic(path, result.data)
    except OSError as exc:
        raise OutreachError(
            f"cannot write the calendar {path}: {exc.strerror or exc}",
            "check the calendar.path in outreach.yaml and that it is writable",
        ) from None
    return CalendarReport(path, result.events, len(changed), problems, result.dropped, result.until)


def calendar(
    root: Path, *, today: dt.date, now: dt.datetime, out: Path | None = None, warn: Warn = ignore
) -> CalendarReport:
    """``outreach calendar``: (re)write the feed."""
    book = load_with_sources(root, today, warn, carry_snapshot=False)
    state = book.path(book.settings.state)
    with RunLock(state.parent / "run.lock"):
        ledger = Ledger.open(state)
        try:
            return write_calendar(book, ledger, today=today, now=now, out=out)
        finally:
            ledger.close()
