"""Rendering and messages: sandboxed strict templates, front matter, Markdown, MIME."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest
from factories import book, campaign, contact
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from outreach import markup, render
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
    """The Markdown body becomes multipart/alternative: text/plain first (the Markdown rendered as
    plain text), HTML second."""
    d = draft_for(
        tmp_path,
        "---\nsubject: Happy birthday, {{ contact.greet }}!\n---\n"
        "Hi {{ contact.greet }},\n\nHave a **great** day.\n",
    )
    msg = email.message_from_bytes(d.message.as_bytes(), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().replace("\r\n", "\n") == "Hi Jane,\n\nHave a great day.\n"
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


def test_an_empty_greeting_names_the_line_of_the_file(tmp_path: Path) -> None:
    """The line given for a greeting without a name is the template file's (front matter
    counted), like every other line in a message."""
    with pytest.raises(RenderError) as exc:
        draft_for(tmp_path, "---\nsubject: Hi\n---\nHello,\n\nDear ,\n")
    assert (exc.value.line, exc.value.message) == (6, "the greeting 'Dear ,' names nobody")


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



# --------------------------------------------------------------------------- the plain-text part


def plain_of(message: email.message.EmailMessage) -> str:
    """The text/plain part of a composed draft, as a mail client reads it."""
    msg = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def html_of(message: email.message.EmailMessage) -> str:
    msg = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    body = msg.get_body(("html",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def render_with(tmp_path: Path, text: str, **context: object) -> render.Rendered:
    """Render one template with a plain context (no contact model: any value goes)."""
    return render.render(templates(tmp_path, t=text), "t.md", dict(context))


SHARE = """---
subject: "Thought of you: {{ article.title }}"
---
Hi {{ contact.first }},

I came across this and thought of you:

**[{{ article.title }}]({{ article.url }})**

