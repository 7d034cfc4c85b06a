"""A real Dovecot IMAP server for tests: a throwaway config, mail and sockets under a temp dir.

Usage::

    with Dovecot() as server:
        user = server.new_user()
        uid = server.deliver(user, "Drafts", b"Subject: hi\\r\\n\\r\\nbody\\r\\n", flags="\\\\Draft")
        assert server.messages(user, "Drafts")[0][0] == uid

Any username logs in with the password ``pw-1`` and gets an empty maildir of its own, so one
server per pytest-xdist worker (the ``dovecot_server`` fixture) serves every test, each with a
fresh user (``imap_user``). Ports are picked free on 127.0.0.1 and the base_dir is private, so
parallel workers and a system Dovecot never collide. With ``tls`` the plain port offers STARTTLS
and an implicit-TLS port is open too, with a self-signed certificate (``ca_file``) whose
subjectAltName is ``cert_hosts``. The recipe: /work/shared/research/gmail.md, section 4.1.
"""

from __future__ import annotations

import atexit
import imaplib
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime
from pathlib import Path

import pytest
from lifecycle import Started

__all__ = ["Dovecot", "dovecot_server", "find_dovecot", "imap_user"]

INSTALL_HINT = "Dovecot is not installed: apt-get install dovecot-imapd (CI's .ci/run does it)"

_certs: dict[str, tuple[Path, Path]] = {}  # cert_hosts -> (cert, key), made once per process
_cert_dir: Path | None = None
_users = itertools.count(1)


