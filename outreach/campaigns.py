"""Campaigns: what campaigns.yaml holds (triggers, audience, follow-ups, sequence steps)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from outreach.contacts import Stage
from outreach.fields import Clock, Country, Lazy, PlainText, Slug, Text

DateField = Literal[
    "birthday",
    "wedding",
    "work_anniversary",
    "client_since",
    "spouse.birthday",
    "children.birthday",
]
DATE_FIELDS: tuple[str, ...] = DateField.__args__  # type: ignore[attr-defined]


class DateTrigger(Lazy):
    kind: Literal["date"] = Field(description="a day of the contact's")
    field: DateField = Field(description="which day")
    days_before: int = Field(0, ge=0, le=90, description="days before the occasion it is due")
    days_after: int = Field(
        0,
        ge=0,
        le=365,
        description="or days after it (a referral ask after a client anniversary)",
    )

    @model_validator(mode="after")
    def _one_side(self) -> DateTrigger:
        if self.days_before and self.days_after:
            raise ValueError("give days_before or days_after, not both")
        return self


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


class HolidayTrigger(Lazy):
    kind: Literal["holiday"] = Field(description="a public holiday or observance")
    name: Text = Field(
        description="as the holidays package spells it, in English or the country's language"
    )
    country: Country | None = Field(
        None, description="default: each contact's country, then the settings' country"
    )
    categories: tuple[HolidayCategory, ...] = Field(
        (),
        description="the holidays package's categories to search (default: all it has)",
    )
    dates: tuple[dt.date, ...] = Field(
        (), description="the dates of observances the holidays package lacks"
    )
    days_before: int = Field(0, ge=0, le=90, description="days before the occasion it is due")


class ScheduleTrigger(Lazy):
    kind: Literal["schedule"] = Field(description="the same day of chosen months")
    months: tuple[Annotated[int, Field(ge=1, le=12)], ...] = Field(
        tuple(range(1, 13)), description="the months (1-12)"
    )
    day: int = Field(1, ge=1, le=31, description="the day (1-31), clamped to the month's last day")


class IntervalTrigger(Lazy):
    kind: Literal["interval"] = Field(description="keep in touch")
    days: int = Field(ge=1, le=3650, description="days since the person's last touch of any kind")


class AfterMeetingTrigger(Lazy):
    kind: Literal["after_meeting"] = Field(description="a note after a meeting in meetings.sources")
    days_after: int = Field(
        1, ge=0, le=30, description="days after the meeting (1: the next morning)"
    )
    business_days: bool = Field(True, description="count days_after in business days")
    each_occurrence: bool = Field(
        False, description="a recurring meeting: a note after every occurrence (false: one note)"
    )


class ContentTrigger(Lazy):
    kind: Literal["content"] = Field(description="share an article")
    every_days: int = Field(
        30, ge=1, le=3650, description="at most one share per person in this many days"
    )
    max_age_days: int = Field(
        90, ge=1, le=3650, description="only articles this fresh (undated ones: always)"
    )


class IntroductionTrigger(Lazy):
    kind: Literal["introduction"] = Field(description="introductions.yaml: two people meet")
    mode: Literal["together", "apart"] = Field(
        "together",
        description="together: one note to both; apart: one to each (an entry may override)",
    )


Trigger = Annotated[
    DateTrigger
    | HolidayTrigger
    | ScheduleTrigger
    | IntervalTrigger
    | AfterMeetingTrigger
    | ContentTrigger
    | IntroductionTrigger,
    Field(discriminator="kind"),
]
TRIGGER_KINDS = (
    "date",
    "holiday",
    "schedule",
    "interval",
    "after_meeting",
    "content",
    "introduction",
)


class Audience(Lazy):
    tags: tuple[Text, ...] = Field((), description="any of these tags", examples=[["vip", "golf"]])
    tiers: tuple[Text, ...] = Field((), description="any of these tiers", examples=[["A", "B"]])
    stages: tuple[Stage, ...] = Field(
        (), description="any of these stages", examples=[["customer", "prospect"]]
    )
    exclude_tags: tuple[Text, ...] = Field(
        (), description="none of these tags", examples=[["no-birthday"]]
    )
    exclude: tuple[Slug, ...] = Field((), description="contact ids, e.g. [bob-smith]")
    handwritten: bool | None = Field(
        None,
        description="true: only people with preferences.handwritten; false: the others",
    )
    countries: tuple[Country, ...] = Field(
        (),
        description="e.g. [US, CA]: by the contact's country (else the settings')",
    )
    since_days: int | None = Field(
        None,
        ge=0,
        le=36500,
        description="only clients of at least this many days (dates.client_since)",
        examples=[365],
    )


FollowUpKind = Literal["call", "card", "gift", "review", "meeting", "task"]
DEFAULT_TITLES: dict[str, str] = {
    "call": "Call {{ contact.full_name }}",
    "card": "Write a card to {{ contact.full_name }}",
    "gift": "Get a gift for {{ contact.full_name }}",
    "review": "Book a review with {{ contact.full_name }}",
    "meeting": "Meet {{ contact.full_name }}",
    "task": "Follow up with {{ contact.full_name }}",
}


class FollowUp(Lazy):
    """A calendar event a campaign adds for each of its touches: call, card, gift, review."""

    kind: FollowUpKind = Field("task", description="the event", examples=["card"])
    id: Slug | None = Field(
        None,
        description="default: the kind; unique within the campaign (part of the event UID)",
    )
    before: int | None = Field(
        None, ge=0, le=365, description="days before the anchor (or after: N)", examples=[10]
    )
    after: int | None = Field(None, ge=0, le=365, description="days after the anchor (or before)")
    anchor: Literal["occasion", "draft"] = Field(
        "occasion",
        description="the occasion's day, or the night of the draft",
    )
    business_days: bool = Field(
        False, description="count before/after in business days (the contact's country)"
    )
    title: Text | None = Field(
        None,
        description="a template (default: by kind)",
        examples=["Write {{ contact.first | possessive }} card"],
    )
    text: PlainText | None = Field(
        None,
        description="a template, atop the description",
        examples=["Ideas: {{ contact.profile.hobbies | join_and }}"],
    )
    time: Clock = Field(
        None,
        description="HH:MM in your time zone for a timed event; none: an all-day event",
        examples=["10:00"],
    )
    minutes: int = Field(30, ge=5, le=600, description="how long a timed event lasts")
    alarm_minutes: int | None = Field(
        None,
        ge=0,
        le=40320,
        description="a reminder this long before (if the app honours it)",
        examples=[15],
    )

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


class Step(Lazy):
    """A later note of a sequence: drafted into the same conversation, stopped by a reply."""

    template: Text = Field(description="a file in templates/", examples=["birthday-2.md"])
    after: int = Field(
        ge=1, le=365, description="days after the previous note was drafted", examples=[4]
    )


class Campaign(Lazy):
    id: Slug = Field(
        description="stable (part of every touch key)",
        examples=["birthday"],
    )
    name: Text | None = Field(
        None,
        description="shown in plans, {{ campaign.name }}",
        examples=["Birthday greeting"],
    )
    template: Text | None = Field(
        None,
        description="the first note: a file in templates/; none: a calendar-only campaign",
        examples=["birthday.md"],
    )
    steps: tuple[Step, ...] = Field(
        (),
        description="a sequence: later notes in the same conversation, stopped by a reply",
        examples=[[{"template": "birthday-2.md", "after": 4}]],
    )
    followups: tuple[FollowUp, ...] = Field(
        (),
        description="calendar events for this campaign's touches",
        examples=[[{"kind": "card", "before": 10}]],
    )
    trigger: Trigger = Field(
        description="when a touch is due (see Triggers below)",
        examples=[{"kind": "date", "field": "birthday"}],
    )
    audience: Audience = Field(
        default_factory=Audience, description="who gets it: all optional; empty means everyone"
    )
    priority: int = Field(
        50, ge=0, le=1000, description="0-1000, the higher wins a day", examples=[90]
    )
    cooldown_days: int | None = Field(
        None, ge=0, le=365, description="default: limits.cooldown_days", examples=[0]
    )
    catch_up_days: int | None = Field(
        None,
        ge=0,
        le=365,
        description=(
            "how late a touch may still be made (default: up to the occasion; 14 days for "
            "schedules)"
        ),
        examples=[3],
    )
    business_days: Literal["none", "previous", "next"] = Field(
        "none", description="move a due day off weekends and holidays"
    )
    to: Literal["preferred", "work", "personal"] = Field(
        "preferred", description="which address, else the other", examples=["personal"]
    )
    every_days: int | None = Field(
        None,
        ge=1,
        le=3650,
        description="a person gets at most one touch of this campaign in this many days",
        examples=[365],
    )
    flexible: bool = Field(
        False,
        description=(
            "its notes may wait for a quieter morning, within their window (keep-in-touch and "
            "article shares always may)"
        ),
    )
    enabled: bool = Field(True, description="false: the campaign does nothing")

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
