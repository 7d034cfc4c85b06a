"""The few lines about a person that a follow-up event carries: who they are, their family, what
they like and what to avoid, the last interaction, your notes. Read before a call or a card."""

from __future__ import annotations

import datetime as dt
from typing import Any

from outreach.model import Contact


def _age(birthday: Any, today: dt.date) -> str:
    year = getattr(birthday, "year", None)
    if not year:
        return ""
    age = today.year - year - ((today.month, today.day) < (birthday.month, birthday.day))
    return f" ({age})" if age >= 0 else ""


def cheat_sheet(contact: Contact, today: dt.date) -> list[str]:
    """A few lines to read before calling or writing: who they are and what to remember."""
    who = contact.name.full
    role = ", ".join(x for x in (contact.title, contact.company) if x)
    lines = [f"About {who}" + (f" ({role})" if role else "")]
    fam = contact.family
    family = []
    if fam.spouse:
        family.append(f"spouse {fam.spouse.name}")
    if fam.children:
        kids = ", ".join(f"{c.name}{_age(c.birthday, today)}" for c in fam.children)
        family.append(f"children {kids}")
    if family:
        lines.append("Family: " + "; ".join(family))
    p = contact.profile
    likes = [
        (label, values)
        for label, values in (
            ("Hobbies", p.hobbies),
            ("Interests", p.interests),
            ("Teams", p.teams),
        )
        if values
    ]
    for label, values in likes:
        lines.append(f"{label}: {', '.join(values)}")
    if p.favorites:
        lines.append("Favourites: " + "; ".join(f"{k}: {v}" for k, v in p.favorites.items()))
    if p.avoid:
        lines.append(f"Avoid: {', '.join(p.avoid)}")
    past = [i for i in contact.interactions if i.date <= today]
    if past:
        last = max(past, key=lambda i: i.date)
        lines.append(
            f"Last {last.kind}: {last.date.isoformat()}"
            + (f": {last.summary}" if last.summary else "")
        )
    if contact.preferences.handwritten:
        lines.append("Prefers handwritten notes.")
    if contact.notes:
        lines.append(f"Notes: {contact.notes}")
    return lines
