"""Loading and validation: every problem at once, one line each, with file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import SENDER, write_folder

from outreach.cli import main
from outreach.config import load_book
from outreach.errors import InvalidInput

SETTINGS = "sender:\n  name: Alex Rivera\n  email: alex@rivera.example\n"
NOTE = "---\nsubject: Hello {{ contact.first }}\n---\nHi {{ contact.greet }},\n"
GOOD_CAMPAIGNS = "campaigns:\n  - id: birthday\n    template: note.md\n    trigger: {kind: date, field: birthday}\n"
GOOD_CONTACTS = (
    "contacts:\n  - id: jane\n    name: {first: Jane}\n    email: {work: jane@acme.example}\n"
)
BIRTHDAY = "    dates: {birthday: '--05-01'}\n"


def folder(
    tmp_path: Path,
    contacts: str = GOOD_CONTACTS,
    campaigns: str = GOOD_CAMPAIGNS,
    settings: str = SETTINGS,
    templates: dict[str, str] | None = None,
) -> Path:
    (tmp_path / "outreach.yaml").write_text(settings, encoding="utf-8")
    (tmp_path / "contacts.yaml").write_text(contacts, encoding="utf-8")
    (tmp_path / "campaigns.yaml").write_text(campaigns, encoding="utf-8")
    (tmp_path / "templates").mkdir(exist_ok=True)
    for name, text in (templates or {"note.md": NOTE}).items():
        (tmp_path / "templates" / name).write_text(text, encoding="utf-8")
    return tmp_path


def problems(root: Path) -> list[str]:
    with pytest.raises(InvalidInput) as exc:
        load_book(root)
    return exc.value.lines()


def check(root: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "check", "--date", "2026-11-22"])
    return result.exit_code, result.stdout, result.stderr


def test_a_valid_folder_passes_check(tmp_path: Path) -> None:
    """`outreach check` on a valid folder prints one ok line and exits 0; a birthday is rendered
    for this year and next year (the age differs)."""
    code, out, err = check(folder(tmp_path, GOOD_CONTACTS + BIRTHDAY))
    assert (code, err) == (0, "")
    assert out == "ok: 1 contacts, 1 campaigns, 2 sample drafts rendered\n"


def test_check_renders_a_schedule_whose_day_is_months_away(tmp_path: Path) -> None:
    """A campaign scheduled for March 5 only, checked in November: its template is still
    rendered (for next March), so a value Jane lacks ({{ contact.title }}) is found now."""
    campaigns = ("campaigns:\n  - id: march\n    template: note.md\n"
                 "    trigger: {kind: schedule, months: [3], day: 5}\n")
    note = "---\nsubject: Hi\n---\nHi {{ contact.first }}, as {{ contact.title }}...\n"
    code, _, err = check(folder(tmp_path, campaigns=campaigns, templates={"note.md": note}))
    assert code == 2
    assert err.startswith("templates/note.md:4: march/jane/2027-03-05: a value in {{ }} is None")


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """A YAML syntax error is one line with the file and the line, and exit 2."""
    root = folder(
        tmp_path, contacts="contacts:\n  - id: jane\n    name: {first: Jane\n  - id: bob\n"
    )
    code, _out, err = check(root)
    assert code == 2
    assert err.splitlines() == [
        "contacts.yaml:4: YAML syntax error: did not find expected ',' or '}' "
        "(while parsing a flow mapping); check indentation, colons and quotes on this line or the one above"
    ]


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    """A typo in a key is an error with a 'did you mean', never silently ignored."""
    root = folder(tmp_path, campaigns=GOOD_CAMPAIGNS + "    priorty: 3\n")
    assert problems(root) == [
        "campaigns.yaml:5: campaigns[0].priorty: unknown key 'priorty'; did you mean 'priority'?"
    ]


def test_unknown_key_in_settings(tmp_path: Path) -> None:
    """outreach.yaml is checked as strictly as the others; nothing loads past a broken settings file."""
    root = folder(tmp_path, settings=SETTINGS + "limits:\n  nightly_cpa: 5\n")
    assert problems(root) == [
        "outreach.yaml:5: limits.nightly_cpa: unknown key 'nightly_cpa'; did you mean 'nightly_cap'?"
    ]


def test_wrong_types(tmp_path: Path) -> None:
    """Wrong types say what was expected."""
    contacts = GOOD_CONTACTS + "    tags: golf\n    preferences: {email_ok: maybe}\n"
    campaigns = GOOD_CAMPAIGNS + "    priority: high\n"
    assert problems(folder(tmp_path, contacts, campaigns)) == [
        "contacts.yaml:5: contacts[0].tags: expected a list, got str; write a YAML list: [a, b] or '- a' lines",
        "contacts.yaml:6: contacts[0].preferences.email_ok: 'maybe' is not true or false; write true or false",
        "campaigns.yaml:5: campaigns[0].priority: 'high' is not a whole number; write a number such as 7",
    ]


def test_duplicate_contact_ids(tmp_path: Path) -> None:
    """The second use of an id is reported, pointing back at the first."""
    contacts = GOOD_CONTACTS + "  - id: jane\n    name: {first: Janet}\n"
    assert problems(folder(tmp_path, contacts)) == [
        "contacts.yaml:5: contacts[1].id: duplicate contact id 'jane' (first used on line 2); "
        "give each one its own id"
    ]


def test_invalid_email(tmp_path: Path) -> None:
    """An address that cannot be an address is refused."""
    contacts = "contacts:\n  - id: jane\n    name: {first: Jane}\n    email: {work: 'jane@'}\n"
    assert problems(folder(tmp_path, contacts)) == [
        "contacts.yaml:4: contacts[0].email.work: 'jane@' is not an email address; write it as name@domain.tld"
    ]


def test_line_break_in_a_header_value(tmp_path: Path) -> None:
    """CR or LF in a value that becomes a mail header (a name) is refused."""
    contacts = 'contacts:\n  - id: jane\n    name: {first: "Jane\\nBcc: evil@x.example"}\n'
    assert problems(folder(tmp_path, contacts)) == [
        "contacts.yaml:3: contacts[0].name.first: contains a line break, which is not allowed in a "
        "mail header; put it on one line"
    ]


def test_line_break_in_sender_name(tmp_path: Path) -> None:
    """The sender's name becomes the From header too."""
    settings = 'sender:\n  name: "Alex\\r\\nBcc: x@y.example"\n  email: alex@rivera.example\n'
    assert problems(folder(tmp_path, settings=settings)) == [
        "outreach.yaml:2: sender.name: contains a line break, which is not allowed in a mail header; "
        "put it on one line"
    ]


