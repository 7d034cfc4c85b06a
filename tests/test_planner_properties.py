"""Properties of the planner over random small books, simulated night by night for a year.

Each example draws a few contacts (birthdays with and without a year, 29 February, children,
spouses, last touches, countries, preferences), a few campaigns of every trigger kind (random lead
times, intervals, schedules, business-day shifts, catch-up windows, priorities, cool-downs) and
limits, then runs the planner every night from a random start, with some nights missed, recording
what each night made as the ledger would (``with_made``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach import occasions, planner
from outreach.book import Book
from outreach.model import History, Touch
from tests.factories import book, campaign, contact, history

ONE = dt.timedelta(days=1)
SLOW = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- strategies

any_date = st.dates(dt.date(2000, 1, 1), dt.date(2000, 12, 31))  # 2000: a leap year


@st.composite
def partial_dates(draw: Any, *, min_year: int = 1950, max_year: int = 2012) -> str:
    """'YYYY-MM-DD' or '--MM-DD', often 29 February."""
    if draw(st.integers(0, 4)) == 0:
        month, day = 2, 29
        year = draw(st.sampled_from([None, 1988, 1996, 2000, 2004]))
        year = None if year is None else max(min(year, max_year), min_year)
        if year is not None and not calendar.isleap(year):
            year = None
    else:
        d = draw(any_date)
        month, day = d.month, d.day
        year = draw(st.none() | st.integers(min_year, max_year))
        if year is not None and month == 2 and day == 29 and not calendar.isleap(year):
            year = None
    return f"--{month:02d}-{day:02d}" if year is None else f"{year:04d}-{month:02d}-{day:02d}"


NAMES = ["Sam", "Lily Ann", "Max", "Zoe"]
TAGS = ["golf", "vip", "tennis"]


@st.composite
def contacts(draw: Any, n: int, around: dt.date) -> Any:
    fields: dict[str, Any] = {}
    dates: dict[str, Any] = {}
    if draw(st.integers(0, 5)) < 5:
        dates["birthday"] = draw(partial_dates())
    if draw(st.booleans()):
        dates["wedding"] = draw(partial_dates(min_year=1980, max_year=2020))
    if dates:
        fields["dates"] = dates
    family: dict[str, Any] = {}
    if draw(st.booleans()):
        spouse: dict[str, Any] = {"name": "Chris"}
        if draw(st.booleans()):
            spouse["birthday"] = draw(partial_dates())
        family["spouse"] = spouse
    kids = draw(st.lists(st.sampled_from(NAMES), max_size=2, unique=True))
    if kids:
        family["children"] = [{"name": k, "birthday": draw(partial_dates(min_year=2000,
                                                                         max_year=2027))}
                              for k in kids]
    if family:
        fields["family"] = family
    if draw(st.booleans()):
        fields["last_contacted"] = draw(st.dates(around - dt.timedelta(days=200),
                                                 around + dt.timedelta(days=200)))
    if draw(st.booleans()):
        fields["interactions"] = [{"date": d} for d in draw(st.lists(
            st.dates(around - dt.timedelta(days=200), around + dt.timedelta(days=300)),
            max_size=2))]
    if draw(st.booleans()):
        fields["start_date"] = draw(st.dates(dt.date(1995, 1, 1), around + dt.timedelta(days=200)))
    fields["country"] = draw(st.sampled_from(["US", "GB", "DE", None]))
    fields["tags"] = draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True))
    fields["tier"] = draw(st.sampled_from(["a", "b", None]))
    roll = draw(st.integers(0, 9))
    if roll == 9:
        fields["preferences"] = {"do_not_contact": True}
    elif roll == 8:
        fields["preferences"] = {"email_ok": False}
    elif roll == 7:
        fields["email"] = {}
    return contact(f"c{n}", **fields)


BUSINESS = st.sampled_from(["none", "none", "previous", "next"])
DATE_FIELDS = ["birthday", "birthday", "children.birthday", "spouse.birthday", "wedding",
               "work_anniversary"]


@st.composite
def triggers(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["date", "date", "holiday", "schedule", "interval"]))
    if kind == "date":
        return {"kind": "date", "field": draw(st.sampled_from(DATE_FIELDS)),
                "days_before": draw(st.integers(0, 30))}
    if kind == "holiday":
        trig: dict[str, Any] = {"kind": "holiday", "days_before": draw(st.integers(0, 20))}
        which = draw(st.sampled_from(["Thanksgiving", "Christmas", "explicit"]))
        if which == "explicit":
            trig["name"] = "Founders' Day"
            trig["dates"] = sorted(draw(st.sets(st.dates(dt.date(2026, 1, 1),
                                                         dt.date(2030, 12, 31)),
                                                min_size=1, max_size=4)))
        else:
            trig["name"] = which
            if draw(st.booleans()):
                trig["country"] = "US"
        return trig
    if kind == "schedule":
        return {"kind": "schedule",
                "months": sorted(draw(st.sets(st.integers(1, 12), min_size=1, max_size=12))),
                "day": draw(st.sampled_from([1, 5, 15, 28, 29, 30, 31]))}
    return {"kind": "interval", "days": draw(st.integers(1, 60))}


@st.composite
def campaigns(draw: Any, n: int) -> Any:
    fields: dict[str, Any] = {
        "priority": draw(st.integers(0, 100)),
        "business_days": draw(BUSINESS),
    }
    if draw(st.booleans()):
        fields["cooldown_days"] = draw(st.integers(0, 7))
    if draw(st.booleans()):
        fields["catch_up_days"] = draw(st.integers(0, 40))
    if draw(st.integers(0, 3)) == 3:
        fields["audience"] = {"tags": draw(st.lists(st.sampled_from(TAGS), min_size=1,
                                                    max_size=2, unique=True))}
    elif draw(st.integers(0, 4)) == 4:
        fields["audience"] = {"exclude_tags": ["vip"], "exclude": ["c0"]}
    if draw(st.integers(0, 9)) == 9:
        fields["enabled"] = False
    return campaign(f"k{n}", trigger=draw(triggers()), **fields)


@dataclass
class World:
    book: Book
    start: dt.date
    days: int
    skip: frozenset[dt.date] = field(default_factory=frozenset)


@st.composite
def worlds(draw: Any, *, days: int = 365, limits: dict[str, int] | None = None) -> World:
    start = draw(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)))
    people = [draw(contacts(i, start)) for i in range(draw(st.integers(1, 4)))]
    camps = [draw(campaigns(i)) for i in range(draw(st.integers(1, 4)))]
    lim = limits or {
        "per_contact_per_day": draw(st.integers(1, 3)),
        "cooldown_days": draw(st.integers(0, 5)),
        "nightly_cap": draw(st.integers(1, 8)),
    }
    skip = draw(st.frozensets(st.integers(0, days), max_size=days // 4))
    return World(book(people, camps, limits=lim), start, days,
                 frozenset(start + dt.timedelta(days=n) for n in skip))


# --------------------------------------------------------------------------- simulation


@dataclass
class Night:
    day: dt.date
    plan: planner.Plan
    before: History


def run(w: World) -> list[Night]:
    """Every night from the start, except the missed ones, as the nightly job would."""
    h = history()
    nights: list[Night] = []
    for n in range(w.days + 1):
        day = w.start + dt.timedelta(days=n)
        if day in w.skip:
            continue
        p = planner.plan(w.book, h, today=day)
        nights.append(Night(day, p, h))
        h = planner.with_made(h, p.touches, day)
    return nights


def made(nights: list[Night]) -> list[tuple[dt.date, Touch]]:
    return [(night.day, t) for night in nights for t in night.plan.touches]


# --------------------------------------------------------------------------- properties


@SLOW
@given(worlds())
def test_a_year_of_nights_keeps_every_rule(w: World) -> None:
    """Over a simulated year: no key twice; nothing before its due day or after its last day; no
    date or holiday touch after its occasion; the per-contact limit, the cool-down and the nightly
    cap hold (the cool-down gives way only where waiting would lose the touch); do-not-contact and unreachable people never appear; keys follow
    campaign/contact/ident; and a re-run of a night after recording it makes nothing new."""
    b = w.book
    lim = b.settings.limits
    contacts_by_id = {c.id: c for c in b.contacts}
    seen: set[str] = set()
    drafted: dict[str, list[dt.date]] = {}
    for night in run(w):
        day, p = night.day, night.plan
        per_contact: dict[str, int] = {}
        for t in p.touches:
            c = contacts_by_id[t.contact_id]
            camp = b.campaign(t.campaign_id)
            assert camp.enabled
            assert planner.in_audience(c, camp)
            assert t.key not in seen, f"{t.key} made twice"
            seen.add(t.key)
            assert t.key == f"{t.campaign_id}/{t.contact_id}/{t.occasion.ident}"
            assert t.due <= day <= t.last_day, (t, day)
            if t.occasion.kind in ("date", "holiday"):
                assert day <= t.occasion.date, (t, day)
                assert t.last_day <= t.occasion.date
                lead = dt.timedelta(days=camp.trigger.days_before)  # type: ignore[union-attr]
                if camp.business_days == "none":
                    assert t.due == t.occasion.date - lead
                else:
                    assert t.due <= t.occasion.date
            if t.occasion.kind == "schedule":
                assert t.occasion.date <= t.due or camp.business_days == "previous"
            assert not c.preferences.do_not_contact
            assert c.preferences.email_ok and c.address(camp.to)
            per_contact[t.contact_id] = per_contact.get(t.contact_id, 0) + 1
            cooldown = camp.cooldown_days if camp.cooldown_days is not None else lim.cooldown_days
            earlier = [d for d in drafted.get(t.contact_id, []) if d < day]
            if cooldown and earlier:
                # the cool-down holds, unless waiting it out would lose the touch altogether
                waited_out = max(earlier) + dt.timedelta(days=cooldown)
                assert day >= waited_out or waited_out > t.last_day, (t, earlier)
        assert all(n <= lim.per_contact_per_day for n in per_contact.values())
        assert len(p.touches) <= lim.nightly_cap
        for d in p.deferred:
            assert d.touch.key not in night.before.done
            assert not contacts_by_id[d.touch.contact_id].preferences.do_not_contact
        assert not {d.touch.key for d in p.deferred} & {t.key for t in p.touches}
        for s in p.skipped:
            c = contacts_by_id[s.contact_id]
            assert planner.draft_blocker(c, b.campaign(s.campaign_id)) == s.why
        for t in p.touches:
            drafted.setdefault(t.contact_id, []).append(day)
        # idempotent: the same night again, once recorded, makes nothing new
        after = planner.with_made(night.before, p.touches, day)
        assert planner.plan(b, after, today=day).touches == ()


@SLOW
@given(worlds(days=120))
def test_planning_is_deterministic(w: World) -> None:
    """The same book, history and day always give the same plan (touches, order, deferrals,
    skips), and plan_days equals planning night by night."""
    nights = run(World(w.book, w.start, w.days))
    assert planner.plan_days(w.book, history(), today=w.start, days=w.days) == [
        n.plan for n in nights]
    for night in nights[::7]:
        assert planner.plan(w.book, night.before, today=night.day) == night.plan


@SLOW
@given(worlds())
def test_keep_in_touch_waits_its_interval(w: World) -> None:
    """A keep-in-touch touch (no business-day shift) is made only when no touch of any kind,
    drafted or logged, happened in the N days before it."""
    b = w.book
    drafted: dict[str, list[dt.date]] = {}
    for day, t in made(run(w)):
        camp = b.campaign(t.campaign_id)
        if t.occasion.kind == "interval" and camp.business_days == "none":
            n = camp.trigger.days  # type: ignore[union-attr]
            c = b.contact(t.contact_id)
            prior = [d for d in drafted.get(t.contact_id, []) if d < day]
            prior += [i.date for i in c.interactions if i.date <= day]
            if c.last_contacted and c.last_contacted <= day:
                prior.append(c.last_contacted)
            if prior:
                assert (day - max(prior)).days >= n, (t, max(prior), day)
        drafted.setdefault(t.contact_id, []).append(day)


# --------------------------------------------------------------------------- liveness oracles


def in_year(month: int, day: int, year: int) -> dt.date:
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return dt.date(year, month, day)


NO_LIMITS = {"per_contact_per_day": 10, "cooldown_days": 0, "nightly_cap": 100000}


@QUICK
@given(st.data())
def test_every_birthday_is_greeted_once_on_the_first_night_in_its_window(data: Any) -> None:
    """Without limits, every birthday whose window (lead time up to the day) holds a night cron
    ran is greeted exactly once, on the first such night; year-less and 29 February birthdays
    included (28 February in common years), never in the year of birth, with the right age."""
    start = data.draw(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)), "start")
    days = 400
    births = data.draw(st.lists(partial_dates(min_year=1950, max_year=2029), min_size=1,
                                max_size=4), "birthdays")
    lead = data.draw(st.integers(0, 90), "lead")
    skip_n = data.draw(st.frozensets(st.integers(0, days), max_size=days // 2), "missed")
    skip = frozenset(start + dt.timedelta(days=n) for n in skip_n)
    people = [contact(f"c{i}", dates={"birthday": bd}) for i, bd in enumerate(births)]
    camp = campaign(trigger={"kind": "date", "field": "birthday", "days_before": lead})
    w = World(book(people, [camp], limits=NO_LIMITS), start, days, skip)
    got = {t.key: (day, t) for day, t in made(run(w))}

    end = start + dt.timedelta(days=days)
    runs = [start + dt.timedelta(days=n) for n in range(days + 1)]
    runs = [d for d in runs if d not in skip]
    expected: dict[str, tuple[dt.date, int | None]] = {}
    for i, bd in enumerate(births):
        born = None if bd.startswith("--") else int(bd[:4])
        month, dom = int(bd[-5:-3]), int(bd[-2:])
        for year in range(start.year, end.year + 2):
            if born is not None and year <= born:
                continue
            occ = in_year(month, dom, year)
            first = next((d for d in runs if occ - dt.timedelta(days=lead) <= d <= occ), None)
            if first is not None:
                expected[f"birthday/c{i}/{year}"] = (first, None if born is None else year - born)
    assert {k: (d, t.occasion.years) for k, (d, t) in got.items()} == expected


@QUICK
@given(st.data())
def test_keep_in_touch_comes_every_n_days_when_nothing_else_happens(data: Any) -> None:
    """Alone, without limits and with nightly runs, keep-in-touch is made N days after the last
    logged touch (or at once when overdue or when nothing is on record), then every N days."""
    start = data.draw(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)), "start")
    n = data.draw(st.integers(1, 60), "every")
    last = data.draw(st.none() | st.dates(start - dt.timedelta(days=150), start), "last")
    c = contact("bob", last_contacted=last) if last else contact("bob")
    camp = campaign("kit", trigger={"kind": "interval", "days": n})
    w = World(book([c], [camp], limits=NO_LIMITS), start, 200)
    got = [day for day, _ in made(run(w))]
    first = start if last is None else max(start, last + dt.timedelta(days=n))
    end = start + dt.timedelta(days=200)
    expected = []
    day = first
    while day <= end:
        expected.append(day)
        day += dt.timedelta(days=n)
    assert got == expected


@QUICK
@given(st.data())
def test_a_schedule_makes_one_touch_per_scheduled_day(data: Any) -> None:
    """Without limits and with nightly runs, a schedule makes exactly one touch per scheduled day
    (the day clamped to the month's end), on its due day, keyed by the scheduled day."""
    start = data.draw(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)), "start")
    months = sorted(data.draw(st.sets(st.integers(1, 12), min_size=1), "months"))
    dom = data.draw(st.integers(1, 31), "day")
    shift = data.draw(BUSINESS, "business_days")
    camp = campaign("s", trigger={"kind": "schedule", "months": months, "day": dom},
                    business_days=shift, catch_up_days=0)
    w = World(book([contact("bob", country="US")], [camp], limits=NO_LIMITS), start, 366)
    got = {t.occasion.date: day for day, t in made(run(w))}
    end = start + dt.timedelta(days=366)
    scheduled = [dt.date(y, m, min(dom, calendar.monthrange(y, m)[1]))
                 for y in range(start.year - 1, end.year + 2) for m in months]
    # each scheduled day whose due day falls inside the simulation is made on that due day
    for occ, day in got.items():
        assert occ in scheduled
        assert day == occasions.shift_business(occ, "US", shift)
    for occ in scheduled:
        due = occasions.shift_business(occ, "US", shift)
        if start <= due <= end:
            assert got.get(occ) == due, occ


