"""The planner, as a specification: what is due on which day, for whom, and what waits.

Every test states one rule in its docstring. The planner is pure: ``plan(book, history,
today=...)`` is all there is, so these tests need no files, no clock and no mailbox.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from outreach import occasions, planner
from outreach.model import History, Touch
from tests.factories import book, campaign, contact, history

D = dt.date.fromisoformat
NO_LIMITS = {"per_contact_per_day": 10, "cooldown_days": 0, "nightly_cap": 1000}


def keys(p: planner.Plan) -> list[str]:
    return [t.key for t in p.touches]


def deferred_keys(p: planner.Plan) -> list[str]:
    return [d.touch.key for d in p.deferred]


def only(p: planner.Plan) -> Touch:
    assert len(p.touches) == 1, keys(p)
    return p.touches[0]


def plan_on(b: Any, day: str, hist: History | None = None) -> planner.Plan:
    return planner.plan(b, hist or history(), today=D(day))


def simulate(b: Any, first: str, last: str, *, skip: set[str] | frozenset[str] = frozenset(),
             hist: History | None = None) -> dict[str, dt.date]:
    """Run every night from ``first`` to ``last`` except the ``skip`` days (cron missed them),
    recording what each run made; returns key -> the day it was made."""
    h = hist or history()
    made: dict[str, dt.date] = {}
    day, end = D(first), D(last)
    skipped = {D(s) for s in skip}
    while day <= end:
        if day not in skipped:
            p = planner.plan(b, h, today=day)
            for t in p.touches:
                assert t.key not in made, f"{t.key} made twice"
                made[t.key] = day
            h = planner.with_made(h, p.touches, day)
        day += dt.timedelta(days=1)
    return made


def bday(birthday: str, id: str = "jane-doe", **fields: Any) -> Any:
    return contact(id, dates={"birthday": birthday}, **fields)


# =========================================================================== date triggers


def test_birthday_is_due_on_the_day() -> None:
    """A birthday campaign with no lead time makes one touch on the birthday itself, keyed
    campaign/contact/year, with the age the contact turns."""
    b = book([bday("1980-06-15")], [campaign()])
    t = only(plan_on(b, "2026-06-15"))
    assert t.key == "birthday/jane-doe/2026"
    assert t.contact_id == "jane-doe" and t.campaign_id == "birthday"
    assert t.due == t.last_day == t.occasion.date == D("2026-06-15")
    assert t.occasion.kind == "date" and t.occasion.label == "birthday"
    assert t.occasion.years == 46
    assert "turns 46" in t.reason


def test_birthday_is_not_due_the_day_before_nor_after() -> None:
    """Without a lead time nothing is made before the birthday, and nothing after it."""
    b = book([bday("1980-06-15")], [campaign()])
    assert keys(plan_on(b, "2026-06-14")) == []
    assert keys(plan_on(b, "2026-06-16")) == []


def test_lead_time_makes_the_touch_days_before() -> None:
    """'7 days before' is due 7 days before the birthday, not a day earlier."""
    b = book([bday("1980-06-15")], [campaign(trigger={"kind": "date", "field": "birthday",
                                                      "days_before": 7})])
    assert keys(plan_on(b, "2026-06-07")) == []
    t = only(plan_on(b, "2026-06-08"))
    assert t.due == D("2026-06-08")
    assert t.occasion.date == D("2026-06-15")
    assert t.last_day == D("2026-06-15")
    assert "7 days ahead" in t.reason


@pytest.mark.parametrize("day", ["2026-06-09", "2026-06-12", "2026-06-15"])
def test_lead_time_catches_up_missed_nights_until_the_day(day: str) -> None:
    """When cron missed nights, a touch with a lead time is still made on any day between its
    due day and the birthday, and it says how late it is."""
    b = book([bday("1980-06-15")], [campaign(trigger={"kind": "date", "field": "birthday",
                                                      "days_before": 7})])
    t = only(plan_on(b, day))
    assert t.key == "birthday/jane-doe/2026"
    assert t.late_days(D(day)) == (D(day) - D("2026-06-08")).days


def test_no_greeting_after_the_birthday() -> None:
    """A birthday greeting is never made after the birthday, however many nights were missed."""
    b = book([bday("1980-06-15")], [campaign(trigger={"kind": "date", "field": "birthday",
                                                      "days_before": 7})])
    for day in ("2026-06-16", "2026-06-20", "2026-07-15"):
        assert keys(plan_on(b, day)) == []


def test_catch_up_makes_the_touch_once_on_the_first_night_cron_runs() -> None:
    """Nights 8-11 June missed: the greeting is made on the 12th, and only then."""
    b = book([bday("1980-06-15")], [campaign(trigger={"kind": "date", "field": "birthday",
                                                      "days_before": 7})])
    made = simulate(b, "2026-06-01", "2026-06-30",
                    skip={"2026-06-08", "2026-06-09", "2026-06-10", "2026-06-11"})
    assert made == {"birthday/jane-doe/2026": D("2026-06-12")}


def test_catch_up_days_narrows_the_window_of_a_date_trigger() -> None:
    """A campaign's catch_up_days ends the window that many days after the due day (and never
    after the occasion)."""
    b = book([bday("1980-06-15")], [campaign(trigger={"kind": "date", "field": "birthday",
                                                      "days_before": 7}, catch_up_days=2)])
    assert only(plan_on(b, "2026-06-10")).last_day == D("2026-06-10")
    assert keys(plan_on(b, "2026-06-11")) == []


def test_year_less_birthday() -> None:
    """A birthday without a year (vCard '--04-12') recurs every year; the age is unknown and the
    reason does not guess one."""
    b = book([bday("--04-12")], [campaign()])
    t = only(plan_on(b, "2026-04-12"))
    assert t.key == "birthday/jane-doe/2026"
    assert t.occasion.years is None
    assert "turns" not in t.reason
    assert only(plan_on(b, "2031-04-12")).key == "birthday/jane-doe/2031"


def test_feb_29_birthday_falls_on_feb_28_in_common_years() -> None:
    """Someone born on 29 February is greeted on 28 February in a common year, with the right
    age, and not on 1 March."""
    b = book([bday("2000-02-29")], [campaign()])
    t = only(plan_on(b, "2026-02-28"))
    assert t.key == "birthday/jane-doe/2026"
    assert t.occasion.date == D("2026-02-28")
    assert t.occasion.years == 26
    assert keys(plan_on(b, "2026-03-01")) == []


def test_feb_29_birthday_falls_on_feb_29_in_leap_years() -> None:
    """In a leap year the greeting is on 29 February itself, not the 28th."""
    b = book([bday("2000-02-29")], [campaign()])
    assert keys(plan_on(b, "2028-02-28")) == []
    t = only(plan_on(b, "2028-02-29"))
    assert t.occasion.date == D("2028-02-29")
    assert t.occasion.years == 28


def test_year_less_feb_29_birthday() -> None:
    """'--02-29' works too: 28 February in common years, 29 February in leap years."""
    b = book([bday("--02-29")], [campaign()])
    assert only(plan_on(b, "2027-02-28")).occasion.date == D("2027-02-28")
    assert keys(plan_on(b, "2028-02-28")) == []
    assert only(plan_on(b, "2028-02-29")).occasion.date == D("2028-02-29")


def test_lead_time_across_new_year() -> None:
    """A 3 January birthday with 7 days' lead is due on 27 December; the key and the age are
    those of the birthday's year."""
    b = book([bday("1990-01-03")], [campaign(trigger={"kind": "date", "field": "birthday",
                                                      "days_before": 7})])
    t = only(plan_on(b, "2026-12-27"))
    assert t.key == "birthday/jane-doe/2027"
    assert t.occasion.date == D("2027-01-03")
    assert t.occasion.years == 37
    assert only(plan_on(b, "2027-01-01")).key == "birthday/jane-doe/2027"


