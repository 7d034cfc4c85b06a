"""The two parts of a note from its template's shape: Markdown parsed once per shape, not per note.

A night's notes from one template differ only in their values (``{{ contact.greet }}``, a
company, a signature). `Note.parts` parses a body's *skeleton*, the body with each value replaced by
a placeholder, once, and makes every later note of that shape by putting the values back into
the skeleton's plain-text and HTML parts. The bytes are those of parsing each note on its own
(`markup.markdown_to_text` and `markup.markdown_to_html`), because a value is put back only where
it cannot have changed the parse:

* the value is *inert*: it starts with a letter, ends with a letter or digit, and holds only
  letters, digits, spaces, ``, . ' ’ -`` and ``&`` before a space. Such a value opens no block
  (it starts with a letter), closes none (it holds no line end) and holds no inline markup
  (an ``&`` before a space starts no entity; in the HTML part it is written ``&amp;``). Its
  first and last characters are of the classes CommonMark's emphasis rules look at (neither
  space nor punctuation), like the placeholder's, and the placeholder's first letter has the
  case of the value's (a heading that starts in lower case is prose);
* the text before it ends in nothing that a value could complete (an entity ``&amp;``, an
  autolink ``<mailto:``);
* in the skeleton's parts each placeholder is shown exactly once, as text: not inside a link
  or image (whose text is compared with its URL), not in a URL, an info string or an attribute;
  and the skeleton defines no link references.

Any other note is parsed on its own, as before. tests/test_skeleton.py compares both ways on
generated templates and values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from outreach import markup

_PLACE = "\ufdd2"  # a noncharacter, as the value marks: never in real text
_INERT = re.compile(r"(?:[^\W_]|[ ,.'\u2019-]|& )*")  # (& only before a space: no entity)
# text that a value could complete: an entity (&amp; &#38;) or an autolink (<mailto:, <me@)
_OPEN_BEFORE = re.compile(r"(?:&#?[A-Za-z0-9]*|<[^\s<>]*)\Z")
_PLACEHOLDER = re.compile(f"[aA]{_PLACE}([0-9]+){_PLACE}a")
# what the cache may hold: shapes, and characters of their keys and parts (a long note's shape
# costs its length: a loop over a feed's items makes one shape per number of items)
_MOST, _MOST_CHARS = 512, 4_000_000
_held = [0]  # characters the cache holds

# the skeleton's key -> its two parts, each split at its placeholders (or None: parse each note)
_SHAPES: dict[tuple[str, ...], tuple[list[str], list[str]] | None] = {}


class Note:
    """A body as `render` writes it (values marked), split once at its values."""

    def __init__(self, marked: str) -> None:
        self.marked = marked
        self.pieces = markup.MARKED_VALUE.split(marked)
        self.values = [markup.unescape(v) for v in self.pieces[1::2]]
        self.plain = not any(
            markup.VALUE_START in lit or markup.VALUE_END in lit for lit in self.pieces[0::2]
        )

    @functools.cached_property
    def unmarked(self) -> str:
        """The body as the reader sees it: `markup.unmark` of the marked text."""
        if not self.plain:
            return markup.unmark(self.marked)  # a nested value (a macro's output)
        out = self.pieces[:]
        out[1::2] = self.values
        return "".join(out)

    def parts(self, bound: Callable[[], AbstractContextManager[Any]] = nullcontext) -> tuple[
        str, str
    ]:
        """(plain text, HTML): byte for byte ``markdown_to_text(marked)`` and
        ``markdown_to_html(body)``, where ``body`` is the unmarked text with its blank lines
        around stripped. ``bound`` is entered around each Markdown parse (not around putting
        values back into a shape, which is as quick as copying the text)."""
        key = _key(self.pieces, self.values) if self.plain else None
        shape = _SHAPES.get(key, _UNSEEN) if key is not None else None
        if shape is _UNSEEN:
            assert key is not None
            with bound():
                shape = _shape(self.pieces, self.values)
            _keep(key, shape)
        if shape is None or shape is _UNSEEN:  # (a shape whose values may change the parse)
            with bound():
                body = self.unmarked.strip("\n") + "\n"
                return markup.markdown_to_text(self.marked), markup.markdown_to_html(body)
        text, html = shape
        values = self.values
        return _fill(text, values), _fill(html, [v.replace("&", "&amp;") for v in values])


_UNSEEN: Any = object()  # (a key not in the cache yet)


def _keep(key: tuple[str, ...], shape: tuple[list[str], list[str]] | None) -> None:
    size = sum(map(len, key)) + (sum(map(len, shape[0] + shape[1])) if shape else 0)
    if len(_SHAPES) >= _MOST or _held[0] + size > _MOST_CHARS:
        _SHAPES.clear()
        _held[0] = 0
    _SHAPES[key] = shape
    _held[0] += size


def _key(pieces: list[str], values: list[str]) -> tuple[str, ...] | None:
    """The literal text between the values and each value's case, or None where a value may
    have changed the parse (then the note is parsed on its own)."""
    literals = pieces[0::2]
    for lit in literals:
        if _PLACE in lit:
            return None  # a template that holds U+FDD2
    for before, value in zip(literals, values, strict=False):
        if not (value[:1].isalpha() and value[-1].isalnum() and _INERT.fullmatch(value)):
            return None
        if _OPEN_BEFORE.search(before):
            return None
    cases = "".join("a" if v[0].islower() else "A" for v in values)
    return (cases, *literals)


def _placeholder(index: int, value: str) -> str:
    return ("a" if value[:1].islower() else "A") + f"{_PLACE}{index}{_PLACE}a"


def _shape(pieces: list[str], values: list[str]) -> tuple[list[str], list[str]] | None:
    """The skeleton's two parts, split at the placeholders; None where a placeholder is not
    shown exactly once as text in each part."""
    out = [pieces[0]]
    for i, value in enumerate(values):
        out.append(markup.mark(_placeholder(i, value)))
        out.append(pieces[2 * i + 2])
    skeleton = "".join(out)
    body = markup.unmark(skeleton).strip("\n") + "\n"
    text, in_link = markup.markdown_to_text_checked(skeleton)
    if in_link:
        return None
    html = markup.markdown_to_html(body)
    count = len(values)
    split_text, split_html = _PLACEHOLDER.split(text), _PLACEHOLDER.split(html)
    for split in (split_text, split_html):
        if sorted(int(n) for n in split[1::2]) != list(range(count)):
            return None
        if any(_PLACE in piece for piece in split[0::2]):
            return None  # a placeholder written otherwise (percent-encoded, in part)
    return split_text, split_html


def _fill(split: list[str], values: list[str]) -> str:
    out = split[:]
    for j in range(1, len(out), 2):
        out[j] = values[int(out[j])]
    return "".join(out)
