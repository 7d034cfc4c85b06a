"""The commands around the nightly ones: ``init`` (a starter folder), ``import`` (people from an
export), ``auth gmail`` (the one-time consent) and ``serve`` (the calendar at a secret URL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from outreach.commands.common import settings_only
from outreach.errors import EXIT_OK

Say = Callable[[str], None]


@dataclass(frozen=True)
class InitReport:
    folder: Path
    written: list[Path]

    @property
    def exit_code(self) -> int:
        return EXIT_OK


def init(folder: Path) -> InitReport:
    """Scaffold a working folder (refuses to overwrite)."""
    from outreach import scaffold

    return InitReport(folder, scaffold.init(folder))


@dataclass(frozen=True)
class ImportedReport:
    summary: str  # the importer's own summary: counts, then one line per item worth a word

    @property
    def exit_code(self) -> int:
        return EXIT_OK


def import_contacts(
    root: Path, kind: str, file: Path, *, update: bool, dry_run: bool, tags: Sequence[str]
) -> ImportedReport:
    """Add the people of an export (``kind``: google-csv, vcard, linkedin) to contacts.yaml."""
    from outreach import importers
    from outreach.paths import resolve

    report = importers.import_contacts(
        kind,  # type: ignore[arg-type]
        file,
        resolve(root, settings_only(root).contacts),
        update=update,
        dry_run=dry_run,
        tags=tags,
    )
    return ImportedReport(report.summary())


def auth_gmail(root: Path, *, open_browser: bool, port: int, say: Say) -> None:
    """One-time OAuth consent; stores the refreshable token (mode 0600)."""
    from outreach import auth

    settings = settings_only(root)  # mailbox.watch asks for the read-only scope too
    gmail, watch = settings.gmail, settings.mailbox.watch
    contacts = any(s.kind == "google" for s in settings.sync)  # ... a google source, contacts'
    auth.authorize(
        gmail, root, open_browser=open_browser, port=port, echo=say, watch=watch, contacts=contacts
    )


def status_page(
    root: Path, today: Callable[[], dt.date]
) -> Callable[[], tuple[str, Sequence[tuple[str, str]]]]:
    """What serves the status page: built from the folder and the ledger for each request."""

    def page() -> tuple[str, Sequence[tuple[str, str]]]:
        from outreach import dashboard
        from outreach.commands.status import status

        report = status(root, today=today())
        return dashboard.page(report, ""), dashboard.HEADERS

    return page


def serve(
    root: Path, *, host: str, port: int, say: Say, today: Callable[[], dt.date] = dt.date.today
) -> None:
    """Serve the follow-up calendar and the status page at a secret URL until interrupted;
    ``say`` gets the URLs (the feed's http and webcal, the page's) as soon as the server
    listens. ``today``: the day a request is answered for (the clock, read by the CLI)."""
    from outreach import serve as feed_server
    from outreach.config import load_book

    book = load_book(root)
    feed = book.path(book.settings.calendar.path)
    token = feed_server.feed_token(book.path(book.settings.state).parent)
    server = feed_server.make_server(feed, token, host, port, status_page(root, today))
    http_url, webcal_url = feed_server.feed_urls(host, server.server_address[1], token)
    say(f"{http_url}  {webcal_url}")
    say(http_url.rsplit("/", 1)[0] + "/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
