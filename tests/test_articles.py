"""Articles: the YAML library (file:line problems), stable ids, RSS/Atom feeds over real HTTP on
127.0.0.1 (conditional requests, cache, faults), and interest matching."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lifecycle import serving

from outreach import __version__
from outreach.sources.articles import (
    Article,
    ArticlesReport,
    FeedSpec,
    _cache_paths,
    article_id,
    clean_url,
    load_articles,
    matches,
    normalize_url,
)

# --------------------------------------------------------------------------- helpers


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "articles.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load(
    tmp_path: Path,
    library: Path | None = None,
    feeds: tuple[FeedSpec, ...] = (),
    timeout: float = 2.0,
) -> ArticlesReport:
    return load_articles(library, feeds, cache_dir=tmp_path / "cache", timeout=timeout)


def sha6(normalized: str) -> str:
    return hashlib.sha1(normalized.encode()).hexdigest()[:6]


def art(
    url: str,
    title: str,
    *,
    note: str = "",
    tags: tuple[str, ...] = (),
    date: dt.date | None = None,
    source: str = "articles.yaml",
) -> Article:
    return Article(article_id(url), url, title, note, tags, date, source)


RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Fleet News</title><link>https://fleet.example/</link>
<description>d</description>
<item>
  <title>Electric trucks &lt;b&gt;cut&lt;/b&gt; costs &amp;amp; noise</title>
  <link>https://www.fleet.example/2026/03/electric-trucks/?utm_source=rss&amp;utm_medium=feed</link>
  <category>Electric Trucks</category><category>Logistics</category>
  <pubDate>Tue, 03 Mar 2026 22:30:00 -0500</pubDate>
</item>
<item>
  <title>No link here</title>
  <description>an item with a text but no address</description>
</item>
<item>
  <title>Relative</title>
  <link>/2026/03/depots</link>
  <pubDate>Wed, 04 Mar 2026 08:00:00 +0000</pubDate>
</item>
</channel></rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Wine Letter</title><id>urn:wl</id>
<updated>2026-02-05T00:00:00Z</updated>
<entry>
  <title type="html">Ros&#233; &lt;em&gt;season&lt;/em&gt;</title>
  <link rel="alternate" href="https://wine.example/notes/rose-season"/>
  <id>urn:wl:1</id>
  <published>2026-02-03T23:30:00-05:00</published>
  <updated>2026-02-04T10:00:00Z</updated>
  <category term="Wine" label="Wine!"/>
</entry>
<entry>
  <title>Only an id</title>
  <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
  <updated>2026-02-04T10:00:00Z</updated>
</entry>
<entry>
  <title>Text with a &lt;tag&gt; in it</title>
  <link href="https://wine.example/notes/tags"/>
  <id>urn:wl:3</id>
  <updated>2026-02-06T10:00:00Z</updated>
</entry>
</feed>
"""

