"""The commands as plain functions: they return typed reports or raise our errors.

Only ``cli.py`` prints and picks exit codes.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from outreach import planner, render
from outreach.book import Book
from outreach.config import load_book
from outreach.drafts import DraftStore, open_store
from outreach.errors import (
    InvalidInput,
    OutreachError,
    Problem,
    RenderError,
    StoreError,
    UsageError,
)
from outreach.feed import DraftInfo
from outreach.fsutil import write_atomic
from outreach.ledger import Ledger, RunLock, Seen
from outreach.message import Draft, Thread, compose, thread_for
from outreach.model import AfterMeetingTrigger, History, Touch
from outreach.paths import resolve
from outreach.samples import samples

Progress = Callable[[int, int], None]
Warn = Callable[[str], None]


def _ignore(_: str) -> None:
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
    root: Path, today: dt.date, warn: Warn = _ignore, *, strict: bool = False, days: int = 0
) -> Book:
    """The book plus what the outside sources say: meetings from calendar feeds and articles from
    the library and RSS/Atom feeds. A source that is down is a warning (its cached copy is used);
    a bad article entry is skipped with a warning, or is an error when ``strict`` (check).
    ``days``: a plan of the coming days reads the meetings of those days too."""
    book = load_book(root)
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


def _crash_point(name: str) -> None:
    """Fault injection for the crash tests: ``OUTREACH_CRASH_AT=after-write:2`` kills this process
    with SIGKILL right after the second draft is written and before it is recorded."""
    spec = os.environ.get("OUTREACH_CRASH_AT")
    if not spec:
        return
    point, _, count = spec.partition(":")
    if point != name:
        return
    left = int(count or "1") - 1
    if left <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
    os.environ["OUTREACH_CRASH_AT"] = f"{point}:{left}"


# --------------------------------------------------------------------------- check


@dataclass(frozen=True)
class CheckReport:
    contacts: int
    campaigns: int
    rendered: int
    events: int = 0


def failure_problem(book: Book, touch: Touch, exc: RenderError, what: str = "") -> Problem:
    """A render failure as one line naming the template, the touch, the contact and the fix;
    ``what`` says what was special about a sample ``check`` rendered ("a meeting without a
    title")."""
    cfile, cline = book.contact_line(touch.contact_id)
    where = f"{cfile}:{cline}" if cline else cfile
    sample = f", with {what}" if what else ""
    return Problem(
        exc.template or "template",
        exc.line,
        f"{touch.key}",
        f"{exc.message} (contact {touch.contact_id} at {where}{sample})",
        exc.hint,
    )


def check(root: Path, *, today: dt.date, warn: Warn = _ignore) -> CheckReport:
    """Validate every file, then render every template for every contact it applies to."""
    from outreach import feed

    try:
        book = load_with_sources(root, today, warn, strict=True)
    except InvalidInput as exc:  # every problem at once: the article library's too
        raise InvalidInput([*exc.problems, *_library_problems(root, exc.problems)]) from None
    env = render.environment(book.templates_dir, book.root)
    strings = feed.Strings(env)
    failures: list[tuple[Touch, RenderError, str]] = []
    rendered = events = 0
    for camp in book.campaigns:
        for contact in book.contacts:
            if (
                not planner.in_audience(contact, camp, book.settings.country)
                or contact.preferences.do_not_contact
            ):
                continue
            drafts = camp.template is not None and not planner.draft_blocker(contact, camp)
            for sample in samples(book, contact, camp, today):
                touch = sample.touch
                try:
                    if drafts:
                        first = compose(book, env, touch, today)
                        rendered += 1
                        for n in range(2, len(camp.steps) + 2):  # a sequence's later notes
                            step = replace(touch, key=planner.step_key(touch.key, n))
                            compose(book, env, step, today, Thread(first.subject, ()))
                            rendered += 1
                    for fu in camp.followups:
                        event = planner.Scheduled(touch, fu, touch.occasion.date, "none")
                        feed.followup_event(book, strings, event, {}, today)
                        events += 1
                except RenderError as exc:
                    failures.append((touch, exc, sample.what))
                    break
    if failures or book.shared_addresses:  # one person twice: a problem for check
        raise InvalidInput([*book.shared_addresses, *_once_per_sample(book, failures)])
    return CheckReport(len(book.contacts), len(book.campaigns), rendered, events)


def _library_problems(root: Path, known: list[Problem]) -> list[Problem]:
    """The article library's problems, when the rest of the folder failed to load (and so the
    sources were not read), unless they are among the ``known`` ones already."""
    from outreach.config import load_settings
    from outreach.sources.articles import load_library

    settings, _, errors = load_settings(root)
    if settings is None or errors:
        return []
    path = resolve(root, settings.articles.library)
    if not path.is_file():
        return []
    return [p for p in load_library(path)[1] if p not in known]


def _once_per_sample(book: Book, failures: list[tuple[Touch, RenderError, str]]) -> list[Problem]:
    """A template that fails with a sample (a meeting without a title) fails so for everyone:
    say it once, with how many others; a failure with the contact's own data, once per contact."""
    groups: dict[tuple[str, int | None, str, str], list[Touch]] = {}
    firsts: list[tuple[Touch, RenderError, str]] = []
    for touch, exc, what in failures:
        key = (exc.template, exc.line, exc.message, what) if what else (touch.key, None, "", "")
        group = groups.setdefault(key, [])
        if not group:
            firsts.append((touch, exc, what))
        group.append(touch)
    out = []
    for touch, exc, what in firsts:
        key = (exc.template, exc.line, exc.message, what) if what else (touch.key, None, "", "")
        others = len(groups[key]) - 1
        if others:
            what += f"; the same for {others} other contact{'s' if others > 1 else ''}"
        out.append(failure_problem(book, touch, exc, what))
    return out


# --------------------------------------------------------------------------- plan


def read_history(book: Book) -> History:
    ledger = Ledger.open_readonly(book.path(book.settings.state))
    if ledger is None:
        return History()
    try:
        return ledger.history()
    finally:
        ledger.close()


def plan(
    root: Path, *, today: dt.date, days: int = 0, warn: Warn = _ignore
) -> tuple[Book, list[planner.Plan]]:
    book = load_with_sources(root, today, warn, days=days)
    history = read_history(book)
    book = planner.with_interactions(book, history)
    return book, planner.plan_days(book, history, today=today, days=days)


# --------------------------------------------------------------------------- run


@dataclass(frozen=True)
class Made:
    touch: Touch
    draft: Draft
    ref: str
    recovered: bool = False


@dataclass(frozen=True)
class Failed:
    touch: Touch
    problem: Problem


@dataclass(frozen=True)
class CalendarReport:
    path: Path
    events: int
    changed: int
    problems: list[Problem]
    dropped: int = 0  # left out to keep the file under the size clients accept
    until: dt.date | None = None


def _draft_infos(ledger: Ledger) -> list[DraftInfo]:
    out = []
    for r in ledger.rows("drafted"):
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
    specs, problems = feed.events(book, env, scheduled, _draft_infos(ledger), today=today)
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
    root: Path, *, today: dt.date, now: dt.datetime, out: Path | None = None, warn: Warn = _ignore
) -> CalendarReport:
    """``outreach calendar``: (re)write the feed."""
    book = load_with_sources(root, today, warn)
    state = book.path(book.settings.state)
    with RunLock(state.parent / "run.lock"):
        ledger = Ledger.open(state)
        try:
            return write_calendar(book, ledger, today=today, now=now, out=out)
        finally:
            ledger.close()


