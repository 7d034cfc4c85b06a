"""Contacts: the people in contacts.yaml (names, addresses, family, dates, profile,
preferences, interactions) and the lines `outreach log` appends to interactions.yaml."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import Field

from outreach.fields import (
    Country,
    Email,
    HeaderText,
    Key,
    Prose,
    Slug,
    Strict,
    Text,
    TimeZone,
    YearOptionalDate,
)


class Stage(StrEnum):
    PROSPECT = "prospect"
    CUSTOMER = "customer"
    FORMER = "former"


class Name(Strict):
    first: HeaderText
    last: HeaderText | None = None
    nickname: HeaderText | None = None  # names often end up in subjects: one line each
    greeting: HeaderText | None = None  # how to greet: "Dr. Patel", "Jim"

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}" if self.last else self.first

    @property
    def greet(self) -> str:
        return self.greeting or self.nickname or self.first


class Emails(Strict):
    work: Email | None = None
    personal: Email | None = None
    preferred: Literal["work", "personal"] | None = None


class Relative(Strict):
    name: Text
    birthday: YearOptionalDate | None = None
    interests: tuple[Text, ...] = ()


class Family(Strict):
    spouse: Relative | None = None
    children: tuple[Relative, ...] = ()


class Dates(Strict):
    birthday: YearOptionalDate | None = None
    wedding: YearOptionalDate | None = None
    client_since: dt.date | None = None


class Profile(Strict):
    hobbies: tuple[Text, ...] = ()
    interests: tuple[Text, ...] = ()
    teams: tuple[Text, ...] = ()
    favorites: dict[Key, Text] = Field(default_factory=dict)
    avoid: tuple[Text, ...] = ()  # topics to avoid


class Preferences(Strict):
    email_ok: bool = True
    do_not_contact: bool = False
    handwritten: bool = False


InteractionKind = Literal["meeting", "call", "email", "note", "gift", "visit", "other"]


class Interaction(Strict):
    date: dt.date
    kind: InteractionKind = "meeting"
    summary: Prose | None = None


class LoggedInteraction(Strict):
    """One line of the interactions file that `outreach log` appends to."""

    contact: Slug
    date: dt.date
    kind: InteractionKind = "note"
    summary: Prose | None = None


class Contact(Strict):
    id: Slug
    name: Name
    email: Emails = Emails()
    company: HeaderText | None = None
    title: Text | None = None
    start_date: dt.date | None = None  # at the current company: work anniversaries
    timezone: TimeZone | None = None
    country: Country | None = None
    tags: tuple[Text, ...] = ()
    tier: Text | None = None
    stage: Stage | None = None
    dates: Dates = Dates()
    family: Family = Family()
    profile: Profile = Profile()
    preferences: Preferences = Preferences()
    notes: Prose | None = None
    interactions: tuple[Interaction, ...] = ()
    last_contacted: dt.date | None = None

    def address(self, which: Literal["preferred", "work", "personal"]) -> str | None:
        """The address to write to: the asked one, else the preferred, else any."""
        order: list[str | None]
        if which == "work":
            order = [self.email.work, self.email.personal]
        elif which == "personal" or self.email.preferred == "personal":
            order = [self.email.personal, self.email.work]
        else:
            order = [self.email.work, self.email.personal]
        return next((a for a in order if a), None)

    def last_interaction(self, on_or_before: dt.date) -> dt.date | None:
        """The latest logged interaction or ``last_contacted`` up to a date (a meeting already
        booked for next week has not happened yet)."""
        days = [i.date for i in self.interactions if i.date <= on_or_before]
        if self.last_contacted and self.last_contacted <= on_or_before:
            days.append(self.last_contacted)
        return max(days) if days else None
