"""What the YAML files of the book read to, kept from one night to the next, keyed by their bytes.

Reading 100,000 contacts from YAML is most of a night's work when nothing changed. The snapshot
(``book.snapshot`` beside the ledger, in ``.outreach/``) holds, for each YAML file read the fast
way, the SHA-256 of its bytes, the values it read to and the lines of its top two levels. A file
is still read (and hashed) every night; when its bytes are the ones recorded, its values come
from the snapshot instead of the YAML parser, and they are validated again, as the file's would
be, so every check of the night is made (a time zone, a country or an address the packages no
longer accept is still reported). A changed file is read and parsed again.

The snapshot holds nothing but what the files held: plain values, no validated model, no
history, nothing that is not in those bytes. One that is damaged (its own SHA-256 does not
match), of another version, or not readable is ignored and written again; it is written
atomically (a temporary file, fsync, rename), never followed through a link, mode 0600.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from outreach import __version__
from outreach.yamlbuild import Loc

FORMAT = 1
_DATE, _DATETIME = "\x00date", "\x00datetime"  # no YAML key holds a NUL: unambiguous tags
_MAX_BYTES = 1 << 31


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _stamp() -> dict[str, Any]:
    return {"format": FORMAT, "outreach": __version__, "pyyaml": yaml.__version__}


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, dt.date):
        return {_DATE: value.isoformat()}
    raise TypeError(f"not kept in a snapshot: {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if _DATE in obj:
            return dt.date.fromisoformat(obj[_DATE])
        if _DATETIME in obj:
            return dt.datetime.fromisoformat(obj[_DATETIME])
    return obj


class Snapshot:
    """The files' values as last read; :meth:`save` writes what changed."""

    def __init__(self, path: Path | None, files: dict[str, Any] | None = None) -> None:
        self.path = path
        self.files: dict[str, Any] = files or {}
        self.changed = False
        self.used: set[str] = set()  # the files this load asked for: the others are dropped

    @classmethod
    def open(cls, path: Path) -> Snapshot:
        """The snapshot at ``path``; an empty one when there is none or it cannot be trusted."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return cls(path)
        try:
            with os.fdopen(fd, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fd).st_mode):  # a pipe or a device: not read
                    return cls(path)
                head = fh.readline(4096)
                body = fh.read(_MAX_BYTES)
            stamp = json.loads(head)
            if not isinstance(stamp, dict) or stamp.get("sha256") != digest(body):
                return cls(path)
            if {k: stamp.get(k) for k in _stamp()} != _stamp():
                return cls(path)
            files = json.loads(body, object_hook=_decode)
            if not isinstance(files, dict):
                return cls(path)
            return cls(path, files)
        except (OSError, ValueError, TypeError, RecursionError):
            return cls(path)

    def get(self, name: str, sha: str) -> tuple[Any, dict[Loc, int]] | None:
        """The values and top lines of file ``name`` if its bytes are those of the snapshot."""
        self.used.add(name)
        entry = self.files.get(name)
        if not isinstance(entry, dict) or entry.get("sha256") != sha:
            return None
        try:
            lines = {tuple(loc): int(line) for loc, line in entry["lines"]}
        except (KeyError, TypeError, ValueError):
            return None
        if not all(isinstance(p, str | int) for loc in lines for p in loc):
            return None
        return entry.get("data"), lines

    def put(self, name: str, sha: str, data: Any, lines: dict[Loc, int]) -> None:
        self.used.add(name)
        entry = {"sha256": sha, "data": data, "lines": [[list(k), v] for k, v in lines.items()]}
        old = self.files.get(name)
        if not isinstance(old, dict) or old.get("sha256") != sha:
            self.files[name] = entry
            self.changed = True

    def prune(self) -> None:
        """Forget the files this load did not ask for (a file no longer in the book)."""
        if self.used and set(self.files) - self.used:
            self.files = {k: v for k, v in self.files.items() if k in self.used}
            self.changed = True

    def save(self) -> bool:
        """Write the snapshot if anything changed; False when it could not be written (the
        next night reads the files again: nothing is lost)."""
        self.prune()
        if not self.changed or self.path is None:
            return True
        try:
            body = json.dumps(
                self.files, default=_encode, ensure_ascii=False, separators=(",", ":")
            )
            raw = body.encode("utf-8")
        except (TypeError, ValueError, RecursionError):
            return False
        head = json.dumps({**_stamp(), "sha256": digest(raw)}).encode("ascii") + b"\n"
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(tmp, flags, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(head)
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):  # the folder may be a file, or gone
                tmp.unlink(missing_ok=True)
            return False
        self.changed = False
        return True
