"""The planner and the outside sources: articles that are not published yet, and meetings that
keep counting after they leave the calendar feed's window.

Pure planner tests: in-memory books with articles and meetings, no files, no clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from factories import book, campaign, contact, history

from outreach import planner
from outreach.model import History, Interaction
from outreach.sources.articles import Article, article_id
from outreach.sources.meetings import Meeting, meeting_key

D = dt.date.fromisoformat
NO_LIMITS = {"per_contact_per_day": 10, "cooldown_days": 0, "nightly_cap": 1000}


def art(slug: str, date: str | None, tags: tuple[str, ...] = ("fleet",)) -> Article:
    url = f"https://news.example/{slug}"
    return Article(article_id(url), url, slug.replace("-", " ").title(), "", tags,
                   D(date) if date else None, "articles.yaml")


def share_book(*articles: Article, **trigger: Any) -> Any:
    b = book([contact("jane-doe", profile={"interests": ["fleet"]})],
             [campaign("share", {"kind": "content", "every_days": 30, "max_age_days": 400,
                                 **trigger})],
             limits=NO_LIMITS)
    return dataclasses.replace(b, articles=tuple(articles))


def shares(b: Any, day: str, hist: History | None = None) -> list[str]:
    return [t.key for t in planner.plan(b, hist or history(), today=D(day)).touches]


# --------------------------------------------------------------------------- articles


def test_an_article_dated_after_the_night_does_not_hide_the_older_ones() -> None:
    """With matching articles dated Jan 8 and Apr 25, the night of Jan 10 shares the Jan 8 one:
    the April article is not published yet, so it is not available that night."""
    b = share_book(art("winter-tyres", "2027-01-08"), art("spring-fleet", "2027-04-25"))
    assert shares(b, "2027-01-10") == [f"share/jane-doe/{article_id('https://news.example/winter-tyres')}"]


def test_an_article_becomes_available_on_its_date() -> None:
    """The only matching article, dated in the future, is shared on its own date, not before,
    and the night before says nothing matches (nothing is published yet)."""
    b = share_book(art("spring-fleet", "2027-04-25"))
    assert shares(b, "2027-04-24") == []
    skipped = planner.plan(b, history(), today=D("2027-04-24")).skipped
    assert [s.why for s in skipped] == ["no unshared article matches their interests"]
    assert shares(b, "2027-04-25") == [f"share/jane-doe/{article_id('https://news.example/spring-fleet')}"]


def test_an_article_can_be_shared_until_it_is_max_age_days_old() -> None:
    """The share of an article dated Jan 8, with max_age_days 400, may be made until Feb 12 of
    the next year (its last day); then it is no longer fresh."""
    b = share_book(art("winter-tyres", "2027-01-08"))
    (t,) = planner.plan(b, history(), today=D("2027-01-10")).touches
    assert (t.due, t.last_day) == (D("2027-01-10"), D("2028-02-12"))


def test_over_the_months_each_article_comes_once_the_freshest_available_first() -> None:
    """Every night from January to June: the January article in January, the April one once it is
    published and the cadence allows, each once."""
    b = share_book(art("winter-tyres", "2027-01-08"), art("spring-fleet", "2027-04-25"))
    h = history()
    made: dict[str, dt.date] = {}
    day = D("2027-01-01")
    while day <= D("2027-06-30"):
        p = planner.plan(b, h, today=day)
        for t in p.touches:
            assert t.key not in made
            made[t.key] = day
        h = planner.with_made(h, p.touches, day)
        day += dt.timedelta(days=1)
    assert sorted(made.values()) == [D("2027-01-08"), D("2027-04-25")]


# --------------------------------------------------------------------------- meetings


def met(day: str) -> Interaction:
    """A meeting the ledger remembers."""
    return Interaction(date=D(day), kind="meeting", summary="Fleet review")


def meeting(day: str, title: str, *attendees: str) -> Meeting:
    start = dt.datetime.fromisoformat(f"{day}T15:00:00+00:00")
    return Meeting(meeting_key(D(day), title, f"{title}@cal"), f"{title}@cal", False, start,
                   start + dt.timedelta(hours=1), D(day), title, "", "", tuple(attendees))


def test_a_meeting_the_ledger_remembers_counts_after_it_left_the_feed() -> None:
    """Met on Mar 10 (now out of the feed's window, but remembered by the ledger), last_contacted
    Feb 1, keep in touch every 60 days: the note is due on May 9, 60 days after the meeting, and
    not on Apr 2, 60 days after Feb 1."""
    jane = contact("jane-doe", last_contacted="2027-02-01")
    b = book([jane], [campaign("kit", {"kind": "interval", "days": 60})], limits=NO_LIMITS)
    remembered = dataclasses.replace(history(), seen={"jane-doe": (met("2027-03-10"),)})
    assert planner.last_touch(jane, remembered, D("2027-04-02"), b) == D("2027-03-10")
    assert shares(b, "2027-04-02", remembered) == []
    assert shares(b, "2027-05-09", remembered) == ["kit/jane-doe/2027-05-09"]
    assert shares(b, "2027-04-02") == ["kit/jane-doe/2027-04-02"]  # without it: too early


def test_a_remembered_meeting_after_the_night_does_not_count_yet() -> None:
    """A remembered interaction counts from its own day on, like every other touch."""
    jane = contact("jane-doe", last_contacted="2027-02-01")
    remembered = dataclasses.replace(history(), seen={"jane-doe": (met("2027-03-10"),)})
    assert planner.last_touch(jane, remembered, D("2027-03-09")) == D("2027-02-01")


def test_meetings_in_the_feed_and_in_the_ledger_both_count_the_latest_wins() -> None:
    """The feed's meeting (Mar 20) is newer than the remembered one (Mar 10): it is the last touch."""
    jane = contact("jane-doe", email={"work": "jane@acme.example"})
    b = dataclasses.replace(
        book([jane], [campaign("kit", {"kind": "interval", "days": 60})]),
        meetings=(meeting("2027-03-20", "Review", "jane@acme.example"),))
    remembered = dataclasses.replace(history(), seen={"jane-doe": (met("2027-03-10"),)})
    assert planner.last_touch(jane, remembered, D("2027-03-25"), b) == D("2027-03-20")
