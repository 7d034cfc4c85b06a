"""Steady mornings (README "Steady mornings"): above the morning target, what can wait is left
for the coming nights of its window; dated touches never move; a new book or an import ramps
up over the keep-in-touch interval; a night within the target moves nothing."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from typing import Any

import pytest
from factories import book, campaign, contact, history
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nights import nights, rhythm_book
from test_planner_properties import campaigns, contacts

from outreach import planner, spread
from outreach.model import History

D = dt.date.fromisoformat
START = D("2026-12-01")
KIT = {"kind": "interval", "days": 60}


def kit(**fields: Any) -> Any:
    return campaign("keep-in-touch", trigger=KIT, priority=10, **fields)


def people(n: int, **fields: Any) -> list[Any]:
    return [contact(f"p{i:03d}", **fields) for i in range(n)]


def made_nights(plans: list[planner.Plan]) -> dict[str, dt.date]:
    return {t.key: p.today for p in plans for t in p.touches}


# --------------------------------------------------------------------------- the target


def test_a_night_within_the_target_moves_nothing() -> None:
    """Twenty keep-in-touch notes due on a new book's first night: all twenty are made (a
    night of up to 20 is never spread), and plan says nothing about it."""
    p = planner.plan(book(people(20), [kit()]), History(), today=START)
    assert len(p.touches) == 20
    assert p.moved == () and p.spread == ()


def test_the_target_is_the_books_average_and_a_small_night_never_moves() -> None:
    """Computed from the book: keep-in-touch once an interval, a date once a year, a schedule
    once an issue. A night of up to 20 is never spread, whatever the target; one set by hand
    (limits.morning_target) is both the aim and the bound."""
    camps = [kit(), campaign("quarterly", {"kind": "schedule", "months": [1, 4, 7, 10]}),
             campaign("birthday")]
    big = book(people(1200, dates={"birthday": "1980-05-01"}), camps)
    reach = planner.Audiences(big).reachable
    load = spread.average_load(big, reach)
    assert load == pytest.approx(1200 / 60 + 1200 * 4 / 365 + 1200 / 365)
    assert spread.morning_target(big, reach) == math.ceil(load) == 37
    assert spread.threshold(big, 37) == 37
    small = book(people(50), camps)
    assert spread.morning_target(small, planner.Audiences(small).reachable) == 2
    assert spread.threshold(small, 2) == 20
    by_hand = book(people(50), camps, limits={"morning_target": 7})
    assert spread.morning_target(by_hand, planner.Audiences(by_hand).reachable) == 7
    assert spread.threshold(by_hand, 7) == 7


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_a_small_book_gives_exactly_the_touches_it_gave_before(data: Any) -> None:
    """A book whose nights stay within the target (5 to 12 people, any campaigns) makes the
    same touches on the same nights over a year as with spreading switched off."""
    start = data.draw(st.dates(D("2026-01-01"), D("2028-12-31")))
    folks = [data.draw(contacts(i, start)) for i in range(data.draw(st.integers(5, 12)))]
    camps = [data.draw(campaigns(i)) for i in range(data.draw(st.integers(1, 4)))]
    lim = {"cooldown_days": data.draw(st.integers(0, 5))}
    steady = nights(book(folks, camps, limits=lim), start, 365)
    before = nights(book(folks, camps, limits={**lim, "morning_target": 100000}), start, 365)
    assert all(len(p.touches) <= 20 for p in steady)
    assert [[t.key for t in p.touches] for p in steady] == [
        [t.key for t in p.touches] for p in before
    ]


# --------------------------------------------------------------------------- what moves


def test_dated_touches_stay_and_what_can_wait_fills_the_morning() -> None:
    """Thirty birthdays and a hundred keep-in-touch notes on one night, target 40: the thirty
    birthdays are made, with ten keep-in-touch notes (the longest overdue first); plan says
    how many of the keep-in-touch notes moved."""
    born = people(30, dates={"birthday": "1980-12-01"})
    quiet = [contact(f"q{i:03d}", last_contacted=(START - dt.timedelta(days=200 - i)).isoformat())
             for i in range(100)]
    b = book(born + quiet, [campaign(priority=90), kit()], limits={"morning_target": 40})
    p = planner.plan(b, History(arrived={c.id: D("2026-01-01") for c in born + quiet}),
                     today=START)
    assert sum(t.campaign_id == "birthday" for t in p.touches) == 30
    assert {t.contact_id for t in p.touches if t.campaign_id == "keep-in-touch"} == {
        f"q{i:03d}" for i in range(10)}
    assert p.spread == ("spread: 90 of 100 due keep-in-touch notes moved to the coming nights "
                        "(a morning target of 40)",)
    assert all(t.campaign_id == "keep-in-touch" for t in p.moved)


def test_priority_decides_within_a_night() -> None:
    """Two campaigns whose notes can wait, over the target: the higher priority fills the
    morning first."""
    b = book(people(60), [kit(), campaign("news", {"kind": "interval", "days": 90},
                                          priority=50)],
             limits={"morning_target": 25, "per_contact_per_day": 2, "cooldown_days": 0})
    h = History(arrived={f"p{i:03d}": D("2025-06-01") for i in range(60)}, since=D("2026-01-01"))
    p = planner.plan(b, h, today=START)
    assert {t.campaign_id for t in p.touches} == {"news"}
    assert len(p.touches) == 25


def test_a_flexible_campaign_is_spread_and_made_before_its_last_day() -> None:
    """A quarterly update marked flexible, to 300 people, target 10: each night makes what the
    window needs (at least 300 over the nights before the margin), every note is made by two
    nights before its last day, and the nights are even."""
    q = campaign("quarterly", {"kind": "schedule", "months": [1, 4, 7, 10], "day": 5},
                 flexible=True)
    b = book(people(300), [q], limits={"morning_target": 10})
    plans = nights(b, D("2027-01-05"), 40)
    made = made_nights(plans)
    assert len(made) == 300
    window = [len(p.touches) for p in plans if p.touches]
    last = D("2027-01-05") + dt.timedelta(days=45)
    assert max(made.values()) <= last - dt.timedelta(days=spread.MARGIN)
    assert max(window) - min(window) <= 1  # the same number each night


def test_a_flexible_schedule_waits_up_to_six_weeks_unless_catch_up_days_says() -> None:
    """flexible: a schedule's window is 45 days (never past the next issue); its catch_up_days
    still wins; without flexible it is 14 days."""
    def last_day(**fields: Any) -> dt.date:
        q = campaign("q", {"kind": "schedule", "months": [1, 4, 7, 10], "day": 5}, **fields)
        (t,) = planner.plan(book([contact()], [q]), History(), today=D("2027-01-05")).touches
        return t.last_day

    assert last_day(flexible=True) == D("2027-02-19")
    assert last_day(flexible=True, catch_up_days=10) == D("2027-01-15")
    assert last_day() == D("2027-01-19")
    monthly = campaign("m", {"kind": "schedule", "day": 5}, flexible=True)
    (t,) = planner.plan(book([contact()], [monthly]), History(), today=D("2027-02-05")).touches
    assert t.last_day == D("2027-03-04")  # the day before the next issue


def test_a_new_book_does_not_owe_everyone_an_old_flexible_issue() -> None:
    """A flexible quarterly update due more than 14 days before a person came into the book is
    not theirs (their first is the next issue); one due more recently is, spread over what is
    left of its window; a schedule that is not flexible still catches up as before."""
    def first_night(start: str, **fields: Any) -> list[str]:
        q = campaign("q", {"kind": "schedule", "months": [1, 4, 7, 10], "day": 5}, **fields)
        b = book(people(300), [q], limits={"morning_target": 10})
        return [t.key for t in planner.plan(b, History(), today=D(start)).touches]

    assert first_night("2027-01-25", flexible=True) == []
    assert len(first_night("2027-01-15", flexible=True)) == 10  # the target (the window: 9)
    assert len(first_night("2027-01-15")) == 50  # the cap, as it was


def test_a_note_that_can_wait_does_not_hold_back_a_birthday_by_its_cool_down() -> None:
    """Over the target, a keep-in-touch is not made for someone whose dated note comes within
    that campaign's cool-down: the dated one goes on its day, and resets the keep-in-touch."""
    soon = contact("soon", last_contacted="2026-05-01",
                   family={"children": [{"name": "Sam", "birthday": "2015-12-09"}]})
    others = [contact(f"p{i:03d}", last_contacted="2026-06-01") for i in range(30)]
    kids = campaign("kids", {"kind": "date", "field": "children.birthday", "days_before": 7},
                    priority=80, cooldown_days=3)
    b = book([soon, *others], [kids, kit()], limits={"morning_target": 29})
    h = History(arrived={c.id: D("2026-01-01") for c in [soon, *others]}, since=D("2026-01-01"))
    plans = nights(b, START, 5, h)
    assert "keep-in-touch/soon/2026-06-30" not in [t.key for t in plans[0].touches]
    assert len(plans[0].touches) == 29
    assert made_nights(plans)["kids/soon/sam-2026"] == D("2026-12-02")


