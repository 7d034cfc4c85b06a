"""The HTTP and XML side of :mod:`outreach.sources.carddav`: WebDAV requests (PROPFIND, REPORT)
that end, to a server that may be hostile.

One deadline covers the whole pull: the watchdog of :mod:`outreach.sources.transport` shuts
every connection down when it passes. Each answer is read in chunks against a size limit, is
never decompressed, and its XML is refused when it declares a DOCTYPE or entities (no entity
expansion, no external fetches). Connections are kept alive between requests to one server.
Passwords go out only over TLS (verified, hostname included) or to a loopback address.
Every failure is one line naming the setting and the server's host, never a password or a path.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import ssl
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

from outreach import secrets
from outreach.secrets import SecretError
from outreach.sources import transport
from outreach.sources.bounds import MB, clip, size_text
from outreach.sources.contactsync import SourceDown, SourceRefused

DAV = "{DAV:}"
CARD = "{urn:ietf:params:xml:ns:carddav}"
MAX_BODY = 50 * MB
MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class CleartextRefused(SecretError):
    """A password would cross the network unencrypted (http:// to a host that is not this
    machine): a settings problem, exit 2, found before anything is sent."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    url: str  # after redirects
    location: str = ""  # of a redirect


@dataclass
class Item:
    """One ``<D:response>`` of a multistatus."""

    href: str  # as the server wrote it
    status: int | None  # the response's own status (a deletion in sync-collection: 404)
    props: dict[str, ET.Element] = field(default_factory=dict)  # found (propstat 2xx) only


def host_of(url: str) -> str:
    return clip(urlsplit(url).hostname or "?", 80)


