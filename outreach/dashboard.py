"""The status page: who is drifting, this month's occasions, this week's follow-ups, the drafts
the last run left, and the touches of the last year, as one self-contained HTML page.

Served by ``outreach serve`` at ``/<token>/`` (:mod:`outreach.serve`) and written by ``outreach
status --html PATH``. No external script, font, stylesheet or image: the style and the one small
script (sorting the table) are inline, allowed by their hashes in a Content-Security-Policy that
forbids everything else; the chart is inline SVG drawn here. Every value from the user's files
(names, notes, subjects) is escaped.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import hashlib
import html
from pathlib import Path
from typing import TYPE_CHECKING

from outreach.fsutil import write_atomic

if TYPE_CHECKING:
    from outreach.commands.status import StatusReport
    from outreach.health import Row

STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#222}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.05rem;margin:1.4rem 0 .4rem}
.sum{color:#555;margin:.2rem 0 1rem}
.wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e3e3;vertical-align:top}
th{cursor:pointer;white-space:nowrap;background:#f6f6f6;user-select:none}
th[aria-sort=ascending]::after{content:" \\25b2"}th[aria-sort=descending]::after{content:" \\25bc"}
td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.drifting td{background:#fff3f0}tr.drifting td.over{color:#b3261e;font-weight:600}
.muted{color:#777}
.cal{display:grid;grid-template-columns:repeat(7,1fr);gap:2px;max-width:28rem}
.cal div{padding:.25rem;min-height:2.2rem;background:#f6f6f6;font-size:.85rem}
.cal .h{background:none;min-height:0;font-weight:600}.cal .o{background:#e7f0ff}
.cal .t{outline:2px solid #3a6fd8}
ul{padding-left:1.2rem;margin:.3rem 0}
svg{max-width:100%;height:auto}
@media (max-width:40rem){body{padding:.5rem;font-size:14px}th,td{padding:.25rem}}
"""

SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function(t){
  var hs=t.tHead.rows[0].cells;
  Array.prototype.forEach.call(hs,function(h,i){h.addEventListener('click',function(){
    var asc=h.getAttribute('aria-sort')!=='ascending';
    Array.prototype.forEach.call(hs,function(o){o.removeAttribute('aria-sort');});
    h.setAttribute('aria-sort',asc?'ascending':'descending');
    var num=h.hasAttribute('data-num'),b=t.tBodies[0],rs=Array.prototype.slice.call(b.rows);
    rs.sort(function(x,y){
      var a=x.cells[i].getAttribute('data-v'),c=y.cells[i].getAttribute('data-v');
      if(num){a=parseFloat(a);c=parseFloat(c);a=isNaN(a)?-1e9:a;c=isNaN(c)?-1e9:c;}
      var r=a<c?-1:a>c?1:0;return asc?r:-r;});
    rs.forEach(function(r){b.appendChild(r);});});});});
