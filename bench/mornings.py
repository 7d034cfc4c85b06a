#!/usr/bin/env python3
"""Steady mornings: drafts per night of a 500-person book over its first 150 nights, before and
after spreading (issue 16).

    python bench/mornings.py [--contacts 500] [--nights 150] [--start 2026-12-01] [--cli]

The book is bench/books.py's people (realistic dates: birthdays, children, client-since dates,
some last contacts) with the issue's campaigns (tests/nights.py): birthdays, children's birthdays
a week ahead, client anniversaries, a quarterly update to everyone and keep-in-touch every 60
days; the default limits (a cap of 50 a night, 3 days' cool-down).

"before": spreading off (limits.morning_target 100000) and the quarterly update as it was;
"after": the default morning target and the quarterly update marked `flexible: true`. Every
night's plan is made in memory as the nightly run makes it (arrivals, then the plan, then what
it made). Prints each run's mornings, the busiest against the median (the goal: at most 2x),
touches lost (deferred on their last day; the goal: none), dated touches moved (none), whether
a second pass over the same nights gives the same drafts, and the median plan time a night.

--cli also runs `outreach run --date D` for every night of "after" in its own process (the dir
store), and compares the .eml files each night wrote with the in-memory plan.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import books
from measure import outreach_cmd, parser, run

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import write_folder  # noqa: E402
from nights import nights, rhythm_campaigns  # noqa: E402

from outreach import config, mornings, planner, spread  # noqa: E402

MOVABLE = {"keep-in-touch", "quarterly"}


def book_folder(root: Path, n: int, start: dt.date, *, after: bool) -> Path:
    limits = {} if after else {"morning_target": 100000}
    write_folder(root, books.people(n, start), rhythm_campaigns(flexible=after),
                 limits=limits)
    return root


def simulate(root: Path, start: dt.date, days: int) -> tuple[list[planner.Plan], float]:
    book = config.load_book(root)
    started = time.perf_counter()
    plans = nights(book, start, days)
    return plans, (time.perf_counter() - started) / days


def report(label: str, plans: list[planner.Plan]) -> list[int]:
    counts = [len(p.touches) for p in plans]
    lost = sum(1 for p in plans for d in p.deferred if d.touch.last_day <= p.today)
    moved_dated = sum(1 for p in plans for t in p.moved if t.campaign_id not in MOVABLE)
    late = [(p.today - t.due).days for p in plans for t in p.touches
            if t.campaign_id == "keep-in-touch" and t.due > plans[0].today]
    print(f"{label}: {mornings.summary(counts)}, {sum(counts):,} drafts, {lost} lost, "
          f"{moved_dated} dated touches moved; keep-in-touch after the first night "
          f"{statistics.median(late):g} days late at the median, {max(late)} at most")
    print("  " + mornings.sparkline(counts))
    for week in range(0, len(counts), 30):
        print("  " + " ".join(f"{n:2d}" for n in counts[week:week + 30]))
    return counts


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--contacts", type=int, default=500, help="people in the book (500)")
    ap.add_argument("--nights", type=int, default=150, help="nights from the first (150)")
    ap.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 12, 1),
                    help="the book's first night (2026-12-01)")
    ap.add_argument("--cli", action="store_true", help="also run `outreach run` every night")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as name:
        tmp = Path(name)
        before_root = book_folder(tmp / "before", args.contacts, args.start, after=False)
        after_root = book_folder(tmp / "after", args.contacts, args.start, after=True)
        before, per_before = simulate(before_root, args.start, args.nights)
        after, per_after = simulate(after_root, args.start, args.nights)
        again, _ = simulate(after_root, args.start, args.nights)
        print(f"{args.contacts:,} contacts, {args.nights} nights from {args.start}\n")
        report("before", before)
        counts = report("after ", after)
        book = config.load_book(after_root)
        target = spread.morning_target(book, planner.Audiences(book).reachable)
        print(f"\nafter: morning target {target} (computed from the book); busiest / median "
              f"{max(counts) / statistics.median(counts):.2f} (goal <= 2)")
        same = [p.touches for p in again] == [p.touches for p in after]
        print(f"a second pass over the same nights gives the same drafts: {same}")
        print(f"plan a night: {per_before * 1000:.0f} ms before, {per_after * 1000:.0f} ms after")
        if args.cli:
            cli_nights(after_root, after, args.start)


def cli_nights(root: Path, plans: list[planner.Plan], start: dt.date) -> None:
    """Every night as cron runs it, each in its own process; the drafts each night wrote."""
    started = time.perf_counter()
    seen: set[Path] = set()
    differ = 0
    for p in plans:
        run([*outreach_cmd(), "-C", str(root), "run", "--date", p.today.isoformat()])
        files = set((root / "drafts").rglob("*.eml"))
        if len(files - seen) != len(p.touches):
            differ += 1
        seen = files
    print(f"outreach run, {len(plans)} nights: {len(seen):,} drafts, {differ} nights differ from "
          f"the plan, {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