@dataclass
class RunReport:
    today: dt.date
    backend: str
    dry_run: bool
    where: str
    made: list[Made] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    plan: planner.Plan | None = None
    limited: int = 0
    calendar: CalendarReport | None = None


def _store_for(book: Book, backend: str | None) -> tuple[str, DraftStore]:
    name = backend or book.settings.drafts.backend
    return name, open_store(name, book.root, book.settings.drafts.dir, book.settings.gmail)


def run(
    root: Path,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    backend: str | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    warn: Warn = _ignore,
) -> RunReport:
    """Make the due drafts and record them. With ``dry_run`` nothing is written anywhere."""
    book = load_with_sources(root, today, warn)
    if dry_run:
        history = read_history(book)
        book = planner.with_interactions(book, history)
        p = planner.plan(book, history, today=today)
        touches, left = _limited(list(p.touches), limit)
        report = RunReport(
            today,
            backend or book.settings.drafts.backend,
            True,
            str(book.path(book.settings.drafts.dir)),
            plan=p,
            limited=left,
        )
        env = render.environment(book.templates_dir, book.root)
        threads = Threads.read(book)
        for t in touches:
            try:
                d = threads.compose(env, t, today)
                report.made.append(Made(t, d, "(dry run)"))
            except RenderError as exc:
                report.failed.append(Failed(t, failure_problem(book, t, exc)))
        return report

    name, store = _store_for(book, backend)
    state = book.path(book.settings.state)
    with RunLock(state.parent / "run.lock"):
        ledger = Ledger.open(state)
        try:
            remember_meetings(book, ledger, today)
            report = _run_locked(book, ledger, store, name, today, limit, progress)
            report.calendar = write_calendar(
                book, ledger, today=today, now=now or dt.datetime.combine(today, dt.time(), dt.UTC)
            )
            return report
        finally:
            ledger.close()


