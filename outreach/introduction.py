"""An introduction (introductions.yaml): one act about two people. Either two contacts (``from``
will call, ``to`` benefits) or a colleague of the user's introduced to a contact.

Domain: a value, validated like the other files (file:line problems by :mod:`outreach.config`).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from outreach.fields import Email, HeaderText, Prose, Slug, Strict, Text
from outreach.slugs import slug


class Colleague(Strict):
    name: HeaderText = Field(description="your colleague's name", examples=["Sam Ortiz"])
    email: Email = Field(description="their address (in Cc of the note)")
    role: Text | None = Field(None, description="what they do", examples=["receivables"])


class Introduction(Strict):
    date: dt.date = Field(description="the night the note(s) are due", examples=["2026-12-03"])
    from_: Slug | None = Field(
        None,
        alias="from",
        description="the contact who will call (a contact's id)",
        examples=["dan-okafor"],
    )
    colleague: Colleague | None = Field(
        None, description="or your colleague, introduced to `to` (in Cc)"
    )
    to: Slug = Field(
        description="the contact who benefits (a contact's id)", examples=["aisha-karim"]
    )
    why: Prose = Field(description="why they should meet", examples=["Dan needs a partner"])
    mode: Literal["together", "apart"] | None = Field(
        None, description="overrides the campaign's mode for this introduction"
    )

    @model_validator(mode="after")
    def _two_people(self) -> Introduction:
        if (self.from_ is None) == (self.colleague is None):
            raise ValueError("give 'from' (a contact) or 'colleague', one of them")
        if self.from_ is not None and self.from_ == self.to:
            raise ValueError("'from' and 'to' are the same person")
        return self

    @property
    def ident(self) -> str:
        """The key part of the introduction: its date and the people, stable."""
        who = (
            self.from_
            if self.from_ is not None
            else slug(self.colleague.name if self.colleague else "")
        )
        return f"{self.date.isoformat()}-{who}-{self.to}"