Best,
Alex
"""


def test_an_article_share_reads_title_and_url_in_plain_text(tmp_path: Path) -> None:
    """Issue 8: a shared article reads 'Title <url>' in text/plain, never '**[Title](url)**'; the
    HTML part still has the bold link."""
    r = render_with(
        tmp_path,
        SHARE,
        contact={"first": "Jane"},
        article={"title": "Fleet insurance, explained", "url": "https://news.example/fleet_101?a=1&b=2"},
    )
    assert r.text == (
        "Hi Jane,\n\nI came across this and thought of you:\n\n"
        "Fleet insurance, explained <https://news.example/fleet_101?a=1&b=2>\n\nBest,\nAlex\n"
    )
    assert (
        '<p><strong><a href="https://news.example/fleet_101?a=1&amp;b=2">Fleet insurance, '
        "explained</a></strong></p>" in r.html
    )


def test_the_eml_carries_the_plain_text_and_the_same_html_as_before(tmp_path: Path) -> None:
    """compose() puts the rendered plain text in the .eml's text/plain part; the HTML part is the
    body rendered as Markdown, byte for byte what it was before text/plain was rendered."""
    d = draft_for(
        tmp_path,
        "---\nsubject: Hi\n---\nHi {{ contact.first }},\n\n"
        "## A *quick* note\n\n- **Renewals** in [March](https://cal.example/m)\n- `nothing` else\n\n"
        "> Quoted\nline\n",
    )
    assert plain_of(d.message) == (
        "Hi Jane,\n\nA quick note\n\n- Renewals in March <https://cal.example/m>\n- nothing else\n\n"
        "> Quoted\n> line\n"
    )
    assert html_of(d.message) == (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        '<body style="font-family: sans-serif; font-size: 14px;">\n'
        "<p>Hi Jane,</p>\n<h2>A <em>quick</em> note</h2>\n<ul>\n"
        '<li><strong>Renewals</strong> in <a href="https://cal.example/m">March</a></li>\n'
        "<li><code>nothing</code> else</li>\n</ul>\n"
        "<blockquote>\n<p>Quoted<br />\nline</p>\n</blockquote>\n</body></html>\n"
    )


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        ("Have a **great** day, __really__.", "Have a great day, really."),
        ("An *easy* one and an _easy_ one.", "An easy one and an easy one."),
        ("Read [the guide](https://x.example/g).", "Read the guide <https://x.example/g>."),
        ("**[Title](https://x.example/t \"tip\")**", "Title <https://x.example/t>"),
        ("[https://x.example/a](https://x.example/a)", "https://x.example/a"),
        ("[Write to me](mailto:alex@rivera.example)", "Write to me <alex@rivera.example>"),
        ("[alex@rivera.example](mailto:alex@rivera.example)", "alex@rivera.example"),
        ("Open <https://x.example/a_b> or <alex@rivera.example>.",
         "Open <https://x.example/a_b> or <alex@rivera.example>."),
        ("![Our office](https://x.example/o.png)", "Our office <https://x.example/o.png>"),
        ("# Big news\n\nText.", "Big news\n\nText."),
        ("Title\n=====\nText.", "Title\n=====\nText."),
        ("### Three things\n- one\n- two", "Three things\n- one\n- two"),
        ("- one\n- **two**\n  - two and a half\n\n1. first\n2. second",
         "- one\n- two\n  - two and a half\n\n1. first\n2. second"),
        ("* star\n+ plus", "* star\n+ plus"),
        ("1. one\n\n   more of one\n\n2. two", "1. one\n\n   more of one\n\n2. two"),
        ("> quoted *text*\n> on two lines\n>\n> > nested", "> quoted text\n> on two lines\n>\n> > nested"),
        ("Use `pip install` or ``a `b` c``.", "Use pip install or a `b` c."),
        ("    code block\n      indented more", "    code block\n      indented more"),
        ("```sh\nls -l\n```", "    ls -l"),
        ("line one  \nline two\\\nline three\nline four", "line one\nline two\nline three\nline four"),
        ("one\n\ntwo\n\n\nthree", "one\n\ntwo\n\n\nthree"),
        ("\\*not emphasis\\*, \\[not a link\\], \\# not a heading", "*not emphasis*, [not a link], # not a heading"),
        ("Fish &amp; chips &copy; 2026", "Fish & chips © 2026"),
        ("Above\n\n---\n\nBelow", "Above\n\n---\n\nBelow"),
        ("See [the notes][n].\n\n[n]: https://x.example/n", "See the notes <https://x.example/n>.\n\n[n]: https://x.example/n"),
        ("No <b>HTML</b> <!-- here -->", "No <b>HTML</b> <!-- here -->"),
    ],
)
def test_markdown_is_rendered_as_plain_text(markdown: str, plain: str) -> None:
    """Links read 'Title <url>' (the URL alone when it is the text, an autolink as written),
    emphasis and code lose their markers, headings their '#', escapes their backslash, entities
    are decoded; lists, quotes, code blocks, hard breaks and blank lines keep their shape."""
    assert markup.markdown_to_text(markdown + "\n") == plain + "\n"


@pytest.mark.parametrize(
    "prose",
    [
        "5 * 3 = 15, and 2 * 4 = 8.",
        "5*3*2 = 30 and a*b*c",
        "snake_case_name, __dunder, my_file_v2_final.docx",
        "jane.doe@acme.example or jane_doe@acme.example",
        "https://x.example/a_b_c?d=1&e=2#f_g and www.example.com/x*y",
        "2026. was a good year.",
        "2026. What a year.\nWe grew by 20%,\n  and hired 3.",
        "Text first\n1998. was a good year too.",
        "  7.  lucky number",
        "1) one thing\n2) another",
        "+ 5 more people came.",
        "# of guests: 12",
        "#1 priority, C# and F#",
        "Best,\nAlex\n-- \nRivera Advisory",
        "Tom & Jerry, AT&T, R&D; 50% off; $5 + $3 = $8",
        "C:\\Users\\jane and a \\ alone",
        "I <3 it; 3 > 2 and 1 < 2",
        "[Update]: nothing new",
        "[Update]: tbd",
        "Prices: $5* and $10** (*terms apply)",
        "A line\n   indented by three\n       and by seven",
        "Naïve café, Łódź, 東京, Zoë",
    ],
)
def test_prose_that_looks_like_markdown_comes_through_as_written(prose: str) -> None:
    """Where CommonMark reads prose as markup (a year starting a line, '+ 5', '# of', a signature
    under '--', stars inside a word, a line that looks like a reference definition), the plain
    text keeps the user's line as written."""
    assert markup.markdown_to_text(prose + "\n") == prose + "\n"


# Prose without Markdown syntax: words of letters and digits, with punctuation that CommonMark
# leaves alone, spaces between words, lines (some indented), blank lines between paragraphs.
_LETTERS = st.characters(categories=("Lu", "Ll", "Lo", "Nd"))
_WORD = st.builds(
    lambda lead, core, tail: lead + core + tail,
    st.sampled_from(["", "", "", "(", '"', "'", "$", "¿"]),
    st.text(_LETTERS | st.sampled_from(list("'-.@/%+=:")), min_size=1, max_size=10).filter(
        lambda w: w[0].isalnum() and w[-1].isalnum()
    ),
    st.sampled_from(["", "", "", ".", ",", ";", ":", "!", "?", ")", '"', "'s", "%", "...", " -"]),
)
_LINE = st.builds(
    lambda indent, words, gaps: " " * indent + "".join(w + g for w, g in zip(words, gaps, strict=False)).rstrip(),
    st.integers(0, 3),
    st.lists(_WORD, min_size=1, max_size=8),
    st.lists(st.sampled_from([" ", " ", " ", "  "]), min_size=8, max_size=8),
)
_PARAGRAPH = st.lists(_LINE, min_size=1, max_size=4).map("\n".join)
_PROSE = st.builds(
    lambda paras, gaps: "".join(p + g for p, g in zip(paras, gaps, strict=False)).rstrip("\n"),
    st.lists(_PARAGRAPH, min_size=1, max_size=4),
    st.lists(st.sampled_from(["\n\n", "\n\n", "\n\n\n"]), min_size=4, max_size=4),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PROSE)
