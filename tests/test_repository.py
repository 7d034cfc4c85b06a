"""The repository itself: the example folder works, docs cover every command, code is typed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from outreach.cli import main

REPO = Path(__file__).resolve().parent.parent


def copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "example"
    target.mkdir()
    for name in ("outreach.yaml", "contacts.yaml", "campaigns.yaml", "articles.yaml", "meetings.ics"):
        shutil.copy(REPO / name, target / name)
    shutil.copytree(REPO / "templates", target / "templates")
    return target


@pytest.mark.parametrize("date", ["2026-01-01", "2026-02-28", "2026-11-22", "2027-02-28", "2028-02-29"])
def test_the_example_passes_check(date: str) -> None:
    """The bundled example is valid on any date: every template renders for everyone it targets."""
    result = CliRunner().invoke(main, ["-C", str(REPO), "check", "--date", date])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")


def test_the_example_book_is_realistic() -> None:
    """At least 12 people, the stages, a year-less and a Feb 29 birthday, several countries, a
    do-not-contact, and every trigger kind."""
    from outreach.config import load_book

    book = load_book(REPO)
    assert len(book.contacts) >= 12
    assert {str(c.stage) for c in book.contacts} >= {"prospect", "customer", "former"}
    birthdays = [c.dates.birthday for c in book.contacts if c.dates.birthday]
    assert any(b.year is None for b in birthdays)
    assert any((b.month, b.day) == (2, 29) for b in birthdays)
    assert len({c.country for c in book.contacts}) >= 3
    assert any(c.preferences.do_not_contact for c in book.contacts)
    assert any(c.family.children for c in book.contacts)
    from outreach.model import TRIGGER_KINDS

    assert {c.trigger.kind for c in book.campaigns} == set(TRIGGER_KINDS)
    assert any(i.colleague for i in book.introductions)
    assert any(i.from_ for i in book.introductions)


@pytest.mark.parametrize("date", ["2026-03-03", "2026-07-19", "2026-11-22", "2027-05-30"])
def test_the_first_run_on_any_date_makes_drafts(tmp_path: Path, date: str) -> None:
    """A new user's first `run` on the example makes drafts whatever the date."""
    root = copy_example(tmp_path)
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", date])
    assert result.exit_code == 0, result.output
    assert list((root / "drafts").glob("*.eml"))


def test_the_do_not_contact_person_never_gets_a_draft() -> None:
    """Over a whole simulated year of the example, nobody marked do-not-contact is ever planned."""
    import datetime as dt

    from outreach import planner
    from outreach.config import load_book
    from outreach.model import History

    book = load_book(REPO)
    blocked = {c.id for c in book.contacts if c.preferences.do_not_contact}
    plans = planner.plan_days(book, History(), today=dt.date(2026, 1, 1), days=365)
    planned = {t.contact_id for p in plans for t in p.touches}
    assert blocked and not (blocked & planned)
    keys = [t.key for p in plans for t in p.touches]
    assert len(keys) == len(set(keys))


def test_every_command_is_documented() -> None:
    """Every command has help text and a row in the README."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, command in main.commands.items():
        assert command.help, name
        assert f"`outreach {name}" in readme, name


def test_cron_files_match_the_scaffold() -> None:
    """The repository's cron/ is what `outreach init` writes (one source of truth, checked)."""
    for path in sorted((REPO / "outreach" / "scaffold" / "cron").iterdir()):
        assert (REPO / "cron" / path.name).read_bytes() == path.read_bytes(), path.name


def test_the_cron_wrapper_is_quiet_on_success_and_keeps_the_exit_code(tmp_path: Path) -> None:
    """outreach-nightly prints nothing when all is well, logs the run, and passes exit codes on."""
    root = copy_example(tmp_path)
    shutil.copytree(REPO / "cron", root / "cron")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "OUTREACH_BIN": str(Path(sys.executable).parent / "outreach")}
    if not Path(env["OUTREACH_BIN"]).exists():
        pytest.skip("the outreach console script is not installed next to this Python")
    ok = subprocess.run([str(root / "cron" / "outreach-nightly"), str(root), "--date", "2026-11-22"],
                        capture_output=True, text=True, env=env, timeout=120)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    log = (root / "outreach.log").read_text()
    assert "outreach run in" in log and "drafted" in log
    (root / "contacts.yaml").write_text("contacts: [\n")
    bad = subprocess.run([str(root / "cron" / "outreach-nightly"), str(root)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[0].startswith("contacts.yaml:")
    assert bad.stderr.splitlines()[-1] == f"outreach-nightly: exit 2; the whole run is in {root}/outreach.log"


def test_the_cron_wrapper_passes_warnings_on_even_when_all_was_drafted(tmp_path: Path) -> None:
    """A warning (here: a calendar file that is gone; a note missed on nights without a run is
    one too) reaches cron's mail although the run exits 0."""
    root = copy_example(tmp_path)
    shutil.copytree(REPO / "cron", root / "cron")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "OUTREACH_BIN": str(Path(sys.executable).parent / "outreach")}
    if not Path(env["OUTREACH_BIN"]).exists():
        pytest.skip("the outreach console script is not installed next to this Python")
    (root / "meetings.ics").unlink()
    done = subprocess.run([str(root / "cron" / "outreach-nightly"), str(root), "--date", "2026-11-22"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "warning: meetings.ics: no such file; no meetings from it\n"


def test_ruff_is_clean() -> None:
    """ruff passes on the package and the tests."""
    pytest.importorskip("ruff")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "outreach", "tests"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_mypy_strict_is_clean() -> None:
    """mypy --strict passes on the package."""
    pytest.importorskip("mypy")
    result = subprocess.run([sys.executable, "-m", "mypy", "outreach"], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout
