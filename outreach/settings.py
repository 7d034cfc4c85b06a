"""Settings: outreach.yaml (the sender, paths, limits, the draft store, Gmail, the follow-up
calendar, meetings and articles)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from outreach.fields import Clock, Country, Email, HeaderText, PlainText, Strict, Text, TimeZone
from outreach.fields import http_url as _url
from outreach.fields import root_url as _root_url


class Sender(Strict):
    name: HeaderText
    email: Email
    company: Text | None = None
    signature: PlainText | None = None


class Limits(Strict):
    per_contact_per_day: int = Field(1, ge=1, le=10)
    cooldown_days: int = Field(3, ge=0, le=365)
    nightly_cap: int = Field(50, ge=1, le=100000)


class DraftsSettings(Strict):
    backend: Literal["dir", "gmail"] = "dir"
    dir: Text = "drafts"


GOOGLE_API_ROOT = "https://gmail.googleapis.com/"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


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