def test_plain_prose_is_its_own_plain_text(prose: str) -> None:
    """Property: prose without Markdown syntax comes through text/plain exactly as written, every
    character, space, indent, line break and blank line."""
    assert markup.markdown_to_text(prose + "\n") == prose + "\n"


@pytest.mark.parametrize(
    "name",
    [
        "J*ne",
        "*Jane*",
        "**Jo** Ann",
        "Anne_Marie",
        "_Jo_",
        "[Jo]",
        "[Jo](https://x.example)",
        "Jo `the` Coder",
        "Jo \\*",
        "Fish &amp; Co",
        "<jo@x.example>",
        "1. Jo",
        "# Jo",
    ],
)
def test_contact_data_comes_through_literally(tmp_path: Path, name: str) -> None:
    """A value from the data is text, never Markdown, in text/plain: a name or a note with '*',
    '_', '[', '`', '\\', '&', '<', a leading '1.' or '#' reads exactly as it is in contacts.yaml,
    at the start of a line too; the template's own markup around it is still rendered."""
    r = render_with(
        tmp_path,
        "---\nsubject: Hi {{ contact.first }}\n---\nHi {{ contact.first }},\n\n{{ contact.notes }}\n\n"
        "**{{ contact.first }}** and [{{ contact.first }}](https://x.example/{{ contact.id }}).\n",
        contact={"first": name, "notes": name, "id": "a_b"},
    )
    assert r.text == f"Hi {name},\n\n{name}\n\n{name} and {name} <https://x.example/a_b>.\n"
    assert r.subject == f"Hi {name}"


def test_contact_names_reach_the_eml_literally(tmp_path: Path) -> None:
    """In the .eml, a contact whose name holds '*', '_' and '[' is greeted with exactly that name
    in text/plain, next to the template's bold and link, which are rendered."""
    d = draft_for(
        tmp_path,
        "---\nsubject: Hi {{ contact.first }}\n---\nHi {{ contact.full_name }},\n\n"
        "**Happy birthday**, *{{ contact.first }}*! [Your card](https://cards.example/{{ contact.id }})\n",
        name={"first": "*Jo*_Ann", "last": "[Doe] O'Neil_Smith"},
    )
    assert plain_of(d.message) == (
        "Hi *Jo*_Ann [Doe] O'Neil_Smith,\n\n"
        "Happy birthday, *Jo*_Ann! Your card <https://cards.example/jane-doe>\n"
    )
    assert d.subject == "Hi *Jo*_Ann"


def test_a_quoted_value_on_many_lines_stays_as_written_and_quoted(tmp_path: Path) -> None:
    """A meeting's description quoted with '> ' keeps its lines, numbers, dashes and stars as
    written, every line quoted, as in the example thank-you template."""
    r = render_with(
        tmp_path,
        "---\nsubject: Thanks\n---\nThanks!\n\n> {{ meeting.description }}\n\nBest\n",
        meeting={"description": "Agenda:\n1. budget_2027\n- hiring *now*\n# of seats: 4"},
    )
    assert r.text == (
        "Thanks!\n\n> Agenda:\n> 1. budget_2027\n> - hiring *now*\n> # of seats: 4\n\nBest\n"
    )


_VALUE = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\ufdd0\ufdd1"
    ),
    min_size=1,
    max_size=30,
).filter(lambda v: v.strip() == v and v)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(first=_VALUE, notes=_VALUE)
def test_any_value_comes_through_text_plain_as_it_is(tmp_path: Path, first: str, notes: str) -> None:
    """Property: whatever characters a name or a note holds (Markdown syntax, HTML, entities,
    backslashes, any script), text/plain shows it exactly, in a sentence and on a line of its
    own, and the HTML part is what the same body rendered as Markdown gives."""
    for v in (first, notes):
        assume(not any(m in v for m in ("{{", "{%", "}}", "%}", "{#", "#}")))
    assume(first[0] not in ",!.:;")  # 'Hi ,' is refused as a greeting without a name
    try:
        r = render_with(
            tmp_path, "---\nsubject: x\n---\nHi {{ first }}, how are you?\n\n{{ notes }}\n",
            first=first, notes=notes,
        )
    except RenderError:
        assume(False)
        raise
    assert r.text == f"Hi {first}, how are you?\n\n{notes}\n"
    assert r.html == markup.markdown_to_html(f"Hi {first}, how are you?\n\n{notes}\n")


