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
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from outreach import yamlsrc
from outreach.config import validate
from outreach.errors import Problem
from outreach.idents import SLUG_MAX as SLUG_MAX
from outreach.idents import article_id as article_id  # domain: ids go in touch keys
from outreach.idents import normalize_url as normalize_url
from outreach.idents import without_utm as _without_utm
from outreach.library import HINTS, LibraryEntry
from outreach.matching import matches as matches  # domain: the planner decides who gets what
from outreach.sources.bounds import FeedLimits
from outreach.sources.fetch import cache_paths
from outreach.yamlsrc import Loc, Source, format_loc

LIBRARY_KEY = "articles"
ALLOWED_KEYS = tuple(LibraryEntry.model_fields)  # url, title, note, tags, date
FEED_LIMITS = FeedLimits()
MAX_FEED_BYTES = FEED_LIMITS.bytes



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




def clean_url(url: str) -> str:
    """The URL to share: as given, without ``utm_*`` tracking parameters."""
    parts = urllib.parse.urlsplit(url.strip())
    return urllib.parse.urlunsplit(parts._replace(query=_without_utm(parts.query)))


# --------------------------------------------------------------------------- the library


def _library_item(source: Source, index: int, item: object) -> tuple[Article | None, list[Problem]]:
    """Validate one entry of ``articles:`` with :class:`LibraryEntry`; any problem skips it."""
    entry, problems = validate(
        LibraryEntry, Source(source.name, item, source.lines), at=(LIBRARY_KEY, index)
    )
    if entry is None:
        return None, [_with_hint(p) for p in problems]
    fields = (entry.title, entry.note, entry.tags, entry.date, source.name)
    return Article(article_id(entry.url), clean_url(entry.url), *fields), []


def _with_hint(problem: Problem) -> Problem:
    """The library's own advice where it differs from the settings' (``outreach.library.HINTS``)."""
    for end, hint in HINTS.items():
        if problem.message.endswith(end):
            return replace(problem, hint=hint)
    return problem


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
