"""The key of a touch as a value: ``campaign/contact/occasion``, and ``/step-n`` for a sequence's
later notes (``intro/jane-doe/2026-11-22/step-2``).

A touch key names one act for ever: the ledger records it, the Message-ID derives from it, and a
key once made is never planned again. :class:`TouchKey` is the only code that writes or reads
its parts; the string form is exactly the one earlier releases recorded, so
``str(TouchKey.parse(key)) == key`` for every key the planner makes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STEP = re.compile(r"step-([2-9]|[1-9][0-9]+)")  # the first note has no step part: no step-1


@dataclass(frozen=True, slots=True)
class TouchKey:
    """``campaign/contact/occasion`` plus ``/step-n`` when ``step`` > 1.

    ``occasion`` is the part that names the occasion (``2026``, ``sam-2026``, ``2026-12-25``,
    a meeting's key, an article's id); none of the parts is empty or holds a ``/``."""

    campaign: str
    contact: str
    occasion: str
    step: int = 1  # 1: the first note (of a sequence, or the only one); n: its n-th note

    def __post_init__(self) -> None:
        c, p, o = self.campaign, self.contact, self.occasion
        if not (type(c) is type(p) is type(o) is str and c and p and o) or "/" in c + p + o:
            raise ValueError(f"a touch key's parts are non-empty texts without '/': {c, p, o!r}")
        if type(self.step) is not int or self.step < 1:
            raise ValueError(f"a touch key's step is a whole number from 1, not {self.step!r}")

    @classmethod
    def parse(cls, text: str) -> TouchKey:
        """The key written as ``text``; ValueError for a text that is not a touch key."""
        parts = text.split("/")
        if len(parts) == 4:
            found = _STEP.fullmatch(parts[3])
            if found is None:
                raise ValueError(f"not a touch key: {text!r} (a fourth part is 'step-n', n > 1)")
            return cls(parts[0], parts[1], parts[2], int(found.group(1)))
        if len(parts) != 3:
            raise ValueError(f"not a touch key: {text!r} (campaign/contact/occasion[/step-n])")
        return cls(parts[0], parts[1], parts[2])

    @classmethod
    def read(cls, text: str) -> TouchKey | None:
        """The key written as ``text``, or None when it is not a touch key."""
        try:
            return cls.parse(text)
        except ValueError:
            return None

    def __str__(self) -> str:
        if self.step == 1:
            return f"{self.campaign}/{self.contact}/{self.occasion}"
        return f"{self.campaign}/{self.contact}/{self.occasion}/step-{self.step}"

    @property
    def tail(self) -> str:
        """What follows the contact: ``2026-11-22``, ``2026-11-22/step-2``."""
        return self.occasion if self.step == 1 else f"{self.occasion}/step-{self.step}"

    @property
    def first(self) -> TouchKey:
        """The key of the sequence's first note (this key, for a first note)."""
        return self.at_step(1)

    def at_step(self, step: int) -> TouchKey:
        """The key of the same sequence's note ``step``."""
        return TouchKey(self.campaign, self.contact, self.occasion, step)
