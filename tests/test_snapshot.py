"""The snapshot of the book's YAML files: used only for the very bytes it was made from.

A run keeps what the YAML files read to in ``.outreach/book.snapshot``, keyed by the SHA-256 of
each file's bytes; the next load validates those values again instead of parsing the files. A
changed file is parsed again, its problems reported with file:line; a damaged, foreign or stale
snapshot is ignored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from factories import campaign_data, contact_data, write_folder
from hypothesis import HealthCheck, given, settings
from test_yaml_fast import values

from outreach import yamlsrc
from outreach.config import SNAPSHOT_FILE, load_book
from outreach.errors import InvalidInput
from outreach.snapshot import Snapshot


def _folder(root: Path) -> Path:
    people = [contact_data("jane-doe"), contact_data("bob-roe", dates={"birthday": "1980-02-03"})]
    return write_folder(root, people, [campaign_data()])


def _snapshot(root: Path) -> Path:
    return root / ".outreach" / SNAPSHOT_FILE


def test_a_run_keeps_a_snapshot_and_the_next_load_uses_it(tmp_path: Path) -> None:
    """The second load reads the values from the snapshot and gives the same book."""
    root = _folder(tmp_path)
    first = load_book(root, keep_snapshot=True)
    snap = Snapshot.open(_snapshot(root))
    assert set(snap.files) == {"contacts.yaml", "campaigns.yaml"}
    second = load_book(root)
    assert second.contacts == first.contacts and second.campaigns == first.campaigns
    assert oct(_snapshot(root).stat().st_mode & 0o777) == "0o600"


def test_a_plan_writes_no_snapshot(tmp_path: Path) -> None:
    """Loading without keep_snapshot (plan, check, preview) leaves the folder as it was."""
    root = _folder(tmp_path)
    load_book(root)
    assert not (root / ".outreach").exists()


def test_a_book_carries_its_snapshot_only_to_write_it(tmp_path: Path) -> None:
    """A run's book carries the snapshot while a file changed since it was written (the run
    saves it after its night); a plan's book never does, and with unchanged files neither does
    a run's: the values the snapshot holds are not kept for the whole night."""
    root = _folder(tmp_path)
    assert load_book(root).snapshot is not None  # nothing written yet: a run would write it
    assert load_book(root, carry_snapshot=False).snapshot is None
    load_book(root).snapshot.save()
    assert load_book(root).snapshot is None  # unchanged: nothing to write
    (root / "contacts.yaml").write_text(
        (root / "contacts.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    assert load_book(root).snapshot is not None
    assert load_book(root, carry_snapshot=False).snapshot is None


@pytest.mark.parametrize("name", ["contacts.yaml", "campaigns.yaml", "interactions.yaml"])
def test_a_changed_file_is_read_again(tmp_path: Path, name: str) -> None:
    """A change to any file is seen: its new values, never the snapshot's."""
    root = _folder(tmp_path)
    (root / "interactions.yaml").write_text(
        "- {contact: jane-doe, date: 2026-01-02, kind: call}\n", encoding="utf-8"
    )
    load_book(root, keep_snapshot=True)
    path = root / name
    text = path.read_text(encoding="utf-8")
    edits = {
        "contacts.yaml": ("jane-doe@acme.example", "jane@elsewhere.example"),
        "campaigns.yaml": ("note.md", "other.md"),
        "interactions.yaml": ("kind: call", "kind: gift"),
    }
    old, new = edits[name]
    (root / "templates" / "other.md").write_text("---\nsubject: Hi\n---\nHi\n", encoding="utf-8")
    path.write_text(text.replace(old, new), encoding="utf-8")
    book = load_book(root)
    jane = book.contact("jane-doe")
    seen = {
        "contacts.yaml": jane.email.work,
        "campaigns.yaml": book.campaigns[0].template,
        "interactions.yaml": jane.interactions[-1].kind,
    }
    assert seen[name] == new.split(": ")[-1]


def test_a_problem_in_a_changed_file_has_its_line(tmp_path: Path) -> None:
    """An error written after the snapshot was made is reported with file:line."""
    root = _folder(tmp_path)
    load_book(root, keep_snapshot=True)
    path = root / "contacts.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("bob-roe@acme.example", "bob@"), encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as exc:
        load_book(root)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "bob@" in text)
    assert str(exc.value.problems[0]).startswith(f"contacts.yaml:{line}: contacts[1].email.work:")


def test_a_problem_the_validators_find_later_is_still_found(tmp_path: Path) -> None:
    """Values from the snapshot are validated again: nothing is taken as checked."""
    root = _folder(tmp_path)
    load_book(root, keep_snapshot=True)
    snap = Snapshot.open(_snapshot(root))
    snap.files["contacts.yaml"]["data"]["contacts"][0]["id"] = "Not A Slug"
    snap.changed = True
    assert snap.save()
    with pytest.raises(InvalidInput) as exc:
        load_book(root)
    assert "contacts.yaml:2: contacts[0].id:" in str(exc.value.problems[0])


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-20],
        lambda raw: raw.replace(b"jane-doe@acme.example", b"evil@attacker.example"),
        lambda raw: b"not json\n" + raw,
        lambda raw: raw.replace(b'"format": 1', b'"format": 0'),
        lambda raw: raw.replace(b'"outreach": "', b'"outreach": "0.0.0-'),
        lambda raw: b"",
        lambda raw: b"\x00" * 100,
    ],
)
def test_a_damaged_or_foreign_snapshot_is_ignored(tmp_path: Path, damage: Any) -> None:
    """A snapshot whose checksum, format or version is not right is not used: the files are
    read, and no address comes from the damaged snapshot."""
    root = _folder(tmp_path)
    load_book(root, keep_snapshot=True)
    path = _snapshot(root)
    path.write_bytes(damage(path.read_bytes()))
    book = load_book(root, keep_snapshot=True)
    assert book.contact("jane-doe").email.work == "jane-doe@acme.example"
    assert Snapshot.open(path).files  # written again, whole
    assert "evil@attacker.example" not in path.read_text(encoding="utf-8", errors="replace")


