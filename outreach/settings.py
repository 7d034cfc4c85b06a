"""Settings: outreach.yaml (the sender, paths, limits, the draft store, Gmail, the follow-up
calendar, meetings and articles)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from outreach.fields import Clock, Country, Email, HeaderText, Lazy, PlainText, Text, TimeZone
from outreach.fields import http_url as _url
from outreach.fields import root_url as _root_url


class Sender(Lazy):
    name: HeaderText = Field(description="From: display name", examples=["Alex Rivera"])
    email: Email = Field(
        description="From: address; its domain also ends every Message-ID",
        examples=["alex@rivera.example"],
    )
    company: Text | None = Field(
        None, description="your company ({{ sender.company }})", examples=["Rivera Advisory"]
    )
    signature: PlainText | None = Field(
        None, description="templates use {{ sender.signature }}", examples=["Alex\n"]
    )


class Limits(Lazy):
    per_contact_per_day: int = Field(
        1, ge=1, le=10, description="touches one person may get in a day (1-10)"
    )
    cooldown_days: int = Field(
        3,
        ge=0,
        le=365,
        description="days a campaign waits after the person's last touch (0: none)",
    )
    nightly_cap: int = Field(50, ge=1, le=100000, description="drafts per night at most")
    morning_target: int | None = Field(
        None,
        ge=1,
        le=100000,
        description=(
            "drafts a morning to aim at: above it, what can wait is spread over the coming "
            "nights (default: the book's average; a night of up to 20 is never spread)"
        ),
    )


class DraftsSettings(Lazy):
    backend: Literal["dir", "gmail", "imap"] = Field(
        "dir", description="where drafts go (dir: one .eml per draft; gmail; imap)"
    )
    dir: Text = Field("drafts", description="the folder of the dir backend")


GOOGLE_API_ROOT = "https://gmail.googleapis.com/"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


class GmailSettings(Lazy):
    token_file: Text = Field(
        "~/.config/outreach/gmail-token.json",
        description="written by `outreach auth gmail`, mode 0600",
    )
    client_secrets: Text = Field(
        "client_secret.json",
        description="the OAuth client you downloaded (Desktop app)",
    )
    api_root: Annotated[str, BeforeValidator(_root_url)] = Field(
        GOOGLE_API_ROOT, description="a Workspace proxy or an emulator can stand in"
    )
    token_uri: Annotated[str | None, BeforeValidator(_url)] = Field(
        None, description="the OAuth token endpoint; null: Google's"
    )
    quota_per_minute: int = Field(
        6000,
        ge=50,
        le=1_000_000,
        description="Gmail API units per user per minute (new projects: 6,000)",
    )
    batch_size: int = Field(20, ge=1, le=50, description="drafts per batch request (at most 50)")
    timeout_seconds: float = Field(
        30,
        gt=0,
        le=600,
        description="a request's wait for an answer (connecting: at most 10 s)",
    )
    max_retries: int = Field(
        6, ge=0, le=20, description="per request, with exponential backoff and jitter"
    )
    reply_detection: bool = Field(
        False,
        description="true: look at threads (needs the read-only scope)",
    )


class ImapSettings(Lazy):
    host: Text | None = Field(
        None,
        description="the IMAP server (for drafts.backend: imap)",
        examples=["imap.fastmail.com"],
    )
    port: int | None = Field(
        None, ge=1, le=65535, description="null: 993 for ssl, 143 for starttls and plain"
    )
    security: Literal["ssl", "starttls", "plain"] = Field(
        "ssl", description="plain is refused unless the host is loopback"
    )
    username: Text | None = Field(None, description="the login", examples=["alex@rivera.example"])
    password_file: Text | None = Field(
        None, description="a file holding the password, mode 0600 (refused otherwise)"
    )
    password_command: Text | None = Field(
        None, description='a command that prints the password ("pass show mail/fastmail")'
    )
    ca_file: Text | None = Field(
        None, description="a CA bundle to trust as well as the system's (own servers, tests)"
    )
    drafts_folder: Text | None = Field(
        None, description="null: the folder marked \\Drafts (RFC 6154), else Drafts"
    )
    sent_folder: Text | None = Field(None, description="null: the folder marked \\Sent")
    timeout_seconds: float = Field(
        30, gt=0, le=600, description="a command's wait for an answer (connecting: at most 10 s)"
    )


class MailboxSettings(Lazy):
    watch: bool = Field(
        False, description="true: read the headers of mail exchanged with contacts (never a body)"
    )
    lookback_days: int = Field(30, ge=1, le=365, description="how far back the first watch reads")
    hold_days: int = Field(
        3,
        ge=0,
        le=60,
        description="after a message from a contact, notes below priority 80 wait this long",
    )


class GoogleSync(Lazy):
    kind: Literal["google"] = Field(
        description="Google Contacts (People API, Gmail's OAuth client)"
    )
    tag: Text | None = Field(
        None, description="given to the people this source adds", examples=["google"]
    )


class CardDavSync(Lazy):
    kind: Literal["carddav"] = Field(description="any CardDAV address book")
    url: Annotated[str, BeforeValidator(_url)] = Field(
        description="the address book's URL, or the server's (found through .well-known)",
        examples=["https://carddav.fastmail.com/dav/addressbooks/user/alex@rivera.example/Default"],
    )
    username: Text | None = Field(None, description="the login", examples=["alex@rivera.example"])
    password_file: Text | None = Field(
        None, description="a file holding the password, mode 0600 (refused otherwise)"
    )
    password_command: Text | None = Field(None, description="a command that prints the password")
    ca_file: Text | None = Field(
        None, description="a CA bundle to trust as well as the system's (own servers, tests)"
    )
    tag: Text | None = Field(
        None, description="given to the people this source adds", examples=["phone"]
    )
    timeout_seconds: float = Field(
        30, gt=0, le=600, description="the whole sync of this source, at most"
    )


SyncSource = Annotated[GoogleSync | CardDavSync, Field(discriminator="kind")]


class StatusSettings(Lazy):
    rhythm_days: int = Field(
        90, ge=1, le=3650, description="days: a rhythm when no keep-in-touch campaign reaches them"
    )
    occasions_days: int = Field(30, ge=1, le=366, description="occasions shown this far ahead")


class CalendarSettings(Lazy):
    path: Text = Field("calendar.ics", description="the follow-up feed, rewritten by every run")
    name: Text = Field(
        "outreach follow-ups", description="the calendar's name in your calendar app"
    )
    past_days: int = Field(
        14, ge=0, le=365, description="the rolling window the feed holds (keeps it small)"
    )
    future_days: int = Field(90, ge=1, le=730, description="... and ahead")
    review_drafts: Clock = Field(
        "08:00", description="an event to read each night's drafts (null: none)"
    )


class MeetingsSettings(Lazy):
    sources: tuple[Text, ...] = Field(
        (),
        description=(
            'iCalendar URLs or files: Google\'s "Secret address in iCal format", an Outlook '
            "published calendar, a .ics file"
        ),
    )
    me: tuple[Email, ...] = Field(
        (), description="your own addresses, never a contact (default: sender.email)"
    )
    lookback_days: int = Field(14, ge=1, le=365, description="how far back meetings are read")
    timeout_seconds: float = Field(
        10,
        gt=0,
        le=120,
        description="fetching one calendar, in all (connecting, redirects, every read)",
    )


class FeedSetting(Lazy):
    url: Text = Field(description="the feed's address", examples=["https://example.com/feed.xml"])
    tags: tuple[Text, ...] = Field(
        (), description="given to every item of this feed", examples=[["fleet"]]
    )


class ArticlesSettings(Lazy):
    library: Text = Field(
        "articles.yaml", description="your clippings with a personal note (optional file)"
    )
    feeds: tuple[FeedSetting, ...] = Field((), description="RSS or Atom feeds")
    timeout_seconds: float = Field(10, gt=0, le=120, description="fetching one feed, in all")


def _backend_shorthand(value: Any) -> Any:
    """`drafts: gmail` is short for `drafts: {backend: gmail}`."""
    return {"backend": value} if isinstance(value, str) else value


def _part(model: type[Lazy], description: str) -> Any:
    """A part of outreach.yaml that may be left out (its defaults then)."""
    return Field(default_factory=model, description=description)


class Settings(Lazy):
    sender: Sender = Field(description="who the drafts are from")
    timezone: TimeZone = Field(
        "UTC",
        description="IANA name; the drafts' Date header is 07:00 here",
        examples=["America/Chicago"],
    )
    country: Country = Field("US", description="default country for holidays and business days")
    contacts: Text = Field(
        "contacts.yaml", description="the contacts; paths are relative to this folder"
    )
    campaigns: Text = Field("campaigns.yaml", description="the campaigns")
    templates: Text = Field("templates", description="the folder of templates")
    state: Text = Field(
        ".outreach/state.db", description="the ledger; the run lock and crash log live beside it"
    )
    drafts: Annotated[DraftsSettings, BeforeValidator(_backend_shorthand)] = Field(
        default_factory=DraftsSettings,
        description="the draft store (`drafts: gmail` is short for the backend)",
    )
    gmail: GmailSettings = _part(
        GmailSettings, "only for drafts.backend: gmail (or run --backend gmail)"
    )
    imap: ImapSettings = _part(
        ImapSettings, "only for drafts.backend: imap (or run --backend imap)"
    )
    mailbox: MailboxSettings = _part(
        MailboxSettings, "mailbox awareness, for the imap and gmail stores"
    )
    status: StatusSettings = _part(StatusSettings, "`outreach status` and the dashboard")
    sync: tuple[SyncSource, ...] = Field(
        (), description="address books `outreach sync` (and `run --sync`) pulls contacts from"
    )
    limits: Limits = Field(default_factory=Limits, description="how much a night and a person get")
    calendar: CalendarSettings = _part(
        CalendarSettings, "the follow-up calendar (calls, cards, gifts, reviews)"
    )
    introductions: Text = Field(
        "introductions.yaml", description="introductions to make (optional file)"
    )
    interactions: Text = Field(
        "interactions.yaml",
        description="what `outreach log` appends to (read like the contacts)",
    )
    meetings: MeetingsSettings = Field(
        default_factory=MeetingsSettings,
        description="meetings, for after_meeting triggers and keep-in-touch",
    )
    articles: ArticlesSettings = Field(
        default_factory=ArticlesSettings, description="articles to share, for content triggers"
    )