def _limited(touches: list[Touch], limit: int | None) -> tuple[list[Touch], int]:
    """``--limit N``: the N most important touches (the planner's rank), in plan order; and how
    many were left for the next run. The same for ``--dry-run`` and a real run."""
    if limit is None:
        return touches, 0
    keep = {t.key for t in sorted(touches, key=planner.rank)[:limit]}
    return [t for t in touches if t.key in keep], len(touches) - len(keep)


def _store_failed(
    ledger: Ledger, report: RunReport, touch: Touch, exc: OutreachError, today: dt.date
) -> None:
    problem = Problem(report.where, None, touch.key, exc.message, exc.hint)
    ledger.mark_failed(touch, str(problem), today)
    report.failed.append(Failed(touch, problem))


class Threads:
    """Where a sequence's later note goes: into its first note's conversation, under its subject.
    The first notes are those the ledger holds, and those composed earlier in the same plan (a
    ``plan --days`` run makes first notes on coming nights)."""

    def __init__(self, book: Book, firsts: dict[str, tuple[str, str | None]]) -> None:
        self.book = book
        self.firsts = firsts  # first-note key -> (subject, the mailbox's thread id)

    @classmethod
    def of_ledger(cls, book: Book, ledger: Ledger | None) -> Threads:
        sequences = {c.id for c in book.campaigns if c.steps}
        rows = ledger.rows("drafted") if ledger is not None and sequences else []
        return cls(
            book,
            {
                r.key: (r.subject, r.thread_id)
                for r in rows
                if r.subject and r.campaign in sequences
            },
        )

    @classmethod
    def read(cls, book: Book) -> Threads:
        """From the ledger opened read-only (``plan``, ``preview``, ``run --dry-run``)."""
        ledger = Ledger.open_readonly(book.path(book.settings.state))
        try:
            return cls.of_ledger(book, ledger)
        finally:
            if ledger is not None:
                ledger.close()

    def thread(self, touch: Touch) -> Thread | None:
        if planner.step_number(touch.key) == 1:
            return None
        first = self.firsts.get(planner.first_key(touch.key))
        if first is None:
            return None
        return thread_for(self.book, touch.key, first[0], first[1])

    def compose(self, env: render.Environment, touch: Touch, today: dt.date) -> Draft:
        """The draft of ``touch``, threaded; a first note is remembered for its later notes."""
        draft = compose(self.book, env, touch, today, self.thread(touch))
        if planner.step_number(touch.key) == 1:
            self.firsts.setdefault(touch.key, (draft.subject, None))
        return draft


