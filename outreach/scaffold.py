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


# shipped without the dot (package data and dotfiles do not mix), written with it
RENAMED = {"gitignore": ".gitignore"}


def _merge_gitignore(target: Path, ours: bytes) -> bool:
    """Add our lines to a .gitignore the folder already has (a git repository); True if any."""
    have = target.read_text(encoding="utf-8", errors="replace")
    present = {line.strip() for line in have.splitlines()}
    missing = [
        line
        for line in ours.decode().splitlines()
        if line.strip() and not line.startswith("#") and line.strip() not in present
    ]
    if not missing:
        return False
    sep = "" if not have or have.endswith("\n") else "\n"
    with target.open("a", encoding="utf-8") as f:
        f.write(sep + "# outreach: machine state and secrets\n" + "\n".join(missing) + "\n")
    return True


def init(folder: Path) -> list[Path]:
    """Write the starter files into ``folder``. Refuses if any of them already exists, except a
    .gitignore, to which the lines for outreach's state are added."""
    files = [(RENAMED.get(rel, rel), src) for rel, src in starter_files()]
    clashes = [rel for rel, _ in files if rel not in RENAMED.values() and (folder / rel).exists()]
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
        if rel in RENAMED.values() and target.exists():
            if _merge_gitignore(target, src.read_bytes()):
                written.append(target)
            continue
        target.write_bytes(src.read_bytes())
        if rel.startswith("cron/") and "." not in rel.split("/")[-1]:
            os.chmod(target, 0o755)
        written.append(target)
    return written
