"""Rendering and messages: sandboxed strict templates, front matter, Markdown, MIME."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest
from factories import book, campaign, contact

from outreach import render
from outreach.errors import RenderError
from outreach.message import compose, message_id
from outreach.model import History, PartialDate
from outreach.planner import plan

TODAY = dt.date(2026, 4, 12)


def templates(tmp_path: Path, **files: str) -> render.Environment:
    (tmp_path / "templates").mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp_path / "templates" / f"{name}.md").write_text(text, encoding="utf-8")
    return render.environment(tmp_path / "templates", tmp_path)


def draft_for(tmp_path: Path, text: str, **contact_fields: object):
    """Compose the birthday draft of one contact (birthday today) with template ``text``."""
    env = templates(tmp_path, note=text)
    fields = {"dates": {"birthday": "1985-04-12"}, **contact_fields}
    b = book([contact("jane-doe", **fields)], [campaign()], root=tmp_path)
    touch = plan(b, History(), today=TODAY).touches[0]
    return compose(b, env, touch, TODAY)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (101, "101st"),
        (111, "111th"),
    ],
)
def test_ordinal(n: int, text: str) -> None:
    """Ordinals read as people write them."""
    assert render.ordinal(n) == text


def test_possessive() -> None:
    """Names ending in s take a bare apostrophe."""
    assert render.possessive("Jane") == "Jane's"
    assert render.possessive("James") == "James'"


def test_friendly_dates() -> None:
    """Dates read as words; a year-less date has no weekday."""
    assert render.friendly_date(dt.date(2026, 4, 12)) == "Sunday, April 12"
    assert render.friendly_date(dt.date(2026, 4, 12), "short") == "April 12"
    assert render.friendly_date(dt.date(2026, 4, 12), "day-first") == "12 April"
    assert render.friendly_date(PartialDate(4, 12)) == "April 12"


def test_join_and_and_fallback() -> None:
    """Lists read as prose; fallback replaces missing and empty values."""
    assert render.join_and(["golf", "wine", "the Cubs"]) == "golf, wine and the Cubs"
    assert render.join_and(["golf"]) == "golf"
    assert render.fallback(None, "friend") == "friend"
    assert render.fallback("", "friend") == "friend"
    assert render.fallback("Jo", "friend") == "Jo"


def test_a_draft_has_plain_text_first_then_html(tmp_path: Path) -> None:
    """The Markdown body becomes multipart/alternative: text/plain first, HTML second."""
    d = draft_for(
        tmp_path,
        "---\nsubject: Happy birthday, {{ contact.greet }}!\n---\n"
        "Hi {{ contact.greet }},\n\nHave a **great** day.\n",
    )
    msg = email.message_from_bytes(d.message.as_bytes(), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().replace("\r\n", "\n") == "Hi Jane,\n\nHave a **great** day.\n"
    assert "<strong>great</strong>" in parts[1].get_content()
    assert msg["Subject"] == "Happy birthday, Jane!"


def test_non_ascii_names_and_subjects_round_trip(tmp_path: Path) -> None:
    """Names and subjects outside ASCII are encoded (RFC 2047) and decode back exactly."""
    d = draft_for(
        tmp_path,
        "---\nsubject: Alles Gute, {{ contact.first }}!\n---\nLiebe {{ contact.first }},\n",
        name={"first": "Zoë", "last": "Łukasiewicz"},
    )
    raw = d.message.as_bytes()
    assert b"Zo\xc3\xab" not in raw.split(b"\r\n\r\n")[0]  # headers are 7-bit
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Alles Gute, Zoë!"
    assert msg["To"].addresses[0].display_name == "Zoë Łukasiewicz"


def test_message_id_is_derived_from_the_touch_key(tmp_path: Path) -> None:
    """The same key gives the same Message-ID (and the same bytes) on every run."""
    text = "---\nsubject: Hi\n---\nHi {{ contact.first }},\n"
    a = draft_for(tmp_path, text)
    b = draft_for(tmp_path, text)
    assert (
        a.message_id == b.message_id == message_id("birthday/jane-doe/2026", "alex@rivera.example")
    )
    assert a.message["Message-ID"] == a.message_id
    assert a.message.as_bytes() == b.message.as_bytes()
    assert message_id("birthday/jane-doe/2027", "alex@rivera.example") != a.message_id


def test_front_matter_cc_bcc_reply_to(tmp_path: Path) -> None:
    """cc, bcc and reply_to in the front matter become headers."""
    d = draft_for(
        tmp_path,
        "---\nsubject: Hi\ncc: Pat <pat@acme.example>\nbcc: crm@rivera.example\n"
        "reply_to: alex.personal@rivera.example\n---\nHi {{ contact.first }},\n",
    )
    assert str(d.message["Cc"]) == "Pat <pat@acme.example>"
    assert str(d.message["Bcc"]) == "crm@rivera.example"
    assert str(d.message["Reply-To"]) == "alex.personal@rivera.example"


def test_missing_value_is_an_error_not_an_empty_greeting(tmp_path: Path) -> None:
    """{{ contact.nickname }} for a contact without one fails; it never renders 'Hi ,' or 'None'."""
    with pytest.raises(RenderError) as exc:
        draft_for(tmp_path, "---\nsubject: Hi\n---\nHi {{ contact.nickname }},\n")
    assert exc.value.line == 4
    assert exc.value.message == "a value in {{ }} is None (missing) for this contact"


def test_explicit_fallbacks_work(tmp_path: Path) -> None:
    """`or` and `| fallback` are the way to say what to use when a value is missing."""
    d = draft_for(
        tmp_path,
        "---\nsubject: Hi {{ contact.nickname or contact.first }}\n---\n"
        "Hi {{ contact.nickname | fallback(contact.first) }},\n",
    )
    assert d.subject == "Hi Jane"
    assert "Hi Jane," in d.message.get_body(("plain",)).get_content()


def test_empty_greeting_is_caught_even_from_literal_text(tmp_path: Path) -> None:
    """A greeting with no name ('Dear ,') is refused whatever produced it."""
    with pytest.raises(RenderError, match="names nobody"):
        draft_for(tmp_path, "---\nsubject: Hi\n---\nDear ,\n\nHow are you?\n")


def test_unknown_variables_are_errors(tmp_path: Path) -> None:
    """StrictUndefined: a misspelt name fails with the template's line."""
    with pytest.raises(RenderError) as exc:
        draft_for(tmp_path, "---\nsubject: Hi\n---\nHello\n\n{{ contact.frist }}\n")
    assert exc.value.line == 6
    assert "unknown variable 'frist'" in exc.value.message


