"""A part's transfer encoding and payload are the email package's, byte for byte.

`outreach.mime.encode_text` writes a quoted-printable part itself (the HTML part of nearly every
draft: its paragraphs are longer than a line may be); these properties compare it with the
email package's own choice and encoder (`email.contentmanager`) on text of every kind: long
lines, ``=`` and spaces where a line breaks, accents and other scripts, control characters and
every kind of line end.
"""

from __future__ import annotations

import email.policy
from email import contentmanager
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from outreach import mime
from outreach.message import _SMTP

PIECES = st.sampled_from(["a", "word ", " ", "\t", "=", "==", "é", "語", "😀", "\x0b", "\x0c",
                          "\x85", "\x1c", "\x00", "\r", "\n", "\r\n", "<p>", "x" * 70])
LINES = st.lists(PIECES, max_size=60).map("".join)
TEXTS = st.one_of(
    st.lists(LINES, max_size=16).map("\n".join),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=400),
    st.builds(lambda n, end: "x" * n + end, st.integers(70, 240), st.sampled_from(
        ["", " ", "\t", "=", " \n", "é", "\n" * 12])),
    # a line near the width, ending in a space or an =XX, in a part that is quoted-printable
    st.builds(lambda n, end: "y" * 100 + "\n" + "x" * n + end, st.integers(60, 240),
              st.sampled_from([" ", "\t", "=", "é", " \n", "x"])),
    # as many accents as make quoted-printable and base64 about as long
    st.builds(lambda a, b: "é" * a + "x" * b + "\n", st.integers(0, 60), st.integers(0, 120)),
)


def _email_package(text: str, policy: Any) -> tuple[str, str]:
    cte, payload = contentmanager._encode_text(  # type: ignore[attr-defined]
        text, "utf-8", None, policy
    )
    return str(cte), str(payload)


@settings(max_examples=2000, deadline=None)
@given(TEXTS)
@example("<p>" + "word " * 40 + "</p>\n" * 12)
@example("y" * 100 + "\n" + "x" * 76 + " ")
@example("é" * 7 + "x" * 68 + "\n")  # quoted-printable exactly as long as base64 and its newline
@example("é" * 7 + "x" * 67 + "\n")
@example("é" * 8 + "x" * 71 + "\n")  # one longer: base64
@example("")
@example("Liebe Zoë,\n")
@example("Hi\r\nthere\r")
@example("x" * 77 + " ")
@example("x" * 78 + " ")
@example("x" * 79 + " ")
@example("x" * 76 + "=" + "x" * 10)
@example("x" * 75 + "é" + "x" * 10)
@example("語" * 40 + "\n")
def test_a_part_is_encoded_as_the_email_package_encodes_it(text: str) -> None:
    """For any text, the same Content-Transfer-Encoding and the same payload, under the
    drafts' policy, the email package's default one and a 7bit one."""
    for policy in (_SMTP, email.policy.default, email.policy.SMTP.clone(cte_type="7bit")):
        assert mime.encode_text(text, policy) == _email_package(text, policy)
