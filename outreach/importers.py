"""Import contacts from the exports people already have into contacts.yaml.

Three formats: Google Contacts CSV (both header generations), vCard 3.0/4.0 (with Apple's
``itemN.X-ABDATE`` / ``X-ABRELATEDNAMES`` / ``X-ABLabel`` and its 1604 "no year" birthdays) and
LinkedIn's ``Connections.csv``. Each row or card becomes one :class:`_Record`, then contacts.yaml
data that is validated with :class:`outreach.model.Contact`: a field that fails is left out and
reported, a record without a usable name is skipped.

Existing contacts are matched by any e-mail address, else by the same full name; they are only
touched with ``update``, and then only where they are empty. contacts.yaml is edited with
ruamel.yaml's round trip, so the user's comments, key order and quotes stay as they were; new
contacts go at the end of the ``contacts:`` list, and the file is replaced atomically.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import quopri
import re
import stat
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

from outreach import yamlsrc
from outreach.errors import InvalidInput, Problem, UsageError
from outreach.fsutil import write_atomic
from outreach.model import Contact, Dates, Emails, Family, Name, Profile
from outreach.slugs import slug as slug

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
    parsers: dict[str, Callable[[str, str], tuple[list[_Record], list[str]]]] = {
        "google-csv": _parse_google,
        "vcard": _parse_vcard,
        "linkedin": _parse_linkedin,
    }
    parse = parsers.get(kind)
    if parse is None:
        raise UsageError(f"unknown import format '{kind}'", f"use one of: {', '.join(KINDS)}")
    text, encoding = _read_text(file)
    records, file_notes = parse(text, file.name)
    notes = ([encoding] if encoding else []) + file_notes
    if not records:
        notes.append(f"no contacts found in {file.name}")
    book = _ContactsYaml(contacts_yaml)
    extra_tags = _unique(_one_line(t) for t in tags)
    importer = _Importer(book, update=update, extra_tags=extra_tags)
    outcomes = tuple(importer.take(r) for r in records)
    written = False
    if book.changed and not dry_run:
        book.save()
        written = True
    return ImportReport(outcomes, written, book.name, dry_run, tuple(notes))


# --------------------------------------------------------------------------- text and values


def _read_text(file: Path) -> tuple[str, str | None]:
    """The file's text, and a note when it was not UTF-8 (Excel likes Windows-1252)."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise UsageError(
            f"cannot read {file}: {exc.strerror or exc}", "check the file name"
        ) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), None
    body = raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a stray byte or two: keep it UTF-8 rather than garble every accent.
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - body.count("\ufffd".encode())
    if sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd") > bad:
        return text, f"{bad} byte(s) that are not UTF-8 replaced by \ufffd"
    try:
        return body.decode("cp1252"), "read as Windows-1252 (the file is not UTF-8)"
    except UnicodeDecodeError:
        return body.decode("latin-1"), "read as ISO-8859-1 (the file is not UTF-8)"


