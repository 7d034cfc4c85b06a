"""The follow-up calendar: events from follow-ups and the nightly drafts, as one iCalendar feed.

What subscribed clients need (see the README and DESIGN.md): UIDs derived from touch keys that
never change; SEQUENCE raised and LAST-MODIFIED moved only when an event really changed (the
ledger remembers what was published); DTSTAMP is that change, not "now", so an unchanged night
gives the same bytes; all-day events for dates (VALUE=DATE, DTEND the next day, transparent);
timed events in UTC; a rolling window; refresh hints; no UID on the calendar itself. Events that
left the window are left out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from outreach import render
from outreach.addresses import bad_character
from outreach.book import Book
from outreach.cheatsheet import cheat_sheet
from outreach.errors import Problem, RenderError
from outreach.ledger import Published
from outreach.message import context_for
from outreach.model import FollowUp
from outreach.planner import Scheduled, draft_blocker, fmt_day

UTC = dt.UTC
REFRESH = "PT12H"


@dataclass(frozen=True)
class DraftInfo:
    """What the ledger knows of a drafted touch, for the calendar."""

    key: str
    contact_id: str
    subject: str | None
    ref: str | None
    made_on: dt.date
    reason: str | None = None  # why the touch was due when it was made
    thread_id: str | None = None  # the mailbox's conversation (Gmail)


@dataclass(frozen=True)
class EventSpec:
    """One event as it will be published (before SEQUENCE and DTSTAMP are decided)."""

    uid: str
    summary: str
    description: str
    start: dt.date | dt.datetime  # a date: all-day; a datetime: timed, in UTC
    end: dt.date | dt.datetime
    category: str
    url: str | None = None
    alarm_minutes: int | None = None

    @property
    def sort_key(self) -> tuple[str, str]:
        start = (
            self.start
            if isinstance(self.start, dt.datetime)
            else dt.datetime.combine(self.start, dt.time(), UTC)
        )
        return (start.isoformat(), self.uid)

    def digest(self) -> str:
        """A fingerprint of everything a client shows: a change here is a real change."""
        data = [
            self.summary,
            self.description,
            str(self.start),
            str(self.end),
            self.category,
            self.url,
            self.alarm_minutes,
        ]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


def uid_for(key: str, sender_email: str) -> str:
    """A stable, globally unique UID from a key: the same touch keeps its event forever."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"{digest}@{sender_email.rsplit('@', 1)[-1]}"


# --------------------------------------------------------------------------- descriptions


def _draft_line(book: Book, s: Scheduled, drafts: dict[str, DraftInfo]) -> tuple[str, str | None]:
    camp = book.campaign(s.touch.campaign_id)
    contact = book.contact(s.touch.contact_id)
    info = drafts.get(s.touch.key)
    if info is not None:
        link = _link(info.ref, info.thread_id)
        subject = f'"{info.subject}"' if info.subject else "the draft"
        return (
            f"Draft: {subject}, made {info.made_on.isoformat()}" + (f", {link}" if link else "")
        ), link
    if s.draft == "planned":
        return f"Draft: the nightly run makes it (due {s.touch.due.isoformat()})", None
    if camp.template is None:
        return "No draft: this campaign only adds calendar events", None
    why = draft_blocker(contact, camp)
    return f"No draft: {why or 'its night has passed'}", None


GMAIL_THREAD = "https://mail.google.com/mail/u/0/#drafts/{thread}"


def _link(ref: str | None, thread_id: str | None = None) -> str | None:
    """Where to open the draft: the .eml file, or the draft's conversation in Gmail."""
    if not ref:
        return None
    if ref.startswith(("http://", "https://")):
        return ref
    path = Path(ref)
    if path.is_absolute():
        return path.as_uri()
    return GMAIL_THREAD.format(thread=thread_id) if thread_id else None


# --------------------------------------------------------------------------- events


class Strings:
    """Inline templates (follow-up titles and texts), compiled once each."""

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.cache: dict[str, jinja2.Template] = {}

    def render(self, text: str, context: dict[str, Any], where: str, line: int | None) -> str:
        try:
            template = self.cache.get(text)
            if template is None:
                template = self.cache[text] = self.env.from_string(text)
            return template.render(context).strip()
        except Exception as exc:
            err = render.fail(exc, where, None, line)
            raise err from None


def _where(book: Book, camp_id: str, index: int, key: str) -> tuple[str, int | None]:
    src = book.sources.get(book.settings.campaigns)
    if src is None:
        return book.settings.campaigns, None
    ci = next((i for i, c in enumerate(book.campaigns) if c.id == camp_id), 0)
    return src.name, src.line_of(("campaigns", ci, "followups", index, key))


