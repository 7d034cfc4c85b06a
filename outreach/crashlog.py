"""A bug's way out: one line for the user, the traceback in a private log, exit 3."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import NoReturn

from outreach import __version__, output
from outreach.errors import EXIT_CRASH


def crash(exc: BaseException, root: Path) -> NoReturn:
    """A bug: one line, the traceback appended to .outreach/crash.log (mode 0600, no symlink
    followed), else to a new private temporary file; exit 3."""
    import os
    import tempfile

    text = (
        f"--- outreach {__version__} {' '.join(sys.argv)}\n"
        + "".join(traceback.format_exception(exc))
        + "\n"
    )
    where: str | None = None
    try:
        (root / ".outreach").mkdir(parents=True, exist_ok=True)
        path = root / ".outreach" / "crash.log"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(text)
        where = str(path)
    except OSError:
        try:
            fd, name = tempfile.mkstemp(prefix="outreach-crash-", suffix=".log")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            where = name
        except OSError:
            pass
    detail = f"the details are in {where}" if where else "no crash log could be written"
    first = (str(exc).splitlines() or [""])[0]
    output.say(f"outreach crashed: {type(exc).__name__}: {first}; {detail}", err=True)
    sys.exit(EXIT_CRASH)