# --------------------------------------------------------------------------- ramping up


def test_a_new_book_starts_keep_in_touch_over_its_interval() -> None:
    """600 people never touched, keep-in-touch every 60 days: ten a night (600 / 60), each once
    in the first 60 nights (the last few together once they fit in a morning)."""
    plans = nights(book(people(600), [kit()]), START, 61)
    counts = [len(p.touches) for p in plans]
    assert counts[:50] == [10] * 50 and max(counts) <= 20
    first = {t.contact_id for p in plans[:60] for t in p.touches}
    assert len(first) == 600
    assert sum(counts[:60]) == 600  # each once
    assert plans[0].spread == ("spread: 590 of 600 due keep-in-touch notes moved to the coming "
                               "nights (a morning target of 10; people new to the book start "
                               "over the 60-day interval, 10 a night)",)


def test_the_longest_overdue_start_first() -> None:
    """People with an older last touch get their keep-in-touch on the first nights."""
    folks = [contact(f"p{i:03d}", last_contacted=(START - dt.timedelta(days=100 + i)).isoformat())
             for i in range(120)]
    p = planner.plan(book(folks, [kit()], limits={"morning_target": 5}), History(), today=START)
    assert sorted(t.contact_id for t in p.touches) == [f"p{i:03d}" for i in range(118, 120)]