def test_childrens_birthdays_one_touch_per_child() -> None:
    """A children.birthday campaign makes one touch per child, each keyed by the child's name,
    labelled with it and naming the child as the person."""
    c = contact(family={"children": [{"name": "Sam", "birthday": "2015-05-03"},
                                     {"name": "Lily Ann", "birthday": "--05-03"},
                                     {"name": "Max"}]})
    b = book([c], [campaign("kids", trigger={"kind": "date", "field": "children.birthday",
                                             "days_before": 7})], limits=NO_LIMITS)
    p = plan_on(b, "2026-04-26")
    assert sorted(keys(p)) == ["kids/jane-doe/lily-ann-2026", "kids/jane-doe/sam-2026"]
    by_person = {t.occasion.person: t for t in p.touches}
    assert by_person["Sam"].occasion.label == "Sam's birthday"
    assert by_person["Sam"].occasion.years == 11
    assert by_person["Lily Ann"].occasion.years is None
    assert "turns 11" in by_person["Sam"].reason


def test_childrens_birthdays_on_the_same_day_respect_the_daily_limit() -> None:
    """Twins' birthdays are two touches; with one touch per contact per day the second waits
    for the next day (still inside its lead time)."""
    c = contact(family={"children": [{"name": "Sam", "birthday": "2015-05-03"},
                                     {"name": "Zoe", "birthday": "2015-05-03"}]})
    b = book([c], [campaign("kids", trigger={"kind": "date", "field": "children.birthday",
                                             "days_before": 7})],
             limits={"per_contact_per_day": 1, "cooldown_days": 0})
    made = simulate(b, "2026-04-20", "2026-05-10")
    assert made == {"kids/jane-doe/sam-2026": D("2026-04-26"),
                    "kids/jane-doe/zoe-2026": D("2026-04-27")}


def test_children_whose_names_slug_alike_keep_their_keys_in_any_order() -> None:
    """"Jo Ann" and "Jo-Ann" both slug to jo-ann: each key also holds a few hex digits of the
    child's own name, so the two are kept apart, and reordering the list changes no key (a note
    already made for one is never taken for the other's)."""
    kids = [{"name": "Jo Ann", "birthday": "2015-05-03"}, {"name": "Jo-Ann", "birthday": "2017-05-20"}]
    camp = campaign("kids", trigger={"kind": "date", "field": "children.birthday", "days_before": 7})

    def made(children: list[dict[str, str]]) -> dict[str, dt.date]:
        return simulate(book([contact(family={"children": children})], [camp]), "2026-04-20", "2026-05-31")

    forwards, backwards = made(kids), made(kids[::-1])
    assert forwards == backwards
    assert len(forwards) == 2
    assert all(re.fullmatch(r"kids/jane-doe/jo-ann-[0-9a-f]{4}-2026", k) for k in forwards)
    corrected = [dict(kids[0], birthday="2015-05-04"), kids[1]]  # a birthday corrected: same key
    assert sorted(made(corrected)) == sorted(forwards)


def test_no_greeting_in_the_year_of_birth() -> None:
    """A child born this year has no birthday (anniversary of the birth) until next year."""
    c = contact(family={"children": [{"name": "Baby", "birthday": "2026-03-10"}]})
    b = book([c], [campaign("kids", trigger={"kind": "date", "field": "children.birthday"})])
    assert keys(plan_on(b, "2026-03-10")) == []
    t = only(plan_on(b, "2027-03-10"))
    assert t.key == "kids/jane-doe/baby-2027" and t.occasion.years == 1


def test_spouse_birthday() -> None:
    """A spouse.birthday campaign greets the spouse's birthday under a 'spouse-YEAR' key."""
    c = contact(family={"spouse": {"name": "Chris", "birthday": "1982-09-30"}})
    b = book([c], [campaign("spouse", trigger={"kind": "date", "field": "spouse.birthday",
                                               "days_before": 3})])
    t = only(plan_on(b, "2026-09-27"))
    assert t.key == "spouse/jane-doe/spouse-2026"
    assert t.occasion.person == "Chris"
    assert t.occasion.label == "Chris's birthday"
    assert t.occasion.years == 44


def test_no_spouse_or_no_spouse_birthday_plans_nothing() -> None:
    """A contact without a spouse, or whose spouse's birthday is unknown, gets nothing."""
    camp = campaign("spouse", trigger={"kind": "date", "field": "spouse.birthday"})
    b = book([contact("a-x"), contact("b-x", family={"spouse": {"name": "Chris"}})], [camp])
    assert simulate(b, "2026-01-01", "2026-12-31") == {}


def test_wedding_anniversary_counts_years() -> None:
    """A wedding anniversary is keyed by year and knows how many years married."""
    c = contact(dates={"wedding": "2010-08-21"})
    b = book([c], [campaign("wedding", trigger={"kind": "date", "field": "wedding"})])
    t = only(plan_on(b, "2026-08-21"))
    assert t.key == "wedding/jane-doe/2026"
    assert t.occasion.years == 16
    assert "(16 years)" in t.reason


def test_work_anniversary_from_start_date() -> None:
    """The work anniversary recurs on the start date's month-day, with the years at the company,
    and not in the start year itself."""
    c = contact(start_date="2020-03-02")
    b = book([c], [campaign("work", trigger={"kind": "date", "field": "work_anniversary"})])
    assert keys(plan_on(b, "2020-03-02")) == []
    t = only(plan_on(b, "2026-03-02"))
    assert t.key == "work/jane-doe/2026"
    assert t.occasion.years == 6
    assert t.occasion.label == "work anniversary"
    assert only(plan_on(b, "2021-03-02")).occasion.years == 1


def test_client_since_anniversary() -> None:
    """'client since' gives a yearly client anniversary with the years as a client."""
    c = contact(dates={"client_since": "2019-11-15"})
    b = book([c], [campaign("client", trigger={"kind": "date", "field": "client_since",
                                               "days_before": 5})])
    assert keys(plan_on(b, "2019-11-10")) == []
    t = only(plan_on(b, "2026-11-10"))
    assert t.key == "client/jane-doe/2026"
    assert t.occasion.years == 7
    assert t.occasion.label == "client anniversary"


def test_contact_without_the_date_gets_nothing() -> None:
    """A birthday campaign has nothing to say to a contact whose birthday is unknown."""
    b = book([contact()], [campaign()])
    assert simulate(b, "2026-01-01", "2026-12-31") == {}


def test_a_birthday_is_made_every_year_exactly_once() -> None:
    """Over three years of nightly runs, one greeting per year, each on the day."""
    b = book([bday("1975-10-09")], [campaign()])
    made = simulate(b, "2026-01-01", "2028-12-31")
    assert made == {f"birthday/jane-doe/{y}": D(f"{y}-10-09") for y in (2026, 2027, 2028)}


# =========================================================================== business days


def test_business_days_previous_moves_a_weekend_date_earlier() -> None:
    """A birthday on a Saturday with business_days 'previous' is due the Friday before; the
    window still ends on the birthday."""
    b = book([bday("1980-06-13")], [campaign(business_days="previous")])
    t = only(plan_on(b, "2026-06-12"))
    assert t.due == D("2026-06-12") and t.last_day == D("2026-06-13")
    assert t.occasion.date == D("2026-06-13")


def test_business_days_next_never_moves_a_date_past_the_occasion() -> None:
    """business_days 'next' cannot push a greeting after the day: it falls back to the business
    day before."""
    b = book([bday("1980-06-13")], [campaign(business_days="next")])
    t = only(plan_on(b, "2026-06-12"))
    assert t.due == D("2026-06-12")
    assert keys(plan_on(b, "2026-06-15")) == []


