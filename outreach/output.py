"""The one place that prints: every command's report on the terminal, as ``--json``, or not at
all under cron (a good night prints nothing; what failed goes to stderr, which cron mails).

:func:`show` prints a report the way its command does and returns the report's exit code. Text
goes to ``sys.stdout`` and ``sys.stderr`` as they are at the time (a test runner's too); headers
are bold on a terminal only.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from outreach import mornings
from outreach.errors import Problem

if TYPE_CHECKING:  # for the types only: printing a report imports no command module
    from outreach.commands import (
        CalendarReport,
        CheckReport,
        ImportedReport,
        InitReport,
        LogReport,
        PlanReport,
        PreviewReport,
        RunReport,
        StatusReport,
        SyncReport,
    )

    Report: TypeAlias = (
        CheckReport
        | PlanReport
        | RunReport
        | PreviewReport
        | CalendarReport
        | LogReport
        | InitReport
        | ImportedReport
        | SyncReport
        | StatusReport
    )

PREVIEW_HEADERS = (
    "From",
    "To",
    "Cc",
    "Bcc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
)


_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # what click.echo strips off the way to a file


def say(line: str = "", *, err: bool = False) -> None:
    """One line on stdout (or stderr), flushed; terminal styles only on a terminal."""
    stream = sys.stderr if err else sys.stdout
    if not stream.isatty():
        line = _ANSI.sub("", line)
    stream.write(f"{line}\n")
    stream.flush()


def warn(line: str) -> None:
    """A source that is down or a skipped article: one line on stderr, the night goes on."""
    say(f"warning: {line}", err=True)


def interactive() -> bool:
    """Whether a person is watching (stdout is a terminal), not cron."""
    return sys.stdout.isatty()


def _bold(text: str) -> str:
    return f"\x1b[1m{text}\x1b[0m" if interactive() else text


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _missed(touch: Any) -> str:
    """A touch whose window closed on nights without a run: what, and its last night."""
    return f"{touch.key}: its last night was {touch.last_day:%a %d %b %Y}, and no run was made"


def calendar_line(cal: CalendarReport) -> str:
    line = f"calendar: {cal.events} events in {cal.path} ({cal.changed} changed)"
    if cal.dropped:
        line += (
            f"; {cal.dropped} more left out to stay under 1 MB (it covers up to "
            f"{cal.until}): lower calendar.future_days in outreach.yaml"
        )
    return line


def _made_by(report: object, module: str, name: str) -> bool:
    """Whether ``report`` is the ``name`` report of ``outreach.commands.<module>``. The module is
    not imported for the question: a report of its class exists only once it is loaded (showing a
    plan loads no other command)."""
    loaded = sys.modules.get(f"outreach.commands.{module}")
    return loaded is not None and isinstance(report, getattr(loaded, name))


def show(report: Report, *, as_json: bool = False, verbose: bool = False) -> int:
    """Print ``report`` as its command does; its exit code."""
    if _made_by(report, "check", "CheckReport"):
        checked = cast("CheckReport", report)
        events = f", {checked.events} sample follow-up events" if checked.events else ""
        say(
            f"ok: {checked.contacts} contacts, {checked.campaigns} campaigns, "
            f"{checked.rendered} sample drafts rendered{events}"
        )
    elif _made_by(report, "plan", "PlanReport"):
        _plan(cast("PlanReport", report), as_json)
    elif _made_by(report, "run", "RunReport"):
        _run(cast("RunReport", report), verbose)
    elif _made_by(report, "preview", "PreviewReport"):
        _preview(cast("PreviewReport", report))
    elif _made_by(report, "calendar", "CalendarReport"):
        cal = cast("CalendarReport", report)
        if verbose or interactive():
            say(calendar_line(cal))
        for p in cal.problems:
            say(str(p), err=True)
    elif _made_by(report, "status", "StatusReport"):
        _status(cast("StatusReport", report), as_json)
    elif _made_by(report, "sync", "SyncReport"):
        synced = cast("SyncReport", report)
        if synced.diff:
            say(synced.diff.rstrip("\n"))
        if verbose or interactive() or synced.dry_run:
            for line in synced.lines():
                say(line)
        for line in synced.attention():  # cron mails these
            warn(line)
    elif _made_by(report, "log", "LogReport"):
        logged = cast("LogReport", report)
        if interactive():
            say(f"logged a {logged.kind} with {logged.contact} in {logged.path}")
    elif _made_by(report, "setup", "InitReport"):
        made = cast("InitReport", report)
        folder = made.folder
        say(f"Created {len(made.written)} files in {folder}.")
        say(
            f"Next: edit {folder / 'outreach.yaml'} (your name and address), then run "
            f"'outreach -C {folder} check' and 'outreach -C {folder} plan'."
        )
    else:
        say(cast("ImportedReport", report).summary)
    return report.exit_code


def _plan(report: PlanReport, as_json: bool) -> None:
    told: set[tuple[str, str, str]] = set()
    days = report.days
    for p, planned in zip(report.plans, report.touches, strict=True):
        if as_json:
            continue
        if p.touches or p.deferred or p.skipped or p.spread or days == 0:
            say(_bold(f"{p.today:%a %d %b %Y}"))
        if not p.touches and days == 0:
            say("  nothing due")
        for item in planned:
            t, data = item.touch, item.data
            late = f" ({_days(data['late_days'])} late)" if data["late_days"] else ""
            say(f"  {t.key}  ->  {data['to']}{late}")
            say(f"      why: {t.reason}")
            if item.last is not None and item.last.source == "mailbox":
                say(f"      last exchange {item.last.line()}")
            if item.subject is not None:
                say(f"      subject: {item.subject}")
            else:
                say(f"      error: {item.error}")
        for t in p.missed:
            say(f"  missed: {_missed(t)}")
        for d in p.deferred:
            say(f"  waits: {d.touch.key} ({d.why})")
        for line in p.spread:
            say(f"  {line}")
        for s in p.skipped:
            if (s.campaign_id, s.contact_id, s.why) not in told:  # once per plan is enough
                told.add((s.campaign_id, s.contact_id, s.why))
                say(f"  no draft: {s.campaign_id}/{s.contact_id}: {s.why}")
        for note in p.notes:
            if ("", "", note) not in told:
                told.add(("", "", note))
                say(f"  note: {note}")
    if as_json:
        items = [item.data for planned in report.touches for item in planned]
        say(json.dumps(items, indent=2, ensure_ascii=False))
    elif days:
        targets = [p.target for p in report.plans if p.target]
        target = max(targets, default=None)
        aim = f", a morning target of {target}" if target else ""
        say(_bold(f"Mornings ahead (drafts a night{aim})"))
        nights = [(p.today, len(p.touches)) for p in report.plans]
        for line in mornings.bars(nights, target):
            say(line)
        say(f"  {mornings.summary([n for _, n in nights])}")


def _status(report: StatusReport, as_json: bool) -> None:
    if as_json:
        say(json.dumps([r.as_json() for r in report.rows], indent=2, ensure_ascii=False))
        return
    say(report.header())
    for r in report.rows:
        if r.do_not_contact and r is report.apart[0]:
            say("do not contact:")
        last = r.last
        since = f"{last.summary or last.kind} {last.date:%d %b} ({last.source}), " if last else ""
        ago = f"{r.days_since} days ago" if r.days_since is not None else "no touch yet"
        past = (
            f"{r.overdue_days} days past" if r.overdue_days > 0 else f"{-r.overdue_days} to go"
        )
        nxt = f"; next {r.next_touch[0]} {r.next_touch[1]:%a %d %b}" if r.next_touch else ""
        occ = "".join(f"; {o.label} {o.date:%a %d %b}" for o in r.occasions)
        who = ", ".join(x for x in (r.tier and f"tier {r.tier}", r.stage) if x)
        say(
            f"  {'!' if r.drifting else ' '} {r.name} ({r.contact}{', ' + who if who else ''}): "
            f"{since}{ago}, every {r.rhythm_days} days, {past}{nxt}{occ}"
        )
    if report.html is not None:
        say(f"page: {report.html}")


def _run(report: RunReport, verbose: bool) -> None:
    dry_run = report.dry_run
    show_all = verbose or interactive() or dry_run
    if report.plan is not None:
        for t in report.plan.missed:  # cron mails stderr: the user learns the nights it missed
            warn(f"missed {_missed(t)}")
    if show_all:
        for key in report.recovered:
            say(f"recovered {key} (written before a crash)")
        for m in report.made:
            tag = "would draft" if dry_run else ("found" if m.recovered else "drafted")
            say(f"{tag} {m.key} -> {m.to}: {m.subject}")
            late = m.late_days
            say(f"    why: {m.reason}" + (f" ({_days(late)} late)" if late else ""))
        if report.plan is not None:
            for d in report.plan.deferred:
                say(f"waits {d.touch.key}: {d.why}")
            for line in report.plan.spread:
                say(line)
        if report.calendar is not None:
            say(calendar_line(report.calendar))
        verb = "would be drafted" if dry_run else "drafted"
        where = "nothing written" if dry_run else f"in {report.where}"
        say(
            f"{len(report.made)} {verb}, {len(report.failed)} failed"
            + (f", {report.limited} left for --limit" if report.limited else "")
            + f" ({where})"
        )
    for f in report.failed:
        say(str(f.problem), err=True)
    calendar_problems = report.calendar.problems if report.calendar else []
    for p in calendar_problems:
        say(str(p), err=True)
    if show_all:
        return
    if report.failed:
        say(
            f"outreach: {len(report.failed)} of {len(report.failed) + len(report.made)} "
            "touches failed; fix the lines above, the next run retries them",
            err=True,
        )
    elif calendar_problems:
        say(
            f"outreach: {len(calendar_problems)} follow-up events could not be made; "
            "fix the lines above",
            err=True,
        )


def _preview(report: PreviewReport) -> None:
    for item in report.previews:
        touch, result = item.touch, item.result
        waits = f" (waits tonight: {item.waits})" if item.waits else ""
        say(_bold(f"=== {touch.key}{waits}"))
        if isinstance(result, Problem):
            say(str(result), err=True)
            continue
        msg = result.message
        for header in PREVIEW_HEADERS:
            if msg[header]:
                say(f"{header}: {msg[header]}")
        say("")
        body = msg.get_body(("plain",))
        say(body.get_content() if body is not None else "")
    if not report.previews:
        say("nothing due")
