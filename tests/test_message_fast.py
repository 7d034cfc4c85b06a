"""A draft's headers, stored as written, are what the email package writes and reads back.

`outreach.message` stores a subject outside ASCII as the email package folds it (worked out once
per subject text) and the sender's From line once per night; these properties hold each to the
email package's own parse and fold, the oracle. The sandbox reads a dict's item without
Jinja's getattr() first: held to Jinja's sandbox.
"""

from __future__ import annotations

import email.policy
from pathlib import Path

import jinja2
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from outreach.message import _SMTP, _stored_subject
from outreach.render import environment

SUBJECTS = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Zl", "Zp"]),
            min_size=1, max_size=200),
    st.builds(lambda a, b: f"{a}, {b}!", st.sampled_from(["Happy birthday", "Alles Gute",
                                                            "Joyeux anniversaire"]),
              st.text("abcéøñßüÓẞTrần李王 ", min_size=1, max_size=40)),
)


@settings(max_examples=1500, deadline=None)
@given(SUBJECTS)
@example("Happy birthday, Óscar!")
@example("Alles Gute, Zoë!")
@example("Ž" * 120)
@example("語" * 30 + " " + "x" * 90)
def test_any_subject_is_stored_as_the_policy_writes_and_reads_it(subject: str) -> None:
    """Any subject without a line break, stored without a parse per draft, folds to the line
    the email package writes for it, and reads back as the subject the parsed one reads as."""
    stored = _stored_subject(subject)
    parsed = _SMTP.header_store_parse("Subject", subject)[1]
    assert _SMTP.fold_binary("Subject", stored) == _SMTP.fold_binary("Subject", parsed)
    assert str(_SMTP.header_fetch_parse("Subject", stored)) == str(parsed)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.sampled_from(["Subject", "TO", "cc", "Message-ID", "X-Unsent", "Received",
                                  "Content-Type", "MIME-Version", "Resent-Date", "Date"]),
                 st.text("abcXYZ-", min_size=1, max_size=12)))
def test_how_often_a_header_may_appear_is_the_email_packages_answer(name: str) -> None:
    """The drafts' policy answers how many times a header may appear as the email package's
    SMTP policy answers it, for its own headers and any other."""
    assert _SMTP.header_max_count(name) == email.policy.SMTP.header_max_count(name)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from(["greet", "items", "keys", "get", "__class__", "x", "_y",
                                        "mro", "__mro__", "copy", "name"]),
                       st.integers(), max_size=5),
       st.sampled_from(["greet", "items", "keys", "get", "__class__", "x", "_y", "mro",
                        "__mro__", "copy", "name", "missing", "__init__", "fromkeys"]))
def test_a_dict_in_a_template_reads_as_jinjas_sandbox_reads_it(data: dict[str, int],
                                                                attribute: str) -> None:
    """``value.name`` on a dict in a template gives what Jinja's immutable sandbox gives: the
    item, the dict's own attribute, or undefined, for any dict and any name."""
    env = environment(Path("/nonexistent"))
    ours = env.getattr(data, attribute)
    theirs = ImmutableSandboxedEnvironment.getattr(env, data, attribute)
    assert type(ours) is type(theirs)
    if not isinstance(ours, jinja2.Undefined):
        assert ours == theirs
