"""Referral asks: a date some days after (``days_after``), an audience of clients of at least N
days (``audience.since_days``), at most one touch of a campaign in N days (``every_days``, any
trigger); over two simulated years each eligible customer is asked at most once a year, never a
prospect."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

from factories import book, campaign, contact
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.model import History
from outreach.planner import plan, plan_days

REFERRAL = campaign(
    "referral",
    {"kind": "date", "field": "client_since", "days_after": 30},
    audience={"stages": ["customer"], "since_days": 365},
    every_days=365,
    priority=30,
)


def test_due_thirty_days_after_the_client_anniversary() -> None:
    """A client since 2024-03-01 is asked from 2026-03-31 (30 days after the anniversary, a
    Tuesday) and caught up for 14 days; not before, not after."""
    jane = contact("jane-doe", stage="customer", dates={"client_since": "2024-03-01"})
    b = book([jane], [REFERRAL])
    assert plan(b, History(), today=dt.date(2026, 3, 30)).touches == ()
    due = plan(b, History(), today=dt.date(2026, 3, 31)).touches
    assert [t.key for t in due] == ["referral/jane-doe/2026"]
    assert "30 days after" in due[0].reason
    assert plan(b, History(), today=dt.date(2026, 4, 14)).touches != ()
    assert plan(b, History(), today=dt.date(2026, 4, 15)).touches == ()


def test_only_clients_of_long_enough_and_never_a_prospect() -> None:
    """Clients of at least two years (since_days: 730): a client of one year on their first
    anniversary's ask day is not asked (plan says why); a prospect with a client_since and a
    customer without one never are."""
    two_years = REFERRAL.model_copy(
        update={"audience": REFERRAL.audience.model_copy(update={"since_days": 730})})
    new = contact("new-client", stage="customer", dates={"client_since": "2025-08-01"})
    prospect = contact("pat-prospect", stage="prospect", dates={"client_since": "2020-08-01"})
    unknown = contact("no-date", stage="customer")
    b = book([new, prospect, unknown], [two_years])
    p = plan(b, History(), today=dt.date(2026, 8, 31))
    assert p.touches == ()
    assert [(s.contact_id, s.why) for s in p.skipped] == [
        ("new-client", "a client since 2025-08-01, not yet 730 days")]


def test_every_days_limits_any_trigger() -> None:
    """A monthly note with every_days: 90 reaches a person once in 90 days (then says why)."""
    monthly = campaign("monthly", {"kind": "schedule", "day": 1}, every_days=90,
                       catch_up_days=3)
    jane = contact("jane-doe")
    b = book([jane], [monthly])
    days = [p.today for p in plan_days(b, History(), today=dt.date(2026, 1, 1), days=364)
            if p.touches]
    assert days == [dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 7, 1),
                    dt.date(2026, 10, 1)]
    p = plan_days(b, History(), today=dt.date(2026, 1, 1), days=31)[-1]
    assert [s.why for s in p.skipped] == ["had this note on 2026-01-01 (every_days 90)"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.dates(dt.date(2019, 1, 1), dt.date(2027, 6, 30)),
                          st.sampled_from(["customer", "prospect"])), min_size=1, max_size=6))
def test_two_years_at_most_once_a_year_never_a_prospect(people: list[tuple[dt.date, str]]) -> None:
    """Over two simulated years of nights, every customer of at least a year is asked at most
    once in any 365 days and at least once a year; a prospect never; nobody before a year."""
    contacts = [contact(f"p{i}-doe", stage=stage, dates={"client_since": since.isoformat()})
                for i, (since, stage) in enumerate(people)]
    b = book(contacts, [REFERRAL])
    start = dt.date(2026, 1, 1)
    asked: dict[str, list[dt.date]] = defaultdict(list)
    for p in plan_days(b, History(), today=start, days=729):
        for t in p.touches:
            asked[t.contact_id].append(p.today)
    for i, (since, stage) in enumerate(people):
        days = asked.get(f"p{i}-doe", [])
        if stage == "prospect":
            assert days == []
            continue
        assert all((d - since).days >= 365 for d in days)
        assert all((b_ - a).days >= 365 for a, b_ in itertools.pairwise(days))
        eligible = max(since.replace(year=since.year + 1) if not (since.month == 2 and
                       since.day == 29) else dt.date(since.year + 1, 3, 1), start)
        if eligible < dt.date(2027, 1, 1):
            assert days, (since, days)  # eligible in the first year: asked in the two
