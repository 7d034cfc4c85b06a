"""The ledger's rows as the planner needs them (:class:`outreach.model.History`): one read of
each table, on the ledger's connection (only :mod:`outreach.ledger` opens one)."""

from __future__ import annotations

import datetime as dt
import sqlite3

from outreach.model import History, Interaction


def read(conn: sqlite3.Connection) -> History:
    """What the planner needs of the ledger."""
    # one pass over the drafted rows gives what was done, who was touched when, and when
    done: set[str] = set()
    touched: dict[str, list[dt.date]] = {}
    made_on: dict[str, dt.date] = {}
    days: dict[str, dt.date] = {}  # a night's drafts share their day: parse it once
    for key, contact, made in conn.execute(
        "SELECT key, contact, made_on FROM touches WHERE status = 'drafted'"
    ):
        done.add(key)
        if made is not None:
            day = days.get(made)
            if day is None:
                day = days[made] = dt.date.fromisoformat(made)
            touched.setdefault(contact, []).append(day)
            made_on[key] = day
    run_days = tuple(
        dt.date.fromisoformat(d)
        for (d,) in conn.execute("SELECT DISTINCT run_date FROM runs ORDER BY run_date")
    )
    first = run_days[0].isoformat() if run_days else None
    replies: dict[str, list[dt.date]] = {}
    stopped: set[str] = set()
    for first_key, contact, day in conn.execute("SELECT first_key, contact, day FROM replies"):
        stopped.add(first_key)
        replies.setdefault(contact, []).append(dt.date.fromisoformat(day))
    seen: dict[str, list[Interaction]] = {}
    heard: dict[str, list[dt.date]] = {}
    sources: dict[tuple[str, dt.date, str | None], str] = {}
    for contact, day, kind, source, summary, inbound in conn.execute(
        "SELECT contact, day, kind, source, summary, inbound FROM seen ORDER BY day, ref"
    ):
        date = dt.date.fromisoformat(day)
        seen.setdefault(contact, []).append(
            Interaction.model_construct(date=date, kind=kind, summary=summary)
        )
        sources[(contact, date, summary)] = source
        if inbound:
            heard.setdefault(contact, []).append(date)
    arrived = {
        contact: dt.date.fromisoformat(night)
        for contact, night in conn.execute("SELECT contact, night FROM arrivals")
    }
    return History(
        done=frozenset(done),
        touched={k: tuple(sorted(v)) for k, v in touched.items()},
        since=dt.date.fromisoformat(first) if first else None,
        made_on=made_on,
        stopped=frozenset(stopped),
        replies={k: tuple(sorted(v)) for k, v in replies.items()},
        seen={k: tuple(v) for k, v in seen.items()},
        run_days=run_days,
        heard={k: tuple(sorted(set(v))) for k, v in heard.items()},
        seen_sources=sources,
        arrived=arrived,
    )
