"""YAML documents that remember where every value came from.

PyYAML's C parser (when present) composes the node tree; we build plain Python values from it and
record the line of every mapping key and sequence item, so that a problem found later (by
pydantic, or by a cross-file check) can be reported as ``file:line``.
"""

from __future__ import annotations

import datetime as dt
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


class _Builder:
    def __init__(self, name: str, loader: Any) -> None:
        self.name = name
        self.loader = loader
        self.lines: dict[Loc, int] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.problems.append(
                        Problem(
                            self.name,
                            key_node.start_mark.line + 1,
                            format_loc(loc),
                            "YAML merge keys ('<<') are not supported",
                            "write the keys out in full",
                        )
                    )
                    continue
                key = self.build(key_node, (*loc, "?key"))
                if not isinstance(key, str | int | bool | float | dt.date):
                    self.problems.append(
                        Problem(
                            self.name,
                            key_node.start_mark.line + 1,
                            format_loc(loc),
                            "a key must be a plain word",
                            "write the key as text",
                        )
                    )
                    continue
                skey = str(key) if not isinstance(key, str) else key
                child = (*loc, skey)
                if skey in out:
                    first = self.lines.get(child)
                    self.problems.append(
                        Problem(
                            self.name,
                            key_node.start_mark.line + 1,
                            format_loc(child),
                            f"key '{skey}' appears twice (first on line {first})",
                            "keep one of them",
                        )
                    )
                    continue
                self.lines[child] = key_node.start_mark.line + 1
                out[skey] = self.build(value_node, child)
            self.lines.pop((*loc, "?key"), None)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError, yaml.YAMLError):
            # e.g. 2026-02-30: the timestamp resolver matches, the constructor cannot build it.
            text = str(node.value)
            self.problems.append(
                Problem(
                    self.name,
                    node.start_mark.line + 1,
                    format_loc(loc),
                    f"'{text}' is not a valid date",
                    "write a real calendar date as YYYY-MM-DD",
                )
            )
            return text


def load(
    path: Path, name: str | None = None, *, required: bool = True
) -> tuple[Source, list[Problem]]:
    """Load one YAML file; returns the source and the problems found (empty on success)."""
    display = name or path.name
    if not path.exists():
        if required:
            return Source(display, None), [
                Problem(
                    display,
                    None,
                    "",
                    "file not found",
                    "create it (see 'outreach init') or fix the path in outreach.yaml",
                )
            ]
        return Source(display, None), []
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Source(display, None), [
            Problem(
                display,
                line,
                "",
                f"is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                "save the file as UTF-8 in your editor",
            )
        ]
    return loads(text, display)


def loads(text: str, name: str) -> tuple[Source, list[Problem]]:
    """Parse YAML text into a :class:`Source`."""
    if not text.strip():
        return Source(name, None), [
            Problem(name, 1, "", "the file is empty", "see the README for an example")
        ]
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = (
                f"{exc.context}, {what}"
                if "while" not in exc.context
                else f"{what} ({exc.context})"
            )
        return Source(name, None), [
            Problem(
                name,
                line,
                "",
                f"YAML syntax error: {what}",
                "check indentation, colons and quotes on this line or the one above",
            )
        ]
    except yaml.YAMLError as exc:
        return Source(name, None), [
            Problem(name, None, "", f"YAML error: {exc}", "fix the YAML syntax")
        ]
    finally:
        loader.dispose()
    if node is None:
        return Source(name, None), [
            Problem(name, 1, "", "the file holds no data", "see the README for an example")
        ]
    builder = _Builder(name, _Loader(""))
    data = builder.build(node, ())
    return Source(name, data, builder.lines), builder.problems
