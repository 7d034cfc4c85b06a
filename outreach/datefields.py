"""What a date trigger's ``field`` gives for a contact: the dates (one per child), each with its
part of the touch key. Read by the triggers (the touches) and by the morning target (how many
a year)."""

from __future__ import annotations

from outreach.model import Contact, PartialDate
from outreach.slugs import child_slugs, children_slugs, legacy_slug

# a date, its key part's prefix, its label, the person it is about, the prefix earlier releases made
Dated = tuple[PartialDate, str, str, str | None, str]


def dated_people(contact: Contact, f: str) -> list[Dated]:
    """The dates a date trigger's ``field`` gives for this contact (one per child): each with
    its key part's prefix, label, the person it is about, and the prefix earlier releases made."""
    people: list[Dated] = []
    if f == "birthday" and contact.dates.birthday:
        people.append((contact.dates.birthday, "", "birthday", None, ""))
    elif f == "wedding" and contact.dates.wedding:
        people.append((contact.dates.wedding, "", "wedding anniversary", None, ""))
    elif f == "client_since" and contact.dates.client_since:
        d = contact.dates.client_since
        people.append((PartialDate(d.month, d.day, d.year), "", "client anniversary", None, ""))
    elif f == "work_anniversary" and contact.start_date:
        d = contact.start_date
        people.append((PartialDate(d.month, d.day, d.year), "", "work anniversary", None, ""))
    elif f == "spouse.birthday" and contact.family.spouse and contact.family.spouse.birthday:
        s = contact.family.spouse
        assert s.birthday is not None
        people.append((s.birthday, "spouse-", f"{s.name}'s birthday", s.name, "spouse-"))
    elif f == "children.birthday":
        kids = contact.family.children
        olds = children_slugs(contact, legacy_slug)
        for child, part, old in zip(kids, child_slugs(contact), olds, strict=True):
            if child.birthday:
                label = f"{child.name}'s birthday"
                people.append((child.birthday, f"{part}-", label, child.name, f"{old}-"))
    return people


def how_many(contact: Contact, f: str) -> int:
    """How many dates ``dated_people`` gives (without making the children's key parts)."""
    if f == "children.birthday":
        return sum(1 for child in contact.family.children if child.birthday)
    return len(dated_people(contact, f))
