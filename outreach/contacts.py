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
    first: HeaderText = Field(description="first name", examples=["Jane"])
    last: HeaderText | None = Field(None, description="last name", examples=["Doe"])
    nickname: HeaderText | None = Field(None, description="what they go by", examples=["JD"])
    greeting: HeaderText | None = Field(
        None,
        description='how to greet ("Dr. Patel"); default nickname, then first',
        examples=["Jane"],
    )

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}" if self.last else self.first

    @property
    def greet(self) -> str:
        return self.greeting or self.nickname or self.first


class Emails(Strict):
    work: Email | None = Field(None, description="work address", examples=["jane@acme.example"])
    personal: Email | None = Field(
        None,
        description="personal address: customers change employers; keep both",
        examples=["jane@home.example"],
    )
    preferred: Literal["work", "personal"] | None = Field(
        None,
        description="first choice (default: work)",
        examples=["work"],
    )


class Relative(Strict):
    name: Text = Field(description="the first name (part of a child's touch key)")
    birthday: YearOptionalDate | None = Field(
        None, description="YYYY-MM-DD, or --MM-DD when the year is unknown"
    )
    interests: tuple[Text, ...] = Field((), description="what they like, for the note")


class Family(Strict):
    spouse: Relative | None = Field(
        None,
        description="spouse or partner",
        examples=[{"name": "Chris", "birthday": "--11-02", "interests": ["gardening"]}],
    )
    children: tuple[Relative, ...] = Field(
        (),
        description="one birthday touch per child",
        examples=[[{"name": "Sam", "birthday": "2014-09-21", "interests": ["soccer"]}]],
    )


class Dates(Strict):
    birthday: YearOptionalDate | None = Field(
        None, description="YYYY-MM-DD, or --MM-DD when the year is unknown", examples=["--04-12"]
    )
    wedding: YearOptionalDate | None = Field(
        None, description="the wedding day (the year optional too)", examples=["2009-08-08"]
    )
    client_since: dt.date | None = Field(
        None, description="the day they became a client", examples=["2021-01-15"]
    )


class Profile(Strict):
    hobbies: tuple[Text, ...] = Field((), description="hobbies", examples=[["golf", "wine"]])
    interests: tuple[Text, ...] = Field(
        (), description="interests", examples=[["retirement planning"]]
    )
    teams: tuple[Text, ...] = Field(
        (), description="teams they follow", examples=[["Chicago Cubs"]]
    )
    favorites: dict[Key, Text] = Field(
        default_factory=dict,
        description="name: value pairs, any names",
        examples=[{"restaurant": "Gibsons", "drink": "Napa cabernet"}],
    )
    avoid: tuple[Text, ...] = Field((), description="topics to avoid", examples=[["politics"]])


class Preferences(Strict):
    email_ok: bool = Field(True, description="false: no drafts (cards and calls only)")
    do_not_contact: bool = Field(False, description="true: nothing, ever")
    handwritten: bool = Field(False, description="prefers handwritten notes (audience.handwritten)")


InteractionKind = Literal["meeting", "call", "email", "note", "gift", "visit", "other"]


class Interaction(Strict):
    date: dt.date = Field(description="the day it happened", examples=["2026-05-02"])
    kind: InteractionKind = Field("meeting", description="what it was")
    summary: Prose | None = Field(None, description="a line about it", examples=["Q2 review"])


class LoggedInteraction(Strict):
    """One line of the interactions file that `outreach log` appends to."""

    contact: Slug = Field(description="the contact's id")
    date: dt.date = Field(description="the day it happened")
    kind: InteractionKind = Field("note", description="what it was")
    summary: Prose | None = Field(None, description="a line about it")


class Contact(Strict):
    id: Slug = Field(
        description="stable; lowercase letters, digits, . _ -",
        examples=["jane-doe"],
    )
    name: Name = Field(description="each on one line (names end up in subjects)")
    email: Emails = Field(default_factory=Emails, description="where drafts go")
    company: HeaderText | None = Field(None, description="their company", examples=["Acme Corp"])
    title: Text | None = Field(None, description="their job title", examples=["CFO"])
    start_date: dt.date | None = Field(
        None, description="at the current company: work anniversaries", examples=["2019-03-01"]
    )
    timezone: TimeZone | None = Field(
        None, description="their IANA time zone", examples=["America/Chicago"]
    )
    country: Country | None = Field(
        None,
        description="ISO code, for holidays (default: the settings' country)",
        examples=["US"],
    )
    tags: tuple[Text, ...] = Field((), description="for audience.tags", examples=[["golf", "vip"]])
    tier: Text | None = Field(None, description="for audience.tiers", examples=["A"])
    stage: Stage | None = Field(None, description="for audience.stages", examples=["customer"])
    dates: Dates = Field(default_factory=Dates, description="the days date triggers greet")
    family: Family = Field(default_factory=Family, description="the people close to them")
    profile: Profile = Field(default_factory=Profile, description="what templates can talk about")
    preferences: Preferences = Field(
        default_factory=Preferences, description="what they want from you"
    )
    notes: Prose | None = Field(
        None, description="free text, any lines", examples=["Met at the 2024 CFO Forum."]
    )
    interactions: tuple[Interaction, ...] = Field(
        (),
        description="meetings, calls, gifts: they reset keep-in-touch",
        examples=[[{"date": "2026-05-02", "kind": "meeting", "summary": "Q2 review"}]],
    )
    last_contacted: dt.date | None = Field(
        None, description="the last touch outside outreach", examples=["2026-05-02"]
    )

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
