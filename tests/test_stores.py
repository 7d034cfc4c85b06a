"""The DraftStore contract, run against every store: what one promises, all keep."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import dovecot
import pytest
from factories import book, campaign, contact
from gmail_emulator import COMPOSE, GmailEmulator

from outreach import render
from outreach.drafts import Capabilities, DraftStore
from outreach.drafts.dir import DirStore
from outreach.drafts.memory import MemoryStore
from outreach.message import Draft, compose
from outreach.model import History
from outreach.planner import plan

dovecot_server = dovecot.dovecot_server

TODAY = dt.date(2026, 4, 12)
STORES: dict[str, Callable[[Path], DraftStore]] = {
    "dir": lambda tmp: DirStore(tmp / "drafts"),
    "memory": lambda tmp: MemoryStore(),
}


def drafts(tmp_path: Path, n: int = 2) -> list[Draft]:
    tdir = tmp_path / "templates"
    tdir.mkdir()
    (tdir / "note.md").write_text("---\nsubject: Hi {{ contact.first }}\n---\nHi {{ contact.first }},\n")
    people = [contact(f"p{i}-doe", dates={"birthday": "--04-12"}) for i in range(n)]
    b = book(people, [campaign()], root=tmp_path)
    env = render.environment(tdir, tmp_path)
    return [compose(b, env, t, TODAY) for t in plan(b, History(), today=TODAY).touches]


@pytest.fixture
def gm() -> Iterator[GmailEmulator]:
    with GmailEmulator(email="alex@rivera.example") as emulator:
        yield emulator


def gmail_store(tmp_path: Path, gm: GmailEmulator) -> DraftStore:
    """The gmail store against the emulator, through the real google-api-python-client."""
    from outreach.drafts.gmail import GmailStore
    from outreach.model import GmailSettings

    token = tmp_path / "token.json"
    token.write_text(json.dumps({"refresh_token": "r-1", "client_id": "c", "client_secret": "s",
                                 "scopes": [COMPOSE]}))
    os.chmod(token, 0o600)
    settings = GmailSettings(api_root=gm.root_url, token_uri=gm.token_uri, token_file=str(token),
                             timeout_seconds=2, batch_size=10)
    return GmailStore(settings, tmp_path)


def imap_store(tmp_path: Path, server: dovecot.Dovecot) -> DraftStore:
    """The imap store against a real Dovecot, over STARTTLS with its certificate verified."""
    from outreach.drafts.imap import ImapStore
    from outreach.model import ImapSettings

    secret = tmp_path / "imap-pw"
    secret.write_text(server.password)
    os.chmod(secret, 0o600)
    settings = ImapSettings(host=server.host, port=server.port, security="starttls",
                            username=server.new_user(), password_file=str(secret),
                            ca_file=str(server.ca_file))
    return ImapStore(settings, tmp_path)


@pytest.fixture(params=sorted([*STORES, "gmail", "imap"]))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> DraftStore:
    if request.param == "gmail":
        return gmail_store(tmp_path, request.getfixturevalue("gm"))
    if request.param == "imap":
        return imap_store(tmp_path, request.getfixturevalue("dovecot_server"))
    return STORES[request.param](tmp_path)


def test_a_store_satisfies_the_protocol(store: DraftStore) -> None:
    """Every store is a DraftStore."""
    assert isinstance(store, DraftStore)


def test_find_knows_nothing_before_create(store: DraftStore, tmp_path: Path) -> None:
    """An empty store finds no Message-ID."""
    assert store.find(drafts(tmp_path)[0].message_id) is None


def test_created_drafts_are_found_by_message_id(store: DraftStore, tmp_path: Path) -> None:
    """After create, find returns the same Message-ID and a reference to the stored draft."""
    a, b = drafts(tmp_path)
    stored = store.create(a)
    assert stored.message_id == a.message_id and stored.ref
    assert store.find(a.message_id) == stored
    assert store.find(b.message_id) is None


def test_create_many_gives_one_result_per_draft_in_order(store: DraftStore, tmp_path: Path) -> None:
    """create_many stores every draft (in one batch where the store has batches) and answers
    for each, in order; each is then found by its Message-ID."""
    batch = drafts(tmp_path, 3)
    results = store.create_many(batch)
    assert [r.message_id for r in results if not isinstance(r, Exception)] == [
        d.message_id for d in batch]
    assert all(store.find(d.message_id) == r for d, r in zip(batch, results, strict=True))


def test_a_store_declares_what_it_can_do(store: DraftStore) -> None:
    """Every store says where its drafts go and what it can do beyond find and create; check()
    and clean() may be called on any store; a store without conversations says so."""
    assert store.name and store.where
    caps = store.capabilities
    assert isinstance(caps, Capabilities) and caps.batch_size >= 1
    assert store.check() is None and store.clean() is None
    if not caps.conversations:
        with pytest.raises(NotImplementedError):
            store.conversation("t-1")


def test_a_store_in_a_mailbox_reads_its_headers(store: DraftStore) -> None:
    """A store that says it can read the mailbox returns the inbox's and the sent folder's
    headers and a mark for each (where the next read starts); the others refuse."""
    from outreach.drafts import MAIL_FOLDERS, MailRead

    if not store.capabilities.mailbox:
        with pytest.raises(NotImplementedError):
            store.read_mail({}, TODAY)
        return
    read = store.read_mail({}, TODAY)
    assert isinstance(read, MailRead) and read.messages == []
    assert set(read.marks) == set(MAIL_FOLDERS)
    assert store.read_mail(read.marks, TODAY).marks == read.marks


def test_a_fresh_handle_finds_what_an_earlier_one_stored(tmp_path: Path) -> None:
    """Crash recovery asks a new process: the dir store finds drafts written by another one."""
    a, _ = drafts(tmp_path)
    DirStore(tmp_path / "drafts").create(a)
    found = DirStore(tmp_path / "drafts").find(a.message_id)
    assert found is not None and Path(found.ref).name == "birthday--p0-doe--2026.eml"


def test_dir_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    """Drafts are written whole (temporary name, then rename); clean() removes a crash's leftovers."""
    store = DirStore(tmp_path / "drafts")
    for d in drafts(tmp_path):
        store.create(d)
    (tmp_path / "drafts" / ".tmp-birthday--x.eml.123").write_bytes(b"half")
    store.clean()
    assert sorted(p.name for p in (tmp_path / "drafts").iterdir()) == [
        "birthday--p0-doe--2026.eml", "birthday--p1-doe--2026.eml"]


