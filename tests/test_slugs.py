"""One slug for every id and key part outreach makes, and one way to resolve a path."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from outreach.idents import article_id, meeting_key
from outreach.paths import resolve
from outreach.planner import child_slugs
from outreach.slugs import legacy_slug, slug
from tests.factories import contact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sofía", "sofia"),
        ("Jo Ann", "jo-ann"),
        ("Søren", "soren"),
        ("Straße", "strasse"),
        ("Zoë O'Brien-Núñez", "zoe-o-brien-nunez"),
        ("Иван Петров", "ivan-petrov"),
        ("Q4 Review — Müller & Co.", "q4-review-muller-co"),
        ("ﬁsh", "fish"),
    ],
)
def test_a_slug_is_ascii_lowercase_words_joined_by_dashes(text: str, expected: str) -> None:
    """Accents are dropped and letters without accents are transliterated (ß, ø, Cyrillic)."""
    assert slug(text) == expected


def test_a_slug_is_cut_without_a_trailing_dash_and_has_a_fallback() -> None:
    """`limit` never leaves a dash at the end; `empty` stands in when nothing is left."""
    assert slug("q4 review of the year", limit=10) == "q4-review"
    assert slug("— & —", empty="meeting") == "meeting"
    assert slug("— & —") == ""


def test_the_legacy_slug_is_what_earlier_keys_used() -> None:
    """Earlier releases lost letters that have no accent to drop: only to find their keys."""
    assert legacy_slug("Søren") == "sren"
    assert legacy_slug("Sofía") == slug("Sofía")


@pytest.mark.parametrize("text", ["Søren", "Straße", "Иван", "Zoë", "Jo Ann", "山田"])
def test_children_meetings_and_articles_use_the_one_slug(text: str) -> None:
    """A child's part of a touch key, a meeting key's title part and an article id's path part
    are the same slug of the same text."""
    kid = contact(family={"children": [{"name": text, "birthday": "2015-05-03"}]})
    assert child_slugs(kid) == [slug(text)]
    day = dt.date(2026, 11, 20)
    assert meeting_key(day, text, "uid").startswith(f"2026-11-20-{slug(text)}-")
    assert article_id(f"https://news.example/{text}").startswith(f"news.example-{slug(text)}-")


def test_a_relative_path_is_relative_to_the_folder_not_to_cron(tmp_path: Path) -> None:
    """One resolver: `~` expanded, `$VARS` only where asked, relative paths under the folder."""
    assert resolve(tmp_path, "drafts") == tmp_path / "drafts"
    assert resolve(tmp_path, "/var/outreach") == Path("/var/outreach")
    assert resolve(tmp_path, "~/x") == Path.home() / "x"
    os.environ["OUTREACH_TEST_DIR"] = str(tmp_path / "t")
    try:
        assert resolve(tmp_path, "$OUTREACH_TEST_DIR/a", variables=True) == tmp_path / "t" / "a"
        assert resolve(tmp_path, "$OUTREACH_TEST_DIR/a") == tmp_path / "$OUTREACH_TEST_DIR" / "a"
    finally:
        del os.environ["OUTREACH_TEST_DIR"]
