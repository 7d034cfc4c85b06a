"""``outreach plan``: what is due on a date (and the next N days, as if every night ran), each
touch rendered to show its subject or why it cannot be drafted. No side effects.

Only what is shown is kept of each rendered draft (its subject, or its error): a night of
100,000 touches does not hold 100,000 messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from outreach import exchanges, planner, render
from outreach.book import Book
from outreach.commands.common import Warn, ignore, load_with_sources, read_history, store_for
from outreach.drafts import MAILBOX_BACKENDS
from outreach.errors import EXIT_OK, EXIT_TOUCH_FAILED, OutreachError, RenderError
from outreach.executor import Threads, failure_problem
from outreach.ledger import Ledger
from outreach.model import History, Touch


def plan(
    root: Path, *, today: dt.date, days: int = 0, warn: Warn = ignore
) -> tuple[Book, list[planner.Plan]]:
    """The book as the planner sees it, and the plan of ``today`` and the ``days`` after."""
    book, history = _planned_book(root, today, days, warn)
    return book, planner.plan_days(book, history, today=today, days=days)


def _planned_book(root: Path, today: dt.date, days: int, warn: Warn) -> tuple[Book, History]:
    book = load_with_sources(root, today, warn, days=days, carry_snapshot=False)
    history = peek_mail(book, read_history(book), today, warn)
    return planner.with_interactions(book, history), history


def peek_mail(book: Book, history: History, today: dt.date, warn: Warn) -> History:
    """With ``mailbox.watch``, the history with the mail that came since the last run, read
    from the mailbox and kept nowhere (``plan`` has no side effects). A mailbox that cannot be
    read is a warning: the plan is then what the ledger knows."""
    s = book.settings
    if not s.mailbox.watch or s.drafts.backend not in MAILBOX_BACKENDS:
        return history
    from outreach import mailwatch

    ledger = Ledger.open_readonly(book.path(s.state))
    try:
        store = store_for(book, None)
        if not mailwatch.watching(book, store):
            return history
        if ledger is None:
            facts = mailwatch.gather(book, store, {}, lambda ids, threads: [], today)
        else:
            marks = ledger.mail_marks(store.where)
            facts = mailwatch.gather(book, store, marks, ledger.notes_by_message, today)
    except OutreachError as exc:
        warn(f"the mailbox was not read: {exc.message}; the plan is what the last run saw")
        return history
    finally:
        if ledger is not None:
            ledger.close()
    return mailwatch.merged(history, facts)


@dataclass(frozen=True)
class Planned:
    """One due touch of a plan, rendered: its draft's subject, or the line saying why it failed."""

    touch: Touch
    subject: str | None
    error: str | None
    data: dict[str, Any]  # what ``plan --json`` prints for it
    last: exchanges.LastTouch | None = None  # the contact's latest touch, and where it is from


@dataclass
class PlanReport:
    days: int
    plans: list[planner.Plan]
    touches: list[list[Planned]] = field(default_factory=list)  # per plan, in order

    @property
    def failures(self) -> int:
        return sum(1 for day in self.touches for t in day if t.error is not None)

    @property
    def exit_code(self) -> int:
        return EXIT_TOUCH_FAILED if self.failures else EXIT_OK


def plan_report(root: Path, *, today: dt.date, days: int = 0, warn: Warn = ignore) -> PlanReport:
    """The plan with every due touch rendered (threaded as the run would thread it)."""
    book, history = _planned_book(root, today, days, warn)
    plans = planner.plan_days(book, history, today=today, days=days)
    env = render.environment(book.templates_dir, book.root)
    threads = Threads.read(book)
    report = PlanReport(days, plans)
    for p in plans:
        day: list[Planned] = []
        for t in p.touches:
            subject, error = None, None
            try:
                subject = threads.compose(env, t, p.today).subject
            except RenderError as exc:
                error = str(failure_problem(book, t, exc))
            data = _touch_json(book, p.today, t, subject, error)
            last = exchanges.last_touch(book.contact(t.contact_id), history, p.today, book)
            data["last_touch"] = last.as_json() if last is not None else None
            day.append(Planned(t, subject, error, data, last))
        report.touches.append(day)
    return report


def _touch_json(
    book: Book, plan_day: dt.date, touch: Touch, subject: str | None, error: str | None
) -> dict[str, Any]:
    contact = book.contact(touch.contact_id)
    camp = book.campaign(touch.campaign_id)
    return {
        "key": touch.key,
        "contact": touch.contact_id,
        "campaign": touch.campaign_id,
        "date": plan_day.isoformat(),
        "due": touch.due.isoformat(),
        "last_day": touch.last_day.isoformat() if planner.expires(touch) else None,
        "late_days": touch.late_days(plan_day),
        "occasion": {
            "kind": touch.occasion.kind,
            "date": touch.occasion.date.isoformat(),
            "label": touch.occasion.label,
        },
        "priority": touch.priority,
        "reason": touch.reason,
        "template": camp.template,
        "to": contact.address(camp.to),
        "subject": subject,
        "error": error,
    }
