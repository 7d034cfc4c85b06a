"""YAML documents that remember where every value came from.

PyYAML's C parser (when present) reads the events; we build plain Python values from them and
record the line of every mapping key and sequence item, so that a problem found later (by
pydantic, or by a cross-file check) can be reported as ``file:line``.

Building from the events (not from PyYAML's composed node tree) keeps hostile documents cheap:
no recursion (nesting is refused beyond :data:`MAX_DEPTH`), an alias is never copied (its size is
counted instead, and a document whose aliases expand beyond :func:`expansion_limit` is refused:
the "billion laughs"), and an alias inside the block it names (a loop) is refused where it is
written.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from outreach.errors import Problem

try:  # pragma: no cover - depends on how PyYAML was built
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

Loc = tuple[str | int, ...]

MAX_DEPTH = 100  # lists and mappings inside each other; a real file needs fewer than 10
EXPANSION_PER_NODE = 10  # values aliases may expand to, per value written in the file ...
EXPANSION_FLOOR = 100_000  # ... plus this many

# What YAML (and libyaml) accepts in a stream: TAB, LF, CR, printable ASCII, NEL and the rest of
# Unicode but C0/C1 controls, DEL, surrogates and U+FFFE/U+FFFF.
_REFUSED = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# libyaml counts these as line breaks too; editors (and our messages) count only LF
_YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_MERGE = "tag:yaml.org,2002:merge"
_MAY_READ = "check that it is a file you may read"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STR = "tag:yaml.org,2002:str"


@dataclass
class Source:
    """A loaded YAML document: its data and the line (1-based) of each location in it."""

    name: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int | None:
        """The line of ``loc`` or of its nearest ancestor that has one."""
        while True:
            if loc in self.lines:
                return self.lines[loc]
            if not loc:
                return None
            loc = loc[:-1]


def format_loc(loc: Loc) -> str:
    """``('contacts', 3, 'email')`` -> ``contacts[3].email``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Text for a one-line message: control characters and line breaks as escapes (\\x1c)."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def expansion_limit(nodes: int) -> int:
    """How many values a document of ``nodes`` written values may expand to through aliases."""
    return EXPANSION_PER_NODE * nodes + EXPANSION_FLOOR


