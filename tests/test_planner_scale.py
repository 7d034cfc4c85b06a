"""How a night's plan stays cheap without changing what it says: the shortcuts the planner takes
at 100,000 contacts and after a year of nights give exactly what the long way gives.

- ``due_touches`` passes over dates, holidays and schedules whose window cannot hold the night,
  before it makes a touch: it gives the touches of ``occasions_for`` whose window holds the night;
- meetings are looked up by attendee: in the feeds' order, by either address;
- History's indexes (the last run before a day, the touches of a day, a campaign's notes made
  since a day) agree with a scan of what they index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from outreach import planner
from outreach.model import History
from outreach.sources.meetings import Meeting
from outreach.triggers import due_touches, occasions_for
from tests.factories import book, campaign, contact, history
from tests.test_planner_properties import QUICK, campaigns, contacts

ONE = dt.timedelta(days=1)


@QUICK
@given(st.data())
def test_the_touches_due_on_a_night_are_those_whose_window_holds_it(data: Any) -> None:
    """For every trigger kind, lead time, business-day shift and catch-up window, and nights all
    through two years: ``due_touches`` gives exactly the touches of ``occasions_for`` whose
    window holds the night, in the same order (the planner's shortcut loses no touch)."""
    start = data.draw(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)))
    people = [data.draw(contacts(i, start)) for i in range(data.draw(st.integers(1, 3)))]
    camps = [data.draw(campaigns(i)) for i in range(data.draw(st.integers(1, 3)))]
    b = book(people, camps)
    h = history(since=start)
    for n in range(0, 400, data.draw(st.integers(1, 9))):
        night = start + dt.timedelta(days=n)
        for c in people:
            for camp in camps:
                slow = [
                    t
                    for t in occasions_for(b, c, camp, night, h)
                    if t.due <= night <= t.last_day
                ]
                assert due_touches(b, c, camp, night, h) == slow


def _meeting(n: int, day: dt.date, *attendees: str) -> Meeting:
    start = dt.datetime(day.year, day.month, day.day, 15, tzinfo=dt.UTC)
    return Meeting(f"{day}-m{n}", f"uid{n}", False, start, start + ONE, day, f"Meeting {n}", "",
                   "", attendees)


def test_meetings_are_found_by_either_address_in_the_feeds_order() -> None:
    """A contact's meetings are those any of their addresses attended (addresses compare in
    lower case), in the order the feeds list them, each once; a book with other feeds gets its
    own answer (nothing is kept from the last book's feeds)."""
    jane = contact("jane-doe", email={"work": "Jane@Acme.example", "personal": "jd@home.example"})
    day = dt.date(2026, 3, 2)
    feeds = (
        _meeting(1, day, "jd@home.example"),
        _meeting(2, day, "bob@acme.example"),
        _meeting(3, day, "jane@acme.example", "jd@home.example"),
        _meeting(4, day, "jane@acme.example"),
    )
    b = replace(book([jane], [campaign()]), meetings=feeds)
    assert planner.meetings_with(b, jane) == [feeds[0], feeds[2], feeds[3]]
    other = replace(b, meetings=(feeds[1], feeds[3]))
    assert planner.meetings_with(other, jane) == [feeds[3]]
    assert planner.meetings_with(replace(b, meetings=()), jane) == []


def test_the_histories_indexes_agree_with_what_they_index() -> None:
    """The last run before a day is the latest earlier run; the touches of a day are counted
    per contact; a campaign's notes made since a day come in the order they were made, with
    none made before it, none of another campaign."""
    d = dt.date(2026, 5, 1)
    made = {
        "intro/b/2026-04-01": d + 3 * ONE,
        "intro/a/2026-04-01": d,
        "other/a/2026": d + 5 * ONE,
        "intro/c/2026-04-01/step-2": d + 9 * ONE,
        "intro/d/2026-04-01": d - 40 * ONE,
        "not a key": d,
    }
    h = History(
        done=frozenset(made),
        touched={"a": (d, d, d + ONE), "b": (d + ONE,)},
        made_on=made,
        run_days=(d - 3 * ONE, d + 9 * ONE, d, d + 2 * ONE),
    )
    assert h.last_run_before(d + ONE) == d
    assert h.last_run_before(d) == d - 3 * ONE
    assert h.last_run_before(d - 3 * ONE) is None
    assert h.last_run_before(d + 30 * ONE) == d + 9 * ONE
    assert h.touched_on(d) == {"a": 2}
    assert h.touched_on(d + ONE) == {"a": 1, "b": 1}
    assert h.touched_on(d - ONE) == {}
    assert [(str(k), day) for k, day in h.made_since("intro", d)] == [
        ("intro/b/2026-04-01", d + 3 * ONE),
        ("intro/a/2026-04-01", d),
        ("intro/c/2026-04-01/step-2", d + 9 * ONE),
    ]
    assert [str(k) for k, _ in h.made_since("intro", d + ONE)] == [
        "intro/b/2026-04-01", "intro/c/2026-04-01/step-2"]
    assert h.made_since("nothing", d) == []
