"""Load and validate the user's folder: YAML -> frozen models, every problem with file:line.

The folder's files (outreach.yaml, contacts.yaml, campaigns.yaml, interactions.yaml) are read here
and checked across each other (duplicate ids and addresses, templates, holidays, contact ids);
the mapping of pydantic's errors onto lines is ``outreach.validation`` (re-exported here).
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path
from typing import Any

from outreach import yamlsrc
from outreach.book import Book as Book
from outreach.campaigns import Campaign
from outreach.contacts import Contact, Interaction, LoggedInteraction
from outreach.errors import InvalidInput, Problem
from outreach.introduction import Introduction
from outreach.paths import resolve
from outreach.settings import Settings
from outreach.snapshot import Snapshot
from outreach.validation import M
from outreach.validation import validate as validate
from outreach.validation import validate_items as validate_items
from outreach.yamlsrc import Loc, Source, format_loc

SETTINGS_FILE = "outreach.yaml"


# --------------------------------------------------------------------------- the folder


def load_settings(root: Path) -> tuple[Settings | None, Source, list[Problem]]:
    source, problems = yamlsrc.load(root / SETTINGS_FILE, SETTINGS_FILE)
    if problems:
        if problems[0].message == "file not found":
            problems = [
                Problem(
                    SETTINGS_FILE,
                    None,
                    "",
                    f"no {SETTINGS_FILE} in {root}",
                    "run 'outreach init' here, or pass -C DIR to name your folder",
                )
            ]
        return None, source, problems
    settings, problems = validate(Settings, source)
    return settings, source, problems


SNAPSHOT_FILE = "book.snapshot"


def load_book(
    root: Path,
    *,
    keep_snapshot: bool = False,
    carry_snapshot: bool = True,
    contacts_text: str | None = None,
) -> Book:
    """Load and validate every file. Raises :class:`InvalidInput` with all problems found.

    The YAML files whose bytes the snapshot beside the ledger knows are not parsed again (their
    values are validated all the same); ``keep_snapshot`` writes it now when a file changed and
    the book has no problem. With ``carry_snapshot``, a book whose snapshot is to be written
    (a file changed) carries it (``book.snapshot.save()``): a run writes it only once its night
    went well, so a night refused (a foreign ledger) leaves the folder alone. Otherwise the
    snapshot, and the values it holds, are let go once the book is loaded. ``contacts_text``:
    the contacts file as it would be (a sync checks what it is about to write)."""
    settings, settings_src, problems = load_settings(root)
    if settings is None:
        raise InvalidInput(problems)
    sources: dict[str, Source] = {SETTINGS_FILE: settings_src}

    def rel(p: str) -> Path:
        return resolve(root, p)

    snap = Snapshot.open(rel(settings.state).parent / SNAPSHOT_FILE)

    def read(name: str, model: type[M], key: str) -> tuple[Source, list[tuple[int, M]]]:
        """One file of items (``key: [...]``): read, its problems kept, each item validated."""
        if contacts_text is not None and name == settings.contacts:
            src, errs = yamlsrc.loads(contacts_text, name)
        else:
            src, errs = yamlsrc.load(rel(name), name, snapshot=snap)
        problems.extend(errs)
        sources[name] = src
        if src.data is None:
            return src, []
        items, errs = validate_items(model, src, key, errs)
        problems.extend(errs)
        return src, items

    contacts_src, contacts = read(settings.contacts, Contact, "contacts")
    campaigns_src, campaigns = read(settings.campaigns, Campaign, "campaigns")

    # Duplicate ids: the second one is the problem.
    for name, src, key in (
        ("contact", contacts_src, "contacts"),
        ("campaign", campaigns_src, "campaigns"),
    ):
        raw = src.data.get(key) if isinstance(src.data, dict) else None
        seen: dict[str, int] = {}
        for i, item in enumerate(raw if isinstance(raw, list) else []):
            ident = item.get("id") if isinstance(item, dict) else None
            if not isinstance(ident, str):
                continue
            if ident in seen:
                first = src.line_of((key, seen[ident]))
                problems.append(
                    Problem(
                        src.name,
                        src.line_of((key, i, "id")),
                        f"{key}[{i}].id",
                        f"duplicate {name} id '{yamlsrc.printable(ident)}' "
                        f"(first used on line {first})",
                        "give each one its own id",
                    )
                )
            else:
                seen[ident] = i

    logged, errs = load_logged(
        rel(settings.interactions),
        settings.interactions,
        {c.id for _, c in contacts},
        sources,
        snap,
    )
    problems += errs
    intros, errs = load_introductions(
        rel(settings.introductions), settings.introductions, {c.id: c for _, c in contacts}, sources
    )
    problems += errs
    people = tuple(
        c.model_copy(update={"interactions": (*c.interactions, *logged[c.id])})
        if c.id in logged
        else c
        for _, c in contacts
    )
    shared = shared_addresses(contacts_src, contacts)
    book = Book(
        root,
        settings,
        people,
        tuple(c for _, c in campaigns),
        sources,
        (),
        (),
        shared,
        introductions=tuple(intros),
    )
    problems += check_templates(book)
    problems += check_campaign_references(book, [i for i, _ in campaigns])
    if problems:
        raise InvalidInput([*shared, *problems])  # contacts.yaml comes before campaigns.yaml
    if keep_snapshot:
        snap.save()  # best effort: a snapshot that cannot be written costs the next night time
    sources[settings.contacts] = contacts_src.lines_only()  # the values are in book.contacts
    snap.prune()
    # a run saves it once its night went well
    return replace(book, snapshot=snap if carry_snapshot and snap.changed else None)


def shared_addresses(src: Source, contacts: list[tuple[int, Contact]]) -> tuple[Problem, ...]:
    """Each address (any case) that a contact shares with an earlier one under another id."""
    first: dict[str, tuple[str, int, str]] = {}
    out: list[Problem] = []
    for i, person in contacts:
        for which in ("work", "personal"):
            address = getattr(person.email, which)
            if not address:
                continue
            owner, j, was = first.setdefault(address.lower(), (person.id, i, which))
            if owner != person.id:  # the lines are looked up only now: a problem to report
                line = src.line_of(("contacts", i, "email", which))
                where = src.line_of(("contacts", j, "email", was))
                out.append(
                    Problem(
                        src.name,
                        line,
                        f"contacts[{i}].email.{which}",
                        f"'{address}' is also the address of '{owner}' ({src.name}:{where})",
                        "merge the two entries, or give each person their own address",
                    )
                )
    return tuple(out)


def load_logged(
    path: Path, name: str, ids: set[str], sources: dict[str, Source], snap: Snapshot | None = None
) -> tuple[dict[str, list[Interaction]], list[Problem]]:
    """The interactions `outreach log` appended (optional file): contact id -> interactions."""
    src, problems = yamlsrc.load(path, name, required=False, snapshot=snap)
    if src.data is None:
        return {}, problems
    sources[name] = src
    if not isinstance(src.data, list):
        return {}, [
            Problem(
                name,
                1,
                "",
                "expected a list of '- {contact: ..., date: ...}' lines",
                "let 'outreach log' write this file",
            )
        ]
    out: dict[str, list[Interaction]] = {}
    for i in range(len(src.data)):
        entry, errs = validate(LoggedInteraction, src.within((i,)))
        reported = {p.line for p in problems}  # e.g. an impossible date, said once already
        problems += [
            Problem(p.file, p.line, f"[{i}]" + (f".{p.path}" if p.path else ""), p.message, p.hint)
            for p in errs
            if p.line not in reported
        ]
        if entry is None:
            continue
        if entry.contact not in ids:
            close = difflib.get_close_matches(entry.contact, sorted(ids), n=1)
            problems.append(
                Problem(
                    name,
                    src.line_of((i, "contact")),
                    f"[{i}].contact",
                    f"no contact has the id '{entry.contact}'",
                    f"did you mean '{close[0]}'?" if close else "check contacts.yaml",
                )
            )
            continue
        out.setdefault(entry.contact, []).append(
            Interaction(date=entry.date, kind=entry.kind, summary=entry.summary)
        )
    return out, problems


def load_introductions(
    path: Path, name: str, people: dict[str, Contact], sources: dict[str, Source]
) -> tuple[list[Introduction], list[Problem]]:
    """introductions.yaml (optional): each entry validated; an unknown id, or a person without
    an address, is a problem at its line."""
    src, problems = yamlsrc.load(path, name, required=False)
    if src.data is None:
        return [], problems
    sources[name] = src
    items, errs = validate_items(Introduction, src, "introductions", [])
    problems += errs
    out: list[Introduction] = []
    for i, intro in items:
        bad = False
        for key, ident in (("from", intro.from_), ("to", intro.to)):
            if ident is None:
                continue
            where = src.line_of(("introductions", i, key))
            if ident not in people:
                close = difflib.get_close_matches(ident, sorted(people), n=1)
                problems.append(
                    Problem(
                        name,
                        where,
                        f"introductions[{i}].{key}",
                        f"no contact has the id '{ident}'",
                        f"did you mean '{close[0]}'?" if close else "check contacts.yaml",
                    )
                )
                bad = True
            elif not (people[ident].email.work or people[ident].email.personal):
                problems.append(
                    Problem(
                        name,
                        where,
                        f"introductions[{i}].{key}",
                        f"{ident} has no email address to introduce",
                        "add email.work or email.personal in contacts.yaml",
                    )
                )
                bad = True
        if not bad:
            out.append(intro)
    return out, problems


def check_templates(book: Book) -> list[Problem]:
    """Every campaign's template must exist and parse (also for campaigns with other problems)."""
    from outreach import render

    src = book.sources[book.settings.campaigns]
    raw = src.data.get("campaigns") if isinstance(src.data, dict) else None
    env = render.environment(book.templates_dir, book.root)
    problems: list[Problem] = []
    checked: set[str] = set()
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict):
            continue
        places: list[tuple[Any, Loc]] = [(item.get("template"), ("campaigns", i, "template"))]
        steps = item.get("steps")
        for j, step in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(step, dict):
                places.append((step.get("template"), ("campaigns", i, "steps", j, "template")))
        for name, loc in places:
            if not isinstance(name, str) or not name.strip():
                continue
            found = render.check_template(
                env, name.strip(), src.name, src.line_of(loc), format_loc(loc)
            )
            missing = [p for p in found if p.path.startswith("campaigns[")]
            if name in checked and not missing:
                continue  # the same template's own problems are listed once
            checked.add(name)
            problems += found
    return problems


