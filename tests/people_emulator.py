"""A People API emulator for tests: Google Contacts as ``people.connections.list`` serves them, on
the same local server as the Gmail emulator (it is one: :class:`PeopleEmulator` extends
:class:`gmail_emulator.GmailEmulator`, and keeps its OAuth ``/token`` endpoint, its tokens and
scopes, ``revoke()``, ``fail_next()``, ``go_down()``/``come_back()`` and its request log).

Usage::

    with PeopleEmulator() as pe:
        who = pe.add({"names": [{"givenName": "Priya", "familyName": "Raman"}]})
        pe.change(who, emailAddresses=[{"value": "priya@x.example", "type": "work"}])
        pe.delete(who)
        pe.expire_sync_tokens()

What it serves, in the shapes the discovery document (``people.v1.json``) and Google's reference
give:

* ``GET /v1/people/me/connections``: ``personFields`` (required), ``pageSize`` (1-1000, default
  100), ``pageToken`` (the other parameters must match the first page's), ``requestSyncToken``
  (``nextSyncToken`` on the last page), ``syncToken`` (only the people changed since, the deleted
  ones as ``{"resourceName", "etag", "metadata": {"deleted": true}}``). An expired or unknown sync
  token gets Google's answer: 400 ``FAILED_PRECONDITION`` "Sync token is expired. Clear local
  cache and retry call without the sync token." with an ``ErrorInfo`` reason
  ``EXPIRED_SYNC_TOKEN`` (``expired_status = 410`` for the 410 Google answered with before).
* ``GET /v1/contactGroups``: the system groups (myContacts, starred) and the user's labels.
* Errors in the newer Google shape (``code``, ``message``, ``status``, ``details`` with a
  ``google.rpc.ErrorInfo``): 401 ``UNAUTHENTICATED`` for an unknown access token, 403
  ``ACCESS_TOKEN_SCOPE_INSUFFICIENT`` for a token without contacts (or contacts.readonly).
"""

from __future__ import annotations

import base64
import copy
import itertools
from dataclasses import dataclass
from typing import Any

from gmail_emulator import COMPOSE, GmailEmulator, _ApiError, _Reply, _Request

__all__ = ["CONTACTS", "CONTACTS_READONLY", "PeopleEmulator"]

CONTACTS = "https://www.googleapis.com/auth/contacts"
CONTACTS_READONLY = "https://www.googleapis.com/auth/contacts.readonly"
_READ = frozenset({CONTACTS, CONTACTS_READONLY})
_FIELDS = frozenset(
    [
        "addresses",
        "ageRanges",
        "biographies",
        "birthdays",
        "calendarUrls",
        "clientData",
        "coverPhotos",
        "emailAddresses",
        "events",
        "externalIds",
        "genders",
        "imClients",
        "interests",
        "locales",
        "locations",
        "memberships",
        "metadata",
        "miscKeywords",
        "names",
        "nicknames",
        "occupations",
        "organizations",
        "phoneNumbers",
        "photos",
        "relations",
        "sipAddresses",
        "skills",
        "urls",
        "userDefined",
    ]
)
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    410: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_TEXT = {
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential.",
    403: "Request had insufficient authentication scopes.",
    429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per "
    "minute per user' of service 'people.googleapis.com'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}
_REASON = {
    401: "ACCESS_TOKEN_EXPIRED",
    403: "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
    429: "RATE_LIMIT_EXCEEDED",
}
EXPIRED_TEXT = "Sync token is expired. Clear local cache and retry call without the sync token."
_METHOD = {"people.connections.list": "ListConnections", "contactGroups.list": "ListContactGroups"}


def people_error(
    code: int, message: str | None = None, reason: str | None = None, *, status: str | None = None
) -> _Reply:
    """A reply in the error shape of Google's newer APIs (the People API's)."""
    error: dict[str, Any] = {
        "code": code,
        "message": message or _TEXT.get(code, "Request failed."),
        "status": status or _STATUS.get(code, "UNKNOWN"),
    }
    reason = reason or _REASON.get(code)
    if reason:
        domain = "people.googleapis.com" if reason == "EXPIRED_SYNC_TOKEN" else "googleapis.com"
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": domain,
                "metadata": {"service": "people.googleapis.com"},
            }
        ]
    return _Reply(code, {"error": error})


@dataclass
class _Entry:
    person: dict[str, Any]  # the fields, without resourceName and etag
    seq: int  # the change that last touched it
    deleted: bool = False


@dataclass
class _Cursor:
    params: tuple[Any, ...]  # what every later page must ask the same
    items: list[dict[str, Any]]
    sync_token: str | None


