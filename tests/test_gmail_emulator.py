"""The Gmail emulator, driven only through the real google-api-python-client (built offline)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import google.auth.exceptions
import googleapiclient.http
import httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload

from tests.gmail_emulator import METADATA, READONLY, GmailEmulator, build_service


@pytest.fixture
def gm() -> Iterator[GmailEmulator]:
    with GmailEmulator() as emulator:
        yield emulator


@pytest.fixture
def gmail(gm: GmailEmulator) -> Any:
    return build_service(gm)


def mime(n: int | str, *, subject: str = "Hello", to: str = "ann@example.com") -> bytes:
    msg = EmailMessage()
    msg["From"] = "me@example.com"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<nightly-{n}@outreach.test>"
    msg.set_content(f"Hi, note number {n}.\n")
    return msg.as_bytes()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def create(gmail: Any, raw: bytes, thread_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"raw": b64(raw)}
    if thread_id:
        message["threadId"] = thread_id
    result: dict[str, Any] = (
        gmail.users().drafts().create(userId="me", body={"message": message}).execute()
    )
    return result


def find(gmail: Any, message_id: str) -> list[str]:
    listing = gmail.users().drafts().list(userId="me", q=f"rfc822msgid:{message_id}").execute()
    return [d["id"] for d in listing.get("drafts", [])]


def error_reason(exc: HttpError) -> str:
    return str(json.loads(exc.content)["error"]["errors"][0]["reason"])


def authed(gm: GmailEmulator) -> Credentials:
    gm.require_auth = True
    return Credentials(  # type: ignore[no-untyped-call]
        token=None, refresh_token="r", client_id="c", client_secret="s", token_uri=gm.token_uri
    )


def test_json_create_then_get_raw_round_trips(gm: GmailEmulator, gmail: Any) -> None:
    """drafts.create with a base64url `raw` body stores the exact bytes; format=raw gives them back."""
    raw = mime(1)
    draft = create(gmail, raw)
    assert draft["id"] == "r0001"
    assert draft["message"]["labelIds"] == ["DRAFT"]
    assert gm.drafts["r0001"]["message"]["raw"] == raw
    got = gmail.users().drafts().get(userId="me", id=draft["id"], format="raw").execute()
    assert base64.urlsafe_b64decode(got["message"]["raw"]) == raw
    meta = gmail.users().drafts().get(userId="me", id=draft["id"], format="metadata").execute()
    headers = {h["name"]: h["value"] for h in meta["message"]["payload"]["headers"]}
    assert headers["Message-ID"] == "<nightly-1@outreach.test>"
    full = gmail.users().drafts().get(userId="me", id=draft["id"]).execute()
    body = base64.urlsafe_b64decode(full["message"]["payload"]["body"]["data"])
    assert body == b"Hi, note number 1.\n"
    assert ("POST", "/gmail/v1/users/me/drafts") in gm.requests
    assert all(e["query"].get("alt") == ["json"] for e in gm.request_log)


def test_media_upload_creates_with_and_without_metadata(gm: GmailEmulator, gmail: Any) -> None:
    """media_body uploads: uploadType=media without a body, multipart/related with a threadId body."""
    first = (
        gmail.users()
        .drafts()
        .create(userId="me", media_body=MediaInMemoryUpload(mime(1), mimetype="message/rfc822"))
        .execute()
    )
    second = (
        gmail.users()
        .drafts()
        .create(
            userId="me",
            body={"message": {"threadId": first["message"]["threadId"]}},
            media_body=MediaInMemoryUpload(mime(2), mimetype="message/rfc822"),
        )
        .execute()
    )
    assert second["message"]["threadId"] == first["message"]["threadId"]
    assert gm.drafts[first["id"]]["message"]["raw"] == mime(1)
    assert gm.drafts[second["id"]]["message"]["raw"] == mime(2)
    uploads = [e for e in gm.request_log if e["path"].startswith("/upload/")]
    assert [e["query"]["uploadType"] for e in uploads] == [["media"], ["multipart"]]
    assert uploads[1]["content_type"].startswith("multipart/related")
    with pytest.raises(HttpError) as err:
        gmail.users().drafts().create(
            userId="me",
            body={"message": {"threadId": "t9999"}},
            media_body=MediaInMemoryUpload(mime(3), mimetype="message/rfc822"),
        ).execute()
    assert err.value.resp.status == 404


def test_list_by_rfc822msgid_and_pagination(gm: GmailEmulator, gmail: Any) -> None:
    """rfc822msgid: matches with or without angle brackets, any case; empty lists have no "drafts"."""
    for n in range(5):
        create(gmail, mime(n))
    assert find(gmail, "<nightly-3@outreach.test>") == ["r0004"]
    assert find(gmail, "NIGHTLY-3@outreach.test") == ["r0004"]
    empty = gmail.users().drafts().list(userId="me", q="rfc822msgid:<nope@x>").execute()
    assert empty == {"resultSizeEstimate": 0}
    seen: list[str] = []
    request = gmail.users().drafts().list(userId="me", maxResults=2)
    while request is not None:
        page = request.execute()
        seen += [d["id"] for d in page["drafts"]]
        request = gmail.users().drafts().list_next(request, page)
    assert sorted(seen) == [f"r000{n}" for n in range(1, 6)]
    assert gm.drafts_by_message_id() == {
        f"<nightly-{n}@outreach.test>": [f"r000{n + 1}"] for n in range(5)
    }


def test_delete_and_missing_draft(gm: GmailEmulator, gmail: Any) -> None:
    """drafts.delete answers 204 (an empty dict from the client); a missing draft is 404."""
    draft = create(gmail, mime(1))
    assert gmail.users().drafts().delete(userId="me", id=draft["id"]).execute() == ""
    assert gm.drafts == {}
    with pytest.raises(HttpError) as err:
        gmail.users().drafts().get(userId="me", id=draft["id"]).execute()
    assert err.value.resp.status == 404
    assert error_reason(err.value) == "notFound"
    assert gm.threads == {}


def test_thread_after_send_and_reply(gm: GmailEmulator, gmail: Any) -> None:
    """threads.get shows the sent message, the inbound reply and a follow-up draft, oldest first."""
    draft = create(gmail, mime(1))
    thread_id = draft["message"]["threadId"]
    sent_id = gm.send_draft(draft["id"])
    reply_id = gm.reply(thread_id, "Ann <ann@example.com>")
    follow_up = create(gmail, mime(2, subject="Re: Hello"), thread_id=thread_id)
    thread = (
        gmail.users()
        .threads()
        .get(
            userId="me",
            id=thread_id,
            format="metadata",
            metadataHeaders=["From", "Message-ID", "In-Reply-To"],
        )
        .execute()
    )
    messages = thread["messages"]
    assert [m["id"] for m in messages] == [sent_id, reply_id, follow_up["message"]["id"]]
    assert [m["labelIds"] for m in messages] == [["SENT"], ["INBOX", "UNREAD"], ["DRAFT"]]
    assert all(m["internalDate"].isdigit() for m in messages)
    reply_headers = {h["name"]: h["value"] for h in messages[1]["payload"]["headers"]}
    assert set(reply_headers) == {"From", "Message-ID", "In-Reply-To"}
    assert reply_headers["In-Reply-To"] == "<nightly-1@outreach.test>"
    assert reply_headers["From"] == "Ann <ann@example.com>"
    assert find(gmail, "<nightly-1@outreach.test>") == []
    found = (
        gmail.users()
        .messages()
        .list(userId="me", q="rfc822msgid:<nightly-1@outreach.test>")
        .execute()
    )
    assert found["messages"] == [{"id": sent_id, "threadId": thread_id}]
    with pytest.raises(HttpError) as err:
        gmail.users().threads().get(userId="me", id="t9999").execute()
    assert err.value.resp.status == 404


def test_batch_of_50_creates(gm: GmailEmulator, gmail: Any) -> None:
    """A batch of 50 JSON creates: one POST /batch, 50 callbacks, 50 drafts, 500 quota units."""
    results: dict[str, Any] = {}

    def callback(request_id: str, response: Any, exception: Exception | None) -> None:
        results[request_id] = exception or response

    batch = gmail.new_batch_http_request(callback=callback)
    for n in range(50):
        body = {"message": {"raw": b64(mime(n))}}
        batch.add(gmail.users().drafts().create(userId="me", body=body), request_id=f"c{n}")
    batch.execute()
    assert len(results) == 50
    assert all(
        isinstance(r, dict) and r["message"]["labelIds"] == ["DRAFT"] for r in results.values()
    )
    by_id = gm.drafts_by_message_id()
    assert all(by_id[f"<nightly-{n}@outreach.test>"] == [results[f"c{n}"]["id"]] for n in range(50))
    assert gm.requests.count(("POST", "/batch")) == 1
    assert gm.units_used == 500


def test_batch_over_100_is_refused(gm: GmailEmulator, gmail: Any) -> None:
    """101 calls in one batch: 400 for the whole batch, nothing created, no callback runs."""
    called: list[str] = []
    batch = gmail.new_batch_http_request(callback=lambda rid, resp, exc: called.append(rid))
    for n in range(101):
        batch.add(
            gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(mime(n))}})
        )
    with pytest.raises(HttpError) as err:
        batch.execute()
    assert err.value.resp.status == 400
    assert called == []
    assert gm.drafts == {}


def test_batch_parts_fail_independently(gm: GmailEmulator, gmail: Any) -> None:
    """Faults hit single parts (not retried by the library); the concurrency cap 429s the excess."""
    gm.faults(rate=0.5, kinds=("500", "429"), seed=7, methods=["drafts.create"])
    gm.max_concurrent = 8
    errors: dict[str, int] = {}

    def callback(request_id: str, response: Any, exception: HttpError | None) -> None:
        if exception is not None:
            errors[request_id] = exception.resp.status

    batch = gmail.new_batch_http_request(callback=callback)
    for n in range(10):
        batch.add(
            gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(mime(n))}})
        )
    batch.execute()
    assert errors["9"] == errors["10"] == 429  # parts 9 and 10 exceed 8 concurrent
    assert set(errors.values()) <= {429, 500}
    assert len(gm.drafts) == 10 - len(errors)
    assert len([f for f in gm.faults_injected if f[0] == "drafts.create"]) == len(errors) - 2


def test_execute_retries_429_then_403_rate(
    gm: GmailEmulator, gmail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """execute(num_retries=3) sleeps and retries a 429 and a 403 userRateLimitExceeded."""
    sleeps: list[float] = []
    monkeypatch.setattr(googleapiclient.http.time, "sleep", sleeps.append)
    gm.fail_next(429)
    gm.fail_next(403, "userRateLimitExceeded")
    request = gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(mime(1))}})
    draft = request.execute(num_retries=3)
    assert draft["id"] == "r0001"
    assert len(sleeps) == 2
    assert gm.requests.count(("POST", "/gmail/v1/users/me/drafts")) == 3
    assert gm.faults_injected == [("drafts.create", "429"), ("drafts.create", "403")]


def test_insufficient_permissions_raised_at_once(
    gm: GmailEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With only gmail.compose, threads.get is a 403 insufficientPermissions: no retry, no sleep."""
    monkeypatch.setattr(googleapiclient.http.time, "sleep", pytest.fail)
    gmail = build_service(gm, authed(gm))
    draft = create(gmail, mime(1))
    with pytest.raises(HttpError) as err:
        gmail.users().threads().get(userId="me", id=draft["message"]["threadId"]).execute(
            num_retries=3
        )
    assert err.value.resp.status == 403
    assert error_reason(err.value) == "insufficientPermissions"
    assert (
        gm.requests.count(("GET", f"/gmail/v1/users/me/threads/{draft['message']['threadId']}"))
        == 1
    )
    gm.scopes = {METADATA}
    gm.expire_tokens()
    with pytest.raises(HttpError) as err:
        gmail.users().messages().list(userId="me", q="rfc822msgid:<x@y>").execute()
    assert "Metadata scope" in str(err.value)


