"""The follow-up calendar, read back by independent parsers (vobject, and ical.js as Thunderbird)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import vobject  # type: ignore[import-untyped]
import yaml
from click.testing import CliRunner
from factories import campaign_data, contact_data, write_folder
from icalcheck import Event, Feed, assert_same, parse_icaljs, parse_vobject, require_icaljs

from outreach import commands
from outreach.cli import main

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
D = dt.date.fromisoformat

JANE = contact_data(
    "jane-doe",
    name={"first": "Jane", "last": "Doe"},
    company="Acme Corp",
    title="CFO",
    dates={"birthday": "1985-12-10"},
    family={"spouse": {"name": "Chris"}, "children": [{"name": "Sam", "birthday": "2014-09-21"}]},
    profile={"hobbies": ["golf"], "avoid": ["politics"]},
    interactions=[{"date": "2026-10-01", "kind": "meeting", "summary": "Q4 review; asked about 529 plans"}],
    tags=["friends"],
)
HAROLD = contact_data(
    "harold-jensen",
    name={"first": "Harold", "last": "Jensen"},
    email={},
    dates={"birthday": "--12-05"},
    preferences={"email_ok": False, "handwritten": True},
)
TOM = contact_data("tom-brennan", dates={"birthday": "--12-10"}, preferences={"do_not_contact": True})
BOB = contact_data("bob-smith", name={"first": "Bob", "last": "Smith"}, tags=["kit"],
                   last_contacted="2026-10-01")

CAMPAIGNS = [
    campaign_data("birthday", followups=[{"kind": "card", "before": 10}]),
    campaign_data("keep-in-touch", {"kind": "interval", "days": 45}, audience={"tags": ["kit"]},
                  followups=[{"kind": "call", "anchor": "draft", "after": 5, "business_days": True,
                              "time": "10:00", "alarm_minutes": 15}]),
    {"id": "quarterly-review", "trigger": {"kind": "schedule", "months": [3, 6, 9, 12], "day": 1},
     "audience": {"tags": ["friends"]},
     "followups": [{"kind": "review", "title": "Book the review with {{ contact.first }}"}]},
]


def folder(tmp_path: Path, contacts: list[dict[str, Any]] | None = None,
           campaigns: list[dict[str, Any]] | None = None, **settings: Any) -> Path:
    return write_folder(tmp_path / "book", contacts or [JANE, HAROLD, TOM, BOB],
                        campaigns or CAMPAIGNS, **settings)


def build(root: Path, day: str, now: dt.datetime = NOW) -> bytes:
    report = commands.calendar(root, today=D(day), now=now)
    assert report.problems == []
    return report.path.read_bytes()


def parsed(root: Path) -> Feed:
    """The feed as vobject reads it, checked against ical.js (Thunderbird's parser) when present."""
    path = root / "calendar.ics"
    feed = parse_vobject(path.read_bytes())
    try:
        require_icaljs()
    except pytest.skip.Exception:
        return feed
    assert_same(feed, parse_icaljs(path))
    return feed


def by_summary(feed: Feed) -> dict[str, Event]:
    return {e.summary: e for e in feed.events}


def run(root: Path, day: str) -> None:
    report = commands.run(root, today=D(day), now=NOW)
    assert not report.failed


# --------------------------------------------------------------------------- follow-ups


def test_a_card_ten_days_before_the_birthday_is_an_all_day_event(tmp_path: Path) -> None:
    """'Card due 10 days before': an all-day event on that date, ending the next day, transparent."""
    root = folder(tmp_path)
    build(root, "2026-11-22")
    card = by_summary(parsed(root))["Write a card to Jane Doe"]
    assert (card.start, card.end) == (D("2026-11-30"), D("2026-12-01"))
    assert card.transp == "TRANSPARENT"


def test_people_who_want_no_email_still_get_their_card(tmp_path: Path) -> None:
    """Harold (email_ok: false, handwritten) gets no draft, but his card is on the calendar, and its
    description says why there is no draft."""
    root = folder(tmp_path)
    run(root, "2026-11-22")
    assert not [p for p in (root / "drafts").glob("*harold*")]
    card = by_summary(parsed(root))["Write a card to Harold Jensen"]
    assert card.start == D("2026-11-25")
    assert "No draft: prefers no email (preferences.email_ok: false)" in card.description
    assert "Prefers handwritten notes." in card.description


def test_do_not_contact_means_no_events_either(tmp_path: Path) -> None:
    """Do-not-contact is absolute: no draft and no card."""
    root = folder(tmp_path)
    build(root, "2026-11-22")
    assert not [e for e in parsed(root).events if "Tom" in e.summary or "tom" in e.description]


def test_a_call_follows_the_draft_it_belongs_to(tmp_path: Path) -> None:
    """'Call 5 business days after the note' appears once the note was drafted, on the fifth
    business day (Thanksgiving skipped), at 10:00 Chicago time written in UTC, with its alarm."""
    root = folder(tmp_path)
    build(root, "2026-11-22")
    assert "Call Bob Smith" not in by_summary(parsed(root))
    run(root, "2026-11-22")
    call = by_summary(parsed(root))["Call Bob Smith"]
    assert call.start == dt.datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert call.end == dt.datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    assert call.alarms == ("-PT15M",)


def test_relationship_reviews_are_events_of_their_own(tmp_path: Path) -> None:
    """A calendar-only campaign (no template) makes review events and no drafts."""
    root = folder(tmp_path)
    run(root, "2026-11-22")
    review = by_summary(parsed(root))["Book the review with Jane"]
    assert review.start == D("2026-12-01")
    assert "No draft: this campaign only adds calendar events" in review.description
    assert not list((root / "drafts").glob("quarterly-review*"))


def test_descriptions_carry_the_why_the_cheat_sheet_and_the_draft(tmp_path: Path) -> None:
    """A follow-up says why it exists, who the person is (family, hobbies, last meeting, topics to
    avoid) and which draft it belongs to, with a link to open it."""
    root = folder(tmp_path, contacts=[{**JANE, "tags": ["kit", "friends"]}])
    run(root, "2026-11-22")
    call = by_summary(parsed(root))["Call Jane Doe"]
    eml = root / "drafts" / "keep-in-touch--jane-doe--2026-11-15.eml"
    assert call.description.splitlines() == [
        "Why: Keep in touch, last touch 2026-10-01, keep in touch every 45 days.",
        f'Draft: "A note for Jane", made 2026-11-22, {eml.as_uri()}',
        "",
        "About Jane Doe (CFO, Acme Corp)",
        "Family: spouse Chris; children Sam (12)",
        "Hobbies: golf",
        "Avoid: politics",
        "Last meeting: 2026-10-01: Q4 review; asked about 529 plans",
    ]


def test_the_morning_review_of_the_drafts(tmp_path: Path) -> None:
    """Each night that made drafts adds 'Review N drafts' at 08:00 local time (UTC in the file)."""
    root = folder(tmp_path)
    run(root, "2026-11-22")
    review = by_summary(parsed(root))["Review 1 draft"]
    assert review.start == dt.datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
    assert "- Bob Smith: A note for Bob" in review.description


# --------------------------------------------------------------------------- the feed


def test_every_event_has_uid_dtstamp_dtstart_and_uids_are_unique(tmp_path: Path) -> None:
    """Both parsers read every event with UID, DTSTAMP and DTSTART, and no UID twice."""
    root = folder(tmp_path)
    run(root, "2026-11-22")
    feed = parsed(root)
    # Jane's card and review, Harold's card, the call after Bob's note, the morning review
    assert len(feed.events) == 5
    assert all(e.uid and e.dtstamp and e.start for e in feed.events)
    assert len({e.uid for e in feed.events}) == len(feed.events)


def test_the_calendar_itself_has_no_uid(tmp_path: Path) -> None:
    """Only the events carry UIDs: a UID on the VCALENDAR (optional; the feed's identity is its
    URL) made vdirsyncer collapse every event of the feed into one (tests/test_vdirsyncer.py)."""
    root = folder(tmp_path)
    data = build(root, "2026-11-22")
    calendar = vobject.readOne(data.decode("utf-8"))
    assert "uid" not in calendar.contents
    head = data.split(b"BEGIN:VEVENT", 1)[0]
    assert b"\r\nUID" not in head
    assert len(calendar.contents["vevent"]) == 3


def test_the_calendar_names_itself_and_asks_to_be_refreshed(tmp_path: Path) -> None:
    """Name, time zone and refresh hints (as durations, not '12:00:00')."""
    root = folder(tmp_path, calendar={"name": "Alex's follow-ups, 2026"})
    build(root, "2026-11-22")
    feed = parsed(root)
    assert (feed.name, feed.timezone) == ("Alex's follow-ups, 2026", "America/Chicago")
    assert (feed.refresh_interval, feed.published_ttl) == ("PT12H", "PT12H")


def test_an_unchanged_night_gives_the_same_bytes(tmp_path: Path) -> None:
    """Regenerating with nothing changed writes byte-identical output, whatever the clock says."""
    root = folder(tmp_path)
    run(root, "2026-11-22")
    first = (root / "calendar.ics").read_bytes()
    assert build(root, "2026-11-22", NOW + dt.timedelta(hours=5)) == first
    assert build(root, "2026-11-23", NOW + dt.timedelta(days=1)) == first


def test_a_changed_event_keeps_its_uid_with_a_higher_sequence(tmp_path: Path) -> None:
    """A subscribed client's view: after a real change (a new hobby) the event keeps its UID, its
    SEQUENCE rises by one and LAST-MODIFIED and DTSTAMP move; untouched events stay as they were."""
    root = folder(tmp_path)
    build(root, "2026-11-22")
    before = {e.uid: e for e in parsed(root).events}
    contacts = yaml.safe_load((root / "contacts.yaml").read_text())
    contacts["contacts"][0]["profile"]["hobbies"] = ["golf", "sailing"]
    (root / "contacts.yaml").write_text(yaml.safe_dump(contacts))
    later = NOW + dt.timedelta(days=1)
    build(root, "2026-11-22", later)
    after = {e.uid: e for e in parsed(root).events}
    assert set(after) == set(before)
    for uid, event in after.items():
        if "Jane" in event.summary:
            assert "Hobbies: golf, sailing" in event.description
            assert event.sequence == before[uid].sequence + 1
            assert event.last_modified == event.dtstamp == later
        else:
            assert event == before[uid]


def test_events_that_no_longer_apply_are_left_out(tmp_path: Path) -> None:
    """A follow-up whose contact leaves the audience disappears; one that leaves the rolling window
    too (past_days)."""
    root = folder(tmp_path)
    build(root, "2026-11-22")
    assert "Write a card to Jane Doe" in by_summary(parsed(root))
    build(root, "2026-12-20")  # the card was due 2026-11-30: more than 14 days ago
    assert "Write a card to Jane Doe" not in by_summary(parsed(root))
    contacts = yaml.safe_load((root / "contacts.yaml").read_text())
    contacts["contacts"] = [c for c in contacts["contacts"] if c["id"] != "harold-jensen"]
    (root / "contacts.yaml").write_text(yaml.safe_dump(contacts))
    build(root, "2026-11-22")
    assert not [e for e in parsed(root).events if "Harold" in e.summary]


def test_text_is_escaped_and_read_back_exactly(tmp_path: Path) -> None:
    """Commas, semicolons, backslashes, newlines and non-ASCII survive the round trip."""
    zoe = contact_data("zoe-lukasz", name={"first": "Zoë", "last": "Łukasz, Jr.; PhD"},
                       dates={"birthday": "--12-10"},
                       notes="Café at 9, then\\the office; ask about Kraków\nsecond line")
    camp = campaign_data("birthday", followups=[{
        "kind": "card", "before": 10, "title": "Card, for {{ contact.full_name }}; ✉",
        "text": "Line one, with comma; and semicolon\nLine two: naïve café"}])
    root = folder(tmp_path, contacts=[zoe], campaigns=[camp])
    build(root, "2026-11-22")
    event = parsed(root).events[0]
    assert event.summary == "Card, for Zoë Łukasz, Jr.; PhD; ✉"
    assert event.description.startswith("Line one, with comma; and semicolon\nLine two: naïve café\n")
    assert "Notes: Café at 9, then\\the office; ask about Kraków\nsecond line" in event.description


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Tokyo", "Europe/London"])
def test_a_contacts_time_zone_never_moves_an_all_day_event(tmp_path: Path, zone: str) -> None:
    """The card for a birthday is on the same date wherever the contact or the user lives."""
    far = {**JANE, "timezone": zone}
    root = folder(tmp_path, contacts=[far], timezone=zone)
    build(root, "2026-11-22")
    card = by_summary(parsed(root))["Write a card to Jane Doe"]
    assert (card.start, card.end) == (D("2026-11-30"), D("2026-12-01"))


def test_timed_events_are_read_identically_across_daylight_saving(tmp_path: Path) -> None:
    """A 10:00 Chicago call in July is 15:00Z, in January 16:00Z: both parsers agree."""
    summer = contact_data("sam-summer", dates={"birthday": "--07-20"})
    winter = contact_data("wes-winter", dates={"birthday": "--01-20"})
    camp = campaign_data("birthday", followups=[{"kind": "call", "time": "10:00"}])
    root = folder(tmp_path, contacts=[summer, winter], campaigns=[camp],
                  calendar={"future_days": 400})
    build(root, "2026-06-01")
    calls = {e.summary: e.start for e in parsed(root).events}
    assert calls["Call Sam Doe"] == dt.datetime(2026, 7, 20, 15, 0, tzinfo=UTC)
    assert calls["Call Wes Doe"] == dt.datetime(2027, 1, 20, 16, 0, tzinfo=UTC)


def large_book(tmp_path: Path, reviews: bool) -> Path:
    people = [contact_data(f"p{i:04d}-doe", dates={"birthday": f"--{1 + i % 12:02d}-{1 + i % 28:02d}"},
                           tags=["friends"] if reviews else [],
                           profile={"hobbies": ["golf", "sailing"]}, notes="x" * 80)
              for i in range(2000)]
    return folder(tmp_path, contacts=people)


def test_the_window_keeps_a_large_book_under_1_mb(tmp_path: Path) -> None:
    """2,000 people with birthday cards: the rolling window alone keeps the file well under the
    1 MB that Google accepts."""
    root = large_book(tmp_path, reviews=False)
    report = commands.calendar(root, today=D("2026-11-22"), now=NOW)
    assert report.dropped == 0
    assert report.events > 400 and report.path.stat().st_size < 600_000


def test_a_feed_too_large_keeps_the_nearest_events(tmp_path: Path) -> None:
    """2,000 reviews due on one day on top: the feed still stays under 1 MB by leaving out the
    farthest events, says so, and keeps everything nearer than the last day it covers."""
    root = large_book(tmp_path, reviews=True)
    report = commands.calendar(root, today=D("2026-11-22"), now=NOW)
    assert report.path.stat().st_size < 1_000_000
    assert report.dropped > 0 and report.until == D("2026-12-01")
    kept = parse_vobject(report.path.read_bytes()).events
    assert len(kept) == report.events
    # every card from today to `until` is still there (past ones count for less and may go)
    from outreach.config import load_book
    from outreach.model import History
    from outreach.planner import followups

    due = [s.day for s in followups(load_book(root), History(), today=D("2026-11-22"))
           if s.followup.kind == "card" and D("2026-11-22") <= s.day < D("2026-12-01")]
    cards = [e.start for e in kept if e.summary.startswith("Write a card") and e.start >= D("2026-11-22")]
    assert len(due) > 40 and sorted(due) == sorted(cards)


def test_dry_run_writes_no_calendar_and_run_and_calendar_do(tmp_path: Path) -> None:
    """`run --dry-run` writes nothing; `run` writes calendar.ics; `calendar --out` writes elsewhere."""
    root = folder(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["-C", str(root), "run", "--dry-run", "--date", "2026-11-22"]).exit_code == 0
    assert not (root / "calendar.ics").exists()
    result = runner.invoke(main, ["-C", str(root), "run", "--date", "2026-11-22", "-v"])
    assert result.exit_code == 0
    assert f"calendar: 5 events in {root / 'calendar.ics'} (5 changed)" in result.stdout
    out = tmp_path / "elsewhere" / "feed.ics"
    result = runner.invoke(main, ["-C", str(root), "calendar", "--out", str(out), "--date", "2026-11-22"])
    assert result.exit_code == 0, result.output
    assert len(parse_vobject(out.read_bytes()).events) == 5


# --------------------------------------------------------------------------- bad definitions


def test_broken_followups_are_reported_by_check(tmp_path: Path) -> None:
    """Follow-up mistakes are problems like any other: file, line, path, fix; exit 2."""
    root = folder(tmp_path)
    (root / "campaigns.yaml").write_text(
        "campaigns:\n"
        "  - id: birthday\n"
        "    template: note.md\n"
        "    trigger: {kind: date, field: birthday}\n"
        "    followups:\n"
        "      - {kind: card, before: 10, after: 2}\n"
        "      - {kind: call, time: '25:00'}\n"
        "      - {kind: gift, titel: x}\n"
        "      - {kind: review, title: 'Review {{ contact.first }'}\n"
        "  - id: nothing\n"
        "    trigger: {kind: interval, days: 30}\n"
    )
    result = CliRunner().invoke(main, ["-C", str(root), "check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "campaigns.yaml:6: campaigns[0].followups[0]: give either 'before' or 'after', not both; "
        "keep one: 'before: N' (days before) or 'after: N' (days after)",
        "campaigns.yaml:7: campaigns[0].followups[1].time: '25:00' is not a time of day (use HH:MM, "
        "e.g. 08:30); write it as HH:MM in quotes, e.g. '08:30'",
        "campaigns.yaml:8: campaigns[0].followups[2].titel: unknown key 'titel'; did you mean 'title'?",
        "campaigns.yaml:10: campaigns[1]: a campaign needs a 'template' (drafts), 'followups' "
        "(events) or both; name a template, or list followups (calls, cards, gifts, reviews)",
    ]


def test_a_followup_title_that_does_not_parse_is_reported(tmp_path: Path) -> None:
    """A Jinja syntax error in a follow-up title names the campaign file and line."""
    root = folder(tmp_path, campaigns=[campaign_data(
        "birthday", followups=[{"kind": "card", "title": "Card for {{ contact.first }"}])])
    result = CliRunner().invoke(main, ["-C", str(root), "check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "campaigns.yaml:9: campaigns[0].followups[0].title: template syntax error: unexpected '}'; "
        "fix the {{ }} / {% %} tags"]


@pytest.mark.parametrize(("key", "value", "what"), [
    ("title", "Card {{ 'for\\u2028' }} {{ contact.first }}", "title holds a line break (U+2028)"),
    ("text", "Ideas:\n{{ 'golf\\x07wine' }}", "text holds a control character (U+0007)"),
])
def test_a_followup_title_or_text_a_calendar_cannot_carry_is_reported(
        tmp_path: Path, key: str, value: str, what: str) -> None:
    """A title with a line break of any kind, or a text with a control character (which would make
    the .ics invalid), is refused with the campaign's line; the text may hold line breaks."""
    root = folder(tmp_path, contacts=[HAROLD], campaigns=[campaign_data(
        "birthday", followups=[{"kind": "card", key: value}])])
    result = CliRunner().invoke(main, ["-C", str(root), "check", "--date", "2026-11-22"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"campaigns.yaml:9: birthday/harold-jensen/2026: the follow-up {what}")


def test_a_followup_title_a_contact_cannot_fill_is_reported(tmp_path: Path) -> None:
    """check renders follow-up titles for every contact too: a missing value is found at noon."""
    root = folder(tmp_path, contacts=[HAROLD], campaigns=[campaign_data(
        "birthday", followups=[{"kind": "card", "title": "Card for {{ contact.nickname }}"}])])
    result = CliRunner().invoke(main, ["-C", str(root), "check", "--date", "2026-11-22"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "campaigns.yaml:9: birthday/harold-jensen/2026: a value in {{ }} is None (missing) for this "
        "contact (contact harold-jensen at contacts.yaml:2)")


def test_a_night_of_many_drafts_is_reviewed_in_fifty_lines_and_a_count(tmp_path: Path) -> None:
    """The 'Review N drafts' event of a big night names the first 50 drafts by key and says how
    many more there are, whatever order the ledger gave them in (the same bytes every time); a
    night of exactly 50 names them all."""
    import random

    from factories import book, campaign, contact

    from outreach import feed

    people = [contact(f"p{i:03d}-doe") for i in range(120)]
    b = book(people, [campaign()], root=tmp_path)
    made = [feed.DraftInfo(f"birthday/p{i:03d}-doe/2026", f"p{i:03d}-doe", f"Hi P{i:03d}", None,
                           D("2026-11-22")) for i in range(120)]
    shuffled = random.Random(3).sample(made, len(made))
    (event,) = feed.review_events(b, shuffled, today=D("2026-11-22"))
    lines = event.description.splitlines()
    assert event.summary == "Review 120 drafts"
    assert lines[0].startswith("120 drafts made on ")
    assert lines[1:52] == [*(f"- P{i:03d} Doe: Hi P{i:03d}" for i in range(50)), "… and 70 more"]
    assert lines[52:] == ["", f"They are in {tmp_path / 'drafts'}."]
    assert feed.review_events(b, list(reversed(made)), today=D("2026-11-22")) == [event]
    (fifty,) = feed.review_events(b, made[:50], today=D("2026-11-22"))
    assert len(fifty.description.splitlines()) == 53 and "more" not in fifty.description
