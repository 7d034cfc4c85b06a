"""Where touches come from, end to end: a meeting calendar served from 127.0.0.1, articles over a
simulated year, and interactions logged by hand."""

from __future__ import annotations

import datetime as dt
import http.server
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from factories import NOTE_TEMPLATE, campaign_data, contact_data, write_folder
from lifecycle import serving

from outreach import commands, planner
from outreach.cli import main

D = dt.date.fromisoformat
ME = "alex@rivera.example"


class _Calendar(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def calendar_server() -> Iterator[tuple[str, type[_Calendar]]]:
    handler = type("Handler", (_Calendar,), {"body": b""})
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as port:
        yield f"http://127.0.0.1:{port}/basic.ics", handler


def vevent(uid: str, start: str, summary: str, attendees: list[str], extra: str = "") -> str:
    people = "".join(f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{a}\r\n" for a in attendees)
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\n"
            f"DTEND:{start[:-3]}30Z\r\nSUMMARY:{summary}\r\nORGANIZER:mailto:{ME}\r\n{people}{extra}"
            "END:VEVENT\r\n")


def ics(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + "".join(events)
            + "END:VCALENDAR\r\n").encode()


JANE = contact_data("jane-doe", email={"work": "jane@acme.example"})
BOB = contact_data("bob-smith", name={"first": "Bob", "last": "Smith"},
                   email={"work": "Bob.Smith@Acme.example", "personal": "bob@home.example"})
THANKS = campaign_data("thank-you", {"kind": "after_meeting"}, priority=90)
NOTE = ("---\nsubject: Thank you, {{ contact.first }}\n---\nHi {{ contact.first }},\n\n"
        "Thanks for \"{{ meeting.title }}\" on {{ meeting.date | friendly_date }}.\n")


def folder(tmp_path: Path, url: str, campaigns: list[dict[str, Any]] | None = None) -> Path:
    return write_folder(tmp_path / "book", [JANE, BOB], campaigns or [THANKS],
                        {"note.md": NOTE, "plain.md": NOTE_TEMPLATE},
                        sender={"name": "Alex Rivera", "email": ME},
                        meetings={"sources": [url]})


def keys(root: Path, day: str) -> list[str]:
    _, plans = commands.plan(root, today=D(day))
    return [t.key for t in plans[0].touches]


def test_a_meeting_yesterday_gives_two_thank_yous_this_morning_and_none_tomorrow(
        tmp_path: Path, calendar_server: tuple[str, Any]) -> None:
    """A meeting on Thursday with two contacts (one matched by their address in another case):
    two drafts on Friday morning, quoting the meeting; nothing more on Saturday."""
    url, handler = calendar_server
    handler.body = ics(vevent("m1@x", "20261119T150000Z", "Q4 review",
                              ["jane@acme.example", "bob.smith@acme.example", ME]))
    root = folder(tmp_path, url)
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", "2026-11-20", "-v"])
    assert result.exit_code == 0, result.output
    drafted = sorted(p.name for p in (root / "drafts").glob("*.eml"))
    assert [n.split("--")[1] for n in drafted] == ["bob-smith", "jane-doe"]
    text = (root / "drafts" / drafted[1]).read_text()
    assert 'Thanks for "Q4 review" on Thursday, November 19.' in text
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", "2026-11-21", "-v"])
    assert result.stdout.splitlines()[-1].startswith("0 drafted")


def test_the_note_waits_for_the_next_business_morning(tmp_path: Path,
                                                      calendar_server: tuple[str, Any]) -> None:
    """A Friday meeting gets its note on Monday, not Saturday."""
    url, handler = calendar_server
    handler.body = ics(vevent("m1@x", "20261120T150000Z", "Friday lunch", ["jane@acme.example"]))
    root = folder(tmp_path, url)
    assert keys(root, "2026-11-21") == []
    assert keys(root, "2026-11-23") == ["thank-you/jane-doe/2026-11-20-friday-lunch-" +
                                        keys(root, "2026-11-23")[0].rsplit("-", 1)[-1]]


def test_declined_and_cancelled_meetings_give_no_note(tmp_path: Path,
                                                      calendar_server: tuple[str, Any]) -> None:
    """An invitation I declined and a cancelled meeting: no thank-you."""
    url, handler = calendar_server
    declined = vevent("d@x", "20261119T150000Z", "Pitch", ["jane@acme.example"]).replace(
        f"ORGANIZER:mailto:{ME}", "ORGANIZER:mailto:jane@acme.example").replace(
        "END:VEVENT", f"ATTENDEE;PARTSTAT=DECLINED:mailto:{ME}\r\nEND:VEVENT")
    cancelled = vevent("c@x", "20261119T170000Z", "Lunch", ["bob@home.example"], "STATUS:CANCELLED\r\n")
    handler.body = ics(declined, cancelled)
    root = folder(tmp_path, url)
    assert keys(root, "2026-11-20") == []


def test_a_weekly_meeting_gets_one_note_unless_the_campaign_asks_for_each(
        tmp_path: Path, calendar_server: tuple[str, Any]) -> None:
    """A weekly recurring meeting over a month: one thank-you in all; with each_occurrence, one
    after every week's meeting."""
    url, handler = calendar_server
    handler.body = ics(vevent("w@x", "20261103T150000Z", "Weekly sync", ["jane@acme.example"],
                              "RRULE:FREQ=WEEKLY;COUNT=4\r\n"))
    made: dict[str, list[str]] = {}
    for each in (False, True):
        camp = campaign_data("thank-you", {"kind": "after_meeting", "each_occurrence": each})
        root = folder(tmp_path / str(each), url, [camp])
        for n in range(30):
            day = (D("2026-11-01") + dt.timedelta(days=n)).isoformat()
            CliRunner().invoke(main, ["-C", str(root), "run", "--date", day])
        made[str(each)] = sorted(p.name for p in (root / "drafts").glob("*.eml"))
    assert len(made["False"]) == 1
    assert len(made["True"]) == 4


def test_a_meeting_counts_as_an_interaction_for_keep_in_touch(
        tmp_path: Path, calendar_server: tuple[str, Any]) -> None:
    """Keep-in-touch counts from the last meeting in the calendar."""
    url, handler = calendar_server
    handler.body = ics(vevent("m1@x", "20261119T150000Z", "Q4 review", ["jane@acme.example"]))
    kit = campaign_data("kit", {"kind": "interval", "days": 45}, template="plain.md")
    root = folder(tmp_path, url, [kit])
    book = commands.load_with_sources(root, D("2026-11-22"))
    jane = book.contact("jane-doe")
    assert planner.last_touch(jane, planner.History(), D("2026-11-22"), book) == D("2026-11-19")
    # so the 45-day keep-in-touch is due 45 days after the meeting, not at once
    def jane_keys(day: str) -> list[str]:
        return [t.key for t in commands.plan(root, today=D(day))[1][0].touches
                if t.contact_id == "jane-doe"]

    assert jane_keys("2026-11-22") == []
    assert jane_keys("2027-01-03") == ["kit/jane-doe/2027-01-03"]


def test_a_meeting_keeps_counting_after_it_leaves_the_lookback_window(
        tmp_path: Path, calendar_server: tuple[str, Any]) -> None:
    """Jane was last contacted Feb 1 and met on Mar 10; keep in touch every 60 days; the calendar
    is read 14 days back. Run every night from Mar 1: the meeting scrolls out of the window on
    Mar 25 but the ledger remembers it, so the note comes on May 9 (60 days after the meeting),
    not on Apr 2 (60 days after Feb 1); `plan` sees the remembered meeting too."""
    url, handler = calendar_server
    handler.body = ics(vevent("m1@x", "20270310T150000Z", "Fleet review", ["jane@acme.example"]))
    kit = campaign_data("kit", {"kind": "interval", "days": 60}, template="plain.md")
    root = folder(tmp_path, url, [kit])
    contacts = yaml.safe_load((root / "contacts.yaml").read_text())
    contacts["contacts"] = [dict(contacts["contacts"][0], last_contacted="2027-02-01")]
    (root / "contacts.yaml").write_text(yaml.safe_dump(contacts))
    day = D("2027-03-01")
    while day <= D("2027-05-10"):
        result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", day.isoformat()])
        assert result.exit_code == 0, result.output
        day += dt.timedelta(days=1)
    assert sorted(p.name.split("--")[0] + "/" + p.name.split("--")[2][:10]
                  for p in (root / "drafts").glob("*.eml")) == ["kit/2027-05-09"]
    _, plans = commands.plan(root, today=D("2027-04-02"))
    assert [t.key for t in plans[0].touches] == []


def test_a_thank_you_follow_up_stays_in_the_calendar_after_the_meeting_left_the_lookback(
        tmp_path: Path, calendar_server: tuple[str, Any]) -> None:
    """A call 20 days after the thank-you note: the meeting (Mar 1) leaves the 14-day lookback on
    Mar 16, but the call (Mar 22) stays in the feed until its day and after, with the same UID."""
    import icalendar

    url, handler = calendar_server
    handler.body = ics(vevent("m1@x", "20270301T150000Z", "Kick-off", ["jane@acme.example"]))
    camp = dict(THANKS, followups=[{"kind": "call", "after": 20, "anchor": "draft"}])
    root = folder(tmp_path, url, [camp])
    assert CliRunner().invoke(main, ["-C", str(root), "run", "--date", "2027-03-02"]).exit_code == 0

    def calls(day: str) -> list[tuple[str, str]]:
        result = CliRunner().invoke(main, ["-C", str(root), "calendar", "--date", day])
        assert result.exit_code == 0, result.output
        cal = icalendar.Calendar.from_ical((root / "calendar.ics").read_bytes())
        return [(str(e["UID"]), e.decoded("DTSTART").isoformat()) for e in cal.walk("VEVENT")
                if str(e["SUMMARY"]).startswith("Call ")]

    seen = {day: calls(day) for day in ("2027-03-10", "2027-03-16", "2027-03-22", "2027-03-30")}
    assert len({tuple(v) for v in seen.values()}) == 1, seen
    assert [d for _, d in seen["2027-03-22"]] == ["2027-03-22"]


def test_templates_and_the_cheat_sheet_see_the_last_meeting(
        tmp_path: Path, calendar_server: tuple[str, Any]) -> None:
    """Jane's last interaction in contacts.yaml is Dec 1; she was met on Mar 1 (a run that night
    saw it). On Apr 5, after the meeting left the feed's window, `contact.last_interaction` is
    Mar 1, and the follow-up's cheat-sheet says "Last meeting: 2027-03-01: Kick-off"."""
    url, handler = calendar_server
    handler.body = ics(vevent("m1@x", "20270301T150000Z", "Kick-off", ["jane@acme.example"]))
    note = ("---\nsubject: Quarterly\n---\nHi {{ contact.first }},\n\nSince we last spoke "
            "({{ contact.last_interaction }}), rates moved.\n")
    quarterly = campaign_data("quarterly", {"kind": "schedule", "months": [4], "day": 5},
                              template="q.md", followups=[{"kind": "call", "after": 1, "anchor": "draft"}])
    root = write_folder(tmp_path / "book",
                        [dict(JANE, interactions=[{"date": "2026-12-01", "kind": "call"}])],
                        [quarterly], {"q.md": note}, sender={"name": "Alex Rivera", "email": ME},
                        meetings={"sources": [url]})
    assert CliRunner().invoke(main, ["-C", str(root), "run", "--date", "2027-03-02"]).exit_code == 0
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", "2027-04-05"])
    assert result.exit_code == 0, result.output
    (draft,) = (root / "drafts").glob("quarterly--*.eml")
    assert "Since we last spoke (2027-03-01), rates moved." in draft.read_text()
    feed = (root / "calendar.ics").read_text().replace("\r\n ", "")
    assert "Last meeting: 2027-03-01: Kick-off" in feed


def test_a_run_after_missed_nights_says_what_was_missed(
        tmp_path: Path, calendar_server: tuple[str, Any]) -> None:
    """Cron ran until Mar 9 and again on Mar 21. The thank-you for Jane's Mar 11 meeting could be
    made until Mar 14 and Bob's birthday (Mar 15) only on its day: the run on Mar 21 says each
    in one warning line (cron mails it) and exits 0; a run on the next night says nothing."""
    url, handler = calendar_server
    handler.body = ics(vevent("m1@x", "20270311T150000Z", "Review", ["jane@acme.example"]))
    root = folder(tmp_path, url, [THANKS, campaign_data("birthday", template="plain.md")])
    contacts = yaml.safe_load((root / "contacts.yaml").read_text())
    contacts["contacts"][1]["dates"] = {"birthday": "--03-15"}
    (root / "contacts.yaml").write_text(yaml.safe_dump(contacts))
    runner = CliRunner()
    for day in ("2027-03-08", "2027-03-09"):
        assert runner.invoke(main, ["-C", str(root), "run", "--date", day]).exit_code == 0
    result = runner.invoke(main, ["-C", str(root), "run", "--date", "2027-03-21"])
    assert result.exit_code == 0
    key = next(k for k in keys(root, "2027-03-12") if k.startswith("thank-you/"))
    assert result.stderr.splitlines() == [
        f"warning: missed {key}: its last night was Sun 14 Mar 2027, and no run was made",
        "warning: missed birthday/bob-smith/2027: its last night was Mon 15 Mar 2027, and no run "
        "was made",
    ]
    assert runner.invoke(main, ["-C", str(root), "run", "--date", "2027-03-22"]).stderr == ""


DATA = Path(__file__).parent / "data"
REPO_TEMPLATES = Path(__file__).parent.parent / "templates"


def test_an_untitled_meeting_gets_the_bundled_thank_you_and_reminders_get_none(
        tmp_path: Path) -> None:
    """A Thunderbird export: an untitled meeting with Jane (who never answered the invitation),
    a weekly bin-collection reminder marked free with her as attendee, and an all-day trade fair.
    The bundled thank-you.md makes one note for the untitled meeting, without a title and
    without failing; the reminder and the all-day entry make none."""
    root = write_folder(tmp_path / "book", [JANE], [dict(THANKS, template="thank-you.md")],
                        {"thank-you.md": (REPO_TEMPLATES / "thank-you.md").read_text(),
                         "_signature.md": (REPO_TEMPLATES / "_signature.md").read_text()},
                        sender={"name": "Alex Rivera", "email": ME},
                        meetings={"sources": [str(DATA / "calendars" / "thunderbird.ics")]})
    assert CliRunner().invoke(main, ["-C", str(root), "check"]).exit_code == 0
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", "2026-11-20", "-v"])
    assert result.exit_code == 0, result.output
    (draft,) = (root / "drafts").glob("*.eml")
    text = draft.read_text()
    assert "Thank you for your time on Thursday, November 19." in text
    assert "untitled meeting on Thu 19 Nov" in result.stdout
    assert draft.name.startswith("thank-you--jane-doe--2026-11-19-meeting-")


def test_check_renders_meeting_and_article_templates_with_what_sources_may_lack(
        tmp_path: Path) -> None:
    """With no meeting in the calendar and no article in the library, check still renders the
    after_meeting template with a meeting that has no title, description or location, and the
    content template with a feed article (no note): an unguarded {{ meeting.title }} or
    {{ article.note }} is one line each (not one per contact), naming the template's line."""
    note = "---\nsubject: Thanks\n---\nHi {{ contact.first }},\n\nThanks for {{ meeting.title }}.\n"
    share = ("---\nsubject: For you\n---\nHi {{ contact.first }},\n\n{{ article.title }}\n\n"
             "{{ article.note }}\n")
    people = [dict(JANE, profile={"interests": ["fleet"]}), dict(BOB, profile={"interests": ["fleet"]})]
    root = write_folder(tmp_path / "book", people,
                        [THANKS, campaign_data("share", {"kind": "content"}, template="share.md")],
                        {"note.md": note, "share.md": share}, sender={"name": "Alex Rivera", "email": ME})
    result = CliRunner().invoke(main, ["-C", str(root), "check", "--date", "2026-11-21"])
    assert result.exit_code == 2
    fix = ("give an explicit fallback, e.g. {{ contact.nickname or contact.first }} or "
           "{{ value | fallback('friend') }}")
    assert result.stderr.splitlines() == [
        "templates/note.md:6: thank-you/jane-doe/2026-11-20-meeting-68b4e6: a value in {{ }} is "
        "None (missing) for this contact (contact jane-doe at contacts.yaml:2, with a meeting "
        f"without a title, description or location; the same for 1 other contact); {fix}",
        "templates/share.md:8: share/jane-doe/news.example-sample-feed-item-70e6d2: a value in "
        "{{ }} is None (missing) for this contact (contact jane-doe at contacts.yaml:2, with a "
        f"feed article, which has no note; the same for 1 other contact); {fix}",
    ]


def test_an_unreachable_calendar_is_a_warning_not_a_failed_night(tmp_path: Path) -> None:
    """A calendar that does not answer: one warning line, exit 0, the rest of the night goes on."""
    root = folder(tmp_path, "http://127.0.0.1:9/basic.ics",
                  [THANKS, campaign_data("birthday", template="plain.md")])
    contacts = yaml.safe_load((root / "contacts.yaml").read_text())
    contacts["contacts"][0]["dates"] = {"birthday": "--11-22"}
    (root / "contacts.yaml").write_text(yaml.safe_dump(contacts))
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", "2026-11-22"])
    assert result.exit_code == 0
    assert result.stderr.startswith("warning: http://127.0.0.1:9/basic.ics: unreachable")
    assert len(list((root / "drafts").glob("*.eml"))) == 1


# --------------------------------------------------------------------------- articles


def article_folder(tmp_path: Path, articles: list[dict[str, Any]]) -> Path:
    people = [contact_data("jane-doe", profile={"interests": ["electric trucks"]}),
              contact_data("bob-smith", profile={"hobbies": ["sailing"]}),
              contact_data("carl-ng", profile={"interests": ["opera"]})]
    camp = campaign_data("share", {"kind": "content", "every_days": 30, "max_age_days": 400})
    root = write_folder(tmp_path / "book", people, [camp])
    (root / "articles.yaml").write_text(yaml.safe_dump({"articles": articles}))
    return root


def test_an_article_is_never_shared_twice_with_one_person_over_a_year(tmp_path: Path) -> None:
    """Three matching articles and a monthly cadence, every night for a year: each person gets each
    matching article at most once, at most one a month, freshest first."""
    articles = [{"url": f"https://news.example/trucks/{n}", "title": f"Trucks {n}",
                 "tags": ["electric trucks"], "date": f"2026-0{n}-01"} for n in (1, 2, 3)]
    articles.append({"url": "https://news.example/boats", "title": "Boats", "tags": ["sailing"],
                     "date": "2026-02-01"})
    root = article_folder(tmp_path, articles)
    for n in range(365):
        day = (D("2026-03-15") + dt.timedelta(days=n)).isoformat()
        result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", day])
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (root / "drafts").glob("*.eml"))
    jane = [n for n in names if "--jane-doe--" in n]
    bob = [n for n in names if "--bob-smith--" in n]
    assert len(jane) == 3 and len(set(jane)) == 3
    assert len(bob) == 1
    assert not [n for n in names if "--carl-ng--" in n]
    from outreach.ledger import Ledger

    ledger = Ledger.open(root / ".outreach" / "state.db")
    days = sorted(D(r.made_on) for r in ledger.rows("drafted") if r.contact == "jane-doe")
    first = next(r for r in ledger.rows("drafted") if r.contact == "jane-doe"
                 and D(r.made_on) == days[0])
    ledger.close()
    assert all((b - a).days >= 30 for a, b in itertools.pairwise(days))
    assert "trucks-3" in first.key  # the freshest first


