"""A record as contacts.yaml data: the name, the two address slots, dates, family, the id, and
validation with :class:`outreach.model.Contact` (a field that fails is left out and reported)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from outreach.importers.records import Record
from outreach.importers.text import MISSING, clean, fold, is_empty, normalize_date, one_line, unique
from outreach.model import Contact
from outreach.slugs import slug


def _before(name: str, family: str) -> str:
    """What precedes ``family`` at the end of ``name`` (``"Priya"`` for ``"Priya Raman"``,
    ``"Raman"``), ignoring case; "" if ``name`` does not end with it."""
    words, n = name.split(" "), len(family.split(" "))
    if family and n < len(words) and fold(" ".join(words[-n:])) == fold(family):
        return " ".join(words[:-n])
    return ""


def _records_name(rec: Record) -> tuple[str, str]:
    """First and last name. When the given name is empty, or it is the whole display name and
    there is no family name (Google's old CSV with "Priya Raman" as Family Name; Android's
    ``N:Priya Raman;;;;`` or ``N:;Priya Raman;;;``), they come from the display name (vCard
    ``FN``, Google's "Name"): what precedes the family name if the display name ends with it,
    else the display name split at its last space; a one-word display name is the first name.
    A given name that ends with the family name loses it (never "Priya Raman Raman")."""
    first, last, full = one_line(rec.first), one_line(rec.last), one_line(rec.full)
    if first and last:
        return _before(first, last) or first, last
    if not full or (first and fold(first) != fold(full)):
        return first, last
    given = _before(full, last)
    if given:
        return given, last
    head, _, tail = full.rpartition(" ")
    if head:
        return head, tail
    return full, "" if fold(last) == fold(full) else last


def contact_data(
    rec: Record, extra_tags: Sequence[str]
) -> tuple[dict[str, Any] | None, list[str], list[str]]:
    """contacts.yaml data for a record (without id), the problems found, and every e-mail address
    it has (for matching). None when it has no first name."""
    problems = list(rec.problems)
    first, last = _records_name(rec)
    addresses = unique(
        a for a in (one_line(e) for _, e in rec.emails) if a
    )  # in file order, each once
    if not first:
        return None, problems, addresses
    data: dict[str, Any] = {"name": {"first": first}}
    if last:
        data["name"]["last"] = last
    if one_line(rec.nickname):
        data["name"]["nickname"] = one_line(rec.nickname)

    slots: dict[str, str] = {}
    extra: list[str] = []
    seen: set[str] = set()
    ordered = [e for e in rec.emails if e[0]] + [e for e in rec.emails if not e[0]]
    for kind, raw in ordered:
        address = one_line(raw)
        if not address or address.casefold() in seen:
            continue
        seen.add(address.casefold())
        if kind == "work" and "work" not in slots:
            slots["work"] = address
        elif kind == "personal" and "personal" not in slots:
            slots["personal"] = address
        elif not kind and ("work" not in slots or "personal" not in slots):
            slots["work" if "work" not in slots else "personal"] = address
        else:
            extra.append(address)
    if slots:
        data["email"] = {k: slots[k] for k in ("work", "personal") if k in slots}
    if extra:
        problems.append(
            f"{', '.join(extra)}: not imported (contacts.yaml keeps one work and one personal "
            "address)"
        )
    for key, value in (("company", rec.company), ("title", rec.title)):
        if one_line(value):
            data[key] = one_line(value)
    tags = unique([*rec.tags, *extra_tags])
    if tags:
        data["tags"] = tags
    if rec.stage:
        data["stage"] = rec.stage
    dates: dict[str, str] = {}
    for key, what, raw in (
        ("birthday", "birthday", rec.birthday),
        ("wedding", "anniversary", rec.wedding),
    ):
        if raw.strip():
            norm = normalize_date(raw)
            if norm is None:
                problems.append(f"{what} '{raw.strip()}' is not a date: imported without it")
            else:
                dates[key] = norm
    if dates:
        data["dates"] = dates
    family: dict[str, Any] = {}
    if one_line(rec.spouse):
        family["spouse"] = {"name": one_line(rec.spouse)}
    children = unique(one_line(c) for c in rec.children)
    if children:
        family["children"] = [{"name": c} for c in children]
    if family:
        data["family"] = family
    hobbies = unique(one_line(h) for h in rec.hobbies)
    if hobbies:
        data["profile"] = {"hobbies": hobbies}
    notes = clean("\n".join(n for n in rec.notes if n.strip()))
    if notes:
        data["notes"] = notes
    return data, problems, addresses


def keep_greeting(name: dict[str, Any], before: Any = None) -> str:
    """Keep how the person is greeted. ``greet`` falls back to the nickname, so a nickname from
    an export would change every subject and salutation ("Happy birthday, Amazing Grace!"):
    when the import adds one, the imported ``name`` gets a ``greeting`` of what they were
    greeted as until now (``before``: their name in contacts.yaml when updating; else the first
    name). Returns the note for the summary, "" when the greeting does not change."""
    nickname = name.get("nickname")
    old = before if isinstance(before, dict) else {}
    if not nickname or not is_empty(old.get("nickname")) or not is_empty(old.get("greeting")):
        return ""  # no nickname is added, or it is not the one greeted by
    first = old.get("first")
    greet = first.strip() if isinstance(first, str) and first.strip() else name["first"]
    if greet == nickname:
        return ""
    name["greeting"] = greet
    return f"nickname '{nickname}' kept; greeted as '{greet}' (set name.greeting to change it)"


_ID_LENGTH = 40  # a longer id is cut between words


def new_id(name: str, reading: str, addresses: Sequence[str]) -> str:
    """The id for someone new, before it is made unique: the name as a slug, transliterated if
    it is in another script. A name without Latin letters goes by its phonetic name when the
    export has one (太郎 山田 read as たろう やまだ is ``tarou-yamada``, where anyascii would give
    the Mandarin reading). A name that gives nothing (emoji only) goes by the local part of the
    first address; "contact" only when there is no address either."""
    latin = any("LATIN" in unicodedata.name(ch, "") for ch in name)
    readings = [reading] if reading and not latin else []
    local_parts = [a.split("@")[0].split("+")[0] for a in addresses]
    for text in (*readings, name, *local_parts):
        ident = slug(text)
        if len(ident) > _ID_LENGTH:
            cut = ident[: _ID_LENGTH + 1].rpartition("-")[0]
            ident = cut if len(cut) >= _ID_LENGTH // 2 else ident[:_ID_LENGTH].rstrip("-")
        if ident:
            return ident
    return "contact"


_WHAT = {
    ("email", "work"): "work email",
    ("email", "personal"): "personal email",
    ("name", "last"): "last name",
    ("name", "nickname"): "nickname",
    ("dates", "birthday"): "birthday",
    ("dates", "wedding"): "anniversary",
    ("family", "spouse"): "spouse",
    ("family", "children"): "child",
    ("profile", "hobbies"): "hobby",
}
_WHY = {
    "email": "is not an email address",
    "partial_date": "is not a date",
    "impossible_date": "is not a date",
    "header_crlf": "contains a line break",
    "empty": "is empty",
}


def validated(data: dict[str, Any]) -> tuple[Contact | None, list[str], str]:
    """Validate with the Contact model, removing from ``data`` each field that fails (one
    problem each). Returns the contact, or None and why it cannot be imported at all."""
    problems: list[str] = []
    for _ in range(50):
        try:
            return Contact.model_validate(data), problems, ""
        except ValidationError as exc:
            errors = exc.errors()
        progress = False
        for err in errors:
            loc = tuple(err["loc"])
            if loc[:1] == ("id",) or loc in (("name",), ("name", "first")):
                return None, problems, f"no usable name ({err['msg']})"
            # A spouse's or child's name failed: leave that whole person out.
            cut = loc[:-1] if loc[-1] == "name" and loc[:1] == ("family",) else loc
            value = _pop(data, cut)
            if value is MISSING:
                continue
            progress = True
            key = (str(cut[0]), str(cut[1])) if len(cut) > 1 else (str(cut[0]), "")
            what = _WHAT.get(key) or ".".join(str(p) for p in cut)
            why = _WHY.get(err["type"], err["msg"])
            shown = err.get("input")
            quoted = f"'{shown}' " if isinstance(shown, str) else ""
            problems.append(f"{what} {quoted}{why}: imported without it")
        if not progress:
            return None, problems, f"not importable: {errors[0]['msg']}"
    return None, problems, "not importable"


def _has(container: Any, key: Any) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container)


def _pop(data: Any, loc: tuple[Any, ...]) -> Any:
    """Remove the value at ``loc`` and any container left empty; MISSING if it is not there."""
    if not loc:
        return MISSING
    parent = data
    for part in loc[:-1]:
        if not _has(parent, part):
            return MISSING
        parent = parent[part]
    if not _has(parent, loc[-1]):
        return MISSING
    value = parent.pop(loc[-1])
    if not parent:
        _pop(data, loc[:-1])
    return value
