"""A real headless Chromium for tests, driven through Selenium and Debian's chromium-driver.

Usage::

    def test_page(browser: Browser) -> None:      # the shared fixture: one per xdist worker
        browser.open("http://127.0.0.1:8123/")
        assert browser.rows()[0] == ["Ada", "3"]
        browser.click("th[data-key=name]")
        assert all(urlsplit(u).hostname == "127.0.0.1" for u in browser.requests())

or, for a browser of one's own, ``with Browser() as b: b.open(url) ...``.

Only Debian's packages are used (``apt-get install chromium chromium-driver``, which CI's
.ci/run does): the driver path is given to Selenium, so Selenium Manager never runs and nothing
is downloaded. The browser reaches loopback only: every host name but ``localhost`` and
``127.0.0.1`` resolves to nothing (``--host-resolver-rules``), no proxy is used and the
background services (component updates, sync, metrics, first-run pages) are off.
Chromium's performance log is on, so ``requests()`` lists every URL the page sent a request
for (an attempt to reach another host included, though it cannot resolve), ``blocked()``
those that Chromium refused to send (CSP), and ``console_errors()`` the page's SEVERE console
entries (a CSP violation, a failed load, an uncaught exception).

The three lists cover what happened since the last ``open()``: a shared browser carries
nothing over from one test's page to the next test's (cookies and storage of an origin do
persist, but each test server has a port, thus an origin, of its own).

There is no status code in WebDriver: ``http_status(url)`` asks with urllib instead.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from lifecycle import Started

__all__ = ["INSTALL_HINT", "Browser", "browser", "find_chromium", "http_status"]

INSTALL_HINT = ("Chromium is not installed: apt-get install chromium chromium-driver "
                "(Debian's packages; CI's .ci/run installs them)")

ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # the network: loopback only, no proxy, none of Chromium's own calls home
    # (an IP literal is mapped too, so 127.0.0.1 must be excluded by name, as localhost is)
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    "--no-proxy-server",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
)

_INTERNAL_SCHEMES = {"chrome", "chrome-extension", "chrome-untrusted", "devtools", "about"}
_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}


def find_chromium() -> tuple[str, str] | None:
    """The paths of Debian's chromium and chromedriver (/usr/bin, else on PATH), or None."""
    found: list[str] = []
    for names in (("chromium", "chromium-browser"), ("chromedriver",)):
        path = next((p for name in names
                     for p in (f"/usr/bin/{name}", shutil.which(name))
                     if p and os.path.isfile(p) and os.access(p, os.X_OK)), None)
        if path is None:
            return None
        found.append(path)
    return found[0], found[1]


