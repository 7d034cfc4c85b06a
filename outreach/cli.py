"""The command line: the only module that knows click. Parse, call the command, print its report
(:mod:`outreach.output`), exit with its code; one error handler around every command."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from outreach import __version__, crashlog, output
from outreach.errors import EXIT_INVALID, OutreachError, UsageError

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


def _now(date: dt.date | None) -> dt.datetime:
    """When calendar changes are stamped (LAST-MODIFIED, DTSTAMP): the wall clock, read here
    only, for tonight; for a night named with --date, the start of that day (UTC), so that the
    same inputs give the same bytes whenever it is re-run."""
    if date is not None and date != dt.date.today():
        return dt.datetime.combine(date, dt.time(), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _root(ctx: click.Context) -> Path:
    return Path(ctx.obj["root"])


def _exit(report: Any, **how: Any) -> NoReturn:
    """Print the report and leave with its exit code."""
    sys.exit(output.show(report, **how))


class _Outreach(click.Group):
    """The top group: its ``invoke`` is the one error handler for every command. Our errors are
    one line each (their exit code), bugs go to a log (exit 3)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OutreachError as exc:
            for line in exc.lines():
                output.say(line, err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            output.say("interrupted", err=True)
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
            crashlog.crash(exc, Path(ctx.params.get("directory") or "."))


@click.group(cls=_Outreach, context_settings={"help_option_names": ["-h", "--help"]})
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
    if ctx.invoked_subcommand in _READS_THE_BOOK:
        from outreach import readahead

        readahead.start(directory)  # a big contacts.yaml is parsed while we import
        ctx.call_on_close(readahead.stop)  # (ended with the command if its file was not read)


_READS_THE_BOOK = frozenset({"run", "plan", "check", "preview", "calendar"})


@main.command()
@click.argument("target", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def init(ctx: click.Context, target: Path | None) -> None:
    """Scaffold a working folder (refuses to overwrite)."""
    from outreach import commands

    _exit(commands.init(target or _root(ctx)))


@main.command()
@click.option("--date", "date", type=DATE, help="Render as of this date (default: today).")
@click.pass_context
def check(ctx: click.Context, date: dt.date | None) -> None:
    """Validate every file and template; list all problems; exit 2 if any."""
    from outreach import commands

    _exit(commands.check(_root(ctx), today=_today(date), warn=output.warn))


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
def plan(ctx: click.Context, date: dt.date | None, days: int, as_json: bool) -> None:
    """What is due on a date (and the next N days), with the reason. No side effects."""
    from outreach import commands

    report = commands.plan_report(_root(ctx), today=_today(date), days=days, warn=output.warn)
    _exit(report, as_json=as_json)


@main.command()
@click.option("--date", "date", type=DATE, help="Run as of this date (default: today).")
@click.option("--dry-run", is_flag=True, help="Render and report, write nothing anywhere.")
@click.option(
    "--backend",
    type=click.Choice(["dir", "gmail", "imap"]),
    default=None,
    help="Draft store (default: drafts.backend in outreach.yaml).",
)
@click.option("--limit", type=click.IntRange(0), default=None, help="Make at most N drafts.")
@click.option("--sync", "sync_first", is_flag=True, help="Sync contacts (sync: sources) first.")
@click.option("-v", "--verbose", is_flag=True, help="List every draft even when not on a terminal.")
@click.pass_context
def run(
    ctx: click.Context,
    date: dt.date | None,
    dry_run: bool,
    backend: str | None,
    limit: int | None,
    sync_first: bool,
    verbose: bool,
) -> None:
    """Make the due drafts and record them. Quiet under cron unless something failed."""
    from outreach import commands

    if sync_first:  # a source that is down is a warning: the night goes on with the contacts
        synced = commands.sync(
            _root(ctx), today=_today(date), dry_run=dry_run, warn=output.warn, quiet_down=True
        )
        output.show(synced, verbose=verbose)

    interactive = output.interactive()
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
        warn=output.warn,
    )
    _exit(report, verbose=verbose)


@main.command()
@click.argument("key", required=False)
@click.option("--all", "show_all", is_flag=True, help="Every draft due on the date.")
@click.option("--date", "date", type=DATE, help="As of this date (default: today).")
@click.pass_context
def preview(ctx: click.Context, key: str | None, show_all: bool, date: dt.date | None) -> None:
    """Show rendered drafts as they would be created."""
    from outreach import commands

    if bool(key) == show_all:
        raise UsageError("give a touch KEY or --all", "see the keys with 'outreach plan'")
    _exit(commands.preview(_root(ctx), today=_today(date), key=key, warn=output.warn))


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
def calendar(ctx: click.Context, out: Path | None, date: dt.date | None, verbose: bool) -> None:
    """(Re)write the follow-up calendar feed."""
    from outreach import commands

    report = commands.calendar(
        _root(ctx), today=_today(date), now=_now(date), out=out, warn=output.warn
    )
    _exit(report, verbose=verbose)


def _port(default: int, help_text: str) -> Callable[[F], F]:
    """A ``--port`` option (0 to 65535)."""
    return click.option(
        "--port", type=click.IntRange(0, 65535), default=default, show_default=True, help=help_text
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@_port(8025, "Port to listen on (0: any free port).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the follow-up calendar and the status page at a secret URL."""
    from outreach import commands

    commands.serve(_root(ctx), host=host, port=port, say=output.say, today=dt.date.today)


@main.group()
def auth() -> None:
    """One-time authorization for a mailbox."""


@auth.command("gmail")
@click.option(
    "--no-browser",
    is_flag=True,
    help="Print the URL instead of opening a browser (e.g. over an SSH tunnel).",
)
@_port(8765, "Local port for Google's redirect.")
@click.pass_context
def auth_gmail(ctx: click.Context, no_browser: bool, port: int) -> None:
    """One-time OAuth consent; stores the refreshable token (mode 0600)."""
    from outreach import commands

    commands.auth_gmail(_root(ctx), open_browser=not no_browser, port=port, say=output.say)


LOG_KINDS = ("meeting", "call", "email", "note", "gift", "visit")


@main.command("status")
@click.option("--date", "date", type=DATE, help="As of this date (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object a person.")
@click.option("--tier", default=None, help="Only the people of this tier.")
@click.option("--tag", default=None, help="Only the people with this tag.")
@click.option(
    "--html",
    "html",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the dashboard page to this file.",
)
@click.pass_context
def status_(
    ctx: click.Context,
    date: dt.date | None,
    as_json: bool,
    tier: str | None,
    tag: str | None,
    html: Path | None,
) -> None:
    """Who is drifting: last touch, rhythm, next touch, occasions ahead; most neglected first."""
    from outreach import commands

    report = commands.status(
        _root(ctx), today=_today(date), tier=tier, tag=tag, html=html, warn=output.warn
    )
    _exit(report, as_json=as_json)


@main.command("sync")
@click.option("--dry-run", is_flag=True, help="Print the change as a diff of contacts.yaml.")
@click.option("--source", type=click.IntRange(1), default=None, help="Only the Nth of sync:.")
@click.option("--date", "date", type=DATE, help="Check the result as of this date.")
@click.option("-v", "--verbose", is_flag=True, help="Say what changed even when not on a terminal.")
@click.pass_context
def sync_(
    ctx: click.Context, dry_run: bool, source: int | None, date: dt.date | None, verbose: bool
) -> None:
    """Pull contact changes into contacts.yaml; never overwrites what you wrote, deletes no one."""
    from outreach import commands

    report = commands.sync(
        _root(ctx), today=_today(date), dry_run=dry_run, source=source, warn=output.warn
    )
    _exit(report, verbose=verbose)


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
    _exit(commands.log(_root(ctx), contact_id=contact, kind=kind, summary=text, day=_today(date)))


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
    def command(
        ctx: click.Context, file: Path, update: bool, dry_run: bool, tags: tuple[str, ...]
    ) -> None:
        from outreach import commands

        report = commands.import_contacts(
            _root(ctx), kind, file, update=update, dry_run=dry_run, tags=tags
        )
        _exit(report)


_importer("google-csv", "Import a Google Contacts CSV export.")
_importer("vcard", "Import a vCard file (3.0 or 4.0; Apple Contacts, Outlook, Android).")
_importer("linkedin", "Import LinkedIn's Connections.csv.")


def entry() -> NoReturn:
    """The console script and ``python -m outreach``: the command, then a quick exit. A night's
    process holds its book, parses and caches (60 MB for 1,000 people), and freeing them object
    by object at exit took longer than writing the calendar (0.08 s). Every file a command
    writes is closed (and synced) before it returns, so once the exit handlers have run and
    stdout and stderr are flushed nothing is left: the process ends there."""
    import atexit
    import contextlib
    import os

    code: Any = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):  # (as sys.exit("text") does)
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone (`outreach plan | head`)
            stream.flush()
    os._exit(code)
