"""The kept inline parses change nothing: both parts of a note are those of a fresh parse.

`outreach.markup` keeps the inline parse of each paragraph's text and hands out copies; these
tests render generated Markdown (headings, lists, links, emphasis, quotes, code, reference
definitions, marked values) with the kept parses, twice (the second time every text is kept), and
with a markdown-it that keeps nothing, and compare the HTML and the plain text.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from outreach import markup

WORDS = ["Hi", "Zoë", "**bold**", "*em*", "_u_", "`code`", "[link](https://x.example/a?b=1)",
         "<https://auto.example>", "[ref]", "![img](https://i.example/p.png)", "&amp;", "\\*",
         "5*3*2", "snake_case_name", "a  ", "<b>raw</b>", "[ref]: https://r.example"]
STARTS = ["", "# ", "## ", "- ", "* ", "1. ", "2) ", "> ", "    ", "```\n", "---\n", "Title\n==\n"]


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A note as a template would write it, values marked as `render` marks them."""
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        words = draw(st.lists(st.sampled_from(WORDS) | st.text(max_size=8).map(markup.mark),
                              min_size=1, max_size=6))
        lines.append(draw(st.sampled_from(STARTS)) + " ".join(words))
        lines.extend([""] * draw(st.integers(0, 1)))
    return "\n".join(lines) + "\n"


def fresh() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "breaks": True, "typographer": False})


@settings(max_examples=120, deadline=None)
@given(doc=documents())
def test_kept_parses_give_the_bytes_of_a_fresh_parse(doc: str) -> None:
    """HTML and plain text with the kept parses (first and second time) equal a fresh parse's."""
    body = markup.unmark(doc)
    got = [(markup.markdown_to_html(body), markup.markdown_to_text(doc)) for _ in range(2)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(markup, "_markdown", fresh)
        want = (markup.markdown_to_html(body), markup.markdown_to_text(doc))
    assert got == [want, want]


def test_the_parses_are_kept_and_bounded() -> None:
    """The same paragraph text is parsed once; the store of kept parses does not grow without
    end."""
    markup._INLINE.clear()
    markup.markdown_to_html("Hello *there*\n\nHello *there*\n")
    assert list(markup._INLINE) == ["Hello *there*"]
    for n in range(markup._INLINE_MOST + 10):
        markup.markdown_to_html(f"para {n}\n")
    assert len(markup._INLINE) <= markup._INLINE_MOST


def test_a_long_paragraph_is_parsed_each_time_not_kept() -> None:
    """A paragraph longer than 2,000 characters (a long note quoted whole) is not kept: the kept
    parses stay small however long the notes, and the HTML is that of a fresh parse."""
    markup._INLINE.clear()
    long = "word *and* " * 300
    assert markup.markdown_to_html(long + "\n") == markup.markdown_to_html(long + "\n")
    assert markup._INLINE == {}
    assert "<em>and</em>" in markup.markdown_to_html(long + "\n")