def test_the_sandbox_refuses_unsafe_access(tmp_path: Path) -> None:
    """Templates run in Jinja's sandbox: no reaching into Python internals."""
    with pytest.raises(RenderError, match=r"not allowed in the sandbox|unknown variable"):
        draft_for(
            tmp_path, "---\nsubject: Hi\n---\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n"
        )


def test_contact_data_is_never_evaluated_as_a_template(tmp_path: Path) -> None:
    """A note holding template syntax stays text: it is not run, and the draft is refused."""
    with pytest.raises(RenderError, match="still holds"):
        draft_for(
            tmp_path,
            "---\nsubject: Hi\n---\nHi {{ contact.first }}, {{ contact.notes }}\n",
            notes="{{ sender.email }}",
        )


def test_line_breaks_in_front_matter_addresses_are_refused(tmp_path: Path) -> None:
    """A rendered header value never carries CR/LF (no header injection)."""
    with pytest.raises(RenderError, match="the rendered cc holds a line break"):
        draft_for(
            tmp_path,
            '---\nsubject: Hi\ncc: "a@b.example\\r\\nBcc: x@y.example"\n---\nHi {{ contact.first }},\n',
        )


def test_years_and_possessive_in_a_note(tmp_path: Path) -> None:
    """The occasion carries the age when the birth year is known."""
    d = draft_for(
        tmp_path,
        "---\nsubject: Hi\n---\nHi {{ contact.first }}, happy {{ occasion.years | ordinal }}!\n",
    )
    assert "happy 41st!" in d.message.get_body(("plain",)).get_content()
