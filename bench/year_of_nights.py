#!/usr/bin/env python3
"""A year of nights: does a night stay as cheap as the first ones while history grows?

    python bench/year_of_nights.py [--contacts 500] [--nights 365] [--start 2026-01-01]

One generated book (bench/books.py: birthdays, children, an anniversary, a holiday, a quarterly
note, keep-in-touch every 45 days; the scaffold's limits: 25 a night, 3 days' cool-down) with the
dir store. Every night of the year runs as cron runs it: `outreach run --date D` in its own
process, one after the other, so the drafts folder, the ledger and the feed grow as they would.
Prints the median wall time (and CPU time) of the first 30 and the last 30 nights and their
ratio; the goal is last / first <= 1.2. A year of nights takes a while (365 processes): --nights
120 is a quicker look (the window stays 30 nights at each end).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import books
from measure import Child, Row, median, outreach_cmd, parser, run, table


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--contacts", type=int, default=500, help="people in the book (500)")
    ap.add_argument("--nights", type=int, default=365, help="nights to run (365)")
    ap.add_argument("--window", type=int, default=30, help="nights at each end (30)")
    ap.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 1, 1),
                    help="the first night (2026-01-01)")
    args = ap.parse_args()
    if args.nights < 2 * args.window:
        raise SystemExit("--nights must be at least twice --window")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as name:
        root = books.write_book(Path(name) / "book", args.contacts, args.start)
        nights: list[Child] = []
        for i in range(args.nights):
            day = args.start + dt.timedelta(days=i)
            nights.append(run([*outreach_cmd(), "-C", str(root), "run", "--date", day.isoformat()]))
            if (i + 1) % 30 == 0 or i + 1 == args.nights:
                recent = median([c.wall for c in nights[-30:]])
                files = sum(1 for _ in (root / "drafts").rglob("*.eml"))
                print(f"night {i + 1:3d} ({day}): median of the last 30 {recent:.2f} s, "
                      f"{files:,} drafts so far", flush=True)
    first, last = nights[: args.window], nights[-args.window :]
    w = args.window
    rows = [
        Row(f"night wall, last {w} of {args.nights}", median([c.wall for c in last]), "s",
            median([c.wall for c in first]), f"first {w}", "<= 1.2"),
        Row(f"night CPU, last {w} of {args.nights}", median([c.cpu for c in last]), "s",
            median([c.cpu for c in first]), f"first {w}", "<= 1.2"),
        Row(f"night peak RSS, last {w}", median([c.rss_mb for c in last]), "MB",
            median([c.rss_mb for c in first]), f"first {w}", ""),
    ]
    print()
    print(f"{args.contacts:,} contacts, {args.nights} nights from {args.start}, "
          f"{time.perf_counter() - started:.0f} s in all")
    print(table(rows))


if __name__ == "__main__":
    main()
