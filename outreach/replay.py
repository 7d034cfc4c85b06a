"""History as nights change it: after a night's touches were made (``with_made``, what ``plan
--days`` and the simulations use), after a run saw the book's people (``with_arrivals``), and as
it was before a night's run (``before``: a second run of a night spreads as its first did)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from outreach.book import Book
from outreach.touch import History, Touch
from outreach.touchkey import TouchKey


def with_made(history: History, touches: tuple[Touch, ...] | list[Touch], day: dt.date) -> History:
    """History after ``touches`` were made on ``day`` (used to simulate coming days)."""
    touched = {k: list(v) for k, v in (history.touched or {}).items()}
    for t in touches:
        touched.setdefault(t.contact_id, []).append(day)
    return replace(
        history,
        done=history.done | {t.key for t in touches},
        touched={k: tuple(v) for k, v in touched.items()},
        since=history.since or day,
        made_on={**(history.made_on or {}), **{t.key: day for t in touches}},
        run_days=(*history.run_days, day),
    )


def with_arrivals(history: History, book: Book, day: dt.date) -> History:
    """History after a run on ``day`` saw the book's people (those new to it arrive then)."""
    arrived = dict(history.arrived or {})
    new = {c.id: day for c in book.contacts if c.id not in arrived}
    return replace(history, arrived={**arrived, **new}) if new else history


def made_on(history: History, day: dt.date) -> set[str]:
    """The keys drafted by the run(s) of ``day``: empty for a night that has not run yet."""
    return {k for k, d in (history.made_on or {}).items() if d == day}


def before(history: History, day: dt.date) -> History:
    """History as it was before the run(s) of ``day``: what they drafted is not made yet."""
    tonight = made_on(history, day)
    if not tonight:
        return history
    touched = {c: list(v) for c, v in (history.touched or {}).items()}
    for key in tonight:
        days = touched.get(TouchKey.parse(key).contact)
        if days and day in days:
            days.remove(day)
    return replace(
        history,
        done=history.done - tonight,
        touched={c: tuple(v) for c, v in touched.items()},
        made_on={k: d for k, d in (history.made_on or {}).items() if d != day},
    )
