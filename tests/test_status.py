"""outreach status: most neglected first, the right last touch and next touch, the rhythm of the
campaigns that reach a person, occasions ahead, do-not-contact apart; the page served at the
token URL, 404 otherwise, escaped, with a CSP that allows nothing from outside."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import campaign_data, contact_data, write_folder
from lifecycle import serving

from outreach import dashboard, serve
from outreach.cli import main
from outreach.commands.setup import status_page

DATE = "2026-12-01"
KEEP = campaign_data("keep-in-touch", {"kind": "interval", "days": 30}, priority=10,
                     audience={"tiers": ["A"]})
BIRTHDAY = campaign_data("birthday", priority=90)


def people() -> list[dict[str, Any]]:
    return [
        contact_data("ann-lee", tier="A", interactions=[{"date": "2026-10-01", "kind": "call"}]),
        contact_data("bob-roe", tier="B", interactions=[{"date": "2026-06-01", "kind": "meeting",
                                                          "summary": "lunch"}],
                     dates={"birthday": "1970-12-10"}),
        contact_data("cy-do", tier="A", interactions=[{"date": "2026-11-25", "kind": "email"}],
                     family={"children": [{"name": "Mia", "birthday": "2015-12-24"}]}),
        contact_data("dee-no", tier="A", preferences={"do_not_contact": True},
                     interactions=[{"date": "2025-01-01", "kind": "call"}]),
    ]


def book(tmp_path: Path, contacts: list[dict[str, Any]] | None = None) -> Path:
    return write_folder(tmp_path / "book", contacts or people(), [KEEP, BIRTHDAY],
                        status={"rhythm_days": 120})


def status_json(root: Path, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["-C", str(root), "status", "--date", DATE, "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_most_neglected_first_with_the_rules_values(tmp_path: Path) -> None:
    """Ann (tier A: keep-in-touch every 30 days) last called 61 days ago is 31 days past; Bob
    (no keep-in-touch campaign reaches tier B: status.rhythm_days, 120) met 183 days ago is 63
    past; Cy wrote 6 days ago (24 to go); Dee (do-not-contact) comes last, apart."""
    rows = status_json(book(tmp_path))
    assert [r["contact"] for r in rows] == ["bob-roe", "ann-lee", "cy-do", "dee-no"]
    bob, ann, cy, dee = rows
    assert (bob["rhythm_days"], bob["days_since"], bob["overdue_days"]) == (120, 183, 63)
    assert bob["last_touch"] == {"date": "2026-06-01", "kind": "meeting", "source": "logged",
                                 "summary": "lunch"}
    assert (ann["rhythm_days"], ann["overdue_days"]) == (30, 31)
    assert ann["next_touch"] == {"campaign": "keep-in-touch", "date": "2026-12-01"}
    assert bob["next_touch"] == {"campaign": "birthday", "date": "2026-12-10"}
    assert bob["occasions"] == [{"label": "birthday", "date": "2026-12-10"}]
    assert cy["overdue_days"] == -24 and cy["next_touch"] == {"campaign": "keep-in-touch",
                                                              "date": "2026-12-25"}
    assert cy["occasions"] == [{"label": "Mia's birthday", "date": "2026-12-24"}]
    assert dee["do_not_contact"] is True and dee["next_touch"] is None
    assert set(bob) >= {"contact", "name", "tier", "stage", "last_touch", "days_since",
                        "rhythm_days", "overdue_days", "next_touch", "occasions",
                        "do_not_contact"}


def test_a_draft_is_a_last_touch_and_filters_narrow(tmp_path: Path) -> None:
    """After a run drafts Ann's keep-in-touch note, her last touch is that draft (source draft)
    and she is within her rhythm; --tier B shows Bob alone, --tag nobody has shows none."""
    root = book(tmp_path)
    assert CliRunner().invoke(main, ["-C", str(root), "run", "--date", DATE]).exit_code == 0
    rows = {r["contact"]: r for r in status_json(root)}
    assert rows["ann-lee"]["last_touch"] == {"date": DATE, "kind": "draft", "source": "draft",
                                             "summary": None}
    assert rows["ann-lee"]["overdue_days"] == -30
    assert [r["contact"] for r in status_json(root, "--tier", "B")] == ["bob-roe"]
    assert status_json(root, "--tag", "nobody") == []


def test_the_text_has_a_header_and_a_line_each(tmp_path: Path) -> None:
    """A header sums up (people, past their rhythm, occasions, drafts waiting); drifting people
    are marked; do-not-contact people are listed apart."""
    root = book(tmp_path)
    result = CliRunner().invoke(main, ["-C", str(root), "status", "--date", DATE])
    lines = result.stdout.splitlines()
    assert lines[0] == ("3 people, 2 past their rhythm, 2 occasions in the next 30 days, 0 drafts "
                        "waiting since the last run")
    assert lines[1].startswith("  ! Bob Doe (bob-roe, tier B, customer)")
    assert "do not contact:" in lines and lines[-1].lstrip().startswith("Dee Doe")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """outreach serve's server on 127.0.0.1 with the status page; (base URL, folder)."""
    contacts = people()
    contacts[0]["name"] = {"first": "<script>alert(1)</script>", "last": "Lee & Co"}
    contacts[0]["notes"] = "<b>bold</b> <img src=x onerror=alert(2)>"
    root = book(tmp_path, contacts)
    token = serve.feed_token(root / ".outreach")
    server = serve.make_server(root / "calendar.ics", token, "127.0.0.1", 0,
                               status_page(root, lambda: dt.date.fromisoformat(DATE)))
    with serving(server) as port:
        yield f"http://127.0.0.1:{port}/{token}/", root


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_the_page_at_the_token_url(served: tuple[str, Path]) -> None:
    """200 with the rows in order and a CSP that forbids anything from elsewhere; a wrong token
    and other paths are 404, like the feed's."""
    url, _ = served
    code, headers, body = get(url)
    assert code == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp  # no origin is allowed, only hashes
    order = [body.index(f'data-contact="{c}"') for c in ("bob-roe", "ann-lee", "cy-do")]
    assert order == sorted(order)
    wrong = url.replace(url.split("/")[3], "x" * 43)
    assert get(wrong)[0] == 404 and get(url + "index.html")[0] == 404
    assert get(url.rstrip("/"))[0] == 404


