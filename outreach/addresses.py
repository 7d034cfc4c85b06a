"""Address headers (From, To, Cc, Bcc, Reply-To) hold exactly the addresses the template wrote.

A front matter value such as ``cc: "{{ contact.spouse.name }} <{{ contact.email.personal }}>"`` is
rendered with each ``{{ value }}`` replaced by a placeholder (:class:`Slots`). The structure of
that skeleton (how many addresses; which placeholders are a display name, which an address) is
read with ``email.utils.getaddresses``, and only then are the values put back. A display name may
hold anything, a comma, ``<``, ``@`` or an encoded word: it is written quoted or encoded, never
as structure. A value where an address goes must come out as exactly one address. So contact data
can never add a recipient, and never hide one in a Bcc.

Headers are written here too (:func:`header_value`), ASCII only: a domain outside ASCII in IDNA
(``xn--bcher-kva.example``), a display name outside plain ASCII as RFC 2047 encoded words. The
email package is not asked to do it: it decodes an encoded word that a name holds and writes the
decoded text back unquoted, so ``=?utf-8?q?Eve_=3Ce=40x.example=3E?=`` became a second address.
"""

from __future__ import annotations

import functools
import re
import secrets
import string
from collections.abc import Sequence
from email import base64mime, quoprimime
from email.header import Header
from email.utils import getaddresses

SLOT_START, SLOT_END = "\ufdd2", "\ufdd3"  # noncharacters: never in real text
# a placeholder: a render's number (Slots keeps only its own), the value's index
_SLOT = re.compile(f"{SLOT_START}(\\d{{12}})_(\\d+){SLOT_END}")
_NOT_IN_ADDRESS = re.compile(r'[,;<>"()\[\]\\\s]')
# what no header may carry: line breaks of any kind, control characters, lone surrogates
_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# a display name written as it is: words of atext, single spaces
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
Pair = tuple[str, str]  # (display name, address)
# the bytes an encoded word in Q writes as one character (itself; a space as "_"), as
# email.quoprimime does; every other byte is =XX
_Q_AS_IS = (string.ascii_letters + string.digits + "-!*+/ ").encode("ascii")


class AddressRefused(ValueError):
    """An address header cannot be written as asked: a one-line message and a hint."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def bad_character(text: str) -> str | None:
    """What in ``text`` a header cannot carry ("a line break (U+2028)"), or None."""
    m = _BAD.search(text)
    if m is None:
        return None
    char = m.group(0)
    if char in _LINE_BREAKS:
        kind = "a line break"
    elif "\ud800" <= char <= "\udfff":
        kind = "a character that is not text"
    else:
        kind = "a control character"
    return f"{kind} (U+{ord(char):04X})"


class Slots:
    """The values of one rendered address header, each replaced by a placeholder that contact
    data cannot forge (a number drawn for this render)."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._nonce = f"{secrets.randbelow(10**12):012d}"

    def _ours(self, text: str) -> list[re.Match[str]]:
        """This render's placeholders in ``text`` (one with another number is text)."""
        return [m for m in _SLOT.finditer(text) if m.group(1) == self._nonce]

    def mark(self, text: str) -> str:
        """The placeholder for one ``{{ value }}`` (the output of a macro or a ``{% set %}``
        block holds placeholders already: its own text is the template's)."""
        if SLOT_START in text and self._ours(text):
            return text
        self.values.append(text)
        return f"{SLOT_START}{self._nonce}_{len(self.values) - 1}{SLOT_END}"

    def fill(self, skeleton: str) -> str:
        """The skeleton with the values put back."""
        if SLOT_START not in skeleton:
            return skeleton
        return _SLOT.sub(
            lambda m: self.values[int(m.group(2))] if m.group(1) == self._nonce else m.group(0),
            skeleton,
        )

    def count(self, skeleton: str) -> int:
        return len(self._ours(skeleton)) if SLOT_START in skeleton else 0


def parse(skeleton: str, slots: Slots, key: str) -> tuple[Pair, ...]:
    """The (name, address) pairs of a rendered address header ``key``, structure from the
    skeleton. Raises AddressRefused."""
    pairs: list[Pair] = []
    found = 0
    for name, addr in getaddresses([skeleton]):
        found += slots.count(name) + slots.count(addr)
        if not name and not addr:
            continue  # "a@x.example, , b@x.example" or a trailing comma
        pairs.append((slots.fill(name).strip(), checked(slots.fill(addr), key)))
    if found != slots.count(skeleton):
        raise AddressRefused(
            f"the {key} cannot be read as addresses",
            "write it as Name <address>, Name <address>, with each {{ }} a name or an address",
        )
    return tuple(pairs)


def checked(addr: str, key: str) -> str:
    """``addr`` if it is exactly one valid address (normalized), else AddressRefused."""
    if not addr:
        raise AddressRefused(
            f"an address in {key} is missing", "write Name <address> or address, comma-separated"
        )
    if _NOT_IN_ADDRESS.search(addr) or addr.count("@") != 1 or bad_character(addr):
        raise AddressRefused(
            f"'{_shown(addr)}' in {key} is not one email address",
            "where an address goes, a {{ }} must give one address; a name goes before the <...>",
        )
    ascii_address(addr, key)
    return _valid(addr)[0]  # type: ignore[index]  # (ascii_address found it valid)


