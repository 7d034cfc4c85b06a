"""The planner: a pure function of (book, history, today). No clock, no I/O.

Rules (README "How the planner decides"):

* a touch is due from its ``due`` day (the occasion less its lead time, moved to a business day
  when the campaign asks) until its ``last_day``: never after the occasion for dates and holidays,
  ``catch_up_days`` after the due day for schedules; so nights cron missed are caught up, and a
  greeting never arrives after the day;
* a key in ``history.done`` is never planned again (nor one an earlier release spelled otherwise);
* do-not-contact is absolute; people with ``email_ok: false`` or no address get no draft;
* at most ``per_contact_per_day`` touches per contact per day, higher priority first; a campaign's
  cool-down holds it back while the contact's last touch is too recent; the nightly cap keeps the
  highest priorities. What waits is reported as deferred and planned again the next night.

This module is the plan: windows, limits, priorities, a sequence's later notes, one note per
address. The triggers are in ``outreach.triggers``, the audience in ``outreach.audience``, the
calendar's follow-ups in ``outreach.followups``; their public names are importable from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from outreach import exchanges, nightly, replay, spread
from outreach.audience import addresses as addresses
from outreach.audience import draft_blocker as draft_blocker
from outreach.audience import in_audience as in_audience
from outreach.audience import last_touch as last_touch
from outreach.audience import meetings_with as meetings_with
from outreach.audience import with_interactions as with_interactions
from outreach.book import Book
from outreach.followups import Scheduled as Scheduled
from outreach.followups import followups as followups
from outreach.matching import interests_of as interests_of
from outreach.matching import matches
from outreach.model import Campaign, Contact
from outreach.replay import with_arrivals
from outreach.replay import with_made as with_made
from outreach.touch import OPEN_ENDED
from outreach.touch import Deferred as Deferred
from outreach.touch import History as History
from outreach.touch import Occasion as Occasion
from outreach.touch import Touch as Touch
from outreach.touch import expires as expires
from outreach.touchkey import TouchKey
from outreach.triggers import DEFAULT_SCHEDULE_CATCH_UP as DEFAULT_SCHEDULE_CATCH_UP
from outreach.triggers import DEFAULT_THANKS_CATCH_UP as DEFAULT_THANKS_CATCH_UP
from outreach.triggers import FAR as FAR
from outreach.triggers import SHIFT_MAX, country_of, due_touches, shifted
from outreach.triggers import child_slugs as child_slugs
from outreach.triggers import fmt_day as fmt_day
from outreach.triggers import occasions_between as occasions_between
from outreach.triggers import occasions_for as occasions_for

STEP_CATCH_UP = 14


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
    moved: tuple[Touch, ...] = ()  # due, and left for a quieter morning (outreach.spread)
    spread: tuple[str, ...] = ()  # what plan says about them
    target: int = 0  # the morning target, when the night was big enough to ask (spread.py)


# --------------------------------------------------------------------------- the audiences


class Audiences:
    """Each campaign's audience in the book's order, with what keeps each person from a draft
    (``draft_blocker``): worked out once per contact and campaign, then read by every part of a
    night's plan."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self._found: dict[str, list[tuple[Contact, str | None]]] = {}

    def of(self, camp: Campaign) -> list[tuple[Contact, str | None]]:
        """(contact, blocker or None) for every contact in the campaign's audience."""
        found = self._found.get(camp.id)
        if found is None:
            country = self.book.settings.country
            found = [
                (c, draft_blocker(c, camp))
                for c in self.book.contacts
                if in_audience(c, camp, country)
            ]
            self._found[camp.id] = found
        return found

    def reachable(self, camp: Campaign) -> list[Contact]:
        """The contacts of the campaign's audience who can get a draft."""
        return [c for c, blocker in self.of(camp) if blocker is None]


# --------------------------------------------------------------------------- sequences


def _step_touches(
    book: Book, camp: Campaign, history: History, today: dt.date, audiences: Audiences
) -> list[Touch]:
    """The next note of every running sequence of this campaign: due ``after`` days past the
    previous one; none once the contact replied (where the mailbox can tell). Only notes made
    recently enough for the next one's window to hold ``today`` are looked at."""
    out: list[Touch] = []
    catch_up = camp.catch_up_days if camp.catch_up_days is not None else STEP_CATCH_UP
    longest = max(step.after for step in camp.steps)
    since = today - dt.timedelta(days=longest + catch_up + SHIFT_MAX)
    blocked = {c.id: b for c, b in audiences.of(camp)}
    for key, day in history.made_since(camp.id, since):
        number = key.step
        if str(key.first) in history.stopped or number > len(camp.steps):
            continue
        step = camp.steps[number - 1]
        nxt = key.at_step(number + 1)
        if str(nxt) in history.done:
            continue
        if key.contact not in blocked or blocked[key.contact] is not None:
            continue  # no longer in the book, or out of the audience, or cannot get a draft
        contact = book.contact(key.contact)
        after = day + dt.timedelta(days=step.after)
        due = shifted(after, country_of(book, contact), camp, None)
        moved = f", moved to {fmt_day(due)}, a business day" if due != after else ""
        last = due + dt.timedelta(days=catch_up)
        if not due <= today <= last:
            continue
        occasion = Occasion("step", due, f"{camp.title}, note {number + 1}", nxt.tail)
        out.append(
            Touch(
                str(nxt),
                contact.id,
                camp.id,
                occasion,
                due,
                last,
                camp.priority,
                f"note {number + 1} of {len(camp.steps) + 1}, {step.after} days after "
                f"note {number} ({day.isoformat()}){moved}",
                step=nxt.step,
            )
        )
    return out


