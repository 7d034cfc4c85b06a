"""Address headers hold exactly the addresses the template wrote, whatever the data holds (issue 9):
contact data never adds a recipient to To, Cc, Bcc or Reply-To, domains outside ASCII are IDNA,
and names or subjects that look like encoded words stay text."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import book, campaign, campaign_data, contact, write_folder
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from outreach import addresses, render
from outreach.cli import main
from outreach.errors import RenderError
from outreach.message import Draft, compose
from outreach.model import History
from outreach.planner import plan

TODAY = dt.date(2026, 4, 12)
# the README's own example front matter
README_CC = (
    '---\nsubject: Hi\ncc: "{{ contact.spouse.name }} <{{ contact.email.personal }}>"\n---\n'
    "Hi {{ contact.first }},\n"
)
EVE = "Eve <eve@attacker.example>, Sam"
DATA = Path(__file__).parent / "data" / "hostile-templates"


def draft_for(
    tmp_path: Path, text: str, sender: dict[str, str] | None = None, **fields: Any
) -> Draft:
    """Compose the birthday draft (birthday today) of Jane Doe, work jane@acme.example and
    personal jane@home.example unless ``fields`` say otherwise, with template ``text``."""
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "note.md").write_text(text, encoding="utf-8")
    env = render.environment(tmp_path / "templates", tmp_path)
    data: dict[str, Any] = {
        "dates": {"birthday": "1985-04-12"},
        "email": {"work": "jane@acme.example", "personal": "jane@home.example"},
        **fields,
    }
    extra = {"sender": sender} if sender else {}
    b = book([contact("jane-doe", **data)], [campaign()], root=tmp_path, **extra)
    touch = plan(b, History(), today=TODAY).touches[0]
    return compose(b, env, touch, TODAY)


def render_with(tmp_path: Path, text: str, **context: object) -> render.Rendered:
    """Render one template with a plain context (no contact model: any value goes)."""
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "t.md").write_text(text, encoding="utf-8")
    return render.render(render.environment(tmp_path / "templates", tmp_path), "t.md", context)


def read_back(message: EmailMessage) -> EmailMessage:
    """The draft as a mail client reads its bytes."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def header_lines(message: EmailMessage) -> list[str]:
    return message.as_bytes().split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")


def recipients(data: bytes | EmailMessage, header: str) -> list[tuple[str, str]]:
    """(name, address) of every address in a header, as a reader that follows RFC 2047 reads
    the bytes: the addresses first, then the names decoded (the whitespace between two encoded
    words is no part of the name; Python's own header parser keeps it)."""
    if isinstance(data, EmailMessage):
        data = data.as_bytes()
    raw = email.message_from_bytes(data, policy=email.policy.compat32)
    return [
        (str(make_header(decode_header(name))), addr)
        for name, addr in getaddresses(raw.get_all(header, []))
    ]


def parsed_addresses(data: bytes | EmailMessage, header: str) -> list[str]:
    """The addresses the email package of today finds in a header."""
    if isinstance(data, EmailMessage):
        data = data.as_bytes()
    value = email.message_from_bytes(data, policy=email.policy.default)[header]
    return [] if value is None else [a.addr_spec for a in value.addresses]


# --------------------------------------------------------------------------- contact data


def test_a_spouse_name_holding_an_address_adds_no_recipient(tmp_path: Path) -> None:
    """With the README's front matter, a spouse called 'Eve <eve@attacker.example>, Sam' is a
    display name: the Cc holds the one personal address, for old readers and new alike."""
    d = draft_for(tmp_path, README_CC, family={"spouse": {"name": EVE}})
    assert 'Cc: "Eve <eve@attacker.example>, Sam" <jane@home.example>' in header_lines(d.message)
    assert recipients(d.message, "Cc") == [(EVE, "jane@home.example")]
    assert parsed_addresses(d.message, "Cc") == ["jane@home.example"]


@pytest.mark.parametrize(("key", "header"), [("bcc", "Bcc"), ("reply_to", "Reply-To")])
def test_bcc_and_reply_to_hold_only_what_the_template_wrote(
    tmp_path: Path, key: str, header: str
) -> None:
    """A Bcc (where an extra recipient would be hidden) and a Reply-To are built the same way."""
    d = draft_for(
        tmp_path,
        f'---\nsubject: Hi\n{key}: "{{{{ contact.spouse.name }}}} <crm@rivera.example>"\n---\n'
        "Hi {{ contact.first }},\n",
        family={"spouse": {"name": EVE}},
    )
    assert recipients(d.message, header) == [(EVE, "crm@rivera.example")]
    assert parsed_addresses(d.message, header) == ["crm@rivera.example"]
    assert recipients(d.message, "Cc") == []


