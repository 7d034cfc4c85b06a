"""A fault-injecting TCP proxy in front of a plain-text IMAP server (e.g. tests/dovecot.py).

Usage::

    with Dovecot(tls=False) as server, FaultProxy(server.host, server.port) as proxy:
        proxy.drop_after("APPEND")           # the next APPEND is carried out, its reply lost
        imap = imaplib.IMAP4(proxy.host, proxy.port)

The client->server stream is split into commands: a tagged line, plus, when it ends with a literal
``{n}`` or ``{n+}``, the next n bytes and the rest of the line (again possibly with literals).
Lines without a space (AUTHENTICATE answers, IDLE's DONE) are forwarded as they are. The
server->client stream is forwarded as it comes (line by line, literals skipped over), except where
a fault says otherwise. Faults, chosen per command:

* ``drop-before``: close both sockets without forwarding the command;
* ``drop-after``: forward the command, wait for the server's tagged reply, close both sockets
  without forwarding it (the command was carried out);
* ``no``: answer ``TAG NO [UNAVAILABLE] injected fault`` without forwarding the command;
* ``bye``: send ``* BYE injected`` and close both sockets.

``fail_rate`` hits every tagged command except LOGOUT with that probability (one of the four
kinds, drawn from ``random.Random(seed)``); ``drop_after(name, times)`` hits the next ``times``
commands of that name deterministically. ``go_down("refused")`` stops listening and closes every
connection; ``go_down("blackhole")`` accepts and never answers nor closes (existing connections go
silent too); ``come_back()`` ends either. ``faults`` records (command, kind), ``commands`` the
names of all commands seen (``UID FETCH`` for UID commands).
"""

from __future__ import annotations

import random
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress

from lifecycle import Started

__all__ = ["FAULT_KINDS", "FaultProxy"]

FAULT_KINDS = ("drop-before", "drop-after", "no", "bye")
_LITERAL = re.compile(rb"\{(\d+)(\+?)\}\r\n$")


