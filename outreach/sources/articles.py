"""Articles to share: the user's library (``articles.yaml``, personal notes) and RSS/Atom feeds.

The library is validated item by item: one bad entry is one ``file:line`` problem and is skipped,
the rest loads. Feeds (``outreach.sources.feeds``) are fetched with ``outreach.sources.fetch``,
cached (conditional requests: ETag and Last-Modified), read within ``FeedLimits``, and never
raise: a feed that is down, slow, too large, broken or not a feed at all gives one warning line
and its last good copy, if any.

Every article has a stable id derived from its normalized URL, so the same article found in the
library and in a feed (or with different ``utm_*`` tags) is one article, and "never the same
article twice to one person" can be keyed on it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outreach import yamlsrc
from outreach.errors import Problem
from outreach.idents import SLUG_MAX as SLUG_MAX
from outreach.idents import article_id as article_id  # domain: ids go in touch keys
from outreach.idents import normalize_url as normalize_url
from outreach.idents import without_utm as _without_utm
from outreach.matching import matches as matches  # domain: the planner decides who gets what
from outreach.sources.bounds import FeedLimits
from outreach.sources.fetch import cache_paths
from outreach.yamlsrc import Loc, Source, format_loc

LIBRARY_KEY = "articles"
ALLOWED_KEYS = ("url", "title", "note", "tags", "date")
FEED_LIMITS = FeedLimits()
MAX_FEED_BYTES = FEED_LIMITS.bytes

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Article:
    """One article that may be shared with contacts whose interests match its tags."""

    id: str
    url: str
    title: str
    note: str
    tags: tuple[str, ...]
    date: dt.date | None
    source: str


@dataclass(frozen=True)
class FeedSpec:
    """An RSS or Atom feed; ``tags`` are given to every item besides the item's own categories."""

    url: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticlesReport:
    """Library articles first, then feed articles, de-duplicated by id (the first one wins)."""

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]
    warnings: tuple[str, ...]


# --------------------------------------------------------------------------- URLs and ids


def _is_web_url(url: str) -> bool:
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


def clean_url(url: str) -> str:
    """The URL to share: as given, without ``utm_*`` tracking parameters."""
    parts = urllib.parse.urlsplit(url.strip())
    return urllib.parse.urlunsplit(parts._replace(query=_without_utm(parts.query)))


# --------------------------------------------------------------------------- the library


def _tags(values: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        tag = " ".join(value.split()).lower()
        if tag and tag not in out:
            out.append(tag)
    return tuple(out)


def _library_item(source: Source, index: int, item: Any) -> tuple[Article | None, list[Problem]]:
    """Validate one entry of ``articles:``; any problem skips the entry."""
    problems: list[Problem] = []

    def problem(key: str | None, message: str, hint: str) -> None:
        loc: Loc = (LIBRARY_KEY, index) if key is None else (LIBRARY_KEY, index, key)
        problems.append(Problem(source.name, source.line_of(loc), format_loc(loc), message, hint))

    if not isinstance(item, dict):
        problem(
            None,
            f"expected a mapping of keys, got {type(item).__name__}",
            "indent 'key: value' lines under it",
        )
        return None, problems
    for key in item:
        if key not in ALLOWED_KEYS:
            close = difflib.get_close_matches(str(key), ALLOWED_KEYS, n=1)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else (f"allowed keys: {', '.join(ALLOWED_KEYS)}")
            )
            problem(key, f"unknown key '{key}'", hint)

    def text(key: str, *, required: bool) -> str:
        value = item.get(key)
        if value is None:
            if required:
                problem(key, f"required key '{key}' is missing", f"add '{key}:'")
            return ""
        if not isinstance(value, str):
            problem(key, f"expected text, got {type(value).__name__} '{value}'", "quote the value")
            return ""
        if required and not value.strip():
            problem(key, "must not be empty", "give a value or remove the key")
        return value.strip()

    url = text("url", required=True)
    if url and not _is_web_url(url):
        problem(
            "url",
            f"'{url}' is not an http(s) URL",
            "write the whole address, e.g. https://example.com/news/article",
        )
    title = " ".join(text("title", required=True).split())
    note = text("note", required=False)

    raw_tags = item.get("tags")
    tags: tuple[str, ...] = ()
    if raw_tags is not None:
        if not isinstance(raw_tags, list):
            problem(
                "tags",
                f"expected a list, got {type(raw_tags).__name__}",
                "write a YAML list: [a, b] or '- a' lines",
            )
        else:
            for j, tag in enumerate(raw_tags):
                if not isinstance(tag, str):
                    loc: Loc = (LIBRARY_KEY, index, "tags", j)
                    problems.append(
                        Problem(
                            source.name,
                            source.line_of(loc),
                            format_loc(loc),
                            f"expected text, got {type(tag).__name__} '{tag}'",
                            "quote the value",
                        )
                    )
            tags = _tags([t for t in raw_tags if isinstance(t, str)])

    raw_date = item.get("date")
    date: dt.date | None = None
    if isinstance(raw_date, dt.datetime):
        date = raw_date.date()
    elif isinstance(raw_date, dt.date):
        date = raw_date
    elif isinstance(raw_date, str) and _DATE_RE.fullmatch(raw_date.strip()):
        try:
            date = dt.date.fromisoformat(raw_date.strip())
        except ValueError:
            problem(
                "date",
                f"'{raw_date.strip()}' is not a valid date",
                "write a real calendar date as YYYY-MM-DD",
            )
    elif raw_date is not None:
        problem("date", f"'{raw_date}' is not a date", "write YYYY-MM-DD")

    if problems:
        return None, problems
    return Article(article_id(url), clean_url(url), title, note, tags, date, source.name), []