@pytest.mark.parametrize(
    "name",
    [
        "Doe, Jane",
        "Jo <jo",
        "Jo> Doe",
        'Jo "JJ" Doe',
        "eve@attacker.example",
        "Eve; Bcc: eve@attacker.example",
        "Eve (eve@attacker.example)",
        "a\\b",
        "=?utf-8?q?Eve_=3Ceve=40attacker=2Eexample=3E=2C_Sam?=",
        "=?utf-8?b?RXZlIDxldmVAYXR0YWNrZXIuZXhhbXBsZT4=?=",
        "Zoë <zoe@attacker.example>",
        "x" * 300,
    ],
)
def test_any_name_is_only_a_name(tmp_path: Path, name: str) -> None:
    """Commas, angle brackets, quotes, '@', ';', parentheses, backslashes, encoded words and very
    long names in the data: the Cc holds one address, its name reads back exactly, and every
    header line is at most 78 characters."""
    d = draft_for(tmp_path, README_CC, family={"spouse": {"name": name}})
    assert recipients(d.message, "Cc") == [(name, "jane@home.example")]
    assert parsed_addresses(d.message, "Cc") == ["jane@home.example"]
    assert all(len(line) <= 78 for line in header_lines(d.message))


@pytest.mark.parametrize(
    ("char", "what"),
    [("\n", "a line break (U+000A)"), ("\u2028", "a line break (U+2028)"),
     ("\x85", "a line break (U+0085)"), ("\x0b", "a line break (U+000B)"),
     ("\x1e", "a line break (U+001E)"), ("\x07", "a control character (U+0007)")],
)
def test_a_name_with_a_line_break_is_refused(tmp_path: Path, char: str, what: str) -> None:
    """The renderer does not rely on validation elsewhere: a name with any line break or control
    character fails the touch, naming the front matter line."""
    with pytest.raises(RenderError) as exc:
        render_with(tmp_path, README_CC, contact={
            "first": "Jane", "spouse": {"name": f"Eve{char}Bcc: eve@attacker.example"},
            "email": {"personal": "jane@home.example"}})
    assert (exc.value.line, exc.value.message) == (3, f"the rendered cc holds {what}")


@pytest.mark.parametrize(
    "value",
    ["a@x.example, eve@attacker.example", "a@x.example eve@attacker.example",
     "Eve <eve@attacker.example>", "a@x.example;eve@attacker.example", "eve@attacker.example>",
     "a@b@attacker.example", '"a,b"@x.example'],
)
def test_an_address_value_must_be_one_address(tmp_path: Path, value: str) -> None:
    """Where an address goes, a value holding two addresses (or a name and an address) fails the
    touch with one line naming the template's line and the value."""
    with pytest.raises(RenderError) as exc:
        render_with(tmp_path, '---\nsubject: Hi\ncc: "Pat <{{ extra }}>"\n---\nHi,\n', extra=value)
    assert (exc.value.template, exc.value.line) == ("templates/t.md", 3)
    assert exc.value.message == f"'{value}' in cc is not one email address"
    assert exc.value.hint == (
        "where an address goes, a {{ }} must give one address; a name goes before the <...>"
    )


def test_a_list_written_by_the_template_keeps_working(tmp_path: Path) -> None:
    """A template that writes the list itself ('{{ work }}, {{ personal }}') gives two
    addresses, each from a value in an address's place; literal addresses work as before."""
    d = draft_for(
        tmp_path,
        '---\nsubject: Hi\ncc: "{{ contact.email.work }}, {{ contact.email.personal }}, '
        'Pat Lee <pat@acme.example>"\n---\nHi {{ contact.first }},\n',
    )
    assert recipients(d.message, "Cc") == [
        ("", "jane@acme.example"), ("", "jane@home.example"), ("Pat Lee", "pat@acme.example")
    ]


def test_macros_and_set_blocks_are_the_template_s_structure(tmp_path: Path) -> None:
    """An address built by a macro or a {% set %} block: its literal text is the template's, its
    values stay values."""
    r = render_with(
        tmp_path,
        '---\nsubject: Hi\ncc: "{% set who %}{{ name }} <{{ addr }}>{% endset %}{{ who }}, '
        'sales+{{ tag }}@acme.example"\n---\nHi,\n',
        name=EVE, addr="jane@home.example", tag="golf",
    )
    assert r.cc == ((EVE, "jane@home.example"), ("", "sales+golf@acme.example"))


def test_data_cannot_forge_a_placeholder(tmp_path: Path) -> None:
    """A value holding the placeholder's own characters is still a value: one address."""
    forged = f"{addresses.SLOT_START}0_0{addresses.SLOT_END}, eve@attacker.example"
    r = render_with(tmp_path, README_CC, contact={
        "first": "Jane", "spouse": {"name": forged}, "email": {"personal": "jane@home.example"}})
    assert r.cc == ((forged, "jane@home.example"),)