def http_status(url: str, *, timeout: float = 5.0) -> int:
    """The HTTP status code of a GET of ``url`` (404 and the like too, not an exception),
    without following redirects and without the environment's proxies."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


class Browser(Started):
    """One headless Chromium (1280x900, a throwaway profile) and its chromedriver.

    ``start()`` takes 0.5-0.8 s on an idle machine, 2-3.5 s with four starting at once on two
    cores (as under ``pytest -n 4``), hence the shared session fixture. ``close()`` quits the
    browser, kills whatever is left of the driver's process group (chromedriver runs in a
    session of its own, Chromium and its helpers with it) and removes the profile."""

    def __init__(self, *, width: int = 1280, height: int = 900,
                 page_load_timeout: float = 20.0) -> None:
        self.width, self.height = width, height
        self.page_load_timeout = page_load_timeout
        self.start_seconds = 0.0  # how long start() took
        self._driver: Any = None
        self._service: Any = None
        self._profile: Path | None = None
        self._requests: list[list[str]] = []  # [requestId, url, blockedReason or ""]
        self._errors: list[str] = []
        self._seen_document = False  # open()'s document request is in _requests

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start chromedriver and Chromium; raise RuntimeError (INSTALL_HINT) without them."""
        if self._driver is not None:
            return
        paths = find_chromium()
        if paths is None:
            raise RuntimeError(INSTALL_HINT)
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        began = time.monotonic()
        self._profile = Path(tempfile.mkdtemp(prefix="outreach-chromium-"))
        options = webdriver.ChromeOptions()
        options.binary_location = paths[0]
        for argument in (*ARGUMENTS, f"--user-data-dir={self._profile}",
                         f"--window-size={self.width},{self.height}"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        with warnings.catch_warnings():  # the Python side talks to chromedriver directly too
            warnings.simplefilter("ignore", DeprecationWarning)
            options.ignore_local_proxy_environment_variables()
        env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARIABLES}
        self._service = Service(paths[1], env=env, popen_kw={"start_new_session": True})
        atexit.register(self.close)  # a test run that dies leaves no Chromium behind
        try:
            self._driver = webdriver.Chrome(options=options, service=self._service)
            self._driver.set_page_load_timeout(self.page_load_timeout)
        except BaseException:
            self.close()
            raise
        self.start_seconds = time.monotonic() - began

    def close(self) -> None:
        """Quit the browser, kill the rest of its process group, remove the profile. Idempotent."""
        driver, self._driver = self._driver, None
        if driver is not None:
            with suppress(Exception):
                driver.quit()
        service, self._service = self._service, None
        process = getattr(service, "process", None)
        if process is not None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # its own group: start_new_session
            with suppress(Exception):
                process.wait(timeout=10)
        profile, self._profile = self._profile, None
        if profile is not None:
            shutil.rmtree(profile, ignore_errors=True)
        atexit.unregister(self.close)

    @property
    def driver(self) -> Any:
        """The Selenium WebDriver, for what this class does not wrap."""
        if self._driver is None:
            raise RuntimeError("the browser is not started: Browser.start() or `with Browser()`")
        return self._driver

    # -- pages --------------------------------------------------------------------------------

    def open(self, url: str) -> None:
        """Load ``url`` and wait for its load event; requests() and console_errors() start
        afresh here."""
        self._drain()
        self._requests.clear()
        self._errors.clear()
        self._seen_document = False
        self.driver.get(url)

    def text(self) -> str:
        """The page's text as a person sees it: ``document.body.innerText``."""
        script = "return document.body ? document.body.innerText : ''"
        return str(self.driver.execute_script(script))

    def html(self) -> str:
        """The current DOM serialized (WebDriver's page_source: after scripts ran, not the bytes
        the server sent)."""
        return str(self.driver.page_source)

    def js(self, script: str, *args: Any) -> Any:
        """Run ``script`` as a function body in the page (``arguments[0]``... are ``args``);
        what it ``return``s comes back as JSON-like Python values."""
        return self.driver.execute_script(script, *args)

    def click(self, css: str) -> None:
        """Click the first element matching the CSS selector ``css`` (a real mouse click:
        it must be visible and not covered)."""
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, css).click()

    def rows(self, css: str = "table tbody tr") -> list[list[str]]:
        """Each element matching ``css``: the innerText of its td/th children, in order."""
        found = self.driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]), row =>"
            " Array.from(row.children).filter(c => c.matches('td, th')).map(c => c.innerText));",
            css)
        return [[str(cell) for cell in row] for row in found]

    def screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Save the viewport as a PNG at ``path`` and return it."""
        target = Path(path)
        if not self.driver.save_screenshot(str(target)):
            raise RuntimeError(f"Chromium took no screenshot to {target}")
        return target

    # -- what the page did --------------------------------------------------------------------

    def _drain(self) -> None:
        """Move Chromium's buffered performance and browser logs into our lists (reading a
        log empties it in Chromium)."""
        if self._driver is None:
            return
        for entry in self._driver.get_log("performance"):
            with suppress(ValueError, KeyError, TypeError, AttributeError):
                self._network(json.loads(entry["message"])["message"])
        for entry in self._driver.get_log("browser"):
            if entry.get("level") == "SEVERE":
                self._errors.append(str(entry.get("message", "")))

    def _network(self, message: dict[str, Any]) -> None:
        method, params = message["method"], message["params"]
        if method == "Network.requestWillBeSent":
            url = str(params["request"]["url"])
            if url.split(":", 1)[0] in _INTERNAL_SCHEMES:
                return  # Chromium's own pages (the new tab page at start): never the network
            if not self._seen_document:
                # what came before the document that open() asked for belongs to the page
                # before it
                if params.get("type") != "Document":
                    return
                self._seen_document = True
            self._requests.append([str(params["requestId"]), url, ""])
        elif method == "Network.loadingFailed" and params.get("blockedReason"):
            for request in reversed(self._requests):  # the last hop of a redirect chain
                if request[0] == params["requestId"]:
                    request[2] = str(params["blockedReason"])
                    break

    def requests(self) -> list[str]:
        """Every URL the page requested since the last open(), in order, repeats included:
        the document, scripts, styles, images, fetch/XHR, each hop of a redirect, data: URLs
        too, a request that failed (no such host, refused) too. Not the ones that Chromium
        blocked before sending them (CSP, mixed content): those are in blocked()."""
        self._drain()
        return [url for _, url, reason in self._requests if not reason]

    def blocked(self) -> list[str]:
        """The URLs the page asked for since the last open() that Chromium refused to send,
        each as ``"csp https://example.com/x.png"`` (Chromium's blockedReason, then the URL)."""
        self._drain()
        return [f"{reason} {url}" for _, url, reason in self._requests if reason]

    def console_errors(self) -> list[str]:
        """The SEVERE console entries since the last open(): CSP violations, failed loads
        (a 404 included), uncaught exceptions, console.error()."""
        self._drain()
        return list(self._errors)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium per pytest-xdist worker, shared by its tests (each test open()s
    its own URL). Fails, not skips, where Chromium is missing: CI installs it."""
    from debian import ensure

    if ensure(find_chromium, ["chromium", "chromium-driver"], "chromium") is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    with Browser() as shared:
        yield shared