def followup_event(
    book: Book, strings: Strings, s: Scheduled, drafts: dict[str, DraftInfo], today: dt.date
) -> EventSpec:
    """Render one follow-up into an event. Raises RenderError naming the campaign's line."""
    camp = book.campaign(s.touch.campaign_id)
    contact = book.contact(s.touch.contact_id)
    fu: FollowUp = s.followup
    index = camp.followups.index(fu)
    context = context_for(book, s.touch, today)
    context["followup"] = {"kind": fu.kind, "day": s.day, "id": fu.ident}
    file, line = _where(book, camp.id, index, "title")
    title = strings.render(fu.title_template, context, file, line)
    if (bad := bad_character(title)) is not None:
        raise RenderError(
            f"the follow-up title holds {bad}", "keep it on one line", template=file, line=line
        )
    parts: list[str] = []
    if fu.text:
        file, line = _where(book, camp.id, index, "text")
        text = strings.render(fu.text, context, file, line)
        if (bad := bad_character(text.replace("\n", ""))) is not None:
            raise RenderError(
                f"the follow-up text holds {bad}",
                "calendar apps cannot show it: check the data it quotes",
                template=file,
                line=line,
            )
        parts.append(text)
    draft_line, link = _draft_line(book, s, drafts)
    made = drafts.get(s.touch.key)
    reason = made.reason if made is not None and made.reason else s.touch.reason
    parts.append(f"Why: {camp.title}, {reason}.\n{draft_line}")
    parts.append("\n".join(cheat_sheet(contact, today)))
    description = "\n\n".join(p for p in parts if p)
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime
    if fu.time:
        hour, minute = (int(x) for x in fu.time.split(":"))
        local = dt.datetime.combine(s.day, dt.time(hour, minute), ZoneInfo(book.settings.timezone))
        start = local.astimezone(UTC)
        end = start + dt.timedelta(minutes=fu.minutes)
    else:
        start, end = s.day, s.day + dt.timedelta(days=1)
    return EventSpec(
        uid_for(s.key, book.settings.sender.email),
        title,
        description,
        start,
        end,
        fu.kind,
        link,
        fu.alarm_minutes,
    )


REVIEW_LINES = 50  # drafts a night's review event names; "… and N more" after them


def review_events(book: Book, drafts: list[DraftInfo], *, today: dt.date) -> list[EventSpec]:
    """One event per night that made drafts: look at them in the morning. It names the first
    :data:`REVIEW_LINES` by key and counts the rest (10,000 lines would be 600 KB that no
    calendar shows)."""
    cal = book.settings.calendar
    if cal.review_drafts is None:
        return []
    start = today - dt.timedelta(days=cal.past_days)
    end = today + dt.timedelta(days=cal.future_days)
    by_day: dict[dt.date, list[DraftInfo]] = {}
    for d in drafts:
        if start <= d.made_on <= end:
            by_day.setdefault(d.made_on, []).append(d)
    hour, minute = (int(x) for x in cal.review_drafts.split(":"))
    tz = ZoneInfo(book.settings.timezone)
    folder = book.path(book.settings.drafts.dir)
    out = []
    for day, items in sorted(by_day.items()):
        items.sort(key=lambda d: d.key)
        lines = []
        for d in items[:REVIEW_LINES]:
            try:
                name = book.contact(d.contact_id).name.full
            except KeyError:
                name = d.contact_id
            lines.append(f"- {name}: {d.subject or d.key}")
        n = len(items)
        if n > REVIEW_LINES:
            lines.append(f"… and {n - REVIEW_LINES} more")
        when = dt.datetime.combine(day, dt.time(hour, minute), tz).astimezone(UTC)
        where = f"They are in {folder}." if book.settings.drafts.backend == "dir" else ""
        description = "\n".join(
            [
                f"{n} draft{'s' if n != 1 else ''} made on {fmt_day(day)}, "
                "to read, adjust and send:",
                *lines,
                "",
                where,
            ]
        ).strip()
        out.append(
            EventSpec(
                uid_for(f"review-drafts/{day.isoformat()}", book.settings.sender.email),
                f"Review {n} draft{'s' if n != 1 else ''}",
                description,
                when,
                when + dt.timedelta(minutes=15),
                "review-drafts",
                folder.as_uri() if folder.is_absolute() else None,
            )
        )
    return out


