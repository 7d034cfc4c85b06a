"""The fast check of common addresses gives email_validator's verdicts, never a different one.

``outreach.fields.plain_address`` answers for the addresses nearly every book holds without
calling email_validator (2 s per 10,000 addresses); whatever it is not sure of goes to
email_validator. These properties compare the two on generated and tricky addresses.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import email_validator
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError

from outreach import fields
from outreach.fields import plain_address

ATEXT = "abcXYZ019_!#$%&'*+-/=?^`{|}~"
TRICKY = ATEXT + '.@"\\ <>()[],;:é\u00a0\u200b\u0301'
LABELS = st.one_of(
    st.text("abcdefXYZ0189-", min_size=1, max_size=8),
    st.sampled_from(
        [
            "xn--bcher-kva",
            "ab--cd",
            "test",
            "local",
            "localhost",
            "arpa",
            "onion",
            "invalid",
            "example",
            "EXAMPLE",
            "com",
            "c0m",
            "123",
            "bücher",
            "a" * 63,
            "a" * 64,
            "-a",
            "a-",
        ]
    ),
)


_reference = fields.checked_address  # email_validator alone, as before the fast check


def _verdict(check: object, value: str) -> tuple[str, str]:
    try:
        return "ok", check(value)  # type: ignore[operator]
    except PydanticCustomError as exc:
        return exc.type, exc.message()


addresses = st.one_of(
    st.builds(
        lambda local, labels: local + "@" + ".".join(labels),
        st.text(ATEXT + ".", min_size=0, max_size=12),
        st.lists(LABELS, min_size=1, max_size=4),
    ),
    st.builds(
        lambda local, labels: local + "@" + ".".join(labels),
        st.text(TRICKY, min_size=0, max_size=10),
        st.lists(LABELS, min_size=0, max_size=3),
    ),
    st.builds(
        lambda n, m: "a" * n + "@" + "b" * m + ".example", st.integers(1, 200), st.integers(1, 200)
    ),
    st.text(TRICKY, max_size=20),
)


@settings(max_examples=3000, deadline=None)
@given(addresses)
@example("jane@acme.example")
@example("Jane.O'Brien@Acme.EXAMPLE")
@example("postmaster@acme.example")
@example("Info@acme.example")
@example("jane@xn--bcher-kva.example")
@example("jane@ab--cd.example")
@example("jane@acme.c0m")
@example("jane@acme.123")
@example("jane@mail.test")
@example("jane@host.local")
@example("jane@acme")
@example("a" * 64 + "@acme.example")
@example("a" * 65 + "@acme.example")
@example("a" * 240 + "@acme.example")
@example("a" * 250 + "@acme.example")
@example("jane@" + "a" * 63 + ".example")
@example("jane@" + "a" * 64 + ".example")
@example(".jane@acme.example")
@example("jane.@acme.example")
@example("ja..ne@acme.example")
@example('"jane"@acme.example')
@example("jane@acme.example.")
@example("jane@-acme.example")
@example("jane@acme-.example")
@example("jané@acme.example")
@example("jane@bücher.example")
@example("jane@acme.example\n")
def test_same_verdict_as_email_validator(value: str) -> None:
    """For any text, the address check with the fast path gives what email_validator alone
    gave: the same normalized address, or the same refusal."""
    assert _verdict(fields._email, value) == _verdict(_reference, value)
    fast = plain_address(value)
    if fast is not None:
        found = validate_email(value, check_deliverability=False)
        assert (found.normalized, found.smtputf8) == (fast, False)


def test_the_fast_path_takes_the_common_addresses() -> None:
    """The addresses of a real book are answered without email_validator (the point of it)."""
    for value in ("jane.doe@acme.example", "j+tag@Mail.Example.COM", "o'brien@firm-1.co.uk"):
        assert plain_address(value) is not None, value


def test_reserved_names_are_those_email_validator_refuses() -> None:
    """The fast path leaves every special-use name email_validator knows to email_validator."""
    for name in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        assert "." not in name
        assert plain_address(f"jane@mail.{name}") is None
        with pytest.raises(EmailNotValidError):
            validate_email(f"jane@mail.{name}", check_deliverability=False)


def test_country_codes_are_those_holidays_lists() -> None:
    """The country check reads the holidays registry: the same codes as
    ``holidays.list_supported_countries()``, aliases included."""
    import holidays

    assert fields.country_codes() == frozenset(holidays.list_supported_countries())


def test_country_codes_are_read_from_the_registry_until_the_package_is_imported() -> None:
    """A book without holiday greetings never imports the holidays package (40 ms): until then
    the country check reads the registry's table from its source, and finds the same codes
    the package lists."""
    script = (
        "import sys\n"
        "from outreach import fields\n"
        "codes = fields.country_codes()\n"
        "print('holidays' in sys.modules, len(codes) > 200)\n"
        "import holidays\n"
        "print(codes == frozenset(holidays.list_supported_countries()))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split() == ["False", "True", "True"], proc.stderr


def test_a_registry_source_of_another_shape_leaves_the_answer_to_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A holidays release whose registry is written otherwise: the source gives no codes, and
    the package is asked (the same codes as ever)."""
    fake = tmp_path / "holidays"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "registry.py").write_text("COUNTRIES = load_them()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "holidays", raising=False)
    assert fields._registry_codes() == frozenset()