# Characters YAML cannot hold (PyYAML refuses them), plus the byte order mark.
_UNPRINTABLE = re.compile(
    "[^\t\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


def _clean(value: str) -> str:
    """Free text: line breaks normalised, characters YAML cannot hold removed, trimmed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _UNPRINTABLE.sub("", value)
    return "\n".join(line.rstrip() for line in value.split("\n")).strip()


def _one_line(value: str) -> str:
    """A name, address or title: one line, single spaces."""
    return " ".join(_clean(value).split())


def _unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for v in values:
        if v and v.casefold() not in seen:
            seen.add(v.casefold())
            out.append(v)
    return out


_NO_YEAR = {0, 1604}  # Apple writes a birthday without a year as 1604-MM-DD; some apps use 0000
_FULL_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_MONTH_DAY = re.compile(r"--(\d{2})-?(\d{2})")


def normalize_date(raw: str) -> str | None:
    """A date from an export as contacts.yaml writes it: ``YYYY-MM-DD``, or ``--MM-DD`` when the
    year is unknown. Accepts ``1985-04-12``, ``19850412``, ``--0412``, ``--04-12``, Apple's
    ``1604-04-12`` and a trailing time (``19850412T000000Z``). None if it is not a real date."""
    text = raw.strip().split("T", 1)[0]
    year: int | None
    m = _FULL_DATE.fullmatch(text)
    if m:
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if year in _NO_YEAR:
            year = None
    else:
        m = _MONTH_DAY.fullmatch(text)
        if not m:
            return None
        year, month, day = None, int(m.group(1)), int(m.group(2))
    try:
        dt.date(year if year is not None else 2000, month, day)  # 2000: Feb 29 exists
    except ValueError:
        return None
    return f"--{month:02d}-{day:02d}" if year is None else f"{year:04d}-{month:02d}-{day:02d}"


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


# "Connected On" in LinkedIn's 2018 export: month/day/year, US style, then the time
_US_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:,?\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?)?"
)


def _linkedin_date(raw: str) -> str | None:
    """LinkedIn's "Connected On" as ``YYYY-MM-DD``: ``01 Sep 2026`` or ``08 Jan 2018`` (English
    month names whatever the locale), the 2018 export's ``1/8/18, 6:14 PM`` (M/D/YY, the time
    ignored), ``1/8/2018``, or ISO. None if it is none of these."""
    text = raw.strip()
    m = re.fullmatch(r"(\d{1,2})[ -]([A-Za-z]{3})[A-Za-z]*\.?[ -](\d{4})", text)
    if m and m.group(2).lower() in _MONTHS:
        year, month, day = int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1))
    elif m := _US_DATE.fullmatch(text):
        month, day, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        year += 2000 if year < 100 else 0  # LinkedIn began in 2003: "18" is 2018
    else:
        full = normalize_date(text)
        return full if full and not full.startswith("--") else None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


# --------------------------------------------------------------------------- records


@dataclass
class _Record:
    """One person as read from an export, before mapping to contacts.yaml."""

    source: str  # "row 7", "card 3"
    first: str = ""
    last: str = ""
    nickname: str = ""
    full: str = ""  # a display name to fall back on (vCard FN, Google's old "Name" column)
    reading: str = ""  # the phonetic name, first then last ("たろう やまだ"): for the id
    emails: list[tuple[str, str]] = field(default_factory=list)  # (work | personal | "", address)
    company: str = ""
    title: str = ""
    birthday: str = ""  # as written in the file
    wedding: str = ""
    spouse: str = ""
    children: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    hobbies: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stage: str = ""
    not_person: str = ""  # why this is not a person (a company card)
    problems: list[str] = field(default_factory=list)


_SPOUSE_LABELS = {"spouse", "partner", "domestic partner", "husband", "wife"}
_CHILD_LABELS = {"child", "son", "daughter"}
_WEDDING_LABELS = {"anniversary", "wedding", "wedding anniversary"}
# The wedding anniversary: vCard 4's property and the ones programs used before it (KDE,
# Evolution, Outlook)
_ANNIVERSARY_PROPS = {"ANNIVERSARY", "X-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY", "X-MS-ANNIVERSARY"}
_SYSTEM_GROUPS = {"mycontacts", "starred"}  # Google's own groups, not the user's labels


def _label(text: str) -> str:
    """``"* Work"``, ``"_$!<Anniversary>!$_"`` -> ``"work"``, ``"anniversary"``."""
    text = text.strip()
    m = re.fullmatch(r"_\$!<(.*)>!\$_", text)
    if m:
        text = m.group(1)
    return " ".join(text.lstrip("*").split()).casefold()


def _tag(text: str) -> str | None:
    """A Google label or vCard category as a tag: a lowercase slug; None for Google's own."""
    name = text.strip()
    if _label(name).replace(" ", "") in _SYSTEM_GROUPS:
        return None
    return slug(name.lstrip("* ")) or None


def _email_kind(labels: Iterable[str]) -> str:
    """work | personal | "" (unlabeled), from a label or vCard TYPE values."""
    found = {_label(x) for x in labels if x.strip()}
    if "work" in found:
        return "work"
    if found - {"internet", "pref", "x400", "x-internet", ""}:
        return "personal"  # home, other, or the user's own label
    return ""


# --------------------------------------------------------------------------- CSV


def _csv_rows(text: str, name: str) -> list[list[str]]:
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UsageError(
            f"{name} is not a readable CSV file ({exc})", "export it again as CSV"
        ) from None


_GOOGLE_COLUMNS = frozenset(
    {
        # current "Google CSV"
        "First Name", "Middle Name", "Last Name", "Phonetic First Name", "Phonetic Middle Name",
        "Phonetic Last Name", "Name Prefix", "Name Suffix", "Nickname", "File As",
        "Organization Name", "Organization Title", "Organization Department", "Birthday",
        "Notes", "Photo", "Labels",
        # the older export
        "Name", "Given Name", "Additional Name", "Family Name", "Yomi Name", "Given Name Yomi",
        "Additional Name Yomi", "Family Name Yomi", "Initials", "Short Name", "Maiden Name",
        "Gender", "Location", "Billing Information", "Directory Server", "Mileage",
        "Occupation", "Hobby", "Sensitivity", "Priority", "Subject", "Language",
        "Group Membership",
    }
)  # fmt: skip
_GOOGLE_NUMBERED = re.compile(
    r"(E-mail|Phone|IM|Website|Relation|Event|Custom Field|Jot|External ID|Address|Organization)"
    r" (\d+) - (.+)"
)
_SEP = " ::: "  # Google's separator for several values in one cell


def _split_multi(value: str) -> list[str]:
    return [v.strip() for v in value.split(_SEP.strip()) if v.strip()]


