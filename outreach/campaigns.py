"""Campaigns: what campaigns.yaml holds (triggers, audience, follow-ups, sequence steps)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from outreach.contacts import Stage
from outreach.fields import Clock, Country, PlainText, Slug, Strict, Text

DateField = Literal[
    "birthday",
    "wedding",
    "work_anniversary",
    "client_since",
    "spouse.birthday",
    "children.birthday",
]
DATE_FIELDS: tuple[str, ...] = DateField.__args__  # type: ignore[attr-defined]


class DateTrigger(Strict):
    kind: Literal["date"]
    field: DateField
    days_before: int = Field(0, ge=0, le=90)


def _holiday_category(value: str) -> str:
    from outreach.occasions import categories

    if value not in categories():
        raise PydanticCustomError(
            "holiday_category",
            "'{value}' is not a holiday category (known: {known})",
            {"value": value, "known": ", ".join(categories())},
        )
    return value


HolidayCategory = Annotated[str, AfterValidator(_holiday_category)]


class HolidayTrigger(Strict):
    kind: Literal["holiday"]
    name: Text
    country: Country | None = None  # default: each contact's country, then the settings' country
    # the holidays package's categories to search (default: all it has for the country)
    categories: tuple[HolidayCategory, ...] = ()
    dates: tuple[dt.date, ...] = ()  # explicit dates for observances the holidays package lacks
    days_before: int = Field(0, ge=0, le=90)


class ScheduleTrigger(Strict):
    kind: Literal["schedule"]
    months: tuple[Annotated[int, Field(ge=1, le=12)], ...] = tuple(range(1, 13))
    day: int = Field(1, ge=1, le=31)  # clamped to the month's last day


class IntervalTrigger(Strict):
    kind: Literal["interval"]
    days: int = Field(ge=1, le=3650)


class AfterMeetingTrigger(Strict):
    kind: Literal["after_meeting"]
    days_after: int = Field(1, ge=0, le=30)  # 1: the next (business) morning
    business_days: bool = True  # count days_after in business days
    each_occurrence: bool = False  # a recurring meeting: a note after every occurrence


class ContentTrigger(Strict):
    kind: Literal["content"]
    every_days: int = Field(30, ge=1, le=3650)  # at most one share per person per N days
    max_age_days: int = Field(90, ge=1, le=3650)  # only articles this fresh (undated ones: always)


Trigger = Annotated[
    DateTrigger
    | HolidayTrigger
    | ScheduleTrigger
    | IntervalTrigger
    | AfterMeetingTrigger
    | ContentTrigger,
    Field(discriminator="kind"),
]
TRIGGER_KINDS = ("date", "holiday", "schedule", "interval", "after_meeting", "content")


class Audience(Strict):
    tags: tuple[Text, ...] = ()  # any of these tags (empty: no tag filter)
    tiers: tuple[Text, ...] = ()
    stages: tuple[Stage, ...] = ()
    exclude_tags: tuple[Text, ...] = ()
    exclude: tuple[Slug, ...] = ()  # contact ids
    handwritten: bool | None = None  # true: only people who prefer handwritten notes; false: not
    countries: tuple[Country, ...] = ()  # their country (else the settings'): one of these


FollowUpKind = Literal["call", "card", "gift", "review", "meeting", "task"]
DEFAULT_TITLES: dict[str, str] = {
    "call": "Call {{ contact.full_name }}",
    "card": "Write a card to {{ contact.full_name }}",
    "gift": "Get a gift for {{ contact.full_name }}",
    "review": "Book a review with {{ contact.full_name }}",
    "meeting": "Meet {{ contact.full_name }}",
    "task": "Follow up with {{ contact.full_name }}",
}


class FollowUp(Strict):
    """A calendar event a campaign adds for each of its touches: call, card, gift, review."""

    kind: FollowUpKind = "task"
    id: Slug | None = None  # default: the kind; unique within the campaign (part of the event UID)
    before: int | None = Field(None, ge=0, le=365)  # days before the anchor
    after: int | None = Field(None, ge=0, le=365)  # days after the anchor
    anchor: Literal["occasion", "draft"] = "occasion"  # the occasion's day, or the draft's
    business_days: bool = False  # count before/after in business days (the contact's country)
    title: Text | None = None  # a template; default by kind ("Call {{ contact.full_name }}")
    text: PlainText | None = None  # a template: your notes
    time: Clock = None  # HH:MM in your time zone for a timed event; none: an all-day event
    minutes: int = Field(30, ge=5, le=600)  # how long a timed event lasts
    alarm_minutes: int | None = Field(None, ge=0, le=40320)  # a reminder this long before

    @model_validator(mode="after")
    def _one_offset(self) -> FollowUp:
        if self.before is not None and self.after is not None:
            raise PydanticCustomError(
                "before_and_after", "give either 'before' or 'after', not both"
            )
        return self

    @property
    def ident(self) -> str:
        return self.id or self.kind

    @property
    def offset_days(self) -> int:
        return -(self.before or 0) if self.before is not None else (self.after or 0)

    @property
    def title_template(self) -> str:
        return self.title or DEFAULT_TITLES[self.kind]


class Step(Strict):
    """A later note of a sequence: drafted into the same conversation, stopped by a reply."""

    template: Text
    after: int = Field(ge=1, le=365)  # days after the previous step was drafted


class Campaign(Strict):
    id: Slug
    name: Text | None = None
    template: Text | None = None  # none: a calendar-only campaign (cards, reviews)
    steps: tuple[Step, ...] = ()  # later notes in the same thread, each `after` days
    followups: tuple[FollowUp, ...] = ()
    trigger: Trigger
    audience: Audience = Audience()
    priority: int = Field(50, ge=0, le=1000)  # higher wins
    cooldown_days: int | None = Field(None, ge=0, le=365)  # None: the settings' default
    catch_up_days: int | None = Field(None, ge=0, le=365)
    business_days: Literal["none", "previous", "next"] = "none"
    to: Literal["preferred", "work", "personal"] = "preferred"
    enabled: bool = True

    @model_validator(mode="after")
    def _does_something(self) -> Campaign:
        if self.template is None and not self.followups:
            raise PydanticCustomError(
                "no_output", "a campaign needs a 'template' (drafts), 'followups' (events) or both"
            )
        if self.steps and self.template is None:
            raise PydanticCustomError(
                "steps_template", "a sequence ('steps') needs the first note's 'template'"
            )
        seen: set[str] = set()
        for f in self.followups:
            if f.ident in seen:
                raise PydanticCustomError(
                    "followup_id", "two follow-ups are called '{id}'", {"id": f.ident}
                )
            seen.add(f.ident)
        return self

    @property
    def title(self) -> str:
        return self.name or self.id.replace("-", " ").capitalize()