# --------------------------------------------------------------------------- the plan


def candidates(
    book: Book, history: History, today: dt.date, audiences: Audiences | None = None
) -> tuple[list[Touch], list[Skip]]:
    """Touches whose window holds ``today`` and that were never made, before any limit."""
    audiences = audiences or Audiences(book)
    out: list[Touch] = []
    skipped: list[Skip] = []
    for camp in book.campaigns:
        if not camp.enabled or camp.template is None:
            continue  # a calendar-only campaign makes no drafts
        for contact, blocker in audiences.of(camp):
            due_now = [
                t
                for t in due_touches(book, contact, camp, today, history)
                if not history.is_done(t) and not spread.came_later(camp, t, history, today)
            ]
            if due_now and blocker is None:
                why = paced(camp, contact, history, today)
                if why is not None:
                    skipped.append(Skip(contact.id, camp.id, why))
                    continue
            if not due_now:
                if blocker is None and (
                    why := exchanges.quieted(book, history, today, camp, contact)
                ):
                    skipped.append(Skip(contact.id, camp.id, why))
                continue
            if blocker:
                skipped.append(Skip(contact.id, camp.id, blocker))
                continue
            out.extend(due_now)
        if camp.steps:
            out.extend(_step_touches(book, camp, history, today, audiences))
        if camp.trigger.kind == "introduction":
            skipped.extend(_cancelled_introductions(book, camp, today))
        if camp.trigger.kind == "content":
            out_ids = {t.contact_id for t in out if t.campaign_id == camp.id}
            recent = today - dt.timedelta(days=camp.trigger.every_days)
            for contact in audiences.reachable(camp):
                if contact.id not in out_ids and not any(
                    d > recent for _, d in history.made_for(camp.id, contact.id)
                ):
                    skipped.append(
                        Skip(contact.id, camp.id, "no unshared article matches their interests")
                    )
    return _one_per_address(book, out, skipped, history, today)


def _cancelled_introductions(book: Book, camp: Campaign, today: dt.date) -> list[Skip]:
    """The introductions due tonight that make no note (do-not-contact on a side), and why."""
    from outreach import intro_touches

    catch_up = camp.catch_up_days if camp.catch_up_days is not None else DEFAULT_THANKS_CATCH_UP
    return [
        Skip(intro.to, camp.id, why)
        for intro in book.introductions
        if intro.date <= today <= intro.date + dt.timedelta(days=catch_up)
        and (why := intro_touches.cancelled(book, intro)) is not None
    ]


def paced(camp: Campaign, contact: Contact, history: History, today: dt.date) -> str | None:
    """Why a campaign's due touch waits for this person: ``audience.since_days`` (a client of at
    least N days) or ``every_days`` (one touch of it in N days at most); None when it may go."""
    since = camp.audience.since_days
    if since is not None:
        client = contact.dates.client_since
        if client is None:
            return f"not a client on record (audience.since_days {since}: dates.client_since)"
        if (today - client).days < since:
            return f"a client since {client.isoformat()}, not yet {since} days"
    every = camp.every_days
    if every is not None:
        made = [d for _, d in history.made_for(camp.id, contact.id) if d <= today]
        if made and (today - max(made)).days < every:
            return f"had this note on {max(made).isoformat()} (every_days {every})"
    return None