def _parse_google(text: str, name: str) -> tuple[list[_Record], list[str]]:
    rows = _csv_rows(text, name)
    start = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    header = [c.strip() for c in rows[start]] if start is not None else []
    if not {"First Name", "Given Name", "Name"} & set(header):
        raise UsageError(
            f"{name} does not look like a Google Contacts CSV (no 'First Name' column)",
            "export from contacts.google.com with Export > Google CSV",
        )
    ignored = _unique(
        h for h in header if h and h not in _GOOGLE_COLUMNS and not _GOOGLE_NUMBERED.fullmatch(h)
    )
    records: list[_Record] = []
    assert start is not None
    for number, row in enumerate(rows[start + 1 :], start=2):
        if not any(c.strip() for c in row):
            continue
        cells: dict[str, str] = {}
        numbered: dict[tuple[str, int], dict[str, str]] = {}
        for column, value in zip(header, row, strict=False):
            if column in cells or not value.strip():
                continue
            cells[column] = value
            m = _GOOGLE_NUMBERED.fullmatch(column)
            if m:
                part = {"Type": "Label"}.get(m.group(3), m.group(3))
                numbered.setdefault((m.group(1), int(m.group(2))), {})[part] = value

        def get(*columns: str, cells: dict[str, str] = cells) -> str:
            return next((cells[c] for c in columns if cells.get(c, "").strip()), "")

        rec = _Record(f"row {number}")
        rec.first = get("First Name", "Given Name")
        rec.last = get("Last Name", "Family Name")
        rec.full = get("Name")
        first_reading = get("Phonetic First Name", "Given Name Yomi")
        last_reading = get("Phonetic Last Name", "Family Name Yomi")
        rec.reading = f"{first_reading} {last_reading}".strip() or get("Yomi Name")
        rec.nickname = get("Nickname")
        rec.birthday = get("Birthday")
        rec.notes = [get("Notes")]
        rec.hobbies = _split_multi(get("Hobby"))
        rec.tags = [t for t in map(_tag, _split_multi(get("Labels", "Group Membership"))) if t]
        for (kind, _n), parts in sorted(numbered.items(), key=lambda kv: kv[0][1]):
            label, value = _label(parts.get("Label", "")), parts.get("Value", "")
            if kind == "E-mail":
                which = _email_kind([label])
                rec.emails += [(which, v) for v in _split_multi(value)]
            elif kind == "Relation":
                if label in _SPOUSE_LABELS and not rec.spouse:
                    rec.spouse = next(iter(_split_multi(value)), "")
                elif label in _CHILD_LABELS:
                    rec.children += _split_multi(value)
            elif kind == "Event" and label in _WEDDING_LABELS and not rec.wedding:
                rec.wedding = value
            elif kind == "Organization" and _n == 1:
                rec.company = rec.company or parts.get("Name", "")
                rec.title = rec.title or parts.get("Title", "")
        rec.company = get("Organization Name") or rec.company
        rec.title = get("Organization Title") or rec.title
        records.append(rec)
    notes = [f"ignored columns: {', '.join(ignored)}"] if ignored else []
    return records, notes


_LINKEDIN_COLUMNS = (
    "First Name",
    "Last Name",
    "URL",
    "Email Address",
    "Company",
    "Position",
    "Connected On",
)


def _parse_linkedin(text: str, name: str) -> tuple[list[_Record], list[str]]:
    lines = text.splitlines(keepends=True)
    start = next(
        (i for i, line in enumerate(lines) if re.match(r'\ufeff?"?First Name"?[,;\t]', line)),
        None,
    )
    if start is None:
        raise UsageError(
            f"{name} does not look like LinkedIn's Connections.csv "
            "(no 'First Name,Last Name,...' header line)",
            "use Connections.csv from LinkedIn's 'Get a copy of your data'",
        )
    rows = _csv_rows("".join(lines[start:]), name)
    header = [c.strip().lstrip("\ufeff") for c in rows[0]]
    ignored = [h for h in _unique(header) if h and h not in _LINKEDIN_COLUMNS]
    records: list[_Record] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cells = {h: v.strip() for h, v in zip(header, row, strict=False) if h not in ("",)}
        rec = _Record(f"row {number}")
        rec.first, rec.last = cells.get("First Name", ""), cells.get("Last Name", "")
        if cells.get("Email Address"):
            rec.emails = [("", cells["Email Address"])]
        rec.company, rec.title = cells.get("Company", ""), cells.get("Position", "")
        rec.tags, rec.stage = ["linkedin"], "prospect"
        url, connected = cells.get("URL", ""), cells.get("Connected On", "")
        on = _linkedin_date(connected) if connected else None
        if connected and on is None:
            rec.problems.append(f"connected on '{connected}' is not a date: imported without it")
        note = f"Connected on LinkedIn {on}" if on else ("On LinkedIn" if url else "")
        rec.notes = [f"{note} ({url})" if url else note]
        records.append(rec)
    notes = [f"ignored columns: {', '.join(ignored)}"] if ignored else []
    return records, notes


# --------------------------------------------------------------------------- vCard


@dataclass
class _Prop:
    group: str
    name: str
    params: dict[str, list[str]]
    value: str

    def types(self) -> set[str]:
        return {t.strip().casefold() for v in self.params.get("TYPE", []) for t in v.split(",")}


def _is_quoted_printable(line: str) -> bool:
    head = line.split(":", 1)[0]
    return "QUOTED-PRINTABLE" in head.upper()


def _unfold(text: str) -> list[str]:
    """Logical lines: folded lines (a leading space or tab) joined, and quoted-printable soft
    line breaks (a value ending in '=') joined."""
    out: list[str] = []
    for line in re.split(r"\r\n|\r|\n", text):
        if out and out[-1].endswith("=") and _is_quoted_printable(out[-1]):
            out[-1] = out[-1][:-1] + line
        elif line[:1] in (" ", "\t") and out:
            out[-1] += line[1:]
        elif line.strip():
            out.append(line)
    return out


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _parse_prop(line: str) -> _Prop | None:
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, value = line[:i], line[i + 1 :]
            break
    else:
        return None
    name_part, *param_parts = _split_outside_quotes(head, ";")
    group, _, name = name_part.rpartition(".")
    params: dict[str, list[str]] = {}
    for p in param_parts:
        key, eq, val = p.partition("=")
        if not eq:  # vCard 2.1: EMAIL;WORK;QUOTED-PRINTABLE
            key, val = ("ENCODING" if p.upper() in ("QUOTED-PRINTABLE", "BASE64") else "TYPE"), p
        params.setdefault(key.strip().upper(), []).extend(
            v.strip().strip('"') for v in _split_outside_quotes(val, ",")
        )
    return _Prop(group.strip().casefold(), name.strip().upper(), params, value)


