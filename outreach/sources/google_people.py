"""The ``google`` sync source: Google Contacts through the People API (``people.connections.list``
with a sync token), as the importers' :class:`~outreach.importers.records.Record`.

* The client is google-api-python-client built offline from the discovery document it ships
  (``people.v1.json``) with ``rootUrl`` set to ``gmail.api_root``, as the Gmail store does: a
  Workspace proxy or the tests' emulator stands in for both. Google's libraries are imported
  only when a pull runs.
* It reads with Gmail's token and OAuth client (``gmail.token_file``); the grant must hold
  contacts.readonly (``outreach auth gmail`` asks for it when a google source is configured).
* Every request, token refreshes included, goes through the Gmail store's guarded transport
  (:mod:`outreach.drafts.gmail_http`): connecting waits at most 10 s, and three requests in a
  row without any HTTP answer (two when they took 20 s) end the pull with :class:`SourceDown`.
  429 and 5xx are retried ``gmail.max_retries`` times with backoff.
* The state is ``{"v": 1, "sync_token": "..."}``. The first pull (no state) lists everyone
  (``complete``); later pulls get only the people changed since, the deleted ones marked
  ``metadata.deleted``. A sync token Google no longer takes (7 days after the full listing:
  ``EXPIRED_SYNC_TOKEN``, a 400 now, a 410 before) means a full listing again, not an error.
* Labels (contact groups) become tags: the user's own, named with one ``contactGroups.list``
  when someone belongs to one; Google's system groups (My Contacts, Starred...) give none.
"""

from __future__ import annotations

import functools
import json
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from outreach.errors import AuthError, MailboxUnreachable
from outreach.importers.records import WEDDING_LABELS, Record, as_tag, email_kind, plain_label
from outreach.model import GmailSettings
from outreach.sources.contactsync import Pulled, RemoteContact, SourceDown, SourceRefused

PERSON_FIELDS = (
    "names,nicknames,emailAddresses,birthdays,organizations,relations,events,memberships,"
    "biographies,metadata"
)
PAGE_SIZE = 1000  # the most connections.list gives in one page
MAX_PEOPLE = 50_000  # Google keeps 25,000 contacts an account at most: more is not an address book
MAX_GROUPS = 1000  # contact groups read to name labels (one page)
BACKOFF_CAP = 16.0  # seconds between two tries at most
STATE_VERSION = 1
SCOPE_CONTACTS = "https://www.googleapis.com/auth/contacts.readonly"
AUTH_HINT = "run 'outreach auth gmail' (the google source reads with Gmail's token)"
SCOPE_HINT = "run 'outreach auth gmail' again to grant it (it asks for it with a google source)"
_EMAIL_KIND = {"work": "work", "home": "personal", "other": ""}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
#: Google's own contact groups (``contactGroups/<id>``): no tag; the user's have hex ids
SYSTEM_GROUPS = {"myContacts", "starred", "friends", "family", "coworkers", "chatBuddies", "all"}
SYSTEM_GROUPS |= {"blocked"}


class _Expired(Exception):
    """The sync token is no longer accepted: list everyone again."""


def pull(gmail: GmailSettings, root: Path, state: str | None) -> Pulled:
    """The people changed since ``state`` (everyone when it is None, unreadable or expired), the
    ones deleted since, and the state the next pull starts from."""
    notes: list[str] = []
    token = _sync_token(state)
    if state is not None and token is None:
        notes.append("the google source's state was unreadable: every contact read again")
    people = _People(gmail, root)
    try:
        persons, next_token = people.connections(token)
    except _Expired:
        notes.append("Google's sync token had expired (7 days): every contact read again")
        token = None
        persons, next_token = people.connections(None)
    changed: list[RemoteContact] = []
    deleted: list[str] = []
    groups: dict[str, str] | None = None
    for person in persons:
        name = str(person.get("resourceName") or "")
        if not name:
            continue
        if (person.get("metadata") or {}).get("deleted"):
            deleted.append(name)
            continue
        if groups is None and _user_groups(person):
            groups = people.group_names()
        record = person_record(person, groups or {})
        changed.append(RemoteContact(name, _etag(person), record))
    new_state = json.dumps({"v": STATE_VERSION, "sync_token": next_token})
    if not next_token:
        notes.append("Google gave no sync token: the next pull reads every contact again")
    return Pulled(changed, deleted, new_state, complete=token is None, notes=notes)


