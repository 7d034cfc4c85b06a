"""The google sync source against the People emulator, through the real google-api-python-client:
the mapping to contacts.yaml (as an import maps), sync tokens, pages, refusals, a source down,
and the contacts.readonly scope."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gmail_emulator import COMPOSE, READONLY
from people_emulator import CONTACTS_READONLY, PeopleEmulator, membership

from outreach import auth
from outreach.importers.mapping import contact_data
from outreach.model import GmailSettings
from outreach.sources import google_people
from outreach.sources.contactsync import Pulled, SourceDown, SourceRefused


@pytest.fixture
def pe() -> Iterator[PeopleEmulator]:
    with PeopleEmulator(email="alex@rivera.example") as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff waits milliseconds in these tests (the rules are the same)."""
    monkeypatch.setattr(google_people, "BACKOFF_CAP", 0.02)


def settings(tmp_path: Path, pe: PeopleEmulator, scopes: list[str] | None = None,
             **gmail: Any) -> GmailSettings:
    token = tmp_path / "token.json"
    token.write_text(json.dumps({"refresh_token": "r-1", "client_id": "c", "client_secret": "s",
                                 "scopes": [COMPOSE, CONTACTS_READONLY] if scopes is None
                                 else scopes}))
    os.chmod(token, 0o600)
    return GmailSettings(token_file=str(token), api_root=pe.root_url, token_uri=pe.token_uri,
                         **{"timeout_seconds": 2, **gmail})


def pull(tmp_path: Path, pe: PeopleEmulator, state: str | None = None, **kw: Any) -> Pulled:
    return google_people.pull(settings(tmp_path, pe, **kw), tmp_path, state)


PRIYA = {
    "names": [{"givenName": "Priya", "familyName": "Raman", "displayName": "Priya Raman",
               "metadata": {"primary": True}}],
    "nicknames": [{"value": "Pri"}],
    "emailAddresses": [{"value": "priya@acme.example", "type": "work", "formattedType": "Work"},
                       {"value": "priya@home.example", "type": "home", "formattedType": "Home"}],
    "birthdays": [{"date": {"year": 1985, "month": 4, "day": 12}}],
    "organizations": [{"name": "Acme Corp", "title": "VP Sales", "current": True}],
    "relations": [{"person": "Arun", "type": "spouse", "formattedType": "Spouse"},
                  {"person": "Maya", "type": "child", "formattedType": "Child"},
                  {"person": "Dev", "type": "child", "formattedType": "Child"}],
    "events": [{"date": {"year": 2010, "month": 6, "day": 5}, "type": "anniversary",
                "formattedType": "Anniversary"}],
    "biographies": [{"value": "Met at SaaStr.", "contentType": "TEXT_PLAIN"}],
}
BEN = {
    "names": [{"givenName": "Ben", "familyName": "Okafor", "displayName": "Ben Okafor"}],
    "emailAddresses": [{"value": "ben@mail.example", "type": "other"}],
    "birthdays": [{"date": {"month": 11, "day": 22}, "text": "Nov 22"}],
}


def data(pulled: Pulled) -> dict[str, dict[str, Any]]:
    """remote id -> contacts.yaml data, through the importers' one mapping."""
    out = {}
    for c in pulled.changed:
        mapped, problems, _ = contact_data(c.record, [])
        assert problems == [] and mapped is not None
        out[c.remote_id] = mapped
    return out