def _split_escaped(value: str, sep: str | None) -> list[str]:
    """Split a vCard value on unescaped ``sep`` (None: do not split) and undo the escapes
    (``\\n`` is a line break, ``\\,`` a comma, ...) in each part."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            current.append("\n" if nxt in ("n", "N") else nxt)
        elif sep is not None and ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _decoded(prop: _Prop) -> str:
    """The raw value with quoted-printable decoded in its CHARSET (escapes still in)."""
    if "QUOTED-PRINTABLE" not in (e.upper() for e in prop.params.get("ENCODING", [])):
        return prop.value
    data = quopri.decodestring(prop.value.encode("utf-8"))
    charset = (prop.params.get("CHARSET") or ["utf-8"])[0]
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return data.decode("utf-8", errors="replace")


def _text(prop: _Prop) -> str:
    return _split_escaped(_decoded(prop), None)[0]


def _parts(prop: _Prop, sep: str) -> list[str]:
    return [p.strip() for p in _split_escaped(_decoded(prop), sep)]


_SKIP_PROPS = {"PHOTO", "LOGO", "SOUND", "KEY"}
# The phonetic name (Apple, Google and Android write these), in the order it is read out
_READING_PROPS = ("X-PHONETIC-FIRST-NAME", "X-PHONETIC-LAST-NAME")


def _parse_vcard(text: str, name: str) -> tuple[list[_Record], list[str]]:
    cards: list[tuple[int, list[_Prop]]] = []
    current: list[_Prop] | None = None
    depth = count = 0
    for line in _unfold(text):
        prop = _parse_prop(line)
        if prop is None:
            continue
        if prop.name == "BEGIN" and prop.value.strip().upper() == "VCARD":
            depth += 1
            if depth == 1:
                count += 1
                current = []
        elif prop.name == "END" and prop.value.strip().upper() == "VCARD":
            depth = max(0, depth - 1)
            if depth == 0 and current is not None:
                cards.append((count, current))
                current = None
        elif depth == 1 and current is not None and prop.name not in _SKIP_PROPS:
            current.append(prop)
    if current is not None:  # a file cut off before END:VCARD
        cards.append((count, current))
    if count == 0:
        raise UsageError(
            f"{name} holds no vCard (no BEGIN:VCARD line)", "export the contacts as vCard (.vcf)"
        )
    return [_card_record(n, props) for n, props in cards], []


def _card_record(number: int, props: list[_Prop]) -> _Record:
    rec = _Record(f"card {number}")
    labels = {p.group: _label(_text(p)) for p in props if p.name == "X-ABLABEL" and p.group}
    readings = {p.name: _text(p).strip() for p in props if p.name in _READING_PROPS}
    rec.reading = " ".join(readings[n] for n in _READING_PROPS if readings.get(n))
    company_card = False
    for p in props:
        label = labels.get(p.group, "")
        types = p.types()
        if p.name == "N":
            n = [*_parts(p, ";"), "", ""]
            rec.last, rec.first = n[0], n[1]
        elif p.name == "FN":
            rec.full = _text(p)
        elif p.name == "NICKNAME":
            rec.nickname = rec.nickname or next(iter(_parts(p, ",")), "")
        elif p.name == "EMAIL":
            address = re.sub(r"(?i)^mailto:", "", _text(p).strip())
            rec.emails.append((_email_kind([*types, label]), address))
        elif p.name == "ORG":
            rec.company = rec.company or _parts(p, ";")[0]
        elif p.name == "TITLE":
            rec.title = rec.title or _text(p)
        elif p.name == "NOTE":
            rec.notes.append(_text(p))
        elif p.name == "BDAY":
            rec.birthday = rec.birthday or _text(p)
        elif p.name in _ANNIVERSARY_PROPS or (p.name == "X-ABDATE" and label in _WEDDING_LABELS):
            rec.wedding = rec.wedding or _text(p)
        elif p.name in ("RELATED", "X-ABRELATEDNAMES"):
            value = _text(p).strip()
            is_uri = re.match(r"[a-z][a-z0-9+.-]*:", value, re.I) and "text" not in {
                v.casefold() for v in p.params.get("VALUE", [])
            }
            kinds = types | {label}
            if not value or is_uri:
                continue  # a reference to another card: no name to take
            if kinds & _SPOUSE_LABELS and not rec.spouse:
                rec.spouse = value
            elif kinds & _CHILD_LABELS:
                rec.children.append(value)
        elif p.name in ("X-SPOUSE", "X-MS-SPOUSE", "X-EVOLUTION-SPOUSE"):
            rec.spouse = rec.spouse or _text(p).strip()
        elif p.name in ("X-CHILD", "X-MS-CHILD"):
            rec.children.append(_text(p).strip())
        elif p.name == "CATEGORIES":
            rec.tags += [t for t in map(_tag, _parts(p, ",")) if t]
        elif p.name == "KIND" and _text(p).strip().casefold() in ("org", "group", "location"):
            rec.not_person = f"not a person (KIND:{_text(p).strip()})"
        elif p.name == "X-ABSHOWAS" and _text(p).strip().upper() == "COMPANY":
            company_card = True
    if company_card and not (rec.first or rec.last):
        rec.not_person = f"no name (a company card: {rec.company or rec.full})"
    return rec


# --------------------------------------------------------------------------- mapping


def _before(name: str, family: str) -> str:
    """What precedes ``family`` at the end of ``name`` (``"Priya"`` for ``"Priya Raman"``,
    ``"Raman"``), ignoring case; "" if ``name`` does not end with it."""
    words, n = name.split(" "), len(family.split(" "))
    if family and n < len(words) and _fold(" ".join(words[-n:])) == _fold(family):
        return " ".join(words[:-n])
    return ""


def _records_name(rec: _Record) -> tuple[str, str]:
    """First and last name. When the given name is empty, or it is the whole display name and
    there is no family name (Google's old CSV with "Priya Raman" as Family Name; Android's
    ``N:Priya Raman;;;;`` or ``N:;Priya Raman;;;``), they come from the display name (vCard
    ``FN``, Google's "Name"): what precedes the family name if the display name ends with it,
    else the display name split at its last space; a one-word display name is the first name.
    A given name that ends with the family name loses it (never "Priya Raman Raman")."""
    first, last, full = _one_line(rec.first), _one_line(rec.last), _one_line(rec.full)
    if first and last:
        return _before(first, last) or first, last
    if not full or (first and _fold(first) != _fold(full)):
        return first, last
    given = _before(full, last)
    if given:
        return given, last
    head, _, tail = full.rpartition(" ")
    if head:
        return head, tail
    return full, "" if _fold(last) == _fold(full) else last


def _contact_data(
    rec: _Record, extra_tags: Sequence[str]
) -> tuple[dict[str, Any] | None, list[str], list[str]]:
    """contacts.yaml data for a record (without id), the problems found, and every e-mail address
    it has (for matching). None when it has no first name."""
    problems = list(rec.problems)
    first, last = _records_name(rec)
    addresses = _unique(
        a for a in (_one_line(e) for _, e in rec.emails) if a
    )  # in file order, each once
    if not first:
        return None, problems, addresses
    data: dict[str, Any] = {"name": {"first": first}}
    if last:
        data["name"]["last"] = last
    if _one_line(rec.nickname):
        data["name"]["nickname"] = _one_line(rec.nickname)

    slots: dict[str, str] = {}
    extra: list[str] = []
    seen: set[str] = set()
    ordered = [e for e in rec.emails if e[0]] + [e for e in rec.emails if not e[0]]
    for kind, raw in ordered:
        address = _one_line(raw)
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
        if _one_line(value):
            data[key] = _one_line(value)
    tags = _unique([*rec.tags, *extra_tags])
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
    if _one_line(rec.spouse):
        family["spouse"] = {"name": _one_line(rec.spouse)}
    children = _unique(_one_line(c) for c in rec.children)
    if children:
        family["children"] = [{"name": c} for c in children]
    if family:
        data["family"] = family
    hobbies = _unique(_one_line(h) for h in rec.hobbies)
    if hobbies:
        data["profile"] = {"hobbies": hobbies}
    notes = _clean("\n".join(n for n in rec.notes if n.strip()))
    if notes:
        data["notes"] = notes
    return data, problems, addresses


def _keep_greeting(name: dict[str, Any], before: Any = None) -> str:
    """Keep how the person is greeted. ``greet`` falls back to the nickname, so a nickname from
    an export would change every subject and salutation ("Happy birthday, Amazing Grace!"):
    when the import adds one, the imported ``name`` gets a ``greeting`` of what they were
    greeted as until now (``before``: their name in contacts.yaml when updating; else the first
    name). Returns the note for the summary, "" when the greeting does not change."""
    nickname = name.get("nickname")
    old = before if isinstance(before, dict) else {}
    if not nickname or not _empty(old.get("nickname")) or not _empty(old.get("greeting")):
        return ""  # no nickname is added, or it is not the one greeted by
    first = old.get("first")
    greet = first.strip() if isinstance(first, str) and first.strip() else name["first"]
    if greet == nickname:
        return ""
    name["greeting"] = greet
    return f"nickname '{nickname}' kept; greeted as '{greet}' (set name.greeting to change it)"


_ID_LENGTH = 40  # a longer id is cut between words


def _new_id(name: str, reading: str, addresses: Sequence[str]) -> str:
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


def _validated(data: dict[str, Any]) -> tuple[Contact | None, list[str], str]:
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
            if value is _MISSING:
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


_MISSING: Any = object()


def _has(container: Any, key: Any) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container)


def _pop(data: Any, loc: tuple[Any, ...]) -> Any:
    """Remove the value at ``loc`` and any container left empty; _MISSING if it is not there."""
    if not loc:
        return _MISSING
    parent = data
    for part in loc[:-1]:
        if not _has(parent, part):
            return _MISSING
        parent = parent[part]
    if not _has(parent, loc[-1]):
        return _MISSING
    value = parent.pop(loc[-1])
    if not parent:
        _pop(data, loc[:-1])
    return value


# --------------------------------------------------------------------------- YAML nodes

_PYYAML_RESOLVER = yaml.resolver.Resolver()
_FLOW_MAPS = {("name",), ("family", "spouse"), ("family", "children", "*")}
_FLOW_SEQS = {("tags",), ("profile", "hobbies"), ("profile", "interests")}
_DATES = {("dates", "birthday"), ("dates", "wedding")}


def _scalar(value: str) -> Any:
    """A string that PyYAML (YAML 1.1, what outreach reads with) reads back as the same string."""
    if "\n" in value:
        return LiteralScalarString(value + "\n")
    tag = _PYYAML_RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return value if tag == "tag:yaml.org,2002:str" else SingleQuotedScalarString(value)


def _node(value: Any, path: tuple[str, ...] = ()) -> Any:
    """contacts.yaml data as ruamel nodes, in the README's style: ``name: {first: .., last: ..}``,
    ``tags: [a, b]``, children one flow mapping per line, year-less dates quoted."""
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _node(v, (*path, k))
        if path in _FLOW_MAPS:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_node(v, (*path, "*")) for v in value)
        if path in _FLOW_SEQS:
            s.fa.set_flow_style()
        return s
    if isinstance(value, str) and (path in _DATES or path[-1:] == ("birthday",)):
        if value.startswith("--"):
            return SingleQuotedScalarString(value)
        return dt.date.fromisoformat(value)
    if isinstance(value, str):
        return _scalar(value)
    return value


# Key order in contacts.yaml: the model's field order, at every level.
_ORDER: dict[tuple[str, ...], list[str]] = {
    (): list(Contact.model_fields),
    ("name",): list(Name.model_fields),
    ("email",): list(Emails.model_fields),
    ("dates",): list(Dates.model_fields),
    ("family",): list(Family.model_fields),
    ("profile",): list(Profile.model_fields),
}


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def _put(target: Any, key: str, value: Any, order: list[str]) -> None:
    """Set ``key`` in a ruamel mapping: in place if it is there, else after the keys that come
    before it in contacts.yaml's order."""
    if key in target:
        target[key] = value
        return
    rank = {k: i for i, k in enumerate(order)}
    pos = 0
    for i, existing in enumerate(target):
        if rank.get(existing, -1) < rank.get(key, len(order)):
            pos = i + 1
    target.insert(pos, key, value)


# --------------------------------------------------------------------------- contacts.yaml


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _display_name(name: Any) -> str:
    if not isinstance(name, dict):
        return ""
    parts = [name.get("first"), name.get("last")]
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def _full_name(name: Any) -> str:
    """For matching: the full name, case and spacing folded."""
    return _fold(_display_name(name))


def _addresses(item: Any) -> list[str]:
    email = item.get("email") if isinstance(item, dict) else None
    if not isinstance(email, dict):
        return []
    return [v.strip().casefold() for v in email.values() if isinstance(v, str) and "@" in v]


_HEADER = """\
# {name}: the people you keep in touch with, one entry per person under "contacts:".
# Started by 'outreach import'. Edit it freely: importing again keeps your comments and changes.
# Only "id" and "name.first" are required; the README's "Reference: contacts.yaml" lists every
# key. Dates are YYYY-MM-DD, or '--MM-DD' when the year is unknown.
"""


class _ContactsYaml:
    """contacts.yaml as ruamel round-trip data, with the edits an import makes."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve() if path.is_symlink() else path
        self.name = path.name
        try:
            self.raw: bytes | None = self.path.read_bytes() if self.path.exists() else None
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        self.bom = self.crlf = False
        self.text = ""  # the file's text, line breaks as \n
        self.data: Any = None  # ruamel round-trip data; None: no file, or no data in it
        self.yaml = _yaml(2, 4, 2, explicit_start=False)
        self.offset = 2  # the column of the "- " that starts each contact
        self.new: list[CommentedMap] = []
        self.filled = False
        self._by_address: dict[str, Any] | None = None
        self._by_name: dict[str, Any] = {}
        if self.raw is None:
            return
        self.bom = self.raw.startswith(codecs.BOM_UTF8)
        self.crlf = b"\r\n" in self.raw
        try:
            text = self.raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = self.raw[: exc.start].count(b"\n") + 1
            raise InvalidInput(
                [Problem(self.name, line, "", "is not UTF-8 text", "save it as UTF-8")]
            ) from None
        self.text = text.replace("\r\n", "\n")
        source, problems = yamlsrc.loads(self.text, self.name)
        if source.data is None:
            if any(p.message.startswith("YAML") for p in problems):
                raise InvalidInput(problems)
            return  # empty, or only comments: the contacts list goes below them
        contacts = source.data.get("contacts") if isinstance(source.data, dict) else None
        if not isinstance(source.data, dict) or not isinstance(contacts, list | None):
            raise InvalidInput(
                [
                    Problem(
                        self.name,
                        source.line_of(("contacts",)) or 1,
                        "",
                        "expected a mapping with a 'contacts:' list",
                        "fix the file (see 'outreach check') before importing",
                    )
                ]
            )
        self.yaml, self.data, self.offset = _round_trip(self.text, self.name)

    @property
    def seq(self) -> Any:
        return self.data.get("contacts") if isinstance(self.data, dict) else None

    @property
    def existing(self) -> list[Any]:
        seq = self.seq
        return [i for i in seq if isinstance(i, dict)] if isinstance(seq, list) else []

    @property
    def changed(self) -> bool:
        return bool(self.new) or self.filled

    def ids(self) -> set[str]:
        return {i["id"] for i in self.existing if isinstance(i.get("id"), str)}

    def find(self, addresses: Sequence[str], full_name: str) -> tuple[Any, str]:
        """The existing contact with any of these addresses, else with this full name (the
        first such contact in the file), and the address it was found by ("" for the name)."""
        if self._by_address is None:
            self._by_address = {}
            for item in self.existing:
                for a in _addresses(item):
                    self._by_address.setdefault(a, item)
                self._by_name.setdefault(_full_name(item.get("name")), item)
        for a in addresses:
            if a.casefold() in self._by_address:
                return self._by_address[a.casefold()], a
        return (self._by_name.get(full_name) if full_name else None), ""

    def fill(self, item: Any, data: dict[str, Any]) -> list[str]:
        """Fill the contact's empty fields from ``data``; the paths filled ("email.personal").
        An address the contact already has (in either slot) is not added again."""
        known = set(_addresses(item))
        data = dict(data)
        if isinstance(data.get("email"), dict):
            email = {k: v for k, v in data["email"].items() if v.casefold() not in known}
            if email:
                data["email"] = email
            else:
                del data["email"]
        filled: list[str] = []
        self._fill(item, data, (), filled)
        self.filled = self.filled or bool(filled)
        for a in _addresses(item):
            if self._by_address is not None:
                self._by_address.setdefault(a, item)
        return filled

    def _fill(
        self, target: Any, data: dict[str, Any], path: tuple[str, ...], out: list[str]
    ) -> None:
        for key, value in data.items():
            if key == "id":
                continue
            here = (*path, key)
            current = target.get(key)
            if _empty(current):
                _put(target, key, _node(value, here), _ORDER.get(path, []))
                out.append(".".join(here))
            elif isinstance(current, dict) and isinstance(value, dict) and here in _ORDER:
                self._fill(current, value, here, out)
            # else: what the user wrote stays as it is

    def append(self, data: dict[str, Any]) -> None:
        self.new.append(_node(data))

    # ---------------------------------------------------------------- writing

    def render(self) -> str:
        """The new text: the user's text as it was, with the filled-in fields and the new
        contacts at the end. It must read back (with PyYAML, as outreach reads it) exactly like
        a plain ruamel dump of the same data; if it does not, that dump is used instead."""
        text = self.text
        if self.filled:
            dumped = self._dump(self.data)
            text = _comments_after_insertions(self.text, dumped, self.offset)
            if _load(text) != _load(dumped):
                text = dumped
        if not self.new:
            return text
        seq = self.seq
        plain_append = isinstance(seq, CommentedSeq) and len(seq) > 0 and not seq.fa.flow_style()
        plain_append = plain_append and list(self.data)[-1] == "contacts"
        snippet = self._snippet(self.new)
        if self.data is None:
            reference_data = CommentedMap([("contacts", CommentedSeq(self.new))])
            head = self.text if self.text.strip() else _HEADER.format(name=self.name)
            text = f"{head.rstrip()}\n\ncontacts:\n{snippet}"
        else:
            if not plain_append:
                self.data["contacts"] = seq = CommentedSeq(list(seq or []))
            seq.extend(self.new)
            reference_data = self.data
            text = (text if text.endswith("\n") else text + "\n") + snippet
        reference = self._dump(reference_data)
        if (self.data is not None and not plain_append) or _load(text) != _load(reference):
            text = reference
        before = _load(self.text) if self.text.strip() else None
        old = len(before.get("contacts") or []) if isinstance(before, dict) else 0
        after = _load(text)
        got = after.get("contacts") if isinstance(after, dict) else None
        if not isinstance(got, list) or len(got) != old + len(self.new):
            raise RuntimeError(f"the new {self.name} would not read back as expected")
        return text

    def save(self) -> None:
        """Write the new text in place of the old, atomically, with the file's mode, BOM and
        line breaks; refuse if the file changed since it was read."""
        text = self.render()
        if self.crlf:
            text = text.replace("\n", "\r\n")
        data = (codecs.BOM_UTF8 if self.bom else b"") + text.encode("utf-8")
        now = self.path.read_bytes() if self.path.exists() else None
        if now != self.raw:
            raise UsageError(
                f"{self.name} changed while importing; nothing was written", "run the import again"
            )
        mode = stat.S_IMODE(self.path.stat().st_mode) if self.raw is not None else None
        write_atomic(self.path, data, mode=mode)

    def _dump(self, data: Any) -> str:
        buf = io.StringIO()
        self.yaml.dump(data, buf)
        return buf.getvalue()

    def _snippet(self, items: list[CommentedMap]) -> str:
        """The new items as lines of the contacts list, each after a blank line unless the
        file's contacts follow each other without one."""
        blank = True
        seq = self.seq
        if isinstance(seq, CommentedSeq) and len(seq) >= 2 and not seq.fa.flow_style():
            line = seq.lc.item(len(seq) - 1)[0]  # 0-based line of the last contact
            lines = self.text.split("\n")
            blank = 0 < line < len(lines) and _comment_or_blank(lines[line - 1])
        dumped = self._dump(CommentedMap([("contacts", CommentedSeq(items))]))
        body = dumped.split("contacts:\n", 1)[1]
        if not blank:
            return body
        return "".join("\n" + "".join(c) for c in _chunks(body, self.offset) if c)


def _yaml(mapping: int, sequence: int, offset: int, *, explicit_start: bool) -> YAML:
    y = YAML()  # round trip
    y.preserve_quotes = True
    y.width = 1_000_000  # never re-wrap a long line
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    y.explicit_start = explicit_start
    return y


def _round_trip(text: str, name: str) -> tuple[YAML, Any, int]:
    """Load with ruamel, with the indentation settings under which dumping gives the very same
    text back (ruamel does not keep the indentation it read); and the contacts' dash column."""
    try:
        data = _yaml(2, 4, 2, explicit_start=False).load(text)
    except RuamelError as exc:  # PyYAML read it and ruamel did not: rare
        raise InvalidInput(
            [Problem(name, None, "", f"YAML error: {exc}", "fix the YAML syntax")]
        ) from None
    explicit = bool(re.match(r"(\s*(#.*)?\n)*---", text))
    m = re.search(r"^( *)-( +)\S", text, re.M)
    offset, sequence = (len(m.group(1)), len(m.group(1)) + 1 + len(m.group(2))) if m else (2, 4)
    candidates = [(2, sequence, offset), (4, sequence, offset), (3, sequence, offset)]
    candidates += [(2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4)]
    for mapping, seq_indent, dash in candidates:
        if seq_indent < dash + 2:
            continue
        y = _yaml(mapping, seq_indent, dash, explicit_start=explicit)
        buf = io.StringIO()
        y.dump(data, buf)
        if buf.getvalue() == text:
            return y, data, dash
    if sequence < offset + 2:
        offset, sequence = 2, 4
    return _yaml(2, sequence, offset, explicit_start=explicit), data, offset


def _load(text: str) -> Any:
    """What outreach reads from this text (PyYAML, YAML 1.1); _MISSING if it cannot."""
    try:
        return yaml.load(text, Loader=yamlsrc._Loader)
    except yaml.YAMLError:
        return _MISSING


def _comment_or_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _chunks(text: str, offset: int) -> list[list[str]]:
    """The lines before the first contact, then each contact's lines (up to the next one's "- "
    line, so with the comments and blank lines that follow it)."""
    start = re.compile(" " * offset + r"-( |$)")
    chunks: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if start.match(line):
            chunks.append([])
        chunks[-1].append(line)
    return chunks


def _comments_after_insertions(before: str, after: str, offset: int) -> str:
    """ruamel keeps the blank lines and comments that follow a value with that value, so a key
    inserted after it lands below them (below the next contact's section comment). Move each
    inserted block up above such lines. Compared contact by contact (a diff of the whole file
    is too slow for a big one)."""
    old, new = _chunks(before, offset), _chunks(after, offset)
    if len(old) != len(new):
        return after
    out: list[str] = []
    for a, b in zip(old, new, strict=True):
        if a == b:
            out += b
            continue
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
            if tag == "insert":
                moved: list[str] = []
                while out and _comment_or_blank(out[-1]):
                    moved.insert(0, out.pop())
                out += b[j1:j2] + moved
            else:
                out += b[j1:j2]
    return "".join(out)


# --------------------------------------------------------------------------- the import


class _Importer:
    """Takes records one by one: match, fill or add, with unique ids."""

    def __init__(self, book: _ContactsYaml, *, update: bool, extra_tags: list[str]) -> None:
        self.book = book
        self.update = update
        self.extra_tags = extra_tags
        self.taken = book.ids()
        self.by_address: dict[str, tuple[str, str]] = {}  # address -> (source, id), this file
        self.by_name: dict[str, tuple[str, str]] = {}

    def take(self, rec: _Record) -> Outcome:
        src = rec.source
        if rec.not_person:
            return Outcome("", "skipped", rec.not_person, src)
        fields, problems, addresses = _contact_data(rec, self.extra_tags)
        if fields is None:
            return Outcome("", "skipped", "no first name" if rec.last.strip() else "no name", src)
        name = f"{fields['name']['first']} {fields['name'].get('last', '')}"
        base = _new_id(name, _one_line(rec.reading), addresses)
        data = {"id": base, **fields}
        contact, invalid, skip = _validated(data)
        problems += invalid
        if contact is None:
            return Outcome("", "skipped", "; ".join([skip, *problems]), src)
        full = _fold(contact.name.full)
        existing, by_address = self.book.find(addresses, full)
        if existing is not None:
            eid = str(existing.get("id", ""))
            if not self.update:
                why = f"already in {self.book.name} (id {eid}; use --update)"
                return Outcome(eid, "skipped", why, src)
            greeting = _keep_greeting(data["name"], existing.get("name"))
            filled = self.book.fill(existing, data)
            notes = [f"filled {', '.join(filled)}", greeting] if filled else []
            there = _display_name(existing.get("name"))
            if by_address and _fold(there) != full:  # a shared (household) address? say so
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
        greeting = _keep_greeting(data["name"])
        self.book.append(data)
        for a in folded:
            self.by_address.setdefault(a, (src, ident))
        self.by_name.setdefault(full, (src, ident))
        return Outcome(ident, "added", "; ".join(n for n in [greeting, *problems] if n), src)