class _Refused(Exception):
    """The document cannot be read at all (an alias loop or bomb, nesting too deep)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


_NO_KEY: Any = object()


@dataclass
class _Frame:
    """A list or mapping being built."""

    loc: Loc
    out: dict[str, Any] | list[Any]
    anchor: str | None
    start: int  # where the lines inside it begin in _Builder.entries
    record: bool  # record the lines inside (not in a dropped value or a key)
    line: int
    size: int = 1  # values it holds, aliases expanded, itself included
    height: int = 1  # levels, itself included
    key: Any = _NO_KEY  # a mapping's key waiting for its value
    skip: bool = False  # a mapping's value is dropped (a merge key, a bad or repeated key)
    keys: dict[str, int] = field(default_factory=dict)  # a mapping's keys and their lines


@dataclass(frozen=True)
class _Anchor:
    value: Any
    line: int
    size: int = 1
    height: int = 0
    lines: tuple[int, int, int] = (0, 0, 0)  # entries[start:end] hold its lines; prefix length


class _Builder:
    """Plain values and their lines from a document's events, in one pass without recursion."""

    def __init__(self, name: str, loader: Any, line_map: list[int] | None, nodes: int) -> None:
        self.name, self.loader, self.line_map = name, loader, line_map
        self.entries: list[tuple[Loc, int]] = []  # (location, line), first one wins
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor] = {}
        self.root: Any = None
        self.count, self.limit = 0, expansion_limit(nodes)

    def build(self, events: list[Any]) -> Any:
        for ev in events:
            if isinstance(ev, yaml.ScalarEvent):
                self.scalar(ev)
            elif isinstance(ev, yaml.CollectionStartEvent):
                self.start(ev)
            elif isinstance(ev, yaml.CollectionEndEvent):
                self.end()
            elif isinstance(ev, yaml.AliasEvent):
                self.alias(ev)
        return self.root

    def lines(self) -> dict[Loc, int]:
        out: dict[Loc, int] = {}
        for loc, line in self.entries:
            out.setdefault(loc, line)
        return out

    def place(self) -> tuple[Loc, bool, bool]:
        """Where the next value goes: its location, whether its own line is recorded there (a
        mapping's value has its key's line) and whether the lines inside it are."""
        if not self.stack:
            return (), True, True
        f = self.stack[-1]
        if isinstance(f.out, list):
            return (*f.loc, len(f.out)), f.record, f.record
        if f.key is _NO_KEY or f.skip:
            return (*f.loc, "?"), False, False
        return (*f.loc, f.key), False, f.record

    def refuse(self, line: int, loc: Loc, message: str, hint: str) -> _Refused:
        loc = loc[: loc.index("?")] if "?" in loc else loc
        path = format_loc(loc[:8]) + ("..." if len(loc) > 8 else "")
        return _Refused(Problem(self.name, line, path, message, hint))

    def grow(self, n: int, height: int, line: int, loc: Loc) -> None:
        """Count ``n`` more values, ``height`` levels below the current one."""
        self.count += n
        if self.count > self.limit:
            raise self.refuse(
                line,
                loc,
                f"YAML aliases here make the file expand to more than {self.limit:,} values",
                "write the values out, or share a block with one anchor (&name) and "
                "aliases (*name) that do not multiply each other",
            )
        if len(self.stack) + height > MAX_DEPTH:
            raise self.refuse(
                line,
                loc,
                f"YAML lists and mappings are nested more than {MAX_DEPTH} levels deep here",
                "flatten the value: outreach reads a few levels at most",
            )

    def claim(self, name: str, line: int) -> None:
        """An anchor is defined once (PyYAML refuses a second one too)."""
        first = self.anchors.get(name)
        opened = [f.line for f in self.stack if f.anchor == name]
        if first is not None or opened:
            twice = f"YAML anchor '&{name}' is defined twice"
            where = f" (first on line {first.line if first else opened[0]})"
            raise self.refuse(line, (), twice + where, "give each anchor its own name")

    def scalar(self, ev: Any) -> None:
        loc, own, _ = self.place()
        line = _line(ev.start_mark, self.line_map)
        self.grow(1, 0, line, loc)
        if ev.anchor is not None:
            self.claim(ev.anchor, line)
        if own:
            self.entries.append((loc, line))
        tag = ev.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, ev.value, ev.implicit)
        value: Any = ev.value
        if tag != _MERGE and tag != _STR:  # text is itself: most values need no constructor
            node = yaml.ScalarNode(tag, ev.value, ev.start_mark, ev.end_mark, ev.style)
            try:
                value = self.loader.construct_object(node, deep=True)
            except (ValueError, TypeError, yaml.YAMLError):
                # 2026-02-30: the timestamp resolver matches, the constructor cannot build it
                short = tag.replace("tag:yaml.org,2002:", "!!")
                message, hint = (
                    (f"'{value}' is not a valid date", "write a real calendar date as YYYY-MM-DD")
                    if tag == _TIMESTAMP
                    else (
                        f"'{printable(value)}' cannot be read as {short}",
                        f"remove the tag '{short}' before it",
                    )
                )
                self.problems.append(Problem(self.name, line, format_loc(loc), message, hint))
        if ev.anchor is not None:
            self.anchors[ev.anchor] = _Anchor(value, line)
        self.deliver(value, 1, 0, line, tag == _MERGE)

    def start(self, ev: Any) -> None:
        loc, own, inside = self.place()
        line = _line(ev.start_mark, self.line_map)
        self.grow(1, 1, line, loc)
        if ev.anchor is not None:
            self.claim(ev.anchor, line)
        if own:
            self.entries.append((loc, line))
        out: dict[str, Any] | list[Any] = {} if isinstance(ev, yaml.MappingStartEvent) else []
        self.stack.append(_Frame(loc, out, ev.anchor, len(self.entries), inside, line))

    def end(self) -> None:
        f = self.stack.pop()
        if f.anchor is not None:
            lines = (f.start, len(self.entries), len(f.loc))
            self.anchors[f.anchor] = _Anchor(f.out, f.line, f.size, f.height, lines)
        self.deliver(f.out, f.size, f.height, f.line)

    def alias(self, ev: Any) -> None:
        """The anchored value itself (shared, never copied); its lines are repeated here."""
        loc, own, inside = self.place()
        line = _line(ev.start_mark, self.line_map)
        name = ev.anchor
        if any(f.anchor == name for f in self.stack):
            loop = f"YAML alias '*{name}' is inside the block '&{name}' it names"
            hint = f"remove '*{name}' here, or move it out of that block"
            raise self.refuse(line, loc, loop + ", which would never end", hint)
        target = self.anchors.get(name)
        if target is None:
            what = f"YAML syntax error: found undefined alias '*{name}'"
            raise self.refuse(line, (), what, f"define it with '&{name}' before its first use")
        self.grow(target.size, target.height, line, loc)
        if own:
            self.entries.append((loc, line))
        start, end, cut = target.lines
        for i in range(start, end if inside else start):
            inner, ln = self.entries[i]
            self.entries.append(((*loc, *inner[cut:]), ln))
        self.deliver(target.value, target.size, target.height, line)

    def deliver(self, value: Any, size: int, height: int, line: int, merge: bool = False) -> None:
        """Put a finished value into the list or mapping being built."""
        if not self.stack:
            self.root = value
            return
        f = self.stack[-1]
        f.size += size
        f.height = max(f.height, height + 1)
        if isinstance(f.out, list):
            f.out.append(value)
        elif f.key is _NO_KEY:
            self.key(f, value, line, merge)
        else:
            if not f.skip:
                f.out[f.key] = value
            f.key, f.skip = _NO_KEY, False

    def key(self, f: _Frame, key: Any, line: int, merge: bool) -> None:
        f.key, f.skip = key, True  # until it is known to be a good key
        plain = isinstance(key, str | int | bool | float | dt.date)
        skey = key if isinstance(key, str) else str(key) if plain else ""
        if plain and not merge and skey not in f.keys and not _UNPRINTABLE.search(skey):
            f.keys[skey] = line
            if f.record:
                self.entries.append(((*f.loc, skey), line))
            f.key, f.skip = skey, False
            return
        where = format_loc(f.loc)
        if merge:
            message, hint = "YAML merge keys ('<<') are not supported", "write the keys out in full"
        elif not plain:
            message, hint = "a key must be a plain word", "write the key as text"
        elif _UNPRINTABLE.search(skey):
            message = f"the key '{printable(skey)}' holds a control character or a line break"
            hint = "delete it: most editors do not show it"
        else:
            where = format_loc((*f.loc, skey))
            message = f"key '{skey}' appears twice (first on line {f.keys[skey]})"
            hint = "keep one of them"
        self.problems.append(Problem(self.name, line, where, message, hint))