def test_the_first_pull_maps_everyone_as_an_import_would(tmp_path: Path, pe: PeopleEmulator) -> None:
    """Everyone is listed (complete); through mapping.contact_data each person is the
    contacts.yaml data an import gives: name and nickname, the work and personal address, a
    birthday with and without a year, company and title, spouse and children, the anniversary,
    the notes, and the user's labels as tags (not My Contacts)."""
    customers = pe.add_group("Key Customers")
    priya = pe.add({**PRIYA, "memberships": [membership(customers)]})
    ben = pe.add(BEN)
    first = pull(tmp_path, pe)
    assert first.complete and first.deleted == [] and first.notes == []
    assert {c.remote_id: c.etag for c in first.changed} == {
        priya: pe.person(priya)["etag"], ben: pe.person(ben)["etag"]}
    assert data(first) == {
        priya: {
            "name": {"first": "Priya", "last": "Raman", "nickname": "Pri"},
            "email": {"work": "priya@acme.example", "personal": "priya@home.example"},
            "company": "Acme Corp", "title": "VP Sales", "tags": ["key-customers"],
            "dates": {"birthday": "1985-04-12", "wedding": "2010-06-05"},
            "family": {"spouse": {"name": "Arun"}, "children": [{"name": "Maya"}, {"name": "Dev"}]},
            "notes": "Met at SaaStr.",
        },
        ben: {"name": {"first": "Ben", "last": "Okafor"}, "email": {"work": "ben@mail.example"},
              "dates": {"birthday": "--11-22"}},
    }
    assert json.loads(first.state)["v"] == 1 and json.loads(first.state)["sync_token"]
    (listing,) = [e for e in pe.request_log if e["api"] == "people.connections.list"]
    assert listing["query"]["personFields"] == [google_people.PERSON_FIELDS]
    assert listing["query"]["requestSyncToken"] == ["true"]
    assert pe.calls("contactGroups.list") == 1


def test_no_group_lookup_without_a_label(tmp_path: Path, pe: PeopleEmulator) -> None:
    """People in Google's own groups only (My Contacts): no contactGroups request, no tag."""
    pe.add(BEN)
    (contact,) = pull(tmp_path, pe).changed
    assert contact.record.tags == [] and pe.calls("contactGroups.list") == 0


def test_a_second_pull_with_the_state_finds_nothing(tmp_path: Path, pe: PeopleEmulator) -> None:
    """Nothing changed since the first pull: nothing changed, nothing deleted, not complete."""
    pe.add(PRIYA)
    pe.add(BEN)
    first = pull(tmp_path, pe)
    second = pull(tmp_path, pe, first.state)
    assert (second.changed, second.deleted, second.complete) == ([], [], False)
    assert json.loads(second.state)["sync_token"]


def test_added_changed_and_deleted_are_exactly_those(tmp_path: Path, pe: PeopleEmulator) -> None:
    """One added, one with a new address and a new birthday, one deleted: the incremental pull
    gives the first two (the change mapped anew) and the third as deleted, nobody else."""
    priya, ben, kim = pe.add(PRIYA), pe.add(BEN), pe.add({"names": [{"givenName": "Kim"}]})
    state = pull(tmp_path, pe).state
    lee = pe.add({"names": [{"givenName": "Lee", "familyName": "Wong"}],
                  "emailAddresses": [{"value": "lee@x.example", "type": "home"}]})
    pe.change(ben, emailAddresses=[{"value": "ben@new.example", "type": "work"}],
              birthdays=[{"date": {"year": 1990, "month": 1, "day": 2}}])
    pe.delete(kim)
    third = pull(tmp_path, pe, state)
    assert not third.complete and third.deleted == [kim]
    got = data(third)
    assert set(got) == {ben, lee} and priya not in got
    assert got[ben]["email"] == {"work": "ben@new.example"}
    assert got[ben]["dates"] == {"birthday": "1990-01-02"}
    assert got[lee]["email"] == {"personal": "lee@x.example"}
    assert pull(tmp_path, pe, third.state).changed == []


@pytest.mark.parametrize("status", [400, 410])
def test_an_expired_sync_token_means_a_complete_listing(
    tmp_path: Path, pe: PeopleEmulator, status: int
) -> None:
    """Google's EXPIRED_SYNC_TOKEN (a 400 FAILED_PRECONDITION now, a 410 before): everyone is
    listed again, complete, with a note; no error."""
    pe.expired_status = status
    pe.add(PRIYA)
    state = pull(tmp_path, pe).state
    pe.add(BEN)
    pe.expire_sync_tokens()
    again = pull(tmp_path, pe, state)
    assert again.complete and len(again.changed) == 2 and again.deleted == []
    assert any("expired" in n for n in again.notes)
    assert pull(tmp_path, pe, again.state).changed == []


def test_an_unreadable_state_means_a_complete_listing(tmp_path: Path, pe: PeopleEmulator) -> None:
    """A state that is no JSON (or no token) is read as none: a complete listing, with a note."""
    pe.add(BEN)
    pulled = pull(tmp_path, pe, "garbage")
    assert pulled.complete and len(pulled.changed) == 1 and pulled.notes