def test_unknown_time_zone(tmp_path: Path) -> None:
    """Time zones are IANA names."""
    contacts = GOOD_CONTACTS + "    timezone: Europe/Chicago\n"
    assert problems(folder(tmp_path, contacts)) == [
        "contacts.yaml:5: contacts[0].timezone: 'Europe/Chicago' is not a known time zone; use an IANA "
        "name such as Europe/Berlin or America/Chicago"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2023-02-30",
            "'2023-02-30' is not a valid date; write a real calendar date as YYYY-MM-DD",
        ),
        ("'--02-30'", "'--02-30' is not a real date; check the month and day"),
        (
            "'April 12'",
            "'April 12' is not a date (use YYYY-MM-DD, or --MM-DD when the year is unknown); "
            "write YYYY-MM-DD, or --MM-DD when the year is unknown",
        ),
    ],
)
def test_impossible_dates(tmp_path: Path, value: str, message: str) -> None:
    """Feb 30 is no date, with or without a year."""
    contacts = GOOD_CONTACTS + f"    dates:\n      birthday: {value}\n"
    assert problems(folder(tmp_path, contacts)) == [
        f"contacts.yaml:6: contacts[0].dates.birthday: {message}"
    ]


def test_feb_29_without_a_year_is_a_real_date(tmp_path: Path) -> None:
    """--02-29 is valid: some people are born on a leap day."""
    contacts = GOOD_CONTACTS + "    dates: {birthday: '--02-29'}\n"
    book = load_book(folder(tmp_path, contacts))
    assert str(book.contacts[0].dates.birthday) == "--02-29"