def find_dovecot() -> str | None:
    """The dovecot binary (it lives in /usr/sbin, which a non-root PATH may lack), or None."""
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def _certificate(cert_hosts: str) -> tuple[Path, Path]:
    """A self-signed certificate and key for ``cert_hosts`` (a subjectAltName), cached."""
    global _cert_dir
    if cert_hosts in _certs:
        return _certs[cert_hosts]
    if _cert_dir is None:
        _cert_dir = Path(tempfile.mkdtemp(prefix="dovecot-certs-"))
        atexit.register(shutil.rmtree, _cert_dir, True)
    n = len(_certs)
    cert, key = _cert_dir / f"cert{n}.pem", _cert_dir / f"key{n}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", f"subjectAltName={cert_hosts}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    _certs[cert_hosts] = (cert, key)
    return cert, key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Dovecot(Started):
    """One Dovecot master (``dovecot -F``) in its own process group; ``close()`` kills the group."""

    host = "127.0.0.1"
    password = "pw-1"

    def __init__(self, *, tls: bool = True, cert_hosts: str = "IP:127.0.0.1",
                 special_use: bool = True, folders: tuple[str, ...] = ("Drafts", "Sent"),
                 uses: dict[str, str] | None = None) -> None:
        self.uses = uses or {}  # folder -> its RFC 6154 attribute, for names not Drafts/Sent
        self.tls = tls
        self.cert_hosts = cert_hosts
        self.special_use = special_use
        self.folders = folders
        self.port = 0
        self.ssl_port: int | None = None
        self.ca_file: Path | None = None
        self.base = Path()
        self.conf = Path()
        self.log = Path()
        self._proc: subprocess.Popen[bytes] | None = None

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Write the config, start the master and wait (10 s at most) until the port accepts."""
        binary = find_dovecot()
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        if self.tls:
            self.ca_file = _certificate(self.cert_hosts)[0]
        self.base = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.base.chmod(0o755)  # the imap processes run as nobody and must reach mail/
        (self.base / "mail").mkdir()
        shutil.chown(self.base / "mail", "nobody", "nogroup")
        self.conf = self.base / "dovecot.conf"
        self.log = self.base / "dovecot.log"
        try:
            for attempt in range(5):  # a free port may be taken between probe and bind: retry
                self.port = _free_port()
                self.ssl_port = _free_port() if self.tls else None
                self.conf.write_text(self._config())
                if self._launch(binary):
                    return
                if "Address already in use" not in self._log_tail() or attempt == 4:
                    raise RuntimeError(f"dovecot did not start:\n{self._log_tail()}")
        except BaseException:
            self.close()
            raise

    def _launch(self, binary: str) -> bool:
        """Start the master; True once the plain port accepts, False if the master exited."""
        self._proc = subprocess.Popen([binary, "-F", "-c", str(self.conf)],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=open(self.log, "ab"),  # noqa: SIM115 (child owns it)
                                      start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                return False
            with socket.socket() as s:
                if s.connect_ex((self.host, self.port)) == 0:
                    return True
            time.sleep(0.005)
        self._kill()
        raise RuntimeError(f"dovecot did not listen on {self.port} within 10 s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def _kill(self) -> None:
        if self._proc is None:
            return
        # SIGTERM takes ~1.1 s; a throwaway server may just die, with all its children
        with suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait(timeout=10)
        self._proc = None

    def close(self) -> None:
        """Kill the master's process group and remove the temp dir."""
        self._kill()
        if self.base != Path() and self.base.exists():
            shutil.rmtree(self.base, ignore_errors=True)

    def _config(self) -> str:
        b = self.base
        mailboxes = "".join(
            f"  mailbox {_quote(name)} {{\n    auto = subscribe\n"
            + (f"    special_use = \\{name}\n" if self.special_use and name in ("Drafts", "Sent")
               else f"    special_use = \\{self.uses[name]}\n" if name in self.uses else "")
            + "  }\n"
            for name in self.folders)
        if self.tls:
            cert, key = _certificate(self.cert_hosts)
            ssl = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n"
            imaps = f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.ssl_port}\n  }}\n"
        else:
            ssl = "ssl = no\n"
            imaps = "  inet_listener imaps {\n    port = 0\n  }\n"
        return f"""\
# A throwaway Dovecot for tests (tests/dovecot.py): IMAP only, on 127.0.0.1, any user, one password.
base_dir = {b}/run
state_dir = {b}/state
log_path = {self.log}
info_log_path = {self.log}
protocols = imap
listen = 127.0.0.1
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 65534
last_valid_uid = 65534
first_valid_gid = 65534
last_valid_gid = 65534
passdb {{
  driver = static
  args = password={self.password}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={b}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}}}
# no anvil penalty (2 s to 15 s per failed login from an IP): the auth process cannot reach it
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
{imaps}}}
"""

    # -- helpers through imaplib -------------------------------------------------------------

    def new_user(self, prefix: str = "u") -> str:
        """A username nobody has used yet on this server (its mailbox starts empty)."""
        return f"{prefix}{next(_users)}-{os.getpid()}@rivera.example"

    def _login(self, user: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(user, self.password)
        return imap

    @staticmethod
    def _done(imap: imaplib.IMAP4) -> None:
        with suppress(imaplib.IMAP4.error, OSError):
            imap.logout()

    def deliver(self, user: str, folder: str, raw: bytes, *, flags: str = "",
                when: datetime | None = None) -> int:
        """APPEND ``raw`` (line ends made CRLF) to ``folder``; its UID (from APPENDUID)."""
        data = re.sub(rb"\r?\n", b"\r\n", raw)
        imap = self._login(user)
        try:
            date = imaplib.Time2Internaldate(when) if when is not None else None
            typ, resp = imap.append(_quote(folder), f"({flags})" if flags else None, date, data)
            found = re.search(rb"APPENDUID \d+ (\d+)", resp[0] or b"")
            if typ != "OK" or found is None:
                raise RuntimeError(f"APPEND to {folder}: {typ} {resp}")
            return int(found.group(1))
        finally:
            self._done(imap)

    def messages(self, user: str, folder: str) -> list[tuple[int, frozenset[str], bytes]]:
        """Every message in ``folder``: (uid, flags, full bytes), in UID order."""
        imap = self._login(user)
        try:
            typ, count = imap.select(_quote(folder), readonly=True)
            if typ != "OK":
                raise RuntimeError(f"SELECT {folder}: {typ} {count}")
            if int(count[0] or 0) == 0:
                return []
            typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            out = []
            for item in data:
                if not isinstance(item, tuple):
                    continue
                head = item[0].decode()
                uid = re.search(r"UID (\d+)", head)
                flags = re.search(r"FLAGS \(([^)]*)\)", head)
                assert uid is not None and flags is not None, head
                out.append((int(uid.group(1)), frozenset(flags.group(1).split()), item[1]))
            return sorted(out)
        finally:
            self._done(imap)

    def delete(self, user: str, folder: str, uid: int) -> None:
        """Flag message ``uid`` \\Deleted and expunge it."""
        imap = self._login(user)
        try:
            imap.select(_quote(folder))
            imap.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
            imap.expunge()
        finally:
            self._done(imap)

    def list_folders(self, user: str) -> list[str]:
        """The names LIST shows for ``user``."""
        imap = self._login(user)
        try:
            _, data = imap.list()
            names = []
            for line in data:
                assert isinstance(line, bytes), line
                found = re.match(rb'\([^)]*\) (?:"[^"]*"|NIL) (.*)$', line)
                assert found is not None, line
                name = found.group(1).decode()
                names.append(name[1:-1] if name.startswith('"') else name)
            return names
        finally:
            self._done(imap)


def install_dovecot() -> str | None:
    """The dovecot binary, installed from Debian first when it is missing (tests/debian.py)."""
    from debian import ensure

    return ensure(find_dovecot, ["dovecot-imapd", "openssl"], "dovecot")


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    """One Dovecot per pytest-xdist worker (tls, special-use folders), for the whole session."""
    if install_dovecot() is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    with Dovecot() as server:
        yield server


@pytest.fixture
def imap_user(dovecot_server: Dovecot) -> str:
    """A fresh username on ``dovecot_server``: its mailbox is empty (INBOX, Drafts, Sent)."""
    return dovecot_server.new_user()
