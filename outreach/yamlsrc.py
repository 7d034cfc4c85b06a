"""YAML documents that remember where every value came from.

PyYAML's C parser (when present) reads the events; we build plain Python values from them and
record the line of every mapping key and sequence item, so that a problem found later (by
pydantic, or by a cross-file check) can be reported as ``file:line``.

The building, bounded for hostile documents (alias bombs, loops, deep nesting), is
:mod:`outreach.yamlbuild`; this module reads the files (never blocking on a pipe or a device),
refuses the characters YAML does not allow, and turns what cannot be read into one problem.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from outreach import readahead, yamlfast
from outreach.errors import Problem
from outreach.snapshot import Snapshot, digest
from outreach.yamlbuild import EXPANSION_FLOOR as EXPANSION_FLOOR
from outreach.yamlbuild import EXPANSION_PER_NODE as EXPANSION_PER_NODE
from outreach.yamlbuild import MAX_DEPTH as MAX_DEPTH
from outreach.yamlbuild import Builder, Refused, mark_line
from outreach.yamlbuild import Loc as Loc
from outreach.yamlbuild import expansion_limit as expansion_limit
from outreach.yamlbuild import format_loc as format_loc
from outreach.yamlbuild import printable as printable

try:  # pragma: no cover - depends on how PyYAML was built
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

# What YAML (and libyaml) accepts in a stream: TAB, LF, CR, printable ASCII, NEL and the rest of
# Unicode but C0/C1 controls, DEL, surrogates and U+FFFE/U+FFFF.
_REFUSED = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# libyaml counts these as line breaks too; editors (and our messages) count only LF
_YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_MAY_READ = "check that it is a file you may read"


class Source:
    """A loaded YAML document: its data and the line (1-based) of each location in it.

    ``lines`` may be given, or left to ``known``: the lines of the top two levels, kept when the
    document was read the fast way, and what finds all of them (by reading the document again
    with :mod:`outreach.yamlbuild`), called the first time a deeper line is asked for: to report
    a problem."""

    def __init__(
        self,
        name: str,
        data: Any,
        lines: dict[Loc, int] | None = None,
        *,
        known: tuple[dict[Loc, int], Callable[[], dict[Loc, int]]] | None = None,
    ) -> None:
        self.name, self.data = name, data
        self._lines = lines if lines is not None or known is not None else {}
        self._known = known

    @property
    def lines(self) -> dict[Loc, int]:
        """Every location's line (found now if it was not yet)."""
        if self._lines is None:
            assert self._known is not None
            self._lines = self._known[1]()
            self._known = None
        return self._lines

    def _lookup(self, loc: Loc) -> int | None:
        if self._lines is None and self._known is not None and len(loc) <= yamlfast.SHALLOW:
            return self._known[0].get(loc)
        return self.lines.get(loc)

    def line_of(self, loc: Loc) -> int | None:
        """The line of ``loc`` or of its nearest ancestor that has one."""
        return self._nearest(loc, 0)

    def _nearest(self, loc: Loc, floor: int) -> int | None:
        while True:
            line = self._lookup(loc)
            if line is not None:
                return line
            if len(loc) <= floor:
                return None
            loc = loc[:-1]

    def lines_only(self) -> Source:
        """The same lines without the data (kept by a book once its contacts are validated: the
        lines of a problem found later, without the memory of every value as read)."""
        return Source(self.name, None, self._lines, known=self._known)

    def within(self, prefix: Loc) -> Source:
        """The value at ``prefix`` as a source of its own (its locations start there)."""
        return _Within(self, prefix)


class _Within(Source):
    """Part of a source: its lines are the parent's, found when asked for."""

    def __init__(self, parent: Source, prefix: Loc) -> None:
        data = parent.data
        for part in prefix:
            data = data[part]
        super().__init__(parent.name, data, {})
        self._parent, self._prefix = parent, prefix

    @property
    def lines(self) -> dict[Loc, int]:
        n, prefix = len(self._prefix), self._prefix
        return {loc[n:]: ln for loc, ln in self._parent.lines.items() if loc[:n] == prefix}

    def line_of(self, loc: Loc) -> int | None:
        return self._parent._nearest((*self._prefix, *loc), len(self._prefix))


def _editor_lines(text: str) -> list[int] | None:
    """libyaml's line numbers (0-based) -> the lines an editor shows, where they differ: libyaml
    also breaks lines at a lone CR, NEL, U+2028 and U+2029."""
    if not re.search("[\x85\u2028\u2029]|\r(?!\n)", text):
        return None
    out, line = [1], 1
    for m in _YAML_BREAKS.finditer(text):
        line += m.group().endswith("\n")
        out.append(line)
    return out


def _read(path: Path, display: str, required: bool) -> tuple[bytes | None, list[Problem]]:
    """The file's bytes, or the one problem that stops it being read. Never blocks: a pipe or a
    device is refused before it is read."""

    def problem(message: str, hint: str) -> tuple[None, list[Problem]]:
        return None, [Problem(display, None, "", message, hint)]

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        if path.is_symlink():
            return problem(
                f"is a link to '{os.readlink(path)}', which does not exist",
                "fix the link, or put the file where it points",
            )
        if not required:
            return None, []
        return problem(
            "file not found", "create it (see 'outreach init') or fix the path in outreach.yaml"
        )
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return problem(f"cannot be read ({reason})", _MAY_READ)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):  # worded as the articles library always said it
            return problem("cannot be read (Is a directory)", _MAY_READ)
        if not stat.S_ISREG(mode):
            return problem(
                "is not a regular file (a pipe, a socket or a device)",
                "point outreach.yaml at a YAML file",
            )
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks), []
    except OSError as exc:
        return problem(f"cannot be read ({exc.strerror or exc})", "check the disk")
    finally:
        os.close(fd)


