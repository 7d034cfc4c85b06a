"""Plain Python values from a YAML document with nothing unusual in it, fast, without lines.

Line numbers are needed only to report a problem. :func:`build` makes the document's values in
one pass over the C parser's events, keeping only the lines of the top two levels (the line of
each contact), and gives up (``None``) at the first thing it does not handle exactly as
:class:`outreach.yamlbuild.Builder` does: an anchor or an alias (so an alias bomb is never walked
here), an explicit tag, a merge key, a key that is no plain word, a repeated key, a value no
constructor can build, nesting near :data:`~outreach.yamlbuild.MAX_DEPTH`, a syntax error, or
not exactly one document. The caller then builds the document with
:mod:`outreach.yamlbuild`, which reports each of those as it always did; when this module
succeeds, the builder would have given the same values and no problem
(``tests/test_yaml_fast.py`` checks both on generated documents).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from outreach.yamlbuild import _UNPRINTABLE, MAX_DEPTH, Loc, mark_line

SHALLOW = 2  # the locations (of up to this many parts) whose lines are kept
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_NO_KEY: Any = object()
_PLAIN_KEY = (str, int, bool, float, dt.date)


_KNOWN = 1 << 16  # plain scalars whose values are remembered (the repeated ones come early)


class _AnyStart(dict[Any, Any]):
    def __contains__(self, key: object) -> bool:
        return True


_ANY = _AnyStart()


class _GiveUp(Exception):
    """Something the full builder must see."""


def build(loader: Any, line_map: list[int] | None) -> tuple[Any, dict[Loc, int]] | None:
    """The document's values and the lines of its locations of up to :data:`SHALLOW` parts, or
    None when the document needs :class:`outreach.yamlbuild.Builder`. Disposes of ``loader``."""
    try:
        return _build(loader, line_map)
    except (_GiveUp, yaml.YAMLError, ValueError, TypeError, OverflowError):
        return None
    finally:
        loader.dispose()


def _build(loader: Any, line_map: list[int] | None) -> tuple[Any, dict[Loc, int]]:
    get = loader.get_event
    if not isinstance(get(), yaml.StreamStartEvent) or not isinstance(
        get(), yaml.DocumentStartEvent
    ):
        raise _GiveUp
    scalar_event, mapping_start = yaml.ScalarEvent, yaml.MappingStartEvent
    sequence_start = yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    resolve, construct = loader.resolve, loader.construct_object
    known: dict[str, Any] = {}  # plain scalar text -> its value (immutable: str, int, date...)
    same: dict[str, str] = {}
    starts = loader.yaml_implicit_resolvers  # first character -> the resolvers that may match
    if None in starts:  # a resolver for any first character: always ask  # pragma: no cover
        starts = _ANY
    lines: dict[Loc, int] = {}
    stack: list[Any] = []  # the lists and mappings being built
    pending: list[Any] = []  # per mapping on the stack: its key waiting for a value
    locs: list[Loc | None] = []  # per frame: its location while it is shallow
    root: Any = _NO_KEY
    opened: Any
    while True:
        ev = get()
        kind = type(ev)
        if kind is scalar_event:
            if ev.anchor is not None:
                raise _GiveUp
            text = ev.value
            if ev.tag is not None and ev.tag != "!":
                raise _GiveUp
            if not ev.implicit[0] or text[:1] not in starts:
                # quoted, or no resolver looks at text starting so: text, one object for each
                # text repeated (a company, a title, a tag): less memory for the values and the
                # models that hold them
                value: Any = same.get(text)
                if value is None:
                    value = text
                    if len(same) < _KNOWN:
                        same[text] = text
            elif text in known:
                value = known[text]
            else:
                tag = resolve(yaml.ScalarNode, text, (True, False))
                if tag == _MERGE:
                    raise _GiveUp
                value = (
                    text
                    if tag == _STR
                    else construct(yaml.ScalarNode(tag, text, ev.start_mark, ev.end_mark))
                )
                if len(known) < _KNOWN:
                    known[text] = value
            opened = None
        elif kind is mapping_start or kind is sequence_start:
            if ev.anchor is not None or len(stack) + 1 >= MAX_DEPTH:
                raise _GiveUp
            value = opened = {} if kind is mapping_start else []
        elif kind is mapping_end or kind is sequence_end:
            stack.pop()
            pending.pop()
            locs.pop()
            continue
        elif kind is yaml.DocumentEndEvent:
            if not isinstance(get(), yaml.StreamEndEvent):
                raise _GiveUp  # a second document
            return root, lines
        else:  # an alias, or an event this loop does not expect
            raise _GiveUp
        # put the value in place
        loc: Loc | None
        if not stack:
            if root is not _NO_KEY:
                raise _GiveUp
            root, loc = value, ()
            lines[()] = mark_line(ev.start_mark, line_map)
        else:
            parent, where = stack[-1], locs[-1]
            if type(parent) is list:
                loc = None if where is None or len(where) >= SHALLOW else (*where, len(parent))
                if loc is not None:
                    lines[loc] = mark_line(ev.start_mark, line_map)
                parent.append(value)
            elif pending[-1] is _NO_KEY:  # the value is a key
                if opened is not None or not isinstance(value, _PLAIN_KEY):
                    raise _GiveUp
                key = value if type(value) is str else str(value)
                if key in parent or _UNPRINTABLE.search(key):
                    raise _GiveUp
                if where is not None and len(where) < SHALLOW:
                    lines[(*where, key)] = mark_line(ev.start_mark, line_map)
                pending[-1] = key
                continue
            else:
                key = pending[-1]
                loc = None if where is None or len(where) >= SHALLOW else (*where, key)
                parent[key] = value
                pending[-1] = _NO_KEY
        if opened is not None:
            stack.append(opened)
            pending.append(_NO_KEY)
            locs.append(loc)
