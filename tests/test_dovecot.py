"""The test IMAP server (tests/dovecot.py, a real Dovecot) and the fault proxy (tests/imap_proxy.py)
work as the store tests expect: drafts land over plain, STARTTLS and implicit TLS, the folders carry
(or lack) their special-use attributes, certificates verify (or fail on the hostname), no process
outlives close(), and the proxy's faults hit the commands they should."""

from __future__ import annotations

import imaplib
import os
import socket
import ssl
import subprocess
import time
from collections import Counter

import dovecot
import pytest
from dovecot import Dovecot
from imap_proxy import FAULT_KINDS, FaultProxy

dovecot_server = dovecot.dovecot_server  # the fixtures, re-exported
imap_user = dovecot.imap_user

DRAFT = b"From: ana@rivera.example\r\nTo: bo@example.org\r\nSubject: hello\r\n\r\nBody line\r\n"


def _append(imap: imaplib.IMAP4, user: str, password: str) -> None:
    imap.login(user, password)
    typ, resp = imap.append("Drafts", "(\\Draft)", None, DRAFT)
    assert typ == "OK", resp
    imap.logout()


def _drafts(server: Dovecot, user: str) -> list[tuple[frozenset[str], bytes]]:
    return [(flags - {"\\Recent"}, raw) for _, flags, raw in server.messages(user, "Drafts")]


def test_append_plain(dovecot_server: Dovecot, imap_user: str) -> None:
    """A draft APPENDed over the plain port is in Drafts with \\Draft, byte for byte."""
    assert _drafts(dovecot_server, imap_user) == []
    _append(imaplib.IMAP4(dovecot_server.host, dovecot_server.port, timeout=5), imap_user,
            dovecot_server.password)
    assert _drafts(dovecot_server, imap_user) == [(frozenset({"\\Draft"}), DRAFT)]


def test_append_starttls(dovecot_server: Dovecot, imap_user: str) -> None:
    """STARTTLS on the plain port verifies the certificate (hostname checked) through ca_file."""
    imap = imaplib.IMAP4(dovecot_server.host, dovecot_server.port, timeout=5)
    assert "STARTTLS" in imap.capabilities
    imap.starttls(ssl.create_default_context(cafile=dovecot_server.ca_file))
    assert isinstance(imap.sock, ssl.SSLSocket)
    _append(imap, imap_user, dovecot_server.password)
    assert _drafts(dovecot_server, imap_user) == [(frozenset({"\\Draft"}), DRAFT)]


def test_append_imaps(dovecot_server: Dovecot, imap_user: str) -> None:
    """The implicit-TLS port takes a draft too."""
    assert dovecot_server.ssl_port is not None
    context = ssl.create_default_context(cafile=dovecot_server.ca_file)
    imap = imaplib.IMAP4_SSL(dovecot_server.host, dovecot_server.ssl_port, ssl_context=context,
                             timeout=5)
    _append(imap, imap_user, dovecot_server.password)
    assert _drafts(dovecot_server, imap_user) == [(frozenset({"\\Draft"}), DRAFT)]


def test_deliver_and_delete(dovecot_server: Dovecot, imap_user: str) -> None:
    """deliver() returns the UID that messages() shows; delete() removes just that message."""
    first = dovecot_server.deliver(imap_user, "Sent", b"Subject: one\n\nx\n", flags="\\Seen")
    second = dovecot_server.deliver(imap_user, "Sent", b"Subject: two\n\ny\n")
    assert second > first
    assert [(uid, raw) for uid, _, raw in dovecot_server.messages(imap_user, "Sent")] == [
        (first, b"Subject: one\r\n\r\nx\r\n"), (second, b"Subject: two\r\n\r\ny\r\n")]
    dovecot_server.delete(imap_user, "Sent", first)
    assert [uid for uid, _, _ in dovecot_server.messages(imap_user, "Sent")] == [second]
    assert sorted(dovecot_server.list_folders(imap_user)) == ["Drafts", "INBOX", "Sent"]


