"""The rules of a safe sync (outreach/sync.py, outreach sync), with a source that gives what the
test says: people added, updated where the sync wrote before, never what the person wrote;
deletions reported once; the file's bytes untouched when nothing changed; nothing written when
the result would not pass check."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import campaign_data, write_folder
from hypothesis import given
from hypothesis import strategies as st

from outreach.cli import main
from outreach.importers.records import Record
from outreach.sources.contactsync import Pulled, RemoteContact, SourceDown

TODAY = dt.date(2026, 12, 1)
sync_module = importlib.import_module("outreach.commands.sync")  # (commands.sync is the function)


def person(remote: str, first: str, last: str, *emails: tuple[str, str], **fields: Any) -> RemoteContact:
    return RemoteContact(remote, "e1", Record(remote, first=first, last=last, emails=list(emails),
                                                **fields))


class Source:
    """What the address book gives on each pull: set ``changed``, ``deleted``, ``complete``."""

    def __init__(self) -> None:
        self.changed: list[RemoteContact] = []
        self.deleted: list[str] = []
        self.complete = False
        self.down: SourceDown | None = None
        self.states: list[str | None] = []

    def pull(self, settings: Any, root: Path, source: Any, n: int, state: str | None) -> Pulled:
        self.states.append(state)
        if self.down is not None:
            raise self.down
        got = Pulled(list(self.changed), list(self.deleted), f"token-{len(self.states)}",
                     self.complete)
        self.changed, self.deleted, self.complete = [], [], False
        return got


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch) -> Source:
    src = Source()
    monkeypatch.setattr(sync_module, "_pull", src.pull)
    return src


HEAD = "# my people, kept by hand\ncontacts:\n"


def folder(tmp_path: Path, contacts_text: str = HEAD + "  []\n",
           campaigns: list[dict[str, Any]] | None = None, **settings: Any) -> Path:
    root = write_folder(tmp_path / "book", [], campaigns or [campaign_data()],
                        sync=[{"kind": "carddav", "url": "http://127.0.0.1:1/book/", "tag": "phone",
                               "username": "alex", "password_command": "echo pw"}], **settings)
    (root / "contacts.yaml").write_text(contacts_text)
    return root


def sync(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "sync", "--date", "2026-12-01", "-v", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


JANE = person("/book/jane.vcf", "Jane", "Doe", ("work", "jane@acme.example"), birthday="1980-04-12",
              company="Acme")
BOB = person("/book/bob.vcf", "Bob", "Roe", ("", "bob@roe.example"))


def test_a_first_sync_adds_everyone_with_the_tag(tmp_path: Path, source: Source) -> None:
    """Two new people: added with new ids and the source's tag; the file's comment is kept; the
    next pull starts from the state this one returned."""
    root = folder(tmp_path)
    source.changed = [JANE, BOB]
    code, out, err = sync(root)
    assert (code, err) == (0, "")
    text = (root / "contacts.yaml").read_text()
    assert text.startswith("# my people, kept by hand\n")
    assert "id: jane-doe" in text and "id: bob-roe" in text and "phone" in text
    assert "http://127.0.0.1:1/book/: 2 added" in out
    sync(root)
    assert source.states == [None, "token-1"]


def test_a_remote_change_updates_what_the_sync_wrote(tmp_path: Path, source: Source) -> None:
    """Jane moves jobs (a new work address) and her birthday is corrected remotely: both are
    updated, and the old work address is kept as personal (that slot was empty)."""
    root = folder(tmp_path)
    source.changed = [JANE]
    sync(root)
    source.changed = [person("/book/jane.vcf", "Jane", "Doe", ("work", "jane@newco.example"),
                             birthday="1980-04-21", company="Acme")]
    out = sync(root)[1]
    text = (root / "contacts.yaml").read_text()
    assert "work: jane@newco.example" in text and "personal: jane@acme.example" in text
    assert "birthday: 1980-04-21" in text and "1980-04-12" not in text
    assert "the old work address jane@acme.example kept as email.personal" in out


def test_what_the_person_wrote_survives_a_remote_change(tmp_path: Path, source: Source) -> None:
    """Jane's company was edited by hand after the first sync; the source changes it: the hand
    edit stays, said once; her birthday (untouched by hand) follows the source."""
    root = folder(tmp_path)
    source.changed = [JANE]
    sync(root)
    path = root / "contacts.yaml"
    path.write_text(path.read_text().replace("company: Acme", "company: Acme Holdings  # hers"))
    source.changed = [person("/book/jane.vcf", "Jane", "Doe", ("work", "jane@acme.example"),
                             birthday="1980-04-13", company="ACME Corp")]
    out = sync(root)[1]
    text = path.read_text()
    assert "company: Acme Holdings  # hers" in text and "birthday: 1980-04-13" in text
    assert "company kept as you wrote it (Acme Holdings; the source has ACME Corp)" in out
    source.changed = [person("/book/jane.vcf", "Jane", "Doe", ("work", "jane@acme.example"),
                             birthday="1980-04-13", company="ACME Corp", title="CFO")]
    out = sync(root)[1]
    assert "company kept" not in out and "title set to CFO" in out


def test_an_existing_contact_is_matched_by_address_and_filled_only(tmp_path: Path,
                                                                   source: Source) -> None:
    """Jane is already in contacts.yaml (written by hand, no birthday): the source's Jane is
    matched by her address; her empty birthday is filled, her name and company stay as written."""
    text = HEAD + "  - id: jane\n    name: {first: Janie, last: Doe}\n    email: {work: jane@acme.example}\n    company: Acme Inc.\n"
    root = folder(tmp_path, text)
    source.changed = [JANE]
    out = sync(root)[1]
    new = (root / "contacts.yaml").read_text()
    assert new.count("- id:") == 1 and "birthday: 1980-04-12" in new
    assert "first: Janie" in new and "company: Acme Inc." in new
    assert "updated jane: " in out and "dates.birthday set to 1980-04-12" in out
    assert "name.first kept as you wrote it (Janie; the source has Jane)" in out


def test_a_deleted_person_stays_and_is_reported_once(tmp_path: Path, source: Source) -> None:
    """Bob is deleted at the source: he stays in contacts.yaml; the report names his id, once; a
    complete listing without Jane reports her as gone too."""
    root = folder(tmp_path)
    source.changed = [JANE, BOB]
    sync(root)
    before = (root / "contacts.yaml").read_bytes()
    source.deleted = ["/book/bob.vcf"]
    err = sync(root)[2]  # on stderr: cron mails it
    assert "warning: http://127.0.0.1:1/book/: deleted remotely bob-roe" in err
    assert "id bob-roe" in err
    assert (root / "contacts.yaml").read_bytes() == before
    source.deleted = ["/book/bob.vcf"]
    assert "bob-roe" not in "".join(sync(root)[1:])
    source.complete = True
    assert "deleted remotely jane-doe" in sync(root)[2]


def test_no_change_leaves_the_file_bytes_alone(tmp_path: Path, source: Source) -> None:
    """A second sync with the same people changes nothing: contacts.yaml is not written (its
    bytes and its mtime are the same)."""
    root = folder(tmp_path)
    source.changed = [JANE, BOB]
    sync(root)
    path = root / "contacts.yaml"
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    source.changed = [JANE, BOB]
    code, out, _ = sync(root)
    assert code == 0 and "written" not in out
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


def test_a_shared_address_is_reported_not_merged(tmp_path: Path, source: Source) -> None:
    """Sam shares Jane's address (a family mailbox): Sam is not merged into Jane nor added; the
    report says so."""
    root = folder(tmp_path)
    source.changed = [JANE, person("/book/sam.vcf", "Sam", "Doe", ("home", "jane@acme.example"))]
    err = sync(root)[2]
    text = (root / "contacts.yaml").read_text()
    assert text.count("- id:") == 1 and "Sam" not in text
    assert "not added jane-doe: Sam Doe shares the address jane@acme.example with jane-doe" in err


def test_a_family_address_does_not_merge_two_people(tmp_path: Path, source: Source) -> None:
    """Jane is in contacts.yaml by hand; the source's Sam Doe has her address (the family's):
    Sam is not merged into Jane (her birthday stays hers) and not added; the report says so."""
    text = HEAD + "  - id: jane\n    name: {first: Jane, last: Doe}\n    email: {work: jane@acme.example}\n"
    root = folder(tmp_path, text)
    source.changed = [person("/book/sam.vcf", "Sam", "Doe", ("home", "jane@acme.example"),
                             birthday="2015-06-01")]
    err = sync(root)[2]
    assert (root / "contacts.yaml").read_text() == text
    assert "not added jane: Sam Doe shares the address jane@acme.example with jane" in err


def test_dry_run_prints_a_diff_and_writes_nothing(tmp_path: Path, source: Source) -> None:
    """--dry-run: the change as a unified diff of contacts.yaml; the file and the ledger stay."""
    root = folder(tmp_path)
    before = (root / "contacts.yaml").read_bytes()
    source.changed = [JANE]
    code, out, _ = sync(root, "--dry-run")
    assert code == 0
    assert "--- a/contacts.yaml" in out and "+++ b/contacts.yaml" in out and "+  - id: jane-doe" in out
    assert (root / "contacts.yaml").read_bytes() == before
    assert not (root / ".outreach" / "state.db").exists()


def test_a_result_that_fails_check_is_not_written(tmp_path: Path, source: Source) -> None:
    """A template needs the company; the source's Bob has none: nothing is written, and the
    problems are shown (exit 2)."""
    root = folder(tmp_path, campaigns=[campaign_data("keep", {"kind": "interval", "days": 45})],
                  templates={"note.md": "---\nsubject: Hi\n---\nHi {{ contact.company }}\n"})
    before = (root / "contacts.yaml").read_bytes()
    source.changed = [BOB]
    code, _, err = sync(root)
    assert code == 2
    assert "not written" in err and "outreach check" in err
    assert (root / "contacts.yaml").read_bytes() == before


def test_a_source_that_is_down_is_one_line(tmp_path: Path, source: Source) -> None:
    """The source cannot be reached: one line naming it, exit 1, contacts.yaml as it was; under
    run --sync the night goes on (exit 0 with a warning)."""
    root = folder(tmp_path)
    before = (root / "contacts.yaml").read_bytes()
    source.down = SourceDown("the CardDAV server 127.0.0.1:1 cannot be reached: connection refused")
    code, _, err = sync(root)
    assert code == 1 and err.count("\n") == 1 and "cannot be reached" in err
    assert (root / "contacts.yaml").read_bytes() == before
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--sync", "--date", "2026-12-01"])
    assert result.exit_code == 0 and "not synced" in result.stderr



def test_a_folder_without_contacts_yaml_gets_one(tmp_path: Path, source: Source) -> None:
    """No contacts.yaml yet: the first sync writes one that outreach check passes."""
    root = folder(tmp_path)
    (root / "contacts.yaml").unlink()
    source.changed = [JANE]
    assert sync(root)[0] == 0
    assert "id: jane-doe" in (root / "contacts.yaml").read_text()
    assert CliRunner().invoke(main, ["-C", str(root), "check"]).exit_code == 0


@given(st.text(alphabet="abcdefghij", min_size=1, max_size=8),
       st.text(alphabet="abcdefghij", min_size=1, max_size=8))
def test_short_forms_are_symmetric(a: str, b: str) -> None:
    """Whether two first names can be one person does not depend on their order; a name is
    always a form of itself; names that differ in their first three letters never are."""
    from outreach.sync import _short_form

    assert _short_form(a, b) == _short_form(b, a) and _short_form(a, a)
    if a[:3] != b[:3]:
        assert not _short_form(a, b)


def test_check_names_a_carddav_source_that_cannot_work(tmp_path: Path) -> None:
    """outreach check, without connecting: http:// to another machine, a password file others
    may read: one line each, exit 2."""
    root = write_folder(tmp_path / "book", [], [campaign_data()], sync=[
        {"kind": "carddav", "url": "http://dav.example.com/book/", "username": "alex",
         "password_command": "echo pw"}])
    result = CliRunner().invoke(main, ["-C", str(root), "check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "outreach.yaml: sync[1].url is http:// to dav.example.com: the password would cross the "
        "network in clear text; use the https:// address of the server in sync[1].url"]
    pw = tmp_path / "pw"
    pw.write_text("secret")
    pw.chmod(0o644)
    root = write_folder(tmp_path / "book2", [], [campaign_data()], sync=[
        {"kind": "carddav", "url": "https://dav.example.com/book/", "username": "alex",
         "password_file": str(pw)}])
    result = CliRunner().invoke(main, ["-C", str(root), "check"])
    assert result.exit_code == 2 and "sync[1].password_file" in result.stderr
    assert "chmod 600" in result.stderr
