"""A night's limits on its due touches: at most ``per_contact_per_day`` a person (the one
whose last day it is first, then priority), a campaign's cool-down after the person's last
touch (only while the touch can still be made afterwards), the mailbox's hold after a message
from them, and the nightly cap. Pure, like the planner that calls it."""

from __future__ import annotations

import datetime as dt

from outreach import exchanges
from outreach.book import Book
from outreach.campaigns import Campaign
from outreach.touch import Deferred, History, Touch


def cooldown(book: Book, camp: Campaign) -> int:
    """The days ``camp`` waits after a person's last touch: its own, else the settings'."""
    days = camp.cooldown_days
    return book.settings.limits.cooldown_days if days is None else days


def limited(
    book: Book, history: History, today: dt.date, cands: list[Touch], *, cap: int | None
) -> tuple[list[Touch], list[Deferred]]:
    """Of ``cands`` (in rank order): those the per-contact limit, the cool-downs, the mailbox's
    hold and the nightly ``cap`` (None: no cap) let through tonight, and those that wait."""
    limits = book.settings.limits
    hold_days = book.settings.mailbox.hold_days
    made_today = dict(history.touched_on(today))
    total_today = sum(made_today.values())
    chosen: list[Touch] = []
    deferred: list[Deferred] = []
    for t in cands:
        camp = book.campaign(t.campaign_id)
        earlier = [d for d in history.touch_days(t.contact_id) if d < today]
        days = cooldown(book, camp)
        last_chance = "; today is its last day, so it will be missed" if t.last_day <= today else ""
        wait = max(earlier) + dt.timedelta(days=days) if earlier and days else None
        if made_today.get(t.contact_id, 0) >= limits.per_contact_per_day:
            # of one person's touches tonight, one whose last day it is goes before one that
            # can wait (whatever their priorities): nothing is lost to a note of tomorrow
            swap = None
            if last_chance:  # one of theirs that could still be made tomorrow
                swap = next(
                    (
                        n
                        for n, c in enumerate(chosen)
                        if c.contact_id == t.contact_id and c.last_day > today
                    ),
                    None,
                )
            if swap is not None:
                deferred.append(Deferred(chosen[swap], f"{t.key} has its last day today"))
                chosen[swap] = t
            else:
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
        elif (why := exchanges.held(t, history, today, hold_days)) is not None:
            deferred.append(Deferred(t, why))
        elif cap is not None and total_today >= cap:
            deferred.append(Deferred(t, f"nightly cap of {cap} reached{last_chance}"))
        else:
            chosen.append(t)
            made_today[t.contact_id] = made_today.get(t.contact_id, 0) + 1
            total_today += 1
    return chosen, deferred
