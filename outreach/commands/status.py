"""``outreach status [--date D] [--json] [--tier T] [--tag T] [--html PATH]``: who is drifting.

One line per person, most neglected first (:mod:`outreach.health` says how), do-not-contact
people apart; a header that sums it up (people, past their rhythm, occasions this month, the
drafts last night's run left). ``--json`` prints the rows; ``--html PATH`` writes the dashboard
page that ``outreach serve`` shows (:mod:`outreach.dashboard`). No side effects but that file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from outreach import health, planner
from outreach.book import Book
from outreach.commands.common import Warn, ignore, load_with_sources
from outreach.errors import EXIT_OK
from outreach.ledger import Ledger
from outreach.model import History


@dataclass(frozen=True)
class Waiting:
    """A draft last night's run made, not sent or deleted yet (where the mailbox can tell)."""

    key: str
    contact: str
    subject: str
    ref: str  # the file, the Gmail draft, the IMAP folder and UID
    link: str | None  # where to open it (Gmail), else None


@dataclass(frozen=True)
class Upcoming:
    """A follow-up of the next seven days (call, card, gift, review)."""

    day: dt.date
    contact: str
    what: str


@dataclass
class StatusReport:
    today: dt.date
    rows: list[health.Row]
    waiting: list[Waiting] = field(default_factory=list)
    upcoming: list[Upcoming] = field(default_factory=list)
    months: dict[str, dict[str, int]] = field(default_factory=dict)
    html: Path | None = None  # --html: where the page was written
    occasions_days: int = 30  # status.occasions_days

    exit_code = EXIT_OK

    @property
    def people(self) -> list[health.Row]:
        return [r for r in self.rows if not r.do_not_contact]

    @property
    def apart(self) -> list[health.Row]:
        return [r for r in self.rows if r.do_not_contact]

    def header(self) -> str:
        people = self.people
        past = sum(1 for r in people if r.drifting)
        occasions = sum(len(r.occasions) for r in people)
        drafts = len(self.waiting)
        return (
            f"{len(people)} people, {past} past their rhythm, {occasions} occasions in the next "
            f"{self.occasions_days} days, {drafts} draft{'s' if drafts != 1 else ''} waiting "
            "since the last run"
        )


def status(
    root: Path,
    *,
    today: dt.date,
    tier: str | None = None,
    tag: str | None = None,
    html: Path | None = None,
    warn: Warn = ignore,
) -> StatusReport:
    book = load_with_sources(root, today, warn, carry_snapshot=False)
    history, waiting = _ledger(book)
    book = planner.with_interactions(book, history)
    report = StatusReport(today, health.rows(book, history, today, tier=tier, tag=tag))
    report.occasions_days = book.settings.status.occasions_days
    report.waiting = waiting
    week = today + dt.timedelta(days=7)
    report.upcoming = [
        Upcoming(s.day, s.touch.contact_id, f"{s.followup.kind} ({s.touch.campaign_id})")
        for s in planner.followups(book, history, today=today)
        if today <= s.day <= week
    ]
    report.months = {k: dict(v) for k, v in health.touches_by_month(book, history, today).items()}
    if html is not None:
        from outreach import dashboard

        dashboard.write(html, dashboard.page(report, book.settings.sender.name))
        report.html = html
    return report


def _ledger(book: Book) -> tuple[History, list[Waiting]]:
    """The history, and the drafts of the last run not known to be sent or deleted."""
    ledger = Ledger.open_readonly(book.path(book.settings.state))
    if ledger is None:
        return History(), []
    try:
        history = ledger.history()
        if not history.run_days:
            return history, []
        last = history.run_days[-1]
        rows = [r for r in ledger.drafts_for((), last) if r.made_on == last.isoformat()]
    finally:
        ledger.close()
    waiting = [
        Waiting(r.key, r.contact, r.subject or "", r.ref or "", _link(r.ref, r.thread_id))
        for r in rows
        if r.outcome is None
    ]
    return history, waiting


def _link(ref: str | None, thread_id: str | None) -> str | None:
    """Where a Gmail draft opens (its conversation); None for a file or an IMAP message."""
    if thread_id and ref and not ref.endswith(".eml") and "UIDVALIDITY=" not in ref:
        return f"https://mail.google.com/mail/u/0/#drafts/{thread_id}"
    return None
