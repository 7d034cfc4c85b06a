"""What every reader needs: the export's text, cleaned values, dates, CSV rows."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from outreach.errors import UsageError

MISSING: Any = object()  # no such value (in a mapping, or in a text that cannot be read)


def read_text(file: Path) -> tuple[str, str | None]:
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


def clean(value: str) -> str:
    """Free text: line breaks normalised, characters YAML cannot hold removed, trimmed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _UNPRINTABLE.sub("", value)
    return "\n".join(line.rstrip() for line in value.split("\n")).strip()


def one_line(value: str) -> str:
    """A name, address or title: one line, single spaces."""
    return " ".join(clean(value).split())


def unique(values: Iterable[str]) -> list[str]:
    """The non-empty values in order, each once (ignoring case)."""
    out: list[str] = []
    seen: set[str] = set()
    for v in values:
        if v and v.casefold() not in seen:
            seen.add(v.casefold())
            out.append(v)
    return out


def fold(text: str) -> str:
    """For comparing names: case and spacing folded."""
    return " ".join(text.split()).casefold()


def is_empty(value: Any) -> bool:
    """None, blank text, an empty list or mapping: a field an update may fill in."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


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


def csv_rows(text: str, name: str) -> list[list[str]]:
    """The rows of a CSV text, with the delimiter its first line uses most (, ; or TAB)."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UsageError(
            f"{name} is not a readable CSV file ({exc})", "export it again as CSV"
        ) from None
