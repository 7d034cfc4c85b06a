"""The message builder writes exactly the bytes the email package writes for the same draft.

`outreach.mime` builds a draft without ``set_content``/``add_alternative`` and writes it without
the generator; these tests build the same message the email package's way (as the code before
did) and compare the bytes, for text of every kind: ASCII, accents, long lines, CJK, control
characters, lines that start with ``From ``, CR and LF line ends.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from io import BytesIO
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from outreach import mime
from outreach.message import _SMTP, _date, _stored_subject, _Written

BOUNDARY = "=_outreach_0123456789abcdef"
HEADERS = [
    ("From", _Written("Alex Rivera <alex@rivera.example>")),
    ("To", _Written("=?utf-8?q?Zo=C3=AB?= <zoe@xn--bcher-kva.example>")),
    ("Subject", _Written("Happy birthday")),
    ("Message-ID", _Written("<0123456789abcdef.outreach@rivera.example>")),
]


def reference(headers: list[tuple[str, Any]], text: str, html: str) -> EmailMessage:
    """The draft as the email package builds it (the code before `outreach.mime`)."""
    msg = EmailMessage(policy=_SMTP)
    for name, value in headers:
        msg[name] = value
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    msg.set_boundary(BOUNDARY)
    for part in msg.iter_parts():
        del part["MIME-Version"]
    return msg


def generated(msg: EmailMessage) -> bytes:
    """What the email package's generator writes for ``msg``."""
    fp = BytesIO()
    BytesGenerator(fp, mangle_from_=False, policy=msg.policy).flatten(msg)
    return fp.getvalue()


texts = st.lists(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=120)
    | st.sampled_from(["\n", "\r\n", "\r", " ", "é", "From me", "x" * 90]),
    max_size=12,
).map("".join) | st.builds(lambda w, n: (w + " ") * n + "\n", st.sampled_from(["From", "word", "ü", "語"]),
              st.integers(0, 60))


@settings(max_examples=300, deadline=None)
@given(text=texts, html=texts)
def test_the_bytes_are_those_of_the_email_package(text: str, html: str) -> None:
    """For any two parts, the built draft's bytes are the email package's bytes, whether written
    by the kept body or by the generator."""
    built = mime.build(_SMTP, HEADERS, BOUNDARY, [("plain", text), ("html", html)], _Written)
    want = generated(reference(HEADERS, text, html))
    assert built.as_bytes() == want
    assert generated(built) == want
    assert bytes(built) == want


def test_a_header_added_later_is_written() -> None:
    """The dir store adds ``X-Unsent: 1`` after the build: it is written like the email
    package writes it, after the others."""
    built = mime.build(_SMTP, HEADERS, BOUNDARY, [("plain", "Hi\n"), ("html", "<p>Hi</p>\n")],
                       _Written)
    ref = reference(HEADERS, "Hi\n", "<p>Hi</p>\n")
    for msg in (built, ref):
        msg["X-Unsent"] = "1"
    assert built.as_bytes() == generated(ref)
    assert b"\r\nX-Unsent: 1\r\n\r\n--" in built.as_bytes()


def test_a_changed_part_is_written_as_changed() -> None:
    """A part changed after the build is not hidden by the kept body: the generator writes it."""
    built = mime.build(_SMTP, HEADERS, BOUNDARY, [("plain", "Hi\n"), ("html", "<p>Hi</p>\n")],
                       _Written)
    plain = next(iter(built.iter_parts()))
    plain.set_content("Changed\n")
    assert b"Changed" in built.as_bytes()
    assert built.as_bytes() == generated(built)


def test_the_built_message_reads_like_the_email_packages() -> None:
    """Readers see the same message: content types, bodies, headers."""
    text, html = "Liebe Zoë,\n\nalles Gute!\n", "<p>Liebe Zoë,</p>\n"
    built = mime.build(_SMTP, HEADERS, BOUNDARY, [("plain", text), ("html", html)], _Written)
    assert built.get_content_type() == "multipart/alternative"
    assert built.get_boundary() == BOUNDARY
    assert [p.get_content_type() for p in built.iter_parts()] == ["text/plain", "text/html"]
    body = built.get_body(("plain",))
    assert body is not None and body.get_content() == text
    assert str(built["To"]) == "Zoë <zoe@xn--bcher-kva.example>"
    back = email.message_from_bytes(built.as_bytes(), policy=email.policy.default)
    html_back = back.get_body(("html",))
    assert html_back is not None and html_back.get_content().replace("\r\n", "\n") == html


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=200))
def test_a_plain_ascii_subject_is_stored_as_the_policy_writes_it(subject: str) -> None:
    """An ASCII subject stored without a parse folds to the same line as the parsed one, and
    reads back as the same subject."""
    stored = _stored_subject(subject)
    parsed = _SMTP.header_store_parse("Subject", subject)[1]
    assert _SMTP.fold_binary("Subject", stored) == _SMTP.fold_binary("Subject", parsed)
    assert str(_SMTP.header_fetch_parse("Subject", stored)) == str(parsed)


@given(st.dates(dt.date(1970, 1, 1), dt.date(2100, 12, 31)),
       st.sampled_from(["America/Chicago", "Europe/Berlin", "Asia/Kolkata", "UTC",
                        "Pacific/Chatham", "America/St_Johns"]))
def test_the_date_header_is_written_as_the_policy_writes_it(day: dt.date, zone: str) -> None:
    """The Date value, stored as written, folds to the line the email package writes for it."""
    value = _date(day, zone)
    parsed = _SMTP.header_store_parse("Date", value)[1]
    assert _SMTP.fold_binary("Date", _Written(value)) == _SMTP.fold_binary("Date", parsed)
