#!/usr/bin/env python3
"""The imap store against a local Dovecot: a night of drafts, and a read of the mailbox.

    python bench/imap_store.py [--drafts 1000] [--headers 5000] [--repeat 3]

A generated book (bench/books.py) with N birthdays due on one night, drafted by `outreach run`
in its own process into the dir store (the anchor: the same night with no mailbox at all), then
into a throwaway Dovecot on 127.0.0.1 (tests/dovecot.py; Debian's dovecot-imapd) over plain text
and over TLS. Then the mailbox read of mailbox.watch: the headers of --headers messages in the
inbox, against the same read without the body fetch guard (a full FETCH of each message; what
a reader that took bodies would cost). Medians of --repeat rounds, each on a new copy and a new
mailbox.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import books
import yaml
from measure import Row, median, outreach_cmd, parser, run, table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from dovecot import Dovecot  # the test suite's throwaway server

NIGHT = dt.date(2026, 11, 22)


def imap_settings(server: Dovecot, user: str, secret: Path, tls: bool) -> dict[str, object]:
    return {"host": server.host, "port": server.ssl_port if tls else server.port,
            "security": "ssl" if tls else "plain", "username": user,
            "password_file": str(secret), "ca_file": str(server.ca_file)}


def with_settings(root: Path, **fields: object) -> None:
    cfg = yaml.safe_load((root / "outreach.yaml").read_text())
    cfg.update(fields)
    (root / "outreach.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--drafts", type=int, default=1000, help="drafts in the night (1000)")
    ap.add_argument("--headers", type=int, default=5000, help="messages in the inbox (5000)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds (3)")
    args = ap.parse_args()
    from outreach.drafts.imap import ImapStore
    from outreach.model import ImapSettings

    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as name, Dovecot() as server:
        base = Path(name)
        secret = base / "imap-pw"
        secret.write_text(server.password)
        os.chmod(secret, 0o600)
        book = books.write_book(base / "book", args.drafts, NIGHT, due=args.drafts,
                                only_birthday=True, limits={"nightly_cap": 100000})
        walls: dict[str, list[float]] = {"dir": [], "plain": [], "ssl": []}
        for n in range(args.repeat):
            for kind in walls:
                root = base / f"{kind}-{n}"
                shutil.copytree(book, root)
                if kind != "dir":
                    user = server.new_user(f"b{kind}")
                    with_settings(root, drafts={"backend": "imap"},
                                  imap=imap_settings(server, user, secret, kind == "ssl"))
                child = run([*outreach_cmd(), "-C", str(root), "run", "--date", NIGHT.isoformat()])
                walls[kind].append(child.wall)
        user = server.new_user("h")
        conn = imaplib.IMAP4(server.host, server.port)
        conn.login(user, server.password)
        body = "x" * 2000
        for i in range(args.headers):
            conn.append("INBOX", "", None, (
                f"From: p{i % 50}@acme.example\r\nTo: alex@rivera.example\r\n"
                f"Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m{i}@x>\r\n"
                f"Subject: note {i}\r\n\r\n{body}\r\n").encode())
        settings = ImapSettings(host=server.host, port=server.port, security="plain",
                                username=user, password_file=str(secret))
        reads, fulls = [], []
        for _ in range(args.repeat):
            store = ImapStore(settings, base, watch=True)
            started = time.perf_counter()
            got = store.read_mail({}, dt.date(2026, 11, 1))
            reads.append(time.perf_counter() - started)
            assert len(got.messages) == min(args.headers, 5000)
            conn.select("INBOX", readonly=True)
            started = time.perf_counter()
            for lo in range(1, args.headers + 1, 200):
                conn.fetch(f"{lo}:{min(lo + 199, args.headers)}", "(BODY.PEEK[])")
            fulls.append(time.perf_counter() - started)
        conn.logout()
    d = median(walls["dir"])
    rows = [
        Row(f"run of {args.drafts:,}, imap plain", median(walls["plain"]), "s", d, "dir store", ""),
        Row(f"run of {args.drafts:,}, imap TLS", median(walls["ssl"]), "s", d, "dir store", ""),
        Row(f"read {args.headers:,} headers", median(reads), "s", median(fulls),
            "whole messages", ""),
    ]
    print(f"{args.repeat} rounds; Dovecot on 127.0.0.1")
    print(table(rows))


if __name__ == "__main__":
    main()