"""


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


#: what the page may load: nothing but its own inline style and script, and data: images
CSP = (
    f"default-src 'none'; style-src '{_hash(STYLE)}'; script-src '{_hash(SCRIPT)}'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
HEADERS = (
    ("Content-Security-Policy", CSP + "; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)
KIND_COLORS = {
    "draft": "#3a6fd8",
    "email": "#2e9d6b",
    "meeting": "#d88a2a",
    "call": "#9b4fd0",
}
OTHER_COLOR = "#8a8a8a"


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _day(d: dt.date | None) -> str:
    return f"{d:%a %d %b}" if d else ""


def _row(r: Row) -> str:
    last = r.last
    last_text = "none"
    if last is not None:
        what = last.summary or last.kind
        last_text = f"{_day(last.date)}, {what}" + (
            f" ({last.source})" if last.source != what else ""
        )
    nxt = r.next_touch
    occ = "; ".join(f"{o.label} {_day(o.date)}" for o in r.occasions)
    cells = [
        (r.name, r.name.lower(), "", ""),
        (r.tier or "", r.tier or "", "", ""),
        (r.stage or "", r.stage or "", "", ""),
        (last_text, last.date.isoformat() if last else "", "", ""),
        ("" if r.days_since is None else r.days_since, r.days_since, "n", ""),
        (r.rhythm_days, r.rhythm_days, "n", ""),
        (r.overdue_days, r.overdue_days, "n", " over"),
        (f"{nxt[0]}, {_day(nxt[1])}" if nxt else "", nxt[1].isoformat() if nxt else "9999", "", ""),
        (occ, r.occasions[0].date.isoformat() if r.occasions else "9999", "", ""),
    ]
    tds = "".join(
        f'<td class="{cls}{extra}" data-v="{e("" if v is None else v)}">{e(text)}</td>'
        for text, v, cls, extra in cells
    )
    mark = ' class="drifting"' if r.drifting else ""
    return f'<tr{mark} data-contact="{e(r.contact)}">{tds}</tr>'


_HEAD = [
    ("Name", False),
    ("Tier", False),
    ("Stage", False),
    ("Last touch", False),
    ("Days since", True),
    ("Rhythm", True),
    ("Overdue", True),
    ("Next touch", False),
    ("Occasions (30 days)", False),
]


def _table(rows: list[Row], ident: str) -> str:
    head = "".join(f"<th{' data-num' if num else ''}>{e(h)}</th>" for h, num in _HEAD)
    body = "".join(_row(r) for r in rows)
    return (
        f'<div class="wrap"><table class="sortable" id="{ident}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _calendar(report: StatusReport) -> str:
    today = report.today
    days: dict[int, list[str]] = {}
    for r in report.people:
        for o in r.occasions:
            if (o.date.year, o.date.month) == (today.year, today.month):
                days.setdefault(o.date.day, []).append(f"{r.name}: {o.label}")
    cells = [f'<div class="h">{e(d)}</div>' for d in ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")]
    first, count = calendar.monthrange(today.year, today.month)
    cells += ['<div class="h"></div>'] * first
    for n in range(1, count + 1):
        who = days.get(n, [])
        cls = " ".join(c for c in ("o" if who else "", "t" if n == today.day else "") if c)
        title = f' title="{e("; ".join(who))}"' if who else ""
        cells.append(f'<div class="{cls}"{title}>{n}</div>')
    listed = "".join(
        f"<li>{e(_day(dt.date(today.year, today.month, n)))}: {e('; '.join(w))}</li>"
        for n, w in sorted(days.items())
    )
    return f'<div class="cal">{"".join(cells)}</div><ul>{listed}</ul>'


def _chart(months: dict[str, dict[str, int]]) -> str:
    """Touches per month by kind, stacked bars (inline SVG)."""
    kinds = sorted({k for m in months.values() for k in m}, key=lambda k: (k not in KIND_COLORS, k))
    top = max([sum(m.values()) for m in months.values()] + [1])
    width, height, pad = 640, 220, 30
    step = (width - pad) / max(1, len(months))
    parts = [
        f'<svg viewBox="0 0 {width} {height + 40}" role="img" aria-label="touches per month">',
        f'<line x1="{pad}" y1="{height}" x2="{width}" y2="{height}" stroke="#bbb"/>',
        f'<text x="0" y="12" font-size="11" fill="#555">{top}</text>',
    ]
    for i, (month, counts) in enumerate(months.items()):
        x, y = pad + i * step + 4, float(height)
        for kind in kinds:
            n = counts.get(kind, 0)
            if not n:
                continue
            h = (height - 20) * n / top
            y -= h
            color = KIND_COLORS.get(kind, OTHER_COLOR)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{step - 8:.1f}" height="{h:.1f}" '
                f'fill="{color}"><title>{e(month)}: {n} {e(kind)}</title></rect>'
            )
        parts.append(
            f'<text x="{x + (step - 8) / 2:.1f}" y="{height + 14}" font-size="10" '
            f'text-anchor="middle" fill="#555">{e(month[2:])}</text>'
        )
    for j, kind in enumerate(kinds):
        color = KIND_COLORS.get(kind, OTHER_COLOR)
        parts.append(
            f'<rect x="{pad + j * 90}" y="{height + 24}" width="10" height="10" fill="{color}"/>'
            f'<text x="{pad + j * 90 + 14}" y="{height + 33}" font-size="11">{e(kind)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def page(report: StatusReport, sender: str = "") -> str:
    """The whole page for ``report``."""
    waiting = (
        "".join(
            f"<li>{e(w.contact)}: "
            + (
                f'<a href="{e(w.link)}" rel="noreferrer">{e(w.subject or w.key)}</a>'
                if w.link
                else f'{e(w.subject or w.key)} <span class="muted">{e(Path(w.ref).name)}</span>'
            )
            + "</li>"
            for w in report.waiting
        )
        or '<li class="muted">none</li>'
    )
    upcoming = (
        "".join(f"<li>{e(_day(u.day))}: {e(u.what)}, {e(u.contact)}</li>" for u in report.upcoming)
        or '<li class="muted">none</li>'
    )
    apart = f"<h2>Do not contact</h2>{_table(report.apart, 'apart')}" if report.apart else ""
    who = f" for {e(sender)}" if sender else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>outreach status, {e(report.today.isoformat())}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>Who is drifting{who}, {e(_day(report.today))} {report.today.year}</h1>"
        f'<p class="sum" id="summary">{e(report.header())}</p>'
        f"{_table(report.people, 'people')}"
        f"{apart}"
        f"<h2>Occasions this month</h2>{_calendar(report)}"
        f'<h2>Follow-ups this week</h2><ul id="followups">{upcoming}</ul>'
        f'<h2>Drafts waiting since the last run</h2><ul id="drafts">{waiting}</ul>'
        f"<h2>Touches per month</h2>{_chart(report.months)}"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def write(path: Path, text: str) -> None:
    """The page at ``path``, whole (a temporary name, then a rename)."""
    write_atomic(path, text.encode("utf-8"))
