"""LinkedIn's Connections.csv (with the notes lines before its header), and its dates."""

from __future__ import annotations

import datetime as dt
import re

from outreach.errors import UsageError
from outreach.importers.records import Record
from outreach.importers.text import csv_rows, normalize_date, unique

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


_LINKEDIN_COLUMNS = (
    "First Name",
    "Last Name",
    "URL",
    "Email Address",
    "Company",
    "Position",
    "Connected On",
)


def parse_linkedin(text: str, name: str) -> tuple[list[Record], list[str]]:
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
    rows = csv_rows("".join(lines[start:]), name)
    header = [c.strip().lstrip("\ufeff") for c in rows[0]]
    ignored = [h for h in unique(header) if h and h not in _LINKEDIN_COLUMNS]
    records: list[Record] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cells = {h: v.strip() for h, v in zip(header, row, strict=False) if h not in ("",)}
        rec = Record(f"row {number}")
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
