"""The planner's values: an occasion, a touch planned for it, a touch that waits, and the history
of what was made (as the ledger knows it).

Domain: made by the planner and the ledger, read by the renderer, the feed and the commands. A
touch's key is written by :class:`outreach.touchkey.TouchKey`; a touch whose key an earlier
release spelled differently (a slug that changed) carries that spelling in ``aliases``, and
counts as made when either is recorded.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from outreach.touchkey import TouchKey

if TYPE_CHECKING:
    from outreach.model import Interaction


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
    intro: Any = None  # introduction: the introduction.Introduction (person: the other's id)


@dataclass(frozen=True)
class Touch:
    """One planned act for one contact from one campaign on one occasion."""

    key: str  # str(TouchKey): what the ledger records and the Message-ID derives from
    contact_id: str
    campaign_id: str
    occasion: Occasion
    due: dt.date  # first day it may be made (lead time and business days applied)
    last_day: dt.date  # last day it may still be made (catch-up ends here)
    priority: int
    reason: str
    step: int = 1  # a sequence's note number: 1 for a first note (the key's ``/step-n``)
    aliases: tuple[str, ...] = ()  # the same touch's key as an earlier release spelled it

    def late_days(self, today: dt.date) -> int:
        return max(0, (today - self.due).days)

    @property
    def first_key(self) -> str:
        """The key of the sequence's first note (the key itself for a first note)."""
        return self.key if self.step == 1 else str(TouchKey.parse(self.key).first)

    def as_step(self, step: int) -> Touch:
        """This touch as note ``step`` of its sequence (same occasion, the step's key)."""
        key = TouchKey.parse(self.key).at_step(step)
        return replace(self, key=str(key), step=step, aliases=())


# triggers whose touches never expire (keep in touch), or are replaced by the next one when they
# do (an article past max_age_days: the next freshest is shared): nothing of theirs is "missed",
# and they may always wait for a quieter morning
OPEN_ENDED = ("interval", "content")


