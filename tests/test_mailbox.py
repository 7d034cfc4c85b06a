"""Mailbox awareness, the rules: what a message's headers say (sources/mailbox.py), who it is an
interaction of, and what that does to the plan (holds, keep-in-touch, last_touch)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from factories import book, campaign, contact
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach import exchanges, mailwatch
from outreach.drafts import MAIL_HEADER_MAX, Fetched, MailRead
from outreach.model import History, Interaction
from outreach.planner import plan
from outreach.sources import mailbox

TZ = ZoneInfo("America/Chicago")
TODAY = dt.date(2026, 12, 1)
RECEIVED = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)


def fetched(*lines: str, folder: str = "inbox", received: dt.datetime | None = RECEIVED,
            raw: bytes | None = None) -> Fetched:
    block = raw if raw is not None else ("\r\n".join(lines) + "\r\n\r\n").encode()
    return Fetched(folder, block, received)


MAIL = ("From: Jane Doe <Jane-Doe@Acme.example>", "To: alex@rivera.example",
        "Date: Mon, 30 Nov 2026 09:00:00 -0600", "Message-ID: <j1@acme.example>")


def test_a_header_block_is_read() -> None:
    """Senders and recipients in lower case, the day in the user's time zone, the Message-ID and
    the references without brackets."""
    h = mailbox.read_header(fetched(
        *MAIL, "Cc: Bob <BOB-ROE@acme.example>, sam@x.example",
        "In-Reply-To: <n1@rivera.example>", "References: <n0@rivera.example> <n1@rivera.example>"),
        TZ)
    assert h is not None
    assert h.senders == ("jane-doe@acme.example",)
    assert h.recipients == ("alex@rivera.example", "bob-roe@acme.example", "sam@x.example")
    assert h.day == dt.date(2026, 11, 30) and h.message_id == "j1@acme.example"
    assert h.refs == ("n1@rivera.example", "n0@rivera.example") and not h.bulk


def test_encoded_and_eight_bit_names_do_not_hide_the_address() -> None:
    """=?utf-8?q?...?= names, raw UTF-8 and Latin-1 bytes in a name: the address is read."""
    for name in (b"=?utf-8?q?J=C3=B6rg_M=C3=BCller?=", "Jörg Müller".encode(), b"J\xf6rg"):
        raw = b"From: " + name + b" <jorg@acme.example>\r\nDate: Mon, 30 Nov 2026 09:00:00 +0000\r\n\r\n"
        h = mailbox.read_header(fetched(raw=raw), TZ)
        assert h is not None and h.senders == ("jorg@acme.example",)


def test_a_missing_broken_or_future_date_gives_way_to_the_mailbox_date() -> None:
    """No Date, a Date that cannot be read, a Date days after the mailbox got the message: the
    mailbox's date (30 Nov, 10:00 in Chicago); no day at all: the message is left out."""
    for date in ([], ["Date: yesterday-ish"], ["Date: Fri, 01 Jan 2099 00:00:00 +0000"],
                 ["Date: Mon, 99 Foo 2026 99:99:99 +9999"]):
        h = mailbox.read_header(fetched(MAIL[0], *date), TZ)
        assert h is not None and h.day == dt.date(2026, 11, 30), date
    assert mailbox.read_header(fetched(MAIL[0], received=None), TZ) is None
    assert mailbox.read_header(fetched("To: alex@rivera.example", "Subject: no sender"), TZ) is None


def test_a_message_without_message_id_gets_a_stable_one() -> None:
    """The same headers give the same id twice (reading again keeps it once); others another."""
    a = mailbox.read_header(fetched(*MAIL[:3]), TZ)
    b = mailbox.read_header(fetched(*MAIL[:3]), TZ)
    c = mailbox.read_header(fetched(*MAIL[:2], "Date: Tue, 01 Dec 2026 09:00:00 -0600"), TZ)
    assert a and b and c and a.message_id == b.message_id != c.message_id


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_are_read_or_left_out(raw: bytes) -> None:
    """Whatever a stranger's headers hold, reading them returns a Header or None, never raises,
    and names no more addresses than the limit."""
    h = mailbox.read_header(fetched(raw=b"From: a@b.example\r\n" + raw), TZ)
    assert h is None or len(h.recipients) <= mailbox.MAX_ADDRESSES


def test_huge_headers_are_bounded() -> None:
    """A To of 20,000 addresses and a References of 5,000 ids: the block is cut, the counts are
    bounded."""
    to = ", ".join(f"p{i}@x.example" for i in range(20000))
    refs = " ".join(f"<r{i}@x.example>" for i in range(5000))
    h = mailbox.read_header(fetched(MAIL[0], MAIL[2], f"References: {refs}", f"To: {to}"), TZ)
    assert h is not None
    assert len(h.recipients) <= mailbox.MAX_ADDRESSES and len(h.refs) <= mailbox.MAX_REFS
    assert len(fetched(f"To: {to}").headers) > MAIL_HEADER_MAX


