"""The domain: contacts, campaigns, settings (validated, frozen) and the planner's values.

The YAML spelling of every key is documented in the README ("Reference"). Models forbid unknown
keys, so a typo is reported instead of silently disabling something.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

# --------------------------------------------------------------------------- value types


_BREAK = re.compile("[\r\n\x85\u2028\u2029]")  # what mail headers and str.splitlines() break at
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0, DEL, C1: not TAB, LF, CR


def _no_control(value: str) -> str:
    """Text (a note too) holds no control characters but TAB and line breaks."""
    m = _CONTROL.search(value)
    if m:
        raise PydanticCustomError(
            "control_char",
            "contains the control character U+{code}, which is not allowed in text",
            {"code": f"{ord(m.group()):04X}"},
        )
    return value


def _on_one_line(value: str, where: str) -> str:
    m = _BREAK.search(value)
    if m:
        raise PydanticCustomError(
            "header_crlf",
            "contains a line break{code}, which is not allowed in " + where,
            {"code": "" if m.group() in "\r\n" else f" (U+{ord(m.group()):04X})"},
        )
    return _no_control(value)


def _no_crlf(value: str) -> str:
    return _on_one_line(value, "a mail header")


def _one_line(value: str) -> str:
    return _on_one_line(value, "a one-line value")


def _slug(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", value):
        raise PydanticCustomError(
            "slug",
            "'{value}' is not a valid id (lowercase letters, digits, '.', '_' and '-')",
            {"value": value},
        )
    return value


def _email(value: str) -> str:
    """The normalized address (NFC; the domain lowercased, in Unicode: 'probe@bücher.example'
    also for 'probe@xn--bcher-kva.example'). A local part outside ASCII needs SMTPUTF8, which
    drafts do not use."""
    from email_validator import EmailNotValidError, validate_email

    _no_crlf(value)
    try:
        found = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise PydanticCustomError(
            "email", "'{value}' is not an email address", {"value": value}
        ) from None
    if found.smtputf8:
        raise PydanticCustomError(
            "email_ascii",
            "'{value}' has characters outside ASCII before the @, which drafts cannot address",
            {"value": value},
        )
    return found.normalized


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone", "'{value}' is not a known time zone", {"value": value}
        ) from None
    return value


def _country(value: str) -> str:
    import holidays

    code = value.upper()
    if code not in holidays.list_supported_countries():
        raise PydanticCustomError(
            "country", "'{value}' is not a known country code", {"value": value}
        )
    return code


def _strip_nonempty(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise PydanticCustomError("empty", "must not be empty")
    return value


Text = Annotated[str, BeforeValidator(_strip_nonempty), AfterValidator(_one_line)]
Prose = Annotated[str, BeforeValidator(_strip_nonempty), AfterValidator(_no_control)]  # notes
Key = Annotated[str, AfterValidator(_one_line)]
HeaderText = Annotated[str, BeforeValidator(_strip_nonempty), AfterValidator(_no_crlf)]
Slug = Annotated[str, AfterValidator(_slug)]
Email = Annotated[str, AfterValidator(_email)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Country = Annotated[str, AfterValidator(_country)]


def _clock(value: Any) -> Any:
    if value is None or value is False:
        return None
    if isinstance(value, int) and not isinstance(value, bool):  # YAML 1.1 reads 08:30 as 510
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str) and re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
        h, m = value.strip().split(":")
        return f"{int(h):02d}:{m}"
    raise PydanticCustomError(
        "clock", "'{value}' is not a time of day (use HH:MM, e.g. 08:30)", {"value": value}
    )


Clock = Annotated[str | None, BeforeValidator(_clock)]


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date whose year may be unknown (vCard's ``--MM-DD``)."""

    month: int
    day: int
    year: int | None = None

    def __str__(self) -> str:
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def in_year(self, year: int) -> dt.date:
        """This month-day in ``year``; Feb 29 falls on Feb 28 in common years."""
        if self.month == 2 and self.day == 29:
            try:
                return dt.date(year, 2, 29)
            except ValueError:
                return dt.date(year, 2, 28)
        return dt.date(year, self.month, self.day)


_PARTIAL = re.compile(r"--(\d{2})-(\d{2})|(\d{4})-(\d{2})-(\d{2})")


def _partial_date(value: Any) -> PartialDate:
    if isinstance(value, PartialDate):
        return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return PartialDate(value.month, value.day, value.year)
    if isinstance(value, str):
        m = _PARTIAL.fullmatch(value.strip())
        if m:
            if m.group(1):
                month, day, year = int(m.group(1)), int(m.group(2)), None
            else:
                year, month, day = int(m.group(3)), int(m.group(4)), int(m.group(5))
            try:
                dt.date(year if year is not None else 2000, month, day)  # 2000: a leap year
            except ValueError:
                raise PydanticCustomError(
                    "impossible_date", "'{value}' is not a real date", {"value": value}
                ) from None
            return PartialDate(month, day, year)
    raise PydanticCustomError(
        "partial_date",
        "'{value}' is not a date (use YYYY-MM-DD, or --MM-DD when the year is unknown)",
        {"value": value},
    )


