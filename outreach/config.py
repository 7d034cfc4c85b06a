"""Load and validate the user's folder: YAML -> frozen models, every problem with file:line."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from outreach import yamlsrc
from outreach.book import Book as Book
from outreach.errors import InvalidInput, Problem
from outreach.model import (
    DATE_FIELDS,
    TRIGGER_KINDS,
    Campaign,
    Contact,
    Interaction,
    Settings,
)
from outreach.paths import resolve
from outreach.yamlsrc import Loc, Source, format_loc

SETTINGS_FILE = "outreach.yaml"

M = TypeVar("M", bound=BaseModel)


# --------------------------------------------------------------------------- pydantic -> lines


def _data_path(data: Any, loc: Sequence[str | int]) -> Loc:
    """Map a pydantic location onto the data, dropping union tags that are not in the data."""
    out: list[str | int] = []
    cur = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        in_dict = isinstance(cur, dict) and isinstance(part, str) and part in cur
        in_list = isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        if in_dict or in_list:
            out.append(part)
            cur = cur[part]
        elif last:
            out.append(part)
        elif isinstance(part, str) and part in TRIGGER_KINDS:
            continue  # the discriminated union's tag
        else:
            out.append(part)
            cur = None
    return tuple(out)


def _known_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys allowed at ``loc`` (for 'did you mean')."""
    from typing import get_args, get_origin

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            if part in TRIGGER_KINDS and part not in current.model_fields:
                continue
            fld = current.model_fields.get(part)
            if fld is None:
                return []
            current = fld.annotation
        # unwrap Optional / tuple / Annotated / unions down to a model
        for _ in range(6):
            if isinstance(current, type) and issubclass(current, BaseModel):
                break
            args = [a for a in get_args(current) if a is not type(None) and a is not Ellipsis]
            if get_origin(current) is None and not args:
                break
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            current = models[0] if models else (args[0] if args else None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _message(err: Any, model: type[BaseModel], loc: Sequence[str | int]) -> tuple[str, str]:
    kind = err["type"]
    value = err.get("input")
    key = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        allowed = _known_keys(model, loc[:-1])
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else (f"allowed keys: {', '.join(allowed)}" if allowed else "remove it")
        )
        return f"unknown key '{key}'", hint
    if kind == "missing":
        return f"required key '{key}' is missing", f"add '{key}:'"
    if kind == "union_tag_not_found":
        return "a trigger needs a 'kind'", f"add 'kind:' with one of: {', '.join(TRIGGER_KINDS)}"
    if kind == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag", value)
        return f"unknown trigger kind '{tag}'", f"use one of: {', '.join(TRIGGER_KINDS)}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        if key == "field":
            close = difflib.get_close_matches(str(value), DATE_FIELDS, n=1)
            hint = (
                f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(DATE_FIELDS)}"
            )
            return f"unknown date field '{value}'", hint
        return f"'{value}' is not allowed here", f"use {expected}"
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return f"'{value}' is not allowed here", f"use {expected}"
    if kind in (
        "email",
        "timezone",
        "country",
        "slug",
        "partial_date",
        "impossible_date",
        "header_crlf",
        "control_char",
        "email_ascii",
        "empty",
        "clock",
        "before_and_after",
        "no_output",
        "followup_id",
        "url",
        "steps_template",
        "holiday_category",
    ):
        hints = {
            "email": "write it as name@domain.tld",
            "timezone": "use an IANA name such as Europe/Berlin or America/Chicago",
            "country": "use a two-letter ISO code such as US, GB or DE",
            "slug": "use lowercase letters, digits and dashes, e.g. jane-doe",
            "partial_date": "write YYYY-MM-DD, or --MM-DD when the year is unknown",
            "impossible_date": "check the month and day",
            "header_crlf": "put it on one line",
            "control_char": "delete it: most editors do not show it",
            "email_ascii": "ask the person for an address in plain ASCII letters before the @",
            "empty": "give a value or remove the key",
            "clock": "write it as HH:MM in quotes, e.g. '08:30'",
            "before_and_after": "keep one: 'before: N' (days before) or 'after: N' (days after)",
            "no_output": "name a template, or list followups (calls, cards, gifts, reviews)",
            "followup_id": "give each follow-up its own 'id:'",
            "url": "write the whole address, e.g. https://gmail.googleapis.com/",
            "steps_template": "add 'template:' for the first note",
            "holiday_category": "leave 'categories' out to search them all",
        }
        return str(err["msg"]), hints[kind]
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"'{value}' is not a whole number", "write a number such as 7"
    if kind in ("bool_type", "bool_parsing"):
        return f"'{value}' is not true or false", "write true or false"
    if kind in (
        "date_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
    ):
        return f"'{value}' is not a date", "write YYYY-MM-DD"
    if kind in ("string_type",):
        return f"expected text, got {type(value).__name__} '{value}'", "quote the value"
    if kind in ("tuple_type", "list_type"):
        return (
            f"expected a list, got {type(value).__name__}",
            "write a YAML list: [a, b] or '- a' lines",
        )
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return (
            f"expected a mapping of keys, got {type(value).__name__}",
            "indent 'key: value' lines under it",
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{value} is out of range ({err['msg'].lower()})", "pick a value in range"
    return str(err["msg"]), "see the README reference"


def validate(model: type[M], source: Source, *, at: Loc = ()) -> tuple[M | None, list[Problem]]:
    try:
        return model.model_validate(source.data), []
    except ValidationError as exc:
        problems: list[Problem] = []
        for err in exc.errors():
            loc = _data_path(source.data, (*at, *err["loc"]))
            msg, hint = _message(err, model, err["loc"])
            path, msg = yamlsrc.printable(format_loc(loc)), yamlsrc.printable(msg)
            problems.append(Problem(source.name, source.line_of(loc), path, msg, hint))
        return None, problems


def _items(
    model: type[M], source: Source, key: str, known: list[Problem]
) -> tuple[list[tuple[int, M]], list[Problem]]:
    """Validate a top-level ``key: [items]`` file item by item, so one bad item is one problem.
    Problems at a place that ``known`` already reports (an impossible date) are not repeated."""
    problems: list[Problem] = []
    already = {(p.line, p.path) for p in known}
    data = source.data
    if not isinstance(data, dict):
        return [], [
            Problem(
                source.name,
                1,
                "",
                f"expected a mapping with a '{key}:' list",
                f"start the file with '{key}:'",
            )
        ]
    extra = [k for k in data if k != key]
    for k in extra:
        problems.append(
            Problem(
                source.name,
                source.line_of((k,)),
                k,
                f"unknown key '{k}'",
                f"the file holds only '{key}:'",
            )
        )
    items = data.get(key)
    if not isinstance(items, list):
        return [], [
            *problems,
            Problem(
                source.name,
                source.line_of((key,)) or 1,
                key,
                "expected a list",
                f"write '{key}:' followed by '- ' items",
            ),
        ]
    by_item: dict[object, dict[Loc, int]] = {}
    for loc, ln in source.lines.items():
        if len(loc) >= 2 and loc[0] == key:
            by_item.setdefault(loc[1], {})[loc[2:]] = ln
    good: list[tuple[int, M]] = []
    for i, item in enumerate(items):
        sub = Source(source.name, item, by_item.get(i, {}))
        obj, errs = validate(model, sub)
        for p in errs:
            path = f"{key}[{i}]" + (
                p.path if not p.path or p.path.startswith("[") else f".{p.path}"
            )
            if (p.line, path) not in already:
                problems.append(Problem(p.file, p.line, path, p.message, p.hint))
        if obj is not None:
            good.append((i, obj))
    return good, problems


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


def load_book(root: Path) -> Book:
    """Load and validate every file. Raises :class:`InvalidInput` with all problems found."""
    from outreach.model import Campaign as CampaignModel
    from outreach.model import Contact as ContactModel

    settings, settings_src, problems = load_settings(root)
    if settings is None:
        raise InvalidInput(problems)
    sources: dict[str, Source] = {SETTINGS_FILE: settings_src}

    def rel(p: str) -> Path:
        return resolve(root, p)

    contacts_src, errs = yamlsrc.load(rel(settings.contacts), settings.contacts)
    problems += errs
    sources[settings.contacts] = contacts_src
    contacts: list[tuple[int, Contact]] = []
    if contacts_src.data is not None:
        contacts, errs = _items(ContactModel, contacts_src, "contacts", errs)
        problems += errs
    campaigns_src, errs = yamlsrc.load(rel(settings.campaigns), settings.campaigns)
    problems += errs
    sources[settings.campaigns] = campaigns_src
    campaigns: list[tuple[int, Campaign]] = []
    if campaigns_src.data is not None:
        campaigns, errs = _items(CampaignModel, campaigns_src, "campaigns", errs)
        problems += errs

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
        rel(settings.interactions), settings.interactions, {c.id for _, c in contacts}, sources
    )
    problems += errs
    people = tuple(
        c.model_copy(update={"interactions": (*c.interactions, *logged[c.id])})
        if c.id in logged
        else c
        for _, c in contacts
    )
    shared = shared_addresses(contacts_src, contacts)
    book = Book(root, settings, people, tuple(c for _, c in campaigns), sources, (), (), shared)
    problems += check_templates(book)
    problems += check_campaign_references(book, [i for i, _ in campaigns])
    if problems:
        raise InvalidInput([*shared, *problems])  # contacts.yaml comes before campaigns.yaml
    return book


def shared_addresses(src: Source, contacts: list[tuple[int, Contact]]) -> tuple[Problem, ...]:
    """Each address (any case) that a contact shares with an earlier one under another id."""
    first: dict[str, tuple[str, int | None]] = {}
    out: list[Problem] = []
    for i, person in contacts:
        for which in ("work", "personal"):
            address = getattr(person.email, which)
            if not address:
                continue
            line = src.line_of(("contacts", i, "email", which))
            owner, where = first.setdefault(address.lower(), (person.id, line))
            if owner != person.id:
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
    path: Path, name: str, ids: set[str], sources: dict[str, Source]
) -> tuple[dict[str, list[Interaction]], list[Problem]]:
    """The interactions `outreach log` appended (optional file): contact id -> interactions."""
    from outreach.model import LoggedInteraction

    src, problems = yamlsrc.load(path, name, required=False)
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
    for i, item in enumerate(src.data):
        sub = Source(name, item, {loc[1:]: ln for loc, ln in src.lines.items() if loc[:1] == (i,)})
        entry, errs = validate(LoggedInteraction, sub)
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