def test_bad_password_answers_fast(dovecot_server: Dovecot, imap_user: str) -> None:
    """A wrong password is refused within Dovecot's 0.5 s failure tick (auth_failure_delay = 0,
    no anvil penalty), not after its 2 s and more, and the next good login is not delayed."""
    imap = imaplib.IMAP4(dovecot_server.host, dovecot_server.port, timeout=5)
    started = time.monotonic()
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap.login(imap_user, "wrong")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap.login(imap_user, "wrong again")
        assert time.monotonic() - started < 1.5
    imap.shutdown()
    started = time.monotonic()
    imaplib.IMAP4(dovecot_server.host, dovecot_server.port, timeout=5).login(
        imap_user, dovecot_server.password)
    assert time.monotonic() - started < 1


def _list(server: Dovecot, user: str) -> list[bytes]:
    imap = imaplib.IMAP4(server.host, server.port, timeout=5)
    imap.login(user, server.password)
    _, lines = imap.list()
    imap.logout()
    return [line for line in lines if isinstance(line, bytes)]


def test_list_special_use(dovecot_server: Dovecot, imap_user: str) -> None:
    """LIST marks Drafts \\Drafts and Sent \\Sent."""
    lines = _list(dovecot_server, imap_user)
    assert any(b"\\Drafts" in line and line.endswith(b" Drafts") for line in lines), lines
    assert any(b"\\Sent" in line and line.endswith(b" Sent") for line in lines), lines


def test_without_special_use_and_tls() -> None:
    """special_use=False: the folders exist without attributes; tls=False: no STARTTLS offered."""
    with Dovecot(special_use=False, tls=False) as server:
        assert server.ssl_port is None and server.ca_file is None
        user = server.new_user()
        lines = _list(server, user)
        assert any(line.endswith(b" Drafts") for line in lines), lines
        assert not any(b"\\Drafts" in line or b"\\Sent" in line for line in lines), lines
        imap = imaplib.IMAP4(server.host, server.port, timeout=5)
        assert "STARTTLS" not in imap.capabilities
        assert "IMAP4REV1" in imap.capabilities
        imap.logout()


def test_certificate_for_another_host() -> None:
    """A certificate for another name fails the hostname check only: trusted without it."""
    with Dovecot(cert_hosts="DNS:mail.other.example") as server:
        imap = imaplib.IMAP4(server.host, server.port, timeout=5)
        with pytest.raises(ssl.SSLCertVerificationError, match="address mismatch"):
            imap.starttls(ssl.create_default_context(cafile=server.ca_file))
        imap.sock.close()
        context = ssl.create_default_context(cafile=server.ca_file)
        context.check_hostname = False
        imap = imaplib.IMAP4(server.host, server.port, timeout=5)
        imap.starttls(context)
        imap.logout()


def _running(pgid: int) -> list[str]:
    """The processes of group ``pgid`` that still run: zombies are dead (here PID 1 may never
    reap the children orphaned by the kill; a real init does)."""
    out = subprocess.run(["ps", "-o", "pid=,stat=,comm=", "-g", str(pgid)],
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split()[1][0] != "Z"]