def _valid(addr: str) -> tuple[str, str, str] | None:
    """(normalized address, local part, domain in ASCII) of a valid address, or None. A common
    address (`fields.plain_address`: ASCII dot-atom, ASCII host) is answered without
    email_validator, which gives each of them back as it is with the host lowercased
    (tests/test_addresses_fast.py holds the two to the same answers)."""
    from outreach.fields import plain_address  # (the domain's check; loaded with any book)

    plain = plain_address(addr)
    if plain is not None:
        local, _, domain = plain.rpartition("@")
        return plain, local, domain
    return _validated(addr)


@functools.cache
def _validated(addr: str) -> tuple[str, str, str] | None:
    """`_valid` as email_validator alone answers it."""
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(addr, check_deliverability=False)
    except EmailNotValidError:
        return None
    return str(valid.normalized), str(valid.local_part), str(valid.ascii_domain)


def ascii_address(addr: str, key: str) -> tuple[str, str]:
    """(local part, domain in ASCII: IDNA for a domain outside it) of a valid address. A local
    part outside ASCII cannot go in a header that is not SMTPUTF8: AddressRefused."""
    valid = _valid(addr)
    if valid is None:
        raise AddressRefused(
            f"'{_shown(addr)}' in {key} is not an email address", "fix the address"
        )
    if not valid[1].isascii():
        raise AddressRefused(
            f"'{_shown(addr)}' in {key} has letters outside ASCII before the @",
            "mail headers cannot carry them: give an address written in ASCII",
        )
    return valid[1], valid[2]


def ascii_domain(domain: str) -> str:
    """A domain as headers carry it: as it is when ASCII, else in IDNA."""
    if domain.isascii():
        return domain
    return ascii_address(f"x@{domain}", "the address")[1]


def header_value(header: str, pairs: Sequence[Pair]) -> str:
    """The value of an address header as it goes in the message: ASCII, folded before 78
    characters where it can be. Raises AddressRefused (a name with a line break, an address
    that cannot be written)."""
    items = []
    for name, addr in pairs:
        bad = bad_character(name)
        if bad:
            raise AddressRefused(
                f"the name '{_shown(name)}' in {header} holds {bad}",
                "a header is one line of text",
            )
        local, domain = ascii_address(addr, header)
        items.append(_item(name, f"{local}@{domain}", header))
    out, column = "", len(header) + 2  # the length of the line so far
    for i, item in enumerate(items):
        text = item + ("," if i + 1 < len(items) else "")
        if i:  # on this line after a space, or on the next
            fits = column + 1 + len(text.split("\r\n", 1)[0]) <= 78
            out, column = (out + " ", column + 1) if fits else (out + "\r\n ", 1)
        out += text
        lines = text.split("\r\n")
        column = column + len(text) if len(lines) == 1 else len(lines[-1])
    return out


def _item(name: str, addr: str, header: str) -> str:
    """``name <addr>``: the name as it is (plain words), quoted (other ASCII), or as encoded
    words (anything else, and anything that looks like an encoded word or is long); the
    ``<addr>`` on a line of its own when it does not fit after the name."""
    if not name:
        return addr
    phrase = ""
    if len(name) <= 60 and "=?" not in name:
        if _ATOMS.fullmatch(name):
            phrase = name
        elif name.isascii() and name.isprintable() and not set(name) & {'"', "\\"}:
            phrase = f'"{name}"'
    if not phrase:
        phrase = encoded_words(name, header)
    lines = phrase.split("\r\n")
    column = (len(header) + 2 if len(lines) == 1 else 0) + len(lines[-1])
    gap = " " if column + len(addr) + 3 <= 78 else "\r\n "
    return f"{phrase}{gap}<{addr}>"


def encoded_words(text: str, header: str) -> str:
    """``text`` as RFC 2047 encoded words in UTF-8 after ``header: ``, as the email package's
    ``Header(text, "utf-8", maxlinelen=78, header_name=header).encode(linesep="\\r\\n")``
    writes it. Text that fits in one encoded word on the header's line (a name nearly always)
    is that one word, written here as `email.header` writes it (the shorter of B and Q, its
    own encoders), without its search character by character for where to fold; anything
    longer is left to `email.header` (tests/test_addresses_fast.py compares the two)."""
    data = text.encode("utf-8")
    # (quoprimime.header_length, without its generator over every byte: =XX for the others)
    b_length = base64mime.header_length(data)
    q_length = len(data) + 2 * len(data.translate(None, _Q_AS_IS))
    room = 78 - (len(header) + 2) - len("=?utf-8?q??=")
    if data and min(b_length, q_length) <= room and _BAD.search(text) is None:
        if b_length < q_length:
            return base64mime.header_encode(data, "utf-8")
        return quoprimime.header_encode(data, "utf-8")
    return Header(text, "utf-8", maxlinelen=78, header_name=header).encode(linesep="\r\n")


def _shown(text: str, width: int = 60) -> str:
    """A value for a message: on one line, not too long."""
    text = _BAD.sub("?", text)
    return text if len(text) <= width else text[: width - 3] + "..."
