"""`outreach` run as a user whom file permissions bind, whoever runs the tests.

Root reads and writes through file modes (the capabilities CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH), so a test of an unreadable file or a read-only folder would show nothing
as root, which is how CI runs. As root, the command runs under ``setpriv`` with those two
capabilities dropped from its bounding set: it is still root, owns the same files, and is refused
by their modes like any user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DAC = "-dac_override,-dac_read_search"


def prefix() -> list[str]:
    """What to run a command under so that file permissions bind it."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("tests run as root need setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
    return [setpriv, f"--bounding-set={DAC}", f"--inh-caps={DAC}"]


def outreach(root: Path, *args: str, timeout: float = 60) -> tuple[int, str, str]:
    """``outreach -C root args...`` in its own process, bound by file permissions: (exit code,
    stdout, stderr)."""
    done = subprocess.run(
        [*prefix(), sys.executable, "-m", "outreach", "-C", str(root), *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    return done.returncode, done.stdout, done.stderr
