"""The articles library: one entry of ``articles.yaml`` as a validated, frozen model.

An entry is the article to share (its address and title), the note you would write by hand, the
tags that match it to people's interests, and the day it was published. Each entry is validated
on its own (``outreach.sources.articles.load_library``, with ``outreach.config.validate``), so a
bad one is one ``file:line`` problem and is skipped while the rest loads. What an http(s) address
is and how tags are spelled are the same for feeds (``outreach.sources.feeds``), hence public here.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from outreach.model import Strict

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# The advice for the library's own errors, by the message's ending, where outreach.config's advice
# for the same kind of error is worded for the settings (its example address is Gmail's API).
HINTS = {
    "is not an http(s) URL": "write the whole address, e.g. https://example.com/news/article",
    "is not a valid date": "write a real calendar date as YYYY-MM-DD",
}


def is_web_url(url: str) -> bool:
    """An http(s) address with a host (and a port that is a number), without white space."""
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # raises for a port that is not a number
    except ValueError:
        return False
    return (
        parts.scheme.lower() in ("http", "https")
        and bool(parts.hostname)
        and not any(c.isspace() for c in url)
    )


def normal_tags(values: Sequence[str]) -> tuple[str, ...]:
    """Tags as they are matched: spacing collapsed, lowercase, each once, none empty."""
    out: list[str] = []
    for value in values:
        tag = " ".join(value.split()).lower()
        if tag and tag not in out:
            out.append(tag)
    return tuple(out)


# --------------------------------------------------------------------------- validators


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _not_empty(value: str) -> str:
    if not value:
        raise PydanticCustomError("empty", "must not be empty")
    return value


def _web_url(value: str) -> str:
    if not is_web_url(value):
        raise PydanticCustomError("url", "'{value}' is not an http(s) URL", {"value": value})
    return value


def _one_spaced(value: str) -> str:
    return " ".join(value.split())


def _date(value: Any) -> Any:
    """A YAML date (a timestamp counts as its day) or ``YYYY-MM-DD`` text; nothing else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise PydanticCustomError(
                "impossible_date", "'{value}' is not a valid date", {"value": value.strip()}
            ) from None
    raise PydanticCustomError("date_type", "'{value}' is not a date", {"value": value})


_Text = Annotated[StrictStr, BeforeValidator(_stripped)]  # text, never a number or bytes


# --------------------------------------------------------------------------- the entry


class LibraryEntry(Strict):
    """One article in ``articles.yaml``, to share with the people whose interests its tags match.
    A key without a value (``note:``) is as if it were not there."""

    url: Annotated[_Text, AfterValidator(_not_empty), AfterValidator(_web_url)] = Field(
        description="the http(s) address, shared without utm_* tags; one entry per address",
        examples=["https://news.example/electric-trucks"],
    )
    title: Annotated[_Text, AfterValidator(_not_empty), AfterValidator(_one_spaced)] = Field(
        description="article.title in the note (white space collapsed)",
        examples=["Electric trucks cut costs"],
    )
    note: _Text = Field(
        "",
        description="what you would write by hand (article.note)",
        examples=["Made me think of your fleet renewal."],
    )
    tags: Annotated[tuple[StrictStr, ...], AfterValidator(normal_tags)] = Field(
        (),
        description="matched to people's interests, hobbies and tags",
        examples=[["electric trucks", "fleet"]],
    )
    date: Annotated[dt.date | None, BeforeValidator(_date)] = Field(
        None,
        description="when it was published; until then it is not shared",
        examples=["2026-11-02"],
    )

    @model_validator(mode="before")
    @classmethod
    def _absent_when_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None or k not in cls.model_fields}
        return data