def test_plan_reports_articles_for_nobody_and_people_without_a_match(tmp_path: Path) -> None:
    """plan says which article matches nobody and who has nothing to read."""
    root = article_folder(tmp_path, [
        {"url": "https://news.example/trucks", "title": "Trucks", "tags": ["electric trucks"]},
        {"url": "https://news.example/golf", "title": "Golf", "tags": ["golf"]}])
    result = CliRunner().invoke(main, ["-C", str(root), "plan", "--date", "2026-11-22"])
    assert "  no draft: share/carl-ng: no unshared article matches their interests" in result.stdout
    assert "  note: article 'Golf' (golf) matches nobody" in result.stdout


def test_an_article_without_url_is_skipped_with_a_warning_and_the_rest_goes_on(tmp_path: Path) -> None:
    """A bad entry in articles.yaml: check says where (exit 2); run warns and shares the others."""
    root = article_folder(tmp_path, [
        {"title": "No link", "tags": ["electric trucks"]},
        {"url": "https://news.example/trucks", "title": "Trucks", "tags": ["electric trucks"]}])
    result = CliRunner().invoke(main, ["-C", str(root), "check"])
    assert result.exit_code == 2
    assert result.stderr.startswith("articles.yaml:2: articles[0].url: required key 'url' is missing")
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", "2026-11-22"])
    assert result.exit_code == 0
    assert "articles.yaml:2: articles[0].url: required key 'url' is missing; add 'url:'; the " \
           "article was skipped" in result.stderr
    assert len(list((root / "drafts").glob("share--jane-doe--*.eml"))) == 1


