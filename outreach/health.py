"""Who is drifting: each person's last touch, their rhythm and how far past it they are, their
next planned touch and the occasions ahead (pure: book, history and a date in, rows out).

* **last touch**: the latest of a draft, a reply, a meeting, mail seen in the mailbox, or an
  interaction written in contacts.yaml or logged (:func:`outreach.exchanges.last_touch`);
* **rhythm**: the shortest keep-in-touch interval of the campaigns whose audience holds them,
  else ``status.rhythm_days``; **overdue**: days since the last touch less the rhythm (negative
  while within it); nobody touched yet counts from the ledger's first night (or today);
* **next touch**: the first day a campaign's note for them is due, from today on (the nightly
  cap and cool-downs aside), within :data:`AHEAD_DAYS`;
* **occasions**: birthdays (theirs, their spouse's, their children's), the wedding, work and
  client anniversaries in the next ``status.occasions_days``.

Most neglected first: the most overdue, then the longest since the last touch, then by id.
Do-not-contact people are listed apart.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from outreach import exchanges
from outreach.audience import draft_blocker, in_audience
from outreach.book import Book
from outreach.fields import PartialDate
from outreach.model import Contact, IntervalTrigger
from outreach.touch import History
from outreach.triggers import occasions_between

AHEAD_DAYS = 120  # how far ahead the next touch is looked for
PROBE_DAYS = 30


@dataclass(frozen=True)
class Occasion:
    label: str  # "birthday", "Sam's birthday", "wedding anniversary"
    date: dt.date


@dataclass(frozen=True)
class Row:
    """One person of ``outreach status``."""

    contact: str
    name: str
    tier: str | None
    stage: str | None
    last: exchanges.LastTouch | None
    days_since: int | None
    rhythm_days: int
    overdue_days: int  # days past the rhythm; negative while within it
    next_touch: tuple[str, dt.date] | None  # (campaign, date)
    occasions: tuple[Occasion, ...]
    do_not_contact: bool
    tags: tuple[str, ...] = ()

    @property
    def drifting(self) -> bool:
        return self.overdue_days > 0 and not self.do_not_contact

    def as_json(self) -> dict[str, object]:
        return {
            "contact": self.contact,
            "name": self.name,
            "tier": self.tier,
            "stage": self.stage,
            "last_touch": self.last.as_json() if self.last is not None else None,
            "days_since": self.days_since,
            "rhythm_days": self.rhythm_days,
            "overdue_days": self.overdue_days,
            "next_touch": (
                {"campaign": self.next_touch[0], "date": self.next_touch[1].isoformat()}
                if self.next_touch is not None
                else None
            ),
            "occasions": [{"label": o.label, "date": o.date.isoformat()} for o in self.occasions],
            "do_not_contact": self.do_not_contact,
        }


def rhythm(book: Book, contact: Contact) -> int:
    """Their keep-in-touch interval: the shortest of the campaigns that reach them."""
    days = [
        c.trigger.days
        for c in book.campaigns
        if c.enabled
        and isinstance(c.trigger, IntervalTrigger)
        and in_audience(contact, c, book.settings.country)
    ]
    return min(days) if days else book.settings.status.rhythm_days


def occasions_ahead(contact: Contact, today: dt.date, days: int) -> tuple[Occasion, ...]:
    """The person's days in ``[today, today + days]``, by date."""
    found: list[tuple[PartialDate, str]] = []
    d = contact.dates
    if d.birthday:
        found.append((d.birthday, "birthday"))
    if d.wedding:
        found.append((d.wedding, "wedding anniversary"))
    if d.client_since:
        c = d.client_since
        found.append((PartialDate(c.month, c.day, c.year), "client anniversary"))
    if contact.start_date:
        s = contact.start_date
        found.append((PartialDate(s.month, s.day, s.year), "work anniversary"))
    spouse = contact.family.spouse
    if spouse and spouse.birthday:
        found.append((spouse.birthday, f"{spouse.name}'s birthday"))
    for child in contact.family.children:
        if child.birthday:
            found.append((child.birthday, f"{child.name}'s birthday"))
    end = today + dt.timedelta(days=days)
    out: list[Occasion] = []
    for pdate, label in found:
        for year in (today.year, today.year + 1):
            day = pdate.in_year(year)
            if pdate.year is not None and year <= pdate.year:
                continue
            if today <= day <= end:
                out.append(Occasion(label, day))
    return tuple(sorted(out, key=lambda o: (o.date, o.label)))


def next_touch(
    book: Book, contact: Contact, history: History, today: dt.date
) -> tuple[str, dt.date] | None:
    """The first note a campaign has due for them from ``today`` on (within AHEAD_DAYS)."""
    nights = [today + dt.timedelta(days=n) for n in range(0, AHEAD_DAYS + 1, PROBE_DAYS)]
    best: tuple[dt.date, str] | None = None
    for camp in book.campaigns:
        if not camp.enabled or camp.template is None:
            continue
        if not in_audience(contact, camp, book.settings.country) or draft_blocker(contact, camp):
            continue
        for t in occasions_between(book, contact, camp, history, nights):
            if history.is_done(t) or t.last_day < today:
                continue
            day = max(t.due, today)
            if day <= today + dt.timedelta(days=AHEAD_DAYS) and (best is None or day < best[0]):
                best = (day, camp.id)
    return (best[1], best[0]) if best else None


def row(book: Book, contact: Contact, history: History, today: dt.date) -> Row:
    last = exchanges.last_touch(contact, history, today, book)
    days_since = (today - last.date).days if last is not None else None
    every = rhythm(book, contact)
    since = days_since if days_since is not None else (today - (history.since or today)).days
    dnc = contact.preferences.do_not_contact
    return Row(
        contact.id,
        contact.name.full,
        contact.tier,
        contact.stage,
        last,
        days_since,
        every,
        since - every,
        None if dnc else next_touch(book, contact, history, today),
        occasions_ahead(contact, today, book.settings.status.occasions_days),
        dnc,
        tuple(contact.tags),
    )


def rows(
    book: Book,
    history: History,
    today: dt.date,
    *,
    tier: str | None = None,
    tag: str | None = None,
) -> list[Row]:
    """Every person (of ``tier``, with ``tag``), most neglected first; do-not-contact last."""
    out = [
        row(book, c, history, today)
        for c in book.contacts
        if (tier is None or (c.tier or "").lower() == tier.lower())
        and (tag is None or tag.lower() in {t.lower() for t in c.tags})
    ]
    out.sort(
        key=lambda r: (
            r.do_not_contact,
            -r.overdue_days,
            -(r.days_since if r.days_since is not None else 10**6),
            r.contact,
        )
    )
    return out


def touches_by_month(
    book: Book, history: History, today: dt.date, months: int = 12
) -> dict[str, Counter[str]]:
    """Per month of the last ``months`` ("2026-11"): the touches by kind (draft, email,
    meeting, call, ...), as the status page charts them."""
    first = dt.date(today.year, today.month, 1)
    for _ in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    keys: list[str] = []
    m = first
    while m <= today:
        keys.append(f"{m:%Y-%m}")
        m = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    out: dict[str, Counter[str]] = {k: Counter() for k in keys}

    def add(day: dt.date, kind: str) -> None:
        key = f"{day:%Y-%m}"
        if first <= day <= today and key in out:
            out[key][kind] += 1

    for contact in book.contacts:
        for day in history.touch_days(contact.id):
            add(day, "draft")
        for i in contact.interactions:
            add(i.date, i.kind)
    return out
