"""contacts.yaml read ahead by a forked reader while the command imports: the same book and the
same problems as a book read here, used only for the very bytes the loader reads, and no reader
that fails, stalls or is not asked for costs more than reading the file here."""

from __future__ import annotations

import os
import select
import signal
from pathlib import Path

import pytest
from factories import alive, campaign_data, contact_data, write_folder
from test_run import DATE, cli

from outreach import readahead
from outreach.config import load_book
from outreach.errors import InvalidInput


@pytest.fixture
def readers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every file may be read ahead; the pids of the readers started."""
    monkeypatch.setattr(readahead, "MIN_BYTES", 0)
    pids: list[int] = []
    real = readahead._Reader.__init__

    def init(self: readahead._Reader, pid: int, *args: object) -> None:
        pids.append(pid)
        real(self, pid, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(readahead._Reader, "__init__", init)
    yield pids
    readahead.stop()


def folder(root: Path, n: int = 120, bad: bool = False, **settings: object) -> Path:
    people = [contact_data(f"p{i:03d}-doe", dates={"birthday": "--11-22"},
                           company="Zoë & Sons", tags=["golf", "wine"]) for i in range(n)]
    if bad:
        people[50]["email"] = {"work": "not-an-address"}
        people[100]["country"] = "XX"
    return write_folder(root, people, [campaign_data()], **settings)


def loaded(root: Path) -> object:
    try:
        return load_book(root, carry_snapshot=False).contacts
    except InvalidInput as exc:
        return [str(p) for p in exc.problems]


@pytest.mark.parametrize("bad", [False, True])
def test_a_book_read_ahead_is_the_book_read_here(
    tmp_path: Path, readers: list[int], bad: bool
) -> None:
    """The contacts (or, for a file with mistakes, every problem with its file and line) are
    the same whether the file was read ahead or here; the reader has ended."""
    root = folder(tmp_path / "book", bad=bad)
    here = loaded(root)
    readahead.start(root)
    assert len(readers) == 1
    assert loaded(root) == here
    assert not alive(readers[0])


def test_bytes_changed_after_the_reader_read_them_are_read_here(
    tmp_path: Path, readers: list[int]
) -> None:
    """A file rewritten between the reader's read and the loader's: the loader's bytes win."""
    root = folder(tmp_path / "book")
    readahead.start(root)
    assert readahead._reader is not None  # wait until it has read the file and is sending
    assert select.select([readahead._reader.fd], [], [], 30)[0]
    text = (root / "contacts.yaml").read_text().replace("p007-doe", "p007-smith")
    (root / "contacts.yaml").write_text(text)
    ids = [c.id for c in load_book(root, carry_snapshot=False).contacts]
    assert "p007-smith" in ids and "p007-doe" not in ids


def test_the_contacts_file_outreach_yaml_names_is_read_ahead(
    tmp_path: Path, readers: list[int]
) -> None:
    """outreach.yaml's ``contacts:`` (quoted, with a comment after it) names the file read."""
    root = folder(tmp_path / "book")
    (root / "contacts.yaml").rename(root / "people.yaml")
    cfg = (root / "outreach.yaml").read_text() + "contacts: 'people.yaml'  # the export\n"
    (root / "outreach.yaml").write_text(cfg)
    assert readahead._contacts_file(root) == root / "people.yaml"
    here = loaded(root)
    readahead.start(root)
    assert readers and loaded(root) == here


@pytest.mark.parametrize("fault", ["kill", "stop"])
def test_a_reader_that_dies_or_stalls_leaves_the_file_to_the_loader(
    tmp_path: Path, readers: list[int], monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """A reader killed, or stopped (waited for SECONDS, here 0.2 s): the file is read here."""
    monkeypatch.setattr(readahead, "SECONDS", 0.2)
    monkeypatch.setattr(readahead, "SECONDS_PER_MB", 0.0)
    root = folder(tmp_path / "book")
    here = loaded(root)
    readahead.start(root)
    os.kill(readers[0], signal.SIGKILL if fault == "kill" else signal.SIGSTOP)
    assert loaded(root) == here
    assert not alive(readers[0])


def test_no_reader_for_a_small_file_a_huge_one_or_a_fresher_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, readers: list[int]
) -> None:
    """A file under MIN_BYTES or over MAX_BYTES is read here; so is one the book's snapshot was
    written after (it likely holds the values)."""
    root = folder(tmp_path / "book")
    monkeypatch.setattr(readahead, "MIN_BYTES", 1 << 30)
    readahead.start(root)
    monkeypatch.setattr(readahead, "MIN_BYTES", 0)
    monkeypatch.setattr(readahead, "MAX_BYTES", 1000)
    readahead.start(root)
    assert readers == []
    monkeypatch.setattr(readahead, "MAX_BYTES", 1 << 30)
    code, _, err = cli(root, "run", "--date", DATE)  # writes the snapshot
    assert (code, err) == (0, "") and len(readers) == 1
    assert (root / ".outreach" / "book.snapshot").exists()
    readahead.start(root)
    assert len(readers) == 1


def test_a_command_that_never_reads_the_file_ends_its_reader(
    tmp_path: Path, readers: list[int]
) -> None:
    """`check` of a folder whose outreach.yaml is broken stops before contacts.yaml: its
    reader is ended with the command, not left behind."""
    root = folder(tmp_path / "book")
    (root / "outreach.yaml").write_text("sender: [\n")
    code, _, _ = cli(root, "check")
    assert code == 2 and len(readers) == 1 and not alive(readers[0])


def test_a_run_read_ahead_makes_the_drafts_of_a_run_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, readers: list[int]
) -> None:
    """The same night from a copy read ahead and one read here: the same drafts."""
    alone = folder(tmp_path / "alone", limits={"nightly_cap": 1000})
    ahead = folder(tmp_path / "ahead", limits={"nightly_cap": 1000})
    monkeypatch.setattr(readahead, "ENABLED", False)
    assert cli(alone, "run", "--date", DATE)[0] == 0
    monkeypatch.setattr(readahead, "ENABLED", True)
    assert cli(ahead, "run", "--date", DATE)[0] == 0
    assert len(readers) == 1
    files = {p.name: p.read_bytes() for p in (alone / "drafts").glob("*.eml")}
    assert files == {p.name: p.read_bytes() for p in (ahead / "drafts").glob("*.eml")}
    assert len(files) == 120
