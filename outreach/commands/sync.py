"""``outreach sync [--dry-run] [--source N]``: pull what changed in each address book of
``sync:`` since the last sync into contacts.yaml (:mod:`outreach.sync` says how, and what is
never overwritten); ``run --sync`` does it first. ``--dry-run`` prints the change as a unified
diff of contacts.yaml and writes nothing.

A source that cannot be read is one line (a warning under ``run --sync``); the others are
synced. contacts.yaml is written only when the result passes ``outreach check``; then the
ledger keeps where each source's next pull starts.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path

from outreach.book import Book
from outreach.commands.common import Warn, ignore, settings_only
from outreach.errors import EXIT_OK, InvalidInput, Problem, UsageError
from outreach.importers.contacts_yaml import ContactsYaml
from outreach.ledger import Ledger, RunLock
from outreach.model import CardDavSync, Settings, SyncSource
from outreach.paths import resolve
from outreach.sources.contactsync import Pulled, SourceDown
from outreach.sync import Merged, Merger

ATTENTION = ("deleted remotely", "not added")  # said under cron too


@dataclass
class SyncReport:
    dry_run: bool
    path: str  # contacts.yaml's name
    merged: list[Merged] = field(default_factory=list)
    down: list[SourceDown] = field(default_factory=list)
    written: bool = False
    diff: str = ""  # --dry-run: the change as a unified diff
    quiet_down: bool = False  # run --sync: a source down is a warning, not an exit code

    @property
    def exit_code(self) -> int:
        """The worst of the sources that could not be read (1, or 5 for refused credentials)."""
        if self.quiet_down:
            return EXIT_OK
        return max([EXIT_OK, *(d.exit_code for d in self.down)])

    def lines(self) -> list[str]:
        """What the sync did: a line per source, and per person with something to say (but what
        :meth:`attention` says)."""
        out: list[str] = []
        for m in self.merged:
            counts: dict[str, int] = {}
            for c in m.changes:
                counts[c.action] = counts.get(c.action, 0) + 1
            told = ", ".join(f"{n} {a}" for a, n in counts.items()) or "no change"
            out.append(f"{m.source}: {told}")
            out += [
                f"  {c.action} {c.contact}" + (f": {c.what}" if c.what else "")
                for c in m.changes
                if c.action not in ATTENTION
            ]
        if self.dry_run:
            out.append(f"dry run: {self.path} not written")
        elif self.written:
            out.append(f"{self.path} written")
        return out

    def attention(self) -> list[str]:
        """What asks for the user, said under cron too (as warnings): people deleted at a
        source, people not added, the sources' notes."""
        out: list[str] = []
        for m in self.merged:
            out += [
                f"{m.source}: {c.action} {c.contact}" + (f": {c.what}" if c.what else "")
                for c in m.changes
                if c.action in ATTENTION
            ]
            out += [f"{m.source}: {n}" for n in m.notes]
        return out


def source_key(source: SyncSource) -> str:
    """What the ledger knows a source by: ``google``, ``carddav:<url>``."""
    return source.url if isinstance(source, CardDavSync) else "google"


def _pull(settings: Settings, root: Path, source: SyncSource, n: int, state: str | None) -> Pulled:
    if isinstance(source, CardDavSync):
        from outreach.sources import carddav

        return carddav.pull(source, root, state, setting=f"sync[{n}]")
    from outreach.sources import google_people

    return google_people.pull(settings.gmail, root, state)


def sync(
    root: Path,
    *,
    today: dt.date,
    dry_run: bool = False,
    source: int | None = None,
    warn: Warn = ignore,
    quiet_down: bool = False,
) -> SyncReport:
    """Sync every source of ``sync:`` (or the ``source``-th, from 1) into contacts.yaml.
    ``quiet_down`` (``run --sync``): a source that cannot be read is a warning only, not the
    report's exit code."""
    settings = settings_only(root)
    if not settings.sync:
        raise UsageError(
            "outreach.yaml has no sync: sources",
            "add one (README: Contacts that stay in step), e.g. sync: [{kind: google}]",
        )
    if source is not None and not 1 <= source <= len(settings.sync):
        raise UsageError(
            f"there is no sync source {source}",
            f"outreach.yaml has {len(settings.sync)} (--source 1 to {len(settings.sync)})",
        )
    state = resolve(root, settings.state)
    if dry_run:
        report = _sync(root, settings, today, dry_run, source, warn)
    else:
        with RunLock(state.parent / "run.lock"):
            report = _sync(root, settings, today, dry_run, source, warn)
    report.quiet_down = quiet_down
    return report


def _sync(
    root: Path, settings: Settings, today: dt.date, dry_run: bool, only: int | None, warn: Warn
) -> SyncReport:
    path = resolve(root, settings.contacts)
    report = SyncReport(dry_run, path.name)
    state = resolve(root, settings.state)
    ledger = Ledger.scratch(state) if dry_run else Ledger.open(state)
    try:
        pulls: list[tuple[str, SyncSource, Pulled]] = []
        for n, src in enumerate(settings.sync, 1):
            if only is not None and n != only:
                continue
            key = source_key(src)
            try:
                pulls.append((key, src, _pull(settings, root, src, n, ledger.sync_state(key))))
            except SourceDown as exc:
                report.down.append(exc)
                warn(f"sync[{n}] ({key}) not synced: {exc.lines()[0]}; contacts.yaml as it was")
        # contacts.yaml is read (with the comment-keeping parser, slow for big files) only when a
        # source has something to say
        busy = any(p.changed or p.deleted or p.complete for _, _, p in pulls)
        book = ContactsYaml(path) if busy else None
        for key, src, pulled in pulls:
            if book is None:
                report.merged.append(Merged(key, links={}, state=pulled.state, notes=pulled.notes))
                continue
            report.merged.append(Merger(book, key, src.tag, ledger.sync_links(key)).take(pulled))
        if book is not None and book.changed:
            new = book.render()
            _check(root, path.name, new, today)
            if dry_run:
                report.diff = "".join(
                    difflib.unified_diff(
                        book.text.splitlines(keepends=True),
                        new.splitlines(keepends=True),
                        f"a/{path.name}",
                        f"b/{path.name}",
                    )
                )
            else:
                book.save(new)
                report.written = True
        if not dry_run:
            for m in report.merged:
                ledger.save_sync(m.source, m.state, m.links.values())
    finally:
        ledger.close()
    return report


def _check(root: Path, name: str, text: str, today: dt.date) -> None:
    """What ``outreach check`` would say of the folder with contacts.yaml as ``text``; nothing
    is written when it finds a problem."""
    from outreach import config
    from outreach.commands.check import check_book

    try:
        book: Book = config.load_book(root, carry_snapshot=False, contacts_text=text)
        check_book(book, today)
    except InvalidInput as exc:
        why = Problem(
            name,
            None,
            "",
            "not written: with what the sync brings it would not pass 'outreach check'",
            "fix what follows (in contacts.yaml or at the source), then sync again",
        )
        raise InvalidInput([why, *exc.problems]) from None
