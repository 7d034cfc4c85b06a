"""The address headers' fast paths write what the general path wrote, byte for byte.

A draft's To header is written for every contact: its address is answered by
``fields.plain_address`` when it is a common one (instead of email_validator), and its name,
when it must be encoded, as one encoded word when it fits (instead of ``email.header``'s search
character by character for where to fold). These properties hold each fast path to the general
one, its oracle, on generated names and addresses.
"""

from __future__ import annotations

from email.header import Header
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from outreach import addresses

HEADERS = st.sampled_from(["From", "To", "Cc", "Bcc", "Reply-To"])
ATEXT = "abcXYZ019_!#$%&'*+-/=?^`{|}~"
TRICKY = ATEXT + '.@"\\ <>()[],;:é\u00a0\u200b\u0301'
LABELS = st.one_of(
    st.text("abcdefXYZ0189-", min_size=1, max_size=8),
    st.sampled_from(["xn--bcher-kva", "ab--cd", "test", "localhost", "example", "EXAMPLE",
                     "com", "c0m", "123", "bücher", "a" * 63, "a" * 64, "-a", "a-"]),
)
ADDRESSES = st.one_of(
    st.builds(lambda local, labels: local + "@" + ".".join(labels),
              st.text(ATEXT + ".", max_size=12), st.lists(LABELS, min_size=1, max_size=4)),
    st.builds(lambda local, labels: local + "@" + ".".join(labels),
              st.text(TRICKY, max_size=10), st.lists(LABELS, max_size=3)),
    st.text(TRICKY, max_size=20),
)
# names as books hold them: accents, other scripts, quotes, encoded-word look-alikes, long ones
NAMES = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80),
    st.text("abcéøñßü ÓẞTrần李王\"\\'=?_-., ", max_size=70),
    st.builds(lambda n: "Ž" * n, st.integers(1, 60)),
)


def _general(text: str, header: str) -> str:
    return Header(text, "utf-8", maxlinelen=78, header_name=header).encode(linesep="\r\n")


@settings(max_examples=1500, deadline=None)
@given(ADDRESSES)
@example("jane@acme.example")
@example("Jane.O'Brien@Acme.EXAMPLE")
@example("postmaster@acme.example")
@example("jane@xn--bcher-kva.example")
@example("jane@bücher.example")
@example("jané@acme.example")
@example("jane@mail.test")
@example("a" * 65 + "@acme.example")
def test_a_common_address_is_read_as_email_validator_reads_it(addr: str) -> None:
    """For any text, the address as a header writes it (normalized, local part, ASCII domain)
    is what email_validator alone gives, or both refuse it."""
    assert addresses._valid(addr) == addresses._validated(addr)


@settings(max_examples=3000, deadline=None)
@given(NAMES, HEADERS)
@example("Óscar Trần", "To")
@example("Ž" * 21, "Reply-To")
@example("Ž" * 22, "Reply-To")
@example("=?utf-8?q?Eve_=3Ce=40x.example=3E?=", "Cc")
@example("", "To")
def test_a_name_is_encoded_as_the_email_package_encodes_it(name: str, header: str) -> None:
    """Any name after any address header's name: the same encoded words as `email.header`."""
    assert addresses.encoded_words(name, header) == _general(name, header)


@settings(max_examples=800, deadline=None)
@given(st.lists(st.tuples(NAMES, ADDRESSES), min_size=1, max_size=3), HEADERS)
@example([("Óscar Trần", "oscar.tran.0@Acme.Example")], "To")
@example([("Alex Rivera", "alex@rivera.example")], "From")
def test_a_header_is_written_as_the_general_path_writes_it(
    pairs: list[tuple[str, str]], header: str
) -> None:
    """A whole address header, fast paths on, is byte for byte the one written with
    email_validator and `email.header` alone; or both refuse it with the same words."""

    def written() -> tuple[str, Any]:
        try:
            return "ok", addresses.header_value(header, pairs)
        except addresses.AddressRefused as exc:
            return "refused", (exc.message, exc.hint)

    fast = written()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("outreach.fields.plain_address", lambda addr: None)
        mp.setattr(addresses, "encoded_words", _general)
        assert written() == fast
