"""Google Contacts CSV: the current "Google CSV" header and the older export's."""

from __future__ import annotations

import re

from outreach.errors import UsageError
from outreach.importers.records import WEDDING_LABELS, Record, as_tag, email_kind, plain_label
from outreach.importers.text import csv_rows, unique

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


def parse_google(text: str, name: str) -> tuple[list[Record], list[str]]:
    rows = csv_rows(text, name)
    start = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    header = [c.strip() for c in rows[start]] if start is not None else []
    if not {"First Name", "Given Name", "Name"} & set(header):
        raise UsageError(
            f"{name} does not look like a Google Contacts CSV (no 'First Name' column)",
            "export from contacts.google.com with Export > Google CSV",
        )
    ignored = unique(
        h for h in header if h and h not in _GOOGLE_COLUMNS and not _GOOGLE_NUMBERED.fullmatch(h)
    )
    records: list[Record] = []
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

        rec = Record(f"row {number}")
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
        rec.tags = [t for t in map(as_tag, _split_multi(get("Labels", "Group Membership"))) if t]
        for (kind, _n), parts in sorted(numbered.items(), key=lambda kv: kv[0][1]):
            label, value = plain_label(parts.get("Label", "")), parts.get("Value", "")
            if kind == "E-mail":
                which = email_kind([label])
                rec.emails += [(which, v) for v in _split_multi(value)]
            elif kind == "Relation":
                rec.relate({label}, _split_multi(value))
            elif kind == "Event" and label in WEDDING_LABELS and not rec.wedding:
                rec.wedding = value
            elif kind == "Organization" and _n == 1:
                rec.company = rec.company or parts.get("Name", "")
                rec.title = rec.title or parts.get("Title", "")
        rec.company = get("Organization Name") or rec.company
        rec.title = get("Organization Title") or rec.title
        records.append(rec)
    notes = [f"ignored columns: {', '.join(ignored)}"] if ignored else []
    return records, notes