def _sync_token(state: str | None) -> str | None:
    if not state:
        return None
    try:
        data = json.loads(state)
    except ValueError:
        return None
    token = data.get("sync_token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None


def _etag(person: dict[str, Any]) -> str | None:
    etag = person.get("etag")
    return str(etag) if etag else None


# --------------------------------------------------------------------------- Person -> Record


def _first(items: Any) -> dict[str, Any]:
    """The primary entry of a Person field (Google marks it in ``metadata.primary``), else the
    first; {} when there is none."""
    entries = [e for e in items or () if isinstance(e, dict)]
    primary = [e for e in entries if (e.get("metadata") or {}).get("primary")]
    return (primary or entries or [{}])[0]


def _date(entry: dict[str, Any]) -> str:
    """A People ``Date`` (year optional, month and day) as the vCard and CSV readers give it:
    ``YYYY-MM-DD`` or ``--MM-DD``; a birthday's free ``text`` when it has no date."""
    date = entry.get("date") or {}
    month, day, year = date.get("month"), date.get("day"), date.get("year")
    if isinstance(month, int) and isinstance(day, int) and month and day:
        if isinstance(year, int) and year:
            return f"{year:04d}-{month:02d}-{day:02d}"
        return f"--{month:02d}-{day:02d}"
    return str(entry.get("text") or "")


def _words(value: Any) -> str:
    """``domesticPartner`` -> ``domestic partner``."""
    return plain_label(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(value or "")))


def _user_groups(person: dict[str, Any]) -> list[str]:
    names = []
    for m in person.get("memberships") or ():
        name = str(((m or {}).get("contactGroupMembership") or {}).get("contactGroupResourceName"))
        if name.startswith("contactGroups/") and name.split("/", 1)[1] not in SYSTEM_GROUPS:
            names.append(name)
    return names


def person_record(person: dict[str, Any], groups: dict[str, str]) -> Record:
    """One Person as the importers' Record (``groups``: a user group's resource name -> name)."""
    rec = Record(str(person.get("resourceName") or "person"))
    name = _first(person.get("names"))
    rec.first = str(name.get("givenName") or "")
    rec.last = str(name.get("familyName") or "")
    rec.full = str(name.get("displayName") or name.get("unstructuredName") or "")
    reading = f"{name.get('phoneticGivenName') or ''} {name.get('phoneticFamilyName') or ''}"
    rec.reading = reading.strip() or str(name.get("phoneticFullName") or "")
    rec.nickname = str(_first(person.get("nicknames")).get("value") or "")
    for entry in person.get("emailAddresses") or ():
        address = str((entry or {}).get("value") or "").strip()
        if address:
            kind = str(entry.get("type") or "")
            which = _EMAIL_KIND.get(kind.casefold()) if kind else ""
            rec.emails.append((which if which is not None else email_kind([kind]), address))
    dated = [b for b in person.get("birthdays") or () if isinstance(b, dict) and _date(b)]
    rec.birthday = _date(_first(dated)) if dated else ""
    org = _first([o for o in person.get("organizations") or () if (o or {}).get("current", True)])
    org = org or _first(person.get("organizations"))
    rec.company, rec.title = str(org.get("name") or ""), str(org.get("title") or "")
    for relation in person.get("relations") or ():
        labels = {_words((relation or {}).get("type")), _words(relation.get("formattedType"))}
        who = str(relation.get("person") or "").strip()
        if who:
            rec.relate(labels - {""}, [who])
    for event in person.get("events") or ():
        labels = {_words((event or {}).get("type")), _words(event.get("formattedType"))}
        if labels & WEDDING_LABELS and not rec.wedding:
            rec.wedding = _date(event)
    for group in _user_groups(person):
        tag = as_tag(groups[group]) if group in groups else None
        if tag and tag not in rec.tags:
            rec.tags.append(tag)
    rec.notes = [str(b.get("value") or "") for b in person.get("biographies") or () if b]
    return rec


