#!/usr/bin/env python3
"""outreach against mailmerge 2.3 on the same rows, in one run: drafts per second and peak memory.

    pip install -e '.[bench]'          # mailmerge==2.3.0, once
    python bench/vs_mailmerge.py [--run-contacts 1000] [--dry-run-contacts 10000] [--repeat 1]

One generated book (bench/books.py) where everyone has a birthday tonight, and the same people as
mailmerge's CSV; the same Markdown birthday note for both. Every command runs as a child process,
timed and measured on its own (wall time, peak RSS through wait4):

  * `outreach run` on a fresh folder of --run-contacts (end to end: load, plan, render, MIME, write
    the .eml files, the ledger, the calendar feed);
  * `outreach run --dry-run` on --dry-run-contacts;
  * `mailmerge --dry-run --no-limit --output-format raw` on each of those CSVs (it renders the
    Markdown to HTML, builds each MIME message and prints it; nothing is sent).

Prints each rate, the ratio to mailmerge's on the same rows, peak RSS of each, and the goals
(run >= 3x mailmerge, dry-run >= 5x, peak RSS of `run` <= 300 MB). With --repeat N the commands
alternate and the medians are shown. The issue's memory row is a `run` of 10,000:
`--run-contacts 10000`. Installs nothing: without mailmerge it says how to get it and stops.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import books
from measure import Child, Row, median, outreach_cmd, parser, run, table

NIGHT = books.NIGHT

MAILMERGE_CONF = """[smtp_server]
host = localhost
port = 25
security = PLAIN
username = nobody
ratelimit = 0
"""


def mailmerge_cmd() -> list[str] | None:
    exe = Path(sys.executable).with_name("mailmerge")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("mailmerge")
    return [found] if found else None


def mailmerge_version(cmd: list[str]) -> str:
    return run([*cmd, "--version"], check=False).stdout.strip()


def prepare(tmp: Path, n: int, tag: str) -> tuple[Path, Path]:
    """A book of `n` people all due tonight, and mailmerge's folder with the same rows."""
    root = books.write_book(tmp / f"book-{tag}", n, NIGHT, due=n, only_birthday=True,
                            limits={"nightly_cap": 100_000, "cooldown_days": 0})
    mm = tmp / f"mailmerge-{tag}"
    mm.mkdir()
    (mm / "mailmerge_template.txt").write_text(books.MAILMERGE_TEMPLATE, encoding="utf-8")
    (mm / "mailmerge_server.conf").write_text(MAILMERGE_CONF, encoding="utf-8")
    books.write_csv(mm / "mailmerge_database.csv", books.people(n, NIGHT, due=n))
    return root, mm


def run_mailmerge(cmd: list[str], folder: Path, n: int) -> Child:
    child = run([*cmd, "--dry-run", "--no-limit", "--output-format", "raw",
                 "--template", "mailmerge_template.txt", "--database", "mailmerge_database.csv",
                 "--config", "mailmerge_server.conf"], cwd=folder)
    sent = child.stdout.count(" sent\n")
    if sent != n:
        raise SystemExit(f"mailmerge made {sent} messages, expected {n}")
    return child


def run_outreach(root: Path, n: int, dry_run: bool, fresh: Path | None) -> Child:
    """One `outreach run`; a real run gets a fresh copy of the book (nothing drafted yet).

    Each round's copy is a new folder, and the copies are removed at the end, not between
    rounds: on ext4 (as on this VM) files made just after many files were deleted nearby cost
    the kernel a scan of the recently deleted inodes, so removing the last round's 1,000 drafts
    just before this round would time the kernel's bookkeeping, not the run.

    A run that reports problems (exit 1) still counts; the problems are shown, as they mean
    some of the `n` notes were not made."""
    folder = root
    if fresh is not None:
        shutil.copytree(root, fresh)
        folder = fresh
    args = [*outreach_cmd(), "-C", str(folder), "run", "--date", NIGHT.isoformat()]
    child = run([*args, "--dry-run"] if dry_run else args, check=False)
    if child.code not in (0, 1):
        raise SystemExit(f"{' '.join(args)} exited {child.code}:\n{child.stderr[-2000:]}")
    problems = [line for line in child.stderr.splitlines() if line.strip()]
    if problems:
        print(f"\n  warning: {' '.join(args[-4:])}{' --dry-run' if dry_run else ''} exited "
              f"{child.code} with {len(problems)} problem lines, e.g. {problems[0][:300]}",
              flush=True)
    if not dry_run:
        made = len(list((folder / "drafts").rglob("*.eml")))
        if made != n:
            print(f"  warning: outreach run made {made} drafts, expected {n}", flush=True)
    return child


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--run-contacts", type=int, default=1000, help="people for `run` (1000)")
    ap.add_argument("--dry-run-contacts", type=int, default=10000,
                    help="people for `run --dry-run` (10000)")
    ap.add_argument("--repeat", type=int, default=1, help="alternate each command N times (1)")
    args = ap.parse_args()
    mm_cmd = mailmerge_cmd()
    if mm_cmd is None:
        raise SystemExit("mailmerge is not installed: pip install 'mailmerge==2.3.0' "
                         "(or pip install -e '.[bench]'), then run this again")
    n_run, n_dry = args.run_contacts, args.dry_run_contacts
    print(f"{mailmerge_version(mm_cmd)}; outreach: {' '.join(outreach_cmd())}; "
          f"run {n_run:,}, dry-run {n_dry:,}, repeat {args.repeat}", flush=True)
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as name:
        tmp = Path(name)
        book_run, mm_run = prepare(tmp, n_run, "run")
        book_dry, mm_dry = prepare(tmp, n_dry, "dry")
        results: dict[str, list[Child]] = {k: [] for k in ("run", "mm-run", "dry", "mm-dry")}
        for i in range(args.repeat):
            print(f"round {i + 1}: ", end="", flush=True)
            results["mm-run"].append(run_mailmerge(mm_cmd, mm_run, n_run))
            print(f"mailmerge {n_run:,} ", end="", flush=True)
            results["run"].append(run_outreach(book_run, n_run, False, tmp / f"fresh-{i}"))
            print(f"run {n_run:,} ", end="", flush=True)
            results["mm-dry"].append(run_mailmerge(mm_cmd, mm_dry, n_dry))
            print(f"mailmerge {n_dry:,} ", end="", flush=True)
            results["dry"].append(run_outreach(book_dry, n_dry, True, None))
            print(f"dry-run {n_dry:,}", flush=True)

    def rate(key: str, n: int) -> float:
        return n / median([c.wall for c in results[key]])

    def rss(key: str) -> float:
        return median([c.rss_mb for c in results[key]])

    rows = [
        Row(f"run, {n_run:,} all due", rate("run", n_run), "drafts/s", rate("mm-run", n_run),
            "mailmerge --dry-run", ">= 3"),
        Row(f"run --dry-run, {n_dry:,}", rate("dry", n_dry), "drafts/s", rate("mm-dry", n_dry),
            "mailmerge --dry-run", ">= 5"),
        Row(f"peak RSS, run of {n_run:,}", rss("run"), "MB", rss("mm-run"), "mailmerge", "",
            "<= 300"),
        Row(f"peak RSS, run --dry-run of {n_dry:,}", rss("dry"), "MB", rss("mm-dry"),
            "mailmerge", ""),
    ]
    print()
    print(table(rows))
    walls = {k: ", ".join(f"{c.wall:.1f}" for c in v) for k, v in results.items()}
    print(f"\nwall seconds: {walls}")


if __name__ == "__main__":
    main()