def test_missing_template(tmp_path: Path) -> None:
    """A campaign naming a template that does not exist is reported at the campaign's line."""
    campaigns = GOOD_CAMPAIGNS.replace("note.md", "birthday.md")
    assert problems(folder(tmp_path, campaigns=campaigns)) == [
        "campaigns.yaml:3: campaigns[0].template: template 'birthday.md' not found in templates; "
        "create the file or fix the name"
    ]


def test_unknown_date_field(tmp_path: Path) -> None:
    """A trigger on a date field that does not exist is reported with the closest name."""
    campaigns = GOOD_CAMPAIGNS.replace("field: birthday", "field: birthdy")
    assert problems(folder(tmp_path, campaigns=campaigns)) == [
        "campaigns.yaml:4: campaigns[0].trigger.field: unknown date field 'birthdy'; did you mean 'birthday'?"
    ]


def test_unknown_and_missing_trigger_kind(tmp_path: Path) -> None:
    """A trigger must say its kind, and the kind must be one we know."""
    campaigns = (
        GOOD_CAMPAIGNS.replace("kind: date, ", "")
        + "  - id: later\n    template: note.md\n    trigger: {kind: someday}\n"
    )
    assert problems(folder(tmp_path, campaigns=campaigns)) == [
        "campaigns.yaml:4: campaigns[0].trigger: a trigger needs a 'kind'; add 'kind:' with one of: "
        "date, holiday, schedule, interval, after_meeting, content, introduction",
        "campaigns.yaml:7: campaigns[1].trigger: unknown trigger kind 'someday'; use one of: "
        "date, holiday, schedule, interval, after_meeting, content, introduction",
    ]


def test_unknown_holiday(tmp_path: Path) -> None:
    """A holiday name the holidays package does not know, without explicit dates, is an error."""
    campaigns = (
        "campaigns:\n  - id: festivus\n    template: note.md\n"
        "    trigger: {kind: holiday, name: Festivus}\n"
    )
    assert problems(folder(tmp_path, campaigns=campaigns)) == [
        "campaigns.yaml:4: campaigns[0].trigger.name: no holiday called 'Festivus' in US; use the name "
        "the 'holidays' package gives (e.g. 'Thanksgiving Day'), or list the dates under 'dates:'"
    ]


def test_holiday_categories_are_checked(tmp_path: Path) -> None:
    """A misspelt category is a problem naming the known ones; a holiday that is not in the named
    categories of any contact's country is a problem saying which categories were searched."""
    campaigns = (
        "campaigns:\n  - id: thanks\n    template: note.md\n"
        "    trigger: {kind: holiday, name: Thanksgiving, categories: [pubilc]}\n"
        "  - id: thanks-ca\n    template: note.md\n"
        "    trigger: {kind: holiday, name: Thanksgiving, country: CA, categories: [public]}\n"
    )
    found = problems(folder(tmp_path, campaigns=campaigns))
    assert found[0].startswith(
        "campaigns.yaml:4: campaigns[0].trigger.categories[0]: 'pubilc' is not a holiday category "
        "(known: albanian, armed_forces, ")
    assert found[0].endswith("; leave 'categories' out to search them all")
    assert found[1:] == [
        "campaigns.yaml:7: campaigns[1].trigger.name: no holiday called 'Thanksgiving' in CA "
        "(public); use the name the 'holidays' package gives (e.g. 'Thanksgiving Day'), or other "
        "categories, or list the dates under 'dates:'"
    ]