def test_business_days_next_within_the_lead_time() -> None:
    """With a lead time, 'next' may move the due day forward as long as it stays before the
    occasion: 7 days before Sun 5 Jul is Sun 28 Jun, moved to Mon 29 Jun."""
    b = book([bday("1980-07-05")], [campaign(trigger={"kind": "date", "field": "birthday",
                                                      "days_before": 7}, business_days="next")])
    assert keys(plan_on(b, "2026-06-28")) == []
    assert only(plan_on(b, "2026-06-29")).due == D("2026-06-29")


def test_public_holidays_of_the_contacts_country_are_not_business_days() -> None:
    """Sun 5 Jul 2026, business_days 'previous': for a US contact Fri 3 Jul is Independence Day
    (observed), so the touch is due Thu 2 Jul; for a GB contact Fri 3 Jul is a business day."""
    camp = campaign(business_days="previous")
    us = bday("1980-07-05", "us-one", country="US")
    gb = bday("1980-07-05", "gb-one", country="GB")
    b = book([us, gb], [camp])
    due = {t.contact_id: t.due for t in plan_on(b, "2026-07-05").touches}
    assert due == {"us-one": D("2026-07-02"), "gb-one": D("2026-07-03")}


def test_business_days_use_the_settings_country_when_the_contact_has_none() -> None:
    """A contact without a country is treated as living in the settings' country."""
    c = bday("1980-07-05", country=None)
    b = book([c], [campaign(business_days="previous")], country="GB")
    assert only(plan_on(b, "2026-07-05")).due == D("2026-07-03")


# =========================================================================== holidays


def thanksgiving(country: str | None = None, **fields: Any) -> Any:
    trigger = {"kind": "holiday", "name": "Thanksgiving", "days_before": 14}
    if country:
        trigger["country"] = country
    return campaign("thanksgiving", trigger=trigger, **fields)


def test_thanksgiving_from_the_holidays_package_with_lead_time() -> None:
    """US Thanksgiving 2026 is Thu 26 Nov; 14 days before makes the card due Thu 12 Nov."""
    b = book([contact()], [thanksgiving()])
    assert keys(plan_on(b, "2026-11-11")) == []
    t = only(plan_on(b, "2026-11-12"))
    assert t.key == "thanksgiving/jane-doe/2026-11-26"
    assert t.due == D("2026-11-12")
    assert t.occasion.date == D("2026-11-26") and t.occasion.kind == "holiday"
    assert t.last_day == D("2026-11-26")


def test_holiday_card_is_caught_up_but_never_after_the_holiday() -> None:
    """Missed nights: the card is still made up to the holiday, never after it."""
    b = book([contact()], [thanksgiving()])
    assert only(plan_on(b, "2026-11-26")).late_days(D("2026-11-26")) == 14
    assert keys(plan_on(b, "2026-11-27")) == []


def test_holiday_name_matches_with_or_without_day() -> None:
    """'Thanksgiving' and 'Thanksgiving Day' (the package's name) name the same holiday."""
    assert occasions.holiday_dates("Thanksgiving", "US", 2026) == [D("2026-11-26")]
    assert occasions.holiday_dates("thanksgiving day", "US", 2026) == [D("2026-11-26")]


def test_observed_day_is_not_the_holiday() -> None:
    """Independence Day 2026 is Sat 4 Jul; the observed Friday is not a second occasion."""
    b = book([contact()], [campaign("july4", trigger={"kind": "holiday",
                                                      "name": "Independence Day"})])
    assert simulate(b, "2026-06-01", "2026-07-31") == {"july4/jane-doe/2026-07-04":
                                                       D("2026-07-04")}


def test_holiday_follows_the_contacts_country() -> None:
    """A GB contact gets no US Thanksgiving card; setting trigger.country to US sends it to
    everyone in the audience."""
    gb = contact("gb-one", country="GB")
    assert simulate(book([gb], [thanksgiving()]), "2026-10-01", "2026-12-31") == {}
    made = simulate(book([gb], [thanksgiving(country="US")]), "2026-10-01", "2026-12-31")
    assert made == {"thanksgiving/gb-one/2026-11-26": D("2026-11-12")}


def test_holiday_uses_the_settings_country_when_the_contact_has_none() -> None:
    """A contact without a country celebrates the settings' country's holidays."""
    c = contact(country=None)
    assert keys(plan_on(book([c], [thanksgiving()], country="US"), "2026-11-12")) == [
        "thanksgiving/jane-doe/2026-11-26"]
    assert keys(plan_on(book([c], [thanksgiving()], country="GB"), "2026-11-12")) == []


def test_holiday_known_per_country() -> None:
    """Diwali comes from the package for an Indian contact (8 Nov 2026), not for a US one."""
    camp = campaign("diwali", trigger={"kind": "holiday", "name": "Diwali", "days_before": 3})
    b = book([contact("in-one", country="IN"), contact("us-one", country="US")], [camp])
    assert simulate(b, "2026-10-01", "2026-11-30") == {"diwali/in-one/2026-11-08":
                                                       D("2026-11-05")}


def test_holidays_are_searched_in_every_category_unless_the_trigger_names_some() -> None:
    """Canada's Thanksgiving is in the package's 'government' category, not 'public': found by
    default (every category is searched); a trigger that asks for 'public' holidays only does
    not find it, and one that names 'government' does."""
    ca = contact("ca-one", country="CA")

    def made(**trigger: Any) -> dict[str, dt.date]:
        camp = campaign("thanks", trigger={"kind": "holiday", "name": "Thanksgiving", **trigger})
        return simulate(book([ca], [camp]), "2026-10-01", "2026-10-31")

    assert made() == {"thanks/ca-one/2026-10-12": D("2026-10-12")}
    assert made(categories=["public"]) == {}
    assert made(categories=["government", "public"]) == {"thanks/ca-one/2026-10-12": D("2026-10-12")}
    assert occasions.holiday_known("Thanksgiving", "CA")
    assert not occasions.holiday_known("Thanksgiving", "CA", ("public",))


LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture
def fresh_holiday_cache() -> Any:
    occasions._holidays.cache_clear()
    yield
    occasions._holidays.cache_clear()


