"""The domain: contacts, campaigns, settings (validated, frozen) and the planner's values.

The models live in ``outreach.contacts``, ``outreach.campaigns``, ``outreach.settings`` (their
shared value types in ``outreach.fields``) and ``outreach.touch``; this module re-exports them
under their old names.
The YAML spelling of every key is documented in the README ("Reference"), generated from the
models by ``outreach.reference``. Models forbid unknown keys, so a typo is reported instead of
silently disabling something.
"""

from __future__ import annotations

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
from outreach.campaigns import IntroductionTrigger as IntroductionTrigger
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
from outreach.introduction import Colleague as Colleague
from outreach.introduction import Introduction as Introduction
from outreach.settings import GOOGLE_API_ROOT as GOOGLE_API_ROOT
from outreach.settings import GOOGLE_TOKEN_URI as GOOGLE_TOKEN_URI
from outreach.settings import ArticlesSettings as ArticlesSettings
from outreach.settings import CalendarSettings as CalendarSettings
from outreach.settings import CardDavSync as CardDavSync
from outreach.settings import DraftsSettings as DraftsSettings
from outreach.settings import FeedSetting as FeedSetting
from outreach.settings import GmailSettings as GmailSettings
from outreach.settings import GoogleSync as GoogleSync
from outreach.settings import ImapSettings as ImapSettings
from outreach.settings import Limits as Limits
from outreach.settings import MailboxSettings as MailboxSettings
from outreach.settings import MeetingsSettings as MeetingsSettings
from outreach.settings import Sender as Sender
from outreach.settings import Settings as Settings
from outreach.settings import StatusSettings as StatusSettings
from outreach.settings import SyncSource as SyncSource
from outreach.touch import Deferred as Deferred
from outreach.touch import History as History
from outreach.touch import Occasion as Occasion
from outreach.touch import Touch as Touch