@pytest.mark.parametrize(("subject", "line"), [
    ("{{ contact.greet }}, happy birthday",
     "templates/bad.md:2: the value of 'subject' begins with '{{', which YAML does not read as "
     "text; quote the value: subject: \"{{ contact.greet }}, happy birthday\""),
    ('{% if contact.nickname %}Hey{% else %}Hi{% endif %} "{{ contact.greet }}"',
     "templates/bad.md:2: the value of 'subject' begins with '{%', which YAML does not read as "
     "text; quote the value: subject: '{% if contact.nickname %}Hey{% else %}Hi{% endif %} "
     "\"{{ contact.greet }}\"'"),
    ("[News] for you",
     "templates/bad.md:2: the value of 'subject' begins with '[', which YAML does not read as "
     "text; quote the value: subject: \"[News] for you\""),
    ("[News, for you]",
     "templates/bad.md:2: the value of 'subject' is not text; quote the value: subject: \"...\""),
])
def test_an_unquoted_subject_that_yaml_misreads_says_quote_the_value(
        tmp_path: Path, subject: str, line: str) -> None:
    """A front matter value that begins with '{{' or '{%' (or '[') is not text to YAML: check
    names the line and says to quote the value, with the quoted line to write."""
    bad = f"---\nsubject: {subject}\n---\nHello {{{{ contact.first }}}}\n"
    campaigns = GOOD_CAMPAIGNS.replace("note.md", "bad.md")
    assert problems(folder(tmp_path, campaigns=campaigns, templates={"bad.md": bad})) == [line]


def test_template_syntax_errors(tmp_path: Path) -> None:
    """A template syntax error names the template file and its line (front matter included)."""
    bad = "---\nsubject: Hi {{ contact.first }\n---\nHello\n\n{% if contact.tags %}\n"
    campaigns = GOOD_CAMPAIGNS.replace("note.md", "bad.md")
    found = problems(folder(tmp_path, campaigns=campaigns, templates={"bad.md": bad}))
    assert found[0] == (
        "templates/bad.md:2: front matter subject: template syntax error: "
        "unexpected '}'; fix the {{ }} / {% %} tags"
    )
    # Jinja lists the tags it expected in no fixed order.
    assert re.fullmatch(
        r"templates/bad\.md:6: template syntax error: Unexpected end of template\. Jinja was looking "
        r"for the following tags: ('(endif|else|elif)'( or )?){3}\. The innermost block that needs "
        r"to be closed is 'if'\.; fix the \{\{ \}\} / \{% %\} tags on this line",
        found[1],
    )
    assert len(found) == 2


def test_template_variable_a_contact_cannot_provide(tmp_path: Path) -> None:
    """check renders every template for every contact it applies to: a missing value is found."""
    note = "---\nsubject: Hello\n---\nHi {{ contact.nickname }},\n"
    contacts = (
        GOOD_CONTACTS
        + "  - id: bob\n    name: {first: Bob, nickname: Bobby}\n    email: {work: bob@acme.example}\n"
    )
    contacts = contacts.replace(
        "    name: {first: Jane}", "    name: {first: Jane}\n    dates: {birthday: '--05-01'}"
    )
    contacts = contacts.replace(
        "name: {first: Bob, nickname: Bobby}",
        "name: {first: Bob, nickname: Bobby}\n    dates: {birthday: '--06-01'}",
    )
    code, _, err = check(folder(tmp_path, contacts, templates={"note.md": note}))
    assert code == 2
    assert err.splitlines() == [
        "templates/note.md:4: birthday/jane/2026: a value in {{ }} is None (missing) for this contact "
        "(contact jane at contacts.yaml:2); give an explicit fallback, e.g. "
        "{{ contact.nickname or contact.first }} or {{ value | fallback('friend') }}"
    ]