def test_a_snapshot_of_other_files_is_not_used(tmp_path: Path) -> None:
    """The snapshot of another folder (other bytes) gives nothing: only the files count."""
    other = _folder(tmp_path / "other")
    people = [contact_data("ann-poe", email={"work": "ann@poe.example"})]
    load_book(write_folder(other, people, [campaign_data()]), keep_snapshot=True)
    root = _folder(tmp_path / "mine")
    (root / ".outreach").mkdir()
    _snapshot(root).write_bytes(_snapshot(other).read_bytes())
    book = load_book(root)
    assert [c.id for c in book.contacts] == ["jane-doe", "bob-roe"]
    assert {c.email.work for c in book.contacts} <= set(
        (root / "contacts.yaml").read_text().split()
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(values)
def test_values_come_back_as_they_were_read(tmp_path: Path, data: Any) -> None:
    """Whatever a file reads to, the snapshot gives back equal values and lines."""
    import yaml

    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"k": data}), encoding="utf-8")
    snap = Snapshot(tmp_path / "s")
    fresh, problems = yamlsrc.load(path, snapshot=snap)
    assert snap.save()
    kept, again = yamlsrc.load(path, snapshot=Snapshot.open(tmp_path / "s"))
    assert (kept.data, again) == (fresh.data, problems)
    assert kept.lines == fresh.lines
    assert json.loads((tmp_path / "s").read_bytes().split(b"\n", 1)[0])["format"] == 1


def test_a_file_no_longer_read_leaves_the_snapshot(tmp_path: Path) -> None:
    """What a snapshot keeps is only what the last load read: a removed file is dropped."""
    root = _folder(tmp_path)
    (root / "interactions.yaml").write_text(
        "- {contact: jane-doe, date: 2026-01-02}\n", encoding="utf-8"
    )
    load_book(root, keep_snapshot=True)
    assert "interactions.yaml" in Snapshot.open(_snapshot(root)).files
    (root / "interactions.yaml").unlink()
    load_book(root, keep_snapshot=True)
    assert set(Snapshot.open(_snapshot(root)).files) == {"contacts.yaml", "campaigns.yaml"}


def test_a_snapshot_that_is_a_link_or_a_pipe_is_not_read(tmp_path: Path) -> None:
    """A link (never followed) or a pipe where the snapshot goes is ignored, without blocking."""
    import os

    root = _folder(tmp_path)
    (root / ".outreach").mkdir()
    _snapshot(root).symlink_to("/dev/zero")
    assert Snapshot.open(_snapshot(root)).files == {}
    _snapshot(root).unlink()
    os.mkfifo(_snapshot(root))
    assert Snapshot.open(_snapshot(root)).files == {}
    assert [c.id for c in load_book(root).contacts] == ["jane-doe", "bob-roe"]


def test_a_night_that_went_well_writes_the_snapshot_and_a_look_does_not(tmp_path: Path) -> None:
    """`outreach run` keeps the snapshot once its night went well; `plan` never writes it."""
    import subprocess
    import sys

    root = _folder(tmp_path)
    outreach = [sys.executable, "-m", "outreach", "-C", str(root)]
    plan = subprocess.run([*outreach, "plan", "--date", "2026-11-20"], capture_output=True)
    assert plan.returncode == 0 and not _snapshot(root).exists()
    run = subprocess.run([*outreach, "run", "--date", "2026-11-20"], capture_output=True)
    assert run.returncode == 0, run.stderr
    assert {"contacts.yaml", "campaigns.yaml"} <= set(Snapshot.open(_snapshot(root)).files)
