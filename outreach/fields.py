"""The value types every YAML-facing model shares: one-line text, ids, addresses, time zones,
countries, times of day, dates without a year, URLs, and :class:`Strict`, the base of every model.

Each type is an ``Annotated`` str (or value) with the validator that refuses what a header, a
greeting or a touch key cannot hold; the error types (``slug``, ``email``, ...) are the ones
``outreach.validation`` turns into hints.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic_core import PydanticCustomError

_BREAK = re.compile("[\r\n\x85\u2028\u2029]")  # what mail headers and str.splitlines() break at
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0, DEL, C1: not TAB, LF, CR


def no_control(value: str) -> str:
    """Text (a note too) holds no control characters but TAB and line breaks."""
    m = _CONTROL.search(value)
    if m:
        raise PydanticCustomError(
            "control_char",
            "contains the control character U+{code}, which is not allowed in text",
            {"code": f"{ord(m.group()):04X}"},
        )
    return value


def _on_one_line(value: str, where: str) -> str:
    m = _BREAK.search(value)
    if m:
        raise PydanticCustomError(
            "header_crlf",
            "contains a line break{code}, which is not allowed in " + where,
            {"code": "" if m.group() in "\r\n" else f" (U+{ord(m.group()):04X})"},
        )
    return no_control(value)


def _no_crlf(value: str) -> str:
    return _on_one_line(value, "a mail header")


def _one_line(value: str) -> str:
    return _on_one_line(value, "a one-line value")


def _slug(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", value):
        raise PydanticCustomError(
            "slug",
            "'{value}' is not a valid id (lowercase letters, digits, '.', '_' and '-')",
            {"value": value},
        )
    return value


# The addresses nearly every book holds: ASCII dot-atom before the @, ASCII host labels after it.
# email_validator gives each of them back unchanged (the host lowercased), so the check below
# answers for them without it; everything else (Unicode, Punycode, quotes, reserved names, the
# mailbox names RFC 2142 lowercases, lengths near a limit) goes to email_validator, which decides.
_ATEXT = r"[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_ADDRESS = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@((?:{_LABEL}\.)+{_LABEL})", re.ASCII)
_RFC2142 = frozenset(
    [
        "info",
        "marketing",
        "sales",
        "support",
        "abuse",
        "noc",
        "security",
        "postmaster",
        "hostmaster",
        "usenet",
        "news",
        "webmaster",
        "www",
        "uucp",
        "ftp",
    ]
)
_RESERVED_HOSTS = ("arpa", "invalid", "local", "localhost", "onion", "test")


def plain_address(value: str) -> str | None:
    """The normalized form of a common address (as email_validator gives it), or None when
    email_validator must decide. Never says yes to an address email_validator refuses."""
    m = _PLAIN_ADDRESS.fullmatch(value)
    if m is None or len(value) > 254 or "--" in value or m.group(1).lower() in _RFC2142:
        return None
    host = m.group(2).lower()
    if not "a" <= host[-1] <= "z" or host.rpartition(".")[2] in _RESERVED_HOSTS:
        return None
    return f"{m.group(1)}@{host}"


def _email(value: str) -> str:
    """The normalized address (NFC; the domain lowercased, in Unicode: 'probe@bücher.example'
    also for 'probe@xn--bcher-kva.example'). A local part outside ASCII needs SMTPUTF8, which
    drafts do not use."""
    plain = plain_address(value)
    return plain if plain is not None else checked_address(value)


def checked_address(value: str) -> str:
    """The address as email_validator alone judges it: what :func:`plain_address` must agree
    with."""
    from email_validator import EmailNotValidError, validate_email

    _no_crlf(value)
    try:
        found = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise PydanticCustomError(
            "email", "'{value}' is not an email address", {"value": value}
        ) from None
    if found.smtputf8:
        raise PydanticCustomError(
            "email_ascii",
            "'{value}' has characters outside ASCII before the @, which drafts cannot address",
            {"value": value},
        )
    return found.normalized


@functools.lru_cache(maxsize=1024)
def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone", "'{value}' is not a known time zone", {"value": value}
        ) from None
    return value


@functools.cache
def country_codes() -> frozenset[str]:
    """The country codes (and aliases) the holidays package knows: its registry, without
    importing a module per country as ``holidays.list_supported_countries()`` does (0.1 s).
    Until the package is imported (a night without holiday greetings never does) the table is
    read from the registry's source, not run: importing it imports the package (40 ms)."""
    if "holidays" not in sys.modules:
        codes = _registry_codes()
        if codes:
            return codes
    try:
        from holidays.registry import EntityLoader

        return frozenset(EntityLoader.get_country_codes(True))
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - another holidays
        import holidays

        return frozenset(holidays.list_supported_countries())


_TABLE = "COUNTRIES: RegistryDict = {"


