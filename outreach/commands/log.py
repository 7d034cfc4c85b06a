"""``outreach log``: append one interaction to the interactions file (never contacts.yaml)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from outreach.config import load_book
from outreach.errors import EXIT_OK, UsageError

LOG_HEADER = (
    "# Interactions logged with `outreach log` (append-only; edit by hand if you must).\n"
    "# Each line: contact id, date, kind (meeting call email note gift visit other), summary.\n"
)


@dataclass(frozen=True)
class LogReport:
    path: Path  # the interactions file
    kind: str
    contact: str

    @property
    def exit_code(self) -> int:
        return EXIT_OK


def log(root: Path, *, contact_id: str, kind: str, summary: str, day: dt.date) -> LogReport:
    """``outreach log``: :func:`log_interaction`, as a report."""
    path = log_interaction(root, contact_id=contact_id, kind=kind, summary=summary, day=day)
    return LogReport(path, kind, contact_id)


def log_interaction(root: Path, *, contact_id: str, kind: str, summary: str, day: dt.date) -> Path:
    """Append one interaction to the interactions file; it never rewrites contacts.yaml."""
    import difflib

    import yaml

    book = load_book(root)
    try:
        book.contact(contact_id)
    except KeyError:
        close = difflib.get_close_matches(contact_id, [c.id for c in book.contacts], n=1)
        raise UsageError(
            f"no contact has the id '{contact_id}'",
            f"did you mean '{close[0]}'?" if close else "see contacts.yaml",
        ) from None
    from pydantic import ValidationError

    from outreach.model import LoggedInteraction

    if "\x00" in summary:
        raise UsageError("the note holds a NUL character", "type plain text")
    if not summary.strip():
        raise UsageError(
            "the note is empty", f"say what it was about, e.g. --{kind} 'talked about the renewal'"
        )
    entry = {"contact": contact_id, "date": day, "kind": kind, "summary": summary.strip()}
    try:  # write only what the next run accepts
        LoggedInteraction.model_validate(entry)
    except ValidationError as exc:
        raise UsageError(
            f"the note cannot be logged: {exc.errors()[0]['msg']}", "type plain text"
        ) from None
    line = yaml.safe_dump(
        [entry], default_flow_style=None, allow_unicode=True, width=100_000, sort_keys=False
    )
    path = book.path(book.settings.interactions)
    new = not path.exists() or path.stat().st_size == 0
    # a file edited by hand may not end with a line break: never glue onto its last line
    glue = "" if new or path.read_bytes()[-1:] == b"\n" else "\n"
    data = ((LOG_HEADER if new else glue) + line).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path
