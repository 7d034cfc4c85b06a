"""Debian packages the test suite needs (Dovecot, Chromium), installed when they are missing and
we may (root, or sudo without a password), as the suite installs ical.js: the README's test
command needs nothing else. One pytest-xdist worker installs, the others wait on a lock."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def ensure(find: Callable[[], T | None], packages: list[str], name: str) -> T | None:
    """What ``find`` finds, after installing ``packages`` with apt-get when it finds nothing."""
    found = find()
    if found is not None or shutil.which("apt-get") is None:
        return found
    sudo: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            return None
        sudo = ["sudo", "-n"]
    lock_path = os.path.join(tempfile.gettempdir(), f"outreach-{name}-install.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if find() is None:
            env = ["env", "DEBIAN_FRONTEND=noninteractive"]
            for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
                subprocess.run([*sudo, *env, *cmd], capture_output=True, timeout=900, check=False)
    return find()
