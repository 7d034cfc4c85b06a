"""One slug for every id and key part outreach makes, and one way to resolve a path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from outreach.paths import resolve
from outreach.slugs import legacy_slug, slug


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