def _registry_codes() -> frozenset[str]:
    """The codes of ``holidays.registry.COUNTRIES`` (each entry's names after the class name,
    of 2 or 3 letters, as ``EntityLoader.get_country_codes`` gives them) read from the module's
    source; empty when the source is not there or not of that shape (then the package says)."""
    import ast
    import importlib.util

    try:
        spec = importlib.util.find_spec("holidays")  # (finds the package, runs nothing)
        if spec is None or spec.origin is None:
            return frozenset()
        source = Path(spec.origin).with_name("registry.py").read_text(encoding="utf-8")
        start = source.index(_TABLE) + len(_TABLE) - 1
        table = ast.literal_eval(source[start : source.index("\n}\n", start) + 2])
        return frozenset(
            code
            for names in table.values()
            for code in names[1:]
            if isinstance(code, str) and 2 <= len(code) <= 3
        )
    except (ImportError, OSError, ValueError, SyntaxError, TypeError, AttributeError):
        return frozenset()


def _country(value: str) -> str:
    code = value.upper()
    if code not in country_codes():
        raise PydanticCustomError(
            "country", "'{value}' is not a known country code", {"value": value}
        )
    return code


def _strip_nonempty(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise PydanticCustomError("empty", "must not be empty")
    return value


Text = Annotated[str, BeforeValidator(_strip_nonempty), AfterValidator(_one_line)]
Prose = Annotated[str, BeforeValidator(_strip_nonempty), AfterValidator(no_control)]  # notes
Key = Annotated[str, AfterValidator(_one_line)]
HeaderText = Annotated[str, BeforeValidator(_strip_nonempty), AfterValidator(_no_crlf)]
Slug = Annotated[str, AfterValidator(_slug)]
Email = Annotated[str, AfterValidator(_email)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Country = Annotated[str, AfterValidator(_country)]
PlainText = Annotated[str, AfterValidator(no_control)]  # templates, signatures: any lines


def _clock(value: Any) -> Any:
    if value is None or value is False:
        return None
    if isinstance(value, int) and not isinstance(value, bool):  # YAML 1.1 reads 08:30 as 510
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str) and re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
        h, m = value.strip().split(":")
        return f"{int(h):02d}:{m}"
    raise PydanticCustomError(
        "clock", "'{value}' is not a time of day (use HH:MM, e.g. 08:30)", {"value": value}
    )


Clock = Annotated[str | None, BeforeValidator(_clock)]


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date whose year may be unknown (vCard's ``--MM-DD``)."""

    month: int
    day: int
    year: int | None = None

    def __str__(self) -> str:
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def in_year(self, year: int) -> dt.date:
        """This month-day in ``year``; Feb 29 falls on Feb 28 in common years."""
        if self.month == 2 and self.day == 29:
            try:
                return dt.date(year, 2, 29)
            except ValueError:
                return dt.date(year, 2, 28)
        return dt.date(year, self.month, self.day)


_PARTIAL = re.compile(r"--(\d{2})-(\d{2})|(\d{4})-(\d{2})-(\d{2})")


def _partial_date(value: Any) -> PartialDate:
    if isinstance(value, PartialDate):
        return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return PartialDate(value.month, value.day, value.year)
    if isinstance(value, str):
        m = _PARTIAL.fullmatch(value.strip())
        if m:
            if m.group(1):
                month, day, year = int(m.group(1)), int(m.group(2)), None
            else:
                year, month, day = int(m.group(3)), int(m.group(4)), int(m.group(5))
            try:
                dt.date(year if year is not None else 2000, month, day)  # 2000: a leap year
            except ValueError:
                raise PydanticCustomError(
                    "impossible_date", "'{value}' is not a real date", {"value": value}
                ) from None
            return PartialDate(month, day, year)
    raise PydanticCustomError(
        "partial_date",
        "'{value}' is not a date (use YYYY-MM-DD, or --MM-DD when the year is unknown)",
        {"value": value},
    )


YearOptionalDate = Annotated[
    PartialDate, BeforeValidator(_partial_date), PlainSerializer(str, return_type=str)
]


class Strict(BaseModel):
    """Base of every YAML-facing model: frozen, unknown keys forbidden."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True
    )


class Lazy(Strict):
    """Base of the models read a few times a night (outreach.yaml and its parts, each campaign):
    pydantic builds their validators when they are first used, not when they are imported, which
    saves `outreach plan` a tenth of a second at start-up. The contact models stay
    :class:`Strict`, built at import: a deferred model's validator (nested models referenced,
    not inlined) validates each of 100,000 contacts about a third slower."""

    model_config = ConfigDict(defer_build=True)


def http_url(value: Any) -> Any:
    """An http(s) URL, stripped (other values are left to the type check)."""
    if isinstance(value, str):
        value = value.strip()
        if _CONTROL.search(value) or not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value):
            raise PydanticCustomError("url", "'{value}' is not an http(s) URL", {"value": value})
    return value


def root_url(value: Any) -> Any:
    """An http(s) URL that ends in '/' (one is added)."""
    value = http_url(value)
    return value if not isinstance(value, str) or value.endswith("/") else value + "/"
