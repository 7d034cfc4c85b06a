"""``outreach init``: copy the starter folder shipped in the package; never overwrite."""

from __future__ import annotations

import os
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from outreach.errors import UsageError


def _files(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name.startswith(("__", ".")) or child.name.endswith(".pyc"):
            continue
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            out.extend(_files(child, rel + "/"))
        else:
            out.append((rel, child))
    return out


def starter_files() -> list[tuple[str, Traversable]]:
    return _files(resources.files("outreach") / "scaffold")


def init(folder: Path) -> list[Path]:
    """Write the starter files into ``folder``. Refuses if any of them already exists."""
    files = starter_files()
    clashes = [rel for rel, _ in files if (folder / rel).exists()]
    if clashes:
        raise UsageError(
            f"{folder} already has {', '.join(sorted(clashes)[:3])}"
            + (" and more" if len(clashes) > 3 else "")
            + "; nothing was written",
            "pick an empty folder: outreach init NEW-FOLDER",
        )
    written: list[Path] = []
    for rel, src in files:
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(src.read_bytes())
        if rel.startswith("cron/") and "." not in rel.split("/")[-1]:
            os.chmod(target, 0o755)
        written.append(target)
    return written
