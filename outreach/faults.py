"""Fault injection for the crash tests: one seam, a no-op unless the environment asks for it.

The crash tests (``tests/test_run.py``, ``tests/test_gmail.py``) need a run to die at an exact
moment: right after a draft was written and before the ledger recorded it. The executor marks
that moment with ``crash_point("after-write")``; nothing else in the package knows about faults.

``OUTREACH_CRASH_AT=POINT[:N]`` (read once, the first time a point is reached) makes the process
kill itself with SIGKILL the Nth time it reaches ``POINT`` (N defaults to 1). Unset, or naming
another point, every ``crash_point`` call returns at once. The variable is never written back.
"""

from __future__ import annotations

import os
import signal

ENV = "OUTREACH_CRASH_AT"

_armed: list[tuple[str, int]] | None = None  # [(point, passes left)], read from ENV once


def _read() -> list[tuple[str, int]]:
    spec = os.environ.get(ENV, "")
    if not spec:
        return []
    point, _, count = spec.partition(":")
    return [(point, int(count or "1"))]


def crash_point(name: str) -> None:
    """Die here (SIGKILL, no clean-up) when ``OUTREACH_CRASH_AT`` names this point and this is
    its Nth pass; otherwise do nothing."""
    global _armed
    if _armed is None:
        _armed = _read()
    if not _armed or _armed[0][0] != name:
        return
    left = _armed[0][1] - 1
    if left <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
    _armed = [(name, left)]
