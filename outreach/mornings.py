"""The mornings ahead as text: drafts per night, a bar each, and the busiest against the median
(what ``outreach plan --days N`` ends with, and what bench/mornings.py prints)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence

WIDTH = 40  # the longest bar, in characters
BLOCKS = " ▁▂▃▄▅▆▇█"


def bars(nights: Sequence[tuple[dt.date, int]], target: int | None = None) -> list[str]:
    """One line a night: the day, its drafts and a bar (scaled to ``WIDTH`` when a night has
    more); ``target`` is marked with a ``|`` where the bar would cross it."""
    if not nights:
        return []
    most = max(max(n for _, n in nights), target or 0, 1)
    scale = min(1.0, WIDTH / most)
    mark = round(target * scale) if target else None
    out = []
    for day, n in nights:
        bar = list("█" * round(n * scale))
        if mark is not None:
            bar += [" "] * (mark + 1 - len(bar))
            bar[mark] = "|" if bar[mark] == " " else bar[mark]
        out.append(f"  {day:%a %d %b}  {n:3d}  {''.join(bar).rstrip()}")
    return out


def sparkline(counts: Sequence[int]) -> str:
    """The nights as one line of block characters, the busiest a full block."""
    most = max(counts, default=0)
    if most <= 0:
        return BLOCKS[0] * len(counts)
    return "".join(BLOCKS[round(n / most * (len(BLOCKS) - 1))] for n in counts)


def summary(counts: Sequence[int]) -> str:
    """'busiest 24, median 16 (1.5 x)': the figures the rule is judged by."""
    if not counts:
        return "no nights"
    busiest, median = max(counts), statistics.median(counts)
    ratio = f" ({busiest / median:.1f} x)" if median else ""
    return f"busiest {busiest}, median {median:g}{ratio}"