PEOPLE = [contact("jane-doe"), contact("bob-roe", email={"work": "bob-roe@acme.example",
                                                         "personal": "bob@home.example"})]


def found(*blocks: Fetched, today: dt.date = TODAY) -> list[tuple[str, bool, dt.date]]:
    b = book(PEOPLE, [campaign()])
    headers = [h for f in blocks if (h := mailbox.read_header(f, TZ)) is not None]
    return [(e.contact, e.inbound, e.day) for e in mailbox.exchanges(b, headers, today)]


def test_who_a_message_is_an_interaction_of() -> None:
    """From a contact: theirs, inbound. From us to a contact (any of their addresses): theirs,
    outbound. A stranger writing to us and a contact: the contact's, outbound."""
    nov30 = dt.date(2026, 11, 30)
    assert found(fetched(*MAIL)) == [("jane-doe", True, nov30)]
    assert found(fetched("From: alex@rivera.example", "To: Bob <bob@home.example>", MAIL[2],
                         folder="sent")) == [("bob-roe", False, nov30)]
    assert found(fetched("From: stranger@x.example", "To: alex@rivera.example",
                         "Cc: jane-doe@acme.example", MAIL[2])) == [("jane-doe", False, nov30)]


def test_what_is_no_interaction() -> None:
    """Mail among our own addresses, mailing lists (List-Id, Precedence bulk/list/junk),
    automatic replies (Auto-Submitted), and mail with nobody of the book in it."""
    assert found(fetched("From: alex@rivera.example", "To: alex@rivera.example", MAIL[2])) == []
    for extra in ("List-Id: <news.acme.example>", "Precedence: bulk", "Precedence: list",
                  "Precedence: junk", "Auto-Submitted: auto-replied"):
        assert found(fetched(*MAIL, extra)) == [], extra
    assert found(fetched(*MAIL, "Auto-Submitted: no")) != []
    assert found(fetched("From: x@y.example", "To: alex@rivera.example", MAIL[2])) == []


def test_no_interaction_is_dated_after_the_night() -> None:
    """A message dated after the night it is read on counts on that night."""
    assert found(fetched(*MAIL), today=dt.date(2026, 11, 29)) == [
        ("jane-doe", True, dt.date(2026, 11, 29))]


class Reader:
    """A store that reads the given messages (what read_mail returns)."""

    def __init__(self, *messages: Fetched) -> None:
        self.messages = list(messages)

    def read_mail(self, marks: dict[str, str], since: dt.date) -> MailRead:
        return MailRead(self.messages, {"inbox": "1:9"})


def gathered(*messages: Fetched, notes: list[tuple[str, str, str | None, str | None]] = (),
             campaigns: list = ()) -> mailwatch.MailFacts:  # type: ignore[assignment, type-arg]
    b = book(PEOPLE, list(campaigns) or [campaign()])
    return mailwatch.gather(b, Reader(*messages), {}, lambda ids, threads: list(notes), TODAY)  # type: ignore[arg-type]


def test_a_reply_to_a_sequence_note_stops_the_sequence() -> None:
    """A message from the contact whose References name a note of a sequence stops that
    sequence (its first note's key); from someone else, or naming no note, it does not."""
    seq = campaign("intro", {"kind": "interval", "days": 90},
                   steps=[{"template": "note.md", "after": 4}])
    note = ("intro/jane-doe/2026-11-20", "jane-doe", "n1@rivera.example", None)
    step2 = ("intro/jane-doe/2026-11-20/step-2", "jane-doe", "n2@rivera.example", None)
    reply = fetched(*MAIL, "In-Reply-To: <n2@rivera.example>")
    facts = gathered(reply, notes=[note, step2], campaigns=[seq])
    assert facts.replies == [("intro/jane-doe/2026-11-20", "jane-doe", dt.date(2026, 11, 30))]
    other = fetched("From: bob-roe@acme.example", *MAIL[1:], "In-Reply-To: <n2@rivera.example>")
    assert gathered(other, notes=[note, step2], campaigns=[seq]).replies == []
    assert gathered(fetched(*MAIL), notes=[note], campaigns=[seq]).replies == []