def test_dir_store_write_failure_is_a_store_error(tmp_path: Path) -> None:
    """A folder that cannot be written fails the touch with a clear message, not a traceback."""
    from outreach.errors import StoreError

    (tmp_path / "drafts").write_text("a file where the folder should be")
    with pytest.raises(StoreError, match="cannot write"):
        DirStore(tmp_path / "drafts").create(drafts(tmp_path)[0])


def test_dir_store_check_refuses_a_file_where_the_folder_should_be(tmp_path: Path) -> None:
    """A file named like the drafts folder (or on the way to it) can hold no draft at all: check()
    says so in one line, exit code 2, before anything is tried."""
    from outreach.drafts.dir import FolderUnusable

    (tmp_path / "drafts").write_text("a file")
    with pytest.raises(FolderUnusable) as caught:
        DirStore(tmp_path / "drafts").check()
    assert caught.value.exit_code == 2
    assert caught.value.lines() == [
        f"the drafts folder {tmp_path / 'drafts'} is a file; nothing was drafted; move the file "
        "aside, or set drafts.dir in outreach.yaml to a folder you can write in"
    ]
    with pytest.raises(FolderUnusable) as caught:
        DirStore(tmp_path / "drafts" / "2026").check()
    assert caught.value.message == (
        f"cannot make the drafts folder {tmp_path / 'drafts' / '2026'}: {tmp_path / 'drafts'} is "
        "a file; nothing was drafted"
    )
    with pytest.raises(FolderUnusable, match="File name too long; nothing was drafted"):
        DirStore(tmp_path / ("x" * 300)).check()


def test_dir_store_check_makes_nothing(tmp_path: Path) -> None:
    """A folder not made yet is fine (the first draft makes it), and check() does not make it: a
    night with nothing due, or one that stops before drafting, leaves no empty folder."""
    DirStore(tmp_path / "drafts").check()
    DirStore(tmp_path / "a" / "b" / "drafts").check()
    assert list(tmp_path.iterdir()) == []


def test_the_dir_store_is_checked_when_it_is_opened(tmp_path: Path) -> None:
    """open_store checks the dir store's folder: a run fails on it before the ledger is opened."""
    from factories import settings

    from outreach.drafts import open_store
    from outreach.drafts.dir import FolderUnusable

    (tmp_path / "drafts").write_text("a file")
    with pytest.raises(FolderUnusable):
        open_store("dir", tmp_path, settings())
    assert isinstance(open_store("dir", tmp_path, settings(drafts={"dir": "elsewhere"})), DirStore)


def test_created_drafts_are_found_by_key_and_message_id(store: DraftStore, tmp_path: Path) -> None:
    """find_for (what a night asks) finds a created draft by its touch's key and Message-ID, and
    nothing under another Message-ID."""
    a, b = drafts(tmp_path)
    stored = store.create(a)
    assert store.find_for(a.key, a.message_id) == stored
    assert store.find_for(b.key, b.message_id) is None
    assert store.find_for(a.key, b.message_id) is None


def test_the_dir_store_looks_for_a_touch_in_its_own_file_only(tmp_path: Path) -> None:
    """find_for reads the one file the key names, never the rest of the folder: a copy of the
    draft under another name is not it (and thousands of old drafts cost nothing); a file under
    the key's name that holds another Message-ID is not it either."""
    import shutil

    from outreach.drafts.dir import file_name

    a, b = drafts(tmp_path)
    folder = tmp_path / "drafts"
    DirStore(folder).create(a)
    shutil.move(folder / file_name(a.key), folder / "renamed-by-hand.eml")
    fresh = DirStore(folder)
    assert fresh.find_for(a.key, a.message_id) is None
    assert fresh.find(a.message_id) is not None  # the whole-folder scan still sees it
    shutil.copy(folder / "renamed-by-hand.eml", folder / file_name(b.key))
    assert DirStore(folder).find_for(b.key, b.message_id) is None


def test_the_dir_store_takes_chunks_and_syncs_each_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dir store declares chunks of 50; create_many writes each draft of a chunk and syncs
    the folder once for all of them (create on its own syncs at once)."""
    from outreach.drafts import dir as dirstore

    synced: list[int] = []
    real = dirstore.sync_folder
    monkeypatch.setattr(dirstore, "sync_folder", lambda f, p: (synced.append(len(p)), real(f, p)))
    store = DirStore(tmp_path / "drafts")
    assert store.capabilities.batch_size == dirstore.CHUNK == 50
    batch = drafts(tmp_path, 4)
    store.create_many(batch[:3])
    store.create(batch[3])
    assert synced == [3, 1]
    assert len(list((tmp_path / "drafts").glob("*.eml"))) == 4