_NAMES = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                 max_size=40).filter(lambda v: v.strip() == v and v)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=_NAMES)
def test_property_any_display_name_leaves_exactly_the_template_s_addresses(
    tmp_path: Path, name: str
) -> None:
    """Property: whatever text a display name's value holds, the Cc holds exactly the two
    addresses the template wrote (for old readers and the email package of today), and the
    name reads back as it is."""
    r = render_with(
        tmp_path,
        '---\nsubject: Hi\ncc: "{{ name }} <pat@acme.example>, Lee <lee@acme.example>"\n---\nHi,\n',
        name=name,
    )
    assert r.cc == ((name, "pat@acme.example"), ("Lee", "lee@acme.example"))
    data = f"Cc: {addresses.header_value('Cc', r.cc)}\r\n\r\n".encode("ascii")
    assert recipients(data, "Cc") == list(r.cc)
    assert parsed_addresses(data, "Cc") == ["pat@acme.example", "lee@acme.example"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(first=_NAMES, last=_NAMES)
@example(first="=?utf-8?b?RXZlIDxldmVAYXR0YWNrZXIuZXhhbXBsZT4=?=", last="Doe")
def test_property_any_contact_name_leaves_one_address_in_to(
    tmp_path: Path, first: str, last: str
) -> None:
    """Property: whatever the contact's name holds, the draft's To is the contact's one address
    with the name as display name; From is the sender's."""
    try:
        d = draft_for(
            tmp_path, "---\nsubject: Hi\n---\nHello,\n", name={"first": first, "last": last}
        )
    except ValidationError:
        assume(False)
        raise
    assert recipients(d.message, "To") == [(f"{first} {last}", "jane@acme.example")]
    assert parsed_addresses(d.message, "To") == ["jane@acme.example"]
    assert recipients(d.message, "From") == [("Alex Rivera", "alex@rivera.example")]


def test_an_encoded_word_in_a_subject_is_text(tmp_path: Path) -> None:
    """A greeting that is an encoded word of 'x CRLF Bcc: ...' reaches the subject as that text:
    no Bcc header, no second line, the subject reads back as rendered."""
    greeting = "=?utf-8?q?x=0D=0ABcc:_eve@attacker.example?="
    d = draft_for(tmp_path, "---\nsubject: Hi {{ contact.greet }}\n---\nHello,\n",
                  name={"first": "Jane", "last": "Doe", "greeting": greeting})
    parsed = read_back(d.message)
    assert parsed["Subject"] == f"Hi {greeting}"
    assert parsed["Bcc"] is None
    assert not any(line.lower().startswith("bcc") for line in header_lines(d.message))


def test_the_vcard_spouse_reaches_the_cc_as_a_name_only(tmp_path: Path) -> None:
    """A vCard's RELATED;TYPE=spouse holding 'Eve <eve@attacker.example>, Sam', imported with
    `outreach import vcard`, is the spouse's name: the run's Cc holds one address."""
    root = write_folder(tmp_path / "book", [], [campaign_data(template="cc.md")],
                        {"cc.md": README_CC})
    runner = CliRunner()
    done = runner.invoke(main, ["-C", str(root), "import", "vcard", str(DATA / "spouse.vcf")])
    assert done.exit_code == 0, done.output
    done = runner.invoke(main, ["-C", str(root), "run", "--date", "2026-05-04"])
    assert done.exit_code == 0, done.output
    (eml,) = (root / "drafts").glob("*.eml")
    assert recipients(eml.read_bytes(), "Cc") == [(EVE, "robin@home.example")]
    assert parsed_addresses(eml.read_bytes(), "Cc") == ["robin@home.example"]


# --------------------------------------------------------------------------- domains, local parts


def test_domains_outside_ascii_are_idna_in_every_address_header(tmp_path: Path) -> None:
    """probe@bücher.example is written probe@xn--bcher-kva.example in From, To, Cc, Bcc and
    Reply-To (and the Message-ID), never as an encoded word inside the address."""
    d = draft_for(
        tmp_path,
        "---\nsubject: Hi\ncc: Kai <kai@bücher.example>\nbcc: crm@bücher.example\n"
        "reply_to: Alex <alex@rivera-bücher.example>\n---\nHi {{ contact.first }},\n",
        sender={"name": "Alex Rivera", "email": "alex@rivera-bücher.example"},
        email={"work": "probe@bücher.example"},
    )
    lines = header_lines(d.message)
    assert "From: Alex Rivera <alex@xn--rivera-bcher-klb.example>" in lines
    assert "To: Jane Doe <probe@xn--bcher-kva.example>" in lines
    assert "Cc: Kai <kai@xn--bcher-kva.example>" in lines
    assert "Bcc: crm@xn--bcher-kva.example" in lines
    assert "Reply-To: Alex <alex@xn--rivera-bcher-klb.example>" in lines
    assert d.message_id.endswith(".outreach@xn--rivera-bcher-klb.example>")
    assert not any("=?" in line for line in lines)


def test_a_local_part_outside_ascii_is_refused(tmp_path: Path) -> None:
    """An address with letters outside ASCII before the @ cannot be written in a header: the
    touch fails with the template's line instead of writing something invalid."""
    with pytest.raises(RenderError) as exc:
        draft_for(tmp_path, "---\nsubject: Hi\ncc: jöe@bücher.example\n---\nHi,\n")
    assert (exc.value.line, exc.value.message) == (
        3, "'jöe@bücher.example' in cc has letters outside ASCII before the @")
    with pytest.raises(addresses.AddressRefused) as refused:
        addresses.header_value("To", [("Jo", "jöe@bücher.example")])
    assert refused.value.message == (
        "'jöe@bücher.example' in To has letters outside ASCII before the @")