def test_token_refresh_and_401_recovery(gm: GmailEmulator) -> None:
    """Credentials without a token refresh at gm.token_uri; after expiry a 401 triggers a new one."""
    gm.scopes.add(READONLY)
    credentials = authed(gm)
    gmail = build_service(gm, credentials)
    draft = create(gmail, mime(1))
    assert credentials.token == "ya29.1"
    gm.expire_tokens()
    thread = gmail.users().threads().get(userId="me", id=draft["message"]["threadId"]).execute()
    assert thread["messages"][0]["labelIds"] == ["DRAFT"]
    assert credentials.token == "ya29.2"
    assert gm.tokens_issued == 2
    unauthenticated = build_service(gm)
    with pytest.raises(HttpError) as err:
        unauthenticated.users().drafts().list(userId="me").execute()
    assert err.value.resp.status == 401
    assert error_reason(err.value) == "authError"


def test_revoked_refresh_token_raises_refresh_error(gm: GmailEmulator) -> None:
    """After gm.revoke() the token endpoint answers invalid_grant and google-auth raises RefreshError."""
    gm.revoke()
    gmail = build_service(gm, authed(gm))
    with pytest.raises(google.auth.exceptions.RefreshError, match="invalid_grant"):
        create(gmail, mime(1))
    assert gm.drafts == {}