def test_unknown_template_variable(tmp_path: Path) -> None:
    """A misspelt variable is an error, not an empty string."""
    note = "---\nsubject: Hello\n---\nHi {{ contact.frist }},\n"
    contacts = GOOD_CONTACTS + "    dates: {birthday: '--05-01'}\n"
    code, _, err = check(folder(tmp_path, contacts, templates={"note.md": note}))
    assert code == 2
    assert err.splitlines() == [
        "templates/note.md:4: birthday/jane/2026: unknown variable 'frist' ('dict object' has no attribute "
        "'frist') (contact jane at contacts.yaml:2); check the name against the README's template "
        "context, or give a fallback: {{ x | fallback('...') }}"
    ]


@pytest.mark.parametrize("name", ["contacts.yaml", "campaigns.yaml", "outreach.yaml"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    """An empty file is an error, not an empty book."""
    root = folder(tmp_path)
    (root / name).write_text("\n", encoding="utf-8")
    assert problems(root) == [f"{name}:1: the file is empty; see the README for an example"]


def test_non_utf8_file(tmp_path: Path) -> None:
    """A file saved in another encoding is named with the line of the first bad byte."""
    root = folder(tmp_path)
    (root / "contacts.yaml").write_bytes(GOOD_CONTACTS.replace("Jane", "Jos\xe9").encode("latin-1"))
    assert problems(root) == [
        "contacts.yaml:3: is not UTF-8 text (byte 0xe9); save the file as UTF-8 in your editor"
    ]


def test_missing_settings_file(tmp_path: Path) -> None:
    """Running outside an outreach folder says how to make one."""
    assert problems(tmp_path) == [
        f"outreach.yaml: no outreach.yaml in {tmp_path}; run 'outreach init' here, or pass -C DIR to "
        "name your folder"
    ]


def test_all_problems_at_once_and_nothing_drafted(tmp_path: Path) -> None:
    """Every problem is listed in one go, and `run` drafts nothing when any input is invalid."""
    contacts = GOOD_CONTACTS + "    tags: golf\n  - id: bob\n    nmae: {first: Bob}\n"
    campaigns = GOOD_CAMPAIGNS + "    priorty: 3\n"
    root = folder(tmp_path, contacts, campaigns)
    assert len(problems(root)) == 4  # tags, nmae, name missing, priorty
    result = CliRunner().invoke(main, ["-C", str(root), "run", "--date", "2026-11-22"])
    assert result.exit_code == 2
    assert not (root / "drafts").exists()
    assert not (root / ".outreach" / "state.db").exists()


def test_factories_write_valid_folders(tmp_path: Path) -> None:
    """The test factories produce a folder that passes check (so other tests start from valid)."""
    root = write_folder(
        tmp_path,
        [{"id": "jane", "name": {"first": "Jane"}, "email": {"work": "jane@acme.example"}}],
        [],
    )
    assert load_book(root).settings.sender.email == SENDER["email"]


def test_drafts_backend_shorthand(tmp_path: Path) -> None:
    """`drafts: gmail` is short for `drafts: {backend: gmail}`; an unknown backend is named."""
    book = load_book(folder(tmp_path, settings=SETTINGS + "drafts: gmail\n"))
    assert book.settings.drafts.backend == "gmail"
    assert problems(folder(tmp_path, settings=SETTINGS + "drafts: exchange\n")) == [
        "outreach.yaml:4: drafts.backend: 'exchange' is not allowed here; use 'dir', 'gmail' or "
        "'imap'"
    ]


def test_line_break_in_a_nickname(tmp_path: Path) -> None:
    """Nicknames and greetings end up in subjects: a line break there is refused at check time."""
    contacts = 'contacts:\n  - id: jane\n    name: {first: Jane, nickname: "JD\\nBcc: x@y.example"}\n'
    assert problems(folder(tmp_path, contacts)) == [
        "contacts.yaml:3: contacts[0].name.nickname: contains a line break, which is not allowed in "
        "a mail header; put it on one line"
    ]
