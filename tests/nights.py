"""Nights as cron runs them, in memory: each night's people arrive, its plan is made, its touches
are recorded; and the kind of book whose mornings came in waves (issue 16).

    plans = nights(book, dt.date(2026, 12, 1), 150)
    [len(p.touches) for p in plans]   # the mornings
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from factories import book as make_book
from factories import campaign_data

from outreach import planner
from outreach.book import Book
from outreach.model import Campaign, Contact, History


def nights(
    book: Book, start: dt.date, n: int, history: History | None = None
) -> list[planner.Plan]:
    """The plans of ``n`` nights from ``start``, each night's touches made (as the run records
    them: the book's people arrive, then the drafts)."""
    history = history or History()
    plans = []
    for i in range(n):
        day = start + dt.timedelta(days=i)
        history = planner.with_arrivals(history, book, day)
        p = planner.plan(book, history, today=day)
        plans.append(p)
        history = planner.with_made(history, p.touches, day)
    return plans


def rhythm_campaigns(*, flexible: bool, interval: int = 60) -> list[dict[str, Any]]:
    """Birthdays, children's birthdays (a week ahead), client anniversaries, a quarterly update
    to everyone (``flexible``: it may wait) and keep-in-touch every ``interval`` days."""
    quarterly = campaign_data(
        "quarterly",
        {"kind": "schedule", "months": [1, 4, 7, 10], "day": 5},
        business_days="next",
        priority=40,
    )
    if flexible:
        quarterly["flexible"] = True
    return [
        campaign_data("birthday", priority=90, cooldown_days=0),
        campaign_data(
            "kids", {"kind": "date", "field": "children.birthday", "days_before": 7}, priority=80
        ),
        campaign_data("client-anniversary", {"kind": "date", "field": "client_since"}, priority=70),
        quarterly,
        campaign_data("keep-in-touch", {"kind": "interval", "days": interval}, priority=10),
    ]


def people(n: int, start: dt.date, seed: int) -> list[dict[str, Any]]:
    """``n`` people with realistic dates: a birthday each (some without the year), children for
    a third, a client-since date for half, a last contact in the months before ``start`` for a
    third, customers and prospects."""
    rng = random.Random(seed)

    def day_of_year() -> tuple[int, int]:
        d = dt.date(2001, 1, 1) + dt.timedelta(days=rng.randrange(365))
        return d.month, d.day

    out = []
    for i in range(n):
        m, d = day_of_year()
        data: dict[str, Any] = {
            "id": f"p{i:04d}",
            "name": {
                "first": rng.choice(["Ana", "Ben", "Chloé", "Dev", "Eli", "Zoë"]),
                "last": "X",
            },
            "email": {"work": f"p{i}@acme.example"},
            "country": rng.choice(["US", "US", "GB", "DE"]),
            "stage": rng.choice(["customer", "customer", "prospect"]),
            "dates": {
                "birthday": f"{rng.randint(1950, 2000)}-{m:02d}-{d:02d}"
                if rng.random() < 0.7
                else f"--{m:02d}-{d:02d}"
            },
        }
        if rng.random() < 0.5:
            cm, cd = day_of_year()
            data["dates"]["client_since"] = f"{rng.randint(2010, 2025)}-{cm:02d}-{cd:02d}"
        if rng.random() < 0.33:
            kids = []
            for k in range(rng.randint(1, 3)):
                km, kd = day_of_year()
                kids.append(
                    {"name": f"Kid{k}", "birthday": f"{rng.randint(2008, 2022)}-{km:02d}-{kd:02d}"}
                )
            data["family"] = {"children": kids}
        if rng.random() < 0.33:
            data["last_contacted"] = (start - dt.timedelta(days=rng.randint(1, 200))).isoformat()
        out.append(data)
    return out


def rhythm_book(
    n: int = 500,
    start: dt.date = dt.date(2026, 12, 1),
    *,
    flexible: bool = True,
    seed: int = 16,
    **settings: Any,
) -> Book:
    """The kind of book of issue 16, in memory."""
    contacts = [Contact.model_validate(c) for c in people(n, start, seed)]
    campaigns = [Campaign.model_validate(c) for c in rhythm_campaigns(flexible=flexible)]
    return make_book(contacts, campaigns, **settings)
