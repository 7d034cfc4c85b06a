"""The filters templates have besides Jinja's own: ordinal, possessive, friendly_date, fallback,
join_and (README "Templates")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2

from outreach.model import PartialDate


class Missing(ValueError):
    """A value a note needs is missing (None, or empty text)."""


def ordinal(n: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def possessive(name: str) -> str:
    """Jane -> Jane's, James -> James'."""
    name = str(name)
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"


def friendly_date(value: dt.date | PartialDate | None, style: str = "long") -> str:
    """'Sunday, April 12' (long), 'April 12' (short), '12 April' (day-first)."""
    if value is None:
        raise Missing("friendly_date got None")
    if isinstance(value, PartialDate):
        value = value.in_year(value.year or 2000)
        if style == "long":
            style = "short"
    if isinstance(value, dt.datetime):
        value = value.date()
    if style == "short":
        return f"{value:%B} {value.day}"
    if style == "day-first":
        return f"{value.day} {value:%B}"
    return f"{value:%A}, {value:%B} {value.day}"


def fallback(value: Any, default: Any) -> Any:
    """The value, or ``default`` when it is missing, None or empty."""
    if isinstance(value, jinja2.Undefined) or value is None:
        return default
    if isinstance(value, str | list | tuple | dict) and not value:
        return default
    return value


def join_and(items: Any, word: str = "and") -> str:
    """['a','b','c'] -> 'a, b and c'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"
