"""Text made into the readable part of an id or a key: ASCII, lowercase, words joined by dashes.

One function for every slug outreach makes (contact ids from imports, children's and meetings'
parts of touch keys, article ids), so that ``Søren``, ``Straße`` and ``Иван`` give the same slug
wherever they appear. Letters outside ASCII lose their accents (``é`` -> ``e``); letters that
have none to lose are transliterated (``ß`` -> ``ss``, ``ø`` -> ``o``, ``И`` -> ``i``,
``山`` -> ``shan``); other symbols separate words.

:func:`legacy_slug` is how touch keys were made before (accents dropped, any other letter lost:
``Søren`` -> ``sren``). It is kept only so that a key made by an earlier release is still
recognised as made, and never used to make a new one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

from anyascii import anyascii

if TYPE_CHECKING:
    from outreach.contacts import Contact

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def _ascii(char: str) -> str:
    """One character as ASCII: accents dropped (``é`` -> ``e``), compatibility forms unfolded
    (``ﬁ`` -> ``fi``), other letters and digits transliterated by anyascii (``ß`` -> ``ss``,
    ``ø`` -> ``o``, ``И`` -> ``I``, ``山`` -> ``Shan``, the soft sign ``ь`` -> nothing rather than
    anyascii's ``'``); any other symbol is dropped."""
    if char.isascii():
        return char
    folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
    if folded or unicodedata.category(char)[0] not in "LMN":
        return folded
    return re.sub(r"[^A-Za-z0-9]", "", anyascii(char))


def slug(text: str, *, limit: int | None = None, empty: str = "") -> str:
    """``"Zoë O'Brien-Núñez"`` -> ``"zoe-o-brien-nunez"``, ``"Иван Петров"`` -> ``"ivan-petrov"``.

    ``limit`` cuts the slug to that many characters (never ending on a dash); ``empty`` is
    returned when nothing is left (a title of symbols only)."""
    ascii_text = "".join(map(_ascii, unicodedata.normalize("NFC", text)))
    out = _NOT_WORD.sub("-", ascii_text.lower()).strip("-")
    if limit is not None:
        out = out[:limit].rstrip("-")
    return out or empty


def legacy_slug(text: str, *, limit: int | None = None, empty: str = "") -> str:
    """The slug earlier releases made for touch keys (``Søren`` -> ``sren``): only to find
    keys they recorded."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = _NOT_WORD.sub("-", ascii_text.lower()).strip("-")
    if limit is not None:
        out = out[:limit].rstrip("-")
    return out or empty


def children_slugs(contact: Contact, slugger: Callable[..., str]) -> list[str]:
    """Each child's key part as ``slugger`` makes it (see :func:`child_slugs`)."""
    children = contact.family.children
    slugs = [slugger(c.name, empty="x") for c in children]
    names = [c.name for c in children]
    out = []
    for child, part in zip(children, slugs, strict=True):
        if slugs.count(part) > 1:
            tell = child.name if names.count(child.name) == 1 else f"{child.name}|{child.birthday}"
            part = f"{part}-{hashlib.sha1(tell.encode()).hexdigest()[:4]}"
        out.append(part)
    return out


def child_slugs(contact: Contact) -> list[str]:
    """Each child's part of a touch key: the slug of the name ("Sam" -> "sam"); children whose
    names give the same slug ("Jo Ann" and "Jo-Ann") also get a few hex digits of their exact
    name, so the keys stay apart, do not depend on the order of the list, and survive a
    corrected birthday (only two children with the very same name also need the birthday)."""
    return children_slugs(contact, slug)