class _Conn:
    """One client connection and its upstream; close() is idempotent and wakes both pumps."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None) -> None:
        self.client = client
        self.upstream = upstream
        self.drop_tag: bytes | None = None  # the tagged reply that ends this connection unsent
        self.closed = False
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        for sock in (self.client, self.upstream):
            if sock is not None:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


class FaultProxy(Started):
    """A TCP proxy on 127.0.0.1 (a free port) to ``(host, port)``, injecting IMAP faults."""

    def __init__(self, host: str, port: int, *, seed: int = 0) -> None:
        self.target = (host, port)
        self.host = "127.0.0.1"
        self.port = 0
        self.fail_rate = 0.0
        self.faults: list[tuple[str, str]] = []
        self.commands: list[str] = []
        self._rng = random.Random(seed)
        self._forced: dict[str, int] = {}
        self._mode = "up"  # "up", "refused" or "blackhole"
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._listener: socket.socket | None = None
        self._conns: list[_Conn] = []
        self._closed = False
        self._thread: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._listen()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"imap-proxy-{self.port}")
        self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        self._stop_listening()
        self._close_conns()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))  # port 0 the first time, the same port on come_back
        sock.listen(64)
        self.port = sock.getsockname()[1]
        with self._lock:
            self._listener = sock
            self._wake.notify_all()

    def _stop_listening(self) -> None:
        with self._lock:
            sock, self._listener = self._listener, None
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes accept(); new connections are refused
            sock.close()

    def _close_conns(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()

    # -- faults ------------------------------------------------------------------------------

    def drop_after(self, command: str, times: int = 1) -> None:
        """The next ``times`` commands named ``command`` get ``drop-after``."""
        with self._lock:
            self._forced[command.upper()] = self._forced.get(command.upper(), 0) + times

    def go_down(self, mode: str) -> None:
        """``refused``: nothing listens, every connection closed; ``blackhole``: silence."""
        if mode not in ("refused", "blackhole"):
            raise ValueError(f"go_down: unknown mode {mode!r}")
        with self._lock:
            self._mode = mode
        if mode == "refused":
            self._stop_listening()
            self._close_conns()

    def come_back(self) -> None:
        """Listen and forward again; connections left hanging by a blackhole are closed."""
        with self._lock:
            was, self._mode = self._mode, "up"
        if was == "blackhole":
            self._close_conns()
        elif was == "refused":
            self._listen()

    def _fault_for(self, name: str) -> str | None:
        with self._lock:
            self.commands.append(name)
            kind: str | None = None
            if self._forced.get(name, 0) > 0:
                self._forced[name] -= 1
                kind = "drop-after"
            elif name != "LOGOUT" and self.fail_rate > 0 and self._rng.random() < self.fail_rate:
                kind = self._rng.choice(FAULT_KINDS)
            if kind is not None:
                self.faults.append((name, kind))
            return kind

    # -- threads -----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while True:
            with self._lock:
                while self._listener is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                listener = self._listener
            assert listener is not None
            try:
                client, _ = listener.accept()
            except OSError:
                continue  # stopped listening (go_down or close)
            with self._lock:
                mode = self._mode
            upstream = None
            if mode == "up":
                try:
                    upstream = socket.create_connection(self.target, timeout=10)
                    upstream.settimeout(None)
                except OSError:
                    client.close()
                    continue
            for sock in (client, upstream):
                if sock is not None:  # line-by-line writes: no Nagle/delayed-ACK stalls
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(client, upstream)
            with self._lock:
                self._conns = [c for c in self._conns if not c.closed] + [conn]
            if upstream is None:
                continue  # a blackhole: held open, never read, never answered
            for target in (self._client_to_server, self._server_to_client):
                threading.Thread(target=target, args=(conn,), daemon=True).start()

    def _silent(self) -> bool:
        return self._mode == "blackhole"

    def _pieces(
        self, sock: socket.socket, refused: Callable[[], bool] = lambda: False
    ) -> Iterator[tuple[bytes, bool]]:
        """What ``sock`` sends, as IMAP lines and the literals they announce: (bytes, whether
        they are a literal's); nothing while the proxy is a black hole. Ends with the socket.
        ``refused()``, asked after each line: its literal will not come (its command was
        answered NO before the client sent it)."""
        buf = b""
        literal = 0  # bytes of a literal still to pass
        with suppress(OSError):
            while data := sock.recv(65536):
                if self._silent():
                    continue
                buf += data
                while buf:
                    if literal:
                        chunk, buf = buf[:literal], buf[literal:]
                        literal -= len(chunk)
                        yield chunk, True
                        continue
                    end = buf.find(b"\r\n")
                    if end < 0:
                        break
                    line, buf = buf[:end + 2], buf[end + 2:]
                    found = _LITERAL.search(line)
                    literal = int(found.group(1)) if found else 0
                    yield line, False
                    if refused():
                        literal = 0

    def _server_to_client(self, conn: _Conn) -> None:
        assert conn.upstream is not None
        with suppress(OSError):
            for piece, in_literal in self._pieces(conn.upstream):
                tag = conn.drop_tag
                if not in_literal and tag is not None and piece.startswith(tag + b" "):
                    break  # the command was carried out; its reply is lost
                conn.client.sendall(piece)
        conn.close()

    def _client_to_server(self, conn: _Conn) -> None:
        assert conn.upstream is not None
        in_command = False  # the previous line ended with a literal: this one continues it
        swallow = False  # the command was answered here: its rest is not forwarded
        refused = [False]  # answered NO before its synchronising literal: the client sends none
        with suppress(OSError):
            for line, in_literal in self._pieces(conn.client, lambda: refused[0]):
                refused[0] = False
                if in_literal:
                    if not swallow:
                        conn.upstream.sendall(line)
                    continue
                found = _LITERAL.search(line)
                if not in_command:
                    swallow = False
                    words = line.split()
                    if len(words) >= 2:
                        name = words[1].decode("ascii", "replace").upper()
                        if name == "UID" and len(words) >= 3:
                            name += " " + words[2].decode("ascii", "replace").upper()
                        kind = self._fault_for(name)
                        if kind in ("drop-before", "bye"):
                            if kind == "bye":
                                conn.client.sendall(b"* BYE injected\r\n")
                            break
                        if kind == "no":
                            conn.client.sendall(words[0] + b" NO [UNAVAILABLE] injected fault\r\n")
                            if found is None or not found.group(2):
                                refused[0] = found is not None
                                continue  # a synchronising literal is never sent now
                            swallow = True
                        elif kind == "drop-after":
                            conn.drop_tag = words[0]
                in_command = found is not None
                if not swallow:
                    conn.upstream.sendall(line)
        conn.close()