def _line(mark: Any, line_map: list[int] | None) -> int:
    """The line (1-based, as editors count) of a libyaml mark."""
    n: int = mark.line
    return line_map[n] if line_map and n < len(line_map) else n + 1


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
    path: Path, name: str | None = None, *, required: bool = True
) -> tuple[Source, list[Problem]]:
    """Load one YAML file; returns the source and the problems found (empty on success). A file
    that is missing (and not ``required``) gives no data and no problem."""
    display = name or path.name
    raw, problems = _read(path, display, required)
    if raw is None:
        return Source(display, None), problems
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        return Source(display, None), [
            Problem(display, line, "", message, "save the file as UTF-8 in your editor")
        ]
    return loads(text, display)


def _unreadable(name: str, line_map: list[int] | None, exc: Exception) -> Problem:
    """The one problem of a document that cannot be read at all."""
    if isinstance(exc, _Refused):
        return exc.problem
    if not isinstance(exc, yaml.MarkedYAMLError):  # pragma: no cover - libyaml marks its errors
        return Problem(name, None, "", f"YAML error: {' '.join(str(exc).split())}", "fix it")
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or "invalid YAML"
    if exc.context:
        what = f"{exc.context}, {what}" if "while" not in exc.context else f"{what} ({exc.context})"
    return Problem(
        name,
        _line(mark, line_map) if mark is not None else None,
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
    if not text.strip():
        return Source(name, None), [
            Problem(name, 1, "", "the file is empty", "see the README for an example")
        ]
    bad = _refused_character(name, text)
    if bad is not None:
        return Source(name, None), [bad]
    line_map = _editor_lines(text)
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
        builder = _Builder(name, loader, line_map, nodes)
        data = builder.build(events)
    except (yaml.YAMLError, _Refused) as exc:
        return Source(name, None), [_unreadable(name, line_map, exc)]
    finally:
        loader.dispose()
    return Source(name, data, builder.lines()), builder.problems