def _entry_of(path: str) -> int | None:
    m = re.match(rf"{LIBRARY_KEY}\[(\d+)\]", path)
    return int(m.group(1)) if m else None


def load_library(path: Path) -> tuple[list[Article], list[Problem]]:
    """Articles from ``articles.yaml``; a missing file is an empty library, not a problem."""
    name = path.name
    try:
        source, problems = yamlsrc.load(path, name, required=False)
    except OSError as exc:
        return [], [
            Problem(
                name,
                None,
                "",
                f"cannot be read ({exc.strerror or exc})",
                "check that it is a file you may read",
            )
        ]
    data = source.data
    if data is None:
        return [], problems
    # Problems the YAML loader found inside an entry (an impossible date, a key given twice)
    # skip that entry; anywhere else they are reported and the rest still loads.
    broken = {i for i in (_entry_of(p.path) for p in problems) if i is not None}
    if not isinstance(data, dict):
        return [], [
            *problems,
            Problem(
                name,
                1,
                "",
                f"expected a mapping with a '{LIBRARY_KEY}:' list",
                f"start the file with '{LIBRARY_KEY}:'",
            ),
        ]
    for key in data:
        if key != LIBRARY_KEY:
            problems.append(
                Problem(
                    name,
                    source.line_of((key,)),
                    key,
                    f"unknown key '{key}'",
                    f"the file holds only '{LIBRARY_KEY}:'",
                )
            )
    items = data.get(LIBRARY_KEY)
    if items is None:
        return [], problems  # 'articles:' with nothing under it yet
    if not isinstance(items, list):
        problems.append(
            Problem(
                name,
                source.line_of((LIBRARY_KEY,)) or 1,
                LIBRARY_KEY,
                "expected a list",
                f"write '{LIBRARY_KEY}:' followed by '- ' items",
            )
        )
        return [], problems
    already = {(p.line, p.path) for p in problems}
    articles: list[Article] = []
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        article, errs = _library_item(source, i, item)
        problems += [p for p in errs if (p.line, p.path) not in already]
        if article is None or i in broken:
            continue
        if article.id in first:
            loc: Loc = (LIBRARY_KEY, i, "url")
            problems.append(
                Problem(
                    name,
                    source.line_of(loc),
                    format_loc(loc),
                    f"the same article as the entry on line "
                    f"{source.line_of((LIBRARY_KEY, first[article.id]))}",
                    "keep one of them",
                )
            )
            continue
        first[article.id] = i
        articles.append(article)
    problems.sort(key=lambda p: p.line or 0)
    return articles, problems


def _cache_paths(cache_dir: Path, url: str) -> tuple[Path, Path]:
    """The saved copy of a feed and its metadata."""
    return cache_paths(cache_dir, url, ".xml")


# --------------------------------------------------------------------------- together


def load_articles(
    library: Path | None,
    feeds: Sequence[FeedSpec],
    *,
    cache_dir: Path,
    timeout: float = 10.0,
    limits: FeedLimits = FEED_LIMITS,
) -> ArticlesReport:
    """The library (if any) and every feed. Never raises for bad input or a bad network:
    library problems come back as ``problems``, feed trouble as ``warnings``. ``timeout`` is for
    fetching one feed; ``limits`` bound what reading it may cost."""
    from outreach.sources.feeds import fetch_feed  # feeds builds on this module's articles

    articles: list[Article] = []
    problems: list[Problem] = []
    warnings: list[str] = []
    if library is not None:
        found, problems = load_library(library)
        articles += found
    for spec in feeds:
        found, said = fetch_feed(spec, cache_dir, timeout, limits)
        articles += found
        warnings += said
    seen: set[str] = set()
    unique: list[Article] = []
    for article in articles:
        if article.id not in seen:
            seen.add(article.id)
            unique.append(article)
    return ArticlesReport(tuple(unique), tuple(problems), tuple(warnings))


def sample_articles(day: dt.date, tags: tuple[str, ...]) -> tuple[Article, Article]:
    """Two articles dated ``day`` with ``tags``, for ``outreach check`` to render templates with:
    one from the library (with a personal note) and one as a feed gives it (no note)."""
    url = "https://news.example/sample-article"
    library = Article(
        article_id(url),
        url,
        "A sample article",
        "The part about planning made me think of you.",
        tags,
        day,
        LIBRARY_KEY,
    )
    feed_url = "https://news.example/sample-feed-item"
    feed = Article(
        article_id(feed_url), feed_url, "A sample feed item", "", tags, day, "a feed"
    )
    return library, feed
