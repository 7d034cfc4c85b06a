"""``outreach preview``: the drafts due on a date (or the one with a key), rendered as a run
would make them: the executor's own code against the memory store and a scratch copy of the
ledger, so nothing is stored anywhere."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from outreach import planner
from outreach.book import Book
from outreach.commands.common import Warn, ignore, load_with_sources
from outreach.drafts.memory import MemoryStore
from outreach.errors import EXIT_OK, EXIT_TOUCH_FAILED, Problem, UsageError
from outreach.executor import Made, execute
from outreach.ledger import Ledger
from outreach.message import Draft
from outreach.model import History, Touch
from outreach.touchkey import TouchKey


@dataclass(frozen=True)
class Preview:
    touch: Touch
    result: Draft | Problem
    waits: str | None = None  # why it would not be made tonight (a limit), if so


@dataclass(frozen=True)
class PreviewReport:
    previews: list[Preview]

    @property
    def exit_code(self) -> int:
        failed = any(isinstance(p.result, Problem) for p in self.previews)
        return EXIT_TOUCH_FAILED if failed else EXIT_OK


def preview(root: Path, *, today: dt.date, key: str | None, warn: Warn = ignore) -> PreviewReport:
    """Render the drafts due on ``today`` (or the one with ``key``) without storing anything."""
    book = load_with_sources(root, today, warn, carry_snapshot=False)
    ledger = Ledger.scratch(book.path(book.settings.state))
    try:
        history = ledger.history()
        book = planner.with_interactions(book, history)
        p = planner.plan(book, history, today=today)
        todo: list[tuple[Touch, str | None]] = [(t, None) for t in p.touches]
        if key is not None:
            todo += [(d.touch, d.why) for d in p.deferred]
            todo = [(t, w) for t, w in todo if t.key == key]
            if not todo:
                todo = [(t, None) for t in _find_key(book, key, today)]
            if not todo:
                raise UsageError(
                    f"no touch '{key}' around {today.isoformat()}",
                    "run 'outreach plan --days 30' to see the keys, or pass --date",
                )
        done = execute(book, [t for t, _ in todo], MemoryStore(), ledger, today=today)
    finally:
        ledger.close()
    results = {r.touch.key: r for r in done.results}
    return PreviewReport(
        [
            Preview(t, r.draft if isinstance(r, Made) else r.problem, waits)
            for t, waits in todo
            for r in [results[t.key]]
        ]
    )


def _find_key(book: Book, key: str, today: dt.date) -> list[Touch]:
    wanted = TouchKey.read(key)
    if wanted is None or wanted.step != 1:
        return []
    try:
        camp, contact = book.campaign(wanted.campaign), book.contact(wanted.contact)
    except KeyError:
        return []
    for t in planner.occasions_for(book, contact, camp, today, History()):
        if t.key == key:
            return [t]
    return []
