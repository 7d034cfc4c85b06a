"""The articles library's model (outreach.library): one entry of articles.yaml, validated with the
same file:line machinery as every other file, with the library's own wording kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from outreach.library import LibraryEntry, is_web_url, normal_tags
from outreach.sources.articles import ALLOWED_KEYS, load_library


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "articles.yaml"
    path.write_text(text, encoding="utf-8")
    return [str(p) for p in load_library(path)[1]]


def test_every_field_has_a_description() -> None:
    """The README's reference can be generated from the model: every key says what it is."""
    assert list(LibraryEntry.model_fields) == ["url", "title", "note", "tags", "date"]
    assert ALLOWED_KEYS == ("url", "title", "note", "tags", "date")
    for name, info in LibraryEntry.model_fields.items():
        assert info.description, name
        assert info.examples, name


def test_an_entry_as_the_model_reads_it() -> None:
    """Text stripped, the title on single spaces, tags lowercased and each once, a timestamp
    counts as its day, ``YYYY-MM-DD`` text as a date; a key without a value is as if absent."""
    entry = LibraryEntry.model_validate(
        {
            "url": " https://a.example/x ",
            "title": "  Electric   trucks ",
            "note": None,
            "tags": [" Electric  Trucks", "electric trucks", "", "Fleet"],
            "date": dt.datetime(2026, 3, 3, 10, 0),
        }
    )
    assert entry == LibraryEntry(
        url="https://a.example/x",
        title="Electric trucks",
        note="",
        tags=("electric trucks", "fleet"),
        date=dt.date(2026, 3, 3),
    )
    assert LibraryEntry.model_validate({"url": "https://a.example/", "title": "T", "date": "2026-03-03"}).date == dt.date(2026, 3, 3)
    with pytest.raises(ValidationError):
        LibraryEntry.model_validate({"url": "https://a.example/", "title": "T", "date": 20260303})


def test_keys_without_a_value_are_as_if_absent(tmp_path: Path) -> None:
    """``note:``, ``tags:`` and ``date:`` with nothing after them are fine; ``url:`` and ``title:``
    are missing (an unknown key stays unknown, with or without a value)."""
    text = """\
articles:
  - url: https://a.example/a
    title: A
    note:
    tags:
    date:
  - url:
    title:
    summary:
"""
    assert problems(tmp_path, text) == [
        "articles.yaml:7: articles[1].url: required key 'url' is missing; add 'url:'",
        "articles.yaml:8: articles[1].title: required key 'title' is missing; add 'title:'",
        "articles.yaml:9: articles[1].summary: unknown key 'summary'; allowed keys: url, title, note, tags, date",
    ]


def test_the_library_keeps_its_own_advice(tmp_path: Path) -> None:
    """A quoted impossible date and an address that is not http(s) keep the library's hints (the
    settings' advice names Gmail's API); bytes and numbers are not text."""
    text = """\
articles:
  - url: mailto:someone@example.com
    title: A
    date: '2026-02-30'
  - url: https://a.example/b
    title: !!binary aGVsbG8=
    note: 7
"""
    assert problems(tmp_path, text) == [
        "articles.yaml:2: articles[0].url: 'mailto:someone@example.com' is not an http(s) URL; write the whole address, e.g. https://example.com/news/article",
        "articles.yaml:4: articles[0].date: '2026-02-30' is not a valid date; write a real calendar date as YYYY-MM-DD",
        "articles.yaml:6: articles[1].title: expected text, got bytes 'b'hello''; quote the value",
        "articles.yaml:7: articles[1].note: expected text, got int '7'; quote the value",
    ]


def test_a_control_character_in_a_message_is_shown_as_an_escape(tmp_path: Path) -> None:
    """Problems are one line each, as for every other file: a control character in the value
    quoted is written as its escape."""
    text = 'articles:\n  - url: "ftp://a.example/\\x07"\n    title: A\n'
    assert problems(tmp_path, text) == [
        "articles.yaml:2: articles[0].url: 'ftp://a.example/\\x07' is not an http(s) URL; write the whole address, e.g. https://example.com/news/article"
    ]


@pytest.mark.parametrize(
    ("url", "web"),
    [
        ("https://a.example/x", True),
        ("HTTP://a.example", True),
        ("ftp://a.example/x", False),
        ("https:///no-host", False),
        ("https://a.example:80x/", False),
        ("https://a.example/a b", False),
    ],
)
def test_what_counts_as_a_web_address(url: str, web: bool) -> None:
    assert is_web_url(url) is web


def test_tags_are_spelled_one_way() -> None:
    assert normal_tags([" Golf ", "golf", "Electric   Trucks", ""]) == ("golf", "electric trucks")
