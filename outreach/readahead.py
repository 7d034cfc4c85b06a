"""Reading a big contacts file ahead, in a forked process, while this one imports its libraries.

A command that loads the book spends its first quarter second importing (pydantic, jinja2,
click, the models) before it reads ``contacts.yaml``, which then takes about 0.08 s per 1,000
people. Where a second core is free, :func:`start` forks a reader as soon as the command is
known: it parses the file the fast way (:func:`outreach.yamlsrc.fast_values`) and sends back the
values, the lines of its top two levels and the SHA-256 of the bytes it read. When the loader
comes to the file, :func:`take` hands it those values if they are of the very bytes the loader
has just read (else, or when the reader failed, gave up on the file, or was too slow, the
loader parses the file itself, as it does without a reader). The values are those the loader's
own parse gives, so the book, its problems and their lines are the same; the reader writes
nothing and ends when it has sent them (or with this process).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path
from typing import Any

from outreach import forked
from outreach.fsutil import write_all

MIN_BYTES = 256 * 1024  # a smaller file is read here (a fork costs more than it saves)
# a bigger one too: its parse outlasts the imports many times over, so the reader would save
# little and cost its copy of the values (100,000 people: 0.9 GB more, and the unpickling)
MAX_BYTES = 4 * 1024 * 1024
SECONDS = 2.0  # waited for the reader at least; and per MB of the file, SECONDS_PER_MB more
SECONDS_PER_MB = 1.0
ENABLED = True  # tests compare a book read with a reader and without

# outreach.yaml's ``contacts:`` line: a quoted or a plain path, a comment after it
_CONTACTS = re.compile(
    r"""(?m)^contacts:[ \t]*"""
    r"""(?:"([^"\n]*)"|'([^'\n]*)'|([^\s#'"][^#\n]*?))[ \t]*(?:#.*)?$"""
)


class _Reader:
    def __init__(self, pid: int, fd: int, path: Path, size: int) -> None:
        self.pid, self.fd, self.path, self.size = pid, fd, path, size


_reader: _Reader | None = None


def start(root: Path) -> None:
    """Fork a reader of the book's contacts file when it is big enough, where a second core is
    free (Linux). The file is the one outreach.yaml's ``contacts:`` names, else contacts.yaml
    (should the settings say otherwise, :func:`take` is never asked for it)."""
    global _reader
    if not ENABLED or _reader is not None or not sys.platform.startswith("linux"):
        return
    try:
        if len(os.sched_getaffinity(0)) < 2:
            return
        path = _contacts_file(root)
        size = os.stat(path).st_size
    except (OSError, AttributeError, ValueError):
        return
    if not MIN_BYTES <= size <= MAX_BYTES or _snapshot_is_newer(root, path):
        return
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return
    pid = forked.fork(
        lambda: _serve(path, write_end), child_fds=(write_end,), parent_fds=(read_end,)
    )
    if pid is None:
        return
    _reader = _Reader(pid, read_end, path, size)


def take(path: Path, sha: str, *, wanted: bool = True) -> tuple[Any, dict[Any, int]] | None:
    """The values and shallow lines a reader parsed ``path`` to, if it parsed the bytes whose
    SHA-256 is ``sha``; None otherwise. A reader of ``path`` is ended then (at once when the
    values are not ``wanted``: the snapshot had them); one of another file is left alone."""
    global _reader
    reader = _reader
    if reader is None or os.path.abspath(reader.path) != os.path.abspath(path):
        return None
    _reader = None
    try:
        if not wanted:
            return None
        got = _receive(reader)
        if got is None or got[0] != sha:
            return None
        return got[1], got[2]
    finally:
        forked.end(reader.pid, (reader.fd,))


def stop() -> None:
    """End a reader whose file was never asked for (the command stopped before loading)."""
    global _reader
    reader, _reader = _reader, None
    if reader is not None:
        forked.end(reader.pid, (reader.fd,))


def _snapshot_is_newer(root: Path, path: Path) -> bool:
    """The book's snapshot (where it is by default) was written after the file changed: it
    likely holds the file's values, and the reader would parse it in vain."""
    try:
        return os.stat(root / ".outreach" / "book.snapshot").st_mtime > os.stat(path).st_mtime
    except OSError:
        return False


def _contacts_file(root: Path) -> Path:
    from outreach.paths import resolve

    name = "contacts.yaml"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        text = (root / "outreach.yaml").read_bytes()[: 1 << 16].decode("utf-8-sig")
        m = _CONTACTS.search(text)
        if m is not None:
            name = next(g for g in m.groups() if g is not None)
    return resolve(root, name)


def _receive(reader: _Reader) -> tuple[str, Any, dict[Any, int]] | None:
    import pickle
    import select
    import time

    deadline = time.monotonic() + SECONDS + SECONDS_PER_MB * reader.size / 1e6
    chunks: list[bytes] = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([reader.fd], [], [], left)[0]:
                return None  # too slow: we read it ourselves
            got = os.read(reader.fd, 1 << 20)
            if not got:
                break
            chunks.append(got)
        value = pickle.loads(b"".join(chunks)) if chunks else None
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, MemoryError):
        return None
    if not (isinstance(value, tuple) and len(value) == 3 and isinstance(value[0], str)):
        return None
    return value


def _serve(path: Path, out: int) -> None:
    """The reader: the file's fast values, pickled to ``out``; nothing when it has none."""
    import pickle

    from outreach import yamlsrc

    found = yamlsrc.fast_values(path)
    if found is None:
        return
    write_all(out, pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))
