"""The planner: a pure function of (book, history, today). No clock, no I/O.

Rules (README "How the planner decides"):

* a touch is due from its ``due`` day (the occasion less its lead time, moved to a business day
  when the campaign asks) until its ``last_day``: never after the occasion for dates and holidays,
  ``catch_up_days`` after the due day for schedules; so nights cron missed are caught up, and a
  greeting never arrives after the day;
* a key in ``history.done`` is never planned again;
* do-not-contact is absolute; people with ``email_ok: false`` or no address get no draft;
* at most ``per_contact_per_day`` touches per contact per day, higher priority first; a campaign's
  cool-down holds it back while the contact's last touch is too recent; the nightly cap keeps the
  highest priorities. What waits is reported as deferred and planned again the next night.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from outreach import occasions
from outreach.book import Book
from outreach.model import (
    AfterMeetingTrigger,
    Campaign,
    Contact,
    ContentTrigger,
    DateTrigger,
    Deferred,
    FollowUp,
    History,
    HolidayTrigger,
    Interaction,
    IntervalTrigger,
    Occasion,
    PartialDate,
    ScheduleTrigger,
    Touch,
)

DEFAULT_SCHEDULE_CATCH_UP = 14
FAR = dt.timedelta(days=3650)
# triggers whose touches never expire (keep in touch), or are replaced by the next one when they
# do (an article past max_age_days: the next freshest is shared): nothing of theirs is "missed"
OPEN_ENDED = ("interval", "content")


def expires(touch: Touch) -> bool:
    """False for a keep-in-touch: it waits as long as it must (``last_day`` is then far away)."""
    return touch.occasion.kind != "interval"


@dataclass(frozen=True)
class Skip:
    """A contact in a campaign's audience who gets no draft, and why (shown by ``plan``)."""

    contact_id: str
    campaign_id: str
    why: str