def check_campaign_references(book: Book, indices: list[int]) -> list[Problem]:
    """Holidays that must resolve, contact ids that must exist, follow-up templates that parse."""
    import jinja2

    from outreach import occasions, render

    problems: list[Problem] = []
    src = book.sources[book.settings.campaigns]
    ids = {c.id for c in book.contacts}
    env = render.environment(book.templates_dir, book.root)
    for i, camp in zip(indices, book.campaigns, strict=True):
        loc: Loc = ("campaigns", i)
        for j, fu in enumerate(camp.followups):
            for key, text in (("title", fu.title), ("text", fu.text)):
                if text is None:
                    continue
                try:
                    env.from_string(text)
                except jinja2.TemplateSyntaxError as exc:
                    problems.append(
                        Problem(
                            src.name,
                            src.line_of((*loc, "followups", j, key)),
                            f"campaigns[{i}].followups[{j}].{key}",
                            f"template syntax error: {exc.message}",
                            "fix the {{ }} / {% %} tags",
                        )
                    )
        for j, cid in enumerate(camp.audience.exclude):
            if cid not in ids:
                problems.append(
                    Problem(
                        src.name,
                        src.line_of((*loc, "audience", "exclude", j)),
                        f"campaigns[{i}].audience.exclude[{j}]",
                        f"no contact has the id '{cid}'",
                        "check the spelling",
                    )
                )
        trig = camp.trigger
        if trig.kind == "holiday" and not trig.dates:
            countries = (
                {trig.country}
                if trig.country
                else {c.country or book.settings.country for c in book.contacts}
                or {book.settings.country}
            )
            if not any(
                occasions.holiday_known(trig.name, country, trig.categories)
                for country in countries
            ):
                cats = f" ({', '.join(trig.categories)})" if trig.categories else ""
                problems.append(
                    Problem(
                        src.name,
                        src.line_of((*loc, "trigger", "name")),
                        f"campaigns[{i}].trigger.name",
                        f"no holiday called '{trig.name}' in {', '.join(sorted(countries))}{cats}",
                        "use the name the 'holidays' package gives (e.g. 'Thanksgiving Day'), "
                        + ("or other categories, " if trig.categories else "")
                        + "or list the dates under 'dates:'",
                    )
                )
    return problems
