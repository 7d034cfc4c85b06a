"""The ``dir`` store: one RFC 5322 ``.eml`` file per draft in a folder.

File names derive from the touch key, so the same touch always lands on the same name. Files are
written to a temporary name, flushed to disk, then renamed: a crash leaves either the whole draft
or none of it. ``X-Unsent: 1`` makes Outlook and others open the file as a draft to edit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.parser import BytesHeaderParser
from email.policy import SMTP
from pathlib import Path

from outreach.drafts import Stored, create_each
from outreach.errors import StoreError
from outreach.fsutil import write_atomic
from outreach.message import Draft

_TMP_PREFIX = ".tmp-"


def file_name(key: str) -> str:
    """``birthday/jane-doe/2026`` -> ``birthday--jane-doe--2026.eml``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", key.replace("/", "--")) + ".eml"


class DirStore:
    name = "dir"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: dict[str, Path] | None = None

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

    def create_many(self, drafts: Sequence[Draft]) -> list[Stored | StoreError]:
        return create_each(self, drafts)

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
