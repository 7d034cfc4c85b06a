"""Touch keys across releases, and the follow-ups' one query per trigger.

Keys hold slugs (a child's name, a meeting's title, an article's URL). Where the slug of a name
changed (``Søren``: ``sren`` then, ``soren`` now) the touch carries the key an earlier release
made, and a touch recorded under either is made: it is never planned again. Names whose slug did
not change (ASCII, accents) keep byte-identical keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
from typing import Any

import pytest

from outreach import planner
from outreach.followups import _occasions_around
from outreach.idents import article_aliases, meeting_aliases, normalize_url
from outreach.model import History
from outreach.sources.articles import Article, article_id
from outreach.sources.meetings import Meeting, meeting_key
from outreach.touch import Touch
from outreach.triggers import occasions_between, occasions_for
from tests.factories import book, campaign, contact, history

D = dt.date.fromisoformat
NO_LIMITS = {"per_contact_per_day": 10, "cooldown_days": 0, "nightly_cap": 1000}
KIDS = {"kind": "date", "field": "children.birthday", "days_before": 7}


def made_history(*keys: str, day: str = "2026-01-10") -> History:
    return dataclasses.replace(
        history(done=set(keys)), made_on={k: D(day) for k in keys}, since=D("2025-12-01")
    )


def keys_on(b: Any, day: str, hist: History | None = None) -> list[str]:
    return [t.key for t in planner.plan(b, hist or history(), today=D(day)).touches]


def kids_book(*names: str, **fields: Any) -> Any:
    children = [{"name": n, "birthday": "2015-05-03"} for n in names]
    return book([contact(family={"children": children})], [campaign("kids", KIDS, **fields)],
                limits=NO_LIMITS)


def test_a_child_s_key_made_with_the_earlier_slug_counts_as_made() -> None:
    """Søren's key is soren-2026 now; a History holding sren-2026 (an earlier release's key)
    means his 2026 birthday note was made: it is not planned again, nor reported missed."""
    b = kids_book("Søren")
    (touch,) = planner.plan(b, history(), today=D("2026-04-26")).touches
    assert touch.key == "kids/jane-doe/soren-2026"
    assert touch.aliases == ("kids/jane-doe/sren-2026",)
    old = made_history("kids/jane-doe/sren-2026")
    assert keys_on(b, "2026-04-26", old) == []
    assert keys_on(b, "2026-05-03", old) == []
    assert keys_on(b, "2027-04-26", old) == ["kids/jane-doe/soren-2027"]  # next year: new key
    after = dataclasses.replace(old, run_days=(D("2026-04-20"),))
    assert planner.plan(b, after, today=D("2026-05-10")).missed == ()


def test_a_follow_up_anchored_on_a_draft_made_under_the_earlier_key_follows_it() -> None:
    """The call a few days after the note: the note drafted under sren-2026 is the made draft."""
    b = kids_book("Søren", followups=[{"kind": "call", "after": 3, "anchor": "draft"}])
    old = made_history("kids/jane-doe/sren-2026", day="2026-04-26")
    (event,) = planner.followups(b, old, today=D("2026-04-28"))
    assert (event.touch.key, event.day, event.draft) == ("kids/jane-doe/soren-2026", D("2026-04-29"), "made")


@pytest.mark.parametrize(("name", "part"), [("Sam", "sam"), ("Sofía", "sofia"), ("Zoë", "zoe"),
                                            ("Jo Ann", "jo-ann"), ("Renée-Lou", "renee-lou")])
def test_ascii_and_accented_names_keep_their_keys_and_need_no_alias(name: str, part: str) -> None:
    (touch,) = planner.plan(kids_book(name), history(), today=D("2026-04-26")).touches
    assert touch.key == f"kids/jane-doe/{part}-2026" and touch.aliases == ()


def test_children_kept_apart_by_the_earlier_slug_keep_their_earlier_keys_as_aliases() -> None:
    """Søren and Sren gave one slug before (sren, so both keys held a hash of the name); now
    they differ (soren, sren): each touch carries its earlier, hashed key."""
    b = kids_book("Søren", "Sren")
    touches = {t.occasion.person: t for t in planner.plan(b, history(), today=D("2026-04-26")).touches}
    for name in ("Søren", "Sren"):
        tell = hashlib.sha1(name.encode()).hexdigest()[:4]
        assert touches[name].aliases == (f"kids/jane-doe/sren-{tell}-2026",)
    assert touches["Søren"].key == "kids/jane-doe/soren-2026"
    assert touches["Sren"].key == "kids/jane-doe/sren-2026"


def _meeting(day: str, title: str, uid: str, *attendees: str) -> Meeting:
    start = dt.datetime.fromisoformat(f"{day}T15:00:00+00:00")
    return Meeting(meeting_key(D(day), title, uid), uid, False, start,
                   start + dt.timedelta(hours=1), D(day), title, "", "", tuple(attendees))


def test_a_thank_you_for_a_meeting_whose_title_slug_changed_is_not_made_twice() -> None:
    """A meeting titled "Straße" (on a Friday: thanked on Monday): its key part is strasse now,
    strae in earlier releases; a History holding the earlier key means the note was made."""
    jane = contact("jane-doe", email={"work": "jane@acme.example"})
    m = _meeting("2026-11-20", "Straße", "s@cal", "jane@acme.example")
    h6 = hashlib.sha256(b"s@cal").hexdigest()[:6]
    assert m.key == f"2026-11-20-strasse-{h6}"
    assert meeting_aliases(m) == (f"2026-11-20-strae-{h6}",)
    b = dataclasses.replace(book([jane], [campaign("thank-you", {"kind": "after_meeting"})],
                                 limits=NO_LIMITS), meetings=(m,))
    assert keys_on(b, "2026-11-23") == [f"thank-you/jane-doe/2026-11-20-strasse-{h6}"]
    old = made_history(f"thank-you/jane-doe/2026-11-20-strae-{h6}", day="2026-11-23")
    assert keys_on(b, "2026-11-24", old) == []
    plain = _meeting("2026-11-20", "Q4 Review — Müller & Co.", "q@cal", "jane@acme.example")
    assert plain.key.startswith("2026-11-20-q4-review-muller-co-") and meeting_aliases(plain) == ()


def test_an_article_whose_url_slug_changed_is_not_shared_twice() -> None:
    """An article at /straße-news: its id is ...-strasse-news-<hash> now, ...-strae-news-<hash>
    in earlier releases (the hash, of the URL, is the same)."""
    url = "https://news.example/straße-news"
    h6 = hashlib.sha1(normalize_url(url).encode()).hexdigest()[:6]
    a = Article(article_id(url), url, "Street news", "", ("fleet",), D("2027-01-05"), "articles.yaml")
    assert a.id == f"news.example-strasse-news-{h6}"
    assert article_aliases(a) == (f"news.example-strae-news-{h6}",)
    jane = contact("jane-doe", profile={"interests": ["fleet"]})
    camp = campaign("share", {"kind": "content", "every_days": 30, "max_age_days": 400})
    b = dataclasses.replace(book([jane], [camp], limits=NO_LIMITS), articles=(a,))
    assert keys_on(b, "2027-01-10") == [f"share/jane-doe/{a.id}"]
    old = made_history(f"share/jane-doe/news.example-strae-news-{h6}", day="2027-01-06")
    assert keys_on(b, "2027-03-10", old) == []
    plain = Article(article_id("https://news.example/café"), "https://news.example/café", "C",
                    "", ("fleet",), None, "articles.yaml")
    assert plain.id.startswith("news.example-cafe-") and article_aliases(plain) == ()


# --------------------------------------------------------------------------- one query per trigger


def _probe_every_night(b: Any, c: Any, camp: Any, hist: History, nights: list[dt.date]) -> list[Touch]:
    """What followups did before: occasions_for on every night, the first night's touch kept."""
    found: dict[str, Touch] = {}
    for night in nights:
        for t in occasions_for(b, c, camp, night, hist):
            found.setdefault(t.key, t)
    return list(found.values())


