"""What the benchmarks share: run a command as a child and measure it, and print a results table.

A child's wall time, CPU time (user + sys) and peak RSS come from `os.wait4` on that child alone
(`/usr/bin/time -v` style), so each figure is the command's own, not the benchmark's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Child:
    """One finished child process."""

    wall: float  # seconds
    cpu: float  # user + sys, seconds
    rss_mb: float  # peak resident set size, MB
    code: int
    stdout: str
    stderr: str


def parser(doc: str) -> argparse.ArgumentParser:
    """A bench script's arguments, its docstring as the help: the first paragraph as the
    description, the rest after the options."""
    return argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter,
                                   epilog=doc.split("\n\n", 1)[1])


def outreach_cmd() -> list[str]:
    """The installed `outreach` next to this Python (a venv's bin), else `python -m outreach`."""
    exe = Path(sys.executable).with_name("outreach")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("outreach")
    return [found] if found else [sys.executable, "-m", "outreach"]


def run(args: Sequence[str], *, cwd: Path | None = None, check: bool = True,
        env: dict[str, str] | None = None) -> Child:
    """Run `args` to the end; stdout and stderr are captured into temporary files.

    The command is started by a small launcher process (this file run as a script), not by the
    benchmark itself: on Linux a child's peak RSS starts from its parent's (fork copies the
    high-water mark, and exec keeps it), so a benchmark that has just generated a big book would
    lend its own size to every command it measures. The launcher is a fresh, small Python; the
    command's figures are its own (as with `/usr/bin/time -v`), at least the launcher's ~10 MB."""
    import json
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".json") as res:
        launcher = [sys.executable, "-S", "-I", str(Path(__file__).resolve()), res.name, "--"]
        code = subprocess.call([*launcher, *args], cwd=cwd, stdout=out, stderr=err, env=env)
        if code != 0:
            err.seek(0)
            raise SystemExit(f"the launcher failed ({code}): {err.read().decode()[-2000:]}")
        figures = json.loads(Path(res.name).read_text() or "{}")
        out.seek(0)
        err.seek(0)
        child = Child(figures["wall"], figures["cpu"], figures["rss_kb"] / 1024, figures["code"],
                      out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))
    if check and child.code != 0:
        raise SystemExit(f"{' '.join(args)} exited {child.code}:\n{child.stderr[-2000:]}")
    return child


def _launch(result: str, args: list[str]) -> None:
    """The launcher: start `args`, wait for it with wait4, write its figures to `result`."""
    import json

    start = time.perf_counter()
    pid = os.posix_spawnp(args[0], args, dict(os.environ))
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    figures = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss,
               "code": os.waitstatus_to_exitcode(status)}
    Path(result).write_text(json.dumps(figures))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, its anchor, and the goal for figure / anchor."""

    work: str
    figure: float
    unit: str
    anchor: float | None
    anchor_label: str
    goal: str  # e.g. ">= 3" or "<= 1.2": about the ratio figure / anchor; "" for none
    absolute: str = ""  # e.g. "<= 300": about the figure itself (in its unit)

    @property
    def ratio(self) -> float | None:
        if self.anchor is None or self.anchor == 0:
            return None
        return self.figure / self.anchor

    def met(self) -> str:
        checks = []
        if self.goal and self.ratio is not None:
            checks.append(_holds(self.ratio, self.goal))
        if self.absolute:
            checks.append(_holds(self.figure, self.absolute))
        if not checks:
            return "-"
        return "met" if all(checks) else "not met"


def _holds(value: float, goal: str) -> bool:
    op, _, bound = goal.partition(" ")
    return value >= float(bound) if op == ">=" else value <= float(bound)


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def table(rows: Sequence[Row]) -> str:
    """The rows as a plain-text table: work, figure, anchor, ratio, goal, met / not met."""
    head = ("work", "figure", "anchor", "ratio", "goal", "met")
    lines = [head]
    for r in rows:
        anchor = "-" if r.anchor is None else f"{_num(r.anchor)} {r.unit} ({r.anchor_label})"
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        goals = [f"ratio {r.goal}" if r.goal else "",
                 f"{r.absolute} {r.unit}" if r.absolute else ""]
        lines.append((r.work, f"{_num(r.figure)} {r.unit}", anchor, ratio,
                      ", ".join(g for g in goals if g) or "-", r.met()))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
           for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


if __name__ == "__main__":
    _launch(sys.argv[1], sys.argv[3:])
