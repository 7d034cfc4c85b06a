"""Markdown to the two parts of a draft: HTML, and plain text that reads as typed.

Both parts come from one parse (markdown-it-py, CommonMark, raw HTML shown as text). In the plain
part the template's own markup becomes plain-text conventions (``Title <url>``, no ``**``), and a
value (``{{ contact.first }}``, a note, a title) comes out exactly as it is, whatever Markdown
characters it holds: `render` writes each value between two marks, backslash-escaped, so that
CommonMark reads it as literal text, and `markdown_to_text` drops the marks again.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

# Around every {{ value }} of a body, for the plain-text part: two Unicode noncharacters (reserved
# for a program's internal use, so never in real text), and a value's own copies are dropped.
VALUE_START, VALUE_END = "\ufdd0", "\ufdd1"
_MARKS = VALUE_START + VALUE_END
_ESCAPE = str.maketrans(
    {c: "\\" + c for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"} | {c: None for c in _MARKS}
)
MARKED_VALUE = re.compile(f"{VALUE_START}([^{_MARKS}]*){VALUE_END}")
_BACKSLASHED = re.compile(r"\\(.)", re.S)


def mark(text: str) -> str:
    """A value, marked and escaped for the plain-text part (its own copies of the marks go)."""
    return VALUE_START + text.translate(_ESCAPE) + VALUE_END


def unmark(marked: str) -> str:
    """The body as Jinja writes it: values as they are, without marks and escapes."""
    unmarked = MARKED_VALUE.sub(lambda m: unescape(m.group(1)), marked)
    return unmarked.translate({ord(c): None for c in _MARKS})


def unescape(escaped: str) -> str:
    """A marked value's text as it was (its backslashes undone)."""
    return _BACKSLASHED.sub(r"\1", escaped) if "\\" in escaped else escaped


@functools.cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # Raw HTML in a template or in contact data is shown as text, never passed through.
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "typographer": False})
    md.core.ruler.at("inline", _inline)
    return md


# The inline parse of a paragraph's (a heading's, a list item's) text, by that text: a pure
# function of it, unless the document defines link references (then it is parsed each time).
# Most of a template's paragraphs hold no value and come out the same for every contact.
_INLINE: dict[str, list[Any]] = {}
_INLINE_MOST = 4096
_INLINE_LONGEST = 2000  # a longer text (a long note quoted whole) is parsed each time, not kept


def _inline(state: Any) -> None:
    """markdown-it's core rule "inline", with the parse of each text kept (copies are handed
    out: the rules after it join text tokens in place)."""
    md, env = state.md, state.env
    for token in state.tokens:
        if token.type != "inline":
            continue
        if token.children is None:
            token.children = []
        if env.get("references") or len(token.content) > _INLINE_LONGEST:
            md.inline.parse(token.content, md, env, token.children)
            continue
        kept = _INLINE.get(token.content)
        if kept is not None:
            token.children.extend(_copy(t) for t in kept)
            continue
        parsed = md.inline.parse(token.content, md, env, [])
        if len(_INLINE) >= _INLINE_MOST:
            _INLINE.clear()
        _INLINE[token.content] = [_copy(t) for t in parsed]
        token.children.extend(parsed)


def _copy(token: Any) -> Any:
    """A token and its children, none of them shared with ``token``."""
    from dataclasses import replace

    return replace(
        token,
        attrs=dict(token.attrs),
        meta=dict(token.meta),
        map=None if token.map is None else list(token.map),
        children=None if token.children is None else [_copy(t) for t in token.children],
    )


def markdown_to_html(text: str) -> str:
    body = _markdown().render(text)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        '<body style="font-family: sans-serif; font-size: 14px;">\n'
        f"{body}</body></html>\n"
    )


def markdown_to_text(text: str) -> str:
    """Markdown as a plain-text mail part, parsed as for the HTML part.

    Links read ``Title <url>`` (the URL alone when it is the text; an autolink stays
    ``<url>``); emphasis, code and escapes lose their markers; headings lose their ``#``;
    lists keep their markers as written (``-``, ``*``, ``2.``), quotes their ``> ``, code
    blocks an indent of four; line breaks and the blank lines between blocks are as written.
    Where CommonMark reads prose as markup, the user's line is kept: a heading that starts in
    lower case or with a digit (``# of people``) keeps its ``#``, a setext heading its
    underline (``Alex`` over ``--``), emphasis inside a word (``5*3*2``) its stars, and a
    reference definition its line. Values marked by `render` come out exactly as written.
    """
    return markdown_to_text_checked(text)[0]


def markdown_to_text_checked(text: str) -> tuple[str, bool]:
    """`markdown_to_text`, and whether the text's meaning may hang on what its values hold: a
    value is part of a link or an image (its text, its URL), or the text defines link
    references (``[label]: url``, which a value's text could match)."""
    from markdown_it.tree import SyntaxTreeNode

    # the line numbers of the parse are those of the text as markdown-it normalizes it
    source = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    renderer = _PlainText(source.split("\n"))
    env: dict[str, Any] = {}
    lines = renderer.blocks(SyntaxTreeNode(_markdown().parse(source, env)).children, top=True)
    linked = renderer.value_in_link or bool(env.get("references"))
    return "\n".join(lines).strip("\n") + "\n", linked