@QUICK
@given(st.data())
def test_keep_in_touch_never_stalls(data: Any) -> None:
    """Whatever the business-day shift, keep-in-touch keeps coming: alone, without limits and
    with nightly runs, consecutive touches are at least a day and at most N days plus a
    weekend-and-holidays stretch apart, and keys never repeat."""
    start = data.draw(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)), "start")
    n = data.draw(st.integers(1, 21), "every")
    shift = data.draw(st.sampled_from(["previous", "next", "none"]), "business_days")
    country = data.draw(st.sampled_from(["US", "GB", "DE"]), "country")
    c = contact("bob", country=country, last_contacted=start - dt.timedelta(days=1))
    camp = campaign("kit", trigger={"kind": "interval", "days": n}, business_days=shift)
    days = 120
    w = World(book([c], [camp], limits=NO_LIMITS), start, days)
    got = [day for day, _ in made(run(w))]
    slack = 7  # the longest run of weekend and public holidays in these countries
    assert got, "no keep-in-touch at all"
    assert got[0] <= start + dt.timedelta(days=n + slack)
    assert got[-1] >= start + dt.timedelta(days=days - n - slack)
    for a, b in itertools.pairwise(got):
        assert 1 <= (b - a).days <= n + slack, (a, b)


@QUICK
@given(st.data())
def test_one_issue_of_a_schedule_at_a_time(data: Any) -> None:
    """On any day at most one occasion of a schedule is open for a contact: a catch-up window
    ends before the next occasion becomes due, whatever the shift and catch_up_days."""
    months = sorted(data.draw(st.sets(st.integers(1, 12), min_size=1), "months"))
    dom = data.draw(st.integers(1, 31), "day")
    shift = data.draw(st.sampled_from(["previous", "next", "none"]), "business_days")
    catch_up = data.draw(st.none() | st.sampled_from([0, 14, 31, 92, 365]) | st.integers(0, 365),
                         "catch_up_days")
    country = data.draw(st.sampled_from(["US", "GB", "DE"]), "country")
    fields: dict[str, Any] = {"business_days": shift}
    if catch_up is not None:
        fields["catch_up_days"] = catch_up
    camp = campaign("s", trigger={"kind": "schedule", "months": months, "day": dom}, **fields)
    c = contact("bob", country=country)
    b = book([c], [camp])
    first = data.draw(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)), "from")
    for k in range(120):
        today = first + dt.timedelta(days=k)
        open_now = [t for t in planner.occasions_for(b, c, camp, today, history())
                    if t.due <= today <= t.last_day]
        assert len(open_now) <= 1, [(t.key, t.due, t.last_day) for t in open_now]