def test_lost_reply_leaves_a_draft_that_rfc822msgid_finds(gm: GmailEmulator, gmail: Any) -> None:
    """A reset after the create: the client gets a connection error, yet the draft exists once."""
    gm.fail_next("lost", method="drafts.create")
    with pytest.raises(ConnectionError):
        create(gmail, mime(1))
    assert find(gmail, "<nightly-1@outreach.test>") == ["r0001"]
    gm.lost_rate = 1.0
    with pytest.raises(ConnectionError):
        create(gmail, mime(2))
    assert gm.drafts_by_message_id()["<nightly-2@outreach.test>"] == ["r0002"]


def test_closed_connection_is_resent_by_httplib2(gm: GmailEmulator, gmail: Any) -> None:
    """A clean close without a reply makes httplib2 re-send the POST itself: two drafts, no error."""
    gm.fail_next("closed", method="drafts.create")
    draft = create(gmail, mime(1))
    assert draft["id"] == "r0002"
    assert gm.drafts_by_message_id() == {"<nightly-1@outreach.test>": ["r0001", "r0002"]}


def test_slow_reply_times_out_after_the_work_is_done(gm: GmailEmulator) -> None:
    """A slow answer outlasts the client's timeout: the caller sees a timeout, the draft exists."""
    gm.slow_seconds = 1.0
    gmail = build_service(gm, timeout=0.3)
    gm.fail_next("slow")
    with pytest.raises(TimeoutError):
        create(gmail, mime(1))
    assert find(gmail, "<nightly-1@outreach.test>") == ["r0001"]


