#!/usr/bin/env python3
"""A big book: planning one night of 100,000 contacts against the floor of parsing its YAML.

    python bench/big_book.py [--contacts 100000] [--due 2000]
    python bench/big_book.py --contacts 20000     # a quick look

One generated book (bench/books.py), `--due` of them with a birthday tonight. Each step is a
child process, timed and measured on its own (wall time, peak RSS through wait4):

  * the floor: `yaml.load(contacts.yaml, Loader=yaml.CSafeLoader)` alone (PyYAML's C loader;
    the file read, nothing validated), median of --repeat;
  * load and validate the book (`outreach.config.load_book`), for where the time goes;
  * `outreach plan --date D`, the first run on these files;
  * the same again, files unchanged since the last run.

Goals: the first plan <= 4x the floor and <= 1 GB; the second <= 1x the floor.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import books
from measure import Child, Row, median, outreach_cmd, parser, run, table

FLOOR = """
import sys, time, yaml
t = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    data = yaml.load(f, Loader=yaml.CSafeLoader)
print(time.perf_counter() - t, len(data["contacts"]))
"""

LOAD = """
import sys, time
t = time.perf_counter()
from outreach.config import load_book
from pathlib import Path
book = load_book(Path(sys.argv[1]))
print(time.perf_counter() - t, len(book.contacts))
"""


def child_seconds(child: Child) -> tuple[float, int]:
    seconds, count = child.stdout.split()
    return float(seconds), int(count)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--contacts", type=int, default=100_000, help="people in the book (100000)")
    ap.add_argument("--due", type=int, default=2000, help="birthdays tonight (2000)")
    ap.add_argument("--repeat", type=int, default=3, help="floor measurements, median (3)")
    args = ap.parse_args()
    night = books.NIGHT
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as name:
        t = time.perf_counter()
        root = books.write_book(Path(name) / "book", args.contacts, night, due=args.due)
        size = (root / "contacts.yaml").stat().st_size / 1e6
        print(f"{args.contacts:,} contacts ({size:.1f} MB of YAML) written in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        floors = []
        for _ in range(args.repeat):
            seconds, count = child_seconds(run([sys.executable, "-c", FLOOR,
                                                str(root / "contacts.yaml")]))
            assert count == args.contacts
            floors.append(seconds)
        floor = median(floors)
        print(f"floor (CSafeLoader): {floor:.2f} s", flush=True)
        load = run([sys.executable, "-c", LOAD, str(root)])
        load_s, count = child_seconds(load)
        assert count == args.contacts
        print(f"load and validate: {load_s:.2f} s, {load.rss_mb:.0f} MB", flush=True)
        plan = [*outreach_cmd(), "-C", str(root), "plan", "--date", night.isoformat()]
        first = run(plan)
        print(f"plan, first run: {first.wall:.2f} s, {first.rss_mb:.0f} MB", flush=True)
        second = run(plan)
        print(f"plan, files unchanged: {second.wall:.2f} s, {second.rss_mb:.0f} MB", flush=True)
        if first.stdout != second.stdout:
            print("note: the two plans printed different text", flush=True)
    n = f"{args.contacts:,}"
    rows = [
        Row(f"load + validate, {n}", load_s, "s", floor, "C-loader floor", ""),
        Row(f"plan one night, {n}, first run", first.wall, "s", floor, "C-loader floor",
            "<= 4"),
        Row("  its peak RSS", first.rss_mb, "MB", None, "", "", "<= 1000"),
        Row(f"plan one night, {n}, files unchanged", second.wall, "s", floor, "C-loader floor",
            "<= 1"),
        Row("  its peak RSS", second.rss_mb, "MB", None, "", "", "<= 1000"),
    ]
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