WATCH_DAYS = 60


def _observe(book: Book, ledger: Ledger, store: DraftStore, today: dt.date) -> None:
    """Look at the conversations of recent drafts: a draft sent or deleted unsent is recorded;
    a reply from the contact stops the sequence and counts as a touch for keep-in-touch."""
    from outreach.drafts.gmail import GmailStore, thread_messages

    if not isinstance(store, GmailStore):
        return
    sender = book.settings.sender.email.lower()
    since = today - dt.timedelta(days=WATCH_DAYS)
    rows = [
        r
        for r in ledger.rows("drafted")
        if r.thread_id
        and r.outcome != "deleted"
        and r.made_on
        and dt.date.fromisoformat(r.made_on) >= since
    ]
    by_thread: dict[str, list[Any]] = {}
    for r in rows:
        by_thread.setdefault(str(r.thread_id), []).append(r)
    for thread_id, group in sorted(by_thread.items()):
        try:
            messages = thread_messages(store, thread_id)
        except StoreError:
            continue  # the mailbox did not answer: look again tomorrow
        for r in group:
            ours = [m for m in (messages or []) if m.message_id == r.message_id]
            if r.outcome is None:
                if any("SENT" in m.labels for m in ours):
                    ledger.set_outcome(r.key, "sent", max(m.day for m in ours))
                elif not any("DRAFT" in m.labels for m in ours):
                    sent = [m for m in messages or [] if "SENT" in m.labels and m.sender == sender]
                    if sent:  # Gmail may give the sent message a Message-ID of its own
                        ledger.set_outcome(r.key, "sent", max(m.day for m in sent))
                    else:
                        ledger.set_outcome(r.key, "deleted", today)
            made = dt.date.fromisoformat(str(r.made_on))
            for m in messages or []:
                if m.sender and m.sender != sender and "DRAFT" not in m.labels and m.day >= made:
                    ledger.add_reply(planner.first_key(r.key), r.contact, m.day)


def _run_locked(
    book: Book,
    ledger: Ledger,
    store: DraftStore,
    name: str,
    today: dt.date,
    limit: int | None,
    progress: Progress | None,
) -> RunReport:
    where = str(getattr(store, "folder", name))
    report = RunReport(today, name, False, where)
    clean = getattr(store, "clean", None)
    if callable(clean):
        clean()
    # Recovery: a draft written just before a crash is found by its Message-ID and recorded.
    for row in ledger.rows("pending"):
        if row.message_id and (found := store.find(row.message_id)) is not None:
            ledger.mark_drafted(row.key, found.ref, found.thread_id)
            report.recovered.append(row.key)

    if name == "gmail" and book.settings.gmail.reply_detection:
        _observe(book, ledger, store, today)
    history = ledger.history()
    book = planner.with_interactions(book, history)
    p = planner.plan(book, history, today=today)
    touches = list(p.touches)
    touches, report.limited = _limited(touches, limit)
    report.plan = p
    run_id = ledger.start_run(today, name)
    env = render.environment(book.templates_dir, book.root)
    threads = Threads.of_ledger(book, ledger)
    size = max(1, getattr(store, "batch_size", 1))
    for start in range(0, len(touches), size):
        if progress:
            progress(start, len(touches))
        ready: list[tuple[Touch, Draft]] = []
        for touch in touches[start : start + size]:
            try:
                draft = compose(book, env, touch, today, threads.thread(touch))
            except RenderError as exc:
                problem = failure_problem(book, touch, exc)
                ledger.mark_failed(touch, str(problem), today)
                report.failed.append(Failed(touch, problem))
                continue
            prior = ledger.get(touch.key)
            ledger.mark_pending(touch, draft.message_id, today, draft.subject)
            if prior is not None:  # tried before: it may exist although we never heard back
                try:
                    existing = store.find(draft.message_id)
                except StoreError as exc:  # AuthError and MailboxUnreachable end the night
                    _store_failed(ledger, report, touch, exc, today)
                    continue
                if existing is not None:
                    ledger.mark_drafted(touch.key, existing.ref, existing.thread_id)
                    report.made.append(Made(touch, draft, existing.ref, recovered=True))
                    continue
            ready.append((touch, draft))
        results = store.create_many([d for _, d in ready]) if ready else []
        for (touch, draft), result in zip(ready, results, strict=True):
            if isinstance(result, OutreachError):
                _store_failed(ledger, report, touch, result, today)
                continue
            _crash_point("after-write")
            ledger.mark_drafted(touch.key, result.ref, result.thread_id)
            report.made.append(Made(touch, draft, result.ref))
    if progress:
        progress(len(touches), len(touches))
    ledger.finish_run(run_id, len(report.made), len(report.failed))
    return report