# --------------------------------------------------------------------------- the API


def _reason(exc: Any) -> tuple[str, str]:
    """(reason, message) of a Google error reply: the ErrorInfo reason of the newer APIs, else
    the old ``errors[0].reason``, else the status name."""
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
    except (ValueError, AttributeError, KeyError, TypeError):
        return "", str(exc)[:200]
    message = str(error.get("message") or "")[:200] if isinstance(error, dict) else ""
    if not isinstance(error, dict):
        return "", message
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and detail.get("reason"):
            return str(detail["reason"]), message
    errors = error.get("errors") or [{}]
    return str(errors[0].get("reason") or error.get("status") or ""), message


class _People:
    """The People service with its guarded transport and refreshed credentials."""

    def __init__(
        self,
        gmail: GmailSettings,
        root: Path,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        import google_auth_httplib2

        from outreach import auth
        from outreach.drafts.gmail_http import Breaker, guarded_http_class

        self.settings, self.sleep, self.rng = gmail, sleep, rng or random.Random()
        try:
            self.credentials = auth.load_credentials(gmail, root, contacts=True)
        except AuthError as exc:
            raise SourceRefused(f"google source: {exc.message}", exc.hint) from None
        self.http = guarded_http_class()(Breaker(gmail.timeout_seconds), self._label)
        refresh = functools.partial(type(self.credentials).refresh, self.credentials)
        request = google_auth_httplib2.Request(self.http)
        self.credentials.refresh = lambda _request: refresh(request)
        self.service = self._build()
        if not self.credentials.valid:
            self._call(lambda: _Refresh(self.credentials, request))

    def _label(self, url: str) -> str:
        from outreach.drafts.gmail_http import endpoint_label

        token_uri = str(getattr(self.credentials, "token_uri", "") or "")
        return endpoint_label(url, token_uri, "Google Contacts")

    def _build(self) -> Any:
        import google_auth_httplib2
        import googleapiclient
        from googleapiclient.discovery import build_from_document

        documents = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
        doc = json.loads((documents / "people.v1.json").read_text(encoding="utf-8"))
        doc["rootUrl"] = self.settings.api_root
        http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=self.http)
        return build_from_document(doc, http=http)

    def connections(self, token: str | None) -> tuple[list[dict[str, Any]], str]:
        """Every page of ``connections.list`` from ``token`` (None: everyone), and the next
        sync token (on the last page)."""
        persons: list[dict[str, Any]] = []
        page: str | None = None
        api = self.service.people().connections()
        while True:
            kwargs: dict[str, Any] = {
                "resourceName": "people/me",
                "personFields": PERSON_FIELDS,
                "pageSize": PAGE_SIZE,
                "requestSyncToken": True,
            }
            if token:
                kwargs["syncToken"] = token
            if page:
                kwargs["pageToken"] = page
            answer = self._call(functools.partial(api.list, **kwargs), listing=bool(token))
            persons += [p for p in answer.get("connections") or () if isinstance(p, dict)]
            if len(persons) > MAX_PEOPLE:
                raise SourceDown(
                    f"Google Contacts lists more than {MAX_PEOPLE:,} people: not synced",
                    "this is not an address book outreach can keep in contacts.yaml",
                )
            page = answer.get("nextPageToken") or None
            if not page:
                return persons, str(answer.get("nextSyncToken") or "")

    def group_names(self) -> dict[str, str]:
        """The user's contact groups (labels): resource name -> name. One request."""
        groups = self.service.contactGroups()
        answer = self._call(lambda: groups.list(pageSize=MAX_GROUPS, groupFields="name,groupType"))
        return {
            str(g["resourceName"]): str(g.get("formattedName") or g.get("name") or "")
            for g in answer.get("contactGroups") or ()
            if isinstance(g, dict)
            and g.get("resourceName")
            and g.get("groupType") != "SYSTEM_CONTACT_GROUP"
        }

    def _call(self, make: Callable[[], Any], *, listing: bool = False) -> Any:
        """One request, retried on 429, 5xx and lost answers; Google's refusals as SourceRefused,
        an expired sync token (``listing``) as :class:`_Expired`."""
        import http.client

        import httplib2
        from google.auth.exceptions import RefreshError, TransportError
        from googleapiclient.errors import HttpError

        last = ""
        for attempt in range(self.settings.max_retries + 1):
            try:
                return make().execute(num_retries=0) or {}
            except HttpError as exc:
                status = int(exc.resp.status)
                reason, message = _reason(exc)
                _refusal(status, reason, message, listing=listing)
                if not (status == 429 or status >= 500 or reason in _RATE_REASONS):
                    raise SourceDown(
                        f"Google Contacts answered {status} {reason}: {message}".strip(),
                        "check gmail.api_root; the next sync tries again",
                    ) from None
                last = f"{status} {reason}".strip()
            except RefreshError as exc:
                from outreach.auth import refresh_failed

                if "invalid_scope" in str(exc):
                    raise SourceRefused(
                        f"google source: the Gmail token's grant lacks {SCOPE_CONTACTS} "
                        "(Google refused it at the token refresh: invalid_scope)",
                        SCOPE_HINT,
                    ) from None

                refused = refresh_failed(exc)
                raise SourceRefused(f"google source: {refused.message}", refused.hint) from None
            except MailboxUnreachable as exc:
                raise SourceDown(
                    f"google source: {exc.message}", "the next sync tries again"
                ) from None
            except (
                OSError,
                httplib2.HttpLib2Error,
                http.client.HTTPException,
                TransportError,
            ) as exc:
                last = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
                continue  # no answer: the breaker counts it, and ends the pull in a few tries
            if attempt < self.settings.max_retries:
                self.sleep(min(BACKOFF_CAP, 2.0**attempt) * (0.5 + self.rng.random()))
        raise SourceDown(f"Google Contacts kept failing ({last})", "the next sync tries again")


