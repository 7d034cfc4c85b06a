"""Plain Python values, and the line of each, built from a YAML document's events.

Building from the events (not from PyYAML's composed node tree) keeps hostile documents cheap:
no recursion (nesting is refused beyond :data:`MAX_DEPTH`), an alias is never copied (its size is
counted instead, and a document whose aliases expand beyond :func:`expansion_limit` is refused:
the "billion laughs"), and an alias inside the block it names (a loop) is refused where it is
written. Used by :mod:`outreach.yamlsrc`, which reads the files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from outreach.errors import Problem

Loc = tuple[str | int, ...]

MAX_DEPTH = 100  # lists and mappings inside each other; a real file needs fewer than 10
EXPANSION_PER_NODE = 10  # values aliases may expand to, per value written in the file ...
EXPANSION_FLOOR = 100_000  # ... plus this many

_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STR = "tag:yaml.org,2002:str"


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


class Refused(Exception):
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
    start: int  # where the lines inside it begin in Builder.entries
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


class Builder:
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

    def refuse(self, line: int, loc: Loc, message: str, hint: str) -> Refused:
        loc = loc[: loc.index("?")] if "?" in loc else loc
        path = format_loc(loc[:8]) + ("..." if len(loc) > 8 else "")
        return Refused(Problem(self.name, line, path, message, hint))

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

    def begin(self, ev: Any, opens: int) -> tuple[Loc, bool, int]:
        """A value (``opens``: 1 for a list or mapping) starts: count it, claim its anchor and
        record its line. Gives its location, whether the lines inside it are recorded, its line."""
        loc, own, inside = self.place()
        line = mark_line(ev.start_mark, self.line_map)
        self.grow(1, opens, line, loc)
        if ev.anchor is not None:
            self.claim(ev.anchor, line)
        if own:
            self.entries.append((loc, line))
        return loc, inside, line

    def scalar(self, ev: Any) -> None:
        loc, _, line = self.begin(ev, 0)
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
        loc, inside, line = self.begin(ev, 1)
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
        line = mark_line(ev.start_mark, self.line_map)
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


def mark_line(mark: Any, line_map: list[int] | None) -> int:
    """The line (1-based, as editors count) of a libyaml mark."""
    n: int = mark.line
    return line_map[n] if line_map and n < len(line_map) else n + 1