@pytest.mark.parametrize("locale", [None, "de_DE.UTF-8", "fr_FR.UTF-8", "C.UTF-8"])
def test_holiday_names_do_not_depend_on_the_locale(locale: str | None, fresh_holiday_cache: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The same book plans the same cards under cron's bare environment (no LANG) and in a
    German or French terminal: holiday names are matched in English and in the country's own
    language, never in whatever language the process locale picks."""
    for var in LOCALE_VARS:
        if locale is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, locale)
    camp = campaign("xmas", trigger={"kind": "holiday", "name": "Christmas", "days_before": 10})
    b = book([contact("de-one", country="DE"), contact("fr-one", country="FR"),
              contact("us-one", country="US")], [camp])
    assert sorted(keys(plan_on(b, "2026-12-15"))) == [
        "xmas/de-one/2026-12-25", "xmas/fr-one/2026-12-25", "xmas/us-one/2026-12-25"]
    assert occasions.holiday_dates("Erster Weihnachtstag", "DE", 2026) == [D("2026-12-25")]
    assert occasions.holiday_dates("Noël", "FR", 2026) == [D("2026-12-25")]
    assert occasions.holiday_known("Christmas", "DE")


def test_explicit_holiday_dates() -> None:
    """Dates listed under 'dates:' are occasions for every contact, whatever their country, each
    with its own key."""
    camp = campaign("diwali", trigger={"kind": "holiday", "name": "Diwali", "days_before": 3,
                                       "dates": ["2026-11-08", "2027-10-29"]})
    b = book([contact("us-one", country="US")], [camp])
    made = simulate(b, "2026-10-01", "2027-12-31")
    assert made == {"diwali/us-one/2026-11-08": D("2026-11-05"),
                    "diwali/us-one/2027-10-29": D("2027-10-26")}


def test_explicit_dates_and_package_dates_are_one_occasion() -> None:
    """A date both listed and known to the package is one touch, not two."""
    camp = campaign("diwali", trigger={"kind": "holiday", "name": "Diwali",
                                       "dates": ["2026-11-08"]})
    b = book([contact("in-one", country="IN")], [camp])
    assert keys(plan_on(b, "2026-11-08")) == ["diwali/in-one/2026-11-08"]


def test_christmas_card_with_lead_time_and_business_days() -> None:
    """Christmas, 10 days before with business_days 'previous': 15 Dec 2026 is a Tuesday, due
    then; the key names the holiday's date."""
    camp = campaign("xmas", trigger={"kind": "holiday", "name": "Christmas", "days_before": 10},
                    business_days="previous")
    t = only(plan_on(book([contact()], [camp]), "2026-12-15"))
    assert t.key == "xmas/jane-doe/2026-12-25"


def test_new_years_day_lead_time_reaches_into_the_previous_year() -> None:
    """New Year's Day 2027 with 14 days' lead is due 18 Dec 2026."""
    camp = campaign("ny", trigger={"kind": "holiday", "name": "New Year's Day",
                                   "days_before": 14})
    made = simulate(book([contact()], [camp]), "2026-12-01", "2027-01-05")
    assert made == {"ny/jane-doe/2027-01-01": D("2026-12-18")}


# =========================================================================== schedules


def quarterly(**fields: Any) -> Any:
    return campaign("quarterly", trigger={"kind": "schedule", "months": [1, 4, 7, 10], "day": 5},
                    **fields)


def test_quarterly_schedule_on_the_fifth() -> None:
    """A quarterly schedule on the 5th makes one touch in January, April, July and October."""
    made = simulate(book([contact()], [quarterly()]), "2026-01-01", "2026-12-31")
    assert made == {f"quarterly/jane-doe/2026-{m:02d}-05": D(f"2026-{m:02d}-05")
                    for m in (1, 4, 7, 10)}


def test_schedule_touch_knows_its_occasion() -> None:
    """A schedule touch's occasion is the scheduled day, labelled with the campaign's title."""
    t = only(plan_on(book([contact()], [quarterly(name="Quarterly rates")]), "2026-01-05"))
    assert t.occasion.kind == "schedule"
    assert t.occasion.date == D("2026-01-05")
    assert t.occasion.label == "Quarterly rates"


def test_business_days_next_moves_a_saturday_and_a_holiday() -> None:
    """Sat 5 Sep 2026 moves to the next business day: Mon 7 Sep is Labor Day, so Tue 8 Sep. The
    key keeps the scheduled day."""
    camp = campaign("monthly", trigger={"kind": "schedule", "months": [9], "day": 5},
                    business_days="next")
    b = book([contact()], [camp])
    for day in ("2026-09-05", "2026-09-06", "2026-09-07"):
        assert keys(plan_on(b, day)) == []
    t = only(plan_on(b, "2026-09-08"))
    assert t.key == "monthly/jane-doe/2026-09-05"
    assert t.due == D("2026-09-08")


def test_business_days_previous_for_a_schedule() -> None:
    """Sun 5 Apr 2026 with 'previous' is due Fri 3 Apr."""
    t = only(plan_on(book([contact()], [quarterly(business_days="previous")]), "2026-04-03"))
    assert t.key == "quarterly/jane-doe/2026-04-05"
    assert t.due == D("2026-04-03")


def test_day_31_clamps_to_the_end_of_the_month() -> None:
    """'day: 31' means the month's last day: 28 Feb, 30 Apr, 29 Feb in a leap year."""
    camp = campaign("eom", trigger={"kind": "schedule", "months": [2, 4, 12], "day": 31})
    made = simulate(book([contact()], [camp]), "2027-01-15", "2028-12-31")
    assert sorted(made.values()) == [D("2027-02-28"), D("2027-04-30"), D("2027-12-31"),
                                     D("2028-02-29"), D("2028-04-30"), D("2028-12-31")]
    assert occasions.clamp_day(2026, 6, 31) == D("2026-06-30")


def test_schedule_catch_up_within_catch_up_days() -> None:
    """A scheduled touch missed by cron is still made a few days late, up to catch_up_days after
    the due day, then dropped."""
    b = book([contact()], [quarterly(catch_up_days=3)])
    t = only(plan_on(b, "2026-01-08"))
    assert t.key == "quarterly/jane-doe/2026-01-05"
    assert t.late_days(D("2026-01-08")) == 3
    assert t.last_day == D("2026-01-08")
    assert keys(plan_on(b, "2026-01-09")) == []


def test_schedule_default_catch_up_is_two_weeks() -> None:
    """Without catch_up_days a schedule touch can be caught up for 14 days."""
    b = book([contact()], [quarterly()])
    assert keys(plan_on(b, "2026-01-19")) == ["quarterly/jane-doe/2026-01-05"]
    assert keys(plan_on(b, "2026-01-20")) == []


def test_schedule_catch_up_never_reaches_the_next_scheduled_day() -> None:
    """A monthly touch may be caught up until the day before the next scheduled day, whatever
    catch_up_days says: on that day the new one replaces it."""
    camp = campaign("monthly", trigger={"kind": "schedule", "day": 5}, catch_up_days=60)
    b = book([contact()], [camp])
    assert keys(plan_on(b, "2026-02-04")) == ["monthly/jane-doe/2026-01-05"]
    assert keys(plan_on(b, "2026-02-05")) == ["monthly/jane-doe/2026-02-05"]


def test_schedule_catch_up_after_a_long_outage() -> None:
    """After a month without runs, only the current month's touch is made, not a backlog."""
    camp = campaign("monthly", trigger={"kind": "schedule", "day": 5}, catch_up_days=60)
    made = simulate(book([contact()], [camp]), "2026-01-01", "2026-03-31",
                    skip={str(D("2026-01-01") + dt.timedelta(days=n)) for n in range(59)})
    assert made == {"monthly/jane-doe/2026-02-05": D("2026-03-01"),
                    "monthly/jane-doe/2026-03-05": D("2026-03-05")}


def test_schedule_catch_up_ends_before_the_next_one_is_due() -> None:
    """A touch moved to an earlier business day opens its window early; the previous one's
    catch-up ends the day before, so two issues of one schedule are never due together.
    Sun 1 Nov 2026 with 'previous' is due Fri 30 Oct: after an October outage only the
    November issue is made."""
    camp = campaign("m", trigger={"kind": "schedule", "day": 1}, catch_up_days=60,
                    business_days="previous")
    b = book([contact()], [camp], limits=NO_LIMITS)
    assert keys(plan_on(b, "2026-10-29")) == ["m/jane-doe/2026-10-01"]
    assert keys(plan_on(b, "2026-10-30")) == ["m/jane-doe/2026-11-01"]
    outage = {str(D("2026-10-01") + dt.timedelta(days=n)) for n in range(29)}
    made = simulate(b, "2026-09-01", "2026-12-05", skip=outage)
    assert made == {"m/jane-doe/2026-09-01": D("2026-09-01"),
                    "m/jane-doe/2026-11-01": D("2026-10-30"),
                    "m/jane-doe/2026-12-01": D("2026-12-01")}


def test_every_january_schedule() -> None:
    """'every January' (months [1]) is yearly."""
    camp = campaign("review", trigger={"kind": "schedule", "months": [1], "day": 15})
    made = simulate(book([contact()], [camp]), "2026-01-01", "2027-12-31")
    assert made == {"review/jane-doe/2026-01-15": D("2026-01-15"),
                    "review/jane-doe/2027-01-15": D("2027-01-15")}


def test_schedule_day_in_a_new_year_with_catch_up_across_years() -> None:
    """A touch scheduled on 31 Dec can be caught up into January."""
    camp = campaign("eoy", trigger={"kind": "schedule", "months": [12], "day": 31},
                    catch_up_days=5)
    assert keys(plan_on(book([contact()], [camp]), "2027-01-04")) == ["eoy/jane-doe/2026-12-31"]


# =========================================================================== interval


def keep(days: int = 45, **fields: Any) -> Any:
    return campaign("keep-in-touch", trigger={"kind": "interval", "days": days}, **fields)


def test_interval_with_no_touch_on_record_is_due_when_the_ledger_started() -> None:
    """Nobody touched yet: the touch is due on history.since (the first night the ledger saw),
    keyed by that day, so the key stays the same while it waits."""
    b = book([contact("bob")], [keep()])
    t = only(plan_on(b, "2026-03-10", history(since=D("2026-03-01"))))
    assert t.key == "keep-in-touch/bob/2026-03-01"
    assert t.due == D("2026-03-01")
    assert t.occasion.last_touch is None
    assert "no touch on record" in t.reason


def test_interval_with_no_touch_and_no_ledger_is_due_today() -> None:
    """Without a ledger history at all the first keep-in-touch is due today."""
    b = book([contact("bob")], [keep()])
    assert keys(plan_on(b, "2026-03-10")) == ["keep-in-touch/bob/2026-03-10"]


def test_interval_counts_from_last_contacted() -> None:
    """Every 45 days since last_contacted (1 Jan): due 15 Feb, not before, and late is fine."""
    b = book([contact("bob", last_contacted="2026-01-01")], [keep()])
    assert keys(plan_on(b, "2026-02-14")) == []
    t = only(plan_on(b, "2026-02-15"))
    assert t.key == "keep-in-touch/bob/2026-02-15"
    assert t.occasion.last_touch == D("2026-01-01")
    assert "last touch 2026-01-01" in t.reason
    assert keys(plan_on(b, "2026-06-01")) == ["keep-in-touch/bob/2026-02-15"]


def test_interval_is_reset_by_a_logged_interaction() -> None:
    """A meeting logged after last_contacted restarts the clock."""
    c = contact("bob", last_contacted="2026-01-01",
                interactions=[{"date": "2026-02-01", "kind": "call"}])
    b = book([c], [keep()])
    assert keys(plan_on(b, "2026-03-17")) == []
    assert keys(plan_on(b, "2026-03-18")) == ["keep-in-touch/bob/2026-03-18"]


def test_interval_is_reset_by_a_drafted_touch_of_any_campaign() -> None:
    """A draft made for the contact by any campaign (in history) restarts the clock."""
    c = contact("bob", last_contacted="2026-01-01")
    b = book([c], [keep()])
    h = history(touched={"bob": [D("2026-02-10")]})
    assert keys(plan_on(b, "2026-03-26", h)) == []
    assert keys(plan_on(b, "2026-03-27", h)) == ["keep-in-touch/bob/2026-03-27"]


def test_interval_ignores_future_interactions() -> None:
    """A meeting logged ahead of time (in the future) does not count as a touch yet."""
    c = contact("bob", last_contacted="2026-01-01",
                interactions=[{"date": "2026-04-01", "kind": "meeting"}])
    b = book([c], [keep()])
    assert keys(plan_on(b, "2026-02-15")) == ["keep-in-touch/bob/2026-02-15"]


def test_interval_counts_past_interactions_when_one_is_logged_ahead() -> None:
    """A meeting planned ahead does not hide the ones already held: a call on 1 Feb still
    resets the clock while a meeting on 1 Apr is in the future."""
    c = contact("bob", last_contacted="2026-01-01",
                interactions=[{"date": "2026-02-01", "kind": "call"},
                              {"date": "2026-04-01", "kind": "meeting"}])
    b = book([c], [keep()])
    assert keys(plan_on(b, "2026-02-15")) == []
    t = only(plan_on(b, "2026-03-18"))
    assert t.key == "keep-in-touch/bob/2026-03-18"
    assert t.occasion.last_touch == D("2026-02-01")
    assert planner.last_touch(c, history(), D("2026-03-18")) == D("2026-02-01")
    assert planner.last_touch(c, history(), D("2026-04-01")) == D("2026-04-01")


def test_interval_repeats_every_n_days_after_each_touch() -> None:
    """Nightly runs: the first touch when due, the next one N days after it."""
    b = book([contact("bob", last_contacted="2026-01-01")], [keep(30)])
    made = simulate(b, "2026-01-01", "2026-04-30")
    assert made == {"keep-in-touch/bob/2026-01-31": D("2026-01-31"),
                    "keep-in-touch/bob/2026-03-02": D("2026-03-02"),
                    "keep-in-touch/bob/2026-04-01": D("2026-04-01")}


def test_interval_is_pushed_back_by_a_birthday() -> None:
    """A birthday greeting is a touch too: the next keep-in-touch counts from it."""
    c = contact("bob", last_contacted="2026-01-01", dates={"birthday": "--01-20"})
    b = book([c], [keep(30), campaign()], limits=NO_LIMITS)
    made = simulate(b, "2026-01-01", "2026-02-28")
    assert made == {"birthday/bob/2026": D("2026-01-20"),
                    "keep-in-touch/bob/2026-02-19": D("2026-02-19")}


def test_interval_with_business_days() -> None:
    """An interval due on a Saturday with business_days 'next' is due the Monday."""
    b = book([contact("bob", last_contacted="2026-05-14")], [keep(30, business_days="next")])
    assert keys(plan_on(b, "2026-06-13")) == []
    assert keys(plan_on(b, "2026-06-15")) == ["keep-in-touch/bob/2026-06-15"]


def test_interval_with_business_days_previous_never_stalls() -> None:
    """'previous' may bring a keep-in-touch forward, but never to or before the last touch: a
    daily keep-in-touch made on Friday is next due Monday (not again on Friday, a key already
    done, which would stall it for good), and Juneteenth (Fri 19 Jun) is skipped too."""
    b = book([contact("bob", last_contacted="2026-06-10")],
             [keep(1, business_days="previous")], limits=NO_LIMITS)
    made = simulate(b, "2026-06-11", "2026-06-30")
    days = [D("2026-06-11") + dt.timedelta(days=n) for n in range(20)]
    expected = [d for d in days if d.weekday() < 5 and d != D("2026-06-19")]
    assert sorted(made.values()) == expected
    assert all(k == f"keep-in-touch/bob/{d}" for k, d in made.items())


# =========================================================================== audience


AUDIENCE_PEOPLE = [
    contact("ann", tags=["golf", "vip"], tier="a", stage="customer"),
    contact("ben", tags=["golf"], tier="b", stage="prospect"),
    contact("cat", tags=["tennis"], tier="a", stage="former"),
    contact("dan", tier="c", stage="customer"),
    contact("eve", tags=["golf", "competitor"], tier="a", stage="customer"),
]


@pytest.mark.parametrize(("audience", "expected"), [
    ({}, {"ann", "ben", "cat", "dan", "eve"}),
    ({"tags": ["golf", "tennis"]}, {"ann", "ben", "cat", "eve"}),
    ({"tags": ["vip"]}, {"ann"}),
    ({"tiers": ["a"]}, {"ann", "cat", "eve"}),
    ({"stages": ["customer", "prospect"]}, {"ann", "ben", "dan", "eve"}),
    ({"exclude_tags": ["competitor"]}, {"ann", "ben", "cat", "dan"}),
    ({"exclude": ["ben", "dan"]}, {"ann", "cat", "eve"}),
    ({"tags": ["golf"], "tiers": ["a"], "exclude_tags": ["competitor"]}, {"ann"}),
])
def test_audience_filters(audience: dict[str, Any], expected: set[str]) -> None:
    """Audience: any of the tags, one of the tiers, one of the stages, none of the excluded tags,
    not an excluded id; all filters must hold."""
    camp = campaign("kit", trigger={"kind": "schedule", "months": [3], "day": 2},
                    audience=audience)
    b = book(AUDIENCE_PEOPLE, [camp])
    assert {t.contact_id for t in plan_on(b, "2026-03-02").touches} == expected
    assert {c.id for c in AUDIENCE_PEOPLE if planner.in_audience(c, camp)} == expected


def test_audience_can_select_people_who_prefer_handwritten_notes() -> None:
    """`handwritten: true` selects the people whose preferences say handwritten (the card
    campaigns), `false` the others, and leaving it out selects both."""
    writer = contact("ann", preferences={"handwritten": True})
    typist = contact("ben")
    for wanted, expected in ((True, {"ann"}), (False, {"ben"}), (None, {"ann", "ben"})):
        camp = campaign(audience={} if wanted is None else {"handwritten": wanted})
        assert {c.id for c in (writer, typist) if planner.in_audience(c, camp)} == expected


def test_audience_can_select_countries_a_contact_without_one_has_the_settings_country() -> None:
    """`countries: [CA]` selects Canadians; a contact without a country is in the settings'
    country: one Thanksgiving campaign per country, nobody greeted twice."""
    people = [contact("ann", country="CA"), contact("ben", country="US"), contact("cat", country=None)]
    us = campaign("us", trigger={"kind": "holiday", "name": "Thanksgiving"}, audience={"countries": ["US"]})
    ca = campaign("ca", trigger={"kind": "holiday", "name": "Thanksgiving"}, audience={"countries": ["ca"]})
    made = simulate(book(people, [us, ca], country="US"), "2026-10-01", "2026-11-30")
    assert made == {"ca/ann/2026-10-12": D("2026-10-12"), "us/ben/2026-11-26": D("2026-11-26"),
                    "us/cat/2026-11-26": D("2026-11-26")}


def test_one_address_gets_one_note_per_occasion() -> None:
    """The same person under two ids (or a couple sharing a mailbox) gets one Thanksgiving card,
    for the contact listed first, also on later nights; their own birthdays are different
    occasions and each gets its note; `plan` says why the second id gets no card."""
    one = contact("ann-one", email={"work": "ann@acme.example"}, dates={"birthday": "--05-01"})
    two = contact("ann-two", email={"personal": "ANN@acme.example"}, dates={"birthday": "--06-01"})
    b = book([one, two], [thanksgiving(), campaign()], limits=NO_LIMITS)
    made = simulate(b, "2026-04-01", "2026-12-31")
    assert sorted(made) == ["birthday/ann-one/2026", "birthday/ann-two/2026",
                            "thanksgiving/ann-one/2026-11-26"]
    skipped = plan_on(b, "2026-11-12").skipped
    assert [(s.contact_id, s.why) for s in skipped] == [
        ("ann-two", "ann-one gets this note at ANN@acme.example")]
    h = planner.with_made(history(), [only(plan_on(book([one], [thanksgiving()]), "2026-11-12"))],
                          D("2026-11-12"))
    assert keys(planner.plan(b, h, today=D("2026-11-13"))) == []


def test_contact_without_tier_or_stage_is_outside_a_tier_or_stage_filter() -> None:
    """An unknown tier or stage does not match a filter on tiers or stages."""
    c = contact("x", stage=None)
    assert not planner.in_audience(c, campaign(audience={"stages": ["customer"]}))
    assert not planner.in_audience(c, campaign(audience={"tiers": ["a"]}))
    assert planner.in_audience(c, campaign())


# =========================================================================== preferences


def test_do_not_contact_is_absolute_and_reported() -> None:
    """A do-not-contact contact gets no touch from any campaign, not even a deferred one; the
    plan lists them as skipped with the reason."""
    c = bday("1980-06-15", preferences={"do_not_contact": True})
    b = book([c], [campaign(priority=1000), keep(1)])
    p = plan_on(b, "2026-06-15")
    assert p.touches == () and p.deferred == ()
    assert {(s.contact_id, s.campaign_id, s.why) for s in p.skipped} == {
        ("jane-doe", "birthday", "marked do-not-contact"),
        ("jane-doe", "keep-in-touch", "marked do-not-contact"),
    }
    assert simulate(b, "2026-01-01", "2026-12-31") == {}


def test_do_not_contact_wins_over_everything_else() -> None:
    """Do-not-contact is the reason given even when email is also refused."""
    c = bday("1980-06-15", preferences={"do_not_contact": True, "email_ok": False})
    p = plan_on(book([c], [campaign()]), "2026-06-15")
    assert [s.why for s in p.skipped] == ["marked do-not-contact"]


def test_email_not_ok_is_skipped() -> None:
    """email_ok: false means no draft; the plan says why."""
    c = bday("1980-06-15", preferences={"email_ok": False})
    p = plan_on(book([c], [campaign()]), "2026-06-15")
    assert p.touches == ()
    assert [s.why for s in p.skipped] == ["prefers no email (preferences.email_ok: false)"]


def test_no_address_is_skipped() -> None:
    """A contact without any email address gets no draft; the plan says why."""
    c = bday("1980-06-15", email={})
    p = plan_on(book([c], [campaign()]), "2026-06-15")
    assert p.touches == ()
    assert [(s.contact_id, s.why) for s in p.skipped] == [("jane-doe", "has no email address")]


def test_personal_address_campaign_falls_back_to_work() -> None:
    """A campaign asking for the personal address still reaches a contact with only a work one."""
    c = bday("1980-06-15")
    assert keys(plan_on(book([c], [campaign(to="personal")]), "2026-06-15")) == [
        "birthday/jane-doe/2026"]


def test_skipped_only_when_something_was_due() -> None:
    """Skips are reported only on days something would have been made."""
    c = bday("1980-06-15", preferences={"do_not_contact": True})
    assert plan_on(book([c], [campaign()]), "2026-06-14").skipped == ()


# =========================================================================== limits


def test_one_touch_per_contact_per_day_priority_decides() -> None:
    """Two touches due the same day for one contact: the higher priority is made, the other is
    deferred with the reason."""
    c = bday("1980-06-15")
    b = book([c], [campaign(priority=80),
                   campaign("news", trigger={"kind": "schedule", "months": [6], "day": 15},
                            priority=20)])
    p = plan_on(b, "2026-06-15")
    assert keys(p) == ["birthday/jane-doe/2026"]
    assert [(d.touch.key, d.why) for d in p.deferred] == [
        ("news/jane-doe/2026-06-15", "another touch for this contact today")]


def test_deferred_touch_is_made_the_next_day_while_in_its_window() -> None:
    """What waited for the daily limit is made the next night if still relevant (no cool-down)."""
    c = bday("1980-06-15")
    b = book([c], [campaign(priority=80),
                   campaign("news", trigger={"kind": "schedule", "months": [6], "day": 15},
                            priority=20)],
             limits={"per_contact_per_day": 1, "cooldown_days": 0})
    made = simulate(b, "2026-06-15", "2026-06-30")
    assert made == {"birthday/jane-doe/2026": D("2026-06-15"),
                    "news/jane-doe/2026-06-15": D("2026-06-16")}


def test_birthday_today_beats_an_equal_priority_card_that_can_wait() -> None:
    """Same priority: the touch whose window closes sooner goes first, so the birthday on its day
    wins over a Thanksgiving card due days before the holiday; the card follows the next day."""
    c = bday("1980-11-12")
    b = book([c], [thanksgiving(), campaign()],
             limits={"per_contact_per_day": 1, "cooldown_days": 0})
    p = plan_on(b, "2026-11-12")
    assert keys(p) == ["birthday/jane-doe/2026"]
    assert deferred_keys(p) == ["thanksgiving/jane-doe/2026-11-26"]
    made = simulate(b, "2026-11-12", "2026-11-30")
    assert made["thanksgiving/jane-doe/2026-11-26"] == D("2026-11-13")


def test_a_closing_window_goes_before_a_higher_priority_that_can_wait() -> None:
    """Of one person's touches on a night, the one whose last day it is goes first whatever the
    priorities, and the one that can wait is made the next night: nothing is lost."""
    c = bday("1980-11-12")
    b = book([c], [thanksgiving(priority=90), campaign(priority=10)],
             limits={"per_contact_per_day": 1, "cooldown_days": 0})
    made = simulate(b, "2026-11-01", "2026-11-30")
    assert made == {
        "birthday/jane-doe/2026": D("2026-11-12"),
        "thanksgiving/jane-doe/2026-11-26": D("2026-11-13"),
    }
    p = plan_on(b, "2026-11-12")
    assert [(d.touch.key, d.why) for d in p.deferred] == [
        ("thanksgiving/jane-doe/2026-11-26", "birthday/jane-doe/2026 has its last day today")
    ]


def test_with_two_a_night_the_touch_that_can_wait_gives_way() -> None:
    """per_contact_per_day 2 and three touches for one person: the two on their last day are
    made (whatever the priorities), the keep-in-touch waits for the next night."""
    c = bday("1980-11-26")
    on_the_day = {"kind": "holiday", "name": "Thanksgiving"}
    b = book([c], [campaign(priority=99), campaign("kit", trigger={"kind": "interval", "days": 30},
                                                   priority=50),
                   campaign("thanksgiving", trigger=on_the_day, priority=10)],
             limits={"per_contact_per_day": 2, "cooldown_days": 0})
    p = plan_on(b, "2026-11-26")
    assert sorted(keys(p)) == ["birthday/jane-doe/2026", "thanksgiving/jane-doe/2026-11-26"]
    assert deferred_keys(p) == ["kit/jane-doe/2026-11-26"]


def test_priority_decides_between_two_closing_windows() -> None:
    """Two touches on their last day for one person: the higher priority is made, the other is
    lost, and plan says so."""
    c = bday("1980-11-26")
    on_the_day = {"kind": "holiday", "name": "Thanksgiving"}
    b = book([c], [campaign("thanksgiving", trigger=on_the_day, priority=90),
                   campaign(priority=10)],
             limits={"per_contact_per_day": 1, "cooldown_days": 0})
    p = plan_on(b, "2026-11-26")
    assert keys(p) == ["thanksgiving/jane-doe/2026-11-26"]
    assert [(d.touch.key, d.why) for d in p.deferred] == [
        ("birthday/jane-doe/2026",
         "another touch for this contact today; today is its last day, so it will be missed")
    ]


def test_per_contact_per_day_can_be_raised() -> None:
    """With per_contact_per_day 2, both touches are made the same day."""
    c = bday("1980-06-15")
    b = book([c], [campaign(), campaign("news", trigger={"kind": "schedule", "months": [6],
                                                         "day": 15})],
             limits={"per_contact_per_day": 2})
    assert sorted(keys(plan_on(b, "2026-06-15"))) == ["birthday/jane-doe/2026",
                                                      "news/jane-doe/2026-06-15"]


def test_touches_already_made_today_count_against_the_daily_limit() -> None:
    """A second run on the same day (e.g. after new data) respects what the first one made."""
    c = bday("1980-06-15")
    b = book([c], [campaign()])
    h = history(touched={"jane-doe": [D("2026-06-15")]})
    p = plan_on(b, "2026-06-15", h)
    assert keys(p) == []
    assert deferred_keys(p) == ["birthday/jane-doe/2026"]


def test_the_daily_limit_is_per_contact() -> None:
    """One contact's touch does not hold back another contact's."""
    b = book([bday("1980-06-15", "ann-x"), bday("1980-06-15", "bob-x")], [campaign()])
    assert sorted(keys(plan_on(b, "2026-06-15"))) == ["birthday/ann-x/2026",
                                                      "birthday/bob-x/2026"]


EARLY = {"kind": "date", "field": "birthday", "days_before": 7}


def test_cool_down_from_settings() -> None:
    """With limits.cooldown_days 3, a touch 2 days after the contact's last draft waits (and
    says until when) while it can still be made later; 3 days after, it is made."""
    b = book([bday("1980-06-15")], [campaign(trigger=EARLY)], limits={"cooldown_days": 3})
    p = plan_on(b, "2026-06-10", history(touched={"jane-doe": [D("2026-06-08")]}))
    assert keys(p) == []
    assert [d.why for d in p.deferred] == [
        "cool-down: last touch 2026-06-08, waits until 2026-06-11"]
    p = plan_on(b, "2026-06-10", history(touched={"jane-doe": [D("2026-06-07")]}))
    assert keys(p) == ["birthday/jane-doe/2026"]


def test_cool_down_never_makes_a_dated_touch_miss_its_day() -> None:
    """A birthday greeting on the day is made even two days after a routine note: the cool-down
    only holds back touches that could still be made once it has passed."""
    b = book([bday("1980-06-15")], [campaign()], limits={"cooldown_days": 3})
    p = plan_on(b, "2026-06-15", history(touched={"jane-doe": [D("2026-06-13")]}))
    assert keys(p) == ["birthday/jane-doe/2026"]
    # With a lead time, it waits out the cool-down and is made before the day.
    early = book([bday("1980-06-15")], [campaign(trigger=EARLY)], limits={"cooldown_days": 3})
    made = simulate(early, "2026-06-08", "2026-06-15",
                    hist=history(touched={"jane-doe": [D("2026-06-07")]}))
    assert made == {"birthday/jane-doe/2026": D("2026-06-10")}


def test_deferred_on_its_last_day_says_it_will_be_missed() -> None:
    """A touch that loses its last day to a higher priority on its last day too is reported as
    about to be missed."""
    b = book([bday("1980-06-15")], [campaign(), campaign("vip", priority=99)])
    p = plan_on(b, "2026-06-15")
    assert keys(p) == ["vip/jane-doe/2026"]
    assert [d.why for d in p.deferred] == [
        "another touch for this contact today; today is its last day, so it will be missed"]


def test_campaign_cool_down_overrides_settings() -> None:
    """A campaign's cooldown_days replaces the settings' default, longer or shorter."""
    h = history(touched={"jane-doe": [D("2026-06-01")]})
    longer = book([bday("1980-06-15")], [campaign(trigger=EARLY, cooldown_days=14)],
                  limits={"cooldown_days": 3})
    assert keys(plan_on(longer, "2026-06-08", h)) == []
    shorter = book([bday("1980-06-15")], [campaign(trigger=EARLY, cooldown_days=1)],
                   limits={"cooldown_days": 30})
    assert keys(plan_on(shorter, "2026-06-08", h)) == ["birthday/jane-doe/2026"]


def test_cool_down_zero_disables_it() -> None:
    """cooldown_days 0 (campaign or settings) means no cool-down at all."""
    h = history(touched={"jane-doe": [D("2026-06-14")]})
    h = history(touched={"jane-doe": [D("2026-06-07")]})
    per_campaign = book([bday("1980-06-15")], [campaign(trigger=EARLY, cooldown_days=0)],
                        limits={"cooldown_days": 30})
    assert keys(plan_on(per_campaign, "2026-06-08", h)) == ["birthday/jane-doe/2026"]
    in_settings = book([bday("1980-06-15")], [campaign(trigger=EARLY)], limits={"cooldown_days": 0})
    assert keys(plan_on(in_settings, "2026-06-08", h)) == ["birthday/jane-doe/2026"]


def test_cool_down_counts_drafted_touches_not_logged_interactions() -> None:
    """The cool-down is between our drafts: a meeting logged yesterday does not hold back a
    draft (a thank-you after a meeting must not wait)."""
    c = bday("1980-06-15", interactions=[{"date": "2026-06-14"}])
    b = book([c], [campaign()], limits={"cooldown_days": 3})
    assert keys(plan_on(b, "2026-06-15")) == ["birthday/jane-doe/2026"]


def test_deferred_by_cool_down_is_made_when_it_ends_if_still_relevant() -> None:
    """A card held back by the cool-down is made on the first day the cool-down allows."""
    b = book([contact()], [thanksgiving(cooldown_days=5)])
    made = simulate(b, "2026-11-01", "2026-11-30",
                    hist=history(touched={"jane-doe": [D("2026-11-10")]}))
    assert made == {"thanksgiving/jane-doe/2026-11-26": D("2026-11-15")}


def test_nightly_cap_keeps_the_highest_priorities() -> None:
    """With a nightly cap of 2 and three touches due, the two highest priorities are made and
    the third is deferred with the cap as reason."""
    people = [bday("1980-06-15", f"p{n}", tags=[f"t{n}"]) for n in range(3)]
    camps = [campaign(f"c{n}", audience={"tags": [f"t{n}"]}, priority=pr)
             for n, pr in enumerate((10, 90, 70))]
    b = book(people, camps, limits={"nightly_cap": 2})
    p = plan_on(b, "2026-06-15")
    assert sorted(keys(p)) == ["c1/p1/2026", "c2/p2/2026"]
    assert [(d.touch.key, d.why) for d in p.deferred] == [
        ("c0/p0/2026", "nightly cap of 2 reached; today is its last day, so it will be missed")]


def test_nightly_cap_counts_what_was_made_earlier_today() -> None:
    """A second run on the same night only fills what is left of the cap."""
    people = [bday("1980-06-15", f"p{n}") for n in range(3)]
    b = book(people, [campaign()], limits={"nightly_cap": 2})
    h = history(touched={"other": [D("2026-06-15")]})
    p = plan_on(b, "2026-06-15", h)
    assert len(p.touches) == 1 and len(p.deferred) == 2


def test_nightly_cap_leftovers_are_made_the_next_nights() -> None:
    """Deferred by the cap, keep-in-touch touches (which never expire) are made on later nights,
    at most cap per night."""
    people = [contact(f"p{n}") for n in range(5)]
    b = book(people, [keep(365)], limits={"nightly_cap": 2})
    made = simulate(b, "2026-01-01", "2026-01-10", hist=history(since=D("2026-01-01")))
    per_day: dict[dt.date, int] = {}
    for day in made.values():
        per_day[day] = per_day.get(day, 0) + 1
    assert per_day == {D("2026-01-01"): 2, D("2026-01-02"): 2, D("2026-01-03"): 1}


# =========================================================================== keys and history


def test_keys_are_deterministic() -> None:
    """Planning twice gives equal plans, and the keys follow campaign/contact/occasion-ident."""
    c = contact(dates={"birthday": "1980-11-20"},
                family={"children": [{"name": "Sam", "birthday": "--11-20"}]})
    b = book([c], [campaign(), thanksgiving(),
                   campaign("kids", trigger={"kind": "date", "field": "children.birthday"}),
                   campaign("q", trigger={"kind": "schedule", "months": [11], "day": 20})],
             limits=NO_LIMITS)
    p1 = plan_on(b, "2026-11-20")
    p2 = plan_on(b, "2026-11-20")
    assert p1 == p2
    assert sorted(keys(p1)) == ["birthday/jane-doe/2026", "kids/jane-doe/sam-2026",
                                "q/jane-doe/2026-11-20", "thanksgiving/jane-doe/2026-11-26"]


def test_a_done_key_is_never_planned_again() -> None:
    """A key in history.done (drafted, or deleted by the user) is not planned, nor deferred."""
    b = book([bday("1980-06-15")], [campaign(trigger={"kind": "date", "field": "birthday",
                                                      "days_before": 7})])
    h = history(done={"birthday/jane-doe/2026"})
    for day in ("2026-06-08", "2026-06-12", "2026-06-15"):
        p = plan_on(b, day, h)
        assert p.touches == () and p.deferred == () and p.skipped == ()
    assert keys(plan_on(b, "2027-06-08", h)) == ["birthday/jane-doe/2027"]


def test_disabled_campaign_plans_nothing() -> None:
    """enabled: false turns a campaign off entirely: no touch, no deferral, no skip."""
    c = bday("1980-06-15")
    dnc = bday("1980-06-15", "dnc-x", preferences={"do_not_contact": True})
    b = book([c, dnc], [campaign(enabled=False)])
    p = plan_on(b, "2026-06-15")
    assert p.touches == () and p.deferred == () and p.skipped == ()


def test_rerun_after_recording_makes_nothing_new() -> None:
    """Idempotence: once a night's touches are recorded, planning the same night again yields
    nothing."""
    b = book([bday("1980-06-15"), contact("bob")], [campaign(), keep(30), quarterly()])
    h = history(since=D("2026-06-01"))
    first = planner.plan(b, h, today=D("2026-06-15"))
    assert first.touches
    again = planner.plan(b, planner.with_made(h, first.touches, D("2026-06-15")),
                         today=D("2026-06-15"))
    assert again.touches == ()


def test_with_made_records_keys_days_and_since() -> None:
    """with_made adds the keys to done, the day to each contact's touch days, and sets since
    on the first night."""
    b = book([bday("1980-06-15")], [campaign()])
    p = plan_on(b, "2026-06-15")
    h = planner.with_made(history(), p.touches, D("2026-06-15"))
    assert h.done == {"birthday/jane-doe/2026"}
    assert h.touch_days("jane-doe") == (D("2026-06-15"),)
    assert h.since == D("2026-06-15")
    assert planner.with_made(h, (), D("2026-06-20")).since == D("2026-06-15")


def test_plan_days_simulates_each_night() -> None:
    """plan_days gives today's plan and one per following day, as if each night's run made its
    touches (so nothing repeats)."""
    b = book([bday("1980-06-15")], [campaign(trigger={"kind": "date", "field": "birthday",
                                                      "days_before": 2})])
    plans = planner.plan_days(b, history(), today=D("2026-06-12"), days=5)
    assert [p.today for p in plans] == [D(f"2026-06-{d}") for d in range(12, 18)]
    assert [keys(p) for p in plans] == [[], ["birthday/jane-doe/2026"], [], [], [], []]


def test_touches_are_ordered_by_due_day_then_priority() -> None:
    """The plan lists touches oldest due first, then by priority, then key."""
    people = [bday("1980-06-15", "ann-x", tags=["a"]), bday("1980-06-20", "bob-x", tags=["b"]),
              contact("cat-x", tags=["c"])]
    b = book(people, [
        campaign("early", trigger={"kind": "date", "field": "birthday", "days_before": 10},
                 audience={"tags": ["b"]}),
        campaign("low", audience={"tags": ["a"]}, priority=10),
        campaign("high", trigger={"kind": "schedule", "months": [6], "day": 15},
                 audience={"tags": ["c"]}, priority=90),
    ])
    assert keys(plan_on(b, "2026-06-15")) == ["early/bob-x/2026", "high/cat-x/2026-06-15",
                                              "low/ann-x/2026"]


# =========================================================================== sequences


def test_a_sequence_step_is_due_after_days_and_follows_the_campaigns_business_days() -> None:
    """Note 2 is due `after` days after note 1 was made; a campaign with business_days: next
    moves it off the weekend, and its reason says so. Its key ends in /step-2."""
    key = "news/jane-doe/2027-03-01/step-2"

    def step_two(business_days: str) -> tuple[dt.date, str]:
        camp = campaign("news", trigger={"kind": "schedule", "months": [3], "day": 1},
                        steps=[{"template": "note.md", "after": 5}], business_days=business_days)
        b = book([contact()], [camp], limits=NO_LIMITS)
        made = simulate(b, "2027-02-25", "2027-03-20")
        assert made["news/jane-doe/2027-03-01"] == D("2027-03-01")
        h = planner.with_made(history(), plan_on(b, "2027-03-01").touches, D("2027-03-01"))
        return made[key], only(planner.plan(b, h, today=made[key])).reason

    assert step_two("none") == (D("2027-03-06"), "note 2 of 2, 5 days after note 1 (2027-03-01)")
    assert step_two("next") == (D("2027-03-08"), "note 2 of 2, 5 days after note 1 (2027-03-01), "
                                "moved to Mon 8 Mar, a business day")