def _same_occasion_made(book: Book, t: Touch, other: str, history: History, today: dt.date) -> bool:
    """Whether ``other`` already had this touch's occasion from this campaign: the same key
    part, on the same date (two people's birthdays share the key part of the year)."""
    theirs = [str(replace(TouchKey.parse(k), contact=other)) for k in (t.key, *t.aliases)]
    if not any(k in history.done for k in theirs):
        return False
    camp = book.campaign(t.campaign_id)
    for o in occasions_for(book, book.contact(other), camp, today, history):
        if o.key == theirs[0]:
            return history.is_done(o) and o.occasion.date == t.occasion.date
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
    """What to make on ``today``: due touches after per-contact limits, cool-downs, the
    morning's spreading (``outreach.spread``) and the cap."""
    audiences = Audiences(book)
    cands, skipped = candidates(book, history, today, audiences)
    cands.sort(key=rank)
    spread_out, held = spread.Spread(cands, []), list[Deferred]()
    ran = bool(replay.made_on(history, today))  # a second run of the night spreads as the first
    if cands and (len(cands) > spread.least(book) or ran):
        eligible, held = nightly.limited(book, history, today, cands, cap=None)
        spread_out = _spread(book, history, today, eligible, audiences)
    moved = {t.key for t in spread_out.moved}
    kept_back: list[Deferred] = []
    if moved:
        # a person one of whose touches waits gets none of the others tonight either
        waiting = {t.contact_id for t in spread_out.moved}
        kept_back = [d for d in held if d.touch.contact_id in waiting]
        back = {d.touch.key for d in kept_back}
        cands = [t for t in cands if t.key not in moved and t.key not in back]
    chosen, deferred = nightly.limited(
        book, history, today, cands, cap=book.settings.limits.nightly_cap
    )
    chosen.sort(key=lambda t: (t.due, -t.priority, t.key))
    return Plan(
        today,
        tuple(chosen),
        tuple(sorted([*deferred, *kept_back], key=lambda d: rank(d.touch))),
        tuple(skipped),
        _article_notes(book, audiences),
        missed(book, history, today, audiences),
        tuple(spread_out.moved),
        spread_out.lines,
        spread_out.target,
    )


def _spread(
    book: Book, history: History, today: dt.date, eligible: list[Touch], audiences: Audiences
) -> spread.Spread:
    """The night's spreading (``outreach.spread``). A night that already ran (a second run, or
    one after a crash) spreads as its first run did: what that run's plan left for the coming
    nights still waits, and what it kept is made now if it is not yet."""
    first = replay.before(history, today)
    if first is history:  # the night's first run
        return spread.spread(book, history, today, eligible, audiences.reachable)
    cands, _ = candidates(book, first, today, audiences)
    cands.sort(key=rank)
    was, _ = nightly.limited(book, first, today, cands, cap=None)
    then = spread.spread(book, first, today, was, audiences.reachable)
    waits = {t.key for t in then.moved}
    return spread.Spread(
        [t for t in eligible if t.key not in waits],
        [t for t in eligible if t.key in waits],
        then.lines,
        then.target,
    )


def missed(
    book: Book, history: History, today: dt.date, audiences: Audiences | None = None
) -> tuple[Touch, ...]:
    """Touches whose last day fell on nights without a run (cron did not run, the machine was
    off), never made and now past: a thank-you whose two days of catch-up are over, a birthday.
    Nothing when the last run was last night, or when there was no run before."""
    last = history.last_run_before(today)
    if last is None or (today - last).days <= 1:
        return ()
    audiences = audiences or Audiences(book)
    first_gap, last_gap = last + dt.timedelta(days=1), today - dt.timedelta(days=1)
    found: dict[str, Touch] = {}
    for camp in book.campaigns:
        if not camp.enabled or camp.template is None or camp.trigger.kind in OPEN_ENDED:
            continue
        for contact in audiences.reachable(camp):
            for probe in (first_gap, today):
                for t in occasions_for(book, contact, camp, probe, history):
                    if first_gap <= t.last_day <= last_gap and not history.is_done(t):
                        found.setdefault(t.key, t)
    return tuple(sorted(found.values(), key=lambda t: (t.last_day, t.key)))


def _article_notes(book: Book, audiences: Audiences) -> tuple[str, ...]:
    """Articles that no contact of any content campaign could get: nobody shares those tags."""
    campaigns = [c for c in book.campaigns if c.enabled and c.trigger.kind == "content"]
    if not campaigns or not book.articles:
        return ()
    reachable = {c.id for camp in campaigns for c in audiences.reachable(camp)}
    # each set of interests once: many people share theirs
    people = {frozenset(interests_of(c)) for c in book.contacts if c.id in reachable}
    return tuple(
        f"article '{a.title}' ({', '.join(a.tags) or 'no tags'}) matches nobody"
        for a in book.articles
        if not any(matches(a, p) for p in people)
    )


def plan_days(book: Book, history: History, *, today: dt.date, days: int) -> list[Plan]:
    """Plans for ``today`` and the ``days`` after it, as if every night's run made its touches."""
    plans: list[Plan] = []
    history = with_arrivals(history, book, today)
    for n in range(days + 1):
        day = today + dt.timedelta(days=n)
        p = plan(book, history, today=day)
        plans.append(p)
        history = with_made(history, p.touches, day)
    return plans