YearOptionalDate = Annotated[
    PartialDate, BeforeValidator(_partial_date), PlainSerializer(str, return_type=str)
]


class Strict(BaseModel):
    """Base of every YAML-facing model: frozen, unknown keys forbidden."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --------------------------------------------------------------------------- contacts


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



# --------------------------------------------------------------------------- campaigns

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
    text: Annotated[str, AfterValidator(_no_control)] | None = None  # a template: your notes
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



# --------------------------------------------------------------------------- settings


class Sender(Strict):
    name: HeaderText
    email: Email
    company: Text | None = None
    signature: Annotated[str, AfterValidator(_no_control)] | None = None


class Limits(Strict):
    per_contact_per_day: int = Field(1, ge=1, le=10)
    cooldown_days: int = Field(3, ge=0, le=365)
    nightly_cap: int = Field(50, ge=1, le=100000)


class DraftsSettings(Strict):
    backend: Literal["dir", "gmail"] = "dir"
    dir: Text = "drafts"


GOOGLE_API_ROOT = "https://gmail.googleapis.com/"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


def _url(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if _CONTROL.search(value) or not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value):
            raise PydanticCustomError("url", "'{value}' is not an http(s) URL", {"value": value})
    return value


def _root_url(value: Any) -> Any:
    value = _url(value)
    return value if not isinstance(value, str) or value.endswith("/") else value + "/"


class GmailSettings(Strict):
    token_file: Text = "~/.config/outreach/gmail-token.json"  # written by `outreach auth gmail`
    client_secrets: Text = "client_secret.json"  # the OAuth client (Desktop app) from Google Cloud
    api_root: Annotated[str, BeforeValidator(_root_url)] = GOOGLE_API_ROOT  # a proxy or emulator
    token_uri: Annotated[str | None, BeforeValidator(_url)] = None  # default: Google's
    quota_per_minute: int = Field(6000, ge=50, le=1_000_000)  # units per user per minute
    batch_size: int = Field(20, ge=1, le=50)  # drafts per batch request
    timeout_seconds: float = Field(30, gt=0, le=600)
    max_retries: int = Field(6, ge=0, le=20)
    reply_detection: bool = False  # needs the gmail.readonly scope: re-run `outreach auth gmail`


class CalendarSettings(Strict):
    path: Text = "calendar.ics"  # the follow-up feed, rewritten by every run
    name: Text = "outreach follow-ups"
    past_days: int = Field(14, ge=0, le=365)  # the rolling window the feed holds
    future_days: int = Field(90, ge=1, le=730)
    review_drafts: Clock = "08:00"  # an event to look at each night's drafts; null: none


class MeetingsSettings(Strict):
    sources: tuple[Text, ...] = ()  # iCalendar URLs (Google's secret iCal address) or files
    me: tuple[Email, ...] = ()  # your own addresses, never a contact (default: sender.email)
    lookback_days: int = Field(14, ge=1, le=365)  # how far back meetings are read
    timeout_seconds: float = Field(10, gt=0, le=120)


class FeedSetting(Strict):
    url: Text
    tags: tuple[Text, ...] = ()  # given to every item of this feed


class ArticlesSettings(Strict):
    library: Text = "articles.yaml"  # your own clippings with a personal note (optional file)
    feeds: tuple[FeedSetting, ...] = ()  # RSS or Atom feeds
    timeout_seconds: float = Field(10, gt=0, le=120)


def _backend_shorthand(value: Any) -> Any:
    """`drafts: gmail` is short for `drafts: {backend: gmail}`."""
    return {"backend": value} if isinstance(value, str) else value


class Settings(Strict):
    sender: Sender
    timezone: TimeZone = "UTC"
    country: Country = "US"
    contacts: Text = "contacts.yaml"
    campaigns: Text = "campaigns.yaml"
    templates: Text = "templates"
    state: Text = ".outreach/state.db"
    drafts: Annotated[DraftsSettings, BeforeValidator(_backend_shorthand)] = DraftsSettings()
    gmail: GmailSettings = GmailSettings()
    limits: Limits = Limits()
    calendar: CalendarSettings = CalendarSettings()
    interactions: Text = "interactions.yaml"  # what `outreach log` appends to
    meetings: MeetingsSettings = MeetingsSettings()
    articles: ArticlesSettings = ArticlesSettings()


# --------------------------------------------------------------------------- planner values

# the planner's values live in outreach.touch (imported from here by earlier code)
from outreach.touch import Deferred as Deferred  # noqa: E402
from outreach.touch import History as History  # noqa: E402
from outreach.touch import Occasion as Occasion  # noqa: E402
from outreach.touch import Touch as Touch  # noqa: E402