NEWS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Rates</title><link>https://rates.example/</link>
<description>d</description>
<item><title>Rates in March</title><link>https://rates.example/march</link>
<category>rates</category><pubDate>Mon, 02 Mar 2026 07:00:00 GMT</pubDate></item>
<item><title>Rates in April</title><link>https://rates.example/april</link>
<category>rates</category><pubDate>Wed, 01 Apr 2026 07:00:00 GMT</pubDate></item>
</channel></rss>
"""


@dataclass
class Route:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str = '"v1"'
    last_modified: str = "Tue, 03 Mar 2026 12:00:00 GMT"
    mode: str = "ok"  # ok | 500 | garbage | html | slow


@dataclass
class FeedServer:
    routes: dict[str, Route]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(state: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.requests.append((self.path, dict(self.headers.items())))
            route = state.routes.get(self.path)
            try:
                if route is None:
                    self.send_error(404)
                elif route.mode == "slow":
                    state.release.wait(5)
                elif route.mode == "500":
                    self.send_error(500, "Internal Server Error")
                elif route.mode in ("garbage", "html"):
                    body = (
                        b"<rss><channel><item><title>x</ti"
                        if route.mode == "garbage"
                        else b"<html><body>We moved!</body></html>"
                    )
                    self.send_response(200)
                    ctype = "text/html" if route.mode == "html" else route.content_type
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.end_headers()
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", route.content_type)
                    self.send_header("ETag", route.etag)
                    self.send_header("Last-Modified", route.last_modified)
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    self.wfile.write(route.body)
            except OSError:
                pass  # the client gave up (the timeout test)

    return Handler


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    state = FeedServer(
        {
            "/rss.xml": Route(RSS),
            "/news.xml": Route(NEWS),
            "/atom.xml": Route(ATOM, content_type="application/atom+xml", etag='"a1"'),
        }
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = httpd.server_address[1]
    with serving(httpd):
        try:
            yield state
        finally:
            state.release.set()  # before the shutdown: a handler may be waiting for it


def backdate_cache(tmp_path: Path, day: dt.date) -> None:
    """Give every cached feed copy the modification time ``day`` at noon (local time)."""
    stamp = dt.datetime.combine(day, dt.time(12)).timestamp()
    copies = list((tmp_path / "cache").glob("*.xml"))
    assert copies
    for path in copies:
        os.utime(path, (stamp, stamp))


RSS_TRUCKS = art(
    "https://www.fleet.example/2026/03/electric-trucks/",
    "Electric trucks cut costs & noise",
    tags=("electric trucks", "logistics", "fleet"),
    date=dt.date(2026, 3, 3),
)


def rss_articles(server: FeedServer) -> tuple[Article, ...]:
    url = server.url("/rss.xml")
    depots = server.url("/2026/03/depots")
    return (
        dataclasses.replace(RSS_TRUCKS, source=url),
        art(depots, "Relative", tags=("fleet",), date=dt.date(2026, 3, 4), source=url),
    )


# --------------------------------------------------------------------------- the library

LIBRARY = """\
articles:
  - url: https://www.fleet.example/2026/03/electric-trucks/
    title: "  Electric trucks   cut costs "
    note: Thought of your depot plans when I read this.
    tags: [Electric Trucks, Logistics, logistics]
    date: 2026-03-03
  - url: https://wine.example/notes/rose-season
    title: Rosé season
"""


def test_library_loads_every_field(tmp_path: Path) -> None:
    """A valid articles.yaml gives one Article per entry, in order: title whitespace collapsed,
    the personal note kept, tags lowercased and de-duplicated, the date parsed, source the file."""
    report = load(tmp_path, write(tmp_path, LIBRARY))
    assert report.problems == ()
    assert report.warnings == ()
    assert report.articles == (
        art(
            "https://www.fleet.example/2026/03/electric-trucks/",
            "Electric trucks cut costs",
            note="Thought of your depot plans when I read this.",
            tags=("electric trucks", "logistics"),
            date=dt.date(2026, 3, 3),
        ),
        art("https://wine.example/notes/rose-season", "Rosé season"),
    )


def test_missing_library_is_empty_without_problem(tmp_path: Path) -> None:
    """articles.yaml is optional: a missing file (or no library at all) gives no articles and no
    problem."""
    assert load(tmp_path, tmp_path / "articles.yaml") == ArticlesReport((), (), ())
    assert load(tmp_path, None) == ArticlesReport((), (), ())


def test_each_bad_entry_is_one_problem_with_its_line_and_the_rest_loads(tmp_path: Path) -> None:
    """Unknown keys, a missing URL, a non-http URL, a bad or impossible date, a missing title, tags
    that are not a list or not text: one problem each with file:line, the entry skipped, the good
    entries still loaded."""
    text = """\
articles:
  - url: https://ok.example/first
    title: First
  - url: https://ok.example/second
    title: Second
    notes: typo of note
    summary: not a key
  - title: No address
  - url: ftp://files.example/report.pdf
    title: Not the web
  - url: https://ok.example/dated
    title: Dated in words
    date: March 3
  - url: https://ok.example/feb
    title: Impossible
    date: 2026-02-30
  - url: https://ok.example/untitled
  - url: https://ok.example/tags
    title: Tags
    tags: golf
  - url: https://ok.example/tag-number
    title: Numbers
    tags: [golf, 2026]
  - just a line
  - url: https://ok.example/last
    title: Last
    date: '2026-04-01'