def _world(seed: int) -> tuple[Any, History]:
    rng = random.Random(seed)
    people = []
    for i in range(12):
        m, d = rng.randint(1, 12), rng.randint(1, 28)
        kids = [{"name": rng.choice(["Sam", "Søren", "Jo Ann", "Jo-Ann"]),
                 "birthday": f"201{rng.randint(0, 9)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}
                for _ in range(rng.randint(0, 2))]
        people.append(contact(f"p{i:02d}", dates={"birthday": f"--{m:02d}-{d:02d}"},
                              email={"work": f"p{i}@acme.example"},
                              profile={"interests": [rng.choice(["fleet", "golf"])]},
                              start_date=f"20{rng.randint(10, 24)}-{m:02d}-{d:02d}",
                              family={"children": kids}))
    camps = [
        campaign("birthday"),
        campaign("kids", KIDS, business_days="previous"),
        campaign("work", {"kind": "date", "field": "work_anniversary"}, catch_up_days=3),
        campaign("thanks", {"kind": "holiday", "name": "Thanksgiving Day", "days_before": 14}),
        campaign("fixed", {"kind": "holiday", "name": "Founders", "dates": ["2026-12-30", "2027-06-01", "2028-01-02"]}),
        campaign("quarterly", {"kind": "schedule", "months": [1, 4, 7, 10], "day": 31},
                 business_days="next", catch_up_days=rng.choice([None, 0, 40])),
        campaign("thank-you", {"kind": "after_meeting"}),
        campaign("each", {"kind": "after_meeting", "each_occurrence": True, "days_after": 2,
                          "business_days": True}),
        campaign("share", {"kind": "content", "every_days": 20, "max_age_days": 45}),
        campaign("kit", {"kind": "interval", "days": 45}),
    ]
    meetings = []
    for j in range(15):
        day = D("2026-10-01") + dt.timedelta(days=rng.randint(0, 200))
        title = rng.choice(["Straße", "Coffee", ""])
        start = dt.datetime.combine(day, dt.time(9), dt.UTC)
        meetings.append(Meeting(meeting_key(day, title, f"s{j % 4}"), f"s{j % 4}", j % 4 == 0, start,
                                start, day, title, "", "", (f"p{rng.randint(0, 11)}@acme.example",)))
    articles = []
    for j in range(10):
        url = f"https://news.example/{rng.choice(['straße', 'fleet', 'golf'])}/{j}"
        date = D("2026-09-01") + dt.timedelta(days=rng.randint(0, 250)) if j % 4 else None
        articles.append(Article(article_id(url), url, f"A{j}", "", (rng.choice(["fleet", "golf"]),),
                                date, "articles.yaml"))
    b = dataclasses.replace(book(people, camps), meetings=tuple(meetings), articles=tuple(articles))
    made = {f"share/p{i:02d}/{articles[i % 10].id}": D("2026-12-01") for i in range(0, 12, 3)}
    hist = dataclasses.replace(history(done=set(made)), made_on=made, since=D("2026-10-01"))
    return b, hist


@pytest.mark.parametrize("seed", range(4))
def test_the_touches_between_two_dates_are_those_of_every_night_between(seed: int) -> None:
    """occasions_between (one pass per trigger) gives what occasions_for gives night by night,
    across a new year, with the first night's touch where two nights give one key (in an order of
    its own: the follow-ups are sorted by day and key)."""
    b, hist = _world(seed)
    first = D("2026-11-01") + dt.timedelta(days=seed * 17)
    nights = [first + dt.timedelta(days=30 * n) for n in range(8)]
    for camp in b.campaigns:
        for c in b.contacts:
            found = occasions_between(b, c, camp, hist, nights)
            assert len(found) == len({t.key for t in found})
            # the same touches (followups sorts what it makes of them)
            assert {t.key: t for t in found} == {t.key: t for t in _probe_every_night(b, c, camp, hist, nights)}


def test_the_follow_ups_window_asks_each_trigger_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The calendar's window (two months before to a month after) is one occasions_between per
    campaign and contact; a keep-in-touch, which depends on the night itself, asks for tonight."""
    import outreach.followups as followups_module

    b, hist = _world(0)
    calls: list[str] = []

    def counting(*args: Any) -> list[Touch]:
        calls.append(args[2].id)
        return occasions_between(*args)

    monkeypatch.setattr(followups_module, "occasions_between", counting)
    for camp in b.campaigns:
        _occasions_around(b, b.contacts[0], camp, hist, D("2026-11-08"), D("2027-02-20"), D("2026-11-22"))
    assert sorted(calls) == sorted(c.id for c in b.campaigns if c.id != "kit")


def test_nights_too_far_apart_are_refused() -> None:
    b, hist = _world(1)
    with pytest.raises(ValueError):
        occasions_between(b, b.contacts[0], b.campaigns[0], hist, [D("2026-01-01"), D("2026-03-01")])
