"""End to end: `outreach run` on a folder, exactly once, crashes, concurrent runs, the CLI."""

from __future__ import annotations

import email
import email.policy
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import campaign_data, contact_data, write_folder

from outreach.cli import main
from outreach.ledger import RunLock

DATE = "2026-11-22"


def cli(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def subprocess_run(
    root: Path,
    *args: str,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "outreach", "-C", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


def message_ids(root: Path) -> list[str]:
    out = []
    for path in sorted((root / "drafts").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        out.append(str(msg["Message-ID"]))
    return out


def small_folder(tmp_path: Path, n: int = 3) -> Path:
    """n contacts, each with a birthday on DATE; one birthday campaign."""
    contacts = [contact_data(f"p{i:03d}-doe", dates={"birthday": "--11-22"}) for i in range(n)]
    return write_folder(tmp_path / "book", contacts, [campaign_data()])


def test_run_makes_one_eml_per_due_touch(tmp_path: Path) -> None:
    """Each due touch becomes one RFC 5322 .eml file in drafts/, openable as a draft."""
    root = small_folder(tmp_path)
    code, out, err = cli(root, "run", "--date", DATE, "--verbose")
    assert (code, err) == (0, "")
    files = sorted(p.name for p in (root / "drafts").glob("*.eml"))
    assert files == [f"birthday--p00{i}-doe--2026.eml" for i in range(3)]
    msg = email.message_from_bytes(
        (root / "drafts" / files[0]).read_bytes(), policy=email.policy.default
    )
    assert msg["To"] == "P000 Doe <p000-doe@acme.example>"
    assert msg["X-Unsent"] == "1"
    assert "drafted birthday/p000-doe/2026 -> p000-doe@acme.example: A note for P000" in out
    assert "    why: birthday on Sun 22 Nov" in out
    assert out.splitlines()[-1] == f"3 drafted, 0 failed (in {root / 'drafts'})"


def test_run_is_quiet_when_all_is_well(tmp_path: Path) -> None:
    """Under cron (no terminal, no --verbose) a good run prints nothing at all."""
    code, out, err = cli(small_folder(tmp_path), "run", "--date", DATE)
    assert (code, out, err) == (0, "", "")


def test_a_second_run_on_the_same_date_makes_nothing_new(tmp_path: Path) -> None:
    """Re-running the same night is harmless: same files, same bytes, nothing added."""
    root = small_folder(tmp_path)
    cli(root, "run", "--date", DATE)
    before = {p.name: p.read_bytes() for p in (root / "drafts").iterdir()}
    code, out, _ = cli(root, "run", "--date", DATE, "-v")
    assert code == 0
    assert out.splitlines()[-1].startswith("0 drafted, 0 failed")
    assert {p.name: p.read_bytes() for p in (root / "drafts").iterdir()} == before


def test_a_deleted_draft_is_never_recreated(tmp_path: Path) -> None:
    """The user deleting a draft is a decision: later runs respect it."""
    root = small_folder(tmp_path)
    cli(root, "run", "--date", DATE)
    victim = root / "drafts" / "birthday--p001-doe--2026.eml"
    victim.unlink()
    cli(root, "run", "--date", DATE)
    assert not victim.exists()
    assert len(list((root / "drafts").glob("*.eml"))) == 2


def test_dry_run_writes_nothing_anywhere(tmp_path: Path) -> None:
    """--dry-run renders and reports, but creates no draft, no ledger, no folder."""
    root = small_folder(tmp_path)
    code, out, _ = cli(root, "run", "--date", DATE, "--dry-run")
    assert code == 0
    assert "would draft birthday/p000-doe/2026" in out
    assert out.splitlines()[-1] == "3 would be drafted, 0 failed (nothing written)"
    assert not (root / "drafts").exists()
    assert not (root / ".outreach").exists()


def test_limit_makes_at_most_n(tmp_path: Path) -> None:
    """--limit N makes the N most important drafts; the rest come on the next run."""
    root = small_folder(tmp_path)
    code, out, _ = cli(root, "run", "--date", DATE, "--limit", "2", "-v")
    assert code == 0
    assert out.splitlines()[-1].startswith("2 drafted, 0 failed, 1 left for --limit")
    cli(root, "run", "--date", DATE)
    assert len(message_ids(root)) == 3


def test_one_broken_contact_fails_only_its_touch(tmp_path: Path) -> None:
    """A template that cannot render for one contact fails that touch, with file, line, contact and
    fix; the others are drafted, the exit code is 1, and the next run retries it."""
    contacts = [
        contact_data(
            "ann-doe", name={"first": "Ann", "nickname": "Annie"}, dates={"birthday": "--11-22"}
        ),
        contact_data("bob-doe", dates={"birthday": "--11-22"}),
    ]
    note = "---\nsubject: Hi\n---\nHi {{ contact.nickname }},\n"
    root = write_folder(tmp_path / "book", contacts, [campaign_data()], {"note.md": note})
    code, out, err = cli(root, "run", "--date", DATE)
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "templates/note.md:4: birthday/bob-doe/2026: a value in {{ }} is None (missing) for this contact "
        "(contact bob-doe at contacts.yaml:12); give an explicit fallback, e.g. "
        "{{ contact.nickname or contact.first }} or {{ value | fallback('friend') }}",
        "outreach: 1 of 2 touches failed; fix the lines above, the next run retries them",
    ]
    assert [p.name for p in (root / "drafts").glob("*.eml")] == ["birthday--ann-doe--2026.eml"]
    (root / "templates" / "note.md").write_text(
        note.replace("contact.nickname", "contact.nickname or contact.first")
    )
    code, _, _ = cli(root, "run", "--date", DATE)
    assert code == 0
    assert len(message_ids(root)) == 2


@pytest.mark.slow
def test_runs_killed_at_random_moments_never_duplicate(tmp_path: Path) -> None:
    """Five runs killed with SIGKILL at random moments, then a normal run: every touch exactly once."""
    contacts = [contact_data(f"p{i:03d}-doe", dates={"birthday": "--11-22"}) for i in range(60)]
    root = write_folder(tmp_path / "book", contacts, [campaign_data()], limits={"nightly_cap": 100})
    rng = random.Random(20261122)
    for _ in range(5):
        proc = subprocess_run(root, "run", "--date", DATE)
        time.sleep(rng.uniform(0.3, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    code, _, err = cli(root, "run", "--date", DATE)
    assert (code, err) == (0, "")
    ids = message_ids(root)
    assert len(ids) == len(set(ids)) == 60
    assert not list((root / "drafts").glob(".tmp-*"))


def test_a_second_run_while_one_holds_the_lock_drafts_nothing(tmp_path: Path) -> None:
    """While a run holds the lock, another exits 4 with one clear line and drafts nothing."""
    root = small_folder(tmp_path)
    with RunLock(root / ".outreach" / "run.lock"):
        proc = subprocess_run(root, "run", "--date", DATE)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 4
    assert out == b""
    assert err.decode() == (
        f"another outreach run is in progress (pid {os.getpid()}); nothing was "
        "drafted; wait for it to finish; cron will try again tomorrow\n"
    )
    assert not (root / "drafts").exists()


def test_two_runs_started_together_make_each_draft_once(tmp_path: Path) -> None:
    """Two runs started at the same moment: one drafts, the other waits its turn or stops; never twice."""
    contacts = [contact_data(f"p{i:03d}-doe", dates={"birthday": "--11-22"}) for i in range(30)]
    root = write_folder(tmp_path / "book", contacts, [campaign_data()])
    procs = [subprocess_run(root, "run", "--date", DATE) for _ in range(2)]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes in ([0, 0], [0, 4])
    ids = message_ids(root)
    assert len(ids) == len(set(ids)) == 30


def test_plan_json_lists_due_touches_with_the_documented_fields(tmp_path: Path) -> None:
    """plan --json prints an array; each item has key, contact, campaign, due, template, to, subject."""
    root = small_folder(tmp_path, 1)
    code, out, _ = cli(root, "plan", "--date", DATE, "--json")
    assert code == 0
    items = json.loads(out)
    assert items == [
        {
            "key": "birthday/p000-doe/2026",
            "contact": "p000-doe",
            "campaign": "birthday",
            "date": DATE,
            "due": DATE,
            "last_day": DATE,
            "late_days": 0,
            "occasion": {"kind": "date", "date": DATE, "label": "birthday"},
            "priority": 50,
            "reason": "birthday on Sun 22 Nov",
            "template": "note.md",
            "to": "p000-doe@acme.example",
            "subject": "A note for P000",
            "error": None,
            "last_touch": None,
        }
    ]
    assert not (root / ".outreach").exists()  # plan has no side effects


def test_plan_json_has_no_last_day_for_a_keep_in_touch(tmp_path: Path) -> None:
    """A keep-in-touch never expires: its last_day is null, not a date years away."""
    root = write_folder(tmp_path / "book", [contact_data("ann-doe")],
                        [campaign_data("kit", {"kind": "interval", "days": 45})])
    code, out, _ = cli(root, "plan", "--date", DATE, "--json")
    assert code == 0
    (item,) = json.loads(out)
    assert (item["key"], item["due"], item["last_day"]) == ("kit/ann-doe/2026-11-22", DATE, None)


def test_plan_and_preview_show_a_sequence_step_as_the_run_drafts_it(tmp_path: Path) -> None:
    """A later note goes into the first note's conversation under its subject: plan (also
    --days, before the first note exists), preview and run --dry-run show that subject and
    preview the threading headers, as the run makes it."""
    first = "---\nsubject: First note, {{ contact.first }}\n---\nHi {{ contact.first }},\n"
    second = "---\nsubject: A different subject\n---\nHi again {{ contact.first }},\n"
    camp = campaign_data("news", {"kind": "schedule", "months": [3], "day": 1}, template="first.md",
                         steps=[{"template": "second.md", "after": 7}])
    root = write_folder(tmp_path / "book", [contact_data("ann-doe")], [camp],
                        {"first.md": first, "second.md": second})
    code, out, _ = cli(root, "plan", "--date", "2027-03-01", "--days", "7", "--json")
    assert code == 0
    assert [(i["key"], i["subject"]) for i in json.loads(out)] == [
        ("news/ann-doe/2027-03-01", "First note, Ann"),
        ("news/ann-doe/2027-03-01/step-2", "First note, Ann")]
    assert cli(root, "run", "--date", "2027-03-01")[0] == 0
    code, out, _ = cli(root, "plan", "--date", "2027-03-08")
    assert "      subject: First note, Ann" in out.splitlines()
    code, out, _ = cli(root, "preview", "--all", "--date", "2027-03-08")
    assert "Subject: First note, Ann" in out.splitlines()
    assert any(line.startswith("In-Reply-To: <") for line in out.splitlines())
    code, out, _ = cli(root, "run", "--date", "2027-03-08", "--dry-run")
    assert "would draft news/ann-doe/2027-03-01/step-2 -> ann-doe@acme.example: First note, Ann" in out


def test_plan_shows_why_and_what_waits(tmp_path: Path) -> None:
    """The text plan says why each touch is due and why others wait."""
    contacts = [contact_data("ann-doe", dates={"birthday": "--11-22"})]
    campaigns = [
        campaign_data(),
        campaign_data("kit", {"kind": "interval", "days": 45}, priority=10),
    ]
    root = write_folder(tmp_path / "book", contacts, campaigns)
    code, out, _ = cli(root, "plan", "--date", DATE)
    assert code == 0
    assert out.splitlines() == [
        "Sun 22 Nov 2026",
        "  birthday/ann-doe/2026  ->  ann-doe@acme.example",
        "      why: birthday on Sun 22 Nov",
        "      subject: A note for Ann",
        "  waits: kit/ann-doe/2026-11-22 (another touch for this contact today)",
    ]


def test_plan_after_a_run_shows_the_next_touch(tmp_path: Path) -> None:
    """After the birthday is drafted, planning the next day shows the deferred keep-in-touch."""
    contacts = [contact_data("ann-doe", dates={"birthday": "--11-22"})]
    campaigns = [
        campaign_data(),
        campaign_data("kit", {"kind": "interval", "days": 45}, priority=10, cooldown_days=0),
    ]
    root = write_folder(tmp_path / "book", contacts, campaigns)
    cli(root, "run", "--date", DATE)
    _, out, _ = cli(root, "plan", "--date", "2026-11-23", "--json")
    assert [
        i["key"] for i in json.loads(out)
    ] == []  # the birthday counts as a touch: 45 days from now
    _, out, _ = cli(root, "plan", "--date", "2027-01-06", "--json")
    assert [i["key"] for i in json.loads(out)] == ["kit/ann-doe/2027-01-06"]


def test_preview_shows_one_draft(tmp_path: Path) -> None:
    """preview KEY prints the headers and the text of that draft without storing anything."""
    root = small_folder(tmp_path, 1)
    code, out, _ = cli(root, "preview", "birthday/p000-doe/2026", "--date", DATE)
    assert code == 0
    assert "To: P000 Doe <p000-doe@acme.example>" in out
    assert "Subject: A note for P000" in out
    assert "Hi P000," in out
    assert not (root / "drafts").exists()
    code, _, err = cli(root, "preview", "birthday/nobody/2026", "--date", DATE)
    assert code == 2
    assert "no touch 'birthday/nobody/2026'" in err


def test_init_scaffolds_a_folder_that_passes_check(tmp_path: Path) -> None:
    """`outreach init DIR` writes a working folder; a second init refuses to overwrite."""
    target = tmp_path / "mine"
    code, out, _ = cli(tmp_path, "init", str(target))
    assert code == 0, out
    for name in (
        "outreach.yaml",
        "contacts.yaml",
        "campaigns.yaml",
        "templates",
        "cron/outreach-nightly",
    ):
        assert (target / name).exists(), name
    assert os.access(target / "cron" / "outreach-nightly", os.X_OK)
    assert cli(target, "check")[0] == 0
    before = (target / "contacts.yaml").read_bytes()
    code, _, err = cli(tmp_path, "init", str(target))
    assert code == 2
    assert "nothing was written" in err
    assert (target / "contacts.yaml").read_bytes() == before


def test_a_crash_log_that_cannot_go_in_the_folder_goes_to_a_private_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With .outreach not usable (a file), a bug's traceback goes to a new temporary file only
    this user can read, still one line and exit 3; a multi-line error message shows its first
    line only."""
    from outreach import planner

    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("first line\nsecond line")

    root = small_folder(tmp_path)
    (root / ".outreach").write_text("not a folder")
    monkeypatch.setattr(planner, "occasions_for", bug)
    code, _, err = cli(root, "check", "--date", DATE)
    assert code == 3
    assert err.count("\n") == 1
    assert err.startswith("outreach crashed: RuntimeError: first line; the details are in ")
    log = Path(err.strip().rsplit(" ", 1)[-1])
    assert log.name.startswith("outreach-crash-") and "Traceback" in log.read_text()
    assert log.stat().st_mode & 0o077 == 0
    log.unlink()


def test_init_writes_a_gitignore_for_the_machine_state(tmp_path: Path) -> None:
    """The starter folder ignores what the runs write (drafts/, .outreach/, the calendar, the
    log) and the OAuth client; in a folder that already has a .gitignore (a git repository),
    init adds only the missing lines and keeps the user's own."""
    target = tmp_path / "mine"
    assert cli(tmp_path, "init", str(target))[0] == 0
    ignored = (target / ".gitignore").read_text().splitlines()
    for line in ("/drafts/", "/.outreach/", "/calendar.ics", "/outreach.log", "/client_secret.json"):
        assert line in ignored
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".gitignore").write_text("*.swp\n/drafts/")
    assert cli(tmp_path, "init", str(repo))[0] == 0
    lines = (repo / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["*.swp", "/drafts/"]
    assert lines.count("/drafts/") == 1 and "/.outreach/" in lines


def test_a_night_named_with_date_gives_the_same_calendar_bytes_when_run_afresh(
        tmp_path: Path) -> None:
    """The calendar's DTSTAMP and LAST-MODIFIED come from the night named with --date, not the
    wall clock: the same folder run afresh for that night writes the same bytes."""
    import shutil

    camp = campaign_data(followups=[{"kind": "call", "after": 2, "anchor": "draft"}])
    root = write_folder(tmp_path / "book", [contact_data(dates={"birthday": "--11-22"})], [camp])
    feeds = []
    for _ in range(2):
        for state in (".outreach", "drafts"):
            shutil.rmtree(root / state, ignore_errors=True)
        assert cli(root, "run", "--date", DATE)[0] == 0
        feeds.append((root / "calendar.ics").read_bytes())
        time.sleep(1.1)  # a stamp from the wall clock would differ
    assert feeds[0] == feeds[1]
    assert b"DTSTAMP:20261122T000000Z" in feeds[0]


def test_unexpected_errors_exit_3_with_a_crash_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug prints one line naming a log with the traceback, and exits 3. (A damaged ledger is
    no bug: it is one line with exit 2, see test_hostile_state.py.)"""
    from outreach import planner

    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    root = small_folder(tmp_path)
    monkeypatch.setattr(planner, "plan", bug)
    code, _, err = cli(root, "run", "--date", DATE)
    assert code == 3
    assert err.startswith(
        "outreach crashed: ZeroDivisionError: division by zero; the details are in "
    )
    log = Path(err.strip().rsplit(" ", 1)[-1])
    assert "Traceback" in log.read_text()