def test_check_lists_article_problems_with_the_contacts_problems(tmp_path: Path) -> None:
    """A broken contact and a broken article: check lists both, each once."""
    root = article_folder(tmp_path, [{"title": "No link", "tags": ["electric trucks"]}])
    contacts = yaml.safe_load((root / "contacts.yaml").read_text())
    contacts["contacts"][0]["email"] = {"work": "jane@"}
    (root / "contacts.yaml").write_text(yaml.safe_dump(contacts, sort_keys=False))
    result = CliRunner().invoke(main, ["-C", str(root), "check"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("contacts.yaml:") and "'jane@' is not an email address" in lines[0]
    assert lines[1].startswith("articles.yaml:2: articles[0].url: required key 'url' is missing")


# --------------------------------------------------------------------------- outreach log


def test_log_appends_and_resets_keep_in_touch(tmp_path: Path) -> None:
    """`outreach log` appends one line to interactions.yaml, never touching contacts.yaml; the
    planner counts it as a touch."""
    kit = campaign_data("kit", {"kind": "interval", "days": 45})
    root = write_folder(tmp_path / "book", [JANE], [kit])
    contacts_before = (root / "contacts.yaml").read_bytes()
    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(root), "log", "jane-doe", "--call",
                                  "Talked about the renewal: cover, limits", "--date", "2026-11-10"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["-C", str(root), "log", "jane-doe", "--note", "Likes café Zoë",
                                  "--date", "2026-11-12"])
    assert (root / "contacts.yaml").read_bytes() == contacts_before
    lines = (root / "interactions.yaml").read_text().splitlines()
    assert lines[2:] == [
        "- {contact: jane-doe, date: 2026-11-10, kind: call, summary: 'Talked about the renewal: "
        "cover, limits'}",
        "- {contact: jane-doe, date: 2026-11-12, kind: note, summary: Likes café Zoë}"]
    _, plans = commands.plan(root, today=D("2026-11-22"))
    assert plans[0].touches == ()
    assert [t.key for t in commands.plan(root, today=D("2026-12-27"))[1][0].touches] == [
        "kit/jane-doe/2026-12-27"]


def test_log_refuses_an_unknown_contact_and_two_kinds(tmp_path: Path) -> None:
    """A typo in the contact id or two kinds at once: one line, exit 2, nothing written."""
    root = write_folder(tmp_path / "book", [JANE], [campaign_data()])
    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(root), "log", "jane-do", "--call", "x"])
    assert (result.exit_code, result.stderr) == (2, "no contact has the id 'jane-do'; did you mean "
                                                     "'jane-doe'?\n")
    result = runner.invoke(main, ["-C", str(root), "log", "jane-doe", "--call", "x", "--note", "y"])
    assert result.exit_code == 2
    assert not (root / "interactions.yaml").exists()