def test_front_matter_and_the_html_part_are_untouched_by_the_plain_text(tmp_path: Path) -> None:
    """The subject, cc and HTML see the values as they are (no marks or backslashes), and the
    HTML part renders the data as Markdown exactly as before."""
    r = render_with(
        tmp_path,
        "---\nsubject: Hi {{ name }}!\ncc: \"{{ name }} <a@b.example>\"\n---\nHi *{{ name }}*,\n",
        name="J_o (*x*)",
    )
    assert (r.subject, r.cc) == ("Hi J_o (*x*)!", (("J_o (*x*)", "a@b.example"),))
    assert r.text == "Hi J_o (*x*),\n"
    assert r.html == markup.markdown_to_html("Hi *J_o (*x*)*,\n")
    for part in (r.subject, r.cc[0][0], r.text, r.html):
        assert "\ufdd0" not in part and "\ufdd1" not in part


def test_the_plain_text_is_the_same_whatever_was_rendered_before(tmp_path: Path) -> None:
    """Deterministic: the same template and data give the same text and HTML in a fresh
    environment and in one where `check` compiled the template first (constants included),
    and macros and {% set %} blocks are marked once."""
    text = (
        "---\nsubject: Hi\n---\n{% macro hi(n) %}Hi **{{ n }}**{% endmacro %}"
        "{% set sig %}*{{ who }}*{% endset %}"
        "{{ hi(who) }}, {{ '**fixed**' }} and {{ 2 * 3 }}.\n\n{{ sig }}\n"
    )
    env = templates(tmp_path, t=text)
    fresh = render.render(env, "t.md", {"who": "A_b*"})
    env2 = render.environment(tmp_path / "templates", tmp_path)
    assert render.check_template(env2, "t.md", "campaigns.yaml", 1, "") == []
    again = render.render(env2, "t.md", {"who": "A_b*"})
    assert (fresh.text, fresh.html) == (again.text, again.html)
    assert fresh.text == "Hi A_b*, **fixed** and 6.\n\nA_b*\n"
    assert fresh.html == markup.markdown_to_html("Hi **A_b***, **fixed** and 6.\n\n*A_b**\n")


@pytest.mark.parametrize("subject", [
    "Thought of you: Napa cabernets under $50 that punch above their weight",
    "Thought of you: Cricket's franchise economics, and what fintech learned from it",
    "Happy birthday, Jane!",
])
def test_a_long_subject_is_folded_between_words_from_the_subject_line(
        tmp_path: Path, subject: str) -> None:
    """A subject longer than the Subject: line starts on it and is folded before a space, every
    line at most 78 characters; any reader, old parsers too, reads back the same subject."""
    draft = draft_for(tmp_path, f"---\nsubject: \"{subject}\"\n---\nHi {{{{ contact.first }}}},\n")
    data = draft.message.as_bytes()
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    lines = head.split("\r\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("Subject:"))
    assert lines[start].startswith("Subject: " + subject.split()[0])
    assert all(len(line) <= 78 for line in lines)
    assert str(email.message_from_bytes(data, policy=email.policy.default)["Subject"]) == subject
    raw = str(email.message_from_bytes(data, policy=email.policy.compat32)["Subject"])
    assert raw.replace("\r\n ", " ") == subject  # no leading space for readers that keep folds


def test_message_ids_stay_beside_their_header_names(tmp_path: Path) -> None:
    """With a long sender domain a Message-ID is longer than a 78-character line would allow:
    it still starts on the Message-ID: line (RFC 5322 lines may hold 998), and any reader gets
    it back without a leading space."""
    env = templates(tmp_path, note="---\nsubject: Hi\n---\nHi {{ contact.first }},\n")
    b = book([contact("jane-doe", dates={"birthday": "1985-04-12"})], [campaign()], root=tmp_path,
             sender={"name": "Dana", "email": "dana@whitfield-advisory-partners.example"})
    draft = compose(b, env, plan(b, History(), today=TODAY).touches[0], TODAY)
    head = draft.message.as_bytes().split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    (line,) = [h for h in head if h.startswith("Message-ID:")]
    assert line == f"Message-ID: {draft.message_id}" and len(line) > 78
    raw = email.message_from_bytes(draft.message.as_bytes(), policy=email.policy.compat32)
    assert raw["Message-ID"] == draft.message_id
