"""``outreach run``: make the due drafts and record them, then rewrite the calendar. With
``--dry-run`` the same executor runs against the memory store and a scratch copy of the ledger:
nothing is written anywhere."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from outreach import planner
from outreach.book import Book
from outreach.commands.calendar import CalendarReport, write_calendar
from outreach.commands.common import Warn, ignore, load_with_sources, remember_meetings, store_for
from outreach.drafts import MAILBOX_BACKENDS, DraftStore
from outreach.drafts.memory import MemoryStore
from outreach.errors import EXIT_OK, EXIT_TOUCH_FAILED
from outreach.executor import Drafted, Failed, Made, Progress, execute, reconcile
from outreach.ledger import Ledger, RunLock
from outreach.model import Touch


@dataclass
class RunReport:
    today: dt.date
    backend: str
    dry_run: bool
    where: str
    made: list[Drafted] = field(default_factory=list)  # what the report prints of each draft
    failed: list[Failed] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    plan: planner.Plan | None = None
    limited: int = 0
    calendar: CalendarReport | None = None

    @property
    def exit_code(self) -> int:
        """1 when a touch failed (the next run retries it) or a follow-up event could not be
        made; 0 otherwise."""
        if self.failed or (self.calendar is not None and self.calendar.problems):
            return EXIT_TOUCH_FAILED
        return EXIT_OK


def run(
    root: Path,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    backend: str | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    warn: Warn = ignore,
) -> RunReport:
    """Make the due drafts and record them. With ``dry_run`` nothing is written anywhere."""
    try:
        with _kept_for_the_night():
            book = load_with_sources(root, today, warn)
        return _run(book, today, now, dry_run, backend, limit, progress, warn)
    finally:
        gc.unfreeze()  # (a caller in the same process gets its collector back as it was)


@contextlib.contextmanager
def _kept_for_the_night() -> Iterator[None]:
    """The book lives until the night ends: the cyclic garbage collector does not run while
    it is loaded (10,000 contacts are millions of objects, and each full collection walks
    them all: 0.7 s of a 10,000 dry run) and is not asked to walk it afterwards
    (``gc.freeze``; ``run`` unfreezes it when it returns)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _run(
    book: Book,
    today: dt.date,
    now: dt.datetime | None,
    dry_run: bool,
    backend: str | None,
    limit: int | None,
    progress: Progress | None,
    warn: Warn,
) -> RunReport:
    state = book.path(book.settings.state)
    name = backend or book.settings.drafts.backend
    if dry_run:
        ledger = Ledger.scratch(state)
        try:
            if book.settings.mailbox.watch and name in MAILBOX_BACKENDS:
                # what came since the last run, into the scratch copy only (nothing is kept)
                _watch(book, ledger, store_for(book, backend), today, warn)
            report = RunReport(
                today,
                name,
                True,
                str(book.path(book.settings.drafts.dir)),
            )
            return _night(book, ledger, MemoryStore(), report, limit, None)
        finally:
            ledger.close()

    store = store_for(book, backend)
    with RunLock(state.parent / "run.lock"):
        ledger = Ledger.open(state)
        try:
            remember_meetings(book, ledger, today)
            _watch(book, ledger, store, today, warn)
            report = RunReport(today, store.name, False, store.where)
            _night(book, ledger, store, report, limit, progress)
            report.calendar = write_calendar(
                book, ledger, today=today, now=now or dt.datetime.combine(today, dt.time(), dt.UTC)
            )
            if book.snapshot is not None:  # the night went well: the next one may skip parsing
                book.snapshot.save()
            return report
        finally:
            ledger.close()


def _watch(book: Book, ledger: Ledger, store: DraftStore, today: dt.date, warn: Warn) -> None:
    """Mailbox awareness first (``mailbox.watch``); said when the store cannot read mail."""
    if not book.settings.mailbox.watch:
        return  # (and the header reader is not imported)
    if not store.capabilities.mailbox:
        warn(
            f"mailbox.watch is on, but the {store.name} store reads no mailbox: set "
            "drafts.backend to imap or gmail (or mailbox.watch: false)"
        )
        return
    from outreach import mailwatch

    mailwatch.remember(book, ledger, store, today)


def _night(
    book: Book,
    ledger: Ledger,
    store: DraftStore,
    report: RunReport,
    limit: int | None,
    progress: Progress | None,
) -> RunReport:
    """Reconcile the ledger with the store, plan the night, and draft it."""
    today = report.today
    report.recovered = reconcile(book, store, ledger, today)
    history = ledger.history()
    book = planner.with_interactions(book, history)
    report.plan = planner.plan(book, history, today=today)
    touches, report.limited = limited(list(report.plan.touches), limit)

    def each(result: Made | Failed) -> None:  # keep what the report prints, not the message
        if isinstance(result, Made):
            report.made.append(Drafted.of(result, today))
        else:
            report.failed.append(result)

    execute(book, touches, store, ledger, today=today, progress=progress, each=each)
    return report


def limited(touches: list[Touch], limit: int | None) -> tuple[list[Touch], int]:
    """``--limit N``: the N most important touches (the planner's rank), in plan order; and how
    many were left for the next run. The same for ``--dry-run`` and a real run."""
    if limit is None:
        return touches, 0
    keep = {t.key for t in sorted(touches, key=planner.rank)[:limit]}
    return [t for t in touches if t.key in keep], len(touches) - len(keep)
