#!/usr/bin/env python3
"""Benchmark: load + plan + run for a large generated book, in one process.

    python bench/plan_and_run.py [--contacts 5000] [--days 30]

The book is bench/books.py's. Prints the median of a few repetitions for: loading and validating
the book, planning one night, planning N nights, and one `run` (render + write + record) per
draft; plus peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import tempfile
import time
from pathlib import Path

import books

from outreach import commands, planner
from outreach.config import load_book
from outreach.model import History


def make_book(root: Path, n: int) -> Path:
    """The shared generated book (bench/books.py), a tenth due on their birthday, no nightly cap."""
    return books.write_book(root, n, dt.date(2026, 11, 1), due=n // 10,
                            limits={"nightly_cap": 100000})


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
        commands.run(root, today=today)
        run_s = time.perf_counter() - t
        made = sum(1 for _ in (root / "drafts").rglob("*.eml"))
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
