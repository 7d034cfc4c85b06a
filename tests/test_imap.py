"""The imap store against a real Dovecot on 127.0.0.1 (tests/dovecot.py): each draft APPENDed
once with the \\Draft flag, after re-runs, kills, dropped connections and flaky commands; TLS
verified; every setting that cannot work is one line naming it."""

from __future__ import annotations

import email
import email.policy
import imaplib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dovecot
import pytest
from click.testing import CliRunner
from dovecot import Dovecot
from factories import campaign_data, contact_data, write_folder
from imap_proxy import FaultProxy

from outreach.cli import main
from outreach.drafts import imap as imap_store
from outreach.drafts.imap_conn import utf7_encode
from outreach.ledger import Ledger

dovecot_server = dovecot.dovecot_server
imap_user = dovecot.imap_user

DATE = "2026-11-22"


@pytest.fixture(autouse=True)
def _fast_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries pause a millisecond in these tests (the rules are the same)."""
    monkeypatch.setattr(imap_store.ImapStore, "_pause", lambda self, attempt: time.sleep(0.001))


def password_file(path: Path, secret: str = "pw-1", mode: int = 0o600) -> Path:
    path.write_text(secret + "\n")
    os.chmod(path, mode)
    return path


def imap_folder(tmp_path: Path, server: Dovecot, user: str, n: int = 12, *, port: int | None = None,
                security: str = "plain", campaigns: list[Any] | None = None,
                contacts: list[dict[str, Any]] | None = None, **imap: Any) -> Path:
    """A user folder whose drafts go to ``user``'s mailbox on ``server``: n birthdays today."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    people = contacts if contacts is not None else [
        contact_data(f"p{i:03d}-doe", dates={"birthday": "--11-22"}) for i in range(n)]
    settings = {"host": "127.0.0.1", "port": port or server.port, "security": security,
                "username": user, "password_file": str(password_file(tmp_path / "imap-pw")),
                "timeout_seconds": 5, **imap}
    if server.ca_file is not None:
        settings.setdefault("ca_file", str(server.ca_file))
    return write_folder(tmp_path / "book", people, campaigns or [campaign_data()],
                        drafts={"backend": "imap"}, imap=settings, limits={"nightly_cap": 500})