def test_our_draft_in_the_sent_folder_is_recorded_sent() -> None:
    """A sent message whose Message-ID is a draft's: that draft was sent (and it counts as a
    touch of the person it went to)."""
    sent = fetched("From: alex@rivera.example", "To: jane-doe@acme.example", MAIL[2],
                   "Message-ID: <n1@rivera.example>", folder="sent")
    facts = gathered(sent, notes=[("birthday/jane-doe/2026", "jane-doe", "n1@rivera.example", None)])
    assert facts.sent == [("birthday/jane-doe/2026", dt.date(2026, 11, 30))]
    assert [(s.contact, s.summary, s.inbound) for s in facts.seen] == [
        ("jane-doe", "email to Jane", False)]


def mail_history(contact_id: str, day: dt.date, inbound: bool = True) -> History:
    summary = f"email {'from' if inbound else 'to'} {contact_id.split('-')[0].capitalize()}"
    return History(
        seen={contact_id: (Interaction.model_construct(date=day, kind="email", summary=summary),)},
        seen_sources={(contact_id, day, summary): "mailbox"},
        heard={contact_id: (day,)} if inbound else None,
    )


QUARTERLY = campaign("quarterly", {"kind": "schedule", "months": [3, 6, 9, 12], "day": 1},
                     priority=40, catch_up_days=14)


def test_a_message_from_a_contact_holds_routine_notes() -> None:
    """After Jane wrote on 30 Nov, her quarterly update (priority 40) waits hold_days (3), with
    the reason; Bob's goes; a thank-you-like priority of 80 is not held."""
    b = book(PEOPLE, [QUARTERLY])
    p = plan(b, mail_history("jane-doe", dt.date(2026, 11, 30)), today=TODAY)
    assert [t.contact_id for t in p.touches] == ["bob-roe"]
    assert [d.touch.contact_id for d in p.deferred] == ["jane-doe"]
    assert "held: they wrote on Mon 30 Nov" in p.deferred[0].why and "Thu 03 Dec" in p.deferred[0].why
    urgent = campaign("quarterly", QUARTERLY.trigger.model_dump(), priority=80, catch_up_days=14)
    p = plan(book(PEOPLE, [urgent]), mail_history("jane-doe", dt.date(2026, 11, 30)), today=TODAY)
    assert sorted(t.contact_id for t in p.touches) == ["bob-roe", "jane-doe"]


def test_the_hold_ends_and_never_outlasts_a_notes_last_day() -> None:
    """Three days after her message the note goes; a note whose last day comes before the hold
    ends is not held (a greeting is never lost to a hold); mail to her holds nothing."""
    b = book(PEOPLE, [QUARTERLY])
    assert len(plan(b, mail_history("jane-doe", dt.date(2026, 11, 28)), today=TODAY).touches) == 2
    birthday = campaign(priority=50)
    people = [contact("jane-doe", dates={"birthday": "--12-01"})]
    p = plan(book(people, [birthday]), mail_history("jane-doe", dt.date(2026, 11, 30)), today=TODAY)
    assert [t.contact_id for t in p.touches] == ["jane-doe"]
    p = plan(b, mail_history("jane-doe", dt.date(2026, 11, 30), inbound=False), today=TODAY)
    assert len(p.touches) == 2


def test_mail_resets_keep_in_touch_with_the_reason() -> None:
    """Keep in touch every 45 days, last call 1 Oct: Bob is due; Jane, who wrote on 30 Nov, is
    not, and the plan says why (last exchange Mon 30 Nov, email from Jane)."""
    called = [{"date": "2026-10-01", "kind": "call"}]
    people = [contact("jane-doe", interactions=called), contact("bob-roe", interactions=called)]
    b = book(people, [campaign("keep-in-touch", {"kind": "interval", "days": 45})])
    p = plan(b, mail_history("jane-doe", dt.date(2026, 11, 30)), today=TODAY)
    assert [t.contact_id for t in p.touches] == ["bob-roe"]
    assert [(s.contact_id, s.why) for s in p.skipped] == [
        ("jane-doe", "not due: last exchange Mon 30 Nov, email from Jane (mailbox)")]


def test_last_touch_says_when_what_and_where_from() -> None:
    """The latest of a draft (ledger), a logged call (contacts) and mail (mailbox), with its
    source; on one day mail wins."""
    jane = contact("jane-doe", interactions=[{"date": "2026-11-30", "kind": "call"}])
    h = mail_history("jane-doe", dt.date(2026, 11, 30))
    last = exchanges.last_touch(jane, h, TODAY)
    assert last is not None and last.as_json() == {
        "date": "2026-11-30", "kind": "email", "source": "mailbox", "summary": "email from Jane"}
    h = History(touched={"jane-doe": (dt.date(2026, 12, 1),)})
    assert exchanges.last_touch(jane, h, TODAY) == exchanges.LastTouch(TODAY, "draft", "draft")
    assert exchanges.last_touch(contact("bob-roe"), History(), TODAY) is None
