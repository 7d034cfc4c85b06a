"""The command line: the only module that knows click. Parse, call, print, exit code."""

from __future__ import annotations

import datetime as dt
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from outreach import __version__
from outreach.errors import EXIT_CRASH, EXIT_INVALID, EXIT_OK, EXIT_TOUCH_FAILED, OutreachError

F = TypeVar("F", bound=Callable[..., Any])


FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2999, 12, 31)  # what --date accepts


class _DateRefused(click.ClickException):
    """A --date that is no date, or one out of range: one line, exit 2 (not click's usage
    screen)."""

    exit_code = EXIT_INVALID

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


class _Date(click.ParamType):  # type: ignore[type-arg]
    name = "YYYY-MM-DD"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            day = value
        else:
            try:
                day = dt.date.fromisoformat(str(value))
            except ValueError:
                raise _DateRefused(f"--date '{value}' is not a date; write YYYY-MM-DD") from None
        if not FIRST_DATE <= day <= LAST_DATE:
            raise _DateRefused(
                f"--date {day.isoformat()} is out of range; give a date from "
                f"{FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}"
            )
        return day


DATE = _Date()


def _today(value: dt.date | None) -> dt.date:
    """The one place that reads the clock: the core gets the date passed in."""
    return value or dt.date.today()


def _warn(line: str) -> None:
    """A source that is down or a skipped article: one line on stderr, the night goes on."""
    click.echo(f"warning: {line}", err=True)