def test_log_writes_only_what_the_next_run_accepts(tmp_path: Path) -> None:
    """An empty note is refused (exit 2, nothing written); a file edited by hand that does not
    end with a line break gets the entry on a line of its own; the next run still checks."""
    root = write_folder(tmp_path / "book", [JANE], [campaign_data()])
    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(root), "log", "jane-doe", "--call", "   "])
    assert (result.exit_code, result.stderr) == (
        2, "the note is empty; say what it was about, e.g. --call 'talked about the renewal'\n")
    assert not (root / "interactions.yaml").exists()
    (root / "interactions.yaml").write_text("- {contact: jane-doe, date: 2026-11-10, kind: call}")
    result = runner.invoke(main, ["-C", str(root), "log", "jane-doe", "--visit", "lunch",
                                  "--date", "2026-11-12"])
    assert result.exit_code == 0, result.output
    assert (root / "interactions.yaml").read_text().splitlines() == [
        "- {contact: jane-doe, date: 2026-11-10, kind: call}",
        "- {contact: jane-doe, date: 2026-11-12, kind: visit, summary: lunch}"]
    assert runner.invoke(main, ["-C", str(root), "check"]).exit_code == 0


def test_a_broken_interactions_file_is_reported_with_its_line(tmp_path: Path) -> None:
    """Hand edits to interactions.yaml are validated like everything else."""
    root = write_folder(tmp_path / "book", [JANE], [campaign_data()])
    (root / "interactions.yaml").write_text(
        "- {contact: jane-doe, date: 2026-11-10, kind: call}\n"
        "- {contact: jane-dough, date: 2026-11-11, kind: call}\n"
        "- {contact: jane-doe, date: 2026-02-30, kind: call}\n")
    result = CliRunner().invoke(main, ["-C", str(root), "check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "interactions.yaml:2: [1].contact: no contact has the id 'jane-dough'; did you mean 'jane-doe'?",
        "interactions.yaml:3: [2].date: '2026-02-30' is not a valid date; write a real calendar date "
        "as YYYY-MM-DD",
    ]
