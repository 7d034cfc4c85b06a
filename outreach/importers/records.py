"""One person as read from an export (a row or a card), and the labels exports give values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from outreach.slugs import slug


@dataclass
class Record:
    """One person as read from an export, before mapping to contacts.yaml."""

    source: str  # "row 7", "card 3"
    first: str = ""
    last: str = ""
    nickname: str = ""
    full: str = ""  # a display name to fall back on (vCard FN, Google's old "Name" column)
    reading: str = ""  # the phonetic name, first then last ("たろう やまだ"): for the id
    emails: list[tuple[str, str]] = field(default_factory=list)  # (work | personal | "", address)
    company: str = ""
    title: str = ""
    birthday: str = ""  # as written in the file
    wedding: str = ""
    spouse: str = ""
    children: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    hobbies: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stage: str = ""
    not_person: str = ""  # why this is not a person (a company card)
    problems: list[str] = field(default_factory=list)

    def relate(self, labels: set[str], names: list[str]) -> None:
        """A relation (Google's "Relation N", vCard's RELATED): the first spouse or partner
        named is the spouse, every child named a child; other relations are not kept."""
        if labels & _SPOUSE_LABELS and not self.spouse:
            self.spouse = next(iter(names), "")
        elif labels & _CHILD_LABELS:
            self.children += names


_SPOUSE_LABELS = {"spouse", "partner", "domestic partner", "husband", "wife"}
_CHILD_LABELS = {"child", "son", "daughter"}
WEDDING_LABELS = {"anniversary", "wedding", "wedding anniversary"}
_SYSTEM_GROUPS = {"mycontacts", "starred"}  # Google's own groups, not the user's labels


def plain_label(text: str) -> str:
    """``"* Work"``, ``"_$!<Anniversary>!$_"`` -> ``"work"``, ``"anniversary"``."""
    text = text.strip()
    m = re.fullmatch(r"_\$!<(.*)>!\$_", text)
    if m:
        text = m.group(1)
    return " ".join(text.lstrip("*").split()).casefold()


def as_tag(text: str) -> str | None:
    """A Google label or vCard category as a tag: a lowercase slug; None for Google's own."""
    name = text.strip()
    if plain_label(name).replace(" ", "") in _SYSTEM_GROUPS:
        return None
    return slug(name.lstrip("* ")) or None


def email_kind(labels: Iterable[str]) -> str:
    """work | personal | "" (unlabeled), from a label or vCard TYPE values."""
    found = {plain_label(x) for x in labels if x.strip()}
    if "work" in found:
        return "work"
    if found - {"internet", "pref", "x400", "x-internet", ""}:
        return "personal"  # home, other, or the user's own label
    return ""