# --------------------------------------------------------------------------- preview


@dataclass(frozen=True)
class Preview:
    touch: Touch
    result: Draft | Problem
    waits: str | None = None  # why it would not be made tonight (a limit), if so


def preview(root: Path, *, today: dt.date, key: str | None, warn: Warn = _ignore) -> list[Preview]:
    """Render the drafts due on ``today`` (or the one with ``key``) without storing anything."""
    book = load_with_sources(root, today, warn)
    history = read_history(book)
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
    env = render.environment(book.templates_dir, book.root)
    threads = Threads.read(book)
    out: list[Preview] = []
    for t, waits in todo:
        try:
            out.append(Preview(t, threads.compose(env, t, today), waits))
        except RenderError as exc:
            out.append(Preview(t, failure_problem(book, t, exc), waits))
    return out


def _find_key(book: Book, key: str, today: dt.date) -> list[Touch]:
    parts = key.split("/")
    if len(parts) != 3:
        return []
    camp_id, contact_id, _ = parts
    try:
        camp, contact = book.campaign(camp_id), book.contact(contact_id)
    except KeyError:
        return []
    for t in planner.occasions_for(book, contact, camp, today, History()):
        if t.key == key:
            return [t]
    return []


# --------------------------------------------------------------------------- log


LOG_HEADER = (
    "# Interactions logged with `outreach log` (append-only; edit by hand if you must).\n"
    "# Each line: contact id, date, kind (meeting call email note gift visit other), summary.\n"
)


def log_interaction(root: Path, *, contact_id: str, kind: str, summary: str, day: dt.date) -> Path:
    """Append one interaction to the interactions file; it never rewrites contacts.yaml."""
    import difflib

    import yaml

    book = load_book(root)
    try:
        book.contact(contact_id)
    except KeyError:
        close = difflib.get_close_matches(contact_id, [c.id for c in book.contacts], n=1)
        raise UsageError(
            f"no contact has the id '{contact_id}'",
            f"did you mean '{close[0]}'?" if close else "see contacts.yaml",
        ) from None
    from pydantic import ValidationError

    from outreach.model import LoggedInteraction

    if "\x00" in summary:
        raise UsageError("the note holds a NUL character", "type plain text")
    if not summary.strip():
        raise UsageError(
            "the note is empty", f"say what it was about, e.g. --{kind} 'talked about the renewal'"
        )
    entry = {"contact": contact_id, "date": day, "kind": kind, "summary": summary.strip()}
    try:  # write only what the next run accepts
        LoggedInteraction.model_validate(entry)
    except ValidationError as exc:
        raise UsageError(
            f"the note cannot be logged: {exc.errors()[0]['msg']}", "type plain text"
        ) from None
    line = yaml.safe_dump(
        [entry], default_flow_style=None, allow_unicode=True, width=100_000, sort_keys=False
    )
    path = book.path(book.settings.interactions)
    new = not path.exists() or path.stat().st_size == 0
    # a file edited by hand may not end with a line break: never glue onto its last line
    glue = "" if new or path.read_bytes()[-1:] == b"\n" else "\n"
    data = ((LOG_HEADER if new else glue) + line).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path
