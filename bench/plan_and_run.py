#!/usr/bin/env python3
"""Benchmark: load + plan + run for a large generated book.

    python bench/plan_and_run.py [--contacts 5000] [--days 30]

Prints the median of a few repetitions for: loading and validating the book, planning one night,
planning N nights, and one `run` (render + write + record) per draft; plus peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import campaign_data, contact_data, write_folder  # noqa: E402

from outreach import commands, planner  # noqa: E402
from outreach.config import load_book  # noqa: E402
from outreach.model import History  # noqa: E402


def make_book(root: Path, n: int) -> Path:
    rng = random.Random(7)
    contacts = []
    for i in range(n):
        m, d = rng.randint(1, 12), rng.randint(1, 28)
        contacts.append(contact_data(
            f"p{i:05d}-doe",
            dates={"birthday": f"--{m:02d}-{d:02d}"},
            tags=[rng.choice(["client", "prospect", "golf"])],
            start_date=f"{rng.randint(2000, 2025)}-{m:02d}-{d:02d}",
            family={"children": [{"name": "Sam", "birthday": f"2015-{m:02d}-{d:02d}"}]} if i % 3 == 0 else {},
        ))
    campaigns = [
        campaign_data("birthday", priority=90, cooldown_days=0),
        campaign_data("kids", {"kind": "date", "field": "children.birthday", "days_before": 7}, priority=80),
        campaign_data("work", {"kind": "date", "field": "work_anniversary"}, priority=70),
        campaign_data("thanks", {"kind": "holiday", "name": "Thanksgiving Day", "days_before": 14}, priority=60),
        campaign_data("quarterly", {"kind": "schedule", "months": [1, 4, 7, 10], "day": 5},
                      business_days="next", priority=40),
        campaign_data("kit", {"kind": "interval", "days": 45}, priority=10),
    ]
    return write_folder(root, contacts, campaigns, limits={"nightly_cap": 100000})


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=5000)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    today = dt.date(2026, 11, 1)
    with tempfile.TemporaryDirectory() as tmp:
        root = make_book(Path(tmp) / "book", args.contacts)
        load_s = timed(lambda: load_book(root))
        book = load_book(root)
        plan_s = timed(lambda: planner.plan(book, History(), today=today))
        days_s = timed(lambda: planner.plan_days(book, History(), today=today, days=args.days), 1)
        t = time.perf_counter()
        report = commands.run(root, today=today)
        run_s = time.perf_counter() - t
        made = len(report.made)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"contacts:            {args.contacts}")
    print(f"load + validate:     {load_s * 1000:8.1f} ms (median of 3)")
    print(f"plan one night:      {plan_s * 1000:8.1f} ms (median of 3)")
    print(f"plan {args.days:3d} nights:     {days_s * 1000:8.1f} ms")
    print(f"run (first night):   {run_s * 1000:8.1f} ms for {made} drafts "
          f"({run_s / max(made, 1) * 1000:.2f} ms per draft, load and plan included)")
    print(f"peak memory:         {peak_mb:8.1f} MB")


if __name__ == "__main__":
    main()