class PeopleEmulator(GmailEmulator):
    """Gmail and Google Contacts on one 127.0.0.1 server (``root_url``, ``token_uri``).

    Knobs beside the Gmail emulator's: ``require_auth`` (default True here), ``scopes`` (what
    the token endpoint grants; default compose and contacts.readonly), ``expired_status`` (400,
    or 410)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.require_auth = True
        self.scopes = {COMPOSE, CONTACTS_READONLY}
        self.expired_status = 400
        self._people: dict[str, _Entry] = {}
        self._groups: dict[str, str] = {}  # resource name -> name (the user's labels)
        self._change = itertools.count(1)
        self._now = 0  # the last change
        self._generation = 1  # expire_sync_tokens() moves it on
        self._ids = itertools.count(1001)
        self._cursors: dict[str, _Cursor] = {}

    # ---- test controls --------------------------------------------------------------------------

    def add(self, person: dict[str, Any]) -> str:
        """A new contact (Person fields: names, emailAddresses...); its resourceName. Everyone is
        in ``contactGroups/myContacts``, as in Google Contacts."""
        with self._lock:
            name = f"people/c{next(self._ids)}"
            data = copy.deepcopy(person)
            data.setdefault("memberships", [])
            data["memberships"].append(_membership("contactGroups/myContacts"))
            self._people[name] = _Entry(data, self._tick())
            return name

    def change(self, resource_name: str, **fields: Any) -> None:
        """Replace some Person fields of a contact (None removes one); a new etag."""
        with self._lock:
            entry = self._people[resource_name]
            for key, value in fields.items():
                if value is None:
                    entry.person.pop(key, None)
                else:
                    entry.person[key] = copy.deepcopy(value)
            entry.seq = self._tick()

    def delete(self, resource_name: str) -> None:
        """The user deletes a contact: gone from listings, a tombstone for sync tokens."""
        with self._lock:
            entry = self._people[resource_name]
            entry.deleted, entry.seq = True, self._tick()

    def expire_sync_tokens(self) -> None:
        """Every sync token issued so far expires (Google's 7 days after a full listing)."""
        with self._lock:
            self._generation += 1

    def add_group(self, name: str) -> str:
        """A label of the user's; its resourceName (a hex id, as Google's)."""
        with self._lock:
            resource = f"contactGroups/{next(self._ids):x}a1"
            self._groups[resource] = name
            return resource

    def person(self, resource_name: str) -> dict[str, Any]:
        """A contact as connections.list shows it with every field."""
        with self._lock:
            return self._shown(resource_name, self._people[resource_name], _FIELDS)

    # ---- the pipeline ---------------------------------------------------------------------------

    def _api(self, req: _Request, *, in_batch: bool = False, over_cap: bool = False) -> _Reply:
        if not req.path.startswith("/v1/"):
            return super()._api(req, in_batch=in_batch, over_cap=over_cap)
        routes = {
            "/v1/people/me/connections": "people.connections.list",
            "/v1/contactGroups": "contactGroups.list",
        }
        method_id = routes.get(req.path) if req.method == "GET" else None
        self._record(req, in_batch=False, api=method_id)
        if method_id is None:
            return self._counted(people_error(404, f"Not found: {req.method} {req.path}"))
        denied = self._deny(req, method_id)
        if denied is not None:
            return self._counted(denied)
        fault = self._pick_fault(method_id)
        if fault is not None and fault.kind not in ("slow", "lost", "closed"):
            code = fault.status if fault.kind == "status" else int(fault.kind.rstrip("rate"))
            return self._counted(people_error(code, None, fault.reason))
        try:
            with self._lock:
                reply = (
                    self._connections(req)
                    if method_id.startswith("people")
                    else self._list_groups(req)
                )
        except _ApiError as exc:
            reply = exc.reply
        if fault is not None:
            reply.after = fault.kind
        return self._counted(reply)

    def _deny(self, req: _Request, method_id: str) -> _Reply | None:
        if not self.require_auth:
            return None
        scopes = self._token_scopes(req)
        if scopes is None:
            reply = people_error(401)
            reply.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
            return reply
        if not scopes & _READ:
            reply = people_error(403)
            details = reply.body["error"]["details"][0]["metadata"]
            details["method"] = f"google.people.v1.PeopleService.{_METHOD[method_id]}"
            return reply
        return None

    # ---- the methods (lock held) ----------------------------------------------------------------

    def _tick(self) -> int:
        self._now = next(self._change)
        return self._now

    def _token_for(self, seq: int) -> str:
        return base64.urlsafe_b64encode(f"sync:{self._generation}:{seq}".encode()).decode()

    def _since(self, token: str) -> int:
        """The change a sync token was issued at; an expired or unknown one is refused."""
        try:
            kind, generation, seq = base64.urlsafe_b64decode(token.encode()).decode().split(":")
            if kind == "sync" and int(generation) == self._generation:
                return int(seq)
        except (ValueError, UnicodeError):
            pass
        raise _ApiError(
            people_error(
                self.expired_status,
                EXPIRED_TEXT,
                "EXPIRED_SYNC_TOKEN",
                status="FAILED_PRECONDITION",
            )
        )

    def _shown(self, name: str, entry: _Entry, fields: frozenset[str]) -> dict[str, Any]:
        etag = f"%EgUBAgMFBy4a{entry.seq:06d}"
        source = {"type": "CONTACT", "id": name.split("/c")[-1], "etag": etag}
        if entry.deleted:
            return {
                "resourceName": name,
                "etag": etag,
                "metadata": {"sources": [source], "objectType": "PERSON", "deleted": True},
            }
        shown: dict[str, Any] = {"resourceName": name, "etag": etag}
        for key in sorted(fields - {"metadata"}):
            if key in entry.person:
                shown[key] = copy.deepcopy(entry.person[key])
        if "metadata" in fields:
            shown["metadata"] = {"sources": [source], "objectType": "PERSON"}
        return shown

    def _connections(self, req: _Request) -> _Reply:
        fields = frozenset(
            f.strip() for f in (req.arg("personFields") or "").split(",") if f.strip()
        )
        if not fields:
            return people_error(
                400,
                "personFields mask is required. Please specify one or more "
                "valid paths. Valid paths are documented at https://developers."
                "google.com/people/api/rest/v1/people.connections/list.",
            )
        if fields - _FIELDS:
            return people_error(
                400, f'Invalid personFields mask path: "{sorted(fields - _FIELDS)[0]}".'
            )
        try:
            size = int(req.arg("pageSize") or "100") or 100
        except ValueError:
            return people_error(400, "Invalid value at 'page_size' (TYPE_INT32)")
        if not 1 <= size <= 1000:
            return people_error(400, "Page size must be between 1 and 1000.")
        sync = req.arg("syncToken")
        wants = (req.arg("requestSyncToken") or "").lower() == "true"
        params = (fields, sync, wants)
        page = req.arg("pageToken")
        if page:
            key, _, offset_text = page.partition(":")
            cursor = self._cursors.get(key)
            if cursor is None or not offset_text.isdigit():
                return people_error(400, "Page token is invalid.")
            if cursor.params != params:
                return people_error(
                    400,
                    "Parameters of the request must match the initial "
                    "request that returned the page token.",
                )
            offset = int(offset_text)
        else:
            since = self._since(sync) if sync else None
            chosen = sorted(
                (
                    (n, e)
                    for n, e in self._people.items()
                    if (e.seq > since if since is not None else not e.deleted)
                ),
                key=lambda ne: ne[1].seq,
            )
            items = [self._shown(n, e, fields) for n, e in chosen]
            key = f"pt{len(self._cursors) + 1}"
            self._cursors[key] = cursor = _Cursor(
                params, items, self._token_for(self._now) if wants else None
            )
            offset = 0
        items = cursor.items[offset : offset + size]
        body: dict[str, Any] = {"connections": items} if items else {}
        if offset + size < len(cursor.items):
            body["nextPageToken"] = f"{key}:{offset + size}"
        elif cursor.sync_token:
            body["nextSyncToken"] = cursor.sync_token
        body["totalPeople"] = body["totalItems"] = len(cursor.items)
        return _Reply(200, body)

    def _list_groups(self, req: _Request) -> _Reply:
        del req
        groups = [
            {
                "resourceName": "contactGroups/myContacts",
                "groupType": "SYSTEM_CONTACT_GROUP",
                "name": "myContacts",
                "formattedName": "My Contacts",
            },
            {
                "resourceName": "contactGroups/starred",
                "groupType": "SYSTEM_CONTACT_GROUP",
                "name": "starred",
                "formattedName": "Starred",
            },
        ]
        for resource, name in sorted(self._groups.items()):
            groups.append(
                {
                    "resourceName": resource,
                    "groupType": "USER_CONTACT_GROUP",
                    "name": name,
                    "formattedName": name,
                }
            )
        for g in groups:
            g["etag"] = f"g{len(g['name'])}"
        return _Reply(200, {"contactGroups": groups, "totalItems": len(groups)})


def _membership(resource: str) -> dict[str, Any]:
    return {
        "contactGroupMembership": {
            "contactGroupId": resource.split("/", 1)[1],
            "contactGroupResourceName": resource,
        },
        "metadata": {"source": {"type": "CONTACT"}},
    }


def membership(resource: str) -> dict[str, Any]:
    """A Person ``memberships`` entry for a group (``add_group``'s resource name)."""
    return _membership(resource)
