"""Reading YAML the fast way gives what the line-keeping builder gives, or leaves it to it.

``outreach.yamlfast`` builds a document's values without their lines (the lines are found when a
problem needs one); for anything unusual it gives up and ``outreach.yamlbuild`` reads the
document as it always did. Either way a document reads to the same values, the same lines and
the same problems.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach import yamlfast, yamlsrc


def _both(text: str) -> tuple[yamlsrc.Source, list[Any], yamlsrc.Source, list[Any]]:
    fast, fast_problems = yamlsrc.loads(text, "f.yaml")
    full, full_problems = yamlsrc._build(text, "f.yaml", yamlsrc._editor_lines(text))
    return fast, fast_problems, full, full_problems


def _same(text: str) -> None:
    fast, fast_problems, full, full_problems = _both(text)
    assert fast.data == full.data
    assert [str(p) for p in fast_problems] == [str(p) for p in full_problems]
    shallow = {loc: fast.line_of(loc) for loc in full.lines if len(loc) <= yamlfast.SHALLOW}
    assert shallow == {loc: full.line_of(loc) for loc in shallow}  # before the lines are found
    assert fast.lines == full.lines
    for loc in list(full.lines)[:50]:
        assert fast.line_of((*loc, "nowhere", 3)) == full.line_of((*loc, "nowhere", 3))


scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    st.sampled_from(
        [
            "yes",
            "no",
            "~",
            "null",
            "0x1f",
            "1_000",
            "--04-12",
            "2026-02-30",
            ".inf",
            "1e3",
            "08:30",
            "<<",
            "",
            " a ",
            "é",
            "a: b",
            "- x",
            "#c",
            "'q'",
            '"d"',
        ]
    ),
)
keys = st.one_of(
    st.text(min_size=1, max_size=8),
    st.integers(0, 99),
    st.booleans(),
    st.sampled_from(["id", "email", "yes", "on", "1", "2026-01-01"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, st.booleans(), st.booleans(), st.sampled_from(["\n", "\r\n"]))
def test_documents_read_alike(data: Any, flow: bool, unicode: bool, newline: str) -> None:
    """Any document PyYAML writes reads to the same values, lines and problems both ways."""
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=unicode, sort_keys=False)
    _same(text.replace("\n", newline))


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [1, 2]\nb: *x\n",
        "a: &x 1\nb: &x 2\n",
        "base: &b {k: 1}\nitem:\n  <<: *b\n  j: 2\n",
        "a: 1\na: 2\n",
        "? [1, 2]\n: x\n",
        "~: x\n",
        "a:\n  b: 2026-02-30\n",
        "a: !!str 3\nb: !!int '4'\n",
        "a: !custom x\n",
        "a: 1\n---\nb: 2\n",
        "# only a comment\n",
        "a: [1, 2\n",
        '"k\\x1c": 1\n',
        "yes: 1\n1: 2\n2026-01-01: 3\n1.5: 4\n",
        "a:\r  b: 1\r  c: 2\r",
        "a:\u2028  b: 1\n",
        "x: " + "[" * 99 + "]" * 99 + "\n",
        "x: " + "[" * 101 + "]" * 101 + "\n",
        "just text\n",
        "- a\n- {b: c, d: [e, f]}\n- - g\n",
        "contacts:\n  - id: a\n    email: {work: a@b.example}\n  - id: b\n",
    ],
)
def test_tricky_documents_read_alike(text: str) -> None:
    """Aliases, merge keys, repeated keys, bad dates, tags, two documents, odd line breaks and
    nesting at the limit: the same values, lines and problems as the full builder gives."""
    _same(text)


def test_aliases_are_left_to_the_builder() -> None:
    """The fast way never walks an alias (a bomb is counted and refused by the builder)."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    assert yamlfast.build(yamlsrc._Loader(bomb), None) is None
    source, problems = yamlsrc.loads(bomb, "bomb.yaml")
    assert source.data is None
    assert "expand to more than" in problems[0].message


def test_a_deep_line_is_found_when_asked() -> None:
    """A document read the fast way still gives the line of any value, found on demand."""
    text = "contacts:\n" + "".join(
        f"  - id: p{i}\n    email:\n      work: p{i}@x.example\n" for i in range(500)
    )
    source, problems = yamlsrc.loads(text, "contacts.yaml")
    assert problems == []
    assert source.line_of(("contacts", 321)) == 2 + 3 * 321
    assert source.within(("contacts", 321)).line_of(("email", "work")) == 4 + 3 * 321