"""
    report = load(tmp_path, write(tmp_path, text))
    assert [str(p) for p in report.problems] == [
        "articles.yaml:6: articles[1].notes: unknown key 'notes'; did you mean 'note'?",
        "articles.yaml:7: articles[1].summary: unknown key 'summary'; allowed keys: url, title, note, tags, date",
        "articles.yaml:8: articles[2].url: required key 'url' is missing; add 'url:'",
        "articles.yaml:9: articles[3].url: 'ftp://files.example/report.pdf' is not an http(s) URL; write the whole address, e.g. https://example.com/news/article",
        "articles.yaml:13: articles[4].date: 'March 3' is not a date; write YYYY-MM-DD",
        "articles.yaml:16: articles[5].date: '2026-02-30' is not a valid date; write a real calendar date as YYYY-MM-DD",
        "articles.yaml:17: articles[6].title: required key 'title' is missing; add 'title:'",
        "articles.yaml:20: articles[7].tags: expected a list, got str; write a YAML list: [a, b] or '- a' lines",
        "articles.yaml:23: articles[8].tags[1]: expected text, got int '2026'; quote the value",
        "articles.yaml:24: articles[9]: expected a mapping of keys, got str; indent 'key: value' lines under it",
    ]
    assert [a.title for a in report.articles] == ["First", "Last"]
    assert report.articles[1].date == dt.date(2026, 4, 1)


def test_a_key_twice_an_empty_title_or_a_broken_port_skip_the_entry(tmp_path: Path) -> None:
    """A key given twice in one entry (found by the YAML loader), an empty title and an address
    whose port is not a number are one problem each; only the good entry loads."""
    text = """\
articles:
  - url: https://ok.example/a
    title: A
    title: A again
  - url: https://ok.example/b
    title: "  "
  - url: https://ok.example:80x/c
    title: C
  - url: https://ok.example/d
    title: D
"""
    report = load(tmp_path, write(tmp_path, text))
    assert [str(p) for p in report.problems] == [
        "articles.yaml:4: articles[0].title: key 'title' appears twice (first on line 3); keep one of them",
        "articles.yaml:6: articles[1].title: must not be empty; give a value or remove the key",
        "articles.yaml:7: articles[2].url: 'https://ok.example:80x/c' is not an http(s) URL; write the whole address, e.g. https://example.com/news/article",
    ]
    assert [a.title for a in report.articles] == ["D"]


def test_a_library_path_that_is_a_folder_is_a_problem(tmp_path: Path) -> None:
    """A library path that cannot be read as a file is one problem, not a crash."""
    (tmp_path / "articles.yaml").mkdir()
    report = load(tmp_path, tmp_path / "articles.yaml")
    assert [str(p) for p in report.problems] == [
        "articles.yaml: cannot be read (Is a directory); check that it is a file you may read"
    ]


def test_the_same_article_twice_in_the_library_is_a_problem(tmp_path: Path) -> None:
    """Two entries for one article (the URLs differ only by utm tags, www-less case, fragment or
    trailing slash) are reported at the second one, which is skipped."""
    text = """\
articles:
  - url: https://Example.com/a/
    title: One
  - url: https://example.com/a?utm_source=newsletter#top
    title: Again
