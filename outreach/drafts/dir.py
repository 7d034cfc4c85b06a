"""The ``dir`` store: one RFC 5322 ``.eml`` file per draft in a folder.

File names derive from the touch key, so the same touch always lands on the same name. Files are
written to a temporary name, flushed to disk, then renamed: a crash leaves either the whole draft
or none of it. ``X-Unsent: 1`` makes Outlook and others open the file as a draft to edit.

A folder that cannot hold any draft at all (a file where it should be, no right to write) is one
line and exit 2 before the run records anything (:meth:`DirStore.check`); a draft that cannot be
written later (a full disk) fails its touch only, and the next run retries it.
"""

from __future__ import annotations

import os
import re
from email.parser import BytesHeaderParser
from email.policy import SMTP
from pathlib import Path

from outreach.drafts import BaseStore, Stored
from outreach.errors import EXIT_INVALID, OutreachError, StoreError
from outreach.fsutil import write_atomic
from outreach.message import Draft

_TMP_PREFIX = ".tmp-"
_HINT = "set drafts.dir in outreach.yaml to a folder you can write in"


class FolderUnusable(OutreachError):
    """The drafts folder cannot hold a single draft: nothing is tried, nothing recorded."""

    exit_code = EXIT_INVALID


def file_name(key: str) -> str:
    """``birthday/jane-doe/2026`` -> ``birthday--jane-doe--2026.eml``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", key.replace("/", "--")) + ".eml"


class DirStore(BaseStore):
    name = "dir"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: dict[str, Path] | None = None

    @property
    def where(self) -> str:
        return str(self.folder)

    def check(self) -> None:
        """Before anything is recorded: the folder is one that can be written in, or one that
        can be made there (the first draft makes it; a night with nothing due leaves none)."""
        folder = self.folder
        nothing = "nothing was drafted"
        try:
            os.stat(folder)
        except (FileNotFoundError, NotADirectoryError):
            pass  # not made yet: its nearest folder decides
        except OSError as exc:  # a name too long, a loop of links, no right to look
            raise FolderUnusable(
                f"cannot use the drafts folder {folder}: {exc.strerror or exc}; {nothing}", _HINT
            ) from None
        there = next((p for p in (folder, *folder.parents) if os.path.exists(p)), Path("."))
        if not os.path.isdir(there):
            if there == folder:
                raise FolderUnusable(
                    f"the drafts folder {folder} is a file; {nothing}",
                    f"move the file aside, or {_HINT}",
                )
            raise FolderUnusable(
                f"cannot make the drafts folder {folder}: {there} is a file; {nothing}",
                f"move the file aside, or {_HINT}",
            )
        if not os.access(there, os.W_OK | os.X_OK):
            why = "read-only file system" if _read_only(there) else "permission denied"
            what = "write in the drafts folder" if there == folder else "make the drafts folder"
            raise FolderUnusable(
                f"cannot {what} {folder}: {why}; {nothing}",
                f"make {there} writable for the user that runs outreach, or {_HINT}",
            )

    def _scan(self) -> dict[str, Path]:
        if self._index is None:
            index: dict[str, Path] = {}
            parser = BytesHeaderParser(policy=SMTP)
            if self.folder.is_dir():
                for path in sorted(self.folder.glob("*.eml")):
                    try:
                        with path.open("rb") as fh:
                            headers = parser.parse(fh)
                    except OSError:
                        continue
                    mid = str(headers.get("Message-ID", "")).strip()
                    if mid:
                        index[mid] = path
            self._index = index
        return self._index

    def find(self, message_id: str) -> Stored | None:
        path = self._scan().get(message_id)
        if path is not None and path.exists():
            return Stored(message_id, str(path))
        return None

    def create(self, draft: Draft) -> Stored:
        msg = draft.message
        if "X-Unsent" not in msg:
            msg["X-Unsent"] = "1"
        data = msg.as_bytes()  # the message's own policy: SMTP line ends, folded subjects
        target = self.folder / file_name(draft.key)
        try:
            write_atomic(target, data, prefix=_TMP_PREFIX)
        except OSError as exc:
            raise StoreError(
                f"cannot write {target}: {exc.strerror or exc}",
                "check that the drafts folder is writable and the disk has room",
            ) from None
        self._scan()[draft.message_id] = target
        return Stored(draft.message_id, str(target))

    def clean(self) -> None:
        """Remove temporary files left by a crash (only this store's own prefix)."""
        if self.folder.is_dir():
            for tmp in self.folder.glob(f"{_TMP_PREFIX}*"):
                tmp.unlink(missing_ok=True)


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False
