"""Steady mornings from the command line: `plan --days N` ends with the mornings ahead and says
what was spread; nightly runs keep to it, record who arrived when, and a second run of a night
makes nothing more; the same nights come out the same in any process."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml
from factories import campaign_data, contact_data, write_folder
from test_run import cli

D = dt.date.fromisoformat
KIT = campaign_data("keep-in-touch", {"kind": "interval", "days": 30}, priority=10)


def folder(root: Path, n: int, **settings: object) -> Path:
    people = [contact_data(f"p{i:03d}") for i in range(n)]
    return write_folder(root, people, [KIT], **settings)


def drafts_on(root: Path) -> int:
    return sum(1 for _ in (root / "drafts").rglob("*.eml"))


def test_plan_days_ends_with_the_mornings_ahead(tmp_path: Path) -> None:
    """`plan --days 6` on a new book of 60 people (keep-in-touch every 30 days, target 5):
    each night says how many notes moved and why, and the output ends with a line a night
    (its drafts and a bar, the target marked) and the busiest against the median."""
    root = folder(tmp_path / "book", 60, limits={"morning_target": 5})
    code, out, _ = cli(root, "plan", "--date", "2026-12-01", "--days", "6")
    assert code == 0
    lines = out.splitlines()
    assert ("  spread: 58 of 60 due keep-in-touch notes moved to the coming nights (a morning "
            "target of 5; people new to the book start over the 30-day interval, 2 a night)"
            ) in lines
    end = lines.index("Mornings ahead (drafts a night, a morning target of 5)")
    assert lines[end + 1:] == [
        *(f"  {D('2026-12-01') + dt.timedelta(days=n):%a %d %b}    2  ██   |" for n in range(7)),
        "  busiest 2, median 2 (1.0 x)",
    ]


def test_a_night_within_the_target_shows_no_spread(tmp_path: Path) -> None:
    """Ten people: every keep-in-touch is made on the first night, and plan has no spread
    line; the mornings chart is still there."""
    root = folder(tmp_path / "book", 10)
    code, out, _ = cli(root, "plan", "--date", "2026-12-01", "--days", "3")
    assert code == 0 and "spread:" not in out
    assert "Mornings ahead (drafts a night)" in out
    assert f"  {D('2026-12-01'):%a %d %b}   10  {'█' * 10}" in out


def test_nightly_runs_keep_to_the_plan_and_a_second_run_makes_nothing(tmp_path: Path) -> None:
    """`run` night after night makes what `plan --days` said (2 a night), records each
    person's arrival, and running a night again makes nothing more (`-v` says what waits, as
    the first run of that night said it)."""
    root = folder(tmp_path / "book", 60, limits={"morning_target": 5})
    _, out, _ = cli(root, "plan", "--date", "2026-12-01", "--days", "4", "--json")
    planned = sorted(item["key"] for item in json.loads(out))
    for n in range(5):
        day = (D("2026-12-01") + dt.timedelta(days=n)).isoformat()
        assert cli(root, "run", "--date", day)[0] == 0
        assert drafts_on(root) == 2 * (n + 1)
    code, out, _ = cli(root, "run", "--date", "2026-12-05", "--verbose")
    assert code == 0 and drafts_on(root) == 10
    assert "0 drafted" in out and "spread: 50 of 52 due keep-in-touch notes moved" in out
    db = sqlite3.connect(root / ".outreach" / "state.db")
    made = sorted(k for (k,) in db.execute("SELECT key FROM touches WHERE status = 'drafted'"))
    arrived = set(db.execute("SELECT night FROM arrivals"))
    people = db.execute("SELECT COUNT(*) FROM arrivals").fetchone()[0]
    db.close()
    assert made == planned
    assert arrived == {("2026-12-01",)} and people == 60


def test_an_import_between_nights_ramps_up_from_its_night(tmp_path: Path) -> None:
    """Three nights with 40 people, then 120 more in contacts.yaml: the next night makes at
    most four of the newcomers' keep-in-touch notes (120 over 30 days)."""
    root = folder(tmp_path / "book", 40)
    for n in range(3):
        assert cli(root, "run", "--date", f"2026-12-0{n + 1}")[0] == 0
    data = yaml.safe_load((root / "contacts.yaml").read_text())
    data["contacts"] += [contact_data(f"n{i:03d}") for i in range(120)]
    (root / "contacts.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    before = {p.name for p in (root / "drafts").rglob("*.eml")}
    assert cli(root, "run", "--date", "2026-12-04")[0] == 0
    new = [p for p in (root / "drafts").rglob("*.eml") if p.name not in before]
    newcomers = [p for p in new if "n0" in p.read_text(encoding="utf-8", errors="replace")]
    assert 1 <= len(newcomers) <= 4


def test_the_same_nights_in_any_process(tmp_path: Path) -> None:
    """The spread of a 300-person book's next 20 nights is the same whatever the process's
    hash seed (the same book and history give the same nights on every machine)."""
    people = [contact_data(f"p{i:03d}", last_contacted=(D("2026-11-30") - dt.timedelta(
        days=i % 90)).isoformat(), dates={"birthday": f"1980-12-{i % 28 + 1:02d}"})
        for i in range(300)]
    camps = [KIT, campaign_data("birthday", priority=90, cooldown_days=0)]
    root = write_folder(tmp_path / "book", people, camps)
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-m", "outreach", "-C", str(root), "plan", "--date", "2026-12-01",
             "--days", "20", "--json"], capture_output=True, env=env, check=True)
        outs.append(done.stdout)
    assert outs[0] == outs[1]
    assert len(json.loads(outs[0])) > 21 * 5


def test_a_morning_target_of_zero_is_one_line_with_the_fix(tmp_path: Path) -> None:
    """limits.morning_target must be a positive number: `check` says where, and what."""
    root = folder(tmp_path / "book", 3, limits={"morning_target": 0})
    code, out, err = cli(root, "check")
    assert code == 2
    text = out + err
    assert "outreach.yaml:" in text and "morning_target" in text