def load(
    path: Path, name: str | None = None, *, required: bool = True, snapshot: Snapshot | None = None
) -> tuple[Source, list[Problem]]:
    """Load one YAML file; returns the source and the problems found (empty on success). A file
    that is missing (and not ``required``) gives no data and no problem. With a ``snapshot``, a
    file whose bytes it knows is not parsed again, and one read the fast way is put in it."""
    display = name or path.name
    raw, problems = _read(path, display, required)
    if raw is None:
        return Source(display, None), problems
    sha = digest(raw)
    kept = snapshot.get(display, sha) if snapshot is not None else None
    ahead = readahead.take(path, sha, wanted=kept is None)
    if ahead is not None:
        kept = ahead
        if snapshot is not None:  # (as this file read the fast way here would be)
            snapshot.put(display, sha, *ahead)
    if kept is not None:
        data, shallow = kept

        def every_line() -> dict[Loc, int]:
            text = raw.decode("utf-8-sig")
            return _build(text, display, _editor_lines(text))[0].lines

        return Source(display, data, known=(shallow, every_line)), []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        return Source(display, None), [
            Problem(display, line, "", message, "save the file as UTF-8 in your editor")
        ]
    source, problems = loads(text, display)
    if snapshot is not None and source._known is not None:  # read the fast way
        snapshot.put(display, sha, source.data, source._known[0])
    return source, problems


def fast_values(path: Path) -> tuple[str, Any, dict[Loc, int]] | None:
    """The SHA-256 of the file's bytes, its values and the lines of its top two levels, when
    :func:`load` would read it the fast way with no problem; None otherwise (what
    :mod:`outreach.readahead`'s reader sends)."""
    raw, problems = _read(path, path.name, True)
    if raw is None or problems:
        return None
    try:
        source, problems = loads(raw.decode("utf-8-sig"), path.name)
    except UnicodeDecodeError:
        return None
    if problems or source._known is None:  # (read by the builder, not the fast way)
        return None
    return digest(raw), source.data, source._known[0]


def _unreadable(name: str, line_map: list[int] | None, exc: Exception) -> Problem:
    """The one problem of a document that cannot be read at all."""
    if isinstance(exc, Refused):
        return exc.problem
    if not isinstance(exc, yaml.MarkedYAMLError):  # pragma: no cover - libyaml marks its errors
        return Problem(name, None, "", f"YAML error: {' '.join(str(exc).split())}", "fix it")
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or "invalid YAML"
    if exc.context:
        what = f"{exc.context}, {what}" if "while" not in exc.context else f"{what} ({exc.context})"
    return Problem(
        name,
        mark_line(mark, line_map) if mark is not None else None,
        "",
        f"YAML syntax error: {what}",
        "check indentation, colons and quotes on this line or the one above",
    )


def _refused_character(name: str, text: str) -> Problem | None:
    """The first character YAML does not allow in a file (NUL, most control characters)."""
    m = _REFUSED.search(text)
    if m is None:
        return None
    line = text.count("\n", 0, m.start()) + 1
    column = m.start() - text.rfind("\n", 0, m.start())
    message = f"YAML does not allow the control character U+{ord(m.group()):04X} (column {column})"
    return Problem(name, line, "", message, "delete it: most editors do not show it")


def loads(text: str, name: str) -> tuple[Source, list[Problem]]:
    """Parse YAML text into a :class:`Source`. A document that cannot be read at all (a syntax
    error, a character YAML refuses, an alias loop or bomb, nesting too deep) gives no data and
    one problem."""
    if not text or text.isspace():
        return Source(name, None), [
            Problem(name, 1, "", "the file is empty", "see the README for an example")
        ]
    bad = _refused_character(name, text)
    if bad is not None:
        return Source(name, None), [bad]
    line_map = _editor_lines(text)
    fast = yamlfast.build(_Loader(text), line_map)
    if fast is not None:
        data, shallow = fast

        def every_line() -> dict[Loc, int]:
            return _build(text, name, line_map)[0].lines

        return Source(name, data, known=(shallow, every_line)), []
    return _build(text, name, line_map)


def _build(text: str, name: str, line_map: list[int] | None) -> tuple[Source, list[Problem]]:
    """The document built with :class:`outreach.yamlbuild.Builder`: every line, every problem."""
    loader = _Loader(text)
    try:
        events: list[Any] = []
        while not isinstance(ev := loader.get_event(), yaml.StreamEndEvent):
            if isinstance(ev, yaml.DocumentStartEvent) and len(events) > 1:
                mark: Any = ev.start_mark
                context, problem = "expected a single document in the stream", "but found another"
                raise yaml.MarkedYAMLError(context, None, problem + " document", mark)
            events.append(ev)
        if len(events) < 2:  # the stream's start alone: only comments
            empty = Problem(name, 1, "", "the file holds no data", "see the README for an example")
            return Source(name, None), [empty]
        nodes = sum(isinstance(e, yaml.ScalarEvent | yaml.CollectionStartEvent) for e in events)
        builder = Builder(name, loader, line_map, nodes)
        data = builder.build(events)
    except (yaml.YAMLError, Refused) as exc:
        return Source(name, None), [_unreadable(name, line_map, exc)]
    finally:
        loader.dispose()
    return Source(name, data, builder.lines()), builder.problems
