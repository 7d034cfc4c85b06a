"""One URL fetched with a timeout and kept: conditional GET, a cached last good copy, a fallback.

``fetch`` asks for a URL (ETag / Last-Modified of the saved copy as If-None-Match /
If-Modified-Since), saves a body only when the caller's ``validate`` accepts it, and when the
source fails (down, slow, an HTTP error, more than ``max_bytes``, not done within ``timeout``,
something the caller rejects) gives the saved copy instead, with a one-line reason. It never
raises for the network and never prints. The request itself is ``outreach.sources.transport``.

The copy of a URL is ``<hash of the URL><suffix>`` in the given folder, written atomically, with
``<hash>.json`` beside it: etag, last_modified, fetched (ISO, UTC), content_type, url (where the
body came from, after redirects). The body's modification time is kept equal to ``fetched``;
the day of a copy is read from it.

Messages never contain a URL's secrets: sources are named by ``describe_source``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from outreach import __version__
from outreach.fsutil import write_atomic
from outreach.sources import transport
from outreach.sources.transport import Failed

USER_AGENT = f"outreach/{__version__}"

# validate(body, content type) -> None when the body is usable, else why it is not (one line)
Validate = Callable[[bytes, str], str | None]


@dataclass(frozen=True)
class Fetched:
    """What ``fetch`` got: a body and where it came from, or None and why."""

    body: bytes | None
    origin: str  # "fresh" | "not modified" | "cache from YYYY-MM-DD" | "" (no body)
    reason: str  # "" when the source answered usably, else what went wrong with it
    copy: str = ""  # without a body: "no saved copy" or "the saved copy is unusable (...)"
    content_type: str = ""  # the Content-Type header of the body ("" if unknown)
    url: str = ""  # where the body came from (after redirects), for relative links
    notes: tuple[str, ...] = ()  # trouble that did not stop it: "could not save a copy in ..."

    def warning(self, name: str) -> str | None:
        """The one warning line for source ``name``, or None when the source answered usably."""
        if not self.reason:
            return None
        if self.body is not None:
            day = self.origin.removeprefix("cache from ")
            return f"{name}: {self.reason}; used the copy from {day}"
        return f"{name}: {self.reason}; {self.copy or 'no saved copy'}, skipped it"

    def warnings(self, name: str) -> list[str]:
        """Every line to show for source ``name``: the notes, then the warning."""
        lines = [f"{name}: {note}" for note in self.notes]
        warning = self.warning(name)
        return [*lines, warning] if warning else lines


def describe_source(source: str) -> str:
    """How a source is named in warnings: a file as given; a URL without its secrets (Google's
    and Outlook's private addresses carry a key in the path, others in the query or user info):
    scheme, host and the last path segment, e.g. ``https://calendar.google.com/…/basic.ics``."""
    if re.match(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://", source) is None:
        return source
    try:
        parts = urlsplit(source.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return source.split("://", 1)[0] + "://…"
    if ":" in host:
        host = f"[{host}]"
    if port is not None:
        host = f"{host}:{port}"
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) > 1:
        path = "/…/" + segments[-1]
    elif segments:
        path = "/" + segments[0]
    else:
        path = ""
    return f"{parts.scheme.lower()}://{host}{path}"


def cache_paths(folder: Path, url: str, suffix: str) -> tuple[Path, Path]:
    """The saved body and its metadata for ``url``: named by a hash of the URL."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]
    return folder / f"{digest}{suffix}", folder / f"{digest}.json"


def fetch(
    url: str,
    *,
    cache_dir: Path,
    suffix: str,
    validate: Validate,
    timeout: float,
    accept: str = "*/*",
    max_bytes: int = 10 * 1024 * 1024,
    zone: dt.tzinfo | None = None,
) -> Fetched:
    """``url`` fresh, or not modified since the saved copy, or (when the source fails) the saved
    copy; the day of a copy is given in ``zone`` (default: the local zone). ``timeout`` is for
    the whole fetch (connecting, redirects, every read), ``max_bytes`` is checked while reading:
    a source that sends slowly, endlessly or too much fails like one that is down."""
    cache = _Cache(cache_dir, url, suffix)
    deadline = time.monotonic() + timeout

    def ask(validators: dict[str, str]) -> tuple[bytes, dict[str, Any]] | None:
        return _get(url, validators, deadline, timeout, accept, max_bytes)

    try:
        answer = ask(cache.validators())
        if answer is None:  # 304 Not Modified: the copy is current
            body, _ = cache.usable(validate)
            if body is None:  # gone or spoilt since: ask again, unconditionally
                answer = ask({})
            else:
                return _answer(body, "not modified", cache.meta(), cache.confirm(), url)
    except Failed as exc:
        return cache.fallback(_scrub(str(exc), url), validate, zone)
    if answer is None:
        return cache.fallback("answered 304 Not Modified without a copy to compare", validate, zone)
    body, meta = answer
    why = validate(body, str(meta.get("content_type") or ""))
    if why is not None:
        return cache.fallback(why, validate, zone)  # the last good copy stays as it was
    return _answer(body, "fresh", meta, cache.store(body, meta), url)


def _answer(body: bytes, status: str, meta: dict[str, Any], note: str | None, url: str) -> Fetched:
    """What the server gave (or confirmed), with the type and final address it was saved with."""
    return Fetched(
        body,
        status,
        "",
        content_type=str(meta.get("content_type") or ""),
        url=str(meta.get("url") or url),
        notes=(note,) if note else (),
    )


# ---- the request -----------------------------------------------------------------------------


def _get(
    url: str,
    validators: dict[str, str],
    deadline: float,
    timeout: float,
    accept: str,
    max_bytes: int,
) -> tuple[bytes, dict[str, Any]] | None:
    """(body, metadata) of a 200, or None for a 304; raises Failed."""
    headers = {"User-Agent": USER_AGENT, "Accept": accept, **validators}
    answer = transport.get(url, headers, deadline=deadline, timeout=timeout, max_bytes=max_bytes)
    if answer is None:
        return None
    return answer.body, {
        "etag": answer.etag,
        "last_modified": answer.last_modified,
        "content_type": answer.content_type,
        "url": answer.url,
    }


def _scrub(text: str, url: str) -> str:
    """``text`` without ``url``'s secrets (urllib quotes the URL in some errors)."""
    parts = urlsplit(url)
    secrets = [url, parts.netloc if "@" in parts.netloc else ""]
    if parts.path.count("/") > 1 or parts.query:
        secrets.append(parts.path + ("?" + parts.query if parts.query else ""))
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, describe_source(url))
    return text


# ---- the saved copy --------------------------------------------------------------------------


class _Cache:
    """The last good copy of one URL."""

    def __init__(self, folder: Path, url: str, suffix: str) -> None:
        self.body, self.meta_path = cache_paths(folder, url, suffix)

    def meta(self) -> dict[str, Any]:
        try:
            data = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def validators(self) -> dict[str, str]:
        """The conditional request headers, if there is a copy to fall back on."""
        if not self.body.is_file():
            return {}
        meta = self.meta()
        headers = {}
        if isinstance(meta.get("etag"), str):
            headers["If-None-Match"] = meta["etag"]
        if isinstance(meta.get("last_modified"), str):
            headers["If-Modified-Since"] = meta["last_modified"]
        return headers

    def usable(self, validate: Validate) -> tuple[bytes | None, str]:
        """(the saved body, "") or (None, "no saved copy" or why the copy is unusable)."""
        try:
            body = self.body.read_bytes()
        except FileNotFoundError:
            return None, "no saved copy"
        except OSError as exc:
            return None, f"the saved copy is unusable ({exc.strerror or exc})"
        why = validate(body, str(self.meta().get("content_type") or ""))
        if why is not None:
            return None, f"the saved copy is unusable ({why})"
        return body, ""

    def _write_meta(self, meta: dict[str, Any]) -> None:
        """Write the metadata with a new ``fetched`` and give the body that modification time."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        meta["fetched"] = now.isoformat()
        write_atomic(self.meta_path, json.dumps(meta, indent=1).encode("utf-8"))
        os.utime(self.body, (now.timestamp(), now.timestamp()))

    def store(self, body: bytes, meta: dict[str, Any]) -> str | None:
        """Keep a fresh body; a note when it cannot be saved."""
        try:
            write_atomic(self.body, body)
            self._write_meta(dict(meta))
        except OSError as exc:
            return (
                f"could not save a copy in {self.body.parent} ({exc.strerror or exc}); "
                "used the fresh one"
            )
        return None

    def confirm(self) -> str | None:
        """The server said the copy is current: note when; a note when that fails."""
        try:
            self._write_meta(self.meta())
        except OSError as exc:
            return f"could not update {self.meta_path} ({exc.strerror or exc}); used the saved copy"
        return None

    def fallback(self, reason: str, validate: Validate, zone: dt.tzinfo | None) -> Fetched:
        """The copy instead of a failed fetch, or nothing; ``reason`` says what failed."""
        body, why = self.usable(validate)
        if body is None:
            return Fetched(None, "", reason, copy=why)
        try:
            mtime = self.body.stat().st_mtime
            day = dt.datetime.fromtimestamp(mtime, tz=zone).date().isoformat()
        except (OSError, ValueError, OverflowError):
            day = "an unknown day"
        meta = self.meta()
        return Fetched(
            body,
            f"cache from {day}",
            reason,
            content_type=str(meta.get("content_type") or ""),
            url=str(meta.get("url") or ""),
        )
