"""Any CardDAV address book (RFC 6352) as a contact source: Fastmail, iCloud, Nextcloud,
Radicale, Baïkal, ...

A pull finds the address book (the URL itself, or through ``/.well-known/carddav``, the
current-user-principal and its addressbook-home-set), asks what changed since the last pull
(``sync-collection``, RFC 6578; servers without it: the ETags of a listing, compared with the
last pull's) and fetches the changed cards (``addressbook-multiget``, 100 at a time). Each card
is read by :func:`outreach.importers.vcard.parse_vcard`, as ``outreach import vcard`` reads it.

The state (opaque to the caller) is JSON::

    {"v": 1, "source": <source.url>, "url": <the address book's URL>,
     "mode": "sync" | "etag", "token": <sync-token> | null, "etags": {<remote id>: <etag>}}

(``etags`` only in ``etag`` mode). A state whose ``source`` is not ``source.url`` (the setting
changed) is ignored: the pull starts over and is complete.
"""

from __future__ import annotations

import json
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from outreach import secrets
from outreach.errors import UsageError
from outreach.importers.records import Record
from outreach.importers.vcard import parse_vcard
from outreach.paths import resolve
from outreach.settings import CardDavSync
from outreach.sources.bounds import MB, size_text
from outreach.sources.carddav_http import (
    CARD,
    DAV,
    CleartextRefused,
    Item,
    Session,
    body_of,
    check_scheme,
    context,
    host_of,
    href_in,
    is_book,
    norm_href,
    propfind,
    xml_element,
)
from outreach.sources.contactsync import Pulled, RemoteContact

__all__ = ["MAX_CARDS", "pull"]

MAX_CARDS = 20_000  # in one address book, or changed at once
MAX_CARD = 1 * MB  # one card's vCard text (a bigger one is skipped with a note)
BATCH = 100  # hrefs in one addressbook-multiget
MAX_NOTES = 20
STATE_VERSION = 1


def pull(source: CardDavSync, root: Path, state: str | None, *, setting: str = "sync[1]") -> Pulled:
    """What changed in the address book of ``source`` since ``state`` (what the last pull
    returned; None: the first pull, which is complete). Raises SourceDown (exit 1),
    SourceRefused (401/403, exit 5) and SecretError (the password or the settings, exit 2).
    ``source.timeout_seconds`` bounds the whole pull."""
    deadline = time.monotonic() + source.timeout_seconds
    check_scheme(source.url, setting)  # before the password is even read
    password = secrets.read(source.password_file, source.password_command, root, setting)
    session = Session(
        setting=setting,
        host=host_of(source.url),
        username=source.username or "",
        password=password,
        context=_tls(source, root, setting),
        deadline=deadline,
        timeout=source.timeout_seconds,
    )
    try:
        return _Pull(session, source.url, _State.load(state, source.url)).run()
    finally:
        session.close()


def _tls(source: CardDavSync, root: Path, setting: str) -> ssl.SSLContext:
    ca = str(resolve(root, source.ca_file, variables=True)) if source.ca_file else None
    try:
        return context(ca)
    except (OSError, ssl.SSLError) as exc:
        raise CleartextRefused(
            f"{setting}.ca_file {ca} cannot be used: {exc.strerror or exc}",
            f"point {setting}.ca_file at a PEM file of CA certificates",
        ) from None


@dataclass
class _State:
    url: str | None = None
    mode: str = "sync"
    token: str | None = None
    etags: dict[str, str] = field(default_factory=dict)
    fresh: bool = True  # no usable state: the pull is complete

    @classmethod
    def load(cls, text: str | None, source_url: str) -> _State:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            if data.get("v") != STATE_VERSION or data.get("source") != source_url:
                return cls()
            etags = data.get("etags") or {}
            ok = (
                isinstance(data.get("url"), str)
                and data.get("mode") in ("sync", "etag")
                and isinstance(data.get("token"), str | None)
                and isinstance(etags, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in etags.items())
            )
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            return cls()
        return cls(data["url"], data["mode"], data["token"], dict(etags), fresh=False)

    def dump(self, source_url: str) -> str:
        data: dict[str, Any] = {
            "v": STATE_VERSION,
            "source": source_url,
            "url": self.url,
            "mode": self.mode,
            "token": self.token,
        }
        if self.mode == "etag":
            data["etags"] = self.etags
        return json.dumps(data, sort_keys=True, separators=(",", ":"))


class _Unsupported(Exception):
    """The server has no sync-collection (or gave up on it: 507)."""


class _InvalidToken(Exception):
    """The server no longer knows the sync token."""


class _Gone(Exception):
    """The remembered address book is not there any more (404)."""


