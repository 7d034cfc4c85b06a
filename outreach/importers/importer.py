"""The import: read the file, take each record (match, fill or add, with a unique id), write
contacts.yaml, and the report of what became of every row or card."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from outreach.errors import UsageError
from outreach.importers.contacts_yaml import ContactsYaml, display_name
from outreach.importers.google import parse_google
from outreach.importers.linkedin import parse_linkedin
from outreach.importers.mapping import contact_data, keep_greeting, new_id, validated
from outreach.importers.records import Record
from outreach.importers.text import fold, one_line, read_text, unique
from outreach.importers.vcard import parse_vcard

Kind = Literal["google-csv", "vcard", "linkedin"]
KINDS: tuple[str, ...] = ("google-csv", "vcard", "linkedin")
Action = Literal["added", "updated", "unchanged", "skipped"]


@dataclass(frozen=True)
class Outcome:
    """What became of one row or card."""

    id: str  # the contact id (slug): the new one, or the existing contact it matched
    action: Action
    why: str = ""  # skipped: the reason; added/updated: what was left out or filled in
    source: str = ""  # where in the file: "row 7" (the header is row 1) or "card 3"


@dataclass(frozen=True)
class ImportReport:
    """The outcome of every row or card, and whether contacts.yaml was written."""

    outcomes: tuple[Outcome, ...]
    written: bool  # False for a dry run or when nothing changed
    path: str = "contacts.yaml"  # the contacts file's name, for the summary
    dry_run: bool = False
    notes: tuple[str, ...] = ()  # about the whole file: "ignored columns: X, Y"

    def summary(self) -> str:
        """One line of counts, then the file notes, then one line per item with something to say
        (skipped, partly imported, what an update filled in)."""
        counts = Counter(o.action for o in self.outcomes)
        parts = [f"{counts['added']} added"] + [
            f"{counts[a]} {a}" for a in ("updated", "unchanged", "skipped") if counts[a]
        ]
        if self.dry_run:
            where = f"dry run: {self.path} not written"
        elif self.written:
            where = self.path
        else:
            where = f"{self.path} not changed"
        lines = [f"{', '.join(parts)} ({where})", *self.notes]
        for o in self.outcomes:
            if o.why:
                who = f" {o.id}" if o.id and o.action != "skipped" else ""
                lines.append(f"{o.source}: {o.action}{who}: {o.why}")
        return "\n".join(lines)


def import_contacts(
    kind: Kind,
    file: Path,
    contacts_yaml: Path,
    *,
    update: bool = False,
    dry_run: bool = False,
    tags: Sequence[str] = (),
) -> ImportReport:
    """Import ``file`` (of format ``kind``) into ``contacts_yaml``.

    New people are appended; people already there (same e-mail address, else same full name) are
    skipped, or with ``update`` filled in where their fields are empty. ``tags`` are given to every
    imported contact. ``dry_run`` reports the same outcomes and writes nothing. Raises
    :class:`UsageError` for an unreadable or unrecognised file, :class:`InvalidInput` when
    contacts.yaml cannot be parsed."""
    parsers: dict[str, Callable[[str, str], tuple[list[Record], list[str]]]] = {
        "google-csv": parse_google,
        "vcard": parse_vcard,
        "linkedin": parse_linkedin,
    }
    parse = parsers.get(kind)
    if parse is None:
        raise UsageError(f"unknown import format '{kind}'", f"use one of: {', '.join(KINDS)}")
    text, encoding = read_text(file)
    records, file_notes = parse(text, file.name)
    notes = ([encoding] if encoding else []) + file_notes
    if not records:
        notes.append(f"no contacts found in {file.name}")
    book = ContactsYaml(contacts_yaml)
    extra_tags = unique(one_line(t) for t in tags)
    importer = _Importer(book, update=update, extra_tags=extra_tags)
    outcomes = tuple(importer.take(r) for r in records)
    written = False
    if book.changed and not dry_run:
        book.save()
        written = True
    return ImportReport(outcomes, written, book.name, dry_run, tuple(notes))


class _Importer:
    """Takes records one by one: match, fill or add, with unique ids."""

    def __init__(self, book: ContactsYaml, *, update: bool, extra_tags: list[str]) -> None:
        self.book = book
        self.update = update
        self.extra_tags = extra_tags
        self.taken = book.ids()
        self.by_address: dict[str, tuple[str, str]] = {}  # address -> (source, id), this file
        self.by_name: dict[str, tuple[str, str]] = {}

    def take(self, rec: Record) -> Outcome:
        src = rec.source
        if rec.not_person:
            return Outcome("", "skipped", rec.not_person, src)
        fields, problems, addresses = contact_data(rec, self.extra_tags)
        if fields is None:
            return Outcome("", "skipped", "no first name" if rec.last.strip() else "no name", src)
        name = f"{fields['name']['first']} {fields['name'].get('last', '')}"
        base = new_id(name, one_line(rec.reading), addresses)
        data = {"id": base, **fields}
        contact, invalid, skip = validated(data)
        problems += invalid
        if contact is None:
            return Outcome("", "skipped", "; ".join([skip, *problems]), src)
        full = fold(contact.name.full)
        existing, by_address = self.book.find(addresses, full)
        if existing is not None:
            eid = str(existing.get("id", ""))
            if not self.update:
                why = f"already in {self.book.name} (id {eid}; use --update)"
                return Outcome(eid, "skipped", why, src)
            greeting = keep_greeting(data["name"], existing.get("name"))
            filled = self.book.fill(existing, data)
            notes = [f"filled {', '.join(filled)}", greeting] if filled else []
            there = display_name(existing.get("name"))
            if by_address and fold(there) != full:  # a shared (household) address? say so
                notes.insert(0, f"matched by {by_address} (named {there} in {self.book.name})")
            action: Action = "updated" if filled else "unchanged"
            return Outcome(eid, action, "; ".join(n for n in notes + problems if n), src)
        folded = [a.casefold() for a in addresses]
        dup = next((self.by_address[a] for a in folded if a in self.by_address), None)
        dup = dup or self.by_name.get(full)
        if dup is not None:
            return Outcome(dup[1], "skipped", f"duplicate of {dup[0]}", src)
        ident, n = base, 1
        while ident in self.taken:
            n += 1
            ident = f"{base}-{n}"
        self.taken.add(ident)
        data["id"] = ident
        greeting = keep_greeting(data["name"])
        self.book.append(data)
        for a in folded:
            self.by_address.setdefault(a, (src, ident))
        self.by_name.setdefault(full, (src, ident))
        return Outcome(ident, "added", "; ".join(n for n in [greeting, *problems] if n), src)