"""
    report = load(tmp_path, write(tmp_path, text))
    assert [str(p) for p in report.problems] == [
        "articles.yaml:4: articles[1].url: the same article as the entry on line 2; keep one of them"
    ]
    assert [a.title for a in report.articles] == ["One"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "articles.yaml:1: the file is empty; see the README for an example"),
        (
            b"articles:\n  - url: https://x.example/\n    title: Caf\xe9\n",
            "articles.yaml:3: is not UTF-8 text (byte 0xe9); save the file as UTF-8 in your editor",
        ),
        (
            "- url: https://x.example/\n",
            "articles.yaml:1: expected a mapping with a 'articles:' list; start the file with 'articles:'",
        ),
        (
            "articles: https://x.example/\n",
            "articles.yaml:1: articles: expected a list; write 'articles:' followed by '- ' items",
        ),
        (
            "articles: []\nfeeds: []\n",
            "articles.yaml:2: feeds: unknown key 'feeds'; the file holds only 'articles:'",
        ),
        (
            "articles:\n  - url: [unclosed\n",
            "articles.yaml:3: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence); check indentation, colons and quotes on this line or the one above",
        ),
    ],
)
def test_a_broken_library_file_is_one_problem(
    tmp_path: Path, text: str | bytes, expected: str
) -> None:
    """An empty, non-UTF-8, unparsable or wrongly shaped articles.yaml is reported with its line,
    and no article is loaded from it."""
    report = load(tmp_path, write(tmp_path, text))
    assert [str(p) for p in report.problems] == [expected]
    assert report.articles == ()


def test_an_empty_articles_list_is_fine(tmp_path: Path) -> None:
    """'articles:' with nothing under it yet (a fresh file) is an empty library, not a problem."""
    assert load(tmp_path, write(tmp_path, "articles:\n")) == ArticlesReport((), (), ())


# --------------------------------------------------------------------------- ids


def test_ids_are_stable_slugs_of_the_normalized_url() -> None:
    """The id is '<host without www>-<last path segments>-<6 hex of sha1(normalized url)>' where
    the normalized URL has scheme and host lowercased and no fragment, utm_* or trailing slash."""
    url = "HTTPS://www.Fleet.Example:443/2026/03/Electric-Trucks.html/?utm_source=rss&id=7&UTM_medium=x#comments"
    normal = "https://www.fleet.example/2026/03/Electric-Trucks.html?id=7"
    assert normalize_url(url) == normal
    assert article_id(url) == f"fleet.example-2026-03-electric-trucks-{sha6(normal)}"
    # pinned: ids key the ledger ("never the same article twice"), they must not drift
    assert (
        article_id("https://example.com/blog/hello-world") == "example.com-blog-hello-world-41788a"
    )


@pytest.mark.parametrize(
    "variant",
    [
        "https://example.com/blog/hello-world/",
        "https://EXAMPLE.com/blog/hello-world",
        "HTTPS://example.com/blog/hello-world#section-2",
        "https://example.com/blog/hello-world?utm_source=newsletter&utm_campaign=q1",
        "https://example.com:443/blog/hello-world",
        "  https://example.com/blog/hello-world  ",
    ],
)
def test_spellings_of_one_address_share_the_id(variant: str) -> None:
    """Case of scheme and host, a default port, a fragment, utm_* parameters, a trailing slash and
    surrounding blanks do not change the id."""
    assert article_id(variant) == article_id("https://example.com/blog/hello-world")


def test_different_addresses_have_different_ids() -> None:
    """The path's case, a real query parameter, the scheme and www. are part of the address, so
    the ids differ even when the readable part is the same."""
    ids = {
        article_id(u)
        for u in (
            "https://example.com/blog/hello-world",
            "https://example.com/blog/Hello-World",
            "https://example.com/blog/hello-world?page=2",
            "http://example.com/blog/hello-world",
            "https://www.example.com/blog/hello-world",
        )
    }
    assert len(ids) == 5
    assert all(i.startswith("example.com-blog-hello-world-") for i in ids)


def test_long_urls_keep_the_last_segments_within_60_characters() -> None:
    """The readable part keeps as many trailing path segments as fit in 60 characters (the end of
    a long single slug when none fits); a bare host is just the host; accents are folded."""
    long_url = "https://news.example.org/section/sub/2026/03/04/" + "a-very-long-headline-" * 5
    ident = article_id(long_url)
    readable, digest = ident.rsplit("-", 1)
    assert len(readable) <= 60 and len(digest) == 6
    assert readable.startswith("news.example.org-") and readable.endswith("headline")
    assert article_id("https://example.com/2026/03/x").startswith("example.com-2026-03-x-")
    assert article_id("https://www.example.com/").startswith("example.com-")
    assert (
        article_id("https://www.example.com/") == f"example.com-{sha6('https://www.example.com')}"
    )
    assert article_id("https://ex.example/caf%C3%A9-cr%C3%A8me").startswith(
        "ex.example-cafe-creme-"
    )


def test_the_shared_url_drops_tracking_only() -> None:
    """The URL put in drafts is the one given minus utm_* parameters (fragment, slash, case and
    other parameters kept)."""
    assert (
        clean_url("https://Ex.example/a/?utm_source=rss&id=3&utm_medium=feed#part")
        == "https://Ex.example/a/?id=3#part"
    )
    assert clean_url("https://ex.example/a?b=1&c=") == "https://ex.example/a?b=1&c="


# --------------------------------------------------------------------------- feeds


def test_rss_and_atom_feeds_give_articles_with_tags_and_dates(
    tmp_path: Path, server: FeedServer
) -> None:
    """RSS 2.0 and Atom items become articles: categories plus the feed's tags, the publisher's
    own date (an evening post in New York stays on its day), HTML stripped from titles, relative
    links resolved, items without a web link skipped with a warning naming feed and title; the
    request carries the outreach User-Agent."""
    rss, atom = server.url("/rss.xml"), server.url("/atom.xml")
    report = load(tmp_path, None, (FeedSpec(rss, ("Fleet",)), FeedSpec(atom)))
    assert report.articles == (
        *rss_articles(server),
        Article(
            article_id("https://wine.example/notes/rose-season"),
            "https://wine.example/notes/rose-season",
            "Rosé season",
            "",
            ("wine",),
            dt.date(2026, 2, 3),
            atom,
        ),
        Article(
            article_id("https://wine.example/notes/tags"),
            "https://wine.example/notes/tags",
            "Text with a <tag> in it",
            "",
            (),
            dt.date(2026, 2, 6),
            atom,
        ),
    )
    assert report.warnings == (
        f"{rss}: item 'No link here' has no link; skipped it",
        f"{atom}: item 'Only an id' has no web link ('urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a'); skipped it",
    )
    assert report.problems == ()
    assert {h["User-Agent"] for _, h in server.requests} == {f"outreach/{__version__}"}


def test_second_load_is_a_conditional_request_answered_from_the_cache(
    tmp_path: Path, server: FeedServer
) -> None:
    """The second load sends If-None-Match and If-Modified-Since from the first answer; the server's
    304 gives the same articles from the cached copy, without warnings."""
    spec = FeedSpec(server.url("/rss.xml"), ("fleet",))
    first = load(tmp_path, None, (spec,))
    second = load(tmp_path, None, (spec,))
    assert second == first
    assert len(server.requests) == 2
    assert "If-None-Match" not in server.requests[0][1]
    assert server.requests[1][1]["If-None-Match"] == '"v1"'
    assert server.requests[1][1]["If-Modified-Since"] == "Tue, 03 Mar 2026 12:00:00 GMT"
    assert len(list((tmp_path / "cache").glob("*.xml"))) == 1
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1


@pytest.mark.parametrize(
    ("mode", "what"),
    [
        ("500", "answered HTTP 500 Internal Server Error"),
        ("garbage", "not a readable RSS or Atom feed (unclosed token)"),
        ("html", "not an RSS or Atom feed (the server sent text/html)"),
        ("slow", "unreachable (timed out after 0.5 s)"),
    ],
)
def test_a_failing_feed_warns_and_uses_the_cached_copy(
    tmp_path: Path, server: FeedServer, mode: str, what: str
) -> None:
    """A 500, a body that is not a feed (broken XML, an HTML page) or no answer within the
    timeout gives one warning naming the feed, what happened and the date of the copy used; the
    good copy is not overwritten, so the next good answer is still compared against it."""
    spec = FeedSpec(server.url("/news.xml"))
    good = load(tmp_path, None, (spec,))
    backdate_cache(tmp_path, dt.date(2026, 1, 2))
    server.routes["/news.xml"].mode = mode
    report = load(tmp_path, None, (spec,), timeout=0.5)
    assert report.warnings == (f"{spec.url}: {what}; used the copy from 2026-01-02",)
    assert report.articles == good.articles
    server.routes["/news.xml"].mode = "ok"
    assert load(tmp_path, None, (spec,)) == good
    assert server.requests[-1][1]["If-None-Match"] == '"v1"'


def test_a_feed_that_is_down_warns_and_uses_the_cached_copy(
    tmp_path: Path, server: FeedServer
) -> None:
    """Connection refused: a warning and the cached copy; a feed never seen before and down:
    a warning and no articles, never an exception."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/feed.xml"
    spec = FeedSpec(server.url("/news.xml"))
    good = load(tmp_path, None, (spec,))
    backdate_cache(tmp_path, dt.date(2026, 1, 2))
    # the same feed seen through an address nobody listens on: move its copy there
    for old, new in zip(
        _cache_paths(tmp_path / "cache", spec.url),
        _cache_paths(tmp_path / "cache", dead),
        strict=True,
    ):
        old.rename(new)
    report = load(tmp_path, None, (FeedSpec(dead), FeedSpec(dead + "?new")))
    assert report.warnings == (
        f"{dead}: unreachable (connection refused); used the copy from 2026-01-02",
        f"{dead}?new: unreachable (connection refused); no saved copy, skipped it",
    )
    assert [a.title for a in report.articles] == ["Rates in March", "Rates in April"]
    assert [a.title for a in good.articles] == ["Rates in March", "Rates in April"]


