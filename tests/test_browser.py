"""The browser harness (tests/browser.py) on a small page served from 127.0.0.1: a table that
an inline script sorts, under a strict Content-Security-Policy that allows that script by hash."""

from __future__ import annotations

import base64
import hashlib
import html
import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import Browser, browser, find_chromium, http_status
from lifecycle import serving

__all__ = ["browser"]  # the fixture, re-exported

SORT_SCRIPT = """
for (const th of document.querySelectorAll('th[data-col]')) {
  th.addEventListener('click', () => {
    const col = Number(th.dataset.col), body = document.querySelector('tbody');
    const key = tr => tr.cells[col].textContent;
    const rows = Array.from(body.rows).sort((a, b) =>
      key(a).localeCompare(key(b), undefined, {numeric: true}));
    body.replaceChildren(...rows);
  });
}
"""


def csp_hash(script: str) -> str:
    """The CSP source for an inline script: sha256 of its exact text between the tags."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


CSP = (f"default-src 'none'; script-src {csp_hash(SORT_SCRIPT)}; style-src 'unsafe-inline'; "
       "img-src data:")

PEOPLE = [("Grace", "7"), ("Ada", "12"), ("<script>alert(1)</script>", "3")]


def _table_page() -> str:
    cells = "".join(f"<tr><td>{html.escape(name)}</td><td>{html.escape(n)}</td></tr>"
                    for name, n in PEOPLE)
    return ("<!doctype html><html><head><meta charset=utf-8><title>people</title>"
            "<style>th { cursor: pointer } td, th { padding: 4px 12px }</style></head><body>"
            "<h1>People</h1><table><thead><tr><th data-col=0>name</th><th data-col=1>drafts</th>"
            f"</tr></thead><tbody>{cells}</tbody></table>"
            f"<script>{SORT_SCRIPT}</script></body></html>")


EXTERNAL_PAGE = ("<!doctype html><html><head><meta charset=utf-8><title>external</title></head>"
                 "<body><p>an outside image:</p><img src=\"https://example.com/x.png\" alt=x>"
                 "</body></html>")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        pages = {"/": _table_page(), "/external": EXTERNAL_PAGE, "/no-csp": EXTERNAL_PAGE}
        if self.path not in pages:
            self.send_error(404)
            return
        body = pages[self.path].encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if self.path != "/no-csp":
            self.send_header("Content-Security-Policy", CSP)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The pages above on a free port of 127.0.0.1, served from a thread."""
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Handler)) as port:
        yield f"http://127.0.0.1:{port}"


def test_rows_read_the_table(browser: Browser, site: str) -> None:
    """rows() gives each body row's cells as the page shows them, in page order."""
    browser.open(site + "/")
    assert browser.rows() == [list(p) for p in PEOPLE]
    assert browser.rows("table thead tr") == [["name", "drafts"]]
    assert "People" in browser.text()


def test_click_on_a_header_sorts(browser: Browser, site: str) -> None:
    """The inline script runs under the CSP (its hash is allowed): a click on a header sorts,
    numbers as numbers."""
    browser.open(site + "/")
    browser.click("th[data-col='1']")
    assert [r[1] for r in browser.rows()] == ["3", "7", "12"]
    browser.click("th[data-col='0']")
    assert [r[0] for r in browser.rows()] == ["<script>alert(1)</script>", "Ada", "Grace"]
    assert browser.console_errors() == []


def test_markup_in_a_cell_is_text(browser: Browser, site: str) -> None:
    """A name with <script> in it shows as those characters: the page escapes it, so the
    DOM has no second script and the cell's innerText is the raw string."""
    browser.open(site + "/")
    assert "<script>alert(1)</script>" in browser.text()
    assert browser.js("return document.scripts.length") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in browser.html()


def test_requests_stay_on_loopback(browser: Browser, site: str) -> None:
    """Every URL the page asked for is on 127.0.0.1 (data: URLs aside), the page itself first."""
    browser.open(site + "/")
    urls = browser.requests()
    assert urls and urls[0] == site + "/"
    assert [u for u in urls
            if not u.startswith("data:") and urlsplit(u).hostname != "127.0.0.1"] == []


def test_an_external_image_is_blocked(browser: Browser, site: str) -> None:
    """An <img> from another host is refused by the CSP: it is never sent (blocked(), not
    requests()), and the console says why."""
    browser.open(site + "/external")
    assert "an outside image" in browser.text()
    assert browser.requests() == [site + "/external"]
    assert browser.blocked() == ["csp https://example.com/x.png"]
    errors = browser.console_errors()
    assert any("example.com/x.png" in e and "Content Security Policy" in e for e in errors), errors
    # the next page starts with clean lists
    browser.open(site + "/")
    assert browser.console_errors() == []


def test_an_outside_request_is_seen_and_goes_nowhere(browser: Browser, site: str) -> None:
    """Without a CSP the page does ask for the outside image: requests() lists it (what a
    loopback-only assertion must catch), and the browser cannot resolve the host."""
    browser.open(site + "/no-csp")
    assert "https://example.com/x.png" in browser.requests()
    assert browser.blocked() == []
    assert any("x.png" in e and "ERR_NAME_NOT_RESOLVED" in e for e in browser.console_errors())


def test_screenshot_is_a_png(browser: Browser, site: str, tmp_path: Path) -> None:
    """screenshot() writes a PNG of the 1280x900 viewport."""
    browser.open(site + "/")
    shot = browser.screenshot(tmp_path / "page.png")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == tuple(browser.js("return [window.innerWidth, window.innerHeight]"))
    assert width == 1280


def test_http_status(site: str) -> None:
    """http_status() gives the code of a GET, 404 for a wrong path, without raising."""
    assert http_status(site + "/") == 200
    assert http_status(site + "/no-such-page") == 404


def _group(pgid: int) -> set[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                found.add(int(entry))
    return found


def test_close_leaves_no_chromium() -> None:
    """close() leaves no process of the browser behind, and removes its profile."""
    if find_chromium() is None:
        pytest.fail("apt-get install chromium chromium-driver", pytrace=False)
    with Browser() as own:
        pgid = own._service.process.pid
        profile = own._profile
        assert len(_group(pgid)) > 2  # chromedriver, chromium and its helpers
    assert _group(pgid) == set()
    assert profile is not None and not profile.exists()
