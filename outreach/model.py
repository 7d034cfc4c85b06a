"""The domain: contacts, campaigns, settings (validated, frozen) and the planner's values.

The models live in ``outreach.contacts``, ``outreach.campaigns`` and ``outreach.settings`` (their
shared value types in ``outreach.fields``); this module re-exports them under their old names.
The YAML spelling of every key is documented in the README ("Reference"), generated from the
models by ``outreach.reference``. Models forbid unknown keys, so a typo is reported instead of
silently disabling something.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from outreach.campaigns import DATE_FIELDS as DATE_FIELDS
from outreach.campaigns import DEFAULT_TITLES as DEFAULT_TITLES
from outreach.campaigns import TRIGGER_KINDS as TRIGGER_KINDS
from outreach.campaigns import AfterMeetingTrigger as AfterMeetingTrigger
from outreach.campaigns import Audience as Audience
from outreach.campaigns import Campaign as Campaign
from outreach.campaigns import ContentTrigger as ContentTrigger
from outreach.campaigns import DateField as DateField
from outreach.campaigns import DateTrigger as DateTrigger
from outreach.campaigns import FollowUp as FollowUp
from outreach.campaigns import FollowUpKind as FollowUpKind
from outreach.campaigns import HolidayCategory as HolidayCategory
from outreach.campaigns import HolidayTrigger as HolidayTrigger
from outreach.campaigns import IntervalTrigger as IntervalTrigger
from outreach.campaigns import ScheduleTrigger as ScheduleTrigger
from outreach.campaigns import Step as Step
from outreach.campaigns import Trigger as Trigger
from outreach.contacts import Contact as Contact
from outreach.contacts import Dates as Dates
from outreach.contacts import Emails as Emails
from outreach.contacts import Family as Family
from outreach.contacts import Interaction as Interaction
from outreach.contacts import InteractionKind as InteractionKind
from outreach.contacts import LoggedInteraction as LoggedInteraction
from outreach.contacts import Name as Name
from outreach.contacts import Preferences as Preferences
from outreach.contacts import Profile as Profile
from outreach.contacts import Relative as Relative
from outreach.contacts import Stage as Stage
from outreach.fields import Clock as Clock
from outreach.fields import Country as Country
from outreach.fields import Email as Email
from outreach.fields import HeaderText as HeaderText
from outreach.fields import Key as Key
from outreach.fields import PartialDate as PartialDate
from outreach.fields import PlainText as PlainText
from outreach.fields import Prose as Prose
from outreach.fields import Slug as Slug
from outreach.fields import Strict as Strict
from outreach.fields import Text as Text
from outreach.fields import TimeZone as TimeZone
from outreach.fields import YearOptionalDate as YearOptionalDate
from outreach.settings import GOOGLE_API_ROOT as GOOGLE_API_ROOT
from outreach.settings import GOOGLE_TOKEN_URI as GOOGLE_TOKEN_URI
from outreach.settings import ArticlesSettings as ArticlesSettings
from outreach.settings import CalendarSettings as CalendarSettings
from outreach.settings import DraftsSettings as DraftsSettings
from outreach.settings import FeedSetting as FeedSetting
from outreach.settings import GmailSettings as GmailSettings
from outreach.settings import Limits as Limits
from outreach.settings import MeetingsSettings as MeetingsSettings
from outreach.settings import Sender as Sender
from outreach.settings import Settings as Settings

# --------------------------------------------------------------------------- planner values


@dataclass(frozen=True)
class Occasion:
    """What a touch is about: a birthday, a holiday, a quarter, a quiet spell."""

    kind: str  # the trigger kind: date, holiday, schedule, interval
    date: dt.date  # the occasion itself (the birthday, the holiday, the schedule day)
    label: str  # "birthday", "Thanksgiving Day", "Sam's birthday", "quarterly update"
    ident: str  # the part of the touch key that names the occasion
    field: str | None = None
    person: str | None = None  # whose occasion: the contact, the spouse or a child's name
    years: int | None = None  # age / years married / years at the company, when known
    last_touch: dt.date | None = None  # interval triggers: the touch this one follows
    meeting: Any = None  # after_meeting: the sources.meetings.Meeting
    article: Any = None  # content: the sources.articles.Article


@dataclass(frozen=True)
class Touch:
    """One planned act for one contact from one campaign on one occasion."""

    key: str
    contact_id: str
    campaign_id: str
    occasion: Occasion
    due: dt.date  # first day it may be made (lead time and business days applied)
    last_day: dt.date  # last day it may still be made (catch-up ends here)
    priority: int
    reason: str

    def late_days(self, today: dt.date) -> int:
        return max(0, (today - self.due).days)


@dataclass(frozen=True)
class Deferred:
    """A touch due today that waits: a higher-priority touch, the cool-down or the cap."""

    touch: Touch
    why: str


@dataclass(frozen=True)
class History:
    """What the ledger knows, as the planner needs it.

    ``done``: keys that must never be made again (drafted, or deleted by the user).
    ``touched``: per contact, the days on which a touch of any kind was made (one entry per touch).
    """

    done: frozenset[str] = frozenset()
    touched: dict[str, tuple[dt.date, ...]] | None = None
    since: dt.date | None = None  # the first night the ledger saw (anchors "no touch yet")
    made_on: dict[str, dt.date] | None = None  # drafted keys -> the night they were made
    stopped: frozenset[str] = frozenset()  # first-step keys of sequences a reply stopped
    replies: dict[str, tuple[dt.date, ...]] | None = None  # per contact: days they wrote to us
    # per contact: interactions seen in outside sources (meetings in the calendar feeds),
    # remembered by the ledger after they leave the source's window
    seen: dict[str, tuple[Interaction, ...]] | None = None
    run_days: tuple[dt.date, ...] = ()  # the nights a run was made, oldest first

    def last_run_before(self, day: dt.date) -> dt.date | None:
        earlier = [d for d in self.run_days if d < day]
        return max(earlier) if earlier else None

    def reply_days(self, contact_id: str) -> tuple[dt.date, ...]:
        return (self.replies or {}).get(contact_id, ())

    def seen_days(self, contact_id: str) -> tuple[dt.date, ...]:
        return tuple(i.date for i in (self.seen or {}).get(contact_id, ()))

    def touch_days(self, contact_id: str) -> tuple[dt.date, ...]:
        return (self.touched or {}).get(contact_id, ())