def events(
    book: Book,
    env: jinja2.Environment,
    scheduled: list[Scheduled],
    drafts: list[DraftInfo],
    *,
    today: dt.date,
) -> tuple[list[EventSpec], list[Problem]]:
    """All events of the feed; a follow-up that cannot render is a problem, the rest go on."""
    strings = Strings(env)
    by_key = {d.key: d for d in drafts}
    specs: list[EventSpec] = []
    problems: list[Problem] = []
    for s in scheduled:
        try:
            specs.append(followup_event(book, strings, s, by_key, today))
        except RenderError as exc:
            cfile, cline = book.contact_line(s.touch.contact_id)
            problems.append(
                Problem(
                    exc.template or book.settings.campaigns,
                    exc.line,
                    s.key,
                    f"{exc.message} (contact {s.touch.contact_id} at {cfile}:{cline})",
                    exc.hint,
                )
            )
    specs += review_events(book, drafts, today=today)
    return specs, problems


# --------------------------------------------------------------------------- the file


def publish(
    specs: list[EventSpec], published: dict[str, Published], *, now: dt.datetime
) -> tuple[list[Published], list[Published]]:
    """Decide SEQUENCE and DTSTAMP for each event: (records for the feed, records that changed)."""
    now = now.astimezone(UTC).replace(microsecond=0)
    records: list[Published] = []
    changed: list[Published] = []
    for spec in specs:
        digest = spec.digest()
        old = published.get(spec.uid)
        if old is not None and old.digest == digest:
            records.append(old)
            continue
        rec = Published(
            spec.uid,
            digest,
            0 if old is None else old.sequence + 1,
            now if old is None or now > old.changed else old.changed,
        )
        records.append(rec)
        changed.append(rec)
    return records, changed


MAX_BYTES = 900_000  # Google refuses feeds over about 1 MB


@dataclass(frozen=True)
class Serialized:
    data: bytes
    events: int  # events in the file
    dropped: int  # events left out to stay under MAX_BYTES (the farthest from today)
    until: dt.date | None  # when some were dropped: the last day the feed still covers


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def serialize(
    book: Book,
    specs: list[EventSpec],
    records: list[Published],
    *,
    today: dt.date,
    max_bytes: int = MAX_BYTES,
) -> Serialized:
    """The feed's bytes: the same events and records always give the same bytes. A feed that
    would pass ``max_bytes`` keeps the events nearest to ``today`` and says what it left out."""
    from icalendar import Alarm, Calendar, Event, vText

    settings = book.settings
    by_uid = {r.uid: r for r in records}
    components: list[tuple[EventSpec, Any, int]] = []
    for spec in specs:
        rec = by_uid[spec.uid]
        ev = Event()
        ev.add("uid", spec.uid)
        ev.add("dtstamp", rec.changed)
        ev.add("last-modified", rec.changed)
        ev.add("sequence", rec.sequence)
        ev.add("summary", spec.summary)
        ev.add("dtstart", spec.start)
        ev.add("dtend", spec.end)
        if not isinstance(spec.start, dt.datetime):
            ev.add("transp", "TRANSPARENT")
        ev.add("description", spec.description)
        ev.add("categories", [spec.category])
        if spec.url:
            ev.add("url", spec.url)
        if spec.alarm_minutes is not None:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", spec.summary)
            alarm.add("trigger", dt.timedelta(minutes=-spec.alarm_minutes))
            ev.add_component(alarm)
        components.append((spec, ev, len(ev.to_ical())))
    budget = max_bytes - 2_000  # the calendar's own lines
    dropped, until = 0, None
    if sum(size for _, _, size in components) > budget:
        # nearest first: today and the coming days, then the recent past, then the far future
        def distance(item: tuple[EventSpec, Any, int]) -> tuple[int, str]:
            delta = (_day(item[0].start) - today).days
            return (delta if delta >= 0 else -3 * delta, item[0].uid)

        kept: list[tuple[EventSpec, Any, int]] = []
        total = 0
        for item in sorted(components, key=distance):
            if total + item[2] > budget:
                break
            kept.append(item)
            total += item[2]
        dropped = len(components) - len(kept)
        until = max((_day(s.start) for s, _, _ in kept), default=today)
        components = kept
    # No UID on the VCALENDAR itself (it is optional; the feed's identity is its URL), and
    # Calendar(), not Calendar.new(), which would add one: vdirsyncer 0.21 (khal and many Linux
    # calendars) wraps every event in the calendar's properties and reads the first UID line of
    # the whole item, so a calendar-level UID collapses the feed into a single event.
    cal = Calendar()
    cal.add("prodid", "-//outreach//outreach follow-ups//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", vText(settings.calendar.name))
    cal.add("x-wr-calname", vText(settings.calendar.name))
    cal.add("x-wr-timezone", settings.timezone)
    cal.add("refresh-interval", dt.timedelta(hours=12), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)
    for _, ev, _ in sorted(components, key=lambda item: item[0].sort_key):
        cal.add_component(ev)
    return Serialized(cal.to_ical(), len(components), dropped, until)