_ENCODED_MARKS = ("%EF%B7%90", "%EF%B7%91")  # the marks, percent-encoded in a link's href
_SETEXT_UNDERLINE = re.compile(r"[=-]+[ \t]*$")


def _is_word(char: str) -> bool:
    return char.isalnum()


class _PlainText:
    """Renders markdown-it's syntax tree as plain text (see `markdown_to_text`)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.in_value = False  # between VALUE_START and VALUE_END, in document order
        self.quotes = 0  # block quotes around the block being rendered
        self.list_at_top = False  # the list whose items are being rendered is not nested
        self.values = 0  # values met so far (a VALUE_START scanned)
        self.value_in_link = False  # a value was part of a link's or an image's text or URL

    # ------------------------------------------------------------------ text and marks

    def scan(self, text: str, *, code: bool = False) -> str:
        """``text`` without marks. Code keeps backslashes, so a value's escapes are undone."""
        if not (code and self.in_value) and VALUE_START not in text and VALUE_END not in text:
            return text
        out = []
        for piece in re.split(f"([{_MARKS}])", text):
            if piece == VALUE_START:
                self.in_value = True
                self.values += 1
            elif piece == VALUE_END:
                self.in_value = False
            elif code and self.in_value:
                out.append(_BACKSLASHED.sub(r"\1", piece))
            else:
                out.append(piece)
        return "".join(out)

    def verbatim(self, line: str) -> str:
        """A source line as written (a reference definition, a gap between blocks)."""
        return self.scan(line, code=True).rstrip()

    # ------------------------------------------------------------------ blocks

    def _blank(self, line: str, top: bool) -> bool:
        return not (line.strip() if top else line.strip(" \t>"))

    def blocks(self, nodes: Sequence[Any], *, top: bool) -> list[str]:
        """Sibling blocks, with the lines between them as in the source: blank lines as blank
        lines, and at the top level other lines (reference definitions) as written."""
        out: list[str] = []
        prev_end: int | None = 0 if top else None
        for node in nodes:
            start, end = node.map or (prev_end or 0, prev_end or 0)
            if prev_end is not None:
                for line in self.lines[prev_end:start]:
                    out.append(self.verbatim(line) if top else "")
            out.extend(self.block(node, top=top))
            while end > start + 1 and self._blank(self.lines[end - 1], top):
                end -= 1
            prev_end = end
        if top and prev_end is not None:
            out.extend(self.verbatim(line) for line in self.lines[prev_end:])
        return out

    def block(self, node: Any, *, top: bool) -> list[str]:
        kind = node.type
        if kind == "paragraph":
            lines = self.inline(node.children[0]).split("\n") if node.children else []
            start, end = node.map or (0, 0)
            if top and len(lines) == end - start:
                # markdown-it drops the indent of a paragraph's lines: put the user's back
                sources = self.lines[start:end]
                lines = [
                    src[: len(src) - len(src.lstrip(" \t"))] + line
                    for src, line in zip(sources, lines, strict=True)
                ]
            return lines
        if kind == "heading":
            text = self.inline(node.children[0]) if node.children else ""
            if node.markup in ("=", "-"):  # setext: keep the user's underline ("--" signatures)
                start, end = node.map or (0, 0)
                underline = _SETEXT_UNDERLINE.search(self.lines[end - 1]) if end else None
                return [*text.split("\n"), underline.group(0) if underline else node.markup * 3]
            if text[:1].islower() or text[:1].isdigit():  # prose, not a title: "# of guests"
                return [f"{node.markup} {text}"]
            return text.split("\n")
        if kind in ("bullet_list", "ordered_list"):
            outer, self.list_at_top = self.list_at_top, top
            try:
                return self.blocks(node.children, top=False)
            finally:
                self.list_at_top = outer
        if kind == "list_item":
            return self.list_item(node)
        if kind == "blockquote":
            self.quotes += 1
            try:
                inner = self.blocks(node.children, top=False) or [""]
            finally:
                self.quotes -= 1
            return [f"> {line}" if line else ">" for line in inner]
        if kind == "hr":
            start = (node.map or (0, 0))[0]
            return [self.lines[start].rstrip()] if top else [node.markup]
        if kind in ("code_block", "fence"):
            code = self.scan(node.content, code=True)
            return ["    " + line if line else "" for line in code.rstrip("\n").split("\n")]
        if node.children:
            return self.blocks(node.children, top=False)
        return [line.rstrip() for line in self.scan(node.content).split("\n")]

    def list_item(self, node: Any) -> list[str]:
        """``- item``, ``2. item``: the marker as written, the item's lines indented under it.
        Outside quotes, where each line of the output is a line of the source, the user's own
        spacing is kept: after the marker, and a line not indented in the source (prose that
        CommonMark reads as a list: "2026. What a year." over "We grew.") stays as written."""
        marker = node.markup if node.info == "" else node.info + node.markup
        inner = self.blocks(node.children, top=False)
        start, end = node.map or (0, 0)
        sources = self.lines[start:end]
        if not inner:
            written = sources[0].rstrip() if sources else ""
            at_top = self.list_at_top and self.quotes == 0 and written.strip() == marker
            return [written if at_top else marker]
        while sources and self._blank(sources[-1], False):
            sources.pop()
        as_written = self.quotes == 0 and len(sources) == len(inner)
        first = f"{marker} {inner[0]}" if inner[0] else marker
        if as_written and inner[0] and sources[0].endswith(inner[0]):
            written = sources[0][: len(sources[0]) - len(inner[0])]
            if not self.list_at_top:  # a nested list's indent is its container's to give
                written = written.lstrip(" ")
            if written.lstrip(" ").startswith(marker) and not written.strip(" \t")[len(marker) :]:
                first = written + inner[0]
        indent = " " * (len(marker) + 1)
        # the source's indents are counted from the item's column, or from the margin at the top
        column = (
            0 if self.list_at_top or not sources else len(sources[0]) - len(sources[0].lstrip())
        )
        rest = []
        for j, line in enumerate(inner[1:], 1):
            if not line:
                rest.append("")
            elif as_written and not line[:1].isspace():
                # markdown-it dropped this line's indent: the user's, from the item's column
                src = sources[j]
                rest.append(src[column : len(src) - len(src.lstrip(" \t"))] + line)
            else:
                rest.append(indent + line)
        return [first, *rest]

    # ------------------------------------------------------------------ inline

    def inline(self, node: Any) -> str:
        out: list[str] = []
        self._inline(node.children, out, "")
        return "".join(out)

    def _inline(self, nodes: Sequence[Any], out: list[str], follow: str) -> None:
        for i, node in enumerate(nodes):
            kind = node.type
            if kind in ("text", "text_special", "html_inline"):
                out.append(self.scan(node.content))
            elif kind in ("softbreak", "hardbreak"):
                out.append("\n")
            elif kind == "code_inline":
                out.append(self.scan(node.content, code=True))
            elif kind in ("em", "strong"):
                before = _last_char(out)
                after = _first_char(nodes, i + 1) or follow
                mark = len(out)
                out.append("")  # the opening stars' place (no insert: a long line stays fast)
                self._inline(node.children, out, after)
                if _is_word(before) or _is_word(after):  # 5*3*2: stars inside a word stay
                    out[mark] = node.markup
                    out.append(node.markup)
            elif kind in ("link", "image"):
                self._link(node, out, _first_char(nodes, i + 1) or follow)
            elif node.children:
                self._inline(node.children, out, _first_char(nodes, i + 1) or follow)
            else:
                out.append(self.scan(node.content))

    def _link(self, node: Any, out: list[str], follow: str) -> None:
        """A link as ``text <url>`` (``<url>`` for an autolink), an image as ``alt <src>``."""
        seen = self.values
        attr = node.attrs.get("href" if node.type == "link" else "src", "")
        if node.type == "link" and node.markup == "autolink":
            out.append("<")
            self._inline(node.children, out, ">")
            out.append(">")
        elif node.type == "link":
            href = self.href(attr)
            mark = len(out)
            self._inline(node.children, out, follow)
            label = "".join(out[mark:])
            shown = href.removeprefix("mailto:")
            if not label.strip():
                out.append(shown)
            elif label not in (href, shown, _markdown().normalizeLinkText(href)):
                out.append(f" <{shown}>")
        else:
            src = self.href(attr)
            mark = len(out)
            self._inline(node.children, out, follow)
            alt = "".join(out[mark:])
            if alt.strip() and alt != src:
                out.append(f" <{src}>")
            else:
                del out[mark:]
                out.append(f"<{src}>")
        if self.values != seen or any(m in str(attr) for m in _ENCODED_MARKS):
            self.value_in_link = True

    def href(self, attr: Any) -> str:
        """A link's URL as the HTML part has it; one that held a value is normalized again
        without the value's marks."""
        href = str(attr)
        if not any(m in href for m in _ENCODED_MARKS):
            return href
        for m in _ENCODED_MARKS:
            href = href.replace(m, "")
        md = _markdown()
        return str(md.normalizeLink(md.normalizeLinkText(href)))


def _last_char(out: list[str]) -> str:
    for piece in reversed(out):
        if piece:
            return piece[-1]
    return ""


def _first_char(nodes: Sequence[Any], start: int = 0) -> str:
    """The first character that the nodes from ``start`` show (for emphasis inside a word)."""
    for index in range(start, len(nodes)):
        node = nodes[index]
        if node.type in ("softbreak", "hardbreak"):
            return "\n"
        if node.type in ("text", "text_special", "code_inline", "html_inline"):
            text = node.content.translate({ord(c): None for c in _MARKS})
            if text:
                return str(text[0])
        elif node.type == "link" and node.markup == "autolink":
            return "<"
        elif node.children:
            char = _first_char(node.children)
            if char:
                return char
    return ""
