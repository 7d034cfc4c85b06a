"""A touch key is a value: written and read by TouchKey alone, exactly as the ledger records it."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outreach.touch import Occasion, Touch
from outreach.touchkey import TouchKey

PART = st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1)
KEYS = st.builds(TouchKey, PART, PART, PART, st.integers(1, 10**6))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("birthday/jane-doe/2026", TouchKey("birthday", "jane-doe", "2026")),
        ("child-birthday/jane-doe/sam-2026", TouchKey("child-birthday", "jane-doe", "sam-2026")),
        (
            "thank-you/jane-doe/2026-11-20-q4-review-3f2a1c",
            TouchKey("thank-you", "jane-doe", "2026-11-20-q4-review-3f2a1c"),
        ),
        ("intro/jane-doe/2026-11-22/step-2", TouchKey("intro", "jane-doe", "2026-11-22", 2)),
        ("intro/jane-doe/2026-11-22/step-12", TouchKey("intro", "jane-doe", "2026-11-22", 12)),
        ("share/jane-doe/news.example-fleet-1a2b3c", TouchKey("share", "jane-doe", "news.example-fleet-1a2b3c")),
    ],
)
def test_the_keys_the_planner_makes_read_and_write_back_unchanged(text: str, key: TouchKey) -> None:
    """Campaign, contact, the occasion's part and, for a sequence's later note, ``/step-n``."""
    assert TouchKey.parse(text) == key
    assert str(key) == text


@given(KEYS)
def test_a_key_written_reads_back_as_itself(key: TouchKey) -> None:
    assert TouchKey.parse(str(key)) == key


@given(st.lists(PART, min_size=3, max_size=3), st.one_of(st.none(), st.integers(2, 10**6)))
def test_a_key_read_writes_back_byte_for_byte(parts: list[str], step: int | None) -> None:
    text = "/".join(parts) + (f"/step-{step}" if step else "")
    assert str(TouchKey.parse(text)) == text


@given(st.text(st.sampled_from("ab/-step0123")))
def test_any_text_is_a_key_that_writes_back_as_itself_or_no_key(text: str) -> None:
    """No text reads as a key that would be written differently."""
    key = TouchKey.read(text)
    assert key is None or str(key) == text


@pytest.mark.parametrize(
    "text",
    [
        "birthday/jane-doe",
        "birthday//2026",
        "/jane-doe/2026",
        "birthday/jane-doe/2026/",
        "birthday/jane-doe/2026/step-1",  # the first note has no step part
        "birthday/jane-doe/2026/step-02",
        "birthday/jane-doe/2026/step-x",
        "birthday/jane-doe/2026/extra",
        "intro/jane-doe/2026-11-22/step-2/more",
    ],
)
def test_a_text_that_is_no_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        TouchKey.parse(text)
    assert TouchKey.read(text) is None


def test_parts_with_a_slash_or_a_step_below_one_make_no_key() -> None:
    for bad in (("a/b", "c", "d", 1), ("a", "", "d", 1), ("a", "b", "c", 0)):
        with pytest.raises(ValueError):
            TouchKey(*bad)


def test_a_sequence_s_notes_share_the_first_note_s_key() -> None:
    later = TouchKey.parse("intro/jane-doe/2026-11-22/step-3")
    assert str(later.first) == "intro/jane-doe/2026-11-22"
    assert str(later.at_step(2)) == "intro/jane-doe/2026-11-22/step-2"
    assert later.tail == "2026-11-22/step-3" and later.first.tail == "2026-11-22"


def test_a_touch_knows_its_step_and_its_first_note() -> None:
    day = dt.date(2026, 11, 22)
    occasion = Occasion("schedule", day, "intro", "2026-11-22")
    first = Touch("intro/jane-doe/2026-11-22", "jane-doe", "intro", occasion, day, day, 1, "x")
    assert first.step == 1 and first.first_key == first.key
    second = first.as_step(2)
    assert (second.key, second.step) == ("intro/jane-doe/2026-11-22/step-2", 2)
    assert second.first_key == first.key
