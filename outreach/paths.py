"""Where a path written in outreach.yaml (or given on the command line) points."""

from __future__ import annotations

import os
from pathlib import Path


def resolve(root: Path, value: str | Path, *, variables: bool = False) -> Path:
    """``~`` expanded (and ``$VARS`` when ``variables``); a relative path is relative to the
    user's folder ``root``, never to the directory cron happens to start in."""
    text = os.path.expandvars(str(value)) if variables else str(value)
    path = Path(text).expanduser()
    return path if path.is_absolute() else root / path