def test_quota_per_minute(gm: GmailEmulator, gmail: Any) -> None:
    """Units per rolling minute: 25 allow two creates (10 each), the third gets 429 until time passes."""
    now = [1000.0]
    gm.clock = lambda: now[0]
    gm.quota_per_minute = 25
    create(gmail, mime(1))
    create(gmail, mime(2))
    with pytest.raises(HttpError) as err:
        create(gmail, mime(3))
    assert err.value.resp.status == 429
    assert error_reason(err.value) == "rateLimitExceeded"
    assert gm.units_used == 20
    assert (gm.quota_429, gm.sent_429) == (1, 1)
    now[0] += 61
    assert create(gmail, mime(3))["id"] == "r0003"


def test_the_quota_window_slides(gmail: Any) -> None:
    """60 units per 2 s: six creates at t=0 and t=1 (three each) fill it; at t=2 the three of
    t=0 have left the window and three more fit, not six (a sliding window, not a reset)."""
    now = [1000.0]
    with GmailEmulator(quota_per_minute=60, quota_window=2.0) as gm:
        gm.clock = lambda: now[0]
        service = build_service(gm)
        for n in range(3):
            create(service, mime(n))
        now[0] += 1
        for n in range(3, 6):
            create(service, mime(n))
        with pytest.raises(HttpError):
            create(service, mime(6))
        now[0] += 1
        for n in range(6, 9):
            create(service, mime(n))
        with pytest.raises(HttpError) as err:
            create(service, mime(9))
        assert err.value.resp.status == 429
        assert (gm.quota_429, gm.sent_429, gm.units_used) == (2, 2, 90)


def test_each_batch_part_is_charged_and_counted(gm: GmailEmulator, gmail: Any) -> None:
    """A batch of 10 creates against 50 units left: five are made, five get 429 (each counted);
    an injected 429 on the outer batch counts too, but not as the quota's."""
    gm.quota_per_minute = 50
    errors: list[int] = []

    def callback(request_id: str, response: Any, exception: Exception | None) -> None:
        if isinstance(exception, HttpError):
            errors.append(exception.resp.status)

    batch = gmail.new_batch_http_request(callback=callback)
    for n in range(10):
        batch.add(gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(mime(n))}}))
    batch.execute()
    assert errors == [429] * 5
    assert (gm.quota_429, gm.sent_429, len(gm.drafts)) == (5, 5, 5)
    gm.fail_next(429, "rateLimitExceeded", method="batch")
    batch = gmail.new_batch_http_request(callback=callback)
    batch.add(gmail.users().drafts().list(userId="me"))
    with pytest.raises(HttpError):
        batch.execute()
    assert (gm.quota_429, gm.sent_429) == (5, 6)


def test_unknown_path_is_a_json_404(gm: GmailEmulator) -> None:
    """Paths the emulator does not know answer 404 in Google's JSON error shape."""
    resp, content = httplib2.Http(timeout=5).request(gm.root_url + "gmail/v1/users/me/labels")
    assert resp.status == 404
    assert resp["content-type"] == "application/json; charset=UTF-8"
    assert json.loads(content)["error"]["code"] == 404
