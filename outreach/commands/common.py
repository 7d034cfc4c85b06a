"""What the commands share: reading the folder with its outside sources, the ledger's history,
the draft store a run uses, and the meetings a run remembers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from outreach import planner
from outreach.book import Book
from outreach.config import load_book
from outreach.drafts import DraftStore, open_store
from outreach.errors import InvalidInput
from outreach.ledger import Ledger, Seen
from outreach.model import AfterMeetingTrigger, History, Settings

Warn = Callable[[str], None]


def ignore(_: str) -> None:
    """The default ``warn``: say nothing."""
    return None


def meeting_window(book: Book, today: dt.date, days: int = 0) -> tuple[dt.date, dt.date]:
    """The local days whose meetings are read: ``lookback_days`` back, to tomorrow (to the end of
    a ``plan --days`` run); and as far as the calendar's window needs for the follow-ups of
    thank-you notes (a call 20 days after the note is shown until ``past_days`` after its day,
    after the meeting has left ``lookback_days``; a follow-up before a meeting from
    ``future_days`` ahead)."""
    s = book.settings
    back, ahead = s.meetings.lookback_days, days + 1
    for camp in book.campaigns:
        trig = camp.trigger
        if camp.enabled and isinstance(trig, AfterMeetingTrigger) and camp.followups:
            after = max(fu.after or 0 for fu in camp.followups)
            before = max(fu.before or 0 for fu in camp.followups)
            # the note comes days_after (business) days after the meeting, up to its catch-up
            note = 2 * trig.days_after + (camp.catch_up_days or 0) + planner.DEFAULT_THANKS_CATCH_UP
            back = max(back, s.calendar.past_days + after + note + 7)
            ahead = max(ahead, s.calendar.future_days + before)
    return today - dt.timedelta(days=back), today + dt.timedelta(days=ahead)


def load_with_sources(
    root: Path,
    today: dt.date,
    warn: Warn = ignore,
    *,
    strict: bool = False,
    days: int = 0,
    carry_snapshot: bool = True,
) -> Book:
    """The book plus what the outside sources say: meetings from calendar feeds and articles from
    the library and RSS/Atom feeds. A source that is down is a warning (its cached copy is used);
    a bad article entry is skipped with a warning, or is an error when ``strict`` (check).
    ``days``: a plan of the coming days reads the meetings of those days too.
    ``carry_snapshot``: the command may save the book's snapshot (`config.load_book`)."""
    book = load_book(root, carry_snapshot=carry_snapshot)
    if not strict:  # run, plan, preview go on: the planner writes one note per address
        for p in book.shared_addresses:
            warn(str(p))
    kinds = {c.trigger.kind for c in book.campaigns if c.enabled}
    cache = book.path(book.settings.state).parent / "cache"
    meetings: tuple[Any, ...] = ()
    articles: tuple[Any, ...] = ()
    s = book.settings
    if s.meetings.sources:
        from outreach.sources.meetings import load_meetings

        start, end = meeting_window(book, today, days)
        report = load_meetings(
            s.meetings.sources,
            root=book.root,
            cache_dir=cache / "meetings",
            me=[a.lower() for a in (s.meetings.me or (s.sender.email,))],
            start=start,
            end=end,
            tz=s.timezone,
            timeout=s.meetings.timeout_seconds,
        )
        meetings = report.meetings
        for w in report.warnings:
            warn(w)
    if "content" in kinds or s.articles.feeds:
        from outreach.sources.articles import FeedSpec, load_articles

        library = book.path(s.articles.library)
        loaded = load_articles(
            library if library.exists() else None,
            [FeedSpec(f.url, tuple(t.lower() for t in f.tags)) for f in s.articles.feeds],
            cache_dir=cache / "articles",
            timeout=s.articles.timeout_seconds,
        )
        if loaded.problems and strict:
            raise InvalidInput([*book.shared_addresses, *loaded.problems])
        for p in loaded.problems:
            warn(f"{p}; the article was skipped")
        for w in loaded.warnings:
            warn(w)
        articles = loaded.articles
    return replace(book, meetings=meetings, articles=articles)


def settings_only(root: Path) -> Settings:
    """outreach.yaml alone (for commands that need no contacts or campaigns)."""
    from outreach.config import load_settings

    settings, _, problems = load_settings(root)
    if settings is None or problems:
        raise InvalidInput(problems)
    return settings


def remember_meetings(book: Book, ledger: Ledger, today: dt.date) -> int:
    """Record in the ledger every meeting up to ``today`` with each contact, so that it keeps
    counting as a touch after it leaves the feed's ``lookback_days`` window."""
    seen = [
        Seen(contact.id, m.day, "meeting", "calendar", m.key, m.title or None)
        for contact in book.contacts
        for m in planner.meetings_with(book, contact)
        if m.day <= today
    ]
    return ledger.remember(seen) if seen else 0


def read_history(book: Book) -> History:
    """What the ledger holds, opened read-only (an empty history when there is none yet)."""
    ledger = Ledger.open_readonly(book.path(book.settings.state))
    if ledger is None:
        return History()
    try:
        return ledger.history()
    finally:
        ledger.close()


def store_for(book: Book, backend: str | None) -> DraftStore:
    """The draft store a run writes to: ``--backend``, else ``drafts.backend``; checked."""
    name = backend or book.settings.drafts.backend
    return open_store(name, book.root, book.settings)