@dataclass(frozen=True)
class Plan:
    today: dt.date
    touches: tuple[Touch, ...]
    deferred: tuple[Deferred, ...] = ()
    skipped: tuple[Skip, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = ()  # e.g. articles that match nobody
    missed: tuple[Touch, ...] = ()  # whose last day passed on nights without a run


def _slug(text: str) -> str:
    """'Sofía' -> 'sofia', 'Jo Ann' -> 'jo-ann' (accents folded, so keys stay readable)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def child_slugs(contact: Contact) -> list[str]:
    """Each child's part of a touch key: the slug of the name ("Sam" -> "sam"); children whose
    names give the same slug ("Jo Ann" and "Jo-Ann") also get a few hex digits of their exact
    name, so the keys stay apart, do not depend on the order of the list, and survive a
    corrected birthday (only two children with the very same name also need the birthday)."""
    children = contact.family.children
    slugs = [_slug(c.name) for c in children]
    names = [c.name for c in children]
    out = []
    for child, slug in zip(children, slugs, strict=True):
        if slugs.count(slug) > 1:
            tell = child.name if names.count(child.name) == 1 else f"{child.name}|{child.birthday}"
            slug = f"{slug}-{hashlib.sha1(tell.encode()).hexdigest()[:4]}"
        out.append(slug)
    return out


def fmt_day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


# --------------------------------------------------------------------------- audience


def in_audience(contact: Contact, campaign: Campaign, country: str | None = None) -> bool:
    """Whether the campaign's audience holds the contact; ``country``: the settings' country, for
    a contact without one (``audience.countries``)."""
    a = campaign.audience
    if a.countries and (contact.country or country) not in a.countries:
        return False
    tags = set(contact.tags)
    if a.tags and not tags.intersection(a.tags):
        return False
    if a.tiers and contact.tier not in a.tiers:
        return False
    if a.stages and contact.stage not in a.stages:
        return False
    if tags.intersection(a.exclude_tags):
        return False
    if a.handwritten is not None and contact.preferences.handwritten != a.handwritten:
        return False
    return contact.id not in a.exclude


def draft_blocker(contact: Contact, campaign: Campaign) -> str | None:
    """Why this contact can get no draft from this campaign, or None."""
    if contact.preferences.do_not_contact:
        return "marked do-not-contact"
    if not contact.preferences.email_ok:
        return "prefers no email (preferences.email_ok: false)"
    if contact.address(campaign.to) is None:
        return "has no email address"
    return None


# --------------------------------------------------------------------------- occasions


def _country(book: Book, contact: Contact) -> str:
    return contact.country or book.settings.country


def _date_occasions(
    book: Book, contact: Contact, camp: Campaign, trig: DateTrigger, today: dt.date
) -> Iterator[Touch]:
    people: list[tuple[PartialDate, str, str, str | None]] = []  # date, ident prefix, label, person
    f = trig.field
    if f == "birthday" and contact.dates.birthday:
        people.append((contact.dates.birthday, "", "birthday", None))
    elif f == "wedding" and contact.dates.wedding:
        people.append((contact.dates.wedding, "", "wedding anniversary", None))
    elif f == "client_since" and contact.dates.client_since:
        d = contact.dates.client_since
        people.append((PartialDate(d.month, d.day, d.year), "", "client anniversary", None))
    elif f == "work_anniversary" and contact.start_date:
        d = contact.start_date
        people.append((PartialDate(d.month, d.day, d.year), "", "work anniversary", None))
    elif f == "spouse.birthday" and contact.family.spouse and contact.family.spouse.birthday:
        s = contact.family.spouse
        assert s.birthday is not None
        people.append((s.birthday, "spouse-", f"{s.name}'s birthday", s.name))
    elif f == "children.birthday":
        slugs = child_slugs(contact)
        for child, slug in zip(contact.family.children, slugs, strict=True):
            if child.birthday:
                people.append((child.birthday, f"{slug}-", f"{child.name}'s birthday", child.name))
    country = _country(book, contact)
    for pdate, prefix, label, person in people:
        for year in (today.year, today.year + 1):
            occ = pdate.in_year(year)
            if pdate.year is not None and year <= pdate.year:
                continue  # the event itself, not an anniversary of it
            due = _shifted(occ - dt.timedelta(days=trig.days_before), country, camp, occ)
            last = occ
            if camp.catch_up_days is not None:
                last = min(last, due + dt.timedelta(days=camp.catch_up_days))
            years = occasions.years_between(pdate.year, year)
            occasion = Occasion(
                "date", occ, label, f"{prefix}{year}", field=f, person=person, years=years
            )
            lead = f", {trig.days_before} days ahead" if trig.days_before else ""
            turns = ""
            if years is not None:
                turns = f" (turns {years})" if "birthday" in f else f" ({years} years)"
            reason = f"{label} on {fmt_day(occ)}{turns}{lead}"
            yield _touch(camp, contact, occasion, due, last, reason)


def _shifted(day: dt.date, country: str, camp: Campaign, not_after: dt.date | None) -> dt.date:
    moved = occasions.shift_business(day, country, camp.business_days)
    if not_after is not None and moved > not_after:
        moved = occasions.shift_business(day, country, "previous")
    return moved


def _holiday_occasions(
    book: Book, contact: Contact, camp: Campaign, trig: HolidayTrigger, today: dt.date
) -> Iterator[Touch]:
    country = trig.country or _country(book, contact)
    days: set[dt.date] = set()
    if trig.dates:  # explicit dates replace the package's (no second note on a near-miss date)
        days = {d for d in trig.dates if today.year <= d.year <= today.year + 1}
    else:
        for year in (today.year, today.year + 1):
            days.update(occasions.holiday_dates(trig.name, country, year, trig.categories))
    for occ in sorted(days):
        # the holiday's date comes from trigger.country; business days are the contact's own
        due = _shifted(
            occ - dt.timedelta(days=trig.days_before), _country(book, contact), camp, occ
        )
        last = occ
        if camp.catch_up_days is not None:
            last = min(last, due + dt.timedelta(days=camp.catch_up_days))
        occasion = Occasion("holiday", occ, trig.name, occ.isoformat())
        lead = f", {trig.days_before} days ahead" if trig.days_before else ""
        yield _touch(camp, contact, occasion, due, last, f"{trig.name} on {fmt_day(occ)}{lead}")


def _schedule_occasions(
    book: Book, contact: Contact, camp: Campaign, trig: ScheduleTrigger, today: dt.date
) -> Iterator[Touch]:
    country = _country(book, contact)
    catch_up = camp.catch_up_days if camp.catch_up_days is not None else DEFAULT_SCHEDULE_CATCH_UP
    start = today - dt.timedelta(days=catch_up + 40)
    for occ in occasions.schedule_days(trig.months, trig.day, start, today + dt.timedelta(days=40)):
        due = _shifted(occ, country, camp, None)
        last = due + dt.timedelta(days=catch_up)
        following = occasions.schedule_days(
            trig.months, trig.day, occ + dt.timedelta(days=1), occ + dt.timedelta(days=400)
        )
        if following:
            # caught up until the next scheduled day, or until the next one is due if a
            # business-day shift brings that earlier: one issue of a schedule at a time
            next_due = _shifted(following[0], country, camp, None)
            last = min(last, following[0] - dt.timedelta(days=1), next_due - dt.timedelta(days=1))
        occasion = Occasion("schedule", occ, camp.title, occ.isoformat())
        yield _touch(camp, contact, occasion, due, last, f"{camp.title}: scheduled {fmt_day(occ)}")


def addresses(contact: Contact) -> frozenset[str]:
    return frozenset(a.lower() for a in (contact.email.work, contact.email.personal) if a)


def meetings_with(book: Book, contact: Contact) -> list[Any]:
    """The meetings (from the meeting feeds) this contact attended, by any of their addresses."""
    mine = addresses(contact)
    return [m for m in book.meetings if mine & set(m.attendees)]


def with_interactions(book: Book, history: History) -> Book:
    """The book with what else is known to have happened with each person added to their
    ``interactions``: meetings in the calendar feeds, meetings the ledger remembers, replies in a
    sequence's conversation. Templates (``contact.last_interaction``) and the calendar's
    cheat-sheet then see them like the interactions written in contacts.yaml."""
    people = []
    for contact in book.contacts:
        extra = [
            Interaction.model_construct(date=m.day, kind="meeting", summary=m.title or None)
            for m in meetings_with(book, contact)
        ]
        extra += (history.seen or {}).get(contact.id, ())
        extra += [
            Interaction.model_construct(date=d, kind="email", summary="replied")
            for d in history.reply_days(contact.id)
        ]
        have = {(i.date, i.kind, i.summary) for i in contact.interactions}
        new = []
        for i in extra:
            if (i.date, i.kind, i.summary) not in have:
                have.add((i.date, i.kind, i.summary))
                new.append(i)
        if new:
            merged = tuple(sorted((*contact.interactions, *new), key=lambda i: i.date))
            contact = contact.model_copy(update={"interactions": merged})
        people.append(contact)
    return replace(book, contacts=tuple(people))


def last_touch(
    contact: Contact, history: History, before: dt.date, book: Book | None = None
) -> dt.date | None:
    """The contact's latest touch of any kind up to ``before``: a draft, a logged interaction, a
    reply, a meeting in the meeting feeds or one the ledger remembers from earlier nights."""
    days = [d for d in history.touch_days(contact.id) if d <= before]
    days += [d for d in history.reply_days(contact.id) if d <= before]  # they wrote to us
    days += [d for d in history.seen_days(contact.id) if d <= before]  # met, now out of the feed
    if book is not None:
        days += [m.day for m in meetings_with(book, contact) if m.day <= before]
    logged = contact.last_interaction(before)
    if logged:
        days.append(logged)
    return max(days) if days else None


def _interval_occasions(
    book: Book,
    contact: Contact,
    camp: Campaign,
    trig: IntervalTrigger,
    today: dt.date,
    history: History,
) -> Iterator[Touch]:
    last = last_touch(contact, history, today, book)
    if last is None:
        anchor = history.since or today
        due = anchor
        reason = f"no touch on record; keep in touch every {trig.days} days"
    else:
        due = last + dt.timedelta(days=trig.days)
        # no "N days ago": a reason must not change from one night to the next (the calendar
        # would see a changed event every night)
        reason = f"last touch {last.isoformat()}, keep in touch every {trig.days} days"
    country = _country(book, contact)
    moved = _shifted(due, country, camp, None)
    if last is not None and moved <= last:
        # 'previous' must not bring it to or before the last touch: that key may be done
        # already, and the keep-in-touch would never come again
        moved = occasions.shift_business(due, country, "next")
    due = moved
    occasion = Occasion("interval", due, camp.title, due.isoformat(), last_touch=last)
    yield _touch(camp, contact, occasion, due, today + FAR, reason)


def _touch(
    camp: Campaign, contact: Contact, occasion: Occasion, due: dt.date, last: dt.date, reason: str
) -> Touch:
    return Touch(
        key=f"{camp.id}/{contact.id}/{occasion.ident}",
        contact_id=contact.id,
        campaign_id=camp.id,
        occasion=occasion,
        due=due,
        last_day=last,
        priority=camp.priority,
        reason=reason,
    )


def occasions_for(
    book: Book, contact: Contact, camp: Campaign, today: dt.date, history: History
) -> Iterator[Touch]:
    """Every touch this campaign could make for this contact around ``today`` (not filtered)."""
    trig = camp.trigger
    if isinstance(trig, DateTrigger):
        yield from _date_occasions(book, contact, camp, trig, today)
    elif isinstance(trig, HolidayTrigger):
        yield from _holiday_occasions(book, contact, camp, trig, today)
    elif isinstance(trig, ScheduleTrigger):
        yield from _schedule_occasions(book, contact, camp, trig, today)
    elif isinstance(trig, IntervalTrigger):
        yield from _interval_occasions(book, contact, camp, trig, today, history)
    elif isinstance(trig, AfterMeetingTrigger):
        yield from _meeting_occasions(book, contact, camp, trig, today)
    else:
        yield from _content_occasions(book, contact, camp, trig, today, history)


DEFAULT_THANKS_CATCH_UP = 2


def _meeting_occasions(
    book: Book, contact: Contact, camp: Campaign, trig: AfterMeetingTrigger, today: dt.date
) -> Iterator[Touch]:
    """A note after each meeting with this contact, the next (business) morning; a recurring
    meeting only once (one key per series) unless the campaign asks for each occurrence."""
    country = _country(book, contact)
    catch_up = camp.catch_up_days if camp.catch_up_days is not None else DEFAULT_THANKS_CATCH_UP
    series: dict[str, list[Touch]] = {}
    for m in sorted(meetings_with(book, contact), key=lambda m: (m.start, m.key)):
        once = m.recurring and not trig.each_occurrence
        ident = "series-" + hashlib.sha1(m.series.encode()).hexdigest()[:10] if once else m.key
        due = _step(m.day, trig.days_after, country, trig.business_days)
        what = f"meeting '{m.title}'" if m.title else "untitled meeting"
        occasion = Occasion("after_meeting", m.day, m.title or "meeting", ident, meeting=m)
        touch = _touch(
            camp,
            contact,
            occasion,
            due,
            due + dt.timedelta(days=catch_up),
            f"{what} on {fmt_day(m.day)}",
        )
        if once:
            series.setdefault(ident, []).append(touch)
        else:
            yield touch
    for touches in series.values():
        # one note per series (one key): after the occurrence whose window holds today, if any
        yield next((t for t in touches if t.due <= today <= t.last_day), touches[0])


def interests_of(contact: Contact) -> set[str]:
    p = contact.profile
    return {x.lower() for x in (*p.interests, *p.hobbies, *contact.tags)}


def _content_occasions(
    book: Book,
    contact: Contact,
    camp: Campaign,
    trig: ContentTrigger,
    today: dt.date,
    history: History,
) -> Iterator[Touch]:
    """The freshest matching article this person has not had from this campaign, at the
    campaign's cadence. An article dated after ``today`` is not published yet: it is not
    available tonight (and does not hide the older ones)."""
    from outreach.sources.articles import matches

    prefix = f"{camp.id}/{contact.id}/"
    shared = [d for k, d in (history.made_on or {}).items() if k.startswith(prefix)]
    wanted = interests_of(contact)
    fresh = [
        a
        for a in book.articles
        if f"{prefix}{a.id}" not in history.done
        and (a.date is None or 0 <= (today - a.date).days <= trig.max_age_days)
        and matches(a, wanted)
    ]
    if not fresh:
        return
    best = max(fresh, key=lambda a: (a.date or dt.date.min, a.title, a.id))
    due = max(shared) + dt.timedelta(days=trig.every_days) if shared else (history.since or today)
    due = max(due, best.date) if best.date else due
    occasion = Occasion("content", due, best.title, best.id, article=best)
    tags = ", ".join(sorted(set(best.tags) & wanted)) or "their interests"
    # shared while it is fresh (an undated article: always); then the next freshest is chosen
    last = best.date + dt.timedelta(days=trig.max_age_days) if best.date else today + FAR
    yield _touch(camp, contact, occasion, due, last, f"article '{best.title}' ({tags})")


# --------------------------------------------------------------------------- the plan


STEP_CATCH_UP = 14


def step_number(key: str) -> int:
    """1 for a first note, n for ``.../step-n``."""
    last = key.rsplit("/", 1)[-1]
    return int(last.removeprefix("step-")) if last.startswith("step-") else 1


def first_key(key: str) -> str:
    return "/".join(key.split("/")[:3])


def step_key(first_key: str, step: int) -> str:
    """The key of a sequence's later note: ``intro/jane-doe/2026-11-22/step-2``."""
    return f"{first_key}/step-{step}"


def _step_touches(book: Book, camp: Campaign, history: History, today: dt.date) -> list[Touch]:
    """The next note of every running sequence of this campaign: due ``after`` days past the
    previous one; none once the contact replied (where the mailbox can tell)."""
    made = history.made_on or {}
    out: list[Touch] = []
    prefix = f"{camp.id}/"
    for key, day in made.items():
        parts = key.split("/")
        if not key.startswith(prefix) or len(parts) not in (3, 4):
            continue
        first = "/".join(parts[:3])
        number = int(parts[3].removeprefix("step-")) if len(parts) == 4 else 1
        if first in history.stopped or number > len(camp.steps):
            continue
        step = camp.steps[number - 1]
        nxt = step_key(first, number + 1)
        if nxt in history.done:
            continue
        try:
            contact = book.contact(parts[1])
        except KeyError:
            continue
        if not in_audience(contact, camp, book.settings.country) or draft_blocker(contact, camp):
            continue
        after = day + dt.timedelta(days=step.after)
        due = _shifted(after, _country(book, contact), camp, None)
        moved = f", moved to {fmt_day(due)}, a business day" if due != after else ""
        last = due + dt.timedelta(
            days=camp.catch_up_days if camp.catch_up_days is not None else STEP_CATCH_UP
        )
        if not due <= today <= last:
            continue
        occasion = Occasion(
            "step", due, f"{camp.title}, note {number + 1}", f"{parts[2]}/step-{number + 1}"
        )
        out.append(
            Touch(
                nxt,
                contact.id,
                camp.id,
                occasion,
                due,
                last,
                camp.priority,
                f"note {number + 1} of {len(camp.steps) + 1}, {step.after} days after "
                f"note {number} ({day.isoformat()}){moved}",
            )
        )
    return out


def candidates(book: Book, history: History, today: dt.date) -> tuple[list[Touch], list[Skip]]:
    """Touches whose window holds ``today`` and that were never made, before any limit."""
    out: list[Touch] = []
    skipped: list[Skip] = []
    for camp in book.campaigns:
        if not camp.enabled or camp.template is None:
            continue  # a calendar-only campaign makes no drafts
        for contact in book.contacts:
            if not in_audience(contact, camp, book.settings.country):
                continue
            blocker = draft_blocker(contact, camp)
            due_now = [
                t
                for t in occasions_for(book, contact, camp, today, history)
                if t.due <= today <= t.last_day and t.key not in history.done
            ]
            if not due_now:
                continue
            if blocker:
                skipped.append(Skip(contact.id, camp.id, blocker))
                continue
            out.extend(due_now)
        if camp.steps:
            out.extend(_step_touches(book, camp, history, today))
        if camp.trigger.kind == "content":
            out_ids = {t.contact_id for t in out if t.campaign_id == camp.id}
            recent = today - dt.timedelta(days=camp.trigger.every_days)
            for contact in book.contacts:
                prefix = f"{camp.id}/{contact.id}/"
                if (
                    contact.id not in out_ids
                    and in_audience(contact, camp, book.settings.country)
                    and not draft_blocker(contact, camp)
                    and not any(
                        k.startswith(prefix) and d > recent
                        for k, d in (history.made_on or {}).items()
                    )
                ):
                    skipped.append(
                        Skip(contact.id, camp.id, "no unshared article matches their interests")
                    )
    return _one_per_address(book, out, skipped, history, today)


def _same_occasion_made(book: Book, t: Touch, other: str, history: History, today: dt.date) -> bool:
    """Whether ``other`` already had this touch's occasion from this campaign: the same key
    part, on the same date (two people's birthdays share the key part of the year)."""
    key = f"{t.campaign_id}/{other}/{t.occasion.ident}"
    if key not in history.done:
        return False
    camp = book.campaign(t.campaign_id)
    for o in occasions_for(book, book.contact(other), camp, today, history):
        if o.key == key:
            return o.occasion.date == t.occasion.date
    return False


def _one_per_address(
    book: Book, touches: list[Touch], skipped: list[Skip], history: History, today: dt.date
) -> tuple[list[Touch], list[Skip]]:
    """Never two notes to one address for one occasion: the same person entered twice under two
    ids, or a household sharing a mailbox, gets one holiday card, one quarterly update. The
    contact listed first in contacts.yaml gets it (or whoever already got it)."""
    holders: dict[str, list[str]] = {}
    for contact in book.contacts:
        for address in addresses(contact):
            holders.setdefault(address, []).append(contact.id)
    shared = {a: ids for a, ids in holders.items() if len(ids) > 1}
    if not shared:
        return touches, skipped
    kept: list[Touch] = []
    taken: dict[tuple[str, str, str, dt.date], str] = {}  # (address, campaign, occasion) -> id
    order = {c.id: i for i, c in enumerate(book.contacts)}
    for t in sorted(touches, key=lambda t: order.get(t.contact_id, 0)):
        to = book.contact(t.contact_id).address(book.campaign(t.campaign_id).to)
        ident = t.occasion.ident
        if to is None or to.lower() not in shared:
            kept.append(t)
            continue
        slot = (to.lower(), t.campaign_id, ident, t.occasion.date)
        other = taken.get(slot) or next(
            (
                o
                for o in shared[to.lower()]
                if o != t.contact_id and _same_occasion_made(book, t, o, history, today)
            ),
            None,
        )
        if other is not None:
            skipped.append(Skip(t.contact_id, t.campaign_id, f"{other} gets this note at {to}"))
            continue
        taken[slot] = t.contact_id
        kept.append(t)
    return kept, skipped


def rank(t: Touch) -> tuple[int, dt.date, dt.date, str]:
    """Who goes first when not everything can be made: higher priority, then the touch whose
    window closes sooner (a birthday today beats a holiday card that can wait), then the older."""
    return (-t.priority, t.last_day, t.due, t.key)


def plan(book: Book, history: History, *, today: dt.date) -> Plan:
    """What to make on ``today``: due touches after per-contact limits, cool-downs and the cap."""
    cands, skipped = candidates(book, history, today)
    cands.sort(key=rank)
    limits = book.settings.limits
    made_today: dict[str, int] = {}
    total_today = 0
    for contact_id, days in (history.touched or {}).items():
        n = sum(1 for d in days if d == today)
        made_today[contact_id] = n
        total_today += n
    chosen: list[Touch] = []
    deferred: list[Deferred] = []
    for t in cands:
        camp = book.campaign(t.campaign_id)
        earlier = [d for d in history.touch_days(t.contact_id) if d < today]
        cooldown = camp.cooldown_days if camp.cooldown_days is not None else limits.cooldown_days
        last_chance = "; today is its last day, so it will be missed" if t.last_day <= today else ""
        wait = max(earlier) + dt.timedelta(days=cooldown) if earlier and cooldown else None
        if made_today.get(t.contact_id, 0) >= limits.per_contact_per_day:
            deferred.append(Deferred(t, f"another touch for this contact today{last_chance}"))
        elif wait is not None and today < wait <= t.last_day:
            # The cool-down holds a touch back only while it can still be made afterwards: a
            # birthday is never lost to a routine note sent two days before.
            deferred.append(
                Deferred(
                    t,
                    f"cool-down: last touch {max(earlier).isoformat()}, "
                    f"waits until {wait.isoformat()}",
                )
            )
        elif total_today >= limits.nightly_cap:
            deferred.append(
                Deferred(t, f"nightly cap of {limits.nightly_cap} reached{last_chance}")
            )
        else:
            chosen.append(t)
            made_today[t.contact_id] = made_today.get(t.contact_id, 0) + 1
            total_today += 1
    chosen.sort(key=lambda t: (t.due, -t.priority, t.key))
    return Plan(
        today,
        tuple(chosen),
        tuple(deferred),
        tuple(skipped),
        _article_notes(book),
        missed(book, history, today),
    )


def missed(book: Book, history: History, today: dt.date) -> tuple[Touch, ...]:
    """Touches whose last day fell on nights without a run (cron did not run, the machine was
    off), never made and now past: a thank-you whose two days of catch-up are over, a birthday.
    Nothing when the last run was last night, or when there was no run before."""
    last = history.last_run_before(today)
    if last is None or (today - last).days <= 1:
        return ()
    first_gap, last_gap = last + dt.timedelta(days=1), today - dt.timedelta(days=1)
    found: dict[str, Touch] = {}
    for camp in book.campaigns:
        if not camp.enabled or camp.template is None or camp.trigger.kind in OPEN_ENDED:
            continue
        for contact in book.contacts:
            if not in_audience(contact, camp, book.settings.country) or draft_blocker(
                contact, camp
            ):
                continue
            for probe in (first_gap, today):
                for t in occasions_for(book, contact, camp, probe, history):
                    if first_gap <= t.last_day <= last_gap and t.key not in history.done:
                        found.setdefault(t.key, t)
    return tuple(sorted(found.values(), key=lambda t: (t.last_day, t.key)))


def _article_notes(book: Book) -> tuple[str, ...]:
    """Articles that no contact of any content campaign could get: nobody shares those tags."""
    campaigns = [c for c in book.campaigns if c.enabled and c.trigger.kind == "content"]
    if not campaigns or not book.articles:
        return ()
    from outreach.sources.articles import matches

    people = [
        interests_of(c)
        for c in book.contacts
        if any(
            in_audience(c, camp, book.settings.country) and not draft_blocker(c, camp)
            for camp in campaigns
        )
    ]
    return tuple(
        f"article '{a.title}' ({', '.join(a.tags) or 'no tags'}) matches nobody"
        for a in book.articles
        if not any(matches(a, p) for p in people)
    )


def with_made(history: History, touches: tuple[Touch, ...] | list[Touch], day: dt.date) -> History:
    """History after ``touches`` were made on ``day`` (used to simulate coming days)."""
    touched = {k: list(v) for k, v in (history.touched or {}).items()}
    for t in touches:
        touched.setdefault(t.contact_id, []).append(day)
    return replace(
        history,
        done=history.done | {t.key for t in touches},
        touched={k: tuple(v) for k, v in touched.items()},
        since=history.since or day,
        made_on={**(history.made_on or {}), **{t.key: day for t in touches}},
        run_days=(*history.run_days, day),
    )


def plan_days(book: Book, history: History, *, today: dt.date, days: int) -> list[Plan]:
    """Plans for ``today`` and the ``days`` after it, as if every night's run made its touches."""
    plans: list[Plan] = []
    for n in range(days + 1):
        day = today + dt.timedelta(days=n)
        p = plan(book, history, today=day)
        plans.append(p)
        history = with_made(history, p.touches, day)
    return plans


# --------------------------------------------------------------------------- follow-ups


@dataclass(frozen=True)
class Scheduled:
    """A follow-up event of one touch on one day: call Jane, write Sam's card, book the review."""

    touch: Touch
    followup: FollowUp
    day: dt.date
    draft: str  # "made" (in the ledger), "planned" (a run will make it), "none" (no draft)

    @property
    def key(self) -> str:
        return f"{self.touch.key}#{self.followup.ident}"


def _step(day: dt.date, days: int, country: str | None, business: bool) -> dt.date:
    if not business:
        return day + dt.timedelta(days=days)
    step = 1 if days >= 0 else -1
    for _ in range(abs(days)):
        day += dt.timedelta(days=step)
        while not occasions.is_business_day(day, country):
            day += dt.timedelta(days=step)
    return day


def _occasions_around(
    book: Book,
    contact: Contact,
    camp: Campaign,
    history: History,
    start: dt.date,
    end: dt.date,
    today: dt.date,
) -> list[Touch]:
    """Every touch of this campaign for this contact whose occasion falls near [start, end]."""
    found: dict[str, Touch] = {}
    if isinstance(camp.trigger, IntervalTrigger):
        for t in occasions_for(book, contact, camp, today, history):
            found[t.key] = t
        prefix = f"{camp.id}/{contact.id}/"
        for key in history.made_on or {}:
            if key.startswith(prefix) and key not in found:
                try:
                    day = dt.date.fromisoformat(key[len(prefix) :])
                except ValueError:
                    continue
                occasion = Occasion("interval", day, camp.title, day.isoformat())
                found[key] = _touch(camp, contact, occasion, day, day, "keep in touch")
        return list(found.values())
    probe = start - dt.timedelta(days=60)
    while probe <= end + dt.timedelta(days=30):
        for t in occasions_for(book, contact, camp, probe, history):
            found.setdefault(t.key, t)
        probe += dt.timedelta(days=30)
    return list(found.values())


def followups(book: Book, history: History, *, today: dt.date) -> list[Scheduled]:
    """The follow-up events whose day falls in the calendar's rolling window around ``today``.

    Anchored on the occasion, an event exists whether or not there is a draft (a card for someone
    who wants no email). Anchored on the draft, it follows the night the draft was made; no draft
    made, no event.
    Do-not-contact is absolute here too.
    """
    cal = book.settings.calendar
    start = today - dt.timedelta(days=cal.past_days)
    end = today + dt.timedelta(days=cal.future_days)
    made = history.made_on or {}
    out: list[Scheduled] = []
    for camp in book.campaigns:
        if not camp.enabled or not camp.followups:
            continue
        for contact in book.contacts:
            if (
                not in_audience(contact, camp, book.settings.country)
                or contact.preferences.do_not_contact
            ):
                continue
            can_draft = camp.template is not None and draft_blocker(contact, camp) is None
            country = _country(book, contact)
            for touch in _occasions_around(book, contact, camp, history, start, end, today):
                if touch.key in made:
                    draft = "made"
                elif can_draft and touch.last_day >= today:
                    draft = "planned"
                else:
                    draft = "none"
                for fu in camp.followups:
                    if fu.anchor == "draft":
                        if draft != "made":
                            continue  # "call a week after the note": only once there is a note
                        base = made[touch.key]
                    else:
                        base = touch.occasion.date
                    day = _step(base, fu.offset_days, country, fu.business_days)
                    if start <= day <= end:
                        out.append(Scheduled(touch, fu, day, draft))
    out.sort(key=lambda s: (s.day, s.key))
    return out
