"""Shared fixtures. Every test runs with a throwaway HOME and no network beyond 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parent.parent
JS_DIR = REPO / "tests" / "js"


def pytest_sessionstart(session: pytest.Session) -> None:
    """The feed tests read every calendar back with ical.js (Thunderbird's parser) too. Where
    npm exists and ical.js is not installed yet, install it from tests/js's lock file, so that
    the README's one test command runs the whole suite on a fresh clone."""
    if hasattr(session.config, "workerinput"):
        return  # a pytest-xdist worker: the controller has done it before starting the workers
    npm = shutil.which("npm")
    if npm is None or (JS_DIR / "node_modules" / "ical.js" / "package.json").is_file():
        return
    try:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, timeout=300,
                              capture_output=True, text=True)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"could not install ical.js in {JS_DIR}: {exc}", file=sys.stderr)
        return
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        print(f"could not install ical.js in {JS_DIR}: npm ci: {last}", file=sys.stderr)


@pytest.fixture(autouse=True)
def _guard(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fail any test that reaches for the real home directory or a non-loopback address."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("OUTREACH_CRASH_AT", raising=False)
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and not (host.startswith("127.") or host in ("::1", "localhost"))
            and self.family in (socket.AF_INET, socket.AF_INET6)
        ):
            raise AssertionError(f"test tried to reach {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that wait seconds on a timeout or a clock (marked ``waits``) start first, on
    half of the workers, while the other half keep the cores busy. pytest-xdist's worksteal
    hands each worker one contiguous part of this list (and steals from the ends of parts), so
    those parts begin with their share of the waiting tests; the rest keep their order. Left in
    file order they fell to one worker, which ended the suite seconds after the others."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    waiting = [item for item in items if item.get_closest_marker("waits")]
    if workers < 2 or not waiting:
        return
    rest = [item for item in items if not item.get_closest_marker("waits")]
    shares: list[list[pytest.Item]] = [[] for _ in range(workers)]
    sleepers = max(1, workers // 2)
    for i, item in enumerate(waiting):  # (in file order: the same on every worker)
        shares[i % sleepers].append(item)
    ordered: list[pytest.Item] = []
    left = len(items)
    for k in range(workers):  # the parts worksteal hands out, in its order and sizes
        size = left // (workers - k)
        left -= size
        take = max(0, size - len(shares[k]))
        ordered += shares[k] + rest[:take]
        del rest[:take]
    items[:] = ordered + rest
