"""Passwords of the stores and sources that log in with one (IMAP, CardDAV): from a file only
the user may read, or from the output of a command (``pass show mail/fastmail``). Never logged,
never in a message."""

from __future__ import annotations

import ipaddress
import shlex
import stat
import subprocess
from pathlib import Path

from outreach.errors import EXIT_INVALID, OutreachError
from outreach.paths import resolve


class SecretError(OutreachError):
    """A password that cannot be had: one line naming the setting and the fix."""

    exit_code = EXIT_INVALID


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: the one place a password may go in clear text."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read(file: str | None, command: str | None, root: Path, setting: str) -> str:
    """The password from ``file`` (mode 0600: refused when others may read it) or ``command``;
    ``setting`` names where they are set ("imap", "sync[1]")."""
    if file and command:
        raise SecretError(
            f"{setting}.password_file and {setting}.password_command are both set",
            "keep one of them in outreach.yaml",
        )
    if file:
        path = resolve(root, file, variables=True)
        try:
            st = path.stat()
            if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise SecretError(
                    f"{setting}.password_file {path} may be read by others "
                    f"(mode {stat.S_IMODE(st.st_mode):04o})",
                    f"run 'chmod 600 {path}'",
                )
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SecretError(
                f"{setting}.password_file {path} does not exist",
                f"write the password into it (mode 0600), or set {setting}.password_command",
            ) from None
        except (OSError, UnicodeError) as exc:
            raise SecretError(
                f"cannot read {setting}.password_file {path}: {exc}", "check the file"
            ) from None
        found = text.strip("\r\n")
    elif command:
        found = _output(command, setting)
    else:
        raise SecretError(
            f"{setting}: neither password_file nor password_command is set",
            f"set {setting}.password_file to a file holding the password (mode 0600)",
        )
    if not found:
        raise SecretError(f"the {setting} password is empty", f"check {setting}.password_file")
    return found


def _output(command: str, setting: str) -> str:
    try:
        done = subprocess.run(
            shlex.split(command),
            capture_output=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise SecretError(
            f"{setting}.password_command could not run: {exc}", "check the command in outreach.yaml"
        ) from None
    if done.returncode != 0:
        raise SecretError(
            f"{setting}.password_command exited with code {done.returncode}",
            "run it by hand to see why (it must print the password)",
        )
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return lines[0] if lines else ""