def expires(touch: Touch) -> bool:
    """False for a keep-in-touch: it waits as long as it must (``last_day`` is then far away)."""
    return touch.occasion.kind != "interval"


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
    # per contact: the days a message from them was seen in the mailbox (mailbox.watch)
    heard: dict[str, tuple[dt.date, ...]] | None = None
    # where each interaction of ``seen`` was seen: (contact, day, summary) -> "calendar", "mailbox"
    seen_sources: dict[tuple[str, dt.date, str | None], str] | None = None
    # per contact: the first night a run saw them in the book (a new book's, or an import's,
    # keep-in-touch ramps up from then); see ``arrival``
    arrived: dict[str, dt.date] | None = None

    def arrival(self, contact_id: str, today: dt.date) -> dt.date:
        """The night ``contact_id`` came into the book, as the runs saw it: someone they have
        not seen arrives tonight; with no record of arrivals at all, everyone arrived on the
        first night there was (or tonight, for a new book)."""
        if self.arrived:
            return self.arrived.get(contact_id, today)
        return self.since or today

    def last_run_before(self, day: dt.date) -> dt.date | None:
        days = self._run_days_sorted
        n = bisect.bisect_left(days, day)
        return days[n - 1] if n else None

    def touched_on(self, day: dt.date) -> dict[str, int]:
        """Per contact, how many touches were made on ``day`` (contacts with none left out)."""
        return self._touched_by_day.get(day, {})

    def made_since(self, campaign_id: str, day: dt.date) -> list[tuple[TouchKey, dt.date]]:
        """This campaign's drafted keys made on ``day`` or later, with the night each was made,
        in the order of ``made_on``."""
        made = self._made_by_campaign.get(campaign_id)
        if not made:
            return []
        n = bisect.bisect_left(made, (day,))
        return [(key, night) for night, _, key in sorted(made[n:], key=lambda m: m[1])]

    @cached_property
    def _run_days_sorted(self) -> list[dt.date]:
        return sorted(self.run_days)

    @cached_property
    def _touched_by_day(self) -> dict[dt.date, dict[str, int]]:
        days: dict[dt.date, Counter[str]] = {}
        for contact_id, touched in (self.touched or {}).items():
            for d in touched:
                days.setdefault(d, Counter())[contact_id] += 1
        return {d: dict(c) for d, c in days.items()}

    @cached_property
    def _made_by_campaign(self) -> dict[str, list[tuple[dt.date, int, TouchKey]]]:
        """Per campaign: (night, position in ``made_on``, key), by night."""
        out: dict[str, list[tuple[dt.date, int, TouchKey]]] = {}
        keys = self._keys
        for n, (text, day) in enumerate((self.made_on or {}).items()):
            key = keys[text]
            if key is not None:
                out.setdefault(key.campaign, []).append((day, n, key))
        for made in out.values():
            made.sort(key=lambda m: (m[0], m[1]))
        return out

    def reply_days(self, contact_id: str) -> tuple[dt.date, ...]:
        return (self.replies or {}).get(contact_id, ())

    def heard_days(self, contact_id: str) -> tuple[dt.date, ...]:
        """The days the contact wrote to us: mail from them, a reply in a sequence."""
        return tuple(
            sorted({*(self.heard or {}).get(contact_id, ()), *self.reply_days(contact_id)})
        )

    def seen_days(self, contact_id: str) -> tuple[dt.date, ...]:
        return tuple(i.date for i in (self.seen or {}).get(contact_id, ()))

    def touch_days(self, contact_id: str) -> tuple[dt.date, ...]:
        return (self.touched or {}).get(contact_id, ())

    def is_done(self, touch: Touch) -> bool:
        """Whether the touch must not be made again: its key, or an earlier spelling of it, is
        recorded as done."""
        if touch.key in self.done:
            return True
        return bool(touch.aliases) and any(a in self.done for a in touch.aliases)

    def made_day(self, touch: Touch) -> dt.date | None:
        """The night the touch's draft was made (under its key or an earlier spelling), if any."""
        made = self.made_on or {}
        for key in (touch.key, *touch.aliases):
            if key in made:
                return made[key]
        return None

    def made_for(self, campaign_id: str, contact_id: str) -> tuple[tuple[TouchKey, dt.date], ...]:
        """The drafted keys of this campaign for this contact, with the night each was made."""
        return self._made_by_pair.get((campaign_id, contact_id), ())

    def done_for(self, campaign_id: str, contact_id: str) -> frozenset[str]:
        """What follows the contact in this campaign's done keys for this contact: ``2026``,
        ``2026-11-22/step-2`` (``TouchKey.tail``)."""
        return self._done_by_pair.get((campaign_id, contact_id), frozenset())

    @cached_property
    def _keys(self) -> dict[str, TouchKey | None]:
        """Every recorded key, read once (None: not a touch key) for the indexes below."""
        return {text: TouchKey.read(text) for text in (*self.done, *(self.made_on or {}))}

    @cached_property
    def _done_by_pair(self) -> dict[tuple[str, str], frozenset[str]]:
        pairs: dict[tuple[str, str], set[str]] = {}
        keys = self._keys
        for text in self.done:
            key = keys[text]
            if key is not None:
                pairs.setdefault((key.campaign, key.contact), set()).add(key.tail)
        return {pair: frozenset(tails) for pair, tails in pairs.items()}

    @cached_property
    def _made_by_pair(self) -> dict[tuple[str, str], tuple[tuple[TouchKey, dt.date], ...]]:
        pairs: dict[tuple[str, str], list[tuple[TouchKey, dt.date]]] = {}
        keys = self._keys
        for text, day in (self.made_on or {}).items():
            key = keys[text]
            if key is not None:
                pairs.setdefault((key.campaign, key.contact), []).append((key, day))
        return {pair: tuple(made) for pair, made in pairs.items()}