def test_a_feed_without_a_copy_that_fails_is_skipped(tmp_path: Path, server: FeedServer) -> None:
    """A 500 on the first ever fetch: one warning, no articles, and nothing cached."""
    server.routes["/rss.xml"].mode = "500"
    report = load(tmp_path, None, (FeedSpec(server.url("/rss.xml")),))
    assert report.warnings == (
        f"{server.url('/rss.xml')}: answered HTTP 500 Internal Server Error; no saved copy, skipped it",
    )
    assert report.articles == ()
    assert not list((tmp_path / "cache").glob("*.xml"))


def test_a_feed_body_is_never_taken_for_a_file_name(tmp_path: Path, server: FeedServer) -> None:
    """A server that answers with the path of a local feed file does not make us read that file
    (feedparser would, given bytes): the answer is not a feed."""
    local = tmp_path / "local.xml"
    local.write_bytes(NEWS)
    server.routes["/rss.xml"] = Route(str(local).encode())
    report = load(tmp_path, None, (FeedSpec(server.url("/rss.xml")),))
    assert report.warnings == (
        f"{server.url('/rss.xml')}: not a readable RSS or Atom feed (not well-formed (invalid token)); no saved copy, skipped it",
    )
    assert report.articles == ()


def test_a_feed_url_that_is_not_http_is_skipped(tmp_path: Path) -> None:
    """A file: or other non-web feed address is not opened: one warning."""
    report = load(tmp_path, None, (FeedSpec("file:///etc/passwd"),))
    assert report.warnings == ("file:///etc/passwd: not an http(s) URL; skipped the feed",)
    assert report.articles == ()


