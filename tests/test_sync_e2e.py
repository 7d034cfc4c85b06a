"""`outreach sync` end to end: a real Radicale on 127.0.0.1 (CardDAV) and the People emulator
(Google Contacts through the real client). A first sync adds everyone; a card added, changed and
deleted gives exactly those changes (the dry run's diff first, then the file); a hand edit
survives; 1,000 cards in seconds, and a second sync with no change leaves the bytes alone; a
server down or refusing is one line."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import radicale_server
import test_google_people
from click.testing import CliRunner
from factories import campaign_data, write_folder
from gmail_emulator import COMPOSE
from people_emulator import PeopleEmulator
from radicale_server import PASSWORD, USER, Radicale
from test_carddav import card3, card4
from test_sync import sync

from outreach.auth import SCOPE_CONTACTS
from outreach.cli import main

radicale = radicale_server.radicale
addressbook = radicale_server.addressbook

HEAD = "# the people I keep in touch with\ncontacts:\n  - id: old-friend   # met in 2019\n    name: {first: Old, last: Friend}\n    email: {personal: old@friend.example}\n"


def secret(tmp_path: Path, text: str = PASSWORD) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "carddav-pw"
    path.write_text(text + "\n")
    os.chmod(path, 0o600)
    return path


def carddav_folder(tmp_path: Path, url: str, **source: Any) -> Path:
    spec = {"kind": "carddav", "url": url, "username": USER,
            "password_file": str(secret(tmp_path)), "tag": "phone", "timeout_seconds": 20,
            **source}
    root = write_folder(tmp_path / "book", [], [campaign_data()], sync=[spec])
    (root / "contacts.yaml").write_text(HEAD)
    return root


def contacts(root: Path) -> str:
    return (root / "contacts.yaml").read_text()


DANA = card3("dana", "Dana", "Okafor", "ORG:Brightline Freight",
             "EMAIL;TYPE=INTERNET,WORK:dana@brightline.example", "BDAY:1984-03-09")
ZOE = card4("zoe", "Zoë", "Hartley", "EMAIL;TYPE=WORK:zoe@lakeshore.example", "BDAY:--07-14")
RAJ = card3("raj", "Raj", "Patel", "EMAIL;TYPE=WORK:raj@patel.example")


def test_carddav_first_sync_then_exactly_the_changes(tmp_path: Path, radicale: Radicale,
                                                     addressbook: str) -> None:
    """Two cards: both added with the tag, the file's comments kept. Then Raj is added, Dana
    gets a new address and a corrected birthday, Zoë is deleted on the server: the dry run shows
    exactly that as a diff and writes nothing; the sync writes it, and reports Zoë's id."""
    radicale.put(addressbook, "dana", DANA)
    zoe = radicale.put(addressbook, "zoe", ZOE)
    root = carddav_folder(tmp_path, addressbook)
    code, out, err = sync(root)
    assert (code, err) == (0, ""), err
    text = contacts(root)
    assert text.startswith(HEAD) and "id: dana-okafor" in text and "id: zoe-hartley" in text
    assert "tags: [phone]" in text and "birthday: 1984-03-09" in text
    radicale.put(addressbook, "raj", RAJ)
    radicale.put(addressbook, "dana", DANA.replace("dana@brightline.example", "dana@newco.example")
                 .replace("1984-03-09", "1984-03-19"))
    radicale.delete(zoe)
    before = (root / "contacts.yaml").read_bytes()
    code, out, err = sync(root, "--dry-run")
    assert code == 0 and (root / "contacts.yaml").read_bytes() == before
    removed = [ln for ln in out.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    added = [ln for ln in out.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert removed == ["-      work: dana@brightline.example", "-      birthday: 1984-03-09"] or (
        sorted(removed) == sorted(["-    email: {work: dana@brightline.example}",
                                   "-    dates: {birthday: 1984-03-09}"])), out
    assert any("dana@newco.example" in ln for ln in added) and any("1984-03-19" in ln for ln in added)
    assert any("id: raj-patel" in ln for ln in added)
    assert "deleted remotely zoe-hartley" in err
    code, out, err = sync(root)
    text = contacts(root)
    assert "dana@newco.example" in text and "personal: dana@brightline.example" in text
    assert "1984-03-19" in text and "id: raj-patel" in text and "id: zoe-hartley" in text
    assert "deleted remotely zoe-hartley" in err and "remove the entry with id zoe-hartley" in err
    assert "zoe" not in "".join(sync(root)[1:])  # said once


def test_carddav_a_hand_edit_survives(tmp_path: Path, radicale: Radicale, addressbook: str) -> None:
    """Dana's company edited by hand; the card's company changes: the hand edit stays."""
    radicale.put(addressbook, "dana", DANA)
    root = carddav_folder(tmp_path, addressbook)
    sync(root)
    path = root / "contacts.yaml"
    path.write_text(contacts(root).replace("company: Brightline Freight", "company: Brightline"))
    radicale.put(addressbook, "dana", DANA.replace("ORG:Brightline Freight", "ORG:Brightline Inc."))
    out = sync(root)[1]
    assert "company: Brightline\n" in contacts(root) and "Brightline Inc." not in contacts(root)
    assert "company kept as you wrote it" in out


def test_a_thousand_cards_then_no_change(tmp_path: Path, radicale: Radicale) -> None:
    """1,000 cards sync in seconds; a second sync with no change writes nothing: the file's
    bytes and mtime stay."""
    cards = [card3(f"p{i}", f"First{i}", f"Last{i}", f"EMAIL;TYPE=WORK:p{i}@acme.example")
             for i in range(1000)]
    book = radicale.put_many(USER, "big", cards)
    root = carddav_folder(tmp_path, book)
    started = time.monotonic()
    code, out, err = sync(root)
    took = time.monotonic() - started
    assert (code, err) == (0, "") and "1000 added" in out
    assert took < 30, took
    path = root / "contacts.yaml"
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    started = time.monotonic()
    code, out, _ = sync(root)
    assert code == 0 and "written" not in out and time.monotonic() - started < 5
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


def test_carddav_down_or_refusing_is_one_line(tmp_path: Path, radicale: Radicale,
                                              addressbook: str) -> None:
    """A wrong password: one line, exit 5; a closed port: one line, exit 1, quickly; under
    run --sync the night goes on; contacts.yaml stays as it was."""
    root = carddav_folder(tmp_path, addressbook)
    secret(tmp_path, "wrong")
    before = (root / "contacts.yaml").read_bytes()
    code, _, err = sync(root)
    assert code == 5 and err.count("\n") == 1 and USER in err
    root2 = carddav_folder(tmp_path / "b", f"http://127.0.0.1:{radicale_server.free_port()}/x/")
    started = time.monotonic()
    code, _, err = sync(root2)
    assert code == 1 and err.count("\n") == 1 and time.monotonic() - started < 5
    result = CliRunner().invoke(main, ["-C", str(root2), "run", "--sync", "--date", "2026-12-01"])
    assert result.exit_code == 0 and "not synced" in result.stderr
    assert (root / "contacts.yaml").read_bytes() == before


# --------------------------------------------------------------------------- google


pe = test_google_people.pe  # the People emulator, and backoffs of milliseconds
_fast_backoff = test_google_people._fast_backoff


def google_folder(tmp_path: Path, pe: PeopleEmulator, scopes: list[str] | None = None) -> Path:
    token = tmp_path / "token.json"
    token.write_text(json.dumps({"refresh_token": "r-1", "client_id": "c", "client_secret": "s",
                                 "scopes": scopes or [COMPOSE, SCOPE_CONTACTS]}))
    os.chmod(token, 0o600)
    root = write_folder(tmp_path / "book", [], [campaign_data()],
                        gmail={"api_root": pe.root_url, "token_uri": pe.token_uri,
                               "token_file": str(token), "timeout_seconds": 2},
                        sync=[{"kind": "google", "tag": "google"}])
    (root / "contacts.yaml").write_text(HEAD)
    return root


def google_person(first: str, last: str, address: str, **extra: Any) -> dict[str, Any]:
    return {"names": [{"givenName": first, "familyName": last, "displayName": f"{first} {last}"}],
            "emailAddresses": [{"value": address, "type": "work"}], **extra}


def test_google_first_sync_then_exactly_the_changes(tmp_path: Path, pe: PeopleEmulator) -> None:
    """The same rules with Google Contacts: added, changed (new address, new birthday), deleted
    (reported, kept), a hand edit kept."""
    priya = pe.add(google_person("Priya", "Raman", "priya@acme.example",
                                 birthdays=[{"date": {"year": 1985, "month": 4, "day": 12}}]))
    ben = pe.add(google_person("Ben", "Okafor", "ben@okafor.example"))
    root = google_folder(tmp_path, pe)
    code, _, err = sync(root)
    assert (code, err) == (0, ""), err
    assert "id: priya-raman" in contacts(root) and "id: ben-okafor" in contacts(root)
    path = root / "contacts.yaml"
    path.write_text(contacts(root).replace("first: Ben", "first: Benjamin"))
    pe.change(priya, emailAddresses=[{"value": "priya@newco.example", "type": "work"}],
              birthdays=[{"date": {"year": 1985, "month": 4, "day": 21}}])
    pe.change(ben, names=[{"givenName": "Benny", "familyName": "Okafor"}])
    pe.add(google_person("Lena", "Voss", "lena@voss.example"))
    assert sync(root)[0] == 0
    text = contacts(root)
    assert "priya@newco.example" in text and "1985-04-21" in text and "id: lena-voss" in text
    assert "first: Benjamin" in text and "Benny" not in text
    pe.delete(ben)
    assert "deleted remotely ben-okafor" in sync(root)[2]
    assert "id: ben-okafor" in contacts(root)


def test_google_refused_is_one_line(tmp_path: Path, pe: PeopleEmulator) -> None:
    """A token without contacts.readonly: one line naming the scope and outreach auth gmail,
    exit 5, nothing written."""
    root = google_folder(tmp_path, pe, scopes=[COMPOSE])
    code, _, err = sync(root)
    assert code == 5 and err.count("\n") == 1
    assert "contacts.readonly" in err and "outreach auth gmail" in err
    assert contacts(root) == HEAD
