"""A real Radicale CardDAV server for tests: a throwaway config, users and storage under a temp
dir, on a free port of 127.0.0.1.

Usage::

    with Radicale() as server:
        book = server.make_addressbook("alex", "work")
        href = server.put(book, "uid-1", "BEGIN:VCARD\\r\\nVERSION:3.0\\r\\n...END:VCARD\\r\\n")
        server.delete(href)

The user ``alex`` logs in with the password ``pw-1`` (``add_user`` adds others). One server per
pytest-xdist worker (the ``radicale`` fixture) serves every test; each test gets an address book
of its own (``addressbook``). Radicale is a Python package (the ``test`` extras install it).
"""

from __future__ import annotations

import base64
import http.client
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from lifecycle import Started

__all__ = ["PASSWORD", "USER", "Radicale", "addressbook", "radicale"]

USER = "alex"
PASSWORD = "pw-1"
_books = itertools.count(1)

_MKCOL = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>'
    b"<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>"
    b"<D:displayname>%s</D:displayname>"
    b"</D:prop></D:set></D:mkcol>"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Radicale(Started):
    """``python -m radicale`` with its own config, started on enter, stopped on exit."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="radicale-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.users = {USER: PASSWORD}
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_in = 0.0  # seconds from start to the first answer

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._write_users()
        (self.dir / "config").write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {self.dir / 'users'}\n"
            "htpasswd_encryption = plain\n"
            "delay = 0\n"
            "[storage]\n"
            f"filesystem_folder = {self.dir / 'collections'}\n"
            "[rights]\n"
            "type = owner_only\n"
            "[web]\n"
            "type = none\n"
            "[logging]\n"
            "level = error\n",
            encoding="utf-8",
        )
        began = time.monotonic()
        with open(self.dir / "stderr", "wb") as log:  # (the child keeps its own copy)
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(self.dir / "config")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        try:
            self._wait(began)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began

    def _wait(self, began: float) -> None:
        assert self.proc is not None
        while time.monotonic() - began < 20:
            if self.proc.poll() is not None:
                log = (self.dir / "stderr").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"radicale exited with {self.proc.returncode}: {log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                if self.request("OPTIONS", "/")[0] < 500:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("radicale did not answer within 20 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- users and cards ------------------------------------------------------------------

    def _write_users(self) -> None:
        lines = "".join(f"{user}:{pw}\n" for user, pw in self.users.items())
        (self.dir / "users").write_text(lines, encoding="utf-8")

    def add_user(self, user: str, password: str) -> None:
        self.users[user] = password
        self._write_users()

    def request(
        self,
        method: str,
        path_or_url: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        user: str = USER,
    ) -> tuple[int, bytes]:
        """One request as ``user``: (status, body)."""
        path = urlsplit(path_or_url).path or "/"
        secret = base64.b64encode(f"{user}:{self.users[user]}".encode()).decode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(
                method, path, body=body, headers={"Authorization": f"Basic {secret}", **(headers or {})}
            )
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def make_addressbook(self, user: str = USER, name: str | None = None) -> str:
        """A new, empty address book of ``user`` (extended MKCOL): its URL (ends in /)."""
        name = name or f"book-{next(_books)}"
        path = f"/{quote(user)}/{quote(name)}/"
        status, body = self.request("MKCOL", path, _MKCOL % name.encode(), user=user)
        if status != 201:
            raise RuntimeError(f"MKCOL {path}: HTTP {status} {body[:200]!r}")
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, book_url: str, uid: str, vcard_text: str) -> str:
        """Creates or replaces the card ``<uid>.vcf`` in the address book: its href (the path)."""
        href = urlsplit(book_url).path + quote(uid) + ".vcf"
        status, body = self.request(
            "PUT", href, vcard_text.encode(), {"Content-Type": "text/vcard; charset=utf-8"}
        )
        if status not in (201, 204):
            raise RuntimeError(f"PUT {href}: HTTP {status} {body[:200]!r}")
        return href

    def put_many(self, user: str, name: str, cards: list[str]) -> str:
        """A new address book ``name`` of ``user`` holding ``cards`` (vCard texts, each with a
        UID), made by one PUT of the whole collection (1,000 cards in ~4 s, not ~17): its URL."""
        path = f"/{quote(user)}/{quote(name)}/"
        status, body = self.request(
            "PUT", path, "".join(cards).encode(), {"Content-Type": "text/vcard"}, user=user
        )
        if status not in (201, 204):
            raise RuntimeError(f"PUT {path}: HTTP {status} {body[:200]!r}")
        return f"http://127.0.0.1:{self.port}{path}"

    def delete(self, href: str) -> None:
        status, body = self.request("DELETE", href)
        if status not in (200, 204):
            raise RuntimeError(f"DELETE {href}: HTTP {status} {body[:200]!r}")


@pytest.fixture(scope="session")
def radicale() -> Iterator[Radicale]:
    """One Radicale per pytest-xdist worker (each worker is a session of its own)."""
    with Radicale() as server:
        yield server


@pytest.fixture
def addressbook(radicale: Radicale) -> str:
    """A fresh, empty address book of ``alex``: its URL."""
    return radicale.make_addressbook()