def test_html_in_names_and_notes_is_text(served: tuple[str, Path]) -> None:
    """A name with <script> and notes with markup are escaped: no tag of theirs is in the page."""
    url, _ = served
    body = get(url)[2]
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Lee &amp; Co" in body
    assert "onerror=alert(2)>" not in body
    assert body.count("<script>") == 1  # ours, allowed by its hash


def test_the_inline_style_and_script_match_the_csp() -> None:
    """The CSP names the very style and script the page inlines (a changed script without its
    hash would be blocked by every browser)."""
    page = dashboard.page(
        __import__("outreach.commands.status", fromlist=["StatusReport"]).StatusReport(
            dt.date(2026, 12, 1), []
        )
    )
    assert f"<style>{dashboard.STYLE}</style>" in page and f"<script>{dashboard.SCRIPT}</script>" in page
    assert dashboard._hash(dashboard.STYLE) in dashboard.CSP
    assert dashboard._hash(dashboard.SCRIPT) in dashboard.CSP


def test_status_html_writes_the_page(tmp_path: Path) -> None:
    """--html PATH writes the same page to a file (for those who run no server)."""
    root = book(tmp_path)
    out = tmp_path / "status.html"
    result = CliRunner().invoke(main, ["-C", str(root), "status", "--date", DATE, "--html",
                                       str(out)])
    assert result.exit_code == 0
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and 'data-contact="bob-roe"' in text
    assert 'http-equiv="Content-Security-Policy"' in text


def test_the_page_lists_last_nights_drafts_the_week_and_the_year(tmp_path: Path) -> None:
    """After a run: the drafts it made (by file name), this week's follow-ups, and the chart of
    touches per month with this month's drafts in it."""
    camp = dict(KEEP, followups=[{"kind": "call", "after": 2, "anchor": "draft"}])
    root = write_folder(tmp_path / "book", people(), [camp, BIRTHDAY])
    assert CliRunner().invoke(main, ["-C", str(root), "run", "--date", DATE]).exit_code == 0
    out = tmp_path / "s.html"
    result = CliRunner().invoke(main, ["-C", str(root), "status", "--date", DATE, "--html",
                                       str(out)])
    assert "1 draft waiting since the last run" in result.stdout
    page = out.read_text()
    drafts = page.split('<ul id="drafts">')[1].split("</ul>")[0]
    assert "A note for Ann" in drafts and "keep-in-touch--ann-lee--2026-10-31.eml" in drafts
    week = page.split('<ul id="followups">')[1].split("</ul>")[0]
    assert "Thu 03 Dec: call (keep-in-touch), ann-lee" in week
    assert "<svg" in page and "2026-12: 1 draft" in page
