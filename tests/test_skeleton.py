"""A note's two parts from its template's shape (outreach.skeleton): the same bytes as parsing
each note on its own, for any template and any values; the parse made once per shape."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach import markup, skeleton


def on_its_own(marked: str) -> tuple[str, str]:
    """The two parts as each note was made before: its own parse."""
    body = markup.unmark(marked).strip("\n") + "\n"
    return markup.markdown_to_text(marked), markup.markdown_to_html(body)


def marked(literals: list[str], values: list[str]) -> str:
    """A body as `render` writes it: the template's text, and each value marked."""
    out = [literals[0]]
    for value, literal in zip(values, literals[1:], strict=True):
        out += [markup.mark(value), literal]
    return "".join(out)


# the pieces of Markdown a template's text is made of, around its values
FRAGMENTS = [
    "", " ", "  ", "\t", "Hi ", "word", ",", ".", "!", "*", "**", "_", "__", "`", "``", "[",
    "]", "](", "](https://example.com/", ")", "![", "<", ">", "<https://", "<mailto:", "<me@",
    "&", "&#", "&am", ";", "\\", ":", "#", "  \n", "\n", "\n\n", "- ", "* ", "1. ", "2) ",
    "# ", "## ", "> ", "    ", "```\n", "```py\n", "```", "~~~\n", "---\n", "===\n", "***\n",
    "[ref]: https://example.com\n", "[ref]", "\n- ", "\n1. ", "\n> ", "\n    ", "\n# ", "\ufdd2",
]
literal = st.lists(st.sampled_from(FRAGMENTS), max_size=4).map("".join)
# values that look like data: names, companies, notes, and anything at all
NAMES = ["Amélie", "amélie", "Björk & Søn", "O'Neil", "St. Louis", "jean-luc", "中村", "ǅemal",
         "Ødegård", "x2", "Acme Inc.", "R&D", "a & b", "AT&T", "Tom  Hardy", "²nd", "ß"]
value = st.one_of(
    st.sampled_from(NAMES),
    st.text(alphabet=st.sampled_from(list("aZé9 ,.'’-&#*_`[]()<>!:;/\\\t\n~=+|\u00a0\ufdd2")),
            min_size=1, max_size=12),
    st.text(min_size=1, max_size=8),
)


@st.composite
def template(draw: st.DrawFn) -> tuple[list[str], int]:
    n = draw(st.integers(min_value=0, max_value=4))
    return [draw(literal) for _ in range(n + 1)], n


@settings(max_examples=600, deadline=None)
@given(template(), st.data())
def test_a_note_made_from_its_shape_is_the_note_parsed_on_its_own(
    shape: tuple[list[str], int], data: st.DataObject
) -> None:
    """For any template text and any values, the parts made from the template's shape are byte
    for byte those of the note's own parse: for the first note of a shape and for a later one
    with other values (the shape then comes from the cache)."""
    literals, n = shape
    for _ in range(2):
        values = data.draw(st.lists(value, min_size=n, max_size=n))
        body = marked(literals, values)
        assert skeleton.Note(body).parts() == on_its_own(body)
        assert skeleton.Note(body).unmarked == markup.unmark(body)


def test_a_value_inside_a_value_is_parsed_with_its_note() -> None:
    """A macro's output holds marked values of its own (marks inside marks): such a note is
    unmarked and parsed as before."""
    inner = "*" + markup.mark("Zoë") + "*"
    body = "Hi " + markup.VALUE_START + inner + markup.VALUE_END + ",\n"
    note = skeleton.Note(body)
    assert note.unmarked == markup.unmark(body)
    assert note.parts() == on_its_own(body)


BIRTHDAY = ["Hi ", ",\n\n**Happy birthday!** I hope *", "* gives you the afternoon off.\n\n"
            "- how the year has been\n- what's next\n\nAll the best,\n\n", "\n"]


def test_notes_of_one_shape_are_parsed_once(monkeypatch: object) -> None:
    """A night of birthday notes parses the template's Markdown once; the other notes are the
    shape with their own values, and equal their own parse."""
    skeleton._SHAPES.clear()
    people = [("Amélie", "Björk & Søn", "Alex"), ("Zoë", "Globex", "Alex"),
              ("Jean-Luc", "Initech", "Alex")]
    for person in people:
        body = marked(BIRTHDAY, list(person))
        assert skeleton.Note(body).parts() == on_its_own(body)
    assert len(skeleton._SHAPES) == 1
    assert next(iter(skeleton._SHAPES.values())) is not None


def test_a_value_in_a_link_is_parsed_with_its_note() -> None:
    """A value in a link's text or URL may change what the link is (a space ends a URL; a text
    equal to its URL is shown once): such a note is parsed on its own."""
    for literals, values in (
        (["[", "](https://example.com/", ")\n"], ["Tom", "Tom"]),
        (["See [the notes](https://example.com/", ").\n"], ["Tom Hardy"]),
        (["<https://", ">\n"], ["example"]),
    ):
        skeleton._SHAPES.clear()
        body = marked(literals, values)
        assert skeleton.Note(body).parts() == on_its_own(body)
        assert list(skeleton._SHAPES.values()) in ([None], [])


def test_a_value_that_could_complete_an_entity_is_parsed_with_its_note() -> None:
    """``&{{ x }};`` is an entity when x is ``amp``: the note is parsed on its own."""
    skeleton._SHAPES.clear()
    body = marked(["Fish &", "; chips\n"], ["amp"])
    assert skeleton.Note(body).parts() == on_its_own(body)
    assert "&amp;" in skeleton.Note(body).parts()[1] and not skeleton._SHAPES


def test_a_heading_keeps_its_hash_by_the_case_of_its_value() -> None:
    """A heading that starts in lower case is prose and keeps its ``#`` in the plain text: the
    shape of a heading that starts with a value depends on the value's case."""
    text_upper = skeleton.Note(marked(["# ", " news\n"], ["Acme"])).parts()[0]
    text_lower = skeleton.Note(marked(["# ", " news\n"], ["acme"])).parts()[0]
    assert (text_upper, text_lower) == ("Acme news\n", "# acme news\n")


def test_the_cache_of_shapes_holds_a_bounded_number_of_characters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Long notes of ever new shapes (a loop over a feed's items, one shape per count) do not
    pile up: the cache holds at most its number of characters (here made small), and a note
    made after it was emptied is still its own parse."""
    monkeypatch.setattr(skeleton, "_MOST_CHARS", 100_000)
    skeleton._SHAPES.clear()
    for n in range(1, 30):
        literals = ["Hi ", ",\n\n" + "- an item of the feed, long enough to count\n" * (n * 8)]
        body = marked(literals, ["Zoë"])
        assert skeleton.Note(body).parts() == on_its_own(body)
        held = sum(sum(map(len, k)) + (sum(map(len, v[0] + v[1])) if v else 0)
                   for k, v in skeleton._SHAPES.items())
        assert held <= 100_000
    assert skeleton._SHAPES  # (shapes are still kept)