def run(root: Path, day: str = DATE, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", day, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def drafts_of(server: Dovecot, user: str, folder: str = "Drafts") -> dict[str, list[frozenset[str]]]:
    """Message-ID -> the flags of each message with it in the folder."""
    out: dict[str, list[frozenset[str]]] = {}
    for _, flags, raw in server.messages(user, folder):
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        out.setdefault(str(msg["Message-ID"]), []).append(flags)
    return out


def assert_exactly_once(server: Dovecot, user: str, expected: int) -> None:
    by_id = drafts_of(server, user)
    assert {k: len(v) for k, v in by_id.items() if len(v) != 1} == {}
    assert len(by_id) == expected
    assert all("\\Draft" in flags for each in by_id.values() for flags in each)


def test_a_run_appends_each_draft_once_with_the_draft_flag(tmp_path: Path, dovecot_server: Dovecot,
                                                           imap_user: str) -> None:
    """Twelve birthdays: twelve messages in Drafts, each flagged \\Draft, with the Message-ID the
    ledger records and the UID the server gave (APPENDUID); a re-run adds nothing."""
    root = imap_folder(tmp_path, dovecot_server, imap_user)
    code, _, err = run(root)
    assert (code, err) == (0, "")
    assert_exactly_once(dovecot_server, imap_user, 12)
    ledger = Ledger.open(root / ".outreach" / "state.db")
    rows = ledger.rows("drafted")
    ledger.close()
    assert sorted(r.message_id for r in rows) == sorted(drafts_of(dovecot_server, imap_user))
    assert all(r.ref and r.ref.startswith("Drafts;UIDVALIDITY=") and ";UID=" in r.ref for r in rows)
    assert run(root)[0] == 0
    assert_exactly_once(dovecot_server, imap_user, 12)


def test_backend_imap_on_the_command_line(tmp_path: Path, dovecot_server: Dovecot,
                                          imap_user: str) -> None:
    """drafts.backend is dir in outreach.yaml; run --backend imap puts the drafts in the
    mailbox (and none in the drafts folder on disk)."""
    import yaml

    root = imap_folder(tmp_path, dovecot_server, imap_user, 4)
    cfg = yaml.safe_load((root / "outreach.yaml").read_text())
    cfg["drafts"] = {"backend": "dir"}
    (root / "outreach.yaml").write_text(yaml.safe_dump(cfg))
    code, _, err = run(root, DATE, "--backend", "imap")
    assert (code, err) == (0, "")
    assert_exactly_once(dovecot_server, imap_user, 4)
    assert not (root / "drafts").exists()


def test_ssl_and_starttls_verify_the_certificate(tmp_path: Path, dovecot_server: Dovecot,
                                                 imap_user: str) -> None:
    """Over implicit TLS and over STARTTLS the drafts arrive; the server's certificate is trusted
    through ca_file only (verification stays on)."""
    root = imap_folder(tmp_path / "a", dovecot_server, imap_user, 2, port=dovecot_server.ssl_port,
                       security="ssl")
    assert run(root)[0] == 0
    assert_exactly_once(dovecot_server, imap_user, 2)
    other = dovecot_server.new_user()
    root = imap_folder(tmp_path / "b", dovecot_server, other, 3, security="starttls")
    assert run(root)[0] == 0
    assert_exactly_once(dovecot_server, other, 3)


def count(server: Dovecot, user: str, folder: str = "Drafts") -> int:
    """How many messages the folder holds (STATUS: cheap enough to poll)."""
    imap = imaplib.IMAP4(server.host, server.port)
    try:
        imap.login(user, server.password)
        _, data = imap.status(folder, "(MESSAGES)")
        return int(re.findall(rb"MESSAGES (\d+)", data[0] or b"")[0])
    finally:
        imap.logout()


@pytest.mark.slow
def test_five_random_kills_then_a_normal_run(tmp_path: Path, dovecot_server: Dovecot,
                                             imap_user: str) -> None:
    """Five runs killed (SIGKILL) at random moments while they append, then a normal run:
    exactly one draft per touch in the drafts folder."""
    n = 150
    root = imap_folder(tmp_path, dovecot_server, imap_user, n)
    rng = random.Random(20261201)
    seen = []
    for _ in range(5):
        have = count(dovecot_server, imap_user)
        target = rng.randint(have + 1, have + 25)  # somewhere in the next chunk or two
        proc = subprocess.Popen([sys.executable, "-m", "outreach", "-C", str(root), "run",
                                 "--date", DATE], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and count(dovecot_server, imap_user) < target:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        seen.append(count(dovecot_server, imap_user))
    assert seen == sorted(seen) and seen[-1] < n  # every kill came while drafts were appended
    code, _, err = run(root)
    assert (code, err) == (0, "")
    assert_exactly_once(dovecot_server, imap_user, n)


def test_killed_right_after_an_append_the_next_run_finds_it(tmp_path: Path, dovecot_server: Dovecot,
                                                           imap_user: str) -> None:
    """SIGKILL right after the server took the fourth draft, before the ledger knew: the next run
    finds it by Message-ID (recovered), and appends only the rest."""
    root = imap_folder(tmp_path, dovecot_server, imap_user, 6)
    proc = subprocess.run([sys.executable, "-m", "outreach", "-C", str(root), "run", "--date", DATE],
                          env={**os.environ, "OUTREACH_CRASH_AT": "after-append:4"},
                          capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert len(drafts_of(dovecot_server, imap_user)) == 4
    code, out, _ = run(root, DATE, "-v")
    assert code == 0
    assert sum(1 for line in out.splitlines() if line.startswith("recovered ")) == 4
    assert_exactly_once(dovecot_server, imap_user, 6)


@pytest.fixture
def proxy(dovecot_server: Dovecot) -> Iterator[FaultProxy]:
    with FaultProxy(dovecot_server.host, dovecot_server.port, seed=7) as p:
        yield p


def test_a_connection_dropped_after_append_makes_no_second_draft(
        tmp_path: Path, dovecot_server: Dovecot, imap_user: str, proxy: FaultProxy) -> None:
    """The server carries out three APPENDs but the connection drops before each answer: the
    store reconnects, finds each by Message-ID and appends nothing twice."""
    root = imap_folder(tmp_path, dovecot_server, imap_user, 5, port=proxy.port)
    proxy.drop_after("APPEND", times=3)
    code, _, err = run(root)
    assert (code, err) == (0, "")
    assert [f for f in proxy.faults if f[1] == "drop-after"] == [("APPEND", "drop-after")] * 3
    assert_exactly_once(dovecot_server, imap_user, 5)


def test_thirty_percent_of_commands_failing(tmp_path: Path, dovecot_server: Dovecot,
                                            imap_user: str, proxy: FaultProxy) -> None:
    """With 30 % of IMAP commands dropped, answered NO [UNAVAILABLE] or cut by a BYE, the night
    still drafts every touch exactly once (bounded retries on new connections)."""
    root = imap_folder(tmp_path, dovecot_server, imap_user, 25, port=proxy.port)
    proxy.fail_rate = 0.3
    code, _, err = run(root)
    assert (code, err) == (0, ""), err
    assert len(proxy.faults) >= 10  # the faults were there
    assert_exactly_once(dovecot_server, imap_user, 25)


def test_an_unreachable_server_ends_the_night_in_seconds(tmp_path: Path, dovecot_server: Dovecot,
                                                         imap_user: str, proxy: FaultProxy) -> None:
    """Connections refused: one line naming the server, exit 1, nothing drafted, in seconds."""
    root = imap_folder(tmp_path, dovecot_server, imap_user, 3, port=proxy.port)
    proxy.go_down("refused")
    started = time.monotonic()
    code, out, err = run(root)
    assert time.monotonic() - started < 10
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and f"127.0.0.1:{proxy.port} cannot be reached" in err
    assert drafts_of(dovecot_server, imap_user) == {}


@pytest.mark.waits
def test_a_server_that_never_answers_ends_the_night_in_seconds(
        tmp_path: Path, dovecot_server: Dovecot, imap_user: str, proxy: FaultProxy,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections accepted and never answered (a black hole): connecting waits CONNECT_SECONDS
    (10 s; 2 here), the next try RETRY_CONNECT_SECONDS (5 s; 1 here), then one line and exit 1;
    nothing drafted."""
    from outreach.drafts import imap_conn

    assert (imap_conn.CONNECT_SECONDS, imap_conn.RETRY_CONNECT_SECONDS) == (10, 5)
    monkeypatch.setattr(imap_conn, "CONNECT_SECONDS", 2.0)
    monkeypatch.setattr(imap_conn, "RETRY_CONNECT_SECONDS", 1.0)
    root = imap_folder(tmp_path, dovecot_server, imap_user, 3, port=proxy.port)
    proxy.go_down("blackhole")
    started = time.monotonic()
    code, out, err = run(root)
    took = time.monotonic() - started
    assert 2.9 < took < 5
    assert code == 1 and out == "" and "cannot be reached: no answer" in err
    proxy.come_back()
    assert drafts_of(dovecot_server, imap_user) == {}


def one_line(root: Path, code: int, *words: str) -> str:
    got, out, err = run(root)
    assert (got, out) == (code, ""), err
    assert err.count("\n") == 1, err
    for w in words:
        assert w in err
    return err


def test_plain_text_to_a_host_that_is_not_loopback_is_refused(tmp_path: Path,
                                                              dovecot_server: Dovecot,
                                                              imap_user: str) -> None:
    """security: plain to imap.example.com: refused before connecting, exit 2."""
    root = imap_folder(tmp_path, dovecot_server, imap_user, 1, host="imap.example.com")
    one_line(root, 2, "imap.security is plain", "clear text", "security: ssl")


def test_a_wrong_password_is_exit_5(tmp_path: Path, dovecot_server: Dovecot,
                                    imap_user: str) -> None:
    """The server refuses the login: one line naming the user and the fix, exit 5."""
    root = imap_folder(tmp_path, dovecot_server, imap_user, 1)
    password_file(tmp_path / "imap-pw", "not-the-password")
    one_line(root, 5, f"refused the login of {imap_user}", "app password")


def test_a_password_file_others_can_read_is_refused(tmp_path: Path, dovecot_server: Dovecot,
                                                    imap_user: str) -> None:
    """imap.password_file with mode 0644: exit 2 and the chmod to run."""
    root = imap_folder(tmp_path, dovecot_server, imap_user, 1)
    os.chmod(tmp_path / "imap-pw", 0o644)
    one_line(root, 2, "imap.password_file", "0644", "chmod 600")


def test_an_unknown_drafts_folder_is_named(tmp_path: Path, dovecot_server: Dovecot,
                                           imap_user: str) -> None:
    """imap.drafts_folder that the server does not have: exit 2, with the folders it has."""
    root = imap_folder(tmp_path, dovecot_server, imap_user, 1, drafts_folder="Entwürfe")
    one_line(root, 2, "imap.drafts_folder 'Entwürfe' is not a folder", "Drafts", "INBOX")


def test_a_server_without_special_use(tmp_path: Path, imap_user: str) -> None:
    """No folder marked \\Drafts: the one named Drafts is used; without one either, exit 2 naming
    imap.drafts_folder; a folder with a non-ASCII name can be named in it."""
    with Dovecot(special_use=False, folders=("Drafts", "Sent")) as server:
        root = imap_folder(tmp_path / "a", server, imap_user, 2)
        assert run(root)[0] == 0
        assert_exactly_once(server, imap_user, 2)
    with Dovecot(special_use=False, folders=("Brouillons", "Entwürfe")) as server:
        root = imap_folder(tmp_path / "b", server, imap_user, 2)
        one_line(root, 2, "marks no folder \\Drafts", "imap.drafts_folder")
        root = imap_folder(tmp_path / "c", server, imap_user, 2, drafts_folder="Entwürfe")
        assert run(root)[0] == 0
        assert len(drafts_of(server, imap_user, utf7_encode("Entwürfe"))) == 2
        assert utf7_encode("Entwürfe") == "Entw&APw-rfe"  # RFC 3501's modified UTF-7


def test_a_certificate_for_another_name_is_refused(tmp_path: Path, imap_user: str) -> None:
    """The certificate names mail.other.example, not 127.0.0.1: exit 2 naming imap.host and
    imap.ca_file; nothing drafted."""
    with Dovecot(cert_hosts="DNS:mail.other.example") as server:
        root = imap_folder(tmp_path, server, imap_user, 1, port=server.ssl_port, security="ssl")
        one_line(root, 2, "does not verify", "imap.host", "imap.ca_file")
        assert drafts_of(server, imap_user) == {}


def test_a_server_without_starttls_is_refused(tmp_path: Path, imap_user: str) -> None:
    """security: starttls to a server that offers none: exit 2, nothing sent in clear text."""
    with Dovecot(tls=False) as server:
        root = imap_folder(tmp_path, server, imap_user, 1, security="starttls")
        one_line(root, 2, "offers no STARTTLS", "nothing was sent in clear text")


def test_a_deleted_draft_is_never_made_again(tmp_path: Path, dovecot_server: Dovecot,
                                             imap_user: str) -> None:
    """The user deletes two of three drafts: the next runs make none of them again."""
    root = imap_folder(tmp_path, dovecot_server, imap_user, 3)
    assert run(root)[0] == 0
    for uid, _, _ in dovecot_server.messages(imap_user, "Drafts")[:2]:
        dovecot_server.delete(imap_user, "Drafts", uid)
    assert run(root)[0] == 0 and run(root, "2026-11-23")[0] == 0
    assert len(drafts_of(dovecot_server, imap_user)) == 1


def test_a_read_of_the_mailbox_is_bounded(tmp_path: Path, dovecot_server: Dovecot,
                                          imap_user: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve messages, a read of at most five: the newest five (headers only, never the body, the
    messages left unread), and the mark after the newest; the next read finds only what came
    since."""
    import datetime as dt

    from outreach.drafts import MAIL_FIELDS
    from outreach.drafts.imap import ImapStore
    from outreach.model import ImapSettings

    monkeypatch.setattr(imap_store, "MAIL_MAX", 5)
    for n in range(12):
        dovecot_server.deliver(imap_user, "INBOX", f"From: p{n}@x.example\r\nTo: a@b.example\r\n"
                               f"Message-ID: <m{n}@x>\r\nX-Other: no\r\n\r\nBODY {n}\r\n".encode())
    settings = ImapSettings(host="127.0.0.1", port=dovecot_server.port, security="plain",
                            username=imap_user, password_file=str(password_file(tmp_path / "pw")))
    store = ImapStore(settings, tmp_path, watch=True)
    read = store.read_mail({}, dt.date(2026, 11, 1))
    assert [re.findall(rb"<(m\d+)@x>", f.headers)[0] for f in read.messages] == [
        b"m7", b"m8", b"m9", b"m10", b"m11"]
    assert all(b"BODY" not in f.headers and b"X-Other" not in f.headers for f in read.messages)
    assert all(f.headers.split(b":")[0].decode() in MAIL_FIELDS for f in read.messages)
    assert all("\\Seen" not in flags for _, flags, _ in dovecot_server.messages(imap_user, "INBOX"))
    assert read.marks["inbox"].endswith(":12")
    dovecot_server.deliver(imap_user, "INBOX", b"From: late@x.example\r\nMessage-ID: <late@x>\r\n\r\nx\r\n")
    again = store.read_mail(read.marks, dt.date(2026, 11, 1))
    assert [f.headers for f in again.messages] == [b"From: late@x.example\r\nMessage-ID: <late@x>\r\n\r\n"]


def test_check_names_an_imap_setting_that_cannot_work(tmp_path: Path, dovecot_server: Dovecot,
                                                      imap_user: str) -> None:
    """outreach check, without connecting: a password file others may read, then plain text to
    another machine, each one line and exit 2; the settings fixed, check passes."""
    root = imap_folder(tmp_path, dovecot_server, imap_user, 1)
    os.chmod(tmp_path / "imap-pw", 0o644)
    result = CliRunner().invoke(main, ["-C", str(root), "check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"outreach.yaml: imap.password_file {tmp_path / 'imap-pw'} may be read by others "
        f"(mode 0644); run 'chmod 600 {tmp_path / 'imap-pw'}'"]
    os.chmod(tmp_path / "imap-pw", 0o600)
    assert CliRunner().invoke(main, ["-C", str(root), "check"]).exit_code == 0
    root = imap_folder(tmp_path / "b", dovecot_server, imap_user, 1, host="imap.example.com")
    result = CliRunner().invoke(main, ["-C", str(root), "check"])
    assert result.exit_code == 2 and "imap.security is plain for imap.example.com" in result.stderr


def test_gmail_like_and_localized_folder_names(tmp_path: Path, imap_user: str) -> None:
    """Folders as Gmail and a German server name them: "[Gmail]/Entwürfe" marked \\Drafts (a
    name with brackets, a hierarchy and a non-ASCII letter) is found by its attribute; the
    drafts land there, and mailbox awareness finds "[Gmail]/Gesendet" by \\Sent."""
    with Dovecot(folders=("[Gmail]/Entwürfe", "[Gmail]/Gesendet"),
                 uses={"[Gmail]/Entwürfe": "Drafts", "[Gmail]/Gesendet": "Sent"}) as server:
        root = imap_folder(tmp_path, server, imap_user, 2)
        cfg = root / "outreach.yaml"
        cfg.write_text(cfg.read_text() + "mailbox: {watch: true}\n")
        code, _, err = run(root)
        assert (code, err) == (0, "")
        assert len(drafts_of(server, imap_user, utf7_encode("[Gmail]/Entwürfe"))) == 2
