"""The status page in a real headless Chromium (Debian's), served by outreach serve's server on
127.0.0.1: the table holds the right people in the right order, sorting works, a name with
<script> shows as text, the CSP blocks nothing of ours and no request leaves 127.0.0.1, a wrong
token is 404; a screenshot is written (docs/status.png for the README)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import browser as browser_harness
import pytest
from browser import Browser, http_status
from click.testing import CliRunner
from factories import write_folder
from lifecycle import serving
from test_status import BIRTHDAY, DATE, KEEP, people

from outreach import serve
from outreach.cli import main
from outreach.commands.setup import status_page

browser = browser_harness.browser


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    contacts = people()
    contacts.append({"id": "eve-x", "name": {"first": "<script>alert('x')</script>",
                                             "last": "<b>Bold</b>"},
                     "email": {"work": "eve@x.example"}, "tier": "A",
                     "notes": "<img src=https://example.com/t.png>",
                     "interactions": [{"date": "2026-11-30", "kind": "call"}]})
    root = write_folder(tmp_path / "book", contacts, [KEEP, BIRTHDAY], status={"rhythm_days": 120})
    token = serve.feed_token(root / ".outreach")
    server = serve.make_server(root / "calendar.ics", token, "127.0.0.1", 0,
                               status_page(root, lambda: dt.date.fromisoformat(DATE)))
    with serving(server) as port:
        yield f"http://127.0.0.1:{port}/{token}/", root


def test_the_page_shows_the_rows_status_json_gives(browser: Browser, site: tuple[str, Path]) -> None:
    """The people table in the browser: the same people in the same order as status --json, the
    drifting ones marked; nothing blocked, nothing asked of any host but 127.0.0.1."""
    url, root = site
    browser.open(url)
    result = CliRunner().invoke(main, ["-C", str(root), "status", "--date", DATE, "--json"])
    expected = [r["name"] for r in json.loads(result.stdout) if not r["do_not_contact"]]
    rows = browser.rows("#people tbody tr")
    assert [r[0] for r in rows] == expected
    marked = browser.js("return Array.from(document.querySelectorAll('#people tr.drifting'))"
                        ".map(r => r.dataset.contact)")
    assert marked == ["bob-roe", "ann-lee"]
    assert browser.console_errors() == [] and browser.blocked() == []
    assert all(u.startswith("http://127.0.0.1:") for u in browser.requests())


def test_sorting_by_a_heading(browser: Browser, site: tuple[str, Path]) -> None:
    """A click on "Days since" sorts by it, another click the other way; on "Name" by name."""
    url, _ = site
    browser.open(url)
    browser.click("#people th:nth-child(5)")
    days = [r[4] for r in browser.rows("#people tbody tr")]
    assert days == sorted(days, key=int)
    browser.click("#people th:nth-child(5)")
    assert [r[4] for r in browser.rows("#people tbody tr")] == sorted(days, key=int, reverse=True)
    browser.click("#people th:nth-child(1)")
    names = [r[0] for r in browser.rows("#people tbody tr")]
    assert names == sorted(names, key=str.lower)


def test_html_in_a_name_is_text(browser: Browser, site: tuple[str, Path]) -> None:
    """Eve's name holds <script> and <b>: the page shows the characters; no script of hers ran,
    no element of hers exists."""
    url, _ = site
    browser.open(url)
    names = [r[0] for r in browser.rows("#people tbody tr")]
    assert "<script>alert('x')</script> <b>Bold</b>" in names
    assert browser.js("return document.querySelectorAll('script').length") == 1
    assert browser.js("return document.querySelectorAll('td b').length") == 0


def test_a_wrong_token_is_404(site: tuple[str, Path]) -> None:
    """Only the token URL serves the page."""
    url, _ = site
    assert http_status(url) == 200
    assert http_status(url.replace(url.split("/")[3], "A" * 43)) == 404
    assert http_status(url + "x") == 404


def test_a_screenshot_for_the_readme(browser: Browser, site: tuple[str, Path], tmp_path: Path) -> None:
    """The page renders (a PNG of it); docs/status.png in the repository is such a screenshot."""
    url, _ = site
    browser.open(url)
    shot = browser.screenshot(tmp_path / "status.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert (Path(__file__).parent.parent / "docs" / "status.png").read_bytes()[:4] == b"\x89PNG"
