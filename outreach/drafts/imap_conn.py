"""The ``imap`` store's connection: the password, TLS, the login and the folders.

* The password comes from ``imap.password_file`` (mode 0600, refused when others may read it)
  or the output of ``imap.password_command``; it is never logged.
* ``ssl``: TLS from the first byte (port 993); ``starttls``: the plain port, then STARTTLS,
  refused when the server does not offer it (nothing is sent in clear text); ``plain``: only to
  a loopback address. The certificate is verified, host name included, against the system's
  CAs and ``imap.ca_file``.
* A server that cannot be reached (refused, no answer, DNS) is :class:`MailboxUnreachable`; a
  refused login is :class:`AuthError` (exit 5); a setting that cannot work (a certificate for
  another name, an unknown folder) is :class:`ImapSettingError` (exit 2). Each is one line that
  names the setting and the fix.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import re
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from outreach import secrets
from outreach.errors import EXIT_INVALID, AuthError, MailboxUnreachable, OutreachError
from outreach.model import ImapSettings
from outreach.paths import resolve

CONNECT_SECONDS = 10.0  # connecting waits at most this long
RETRY_CONNECT_SECONDS = 5.0  # ... and this long right after a connect that got no answer
TRANSIENT = ("UNAVAILABLE", "INUSE", "SERVERBUG", "LIMIT")  # RFC 5530 codes worth a retry


class ImapSettingError(OutreachError):
    """An ``imap:`` setting that cannot work: nothing is drafted."""

    exit_code = EXIT_INVALID


class Transient(Exception):
    """The server is there but did not do what was asked this time: a dropped connection, a
    BYE, a NO [UNAVAILABLE]. ``unknown``: the command may have been carried out."""

    def __init__(self, message: str, *, unknown: bool) -> None:
        super().__init__(message)
        self.unknown = unknown


def password(settings: ImapSettings, root: Path) -> str:
    """The password, from ``imap.password_file`` or ``imap.password_command``."""
    try:
        return secrets.read(settings.password_file, settings.password_command, root, "imap")
    except secrets.SecretError as exc:
        raise ImapSettingError(exc.message, exc.hint) from None


def _tls(settings: ImapSettings, root: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if settings.ca_file:
        path = resolve(root, settings.ca_file, variables=True)
        try:
            ctx.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise ImapSettingError(
                f"cannot use imap.ca_file {path}: {exc}",
                "point it at a PEM file of CA certificates",
            ) from None
    return ctx


@dataclass(frozen=True)
class Folders:
    drafts: str  # the name as the server spells it (modified UTF-7)
    sent: str | None
    all: tuple[str, ...]


def _where(settings: ImapSettings) -> str:
    return f"{settings.host}:{port_of(settings)}"


def port_of(settings: ImapSettings) -> int:
    return settings.port or (993 if settings.security == "ssl" else 143)


class _Greeted:
    """A connection whose greeting came: a fault after it is the server's, not the network's."""

    def _connect(self) -> None:
        try:
            super()._connect()  # type: ignore[misc]
        except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
            if getattr(self, "welcome", None):
                raise Transient(f"dropped after the greeting: {exc}", unknown=False) from None
            raise


class _IMAP4(_Greeted, imaplib.IMAP4):
    pass


class _IMAP4_SSL(_Greeted, imaplib.IMAP4_SSL):
    pass


def check_offline(settings: ImapSettings, root: Path) -> None:
    """What can be told of the settings without a connection (``check`` asks too): a host and a
    login, no plain text to another machine, a password file only we may read, a usable
    ``ca_file``. Raises :class:`ImapSettingError`."""
    host = settings.host
    if not host:
        raise ImapSettingError("imap.host is not set", "set it to your provider's IMAP server")
    if not settings.username:
        raise ImapSettingError("imap.username is not set", "set it to your login (your address)")
    if settings.security == "plain" and not secrets.is_loopback(host):
        raise ImapSettingError(
            f"imap.security is plain for {host}, which is not this machine: the password would "
            "cross the network in clear text",
            "use security: ssl (port 993) or starttls",
        )
    if not settings.password_command:
        password(settings, root)  # a file: readable by us only (a command runs at night only)
    if settings.ca_file and settings.security != "plain":
        _tls(settings, root)


def connect(
    settings: ImapSettings, root: Path, secret: str, wait: float = CONNECT_SECONDS
) -> imaplib.IMAP4:
    """A logged-in connection (connecting and the greeting wait ``wait`` at most); raises the
    errors above."""
    check_offline(settings, root)
    host = str(settings.host)
    port = port_of(settings)
    where = _where(settings)
    try:
        if settings.security == "ssl":
            conn: imaplib.IMAP4 = _IMAP4_SSL(
                host, port, ssl_context=_tls(settings, root), timeout=wait
            )
        else:
            conn = _IMAP4(host, port, timeout=wait)
            if settings.security == "starttls":
                if "STARTTLS" not in conn.capabilities:
                    shut(conn)
                    raise ImapSettingError(
                        f"the IMAP server {where} offers no STARTTLS; nothing was sent in clear "
                        "text",
                        "set imap.security: ssl (port 993), or ask the server's admin for TLS",
                    )
                conn.starttls(ssl_context=_tls(settings, root))
    except ssl.SSLCertVerificationError as exc:
        raise ImapSettingError(
            f"the certificate of the IMAP server {where} does not verify: "
            f"{exc.verify_message or exc}",
            "set imap.host to the name on the server's certificate, or imap.ca_file to the CA "
            "that signed it",
        ) from None
    except (OSError, EOFError, imaplib.IMAP4.abort) as exc:
        raise MailboxUnreachable(
            f"the IMAP server {where} cannot be reached: {_why(exc)}"
        ) from None
    except imaplib.IMAP4.error as exc:
        raise Transient(f"the IMAP server {where} refused to start: {exc}", unknown=False) from None
    if conn.sock is not None:
        conn.sock.settimeout(settings.timeout_seconds)
    _login(conn, settings, secret, where)
    return conn


def _why(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no answer"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "the name does not resolve"
    return str(exc) or type(exc).__name__


def _login(conn: imaplib.IMAP4, settings: ImapSettings, secret: str, where: str) -> None:
    try:
        if "AUTH=PLAIN" in conn.capabilities and "LOGINDISABLED" not in conn.capabilities:
            user = str(settings.username)
            blob = f"\0{user}\0{secret}".encode()
            conn.authenticate("PLAIN", lambda _challenge: blob)
        else:
            conn.login(str(settings.username), secret)
    except imaplib.IMAP4.abort as exc:
        shut(conn)
        raise Transient(
            f"the IMAP server {where} dropped the login: {exc}", unknown=False
        ) from None
    except imaplib.IMAP4.error as exc:
        shut(conn)
        text = str(exc)
        if any(f"[{code}" in text for code in TRANSIENT):
            raise Transient(
                f"the IMAP server {where} could not log in now: {text}", unknown=False
            ) from None
        raise AuthError(
            f"the IMAP server {where} refused the login of {settings.username}: {_clean(text)}",
            "check imap.username and the password (Gmail, iCloud and Fastmail need an app "
            "password)",
        ) from None
    except OSError as exc:
        shut(conn)
        raise Transient(
            f"the IMAP server {where} dropped the login: {exc}", unknown=False
        ) from None


def _clean(text: str) -> str:
    return re.sub(r"^b['\"]|['\"]$", "", text.strip())[:200]


def shut(conn: imaplib.IMAP4) -> None:
    """Close a connection without a word to the server (it may be broken)."""
    with contextlib.suppress(Exception):
        conn.shutdown()


# --------------------------------------------------------------------------- folders

_LIST = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$', re.S)


def _unquote(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    if text.startswith('"') and text.endswith('"'):
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def list_folders(conn: imaplib.IMAP4) -> list[tuple[frozenset[str], str]]:
    """(attributes, name) of every folder."""
    typ, data = conn.list()
    if typ != "OK":
        raise Transient(f"LIST failed: {data!r}", unknown=False)
    out: list[tuple[frozenset[str], str]] = []
    for item in data:
        if isinstance(item, tuple):  # a name sent as a literal
            head, literal = item
            out.append((_flags(head), literal.decode("utf-8", "replace")))
            continue
        if not item:
            continue
        m = _LIST.match(bytes(item))
        if m is not None:
            out.append((_flags(m.group("flags")), _unquote(m.group("name"))))
    return out


def _flags(raw: bytes) -> frozenset[str]:
    m = re.search(rb"\(([^)]*)\)", raw) if raw.startswith(b"(") else None
    text = (m.group(1) if m else raw).decode("ascii", "replace")
    return frozenset(f.lower() for f in text.split())


def find_folders(conn: imaplib.IMAP4, settings: ImapSettings, *, sent: bool) -> Folders:
    """The drafts folder (``imap.drafts_folder``, else the one marked ``\\Drafts``, else one
    named Drafts) and, when ``sent``, the sent folder likewise."""
    found = list_folders(conn)
    names = [n for _, n in found]
    shown = ", ".join(utf7_decode(n) for n in names[:20]) or "none"

    def pick(setting: str | None, attr: str, fallbacks: tuple[str, ...], what: str) -> str:
        if setting:
            wanted = utf7_encode(setting)
            for n in names:
                if n == wanted or (n.upper() == "INBOX" and wanted.upper() == "INBOX"):
                    return n
            raise ImapSettingError(
                f"imap.{what}_folder '{setting}' is not a folder on the server (folders: {shown})",
                f"set imap.{what}_folder to one of them",
            )
        for flags, n in found:
            if attr in flags:
                return n
        for n in names:
            if utf7_decode(n).lower() in fallbacks:
                return n
        raise ImapSettingError(
            f"the IMAP server marks no folder {attr[:2].upper() + attr[2:]} and has none named "
            f"{fallbacks[0].title()} (folders: {shown})",
            f"set imap.{what}_folder to the folder for your {what}",
        )

    drafts = pick(settings.drafts_folder, "\\drafts", ("drafts",), "drafts")
    sent_name = (
        pick(settings.sent_folder, "\\sent", ("sent", "sent items", "sent messages"), "sent")
        if sent
        else None
    )
    return Folders(drafts, sent_name, tuple(names))


def quote(name: str) -> str:
    """A folder name as an IMAP quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# modified UTF-7 (RFC 3501 5.1.3), for folder names like "Entwürfe"


def utf7_encode(text: str) -> str:
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            b64 = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            run.clear()

    for ch in text:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def utf7_decode(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        body = m.group(1)
        if not body:
            return "&"
        raw = body.replace(",", "/")
        raw += "=" * (-len(raw) % 4)
        try:
            return base64.b64decode(raw).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return m.group(0)

    return re.sub(r"&([A-Za-z0-9+,]*)-", sub, text)
