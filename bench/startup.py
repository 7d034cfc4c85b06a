#!/usr/bin/env python3
"""Start-up: the CPU time of `outreach plan` on the bundled example against `outreach --help`.

    python bench/startup.py [--repeat 5]

`outreach init` writes the bundled example into a temporary folder; then `outreach --help` and
`outreach plan` in that folder run --repeat times each, alternately, each in its own process.
Prints the median CPU time (user + sys of the child, through wait4) and wall time of each and
the ratio. The goal: `plan` <= 0.5 s of CPU.

When PYTHONDONTWRITEBYTECODE is set (some containers and CI images set it), Python compiles every
module of outreach from its source on every run, and the warm-up caches no bytecode: about 0.1 s
of each figure. Then a second pair of rows measures the same with bytecode cached, as an
installation has it (written to a temporary PYTHONPYCACHEPREFIX by a warm-up run, the source tree
left alone).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from measure import Child, Row, median, outreach_cmd, parser, run, table


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--repeat", type=int, default=5, help="runs of each, median (5)")
    args = ap.parse_args()
    cmd = outreach_cmd()
    no_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as name:
        root = Path(name) / "example"
        run([*cmd, "init", str(root)])
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = str(Path(name) / "pycache")
        envs: dict[str, dict[str, str] | None] = {"": None}
        if no_bytecode:
            envs[", bytecode cached"] = cached
        helps: dict[str, list[Child]] = {how: [] for how in envs}
        plans: dict[str, list[Child]] = {how: [] for how in envs}
        for env in envs.values():
            run([*cmd, "-C", str(root), "plan"], env=env)  # a warm-up: bytecode and file caches
            run([*cmd, "--help"], env=env)
        for _ in range(args.repeat):
            for how, env in envs.items():
                helps[how].append(run([*cmd, "--help"], env=env))
                plans[how].append(run([*cmd, "-C", str(root), "plan"], env=env))
    rows = []
    for how in envs:
        goal = "<= 0.5" if not how else ""
        rows += [
            Row(f"`outreach plan`, bundled example, CPU{how}", median([c.cpu for c in plans[how]]),
                "s", median([c.cpu for c in helps[how]]), "`outreach --help`", "", goal),
            Row(f"`outreach plan`, bundled example, wall{how}",
                median([c.wall for c in plans[how]]), "s", median([c.wall for c in helps[how]]),
                "`outreach --help`", ""),
        ]
    print(f"median of {args.repeat}"
          + ("; PYTHONDONTWRITEBYTECODE is set: the first rows compile outreach's sources on "
             "every run" if no_bytecode else ""))
    print(table(rows))


if __name__ == "__main__":
    main()
