"""``outreach plan``: what is due on a date (and the next N days, as if every night ran), each
touch rendered to show its subject or why it cannot be drafted. No side effects.

Only what is shown is kept of each rendered draft (its subject, or its error): a night of
100,000 touches does not hold 100,000 messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from outreach import planner, render
from outreach.book import Book
from outreach.commands.common import Warn, ignore, load_with_sources, read_history
from outreach.errors import EXIT_OK, EXIT_TOUCH_FAILED, RenderError
from outreach.executor import Threads, failure_problem
from outreach.model import Touch


def plan(
    root: Path, *, today: dt.date, days: int = 0, warn: Warn = ignore
) -> tuple[Book, list[planner.Plan]]:
    """The book as the planner sees it, and the plan of ``today`` and the ``days`` after."""
    book = load_with_sources(root, today, warn, days=days, carry_snapshot=False)
    history = read_history(book)
    book = planner.with_interactions(book, history)
    return book, planner.plan_days(book, history, today=today, days=days)


@dataclass(frozen=True)
class Planned:
    """One due touch of a plan, rendered: its draft's subject, or the line saying why it failed."""

    touch: Touch
    subject: str | None
    error: str | None
    data: dict[str, Any]  # what ``plan --json`` prints for it


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
    book, plans = plan(root, today=today, days=days, warn=warn)
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
            day.append(Planned(t, subject, error, _touch_json(book, p.today, t, subject, error)))
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