def _refusal(status: int, reason: str, message: str, *, listing: bool) -> None:
    """Raise what an answer that no retry changes means."""
    if listing and (
        status == 410
        or reason == "EXPIRED_SYNC_TOKEN"
        or (status == 400 and "sync token is expired" in message.casefold())
    ):
        raise _Expired
    if status == 401:
        raise SourceRefused(
            "google source: Google Contacts answered 401 (invalid credentials) after a token "
            "refresh",
            AUTH_HINT,
        )
    if status == 403 and (
        reason in ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
        or "scope" in message.casefold()
    ):
        raise SourceRefused(
            f"google source: the Gmail token does not grant {SCOPE_CONTACTS}", SCOPE_HINT
        )
    if status == 403 and reason in ("SERVICE_DISABLED", "accessNotConfigured"):
        raise SourceRefused(
            "google source: the People API is not enabled for the OAuth client's project",
            "enable the People API in Google Cloud (APIs & Services), then sync again",
        )
    if status == 403 and reason not in _RATE_REASONS:
        raise SourceRefused(f"google source: Google Contacts refused ({message})", AUTH_HINT)


class _Refresh:
    """A token refresh shaped like a googleapiclient request, for :meth:`_People._call`."""

    def __init__(self, credentials: Any, request: Any) -> None:
        self.credentials, self.request = credentials, request

    def execute(self, num_retries: int = 0) -> None:
        del num_retries
        self.credentials.refresh(self.request)