def test_an_import_ramps_up_from_the_night_it_came() -> None:
    """300 people arrive in a book already running: their keep-in-touch is spread over the
    interval from that night (5 a night), not made at once and not after the interval."""
    old = people(100)
    plans = nights(book(old, [kit()]), START, 30)
    h = History()
    for p in plans:
        h = planner.with_made(planner.with_arrivals(h, book(old, [kit()]), p.today), p.touches,
                              p.today)
    new = [contact(f"n{i:03d}") for i in range(300)]
    later = nights(book([*old, *new], [kit()]), START + dt.timedelta(days=30), 61, h)
    newcomers = [[t for t in p.touches if t.contact_id.startswith("n")] for p in later]
    assert len(newcomers[0]) == 5
    assert sum(len(n) for n in newcomers[:60]) == 300


# --------------------------------------------------------------------------- the same again


def test_a_second_run_of_a_night_makes_nothing_more() -> None:
    """A night that already ran (again after a crash, or twice) spreads as its first run did:
    what waited still waits, and nothing is made twice."""
    b = book(people(200), [kit()])
    first = planner.plan(b, History(), today=START)
    h = planner.with_made(planner.with_arrivals(History(), b, START), first.touches, START)
    again = planner.plan(b, h, today=START)
    assert again.touches == ()
    assert {t.key for t in again.moved} == {t.key for t in first.moved}
    half = planner.with_made(planner.with_arrivals(History(), b, START), first.touches[:2], START)
    rest = planner.plan(b, half, today=START)
    assert {t.key for t in rest.touches} == {t.key for t in first.touches[2:]}


# --------------------------------------------------------------------------- the issue's book


@pytest.mark.parametrize("start", [D("2026-12-01"), D("2027-02-10"), D("2027-06-20")])
def test_a_500_person_book_has_steady_mornings_for_150_nights(start: dt.date) -> None:
    """The book of issue 16 (its quarterly update flexible) from its first night: the busiest
    morning is at most twice the median, no dated touch is ever moved, and nothing expires
    unmade."""
    plans = nights(rhythm_book(start=start), start, 150)
    counts = [len(p.touches) for p in plans]
    assert max(counts) <= 2 * statistics.median(counts), counts
    movable = {"keep-in-touch", "quarterly"}
    assert all(t.campaign_id in movable for p in plans for t in p.moved)
    lost = [d.touch.key for p in plans for d in p.deferred if d.touch.last_day <= p.today]
    assert lost == []


def test_without_flexible_and_spreading_the_same_book_comes_in_waves() -> None:
    """The same book as it was (spreading switched off, the quarterly update not flexible):
    mornings at the cap of 50 and a median of a few: the chart of issue 16."""
    book_before = rhythm_book(flexible=False, limits={"morning_target": 100000})
    counts = [len(p.touches) for p in nights(book_before, START, 150)]
    assert max(counts) == 50 and statistics.median(counts) < 10


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_what_waits_is_made_in_its_window_and_dated_touches_never_wait(data: Any) -> None:
    """Random books of 30 to 80 people and a small target: only keep-in-touch, articles and
    flexible campaigns are ever moved, never on their last nights, and each flexible touch
    moved is made by its last day."""
    start = data.draw(st.dates(D("2026-01-01"), D("2028-12-31")))
    folks = [data.draw(contacts(i, start)) for i in range(data.draw(st.integers(30, 80)))]
    camps = [data.draw(campaigns(i)) for i in range(data.draw(st.integers(2, 4)))]
    flexible = data.draw(st.sets(st.sampled_from([c.id for c in camps])))
    camps = [c.model_copy(update={"flexible": c.id in flexible}) for c in camps]
    b = book(folks, camps, limits={"morning_target": data.draw(st.integers(2, 8)),
                                   "nightly_cap": 1000, "cooldown_days": 0,
                                   "per_contact_per_day": 3})
    plans = nights(b, start, 90, history(since=start))
    made = made_nights(plans)
    for p in plans:
        for t in p.moved:
            camp = b.campaign(t.campaign_id)
            assert camp.flexible or camp.trigger.kind == "interval", t.key
            assert t.last_day - dt.timedelta(days=spread.MARGIN) > p.today
            if planner.expires(t) and t.last_day < plans[-1].today:
                assert made.get(t.key, dt.date.max) <= t.last_day, t.key
