#!/usr/bin/env python3
"""Start-up: the CPU time of `outreach plan` on the bundled example against `outreach --help`.

    python bench/startup.py [--repeat 5]

`outreach init` writes the bundled example into a temporary folder; then `outreach --help` and
`outreach plan` in that folder run --repeat times each, alternately, each in its own process.
Prints the median CPU time (user + sys of the child, through wait4) and wall time of each and
the ratio. The goal: `plan` <= 0.5 s of CPU.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from measure import Child, Row, median, outreach_cmd, run, table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each, median (5)")
    args = ap.parse_args()
    cmd = outreach_cmd()
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as name:
        root = Path(name) / "example"
        run([*cmd, "init", str(root)])
        run([*cmd, "-C", str(root), "plan"])  # a warm-up: bytecode and file caches
        helps: list[Child] = []
        plans: list[Child] = []
        for _ in range(args.repeat):
            helps.append(run([*cmd, "--help"]))
            plans.append(run([*cmd, "-C", str(root), "plan"]))
    rows = [
        Row("`outreach plan`, bundled example, CPU", median([c.cpu for c in plans]), "s",
            median([c.cpu for c in helps]), "`outreach --help`", "", "<= 0.5"),
        Row("`outreach plan`, bundled example, wall", median([c.wall for c in plans]), "s",
            median([c.wall for c in helps]), "`outreach --help`", ""),
    ]
    print(f"median of {args.repeat}")
    print(table(rows))


if __name__ == "__main__":
    main()
