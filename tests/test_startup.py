"""Start-up: `outreach plan` loads what planning the book needs and nothing else.

The time itself is bench/startup.py's (a benchmark prints it; no test is timed). These tests guard
what makes it: the modules a plan of the bundled example imports (no calendar feed, no run, no
Google library, one country of the holidays package), the holidays it finds when the package is
imported one country at a time (the same as when it is imported whole), and the command functions
the lazy ``outreach.commands`` hands out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from outreach import commands

COMMAND_AND_LIST_MODULES = """
import sys
from outreach.cli import main
try:
    main(["-C", *sys.argv[1:]], standalone_mode=False)
except SystemExit:
    pass
print("MODULES", " ".join(sorted(sys.modules)))
"""


def _modules_of(root: Path, *command: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``outreach -C root COMMAND...`` in a fresh process, and the modules it imported."""
    proc = subprocess.run([sys.executable, "-c", COMMAND_AND_LIST_MODULES, str(root), *command],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES "))
    return proc, set(line.split()[1:])

NOT_FOR_A_PLAN = (
    "googleapiclient",  # Gmail: only a run with the gmail store
    "google",
    "icalendar",  # the feed and the meeting sources: no calendar is configured
    "vobject",
    "outreach.feed",
    "outreach.sources",
    "outreach.commands.calendar",
    "outreach.commands.run",
    "outreach.commands.setup",
    "outreach.commands.preview",
    "outreach.commands.log",
    "outreach.commands.check",
    "outreach.importers",
    "outreach.serve",
    "outreach.auth",
    "outreach.scaffold",
)


def _modules_of_a_plan(tmp_path: Path) -> set[str]:
    root = tmp_path / "example"
    commands.init(root)
    proc, modules = _modules_of(root, "plan", "--date", "2026-11-20")
    assert "thanksgiving/jane-doe/2026-11-26" in proc.stdout  # a holiday was planned
    return modules


def test_a_plan_of_the_bundled_example_imports_only_what_planning_needs(tmp_path: Path) -> None:
    """`outreach plan` imports neither the calendar feed, the run, the importers, the server nor
    any Google or iCalendar library; of the holidays package's 250 countries, only the one the
    book's contacts live in (the United States)."""
    loaded = _modules_of_a_plan(tmp_path)
    for name in NOT_FOR_A_PLAN:
        found = sorted(m for m in loaded if m == name or m.startswith(name + "."))
        assert not found, f"`outreach plan` imported {found}"
    countries = sorted(m for m in loaded if m.startswith("holidays.countries."))
    assert countries == ["holidays.countries.united_states"]


TABLES = """
import json, sys
if sys.argv[1] == "whole":
    import holidays.countries  # the package's own way: every country module at once
from outreach import occasions
out = {}
for country in sys.argv[2].split(","):
    for year in (2024, 2026, 2028):
        for cats in ((), occasions.PUBLIC):
            days = occasions._holidays(country, year, cats)
            # as sets: the package's own order follows the process's string hashes
            out[f"{country} {year} {cats}"] = sorted([d.isoformat(), sorted(n)] for d, n in days.items())
    out[f"{country} thanksgiving"] = [
        d.isoformat() for d in occasions.holiday_dates("Thanksgiving", country, 2026)
    ]
loaded = sorted(m for m in sys.modules if m.startswith("holidays.countries."))
print(json.dumps({"tables": out, "loaded": loaded, "categories": occasions.categories()}))
"""

# Countries of both kinds: their own module, and one that builds on another's (American Samoa
# on the United States, the Aland Islands on Finland, the Isle of Man on the United Kingdom).
COUNTRIES = "US,AS,PR,CA,GB,IM,FI,AX,DE,FR,ES,IT,NL,CH,IN,JP,CN,BR,MX,AU,NZ,IL,SA,ZA,KR"


def _tables(how: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", TABLES, how, COUNTRIES], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_holidays_read_one_country_at_a_time_are_those_of_the_whole_package() -> None:
    """The holidays of 25 countries (their days and names, in every category and the public ones,
    three years) are the same whether the package imports only the countries asked for, as
    outreach has it do, or all of them at once; and only those asked for (and the ones they
    build on) are imported."""
    alone, whole = _tables("alone"), _tables("whole")
    assert alone["tables"] == whole["tables"]
    assert alone["categories"] == whole["categories"]
    assert len(whole["loaded"]) > 200  # type: ignore[arg-type]
    assert len(alone["loaded"]) < 40  # type: ignore[arg-type]
    assert "holidays.countries.united_states" in alone["loaded"]  # type: ignore[operator]


def test_the_holidays_package_answers_as_before_after_one_country_was_read() -> None:
    """After outreach has read one country, the package's own names still answer: a country
    imported from ``holidays.countries`` (which then imports the rest), its star import and its
    list of countries."""
    code = (
        "from outreach import occasions\n"
        "occasions.holiday_dates('Christmas Day', 'US', 2026)\n"
        "from holidays.countries import Germany\n"
        "import holidays\n"
        "ns = {}\n"
        "exec('from holidays.countries import *', ns)\n"
        "print(Germany.__name__, 'FR' in ns, len(holidays.list_supported_countries()) > 200)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Germany", "True", "True"]


def test_the_command_functions_keep_their_names_when_their_modules_are_imported() -> None:
    """``commands.calendar``, ``commands.run``, ``commands.plan``, ... are the command functions,
    also after their modules (of the same names) were imported: `import outreach.commands.run`
    does not put a module where a command was."""
    import outreach.commands.calendar
    import outreach.commands.check
    import outreach.commands.plan
    import outreach.commands.run  # noqa: F401 - what is checked is that importing it changes nothing

    for name in ("calendar", "check", "log", "plan", "preview", "run", "init"):
        assert callable(getattr(commands, name)), name
        assert getattr(commands, name).__name__ == name
    assert commands.CalendarReport.__module__ == "outreach.commands.calendar"
    assert commands.Threads.__module__ == "outreach.executor"
    assert "plan_report" in dir(commands)


def test_the_contact_models_are_built_at_import_and_the_rare_ones_when_used() -> None:
    """The models validated once per contact are built when imported (a model built later
    validates each of 100,000 contacts more slowly); those of outreach.yaml and the campaigns
    are built when first used."""
    from outreach import fields
    from outreach.campaigns import Campaign
    from outreach.contacts import Contact, Dates, Emails, Family, Name
    from outreach.settings import Settings

    for model in (Contact, Name, Emails, Dates, Family):
        assert not issubclass(model, fields.Lazy), model
        assert model.__pydantic_complete__, model
    assert issubclass(Campaign, fields.Lazy) and issubclass(Settings, fields.Lazy)


def test_a_run_without_holiday_greetings_imports_no_holidays(tmp_path: Path) -> None:
    """A night of birthdays only checks its contacts' countries against the holidays registry
    without importing the package (it plans no holiday)."""
    from factories import campaign_data, contact_data, write_folder

    people = [contact_data(f"p{i}-doe", dates={"birthday": "--11-22"}, country="DE")
              for i in range(3)]
    root = write_folder(tmp_path / "book", people, [campaign_data()])
    _, modules = _modules_of(root, "run", "--date", "2026-11-22")
    assert len(list((root / "drafts").glob("*.eml"))) == 3
    assert not [m for m in modules if m == "holidays" or m.startswith("holidays.")]


def test_the_console_scripts_quick_exit_keeps_output_and_exit_codes(tmp_path: Path) -> None:
    """`outreach` ends its process without tearing down its objects (cli.entry): what it
    prints is all there, through a pipe (a plan of 60 nights as JSON, a dry run), and the exit
    code is the command's (0, and 2 for a folder that is not there), as click gives them in
    this process."""
    from click.testing import CliRunner

    from outreach.cli import main

    root = tmp_path / "example"
    commands.init(root)
    missing = tmp_path / "nowhere"
    for args in (["-C", str(root), "plan", "--date", "2026-11-20", "--days", "60", "--json"],
                 ["-C", str(root), "run", "--dry-run", "--date", "2026-11-20"],
                 ["-C", str(missing), "check"]):
        here = CliRunner().invoke(main, args)
        proc = subprocess.run([sys.executable, "-m", "outreach", *args], capture_output=True,
                              text=True, timeout=120)
        assert (proc.returncode, proc.stdout, proc.stderr) == (
            here.exit_code, here.stdout, here.stderr), args
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
