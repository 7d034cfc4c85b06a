#!/usr/bin/env python3
"""Gmail drafts per minute at 6,000 quota units a minute, against the ceiling of 600 a minute.

    python bench/gmail_rate.py [--drafts 1500] [--quota 6000]

Starts the Gmail API emulator of the test suite (tests/gmail_emulator.py, its public start/close)
with a quota of --quota units per user per sliding minute (a drafts.create costs 10 units, so the
ceiling is quota / 10 drafts a minute), writes a book of --drafts birthday notes due tonight whose
outreach.yaml points the gmail store at the emulator, and runs `outreach run --backend gmail` as
cron would, in its own process (the product's real back-off, nothing patched).

Gmail's quota is a sliding minute: a fresh mailbox takes a whole minute's worth at once, so a run
of at most one minute's worth never meets the ceiling. The paced rate is therefore the drafts
created in the last whole minutes of the run (from the last draft back, as many whole minutes as
the run lasted after its first draft) per minute: no 60 s can hold more than the ceiling, and a
store that keeps the quota busy without being refused reaches it. 1,500 drafts at 6,000 units is
about 2.5 minutes; --drafts 3000 gives a steadier figure. Also printed: the rate of the whole
run, the most drafts in any 60 s, and the 429s the emulator answered (its sent_429 counter).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

import books
from measure import REPO, Row, outreach_cmd, parser, run, table

sys.path.insert(0, str(REPO / "tests"))

from gmail_emulator import COMPOSE, GmailEmulator


def write_gmail_book(root: Path, n: int, gm: GmailEmulator, quota: int) -> Path:
    token = root.parent / "token.json"
    token.write_text(json.dumps({"refresh_token": "r-1", "client_id": "c", "client_secret": "s",
                                 "scopes": [COMPOSE]}), encoding="utf-8")
    os.chmod(token, 0o600)
    gmail = {"api_root": gm.root_url, "token_uri": gm.token_uri, "token_file": str(token),
             "quota_per_minute": quota}
    return books.write_book(root, n, books.NIGHT, due=n, only_birthday=True,
                            drafts={"backend": "gmail"}, gmail=gmail,
                            limits={"nightly_cap": max(n, 25), "cooldown_days": 0})


def max_in_a_minute(times: list[float]) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 60:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--drafts", type=int, default=1500, help="drafts due tonight (1500)")
    ap.add_argument("--quota", type=int, default=6000, help="units per user per minute (6000)")
    args = ap.parse_args()
    ceiling = args.quota / 10
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as name, \
            GmailEmulator(email="alex@rivera.example") as gm:
        gm.quota_per_minute = args.quota
        root = write_gmail_book(Path(name) / "book", args.drafts, gm, args.quota)
        started = dt.datetime.now(dt.UTC).timestamp()
        child = run([*outreach_cmd(), "-C", str(root), "run", "--backend", "gmail",
                     "--date", books.NIGHT.isoformat()], check=False)
        ended = dt.datetime.now(dt.UTC).timestamp()
        drafts = gm.drafts
        creates = sum(1 for r in gm.request_log if r["api"] == "drafts.create")
        injected_429 = sum(1 for _, kind in gm.faults_injected if kind == "429")
        units = gm.units_used
        refused = gm.sent_429  # every 429 the emulator answered (each batch part counts)
    times = sorted(int(d["message"]["internalDate"]) / 1000 for d in drafts.values())
    made = len(times)
    print(f"{made:,} of {args.drafts:,} drafts in {child.wall:.1f} s (exit {child.code}); "
          f"{creates:,} drafts.create requests, {units:,} units charged")
    if child.code != 0:
        print(child.stderr[-1500:])
    if not times:
        raise SystemExit("no draft was created")
    whole = made / max(ended - started, 1e-9) * 60
    minutes = int((times[-1] - times[0]) // 60)
    rows = [Row("drafts/min, the whole run (start-up included)", whole, "/min", ceiling,
                "ceiling", "")]
    if minutes >= 1:
        tail = [t for t in times if t > times[-1] - 60 * minutes]
        rows.append(Row(f"drafts/min, the last {minutes} whole minute(s) ({len(tail):,} drafts)",
                        len(tail) / minutes, "/min", ceiling, "ceiling", ">= 0.95"))
    else:
        print("the run took less than a minute from the first draft to the last: run with more "
              "--drafts to measure the paced rate")
    rows += [
        Row("most drafts in any 60 s", max_in_a_minute(times), "", ceiling, "ceiling", "<= 1"),
        Row("429s answered (the emulator's sent_429)", refused, "", None, "", "", "<= 0"),
    ]
    if injected_429:
        print(f"note: {injected_429} injected 429s in the emulator's fault log")
    print(table(rows))


if __name__ == "__main__":
    main()