def test_close_leaves_nothing() -> None:
    """close() kills the master and its children at once and removes the temp dir."""
    server = Dovecot(tls=False)
    server.start()
    try:
        server.list_folders(server.new_user())  # an imap process and auth workers exist now
        pgid = os.getpgid(server._proc.pid)  # type: ignore[union-attr]
        assert len(_running(pgid)) >= 3  # master, log, config, auth, ...
        assert subprocess.run(["pgrep", "-f", str(server.conf)], capture_output=True).stdout
    finally:
        started = time.monotonic()
        server.close()
    assert time.monotonic() - started < 0.5
    deadline = time.monotonic() + 2  # SIGKILL is delivered at once; dying takes a moment
    while _running(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _running(pgid) == []
    assert subprocess.run(["pgrep", "-f", str(server.conf)], capture_output=True).stdout == b""
    assert not server.base.exists()


def test_proxy_drop_after_append(dovecot_server: Dovecot, imap_user: str) -> None:
    """drop_after("APPEND"): the client's append fails, yet the draft is in the folder."""
    with FaultProxy(dovecot_server.host, dovecot_server.port) as proxy:
        proxy.drop_after("append")
        imap = imaplib.IMAP4(proxy.host, proxy.port, timeout=5)
        imap.login(imap_user, dovecot_server.password)
        with pytest.raises((imaplib.IMAP4.abort, OSError)):
            imap.append("Drafts", "(\\Draft)", None, DRAFT)
        assert proxy.faults == [("APPEND", "drop-after")]
        assert proxy.commands[-2:] == ["LOGIN", "APPEND"]
        assert _drafts(dovecot_server, imap_user) == [(frozenset({"\\Draft"}), DRAFT)]
        # the next APPEND passes
        _append(imaplib.IMAP4(proxy.host, proxy.port, timeout=5), imap_user,
                dovecot_server.password)
        assert len(_drafts(dovecot_server, imap_user)) == 2


def test_proxy_fail_rate(dovecot_server: Dovecot, imap_user: str) -> None:
    """fail_rate=0.3 hits about 30 % of the commands, with every kind of fault."""
    with FaultProxy(dovecot_server.host, dovecot_server.port, seed=7) as proxy:
        proxy.fail_rate = 0.3
        ok = failed = 0
        imap: imaplib.IMAP4 | None = None
        while ok + failed < 120:
            try:
                if imap is None:
                    imap = imaplib.IMAP4(proxy.host, proxy.port, timeout=5)
                    imap.login(imap_user, dovecot_server.password)
                typ, _ = imap.noop()
                if typ == "OK":
                    ok += 1
                else:  # an injected NO: the connection stays usable
                    failed += 1
            except (imaplib.IMAP4.error, OSError):
                failed += 1
                if imap is not None:
                    imap.shutdown()
                imap = None
        kinds = Counter(kind for _, kind in proxy.faults)
        hit = len(proxy.faults) / len([c for c in proxy.commands if c != "LOGOUT"])
        assert 0.2 < hit < 0.4, (hit, kinds)
        assert set(kinds) == set(FAULT_KINDS), kinds
        assert {name for name, _ in proxy.faults} == {"CAPABILITY", "LOGIN", "NOOP"}
        proxy.fail_rate = 0
        _append(imaplib.IMAP4(proxy.host, proxy.port, timeout=5), imap_user,
                dovecot_server.password)
        assert len(_drafts(dovecot_server, imap_user)) == 1


def test_proxy_go_down(dovecot_server: Dovecot, imap_user: str) -> None:
    """go_down("refused") refuses connections, "blackhole" never answers; come_back() heals."""
    with FaultProxy(dovecot_server.host, dovecot_server.port) as proxy:
        open_one = imaplib.IMAP4(proxy.host, proxy.port, timeout=5)
        proxy.go_down("refused")
        with pytest.raises(ConnectionRefusedError):
            imaplib.IMAP4(proxy.host, proxy.port, timeout=5)
        with pytest.raises((imaplib.IMAP4.abort, OSError)):
            open_one.noop()
        proxy.come_back()
        imaplib.IMAP4(proxy.host, proxy.port, timeout=5).logout()
        proxy.go_down("blackhole")
        with pytest.raises((TimeoutError, socket.timeout)):
            imaplib.IMAP4(proxy.host, proxy.port, timeout=0.3)
        proxy.come_back()
        _append(imaplib.IMAP4(proxy.host, proxy.port, timeout=5), imap_user,
                dovecot_server.password)
        assert len(_drafts(dovecot_server, imap_user)) == 1
