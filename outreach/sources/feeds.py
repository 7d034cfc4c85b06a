"""RSS and Atom feeds as articles to share, read within bounds.

A feed is fetched with ``outreach.sources.fetch`` (a deadline for the whole fetch, a size limit
while reading, the last good copy used when the feed fails) and parsed by feedparser, within
``FeedLimits``:

- a feed that declares XML entities of its own (``<!ENTITY``: the "billion laughs") is refused
  before it is parsed, whatever the XML parser underneath would make of it;
- only the first ``items`` items are parsed (feeds list the newest first), with one warning;
- parsing has a time limit (for the fresh answer and the copy together); a feed that takes
  longer is refused like a broken one;
- an item with a title or link longer than any real one is skipped with a warning.

Warnings quote a feed's titles and links clipped, so that each stays one short line.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html.parser
import io
import re
from pathlib import Path
from typing import Any

from outreach.library import is_web_url, normal_tags
from outreach.sources.articles import Article, FeedSpec, article_id, clean_url
from outreach.sources.bounds import Budget, FeedLimits, Overrun, clip
from outreach.sources.fetch import fetch

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_ROOT = re.compile(rb"<[A-Za-z_]")  # the first element: what comes before it is the prolog
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ITEM_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\s*>", re.IGNORECASE)


def fetch_feed(
    spec: FeedSpec, cache_dir: Path, timeout: float, limits: FeedLimits
) -> tuple[list[Article], list[str]]:
    """The articles of one feed and the warnings about it (never raises)."""
    url = spec.url.strip()
    if not is_web_url(url):
        return [], [f"{spec.url}: not an http(s) URL; skipped the feed"]
    last: list[Any] = []  # the body validated last, its parsed feed and notes: parsed once
    budget = Budget(limits.seconds)  # parsing this feed (its fresh answer, its copy), in all

    def validate(body: bytes, content_type: str) -> str | None:
        meta = {"content_type": content_type, "url": url}
        parsed, why, notes = _parse(body, meta, limits, budget)
        if parsed is None:
            return why
        last[:] = [body, parsed, notes]
        return None

    got = fetch(
        url,
        cache_dir=cache_dir,
        suffix=".xml",
        validate=validate,
        timeout=timeout,
        accept="application/rss+xml, application/atom+xml, "
        "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        max_bytes=limits.bytes,
    )
    warnings = got.warnings(spec.url)
    if got.body is None:
        return [], warnings
    base = got.url or url
    if not (last and last[0] is got.body and base == url):
        # redirected: parsed again with the address it came from, for relative links
        meta = {"content_type": got.content_type, "url": base}
        parsed, _, notes = _parse(got.body, meta, limits, budget)
        if parsed is None:  # cannot happen: fetch gives only bodies that validate accepted
            return [], warnings
        last[:] = [got.body, parsed, notes]
    warnings += [f"{spec.url}: {note}" for note in last[2]]
    return _feed_articles(spec, last[1], warnings, limits), warnings


def _parse(
    body: bytes, meta: dict[str, Any], limits: FeedLimits, budget: Budget
) -> tuple[Any | None, str, tuple[str, ...]]:
    """(parsed feed, "", notes) or (None, why it is not a feed, ())."""
    import feedparser

    body, why, notes = _bounded(body, limits)
    if why:
        return None, why, ()
    headers = {
        k: v
        for k, v in (
            ("content-type", meta.get("content_type")),
            ("content-location", meta.get("base") or meta.get("url")),
        )
        if isinstance(v, str) and v
    }
    # A file object, not bytes: given bytes, feedparser first tries them as a local file name, so
    # a server answering '/home/me/notes.xml' would make us read that file.
    try:
        with budget.spend():
            parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    except Overrun:
        return None, f"took more than {budget.seconds:g} s to read", ()
    if any(e.get("link") for e in parsed.entries) or (parsed.entries and not parsed.get("bozo")):
        # feedparser's loose parser recovers most broken feeds, and a feed served as text/html
        # is "bozo" too: entries are what counts (a truncated download yields a linkless stub)
        return parsed, "", notes
    exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.get("version") and (exc is None or type(exc).__name__ == "NonXMLContentType"):
        # an HTML page or an empty body: no complaint from the XML parser, no feed either
        if not body.strip():
            return None, "not an RSS or Atom feed (the answer was empty)", ()
        ctype = str(meta.get("content_type") or "").split(";")[0].strip() or "no content type"
        return None, f"not an RSS or Atom feed (the server sent {clip(ctype)})", ()
    if exc is not None:
        detail = getattr(exc, "getMessage", lambda: str(exc))()
        return None, f"not a readable RSS or Atom feed ({clip(str(detail), 120)})", ()
    return parsed, "", notes  # a well-formed feed with no items yet


def _bounded(body: bytes, limits: FeedLimits) -> tuple[bytes, str, tuple[str, ...]]:
    """(the body to parse, "", notes) or (body, why it is refused, ()): no entity declarations,
    at most ``limits.items`` items (the first ones kept, the XML around them intact)."""
    wide = b"\x00" in body[:256]  # UTF-16 or UTF-32: looked at without its zero bytes
    text = body.replace(b"\x00", b"") if wide else body
    root = _ROOT.search(text)
    if _ENTITY.search(text, 0, root.start() if root else len(text)):
        return body, "declares XML entities of its own (<!ENTITY), which no feed needs", ()
    count, cut, end = 0, 0, 0
    for match in _ITEM_END.finditer(text):
        count += 1
        if count == limits.items:
            cut = match.end()
        end = match.end()
    if count <= limits.items:
        return body, "", ()
    if wide:
        return body, f"has {count:,} items (more than {limits.items:,})", ()
    note = f"has {count:,} items (more than {limits.items:,}); read the first {limits.items:,}"
    return body[:cut] + body[end:], "", (note,)


class _TextOnly(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    return " ".join("".join(parser.parts).split())


def _entry_date(entry: Any) -> dt.date | None:
    """The publication (else update) date as the publisher wrote it. feedparser's ``*_parsed``
    values are converted to UTC, which moves an evening post in America to the next day; the raw
    text keeps the publisher's own date, so it is read first."""
    for key in ("published", "updated"):
        raw = entry.get(key)
        if isinstance(raw, str) and raw.strip():
            raw = raw.strip()
            try:
                return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
            except ValueError:
                pass
            try:
                return email.utils.parsedate_to_datetime(raw).date()
            except (TypeError, ValueError, IndexError):
                pass
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            try:
                return dt.date(parsed[0], parsed[1], parsed[2])
            except (TypeError, ValueError, IndexError):
                continue
    return None


