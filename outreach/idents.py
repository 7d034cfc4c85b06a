"""The ids sources give to what a touch key names: a meeting's occurrence, an article.

Domain: the meeting and article sources make these ids, the planner puts them in touch keys.
Both hold a slug (``outreach.slugs.slug``); an id as an earlier release made it (with the
earlier slug) is given too, so that a key recorded under it is still recognised as made.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import urllib.parse
from collections.abc import Callable
from typing import Protocol

from outreach.slugs import legacy_slug, slug

SLUG_MAX = 60  # an article id's readable part
TITLE_MAX = 40  # a meeting key's title part


class _Meeting(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def series(self) -> str: ...
    @property
    def day(self) -> dt.date: ...
    @property
    def title(self) -> str: ...


class _Article(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def url(self) -> str: ...


# --------------------------------------------------------------------------- meetings


def _meeting_key(day: dt.date, title: str, uid: str, slugger: Callable[..., str]) -> str:
    part = slugger(title, limit=TITLE_MAX, empty="meeting")
    return f"{day.isoformat()}-{part}-{hashlib.sha256(uid.encode()).hexdigest()[:6]}"


def meeting_key(day: dt.date, title: str, uid: str) -> str:
    """The stable key of one occurrence: its local day, its title and its series."""
    return _meeting_key(day, title, uid, slug)


def meeting_aliases(meeting: _Meeting) -> tuple[str, ...]:
    """The meeting's key as earlier releases made it, when that differs (``Straße``: ``strae``
    then, ``strasse`` now); with the same ``-n`` that keeps two occurrences on one day apart."""
    return _meeting_aliases(meeting.key, meeting.day, meeting.title, meeting.series)


@functools.lru_cache(maxsize=4096)
def _meeting_aliases(key: str, day: dt.date, title: str, series: str) -> tuple[str, ...]:
    base = meeting_key(day, title, series)
    if not key.startswith(base):
        return ()
    old = _meeting_key(day, title, series, legacy_slug) + key[len(base) :]
    return () if old == key else (old,)


# --------------------------------------------------------------------------- articles


def without_utm(query: str) -> str:
    """A URL's query without ``utm_*`` tracking parameters (untouched when it has none)."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not k.lower().startswith("utm_")]
    if len(kept) == len(pairs):
        return query  # untouched: keep the original spelling
    return urllib.parse.urlencode(kept)


def normalize_url(url: str) -> str:
    """Scheme and host lowercased, default port, fragment, ``utm_*`` and trailing slash dropped."""
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port is not None and (scheme, parts.port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/")
    return urllib.parse.urlunsplit((scheme, host, path, without_utm(parts.query), ""))


def _article_id(url: str, slugger: Callable[[str], str]) -> str:
    normal = normalize_url(url)
    parts = urllib.parse.urlsplit(normal)
    host = (parts.hostname or "").removeprefix("www.")
    host = re.sub(r"[^a-z0-9.-]+", "-", host).strip("-.")[:SLUG_MAX] or "article"
    segments = [
        slugger(re.sub(r"\.(html?|php|aspx?)$", "", urllib.parse.unquote(s), flags=re.IGNORECASE))
        for s in parts.path.split("/")
    ]
    segments = [s for s in segments if s]
    room = SLUG_MAX - len(host) - 1
    tail = ""
    for seg in reversed(segments):
        candidate = f"{seg}-{tail}" if tail else seg
        if len(candidate) <= room:
            tail = candidate
            continue
        if not tail and room > 0:
            tail = seg[-room:].strip("-")  # the end of a long slug tells the most
        break
    base = f"{host}-{tail}" if tail else host
    digest = hashlib.sha1(normal.encode("utf-8")).hexdigest()[:6]
    return f"{base}-{digest}"


def article_id(url: str) -> str:
    """``<host without www>-<last path segments>`` (at most 60 characters) ``-<6 hex of sha1>``.

    The hash is of the normalized URL, so the id is the same for every spelling of one address
    and differs for two addresses whose readable part happens to be the same."""
    return _article_id(url, slug)


def article_aliases(article: _Article) -> tuple[str, ...]:
    """The article's id as earlier releases made it from its URL, when that differs (a path
    with ``ß`` or Cyrillic in it)."""
    return _article_aliases(article.id, article.url)


@functools.lru_cache(maxsize=4096)
def _article_aliases(ident: str, url: str) -> tuple[str, ...]:
    if article_id(url) != ident:
        return ()  # an id not made from this URL (as a test may build one): nothing to add
    old = _article_id(url, legacy_slug)
    return () if old == ident else (old,)
