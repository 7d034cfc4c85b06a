"""The CardDAV source (outreach/sources/carddav.py) against a real Radicale server."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import radicale_server
from radicale_server import PASSWORD, USER, Radicale

from outreach.errors import EXIT_AUTH, EXIT_INVALID, EXIT_TOUCH_FAILED
from outreach.importers.vcard import parse_vcard
from outreach.secrets import SecretError
from outreach.settings import CardDavSync
from outreach.sources import carddav, carddav_http
from outreach.sources.contactsync import Pulled, SourceDown, SourceRefused

radicale = radicale_server.radicale  # the fixtures, re-exported
addressbook = radicale_server.addressbook


def card3(uid: str, first: str, last: str, *lines: str) -> str:
    body = "".join(f"{line}\r\n" for line in lines)
    return (
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nN:{last};{first};;;\r\n"
        f"FN:{first} {last}\r\n{body}END:VCARD\r\n"
    )


def card4(uid: str, first: str, last: str, *lines: str) -> str:
    return card3(uid, first, last, *lines).replace("VERSION:3.0", "VERSION:4.0")


CARDS = {
    "dana": card3(
        "dana", "Dana", "Okafor",
        "ORG:Brightline Freight",
        "TITLE:Head of Procurement",
        "EMAIL;TYPE=INTERNET,WORK:dana@brightline.example",
        "EMAIL;TYPE=INTERNET,HOME:dana.okafor@mail.example",
        "BDAY:1984-03-09",
    ),
    "zoe": card3(
        "zoe", "Zoë", "Hartley",
        "ORG:Lakeshore Logistics",
        "EMAIL;TYPE=WORK:zoe@lakeshore.example",
        "BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-12",
    ),
    "priya": card4(
        "priya", "Priya", "Raman",
        "ORG:Quantix Analytics",
        "TITLE:Head of Data",
        "EMAIL;TYPE=work:priya@quantix.example",
        "EMAIL;TYPE=home:priya.raman@mail.example",
        "BDAY:--0723",
    ),
    "tomás ruiz": card4(  # a name that the href must quote
        "tomás ruiz", "Tomás", "Ruiz",
        "EMAIL;TYPE=home:tomas@ruiz.example",
        "BDAY:19790215",
    ),
}


def expected(text: str) -> object:
    return parse_vcard(text, "expected")[0][0]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "pw").write_text(PASSWORD + "\n", encoding="utf-8")
    (tmp_path / "pw").chmod(0o600)
    (tmp_path / "bad").write_text("not-the-password\n", encoding="utf-8")
    (tmp_path / "bad").chmod(0o600)
    return tmp_path


def source(url: str, password_file: str = "pw", **kw: object) -> CardDavSync:
    return CardDavSync.model_validate(
        {"kind": "carddav", "url": url, "username": USER, "password_file": password_file, **kw}
    )


def by_id(pulled: Pulled) -> dict[str, object]:
    return {c.remote_id: c.record for c in pulled.changed}


def href(book: str, uid: str) -> str:
    """The remote id of a card put with ``uid``: the path, unquoted."""
    return urlsplit(book).path + uid + ".vcf"


def fill(server: Radicale, book: str) -> None:
    for uid, text in CARDS.items():
        server.put(book, uid, text)


def no_sync_collection(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every sync-collection REPORT answer 501 (a server without RFC 6578); the methods
    sent are listed."""
    real = carddav_http.Session.dav
    sent: list[str] = []

    def dav(self: carddav_http.Session, method: str, url: str, body: bytes, **kw: object) -> object:
        sent.append(method)
        if method == "REPORT" and b"sync-collection" in body:
            return carddav_http.Reply(501, b"Not Implemented", url)
        return real(self, method, url, body, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(carddav_http.Session, "dav", dav)
    return sent


def test_first_pull_returns_every_card_mapped_as_import_maps_them(
    radicale: Radicale, addressbook: str, root: Path
) -> None:
    """The first pull (no state) returns every card, vCard 3 and 4, each record exactly what
    parse_vcard makes of the card (names, work and home e-mail, BDAY with and without a year,
    ORG, TITLE); it is complete, and its remote ids are the cards' paths, unquoted."""
    fill(radicale, addressbook)
    pulled = carddav.pull(source(addressbook), root, None)
    assert pulled.complete and pulled.deleted == [] and pulled.notes == []
    got = by_id(pulled)
    assert got == {href(addressbook, uid): expected(text) for uid, text in CARDS.items()}
    dana = got[href(addressbook, "dana")]
    assert dana.emails == [("work", "dana@brightline.example"), ("personal", "dana.okafor@mail.example")]  # type: ignore[attr-defined]
    assert (dana.company, dana.title, dana.birthday) == ("Brightline Freight", "Head of Procurement", "1984-03-09")  # type: ignore[attr-defined]
    assert got[href(addressbook, "priya")].birthday == "--0723"  # type: ignore[attr-defined]
    assert got[href(addressbook, "tomás ruiz")].first == "Tomás"  # type: ignore[attr-defined]
    assert all(c.etag for c in pulled.changed)
    state = json.loads(pulled.state)
    assert state["url"] == addressbook and state["mode"] == "sync" and state["token"]


def test_second_pull_returns_nothing(radicale: Radicale, addressbook: str, root: Path) -> None:
    """A pull from the state of the last one returns nothing when nothing changed."""
    fill(radicale, addressbook)
    first = carddav.pull(source(addressbook), root, None)
    second = carddav.pull(source(addressbook), root, first.state)
    assert (second.changed, second.deleted, second.complete) == ([], [], False)


def _add_change_delete(server: Radicale, book: str) -> None:
    server.put(book, "noor", card4("noor", "Noor", "Haddad", "EMAIL;TYPE=work:noor@haddad.example"))
    server.put(book, "dana", CARDS["dana"].replace("dana@brightline.example", "dana@newco.example")
               .replace("BDAY:1984-03-09", "BDAY:1984-03-10"))
    server.delete(href(book, "zoe"))


def test_added_changed_deleted(radicale: Radicale, addressbook: str, root: Path) -> None:
    """A card added, one changed (a new e-mail, a new BDAY) and one deleted on the server: the
    next pull returns exactly those (2 changed, 1 deleted), and the pull after it nothing."""
    fill(radicale, addressbook)
    first = carddav.pull(source(addressbook), root, None)
    _add_change_delete(radicale, addressbook)
    pulled = carddav.pull(source(addressbook), root, first.state)
    got = by_id(pulled)
    assert sorted(got) == [href(addressbook, "dana"), href(addressbook, "noor")]
    assert got[href(addressbook, "dana")].emails[0] == ("work", "dana@newco.example")  # type: ignore[attr-defined]
    assert got[href(addressbook, "dana")].birthday == "1984-03-10"  # type: ignore[attr-defined]
    assert pulled.deleted == [href(addressbook, "zoe")]
    assert not pulled.complete
    again = carddav.pull(source(addressbook), root, pulled.state)
    assert (again.changed, again.deleted) == ([], [])


def test_discovery_from_the_server_root(
    radicale: Radicale, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the server's root URL, the pull finds the user's address book through
    /.well-known/carddav, the principal and its addressbook-home-set, remembers it in the
    state, and the next pull goes there directly."""
    radicale.add_user("sam", "pw-sam")
    book = radicale.make_addressbook("sam", "contacts")
    text = card3("kim", "Kim", "Lee", "EMAIL;TYPE=work:kim@lee.example")
    radicale.request("PUT", urlsplit(book).path + "kim.vcf", text.encode(),
                     {"Content-Type": "text/vcard"}, user="sam")
    (root / "sam").write_text("pw-sam", encoding="utf-8")
    (root / "sam").chmod(0o600)
    sam = CardDavSync.model_validate(
        {"kind": "carddav", "url": radicale.url, "username": "sam", "password_file": "sam"})
    real = carddav_http.Session.dav
    paths: list[str] = []

    def dav(self: carddav_http.Session, method: str, url: str, body: bytes, **kw: object) -> object:
        paths.append(urlsplit(url).path)
        return real(self, method, url, body, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(carddav_http.Session, "dav", dav)
    pulled = carddav.pull(sam, root, None)
    assert "/.well-known/carddav" in paths
    assert by_id(pulled) == {"/sam/contacts/kim.vcf": expected(text)}
    assert json.loads(pulled.state)["url"] == book
    paths.clear()
    carddav.pull(sam, root, pulled.state)
    assert paths == ["/sam/contacts/"]


def test_etag_fallback(
    radicale: Radicale, addressbook: str, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server without sync-collection (the REPORT answered 501): the ETags of a listing give
    the same results: every card first (complete), then 2 changed and 1 deleted, then nothing."""
    sent = no_sync_collection(monkeypatch)
    fill(radicale, addressbook)
    first = carddav.pull(source(addressbook), root, None)
    assert "PROPFIND" in sent
    assert first.complete
    assert by_id(first) == {href(addressbook, uid): expected(text) for uid, text in CARDS.items()}
    state = json.loads(first.state)
    assert state["mode"] == "etag" and len(state["etags"]) == len(CARDS)
    _add_change_delete(radicale, addressbook)
    pulled = carddav.pull(source(addressbook), root, first.state)
    assert sorted(by_id(pulled)) == [href(addressbook, "dana"), href(addressbook, "noor")]
    assert pulled.deleted == [href(addressbook, "zoe")] and not pulled.complete
    sent.clear()
    again = carddav.pull(source(addressbook), root, pulled.state)
    assert (again.changed, again.deleted) == ([], [])
    assert sent == ["PROPFIND"]  # no more sync-collection tries, no multiget


def test_wrong_password_is_refused(radicale: Radicale, addressbook: str, root: Path) -> None:
    """A wrong password: SourceRefused (exit 5), one line naming the username and the fix,
    never the password."""
    with pytest.raises(SourceRefused) as caught:
        carddav.pull(source(addressbook, password_file="bad"), root, None)
    err = caught.value
    assert err.exit_code == EXIT_AUTH
    (line,) = err.lines()
    assert "'alex'" in line and "HTTP 401" in line and "password" in line
    assert "not-the-password" not in line and "\n" not in line


def test_stopped_server_is_down_quickly(root: Path) -> None:
    """A server that is not running (a closed port): SourceDown (exit 1) in well under 5 s, one
    line naming the host."""
    port = radicale_server.free_port()
    began = time.monotonic()
    with pytest.raises(SourceDown) as caught:
        carddav.pull(source(f"http://127.0.0.1:{port}/alex/book/"), root, None)
    assert time.monotonic() - began < 5
    assert type(caught.value) is SourceDown and caught.value.exit_code == EXIT_TOUCH_FAILED
    (line,) = caught.value.lines()
    assert "127.0.0.1" in line and "connection refused" in line


def test_silent_server_ends_at_the_deadline(root: Path) -> None:
    """A server that accepts the connection and never answers: SourceDown once
    timeout_seconds (the whole pull) have passed."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        began = time.monotonic()
        with pytest.raises(SourceDown) as caught:
            carddav.pull(source(f"http://127.0.0.1:{port}/b/", timeout_seconds=1), root, None)
        assert time.monotonic() - began < 3
    assert "did not finish in 1 s" in caught.value.message


def test_invalid_sync_token_gives_a_complete_listing(
    radicale: Radicale, addressbook: str, root: Path
) -> None:
    """A sync token the server does not know (403 valid-sync-token): the pull lists every card
    again and says it is complete, with a new token that works."""
    fill(radicale, addressbook)
    state = json.loads(carddav.pull(source(addressbook), root, None).state)
    state["token"] = "http://radicale.org/ns/sync/" + "0" * 64
    pulled = carddav.pull(source(addressbook), root, json.dumps(state))
    assert pulled.complete
    assert sorted(by_id(pulled)) == sorted(href(addressbook, uid) for uid in CARDS)
    again = carddav.pull(source(addressbook), root, pulled.state)
    assert (again.changed, again.deleted, again.complete) == ([], [], False)


def test_a_thousand_cards(radicale: Radicale, root: Path) -> None:
    """1,000 cards pull in a few seconds (printed; at most 30 s)."""
    cards = [card3(f"p{i:04}", f"Person{i}", "Test", f"EMAIL;TYPE=work:p{i}@x.example")
             for i in range(1000)]
    book = radicale.put_many(USER, "thousand", cards)
    began = time.monotonic()
    pulled = carddav.pull(source(book), root, None)
    took = time.monotonic() - began
    print(f"\n1,000 cards: first pull {took:.2f} s (Radicale started in {radicale.started_in:.2f} s)")
    assert len(pulled.changed) == 1000 and pulled.complete
    assert by_id(pulled)[href(book, "p0042")] == expected(cards[42])
    assert took < 30


def test_big_card_is_skipped_with_a_note(radicale: Radicale, addressbook: str, root: Path) -> None:
    """A card over 1 MB is skipped with a note; the listing is then not complete (the skipped
    card is not gone)."""
    fill(radicale, addressbook)
    radicale.put(addressbook, "huge", card3("huge", "Huge", "Card", "NOTE:" + "x" * 1_100_000))
    pulled = carddav.pull(source(addressbook), root, None)
    assert sorted(by_id(pulled)) == sorted(href(addressbook, uid) for uid in CARDS)
    assert not pulled.complete
    assert any("huge.vcf" in n and "1 MB" in n for n in pulled.notes)


def test_http_to_another_host_is_refused_without_connecting(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """http:// to a host that is not this machine: refused (exit 2) before any connection, the
    password would cross the network in clear text."""

    def connect(*args: object, **kw: object) -> None:
        raise AssertionError("connected")

    monkeypatch.setattr(socket, "create_connection", connect)
    monkeypatch.setattr(socket.socket, "connect", connect)
    with pytest.raises(SecretError) as caught:
        carddav.pull(source("http://dav.example.com/alex/book/"), root, None)
    assert caught.value.exit_code == EXIT_INVALID
    assert "clear text" in caught.value.message and "dav.example.com" in caught.value.message


def test_doctype_is_refused(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer whose XML declares a DOCTYPE (entity expansion) is refused: SourceDown."""
    bomb = (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">]>'
            b'<multistatus xmlns="DAV:">&a;</multistatus>')

    def dav(self: carddav_http.Session, method: str, url: str, body: bytes, **kw: object) -> object:
        return carddav_http.Reply(207, bomb, url)

    monkeypatch.setattr(carddav_http.Session, "dav", dav)
    with pytest.raises(SourceDown, match="DOCTYPE"):
        carddav.pull(source("http://127.0.0.1:9/alex/book/"), root, None)