def _now(date: dt.date | None) -> dt.datetime:
    """When calendar changes are stamped (LAST-MODIFIED, DTSTAMP): the wall clock, read here
    only, for tonight; for a night named with --date, the start of that day (UTC), so that the
    same inputs give the same bytes whenever it is re-run."""
    if date is not None and date != dt.date.today():
        return dt.datetime.combine(date, dt.time(), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _missed(touch: Any) -> str:
    """A touch whose window closed on nights without a run: what, and its last night."""
    return f"{touch.key}: its last night was {touch.last_day:%a %d %b %Y}, and no run was made"


def _calendar_line(cal: Any) -> str:
    line = f"calendar: {cal.events} events in {cal.path} ({cal.changed} changed)"
    if cal.dropped:
        line += (
            f"; {cal.dropped} more left out to stay under 1 MB (it covers up to "
            f"{cal.until}): lower calendar.future_days in outreach.yaml"
        )
    return line


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _settings(root: Path) -> Any:
    """outreach.yaml alone (for commands that need no contacts or campaigns)."""
    from outreach.config import load_settings
    from outreach.errors import InvalidInput

    settings, _, problems = load_settings(root)
    if settings is None or problems:
        raise InvalidInput(problems)
    return settings


def _root(ctx: click.Context) -> Path:
    return Path(ctx.obj["root"])


def _fail(exc: OutreachError) -> NoReturn:
    for line in exc.lines():
        click.echo(line, err=True)
    sys.exit(exc.exit_code)


def _crash(exc: BaseException, root: Path) -> NoReturn:
    """A bug: one line, the traceback appended to .outreach/crash.log (mode 0600, no symlink
    followed), else to a new private temporary file; exit 3."""
    import os
    import tempfile

    text = (
        f"--- outreach {__version__} {' '.join(sys.argv)}\n"
        + "".join(traceback.format_exception(exc))
        + "\n"
    )
    where: str | None = None
    try:
        (root / ".outreach").mkdir(parents=True, exist_ok=True)
        path = root / ".outreach" / "crash.log"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(text)
        where = str(path)
    except OSError:
        try:
            fd, name = tempfile.mkstemp(prefix="outreach-crash-", suffix=".log")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            where = name
        except OSError:
            pass
    detail = f"the details are in {where}" if where else "no crash log could be written"
    first = (str(exc).splitlines() or [""])[0]
    click.echo(f"outreach crashed: {type(exc).__name__}: {first}; {detail}", err=True)
    sys.exit(EXIT_CRASH)


def handled(fn: F) -> F:
    """One error handler for every command: our errors are one line each, bugs go to a log."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return fn(*args, **kwargs)
        except OutreachError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # `outreach plan | head`: the reader has gone; say nothing more.
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            _crash(exc, _root(ctx))

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Your outreach folder.",
)
@click.version_option(__version__, prog_name="outreach")
@click.pass_context
def main(ctx: click.Context, directory: Path) -> None:
    """Drafts personal notes and follow-ups from your contacts and campaigns. Never sends mail."""
    ctx.ensure_object(dict)
    ctx.obj["root"] = directory


@main.command()
@click.argument("target", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
@handled
def init(ctx: click.Context, target: Path | None) -> None:
    """Scaffold a working folder (refuses to overwrite)."""
    from outreach import scaffold

    folder = target or _root(ctx)
    written = scaffold.init(folder)
    click.echo(f"Created {len(written)} files in {folder}.")
    click.echo(
        f"Next: edit {folder / 'outreach.yaml'} (your name and address), then run "
        f"'outreach -C {folder} check' and 'outreach -C {folder} plan'."
    )


@main.command()
@click.option("--date", "date", type=DATE, help="Render as of this date (default: today).")
@click.pass_context
@handled
def check(ctx: click.Context, date: dt.date | None) -> None:
    """Validate every file and template; list all problems; exit 2 if any."""
    from outreach import commands

    report = commands.check(_root(ctx), today=_today(date), warn=_warn)
    events = f", {report.events} sample follow-up events" if report.events else ""
    click.echo(
        f"ok: {report.contacts} contacts, {report.campaigns} campaigns, "
        f"{report.rendered} sample drafts rendered{events}"
    )


def _touch_json(
    book: Any, plan_day: dt.date, touch: Any, draft: Any, error: str | None
) -> dict[str, Any]:
    from outreach import planner

    contact = book.contact(touch.contact_id)
    camp = book.campaign(touch.campaign_id)
    return {
        "key": touch.key,
        "contact": touch.contact_id,
        "campaign": touch.campaign_id,
        "date": plan_day.isoformat(),
        "due": touch.due.isoformat(),
        "last_day": touch.last_day.isoformat() if planner.expires(touch) else None,
        "late_days": touch.late_days(plan_day),
        "occasion": {
            "kind": touch.occasion.kind,
            "date": touch.occasion.date.isoformat(),
            "label": touch.occasion.label,
        },
        "priority": touch.priority,
        "reason": touch.reason,
        "template": camp.template,
        "to": contact.address(camp.to),
        "subject": draft.subject if draft is not None else None,
        "error": error,
    }


@main.command()
@click.option("--date", "date", type=DATE, help="Plan for this date (default: today).")
@click.option(
    "--days",
    type=click.IntRange(0, 3660),
    default=0,
    show_default=True,
    help="Also plan the N days after, as if every night ran.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
@handled
def plan(ctx: click.Context, date: dt.date | None, days: int, as_json: bool) -> None:
    """What is due on a date (and the next N days), with the reason. No side effects."""
    from outreach import commands, render
    from outreach.errors import RenderError

    today = _today(date)
    book, plans = commands.plan(_root(ctx), today=today, days=days, warn=_warn)
    env = render.environment(book.templates_dir, book.root)
    threads = commands.Threads.read(book)
    items: list[dict[str, Any]] = []
    told: set[tuple[str, str, str]] = set()
    failures = 0
    for p in plans:
        if not as_json:
            if p.touches or p.deferred or p.skipped or days == 0:
                click.echo(click.style(f"{p.today:%a %d %b %Y}", bold=True))
            if not p.touches and days == 0:
                click.echo("  nothing due")
        for t in p.touches:
            draft, error = None, None
            try:
                draft = threads.compose(env, t, p.today)
            except RenderError as exc:
                error = str(commands.failure_problem(book, t, exc))
                failures += 1
            item = _touch_json(book, p.today, t, draft, error)
            items.append(item)
            if not as_json:
                late = f" ({_days(item['late_days'])} late)" if item["late_days"] else ""
                click.echo(f"  {t.key}  ->  {item['to']}{late}")
                click.echo(f"      why: {t.reason}")
                if draft is not None:
                    click.echo(f"      subject: {draft.subject}")
                else:
                    click.echo(f"      error: {error}")
        if not as_json:
            for t in p.missed:
                click.echo(f"  missed: {_missed(t)}")
            for d in p.deferred:
                click.echo(f"  waits: {d.touch.key} ({d.why})")
            for s in p.skipped:
                if (s.campaign_id, s.contact_id, s.why) not in told:  # once per plan is enough
                    told.add((s.campaign_id, s.contact_id, s.why))
                    click.echo(f"  no draft: {s.campaign_id}/{s.contact_id}: {s.why}")
            for note in p.notes:
                if ("", "", note) not in told:
                    told.add(("", "", note))
                    click.echo(f"  note: {note}")
    if as_json:
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
    if failures:
        sys.exit(EXIT_TOUCH_FAILED)


@main.command()
@click.option("--date", "date", type=DATE, help="Run as of this date (default: today).")
@click.option("--dry-run", is_flag=True, help="Render and report, write nothing anywhere.")
@click.option(
    "--backend",
    type=click.Choice(["dir", "gmail"]),
    default=None,
    help="Draft store (default: drafts.backend in outreach.yaml).",
)
@click.option("--limit", type=click.IntRange(0), default=None, help="Make at most N drafts.")
@click.option("-v", "--verbose", is_flag=True, help="List every draft even when not on a terminal.")
@click.pass_context
@handled
def run(
    ctx: click.Context,
    date: dt.date | None,
    dry_run: bool,
    backend: str | None,
    limit: int | None,
    verbose: bool,
) -> None:
    """Make the due drafts and record them. Quiet under cron unless something failed."""
    from outreach import commands

    interactive = sys.stdout.isatty()
    show = verbose or interactive or dry_run
    bar: Any = None

    def progress(i: int, n: int) -> None:
        nonlocal bar
        if not interactive or n < 20:
            return
        if bar is None:
            bar = click.progressbar(length=n, label="drafting", file=sys.stderr)
            bar.__enter__()
        bar.update(i - bar.pos)
        if i >= n:
            bar.__exit__(None, None, None)

    report = commands.run(
        _root(ctx),
        today=_today(date),
        now=_now(date),
        dry_run=dry_run,
        backend=backend,
        limit=limit,
        progress=progress,
        warn=_warn,
    )
    if report.plan is not None:
        for t in report.plan.missed:  # cron mails stderr: the user learns the nights it missed
            _warn(f"missed {_missed(t)}")
    if show:
        for key in report.recovered:
            click.echo(f"recovered {key} (written before a crash)")
        for m in report.made:
            tag = "would draft" if dry_run else ("found" if m.recovered else "drafted")
            click.echo(f"{tag} {m.touch.key} -> {m.draft.to}: {m.draft.subject}")
            click.echo(
                f"    why: {m.touch.reason}"
                + (
                    f" ({_days(m.touch.late_days(report.today))} late)"
                    if m.touch.late_days(report.today)
                    else ""
                )
            )
        if report.plan is not None:
            for d in report.plan.deferred:
                click.echo(f"waits {d.touch.key}: {d.why}")
        if report.calendar is not None:
            cal = report.calendar
            click.echo(_calendar_line(cal))
        verb = "would be drafted" if dry_run else "drafted"
        where = "nothing written" if dry_run else f"in {report.where}"
        click.echo(
            f"{len(report.made)} {verb}, {len(report.failed)} failed"
            + (f", {report.limited} left for --limit" if report.limited else "")
            + f" ({where})"
        )
    for f in report.failed:
        click.echo(str(f.problem), err=True)
    calendar_problems = report.calendar.problems if report.calendar else []
    for p in calendar_problems:
        click.echo(str(p), err=True)
    if calendar_problems and not report.failed:
        if not show:
            click.echo(
                f"outreach: {len(calendar_problems)} follow-up events could not be made; "
                "fix the lines above",
                err=True,
            )
        sys.exit(EXIT_TOUCH_FAILED)
    if report.failed:
        if not show:
            click.echo(
                f"outreach: {len(report.failed)} of {len(report.failed) + len(report.made)} "
                "touches failed; fix the lines above, the next run retries them",
                err=True,
            )
        sys.exit(EXIT_TOUCH_FAILED)
    sys.exit(EXIT_OK)


@main.command()
@click.argument("key", required=False)
@click.option("--all", "show_all", is_flag=True, help="Every draft due on the date.")
@click.option("--date", "date", type=DATE, help="As of this date (default: today).")
@click.pass_context
@handled
def preview(ctx: click.Context, key: str | None, show_all: bool, date: dt.date | None) -> None:
    """Show rendered drafts as they would be created."""
    from outreach import commands
    from outreach.errors import Problem, UsageError

    if bool(key) == show_all:
        raise UsageError("give a touch KEY or --all", "see the keys with 'outreach plan'")
    results = commands.preview(_root(ctx), today=_today(date), key=key, warn=_warn)
    failed = 0
    for item in results:
        touch, result = item.touch, item.result
        waits = f" (waits tonight: {item.waits})" if item.waits else ""
        click.echo(click.style(f"=== {touch.key}{waits}", bold=True))
        if isinstance(result, Problem):
            click.echo(str(result), err=True)
            failed += 1
            continue
        msg = result.message
        for header in (
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
        ):
            if msg[header]:
                click.echo(f"{header}: {msg[header]}")
        click.echo("")
        body = msg.get_body(("plain",))
        click.echo(body.get_content() if body is not None else "")
    if not results:
        click.echo("nothing due")
    if failed:
        sys.exit(EXIT_TOUCH_FAILED)


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of calendar.path in outreach.yaml.",
)
@click.option("--date", "date", type=DATE, help="As of this date (default: today).")
@click.option("-v", "--verbose", is_flag=True, help="Say what was written.")
@click.pass_context
@handled
def calendar(ctx: click.Context, out: Path | None, date: dt.date | None, verbose: bool) -> None:
    """(Re)write the follow-up calendar feed."""
    from outreach import commands

    report = commands.calendar(_root(ctx), today=_today(date), now=_now(date), out=out, warn=_warn)
    if verbose or sys.stdout.isatty():
        click.echo(_calendar_line(report))
    for p in report.problems:
        click.echo(str(p), err=True)
    sys.exit(EXIT_TOUCH_FAILED if report.problems else EXIT_OK)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8025,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.pass_context
@handled
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the follow-up calendar at a secret URL for calendar apps to subscribe to."""
    from outreach import serve as feed_server
    from outreach.config import load_book

    book = load_book(_root(ctx))
    feed = book.path(book.settings.calendar.path)
    token = feed_server.feed_token(book.path(book.settings.state).parent)
    server = feed_server.make_server(feed, token, host, port)
    http_url, webcal_url = feed_server.feed_urls(host, server.server_address[1], token)
    click.echo(f"{http_url}  {webcal_url}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.group()
def auth() -> None:
    """One-time authorization for a mailbox."""


@auth.command("gmail")
@click.option(
    "--no-browser",
    is_flag=True,
    help="Print the URL instead of opening a browser (e.g. over an SSH tunnel).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Local port for Google's redirect.",
)
@click.pass_context
@handled
def auth_gmail(ctx: click.Context, no_browser: bool, port: int) -> None:
    """One-time OAuth consent; stores the refreshable token (mode 0600)."""
    from outreach import auth as oauth

    root = _root(ctx)
    oauth.authorize(
        _settings(root).gmail, root, open_browser=not no_browser, port=port, echo=click.echo
    )


LOG_KINDS = ("meeting", "call", "email", "note", "gift", "visit")


@main.command("log")
@click.argument("contact")
@click.option("--meeting", "meeting", metavar="TEXT", help="A meeting, with what was said.")
@click.option("--call", "call", metavar="TEXT", help="A phone call.")
@click.option("--email", "email_", metavar="TEXT", help="An email you sent or got.")
@click.option("--note", "note", metavar="TEXT", help="Anything else worth remembering.")
@click.option("--gift", "gift", metavar="TEXT", help="A gift given.")
@click.option("--visit", "visit", metavar="TEXT", help="A visit.")
@click.option("--date", "date", type=DATE, help="When (default: today).")
@click.pass_context
@handled
def log(
    ctx: click.Context,
    contact: str,
    meeting: str | None,
    call: str | None,
    email_: str | None,
    note: str | None,
    gift: str | None,
    visit: str | None,
    date: dt.date | None,
) -> None:
    """Log an interaction by hand (appends to interactions.yaml; resets keep-in-touch)."""
    from outreach import commands
    from outreach.errors import UsageError

    given = [
        (k, v)
        for k, v in zip(LOG_KINDS, (meeting, call, email_, note, gift, visit), strict=True)
        if v is not None
    ]
    if len(given) != 1:
        raise UsageError(
            "give exactly one of --meeting, --call, --email, --note, --gift, --visit",
            'e.g. outreach log jane-doe --call "talked about the renewal"',
        )
    kind, text = given[0]
    path = commands.log_interaction(
        _root(ctx), contact_id=contact, kind=kind, summary=text, day=_today(date)
    )
    if sys.stdout.isatty():
        click.echo(f"logged a {kind} with {contact} in {path}")


@main.group("import")
def import_() -> None:
    """Add people from an export: Google Contacts CSV, vCard, LinkedIn Connections.csv."""


def _importer(kind: str, help_text: str) -> None:
    @import_.command(kind, help=help_text)
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "--update",
        is_flag=True,
        help="Fill in empty fields of people already there (never overwrites).",
    )
    @click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
    @click.option("--tag", "tags", multiple=True, help="Add this tag to everyone imported.")
    @click.pass_context
    @handled
    def command(
        ctx: click.Context, file: Path, update: bool, dry_run: bool, tags: tuple[str, ...]
    ) -> None:
        from outreach import importers
        from outreach.paths import resolve

        root = _root(ctx)
        report = importers.import_contacts(
            kind,  # type: ignore[arg-type]
            file,
            resolve(root, _settings(root).contacts),
            update=update,
            dry_run=dry_run,
            tags=tags,
        )
        click.echo(report.summary())


_importer("google-csv", "Import a Google Contacts CSV export.")
_importer("vcard", "Import a vCard file (3.0 or 4.0; Apple Contacts, Outlook, Android).")
_importer("linkedin", "Import LinkedIn's Connections.csv.")