def check_scheme(url: str, setting: str) -> None:
    """Raise unless ``url`` is https, or http to this machine."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        return
    if scheme == "http" and secrets.is_loopback(parts.hostname or ""):
        return
    if scheme == "http":
        raise CleartextRefused(
            f"{setting}.url is http:// to {host_of(url)}: the password would cross the network "
            "in clear text",
            f"use the https:// address of the server in {setting}.url",
        )
    raise CleartextRefused(
        f"{setting}.url is no http(s) address ({clip(scheme, 20) or 'no scheme'})",
        f"set {setting}.url to the https:// address of the address book or the server",
    )


def norm_href(href: str, base: str) -> str:
    """The path of ``href`` (relative to ``base``), percent-decoded: the remote id of a card and
    the key of the ETags, the same whichever way the server quoted it."""
    return unquote(urlsplit(urljoin(base, href.strip())).path)


class Session:
    """Requests to one CardDAV server under one deadline; :meth:`close` when done."""

    def __init__(
        self,
        *,
        setting: str,
        host: str,
        username: str,
        password: str,
        context: ssl.SSLContext,
        deadline: float,
        timeout: float,
    ) -> None:
        self.setting = setting
        self.host = host  # the configured server's host, for messages
        self.username = username
        self.timeout = timeout
        self._auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self._context = context
        self._watchdog = transport._Watchdog(deadline)
        self._conns: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def close(self) -> None:
        for conn in self._conns.values():
            with contextlib.suppress(OSError):
                conn.close()
        self._conns.clear()
        self._watchdog.close()

    # ---- errors -------------------------------------------------------------------------

    def down(self, what: str) -> SourceDown:
        return SourceDown(
            f"{self.setting}: the CardDAV server {self.host} {what}",
            f"check {self.setting}.url, or try again later",
        )

    def refused(self, status: int) -> SourceRefused:
        who = f"the login {self.username!r}" if self.username else "the login"
        return SourceRefused(
            f"{self.setting}: the CardDAV server {self.host} refused {who} (HTTP {status})",
            f"check {self.setting}.username and the password (an app password where the "
            "server asks for one)",
        )

    def failed(self, reply: Reply, what: str) -> SourceDown:
        """The error for an answer that is not the one wanted (401/403: refused)."""
        if reply.status in (401, 403):
            return self.refused(reply.status)
        return self.down(f"answered {what} with HTTP {reply.status}")

    # ---- requests -----------------------------------------------------------------------

    def dav(
        self, method: str, url: str, body: bytes, *, depth: str | None, follow: bool = False
    ) -> Reply:
        """``method`` on ``url`` with an XML ``body``; redirects followed when ``follow`` (to
        the same host, or to https)."""
        headers = {"Content-Type": 'application/xml; charset="utf-8"'}
        if depth is not None:
            headers["Depth"] = depth
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._request(method, url, body, headers)
            if not follow or reply.status not in (301, 302, 303, 307, 308):
                return reply
            url = self._redirect(url, reply)
        raise self.down(f"redirected more than {MAX_REDIRECTS} times")

    def _redirect(self, url: str, reply: Reply) -> str:
        location = reply.location
        if not location:
            raise self.down(f"answered HTTP {reply.status} without saying where to")
        target = urljoin(url, location)
        before, after = urlsplit(url), urlsplit(target)
        same = (before.scheme, before.netloc.lower()) == (after.scheme, after.netloc.lower())
        if not same and after.scheme.lower() != "https":
            raise self.down("redirected to another host without https")
        return target

    def _request(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        check_scheme(url, self.setting)
        parts = urlsplit(url)
        key = (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or 0)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {**headers, "Authorization": self._auth, "User-Agent": "outreach"}
        for attempt in (1, 2):
            reused = key in self._conns
            conn = self._conn(key)
            try:
                if self._watchdog.left() <= 0:
                    raise transport._Late
                conn.timeout = self._watchdog.left() + 1  # (the watchdog ends it first)
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                reply = self._read(response, url)
                if response.will_close:
                    self._drop(key)
                return reply
            except SourceDown:
                self._drop(key)
                raise
            except (transport._Late, OSError, http.client.HTTPException, ValueError) as exc:
                self._drop(key)
                late = self._watchdog.fired or self._watchdog.left() <= 0.05
                if isinstance(exc, transport._Late) or late:
                    raise self.down(f"did not finish in {self.timeout:g} s") from None
                stale = isinstance(exc, http.client.RemoteDisconnected | BrokenPipeError)
                if reused and attempt == 1 and (stale or isinstance(exc, ConnectionResetError)):
                    continue  # a kept-alive connection the server had closed: once more
                raise self.down(f"is unreachable ({transport.why(exc, self.timeout)})") from None
        raise AssertionError("unreachable")

    def _conn(self, key: tuple[str, str, int]) -> http.client.HTTPConnection:
        conn = self._conns.get(key)
        if conn is None:
            scheme, host, port = key
            if scheme == "https":
                conn = transport._HTTPSConnection(
                    host,
                    port=port or None,
                    watchdog=self._watchdog,
                    timeout=self._watchdog.left(),
                    context=self._context,
                )
            else:
                conn = transport._HTTPConnection(
                    host, port=port or None, watchdog=self._watchdog, timeout=self._watchdog.left()
                )
            self._conns[key] = conn
        return conn

    def _drop(self, key: tuple[str, str, int]) -> None:
        conn = self._conns.pop(key, None)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def _read(self, response: http.client.HTTPResponse, url: str) -> Reply:
        if response.status in (301, 302, 303, 307, 308):
            location = response.getheader("Location") or ""
            response.read(MAX_BODY)  # (small; read so that the connection can be reused)
            return Reply(response.status, b"", url, location.strip())
        encoding = (response.getheader("Content-Encoding") or "").strip().lower()
        if encoding not in ("", "identity"):
            raise self.down(f"sent a compressed answer ({clip(encoding, 20)}), not asked for")
        if response.length is not None and response.length > MAX_BODY:
            raise self.down(f"sent an answer larger than {size_text(MAX_BODY)}")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = response.read1(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BODY:
                raise self.down(f"sent an answer larger than {size_text(MAX_BODY)}")
            chunks.append(chunk)
        if self._watchdog.fired:  # the watchdog's shutdown looks like the end of the body
            raise transport._Late
        return Reply(response.status, b"".join(chunks), url)

    # ---- XML ----------------------------------------------------------------------------

    def xml(self, reply: Reply, what: str) -> ET.Element:
        """The XML of an answer: no DOCTYPE, no entities; garbage is SourceDown."""
        body = reply.body
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            raise self.down(f"answered {what} with XML that declares a DOCTYPE (refused)")
        try:
            return ET.fromstring(body)
        except ET.ParseError:
            raise self.down(f"answered {what} with something that is not XML") from None

    def multistatus(self, reply: Reply, what: str) -> tuple[list[Item], ET.Element]:
        root = self.xml(reply, what)
        if root.tag != f"{DAV}multistatus":
            raise self.down(f"answered {what} without a WebDAV multistatus")
        items: list[Item] = []
        for resp in root.iter(f"{DAV}response"):
            hrefs = [h.text or "" for h in resp.findall(f"{DAV}href")]
            status = _status(resp.find(f"{DAV}status"))
            for href in hrefs:
                item = Item(href, status)
                for propstat in resp.findall(f"{DAV}propstat"):
                    code = _status(propstat.find(f"{DAV}status"))
                    prop = propstat.find(f"{DAV}prop")
                    if prop is None or code is None or not 200 <= code < 300:
                        continue
                    for child in prop:
                        item.props[child.tag] = child
                items.append(item)
        return items, root


def _status(element: ET.Element | None) -> int | None:
    """``HTTP/1.1 404 Not Found`` -> 404."""
    if element is None or not element.text:
        return None
    words = element.text.split()
    return int(words[1]) if len(words) > 1 and words[1].isdigit() else None


def context(ca_file: str | None) -> ssl.SSLContext:
    """TLS verified against the system's CAs, and ``ca_file``'s as well."""
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    return ctx


# ---- the XML sent ----------------------------------------------------------------------------


def xml_element(tag: str, *children: ET.Element, text: str | None = None) -> ET.Element:
    element = ET.Element(tag)
    element.text = text
    element.extend(children)
    return element


def body_of(element: ET.Element) -> bytes:
    return bytes(ET.tostring(element, encoding="utf-8", xml_declaration=True))


def propfind(*props: str) -> bytes:
    return body_of(
        xml_element(f"{DAV}propfind", xml_element(f"{DAV}prop", *(xml_element(p) for p in props)))
    )


def is_book(item: Item) -> bool:
    resourcetype = item.props.get(f"{DAV}resourcetype")
    return resourcetype is not None and resourcetype.find(f"{CARD}addressbook") is not None


def href_in(item: Item, prop: str, base: str) -> str | None:
    element = item.props.get(prop)
    href = element.findtext(f"{DAV}href") if element is not None else None
    return urljoin(base, href.strip()) if href and href.strip() else None