def test_a_thousand_people_across_pages_in_seconds(
    tmp_path: Path, pe: PeopleEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,000 people in pages of 250 (Google's pages hold 1,000: four pages here), then an
    incremental pull over the same pages' parameters: all in a few seconds."""
    monkeypatch.setattr(google_people, "PAGE_SIZE", 250)
    names = [pe.add({"names": [{"givenName": f"P{i:04d}", "familyName": "Doe"}],
                     "emailAddresses": [{"value": f"p{i}@x.example", "type": "work"}]})
             for i in range(1000)]
    started = time.monotonic()
    first = pull(tmp_path, pe)
    took = time.monotonic() - started
    assert [c.remote_id for c in first.changed] == names and first.complete
    assert pe.calls("people.connections.list") == 4
    pe.change(names[500], nicknames=[{"value": "Five"}])
    second = pull(tmp_path, pe, first.state)
    assert [c.remote_id for c in second.changed] == [names[500]]
    print(f"1,000 people in 4 pages: {took:.2f} s")
    assert took < 5


def test_a_500_once_is_retried(tmp_path: Path, pe: PeopleEmulator) -> None:
    """A 500 answered once: the pull retries and succeeds."""
    pe.add(BEN)
    pe.fail_next(500, method="people.connections.list")
    assert len(pull(tmp_path, pe).changed) == 1
    assert pe.faults_injected == [("people.connections.list", "500")]


def test_a_revoked_token_is_refused_with_exit_5(tmp_path: Path, pe: PeopleEmulator) -> None:
    """invalid_grant at the token endpoint: SourceRefused (exit 5), one line naming
    `outreach auth gmail`."""
    pe.revoke()
    with pytest.raises(SourceRefused) as caught:
        pull(tmp_path, pe)
    assert caught.value.exit_code == 5
    (line,) = caught.value.lines()
    assert "invalid_grant" in line and "outreach auth gmail" in line


def test_401_after_a_refresh_is_refused_with_exit_5(tmp_path: Path, pe: PeopleEmulator) -> None:
    """The People API answers 401 even to a freshly refreshed token: SourceRefused, exit 5,
    one line."""
    pe.fail_next(401, method="people.connections.list", times=10)
    with pytest.raises(SourceRefused) as caught:
        pull(tmp_path, pe)
    assert caught.value.exit_code == 5
    (line,) = caught.value.lines()
    assert "401" in line and "outreach auth gmail" in line


@pytest.mark.parametrize("mode", ["refused", "silent"])
def test_a_source_down_is_source_down_fast(tmp_path: Path, pe: PeopleEmulator, mode: str) -> None:
    """Nothing listens (or nothing answers, with a 1 s timeout): SourceDown (exit 1), one line,
    in a few seconds."""
    pe.add(BEN)
    gmail = settings(tmp_path, pe, timeout_seconds=1)
    pe.go_down(mode)
    started = time.monotonic()
    with pytest.raises(SourceDown) as caught:
        google_people.pull(gmail, tmp_path, None)
    took = time.monotonic() - started
    pe.come_back()
    assert type(caught.value) is SourceDown and caught.value.exit_code == 1
    (line,) = caught.value.lines()
    assert "cannot reach" in line
    print(f"{mode}: SourceDown in {took:.2f} s")
    assert took < (1 if mode == "refused" else 15)


def test_a_token_without_the_contacts_scope_is_refused(tmp_path: Path, pe: PeopleEmulator) -> None:
    """A token file whose grant lacks contacts.readonly: SourceRefused naming the scope and
    `outreach auth gmail`, before any request."""
    with pytest.raises(SourceRefused) as caught:
        pull(tmp_path, pe, scopes=[COMPOSE])
    (line,) = caught.value.lines()
    assert CONTACTS_READONLY in line and "outreach auth gmail" in line
    assert pe.requests == []


def test_google_refusing_the_scope_is_refused(tmp_path: Path, pe: PeopleEmulator) -> None:
    """The token file lists no scopes (not checked locally) and Google's grant lacks
    contacts.readonly: the refresh asking for it gets invalid_scope, and SourceRefused names the
    scope and `outreach auth gmail`."""
    pe.scopes = {COMPOSE}
    with pytest.raises(SourceRefused) as caught:
        pull(tmp_path, pe, scopes=[])
    (line,) = caught.value.lines()
    assert CONTACTS_READONLY in line and "outreach auth gmail" in line


def test_a_403_for_the_scope_is_refused(tmp_path: Path, pe: PeopleEmulator) -> None:
    """The People API answers 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT: SourceRefused (exit 5)
    naming the scope and `outreach auth gmail`, not retried."""
    pe.fail_next(403, "ACCESS_TOKEN_SCOPE_INSUFFICIENT", method="people.connections.list")
    with pytest.raises(SourceRefused) as caught:
        pull(tmp_path, pe)
    (line,) = caught.value.lines()
    assert CONTACTS_READONLY in line and "outreach auth gmail" in line
    assert caught.value.exit_code == 5 and pe.calls("people.connections.list") == 1


def test_scopes_add_contacts_only_when_asked(tmp_path: Path, pe: PeopleEmulator) -> None:
    """auth.scopes: contacts.readonly only with contacts=True (a google source); the rest as
    before; the Gmail store's check is unchanged (a token without it still loads)."""
    plain = settings(tmp_path, pe, scopes=[COMPOSE])
    assert auth.scopes(plain) == [COMPOSE]
    assert auth.scopes(plain, contacts=True) == [COMPOSE, CONTACTS_READONLY]
    assert auth.scopes(plain, watch=True, contacts=True) == [COMPOSE, READONLY, CONTACTS_READONLY]
    assert auth.load_credentials(plain, tmp_path) is not None
    full = settings(tmp_path, pe, scopes=[COMPOSE, "https://www.googleapis.com/auth/contacts"])
    assert auth.load_credentials(full, tmp_path, contacts=True) is not None


@pytest.mark.parametrize(("sync", "wanted"), [
    ([], [COMPOSE]),
    ([{"kind": "carddav", "url": "https://dav.example/ab/"}], [COMPOSE]),
    ([{"kind": "google"}], [COMPOSE, CONTACTS_READONLY]),
])
def test_auth_gmail_asks_for_contacts_only_with_a_google_source(
    tmp_path: Path, pe: PeopleEmulator, monkeypatch: pytest.MonkeyPatch,
    sync: list[dict[str, Any]], wanted: list[str]
) -> None:
    """`outreach auth gmail` asks for contacts.readonly when sync has a google source, never
    else."""
    from click.testing import CliRunner
    from factories import campaign_data, write_folder
    from factories import contact_data as a_contact
    from google_auth_oauthlib.flow import InstalledAppFlow

    from outreach.cli import main

    asked: list[list[str]] = []

    def flow(path: str, scopes: list[str]) -> Any:
        asked.append(list(scopes))
        raise SystemExit(0)  # no consent in a test: the scopes asked for are the point

    monkeypatch.setattr(InstalledAppFlow, "from_client_secrets_file", staticmethod(flow))
    root = write_folder(tmp_path / "book", [a_contact()], [campaign_data()],
                        gmail={"api_root": pe.root_url}, sync=sync)
    (root / "client_secret.json").write_text(json.dumps({"installed": {
        "client_id": "c", "client_secret": "s", "auth_uri": pe.root_url + "auth",
        "token_uri": pe.token_uri, "redirect_uris": ["http://localhost"]}}))
    result = CliRunner().invoke(main, ["-C", str(root), "auth", "gmail", "--no-browser"])
    assert asked == [wanted], result.output


def test_what_the_refusals_say(tmp_path: Path, pe: PeopleEmulator, capsys: Any) -> None:
    """The one line of each refusal, shown (-s) for the README and reports."""
    for arrange, scopes in ((pe.revoke, None), (lambda: None, [COMPOSE])):
        arrange()
        with pytest.raises(SourceDown) as caught:
            pull(tmp_path, pe, scopes=scopes)
        print(caught.value.lines()[0])
    pe.reauthorize()
    pe.go_down()
    with pytest.raises(SourceDown) as caught:
        pull(tmp_path, pe)
    print(caught.value.lines()[0])
