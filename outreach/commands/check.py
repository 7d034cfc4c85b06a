"""``outreach check``: validate every file, then render every template for every contact it
applies to (with samples for what a contact's data cannot show), and every follow-up event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from outreach import planner, render
from outreach.book import Book
from outreach.commands.common import Warn, ignore, load_with_sources
from outreach.errors import EXIT_OK, InvalidInput, Problem, RenderError
from outreach.executor import failure_problem
from outreach.message import Thread, compose
from outreach.model import Touch
from outreach.paths import resolve
from outreach.samples import samples


@dataclass(frozen=True)
class CheckReport:
    contacts: int
    campaigns: int
    rendered: int
    events: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_OK  # problems are raised: InvalidInput, exit 2


def check(root: Path, *, today: dt.date, warn: Warn = ignore) -> CheckReport:
    """Validate every file, then render every template for every contact it applies to."""
    try:
        book = load_with_sources(root, today, warn, strict=True, carry_snapshot=False)
    except InvalidInput as exc:  # every problem at once: the article library's too
        raise InvalidInput([*exc.problems, *_library_problems(root, exc.problems)]) from None
    rendered, events = check_book(book, today)
    return CheckReport(len(book.contacts), len(book.campaigns), rendered, events)


def check_book(book: Book, today: dt.date) -> tuple[int, int]:
    """Render every template for every contact it applies to, and every follow-up event;
    raises :class:`InvalidInput` with what fails (and the store's settings that cannot work).
    How many drafts and events were rendered."""
    from outreach import feed

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
                            step = touch.as_step(n)
                            compose(book, env, step, today, Thread(first.subject, ()))
                            rendered += 1
                    for fu in camp.followups:
                        event = planner.Scheduled(touch, fu, touch.occasion.date, "none")
                        feed.followup_event(book, strings, event, {}, today)
                        events += 1
                except RenderError as exc:
                    failures.append((touch, exc, sample.what))
                    break
    store = _store_problems(book)
    if failures or book.shared_addresses or store:  # one person twice: a problem for check
        raise InvalidInput([*book.shared_addresses, *_once_per_sample(book, failures), *store])
    return rendered, events


def _store_problems(book: Book) -> list[Problem]:
    """The imap store's and the CardDAV sources' settings, as far as they can be checked
    without connecting (a password file others may read, a password sent in clear text)."""
    from outreach.errors import OutreachError

    out: list[Problem] = []
    if book.settings.drafts.backend == "imap":
        from outreach.drafts.imap_conn import ImapSettingError, check_offline

        try:
            check_offline(book.settings.imap, book.root)
        except ImapSettingError as exc:
            out.append(Problem("outreach.yaml", None, "", exc.message, exc.hint))
    for n, src in enumerate(book.settings.sync, 1):
        if src.kind != "carddav":
            continue
        from outreach import secrets
        from outreach.sources.carddav_http import check_scheme

        try:
            check_scheme(src.url, f"sync[{n}]")
            if src.password_file or not src.password_command:
                secrets.read(src.password_file, None, book.root, f"sync[{n}]")
        except OutreachError as exc:
            out.append(Problem("outreach.yaml", None, "", exc.message, exc.hint))
    return out


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