class _Pull:
    def __init__(self, session: Session, source_url: str, state: _State) -> None:
        self.s = session
        self.source_url = source_url
        self.state = state
        self.complete = state.fresh
        self.notes: list[str] = []
        self.skipped = 0

    def note(self, line: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(line)
        elif len(self.notes) == MAX_NOTES:
            self.notes.append("(more cards were skipped; only the first ones are named)")

    def run(self) -> Pulled:
        if self.state.url is None:
            self.state.url = self.discover(self.source_url)
        try:
            changed, deleted = self.changes()
        except _Gone:
            if self.state.fresh:
                raise self.s.down("has no address book at the URL found (HTTP 404)") from None
            self.state = _State()  # the remembered address book went: find it again
            self.complete = True
            self.state.url = self.discover(self.source_url)
            changed, deleted = self.changes()
        if self.complete and self.skipped:
            self.complete = False  # the skipped cards are not gone: nothing may be deleted
            self.note("not a complete listing (cards were skipped): no one is taken as deleted")
        return Pulled(changed, deleted, self.state.dump(self.source_url), self.complete, self.notes)

    # ---- finding the address book -------------------------------------------------------

    def discover(self, url: str) -> str:
        s = self.s
        reply = s.dav(
            "PROPFIND",
            url,
            propfind(
                f"{DAV}resourcetype",
                f"{DAV}current-user-principal",
                f"{CARD}addressbook-home-set",
            ),
            depth="0",
            follow=True,
        )
        principal = home = None
        if reply.status in (401, 403):
            raise s.refused(reply.status)
        if reply.status == 207:
            items, _ = s.multistatus(reply, "PROPFIND")
            for item in items:
                if is_book(item):
                    return urljoin(reply.url, item.href)
                home = home or href_in(item, f"{CARD}addressbook-home-set", reply.url)
                principal = principal or href_in(item, f"{DAV}current-user-principal", reply.url)
        if home is None:
            parts = urlsplit(url)
            known = urlunsplit((parts.scheme, parts.netloc, "/.well-known/carddav", "", ""))
            wk = s.dav(
                "PROPFIND", known, propfind(f"{DAV}current-user-principal"), depth="0", follow=True
            )
            if wk.status in (401, 403):
                raise s.refused(wk.status)
            if wk.status == 207:
                for item in s.multistatus(wk, "PROPFIND")[0]:
                    found = href_in(item, f"{DAV}current-user-principal", wk.url)
                    principal = found or principal
            if principal is None:
                raise s.down(
                    "shows no address book at the URL (neither an address book, nor a "
                    f"principal, nor /.well-known/carddav: HTTP {reply.status}, {wk.status})"
                )
            home = self._home(principal)
        return self._first_book(home)

    def _home(self, principal: str) -> str:
        s = self.s
        reply = s.dav(
            "PROPFIND", principal, propfind(f"{CARD}addressbook-home-set"), depth="0", follow=True
        )
        if reply.status != 207:
            raise s.failed(reply, "the PROPFIND of the principal")
        for item in s.multistatus(reply, "PROPFIND")[0]:
            home = href_in(item, f"{CARD}addressbook-home-set", reply.url)
            if home:
                return home
        raise s.down("names no addressbook-home-set for the user")

    def _first_book(self, home: str) -> str:
        s = self.s
        body = propfind(f"{DAV}resourcetype", f"{DAV}displayname")
        reply = s.dav("PROPFIND", home, body, depth="1", follow=True)
        if reply.status != 207:
            raise s.failed(reply, "the PROPFIND of the address book home")
        books = [item.href for item in s.multistatus(reply, "PROPFIND")[0] if is_book(item)]
        if not books:
            raise s.down("holds no address book for the user")
        return urljoin(reply.url, books[0])

    # ---- what changed -------------------------------------------------------------------

    def changes(self) -> tuple[list[RemoteContact], list[str]]:
        state = self.state
        if state.mode == "sync":
            try:
                try:
                    return self.by_sync(state.token or "")
                except _InvalidToken:
                    if not state.token:
                        raise _Unsupported from None
                    self.complete = True  # the server forgot where we were: everything again
                    state.token = None
                    return self.by_sync("")
            except _Unsupported:
                state.mode, state.token, state.etags = "etag", None, {}
                self.complete = True
        return self.by_etags()

    def by_sync(self, token: str) -> tuple[list[RemoteContact], list[str]]:
        s = self.s
        book = self.book
        body = body_of(
            xml_element(
                f"{DAV}sync-collection",
                xml_element(f"{DAV}sync-token", text=token),
                xml_element(f"{DAV}sync-level", text="1"),
                xml_element(f"{DAV}prop", xml_element(f"{DAV}getetag")),
            )
        )
        reply = s.dav("REPORT", book, body, depth="0")
        if reply.status in (403, 409) and b"valid-sync-token" in reply.body:
            raise _InvalidToken
        if reply.status in (400, 403, 405, 501, 507):  # 403, 400: the DAV error supported-report
            raise _Unsupported
        if reply.status == 404:
            raise _Gone
        if reply.status != 207:
            raise s.failed(reply, "the sync-collection REPORT")
        items, root = s.multistatus(reply, "the sync-collection REPORT")
        own = norm_href(book, book).rstrip("/")
        wanted: dict[str, str] = {}
        deleted: list[str] = []
        for item in items:
            rid = norm_href(item.href, book)
            if rid.rstrip("/") == own:
                if item.status == 507:  # truncated: the rest would need more rounds
                    raise _Unsupported
                continue
            if item.status == 404:
                deleted.append(rid)
            elif not rid.endswith("/"):
                wanted[rid] = item.href
        self._bound(len(wanted), "changed cards")
        new_token = root.findtext(f"{DAV}sync-token")
        changed = self.fetch(wanted, deleted, {})
        self.state.token = new_token.strip() if new_token else None
        return changed, deleted

    def by_etags(self) -> tuple[list[RemoteContact], list[str]]:
        s = self.s
        book = self.book
        reply = s.dav("PROPFIND", book, propfind(f"{DAV}getetag", f"{DAV}resourcetype"), depth="1")
        if reply.status == 404:
            raise _Gone
        if reply.status != 207:
            raise s.failed(reply, "the PROPFIND of the address book")
        own = norm_href(book, book).rstrip("/")
        now: dict[str, str | None] = {}
        hrefs: dict[str, str] = {}
        for item in s.multistatus(reply, "the PROPFIND of the address book")[0]:
            rid = norm_href(item.href, book)
            resourcetype = item.props.get(f"{DAV}resourcetype")
            is_collection = resourcetype is not None and len(resourcetype) > 0
            if rid.rstrip("/") == own or is_collection or rid.endswith("/"):
                continue
            if item.status is not None and item.status >= 300:
                continue
            etag = item.props.get(f"{DAV}getetag")
            now[rid] = (etag.text or "").strip() or None if etag is not None else None
            hrefs[rid] = item.href
        self._bound(len(now), "cards")
        old = self.state.etags
        wanted = {rid: hrefs[rid] for rid, tag in now.items() if tag is None or old.get(rid) != tag}
        deleted = sorted(rid for rid in old if rid not in now)
        etags = {rid: old[rid] for rid in now if rid in old and rid not in wanted}
        changed = self.fetch(wanted, deleted, etags)
        self.state.etags = etags
        return changed, deleted

    @property
    def book(self) -> str:
        assert self.state.url is not None
        return self.state.url

    def _bound(self, n: int, what: str) -> None:
        if n > MAX_CARDS:
            raise self.s.down(f"lists {n:,} {what}: more than the {MAX_CARDS:,} read at most")

    # ---- the cards ----------------------------------------------------------------------

    def fetch(
        self, wanted: dict[str, str], deleted: list[str], etags: dict[str, str]
    ) -> list[RemoteContact]:
        """The cards of ``wanted`` (remote id -> href as the server wrote it), by multiget;
        those gone meanwhile go to ``deleted``; the ETag of each card read (or skipped for
        good) to ``etags``."""
        s = self.s
        book = self.book
        out: list[RemoteContact] = []
        ids = list(wanted)
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            prop = xml_element(
                f"{DAV}prop", xml_element(f"{DAV}getetag"), xml_element(f"{CARD}address-data")
            )
            hrefs = [xml_element(f"{DAV}href", text=wanted[rid]) for rid in batch]
            body = body_of(xml_element(f"{CARD}addressbook-multiget", prop, *hrefs))
            reply = s.dav("REPORT", book, body, depth="1")
            if reply.status == 404:
                raise _Gone
            if reply.status != 207:
                raise s.failed(reply, "the addressbook-multiget REPORT")
            got: set[str] = set()
            for item in s.multistatus(reply, "the addressbook-multiget REPORT")[0]:
                rid = norm_href(item.href, book)
                if rid not in wanted or rid in got:
                    continue
                got.add(rid)
                if item.status == 404:
                    deleted.append(rid)
                    continue
                card = self.card(rid, item)
                etag_el = item.props.get(f"{DAV}getetag")
                etag = (etag_el.text or "").strip() or None if etag_el is not None else None
                if card is not None:
                    out.append(RemoteContact(rid, etag, card))
                if etag is not None and (card is not None or item.props):
                    etags[rid] = etag
            for rid in batch:
                if rid not in got:
                    self.skipped += 1
                    self.note(f"card {rid}: the server did not send it (skipped)")
        return out

    def card(self, rid: str, item: Item) -> Record | None:
        data = item.props.get(f"{CARD}address-data")
        if data is None:
            self.skipped += 1
            self.note(f"card {rid}: the server sent no vCard for it (skipped)")
            return None
        text = data.text or ""
        if len(text) > MAX_CARD or len(text.encode("utf-8")) > MAX_CARD:
            self.skipped += 1
            self.note(f"card {rid}: larger than {size_text(MAX_CARD)} (skipped)")
            return None
        try:
            records, _notes = parse_vcard(text, f"card {rid}")
        except UsageError:
            records = []
        if not records:
            self.skipped += 1
            self.note(f"card {rid}: no vCard in it (skipped)")
            return None
        return records[0]