def _feed_articles(
    spec: FeedSpec, parsed: Any, warnings: list[str], limits: FeedLimits
) -> list[Article]:
    out: list[Article] = []
    extra = normal_tags(spec.tags)
    for n, entry in enumerate(parsed.entries, start=1):
        title = str(entry.get("title") or "")
        link = str(entry.get("link") or "").strip()
        if len(title) > limits.title_chars:
            warnings.append(
                f"{spec.url}: item '{clip(title)}' has a title of {len(title):,} characters "
                f"(more than {limits.title_chars:,}); skipped it"
            )
            continue
        detail = entry.get("title_detail") or {}
        if detail.get("type") in _HTML_TYPES:
            title = strip_html(title)
        title = " ".join(title.split())
        name = f"'{clip(title)}'" if title else f"number {n}"
        if not link:
            warnings.append(f"{spec.url}: item {name} has no link; skipped it")
            continue
        if len(link) > limits.link_chars:
            warnings.append(
                f"{spec.url}: item {name} has a link of {len(link):,} characters "
                f"(more than {limits.link_chars:,}); skipped it"
            )
            continue
        if not is_web_url(link):
            # feedparser falls back to an Atom entry's id (often urn:...) when it has no link
            warnings.append(
                f"{spec.url}: item {name} has no web link ('{clip(link, 100)}'); skipped it"
            )
            continue
        if not title:
            warnings.append(f"{spec.url}: item {clip(link, 100)} has no title; skipped it")
            continue
        terms = [str(t.get("term") or t.get("label") or "") for t in entry.get("tags") or []]
        out.append(
            Article(
                id=article_id(link),
                url=clean_url(link),
                title=title,
                note="",
                tags=normal_tags([*terms, *extra]),
                date=_entry_date(entry),
                source=spec.url,
            )
        )
    return out