def test_library_wins_over_the_same_article_in_a_feed(tmp_path: Path, server: FeedServer) -> None:
    """An article in both the library and a feed (the feed's link with utm tags) appears once, as
    the library entry with the personal note, before the feed's other articles."""
    library = write(tmp_path, LIBRARY)
    report = load(tmp_path, library, (FeedSpec(server.url("/rss.xml"), ("fleet",)),))
    assert [(a.title, a.source) for a in report.articles] == [
        ("Electric trucks cut costs", "articles.yaml"),
        ("Rosé season", "articles.yaml"),
        ("Relative", server.url("/rss.xml")),
    ]
    assert report.articles[0].note == "Thought of your depot plans when I read this."


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("tags", "interests", "expected"),
    [
        (("golf",), ["Golf"], True),
        (("electric trucks",), ["electric trucks"], True),
        (("electric trucks",), ["Electric Trucks"], True),
        (("trucks",), ["electric trucks"], True),
        (("electric-trucks",), ["Electric trucks in cities"], True),
        (("golf",), ["golf in Scotland", "wine"], True),
        (("art",), ["martial arts"], False),
        (("electric trucks",), ["trucks"], False),
        (("trucks electric",), ["electric trucks"], False),
        (("wine",), [], False),
        ((), ["wine"], False),
        (("wine",), ["", "  "], False),
    ],
)
def test_matches_tags_against_interests(
    tags: tuple[str, ...], interests: list[str], expected: bool
) -> None:
    """A tag matches an interest case-insensitively when equal to it or to a whole-word run inside
    it (punctuation ignored); a longer tag does not match a shorter interest, partial words never
    match, and no tags or no interests never match."""
    article = art("https://ex.example/a", "A", tags=tags)
    assert matches(article, interests) is expected
