"""Hostile input in the YAML files and on the command line: every case is one line naming the file
and line (or the option) with the fix, exit 2, in seconds, and no draft is made."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import unprivileged
from click.testing import CliRunner
from factories import campaign_data, contact_data, write_folder

from outreach.cli import main
from outreach.config import load_book
from outreach.yamlsrc import expansion_limit

DATA = Path(__file__).parent / "data" / "hostile-yaml"
DAY = "2026-05-01"  # Jane's birthday: a valid folder has her greeting to draft tonight
JANE = (
    "contacts:\n"
    "  - id: jane\n"
    "    name: {first: Jane}\n"
    "    email: {work: jane@acme.example}\n"
    "    dates: {birthday: '--05-01'}\n"
)
BOB = "  - id: bob\n    name: {first: Bob}\n    email: {work: bob@acme.example}\n"


def folder(tmp_path: Path, contacts: str | bytes | None = None) -> Path:
    """A valid folder (Jane, a birthday campaign); ``contacts`` replaces contacts.yaml."""
    root = write_folder(
        tmp_path / "book",
        [contact_data("jane", name={"first": "Jane"}, dates={"birthday": "--05-01"})],
        [campaign_data()],
    )
    if isinstance(contacts, bytes):
        (root / "contacts.yaml").write_bytes(contacts)
    elif contacts is not None:
        (root / "contacts.yaml").write_text(contacts, encoding="utf-8")
    return root


def cli(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # 2 GB


def refused_in_time(root: Path, line: str, seconds: float = 10) -> None:
    """Like :func:`refused`, but each command runs as cron runs it, in a process bounded in
    time and memory: a hang or a runaway read fails the test instead of stalling the suite."""
    for command in ("check", "run"):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "outreach", "-C", str(root), command, "--date", DAY],
            capture_output=True, text=True, timeout=seconds, preexec_fn=_bounded, check=False,
        )
        assert (command, done.returncode, done.stderr.splitlines()) == (command, 2, [line])
        assert time.monotonic() - started < seconds
    assert drafts(root) == []


def drafts(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "drafts").glob("*")) if (root / "drafts").exists() else []


def refused(root: Path, line: str) -> None:
    """`check` and `run` each print exactly ``line`` on stderr, exit 2, and nothing is drafted."""
    for command in ("check", "run"):
        code, out, err = cli(root, command, "--date", DAY)
        assert (command, code, err.splitlines()) == (command, 2, [line])
        assert "Traceback" not in out + err
    assert drafts(root) == []


def test_the_valid_folder_drafts_tonight(tmp_path: Path) -> None:
    """The folder every case starts from is valid and drafts Jane's greeting on DAY, so 'no
    draft' below means the input was refused."""
    root = folder(tmp_path, JANE)
    assert cli(root, "check", "--date", DAY)[0] == 0
    assert cli(root, "run", "--date", DAY)[0] == 0
    assert drafts(root) == ["birthday--jane--2026.eml"]


# --------------------------------------------------------------------------- 1. alias bomb


def test_an_alias_bomb_is_refused_in_seconds(tmp_path: Path) -> None:
    """A 'billion laughs' (9 levels of 9 aliases: 387 million strings) is refused where the
    aliases pass the limit (10 values per value written, plus 100,000), in seconds."""
    root = folder(tmp_path, (DATA / "billion-laughs.yaml").read_bytes())
    refused_in_time(
        root,
        "contacts.yaml:15: contacts[1].notes.f[0]: YAML aliases here make the file expand to "
        "more than 100,540 values; write the values out, or share a block with one anchor "
        "(&name) and aliases (*name) that do not multiply each other",
    )
    assert expansion_limit(54) == 100_540  # the file writes 54 values


def test_a_shared_audience_block_still_works(tmp_path: Path) -> None:
    """Anchors and aliases in normal use (one audience shared by two campaigns) load as if the
    block were written twice; a problem inside it is reported at the anchor's line."""
    root = folder(tmp_path, JANE.replace("'--05-01'}", "'--05-01'}\n    tags: [vip]"))
    (root / "campaigns.yaml").write_text(
        "campaigns:\n"
        "  - id: birthday\n"
        "    template: note.md\n"
        "    trigger: {kind: date, field: birthday}\n"
        "    audience: &vip {tags: [vip], tiers: []}\n"
        "  - id: wedding\n"
        "    template: note.md\n"
        "    trigger: {kind: date, field: wedding}\n"
        "    audience: *vip\n",
        encoding="utf-8",
    )
    book = load_book(root)
    assert [c.audience.tags for c in book.campaigns] == [("vip",), ("vip",)]
    assert cli(root, "run", "--date", DAY)[0] == 0
    assert drafts(root) == ["birthday--jane--2026.eml"]
    text = (root / "campaigns.yaml").read_text(encoding="utf-8")
    (root / "campaigns.yaml").write_text(text.replace("tiers: []", "tierz: []"), encoding="utf-8")
    code, _, err = cli(root, "check", "--date", DAY)
    assert code == 2
    assert err.splitlines() == [
        f"campaigns.yaml:5: campaigns[{i}].audience.tierz: unknown key 'tierz'; "
        "did you mean 'tiers'?"
        for i in (0, 1)
    ]


# --------------------------------------------------------------------------- 2. alias loops


def test_an_alias_inside_its_own_block_is_refused(tmp_path: Path) -> None:
    """`&loop [golf, *loop]` would never end: one line at the alias, exit 2."""
    refused(
        folder(tmp_path, (DATA / "recursive-alias.yaml").read_bytes()),
        "contacts.yaml:7: contacts[0].tags[1]: YAML alias '*loop' is inside the block '&loop' "
        "it names, which would never end; remove '*loop' here, or move it out of that block",
    )


def test_a_mapping_that_holds_itself_is_refused(tmp_path: Path) -> None:
    """The same loop through a mapping, in block style."""
    refused(
        folder(tmp_path, JANE + "    profile: &me\n      favorites:\n        me: *me\n"),
        "contacts.yaml:8: contacts[0].profile.favorites.me: YAML alias '*me' is inside the "
        "block '&me' it names, which would never end; remove '*me' here, or move it out of "
        "that block",
    )


def test_an_undefined_or_repeated_anchor(tmp_path: Path) -> None:
    """An alias to no anchor, and an anchor defined twice, are one line each."""
    refused(
        folder(tmp_path, JANE + "    tags: *nope\n"),
        "contacts.yaml:6: YAML syntax error: found undefined alias '*nope'; "
        "define it with '&nope' before its first use",
    )
    refused(
        folder(tmp_path, JANE + "    tags: &t [a]\n    tier: &t A\n"),
        "contacts.yaml:7: YAML anchor '&t' is defined twice (first on line 6); "
        "give each anchor its own name",
    )


# --------------------------------------------------------------------------- 3. deep nesting


def test_990_nested_lists_are_refused_with_the_line(tmp_path: Path) -> None:
    """990 `[` in one value: one line at that value (not a RecursionError, exit 3)."""
    refused(
        folder(tmp_path, (DATA / "deep-flow.yaml").read_bytes()),
        "contacts.yaml:7: contacts[0].tags[0][0][0][0][0]...: YAML lists and mappings are "
        "nested more than 100 levels deep here; flatten the value: outreach reads a few levels "
        "at most",
    )


def test_deeply_nested_block_mappings_are_refused_with_the_line(tmp_path: Path) -> None:
    """150 block mappings inside each other: one line where the 101st level begins."""
    refused(
        folder(tmp_path, (DATA / "deep-block.yaml").read_bytes()),
        "contacts.yaml:105: contacts[0].profile.k0.k1.k2.k3.k4...: YAML lists and mappings are "
        "nested more than 100 levels deep here; flatten the value: outreach reads a few levels "
        "at most",
    )


def test_nesting_beyond_the_parsers_own_limit(tmp_path: Path) -> None:
    """Past libyaml's own limit (1,000 levels) the parser says so, with the line."""
    refused(
        folder(tmp_path, JANE + "    tags: " + "[" * 5000 + "]" * 5000 + "\n"),
        "contacts.yaml:6: YAML syntax error: exceeded maximum nesting depth (while increasing "
        "flow level); check indentation, colons and quotes on this line or the one above",
    )


def test_an_alias_that_makes_a_value_too_deep(tmp_path: Path) -> None:
    """Depth counts through aliases: 60 levels used inside 60 levels is too deep."""
    deep = "[" * 60 + "]" * 60
    uses = "[" * 60 + "*d" + "]" * 60
    refused(
        folder(tmp_path, JANE + f"    tags: &d {deep}\n    profile: {{hobbies: {uses}}}\n"),
        "contacts.yaml:7: contacts[0].profile.hobbies[0][0][0][0]...: YAML lists and mappings "
        "are nested more than 100 levels deep here; flatten the value: outreach reads a few "
        "levels at most",
    )


# --------------------------------------------------------------------------- 4. characters


def test_a_nul_byte_in_a_quoted_value_names_its_line(tmp_path: Path) -> None:
    """A NUL byte in the file: the line and column (PyYAML's error only gave a position)."""
    refused(
        folder(tmp_path, (DATA / "nul-in-quotes.yaml").read_bytes()),
        "contacts.yaml:4: YAML does not allow the control character U+0000 (column 22); "
        "delete it: most editors do not show it",
    )


@pytest.mark.parametrize("char", ["\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1c", "\x7f", "\x9f",
                                  "\ufffe", "\uffff"])
def test_characters_yaml_refuses_name_their_line(tmp_path: Path, char: str) -> None:
    """Every character YAML does not allow in a file is one line with its line and column."""
    code = f"{ord(char):04X}"
    refused(
        folder(tmp_path, JANE + f"    title: CF{char}O\n"),
        f"contacts.yaml:6: YAML does not allow the control character U+{code} (column 14); "
        "delete it: most editors do not show it",
    )


def test_line_numbers_count_lines_as_editors_do(tmp_path: Path) -> None:
    """libyaml also breaks lines at U+2028 (and NEL, U+2029, a lone CR); the line in a message is
    the one an editor shows."""
    contacts = JANE + '    notes: "one\u2028two"\n    tags: golf\n'
    code, _, err = cli(folder(tmp_path, contacts), "check", "--date", DAY)
    assert (code, err.splitlines()) == (
        2,
        ["contacts.yaml:7: contacts[0].tags: expected a list, got str; "
         "write a YAML list: [a, b] or '- a' lines"],
    )


def test_a_key_with_a_control_character(tmp_path: Path) -> None:
    """A key holding an escaped control character is refused, and printed escaped."""
    code, _, err = cli(
        folder(tmp_path, JANE + '    profile: {favorites: {"te\\x1bam": Cubs}}\n'),
        "check", "--date", DAY,
    )
    assert (code, err.splitlines()) == (
        2,
        ["contacts.yaml:6: contacts[0].profile.favorites: the key 'te\\x1bam' holds a control "
         "character or a line break; delete it: most editors do not show it"],
    )


# --------------------------------------------------------------------------- 5. not a file


@pytest.mark.parametrize(
    "name", ["outreach.yaml", "contacts.yaml", "campaigns.yaml", "interactions.yaml"]
)
def test_a_folder_where_a_file_should_be(tmp_path: Path, name: str) -> None:
    """Each file the folder is read from, made a folder: one line, exit 2 (not exit 3)."""
    root = folder(tmp_path, JANE)
    target = root / name
    if target.exists():
        target.unlink()
    target.mkdir()
    refused(root, f"{name}: cannot be read (Is a directory); check that it is a file you may read")


def test_an_articles_library_that_is_a_folder(tmp_path: Path) -> None:
    """articles.yaml (read for content campaigns) made a folder: `check` says so in one line."""
    root = folder(tmp_path, JANE)
    (root / "campaigns.yaml").write_text(
        "campaigns:\n  - id: share\n    template: note.md\n    trigger: {kind: content}\n",
        encoding="utf-8",
    )
    (root / "articles.yaml").mkdir()
    code, _, err = cli(root, "check", "--date", DAY)
    assert (code, err.splitlines()) == (
        2,
        ["articles.yaml: cannot be read (Is a directory); check that it is a file you may read"],
    )


@pytest.mark.parametrize("name", ["contacts.yaml", "interactions.yaml"])
def test_a_broken_link(tmp_path: Path, name: str) -> None:
    """A symbolic link to nothing (also for an optional file) is one line naming where it
    points."""
    root = folder(tmp_path, JANE)
    (root / name).unlink(missing_ok=True)
    (root / name).symlink_to("gone.yaml")
    refused(
        root,
        f"{name}: is a link to 'gone.yaml', which does not exist; "
        "fix the link, or put the file where it points",
    )


def test_a_link_to_itself(tmp_path: Path) -> None:
    """A link loop is one line."""
    root = folder(tmp_path, JANE)
    (root / "contacts.yaml").unlink()
    (root / "contacts.yaml").symlink_to("contacts.yaml")
    refused(
        root,
        "contacts.yaml: cannot be read (Too many levels of symbolic links); "
        "check that it is a file you may read",
    )


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_pipe_or_a_device_is_never_read(tmp_path: Path, kind: str) -> None:
    """A named pipe would block the night forever, /dev/zero would never end: both are refused
    before they are read."""
    root = folder(tmp_path, JANE)
    (root / "contacts.yaml").unlink()
    if kind == "fifo":
        os.mkfifo(root / "contacts.yaml")
    else:
        (root / "contacts.yaml").symlink_to("/dev/zero")
    refused_in_time(
        root,
        "contacts.yaml: is not a regular file (a pipe, a socket or a device); "
        "point outreach.yaml at a YAML file",
    )


def test_an_unreadable_file(tmp_path: Path) -> None:
    """A file we may not read: one line with the reason, exit 2, nothing drafted (run as a user
    whom file modes bind: as root, without the capabilities that read through them)."""
    root = folder(tmp_path, JANE)
    (root / "contacts.yaml").chmod(0)
    try:
        for command in ("check", "run"):
            code, out, err = unprivileged.outreach(root, command, "--date", DAY)
            assert (command, code, err.splitlines()) == (command, 2, [
                "contacts.yaml: cannot be read (Permission denied); check that it is a file you "
                "may read"])
            assert "Traceback" not in out + err
    finally:
        (root / "contacts.yaml").chmod(0o644)
    assert drafts(root) == []


# --------------------------------------------------------------------------- 6. --date


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
@pytest.mark.parametrize("command", [["check"], ["run"], ["plan"], ["preview", "--all"],
                                     ["calendar"], ["log", "jane", "--note", "lunch"]])
def test_a_date_out_of_range(tmp_path: Path, day: str, command: list[str]) -> None:
    """Dates the planner cannot handle are refused on the command line: one line, exit 2."""
    root = folder(tmp_path, JANE)
    code, out, err = cli(root, *command, "--date", day)
    assert (code, out, err) == (
        2,
        "",
        f"--date {day} is out of range; give a date from 1900-01-01 to 2999-12-31\n",
    )
    assert not (root / "interactions.yaml").exists()


def test_a_date_that_is_no_date(tmp_path: Path) -> None:
    """A misspelt --date is one line too (not click's usage screen)."""
    code, out, err = cli(folder(tmp_path, JANE), "run", "--date", "2026-13-01")
    assert (code, out, err) == (2, "", "--date '2026-13-01' is not a date; write YYYY-MM-DD\n")


@pytest.mark.parametrize("day", ["1900-01-01", "2999-12-31"])
def test_the_ends_of_the_range_work(tmp_path: Path, day: str) -> None:
    """The first and last accepted dates plan, check and run (also ten years ahead)."""
    root = folder(tmp_path, JANE)
    assert cli(root, "plan", "--date", day, "--days", "3660", "--json")[0] == 0
    assert cli(root, "check", "--date", day)[0] == 0
    assert cli(root, "run", "--date", day)[0] == 0


# --------------------------------------------------------------------------- 7. one-line fields

ODD = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x00", "\x01", "\x1f"]
BREAKS = {"\u2028", "\u2029", "\x85"}


def _said(char: str, where: str = "a mail header") -> str:
    code = f"U+{ord(char):04X}"
    if char in BREAKS:
        return f"contains a line break ({code}), which is not allowed in {where}; put it on one line"
    return (f"contains the control character {code}, which is not allowed in text; "
            "delete it: most editors do not show it")


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")  # as YAML writes it in double quotes


@pytest.mark.parametrize("char", ODD)
def test_a_name_with_a_line_break_or_control_character(tmp_path: Path, char: str) -> None:
    """U+2028 and its kind (which mail headers break at) and control characters in a name are
    refused at validation, before anything is drafted for anyone: Bob gets nothing either."""
    contacts = JANE.replace("{first: Jane}", f'{{first: "Ja{_escaped(char)}ne"}}') + BOB
    refused(folder(tmp_path, contacts), f"contacts.yaml:3: contacts[0].name.first: {_said(char)}")


NAME = "    name: {first: Jane}\n"


@pytest.mark.parametrize(
    ("yaml_text", "path", "where"),
    [
        ('    name: {first: Jane, last: "Do\\u2028e"}\n', "name.last", "a mail header"),
        ('    name: {first: Jane, nickname: "J\\u2029D"}\n', "name.nickname", "a mail header"),
        ('    name: {first: Jane, greeting: "Dr\\x85Doe"}\n', "name.greeting", "a mail header"),
        ('    company: "Acme\\u2028Corp"\n', "company", "a mail header"),
        ('    title: "CF\\u2028O"\n', "title", "a one-line value"),
        ('    family: {spouse: {name: "Chr\\u2028is"}}\n', "family.spouse.name",
         "a one-line value"),
        ('    family: {children: [{name: "Sa\\x85m"}]}\n', "family.children[0].name",
         "a one-line value"),
        ('    tags: ["go\\u2028lf"]\n', "tags[0]", "a one-line value"),
        ('    tier: "A\\u2029B"\n', "tier", "a one-line value"),
        ('    profile: {teams: ["Cu\\u2028bs"]}\n', "profile.teams[0]", "a one-line value"),
    ],
)
def test_every_one_line_field_refuses_line_breaks(
    tmp_path: Path, yaml_text: str, path: str, where: str
) -> None:
    """Names, company, title, the family's names (templates put them in Cc display names), tags,
    tier and the profile: a line break of any kind is refused with the file and line."""
    if yaml_text.startswith(NAME[:10]):
        contacts, line = JANE.replace(NAME, yaml_text), 3
    else:
        contacts, line = JANE + yaml_text, 6
    code = yaml_text.split("\\")[1]
    char = chr(int(code[1:5] if code[0] == "u" else code[1:3], 16))
    said = _said(char, where)
    refused(folder(tmp_path, contacts), f"contacts.yaml:{line}: contacts[0].{path}: {said}")


def test_notes_keep_their_line_breaks_but_not_control_characters(tmp_path: Path) -> None:
    """A multi-line note is fine; a control character in it is not."""
    root = folder(tmp_path, JANE + "    notes: |\n      Two lines,\n      \tand a tab.\n")
    assert load_book(root).contacts[0].notes == "Two lines,\n\tand a tab."
    refused(
        folder(tmp_path / "2", JANE + '    notes: "Two\\nlines\\x07"\n'),
        "contacts.yaml:6: contacts[0].notes: contains the control character U+0007, which is "
        "not allowed in text; delete it: most editors do not show it",
    )


def test_sender_and_paths_refuse_control_characters(tmp_path: Path) -> None:
    """The sender's company and the paths in outreach.yaml refuse them too (a NUL in a path
    used to crash the run)."""
    root = folder(tmp_path, JANE)
    (root / "outreach.yaml").write_text(
        'sender: {name: Alex, email: alex@rivera.example, company: "Rivera\\u2028Advisory"}\n'
        'contacts: "contacts\\0.yaml"\n',
        encoding="utf-8",
    )
    for command in ("check", "run"):
        code, _, err = cli(root, command, "--date", DAY)
        assert (code, err.splitlines()) == (
            2,
            [
                "outreach.yaml:1: sender.company: contains a line break (U+2028), which is not "
                "allowed in a one-line value; put it on one line",
                "outreach.yaml:2: contacts: contains the control character U+0000, which is "
                "not allowed in text; delete it: most editors do not show it",
            ],
        )


# --------------------------------------------------------------------------- 8. addresses


def test_a_local_part_outside_ascii_is_refused(tmp_path: Path) -> None:
    """Drafts cannot address jösé@example.com without SMTPUTF8: refused with file and line."""
    refused(
        folder(tmp_path, JANE.replace("jane@acme.example", "jösé@example.com")),
        "contacts.yaml:4: contacts[0].email.work: 'jösé@example.com' has characters outside "
        "ASCII before the @, which drafts cannot address; ask the person for an address in "
        "plain ASCII letters before the @",
    )


@pytest.mark.parametrize(
    "written", ["probe@bücher.example", "probe@xn--bcher-kva.example", "probe@BÜCHER.example"]
)
def test_a_domain_outside_ascii_is_kept(tmp_path: Path, written: str) -> None:
    """A domain outside ASCII is valid; every spelling of it is stored the same way: the
    Unicode form, lowercased."""
    root = folder(tmp_path, JANE.replace("jane@acme.example", written))
    assert load_book(root).contacts[0].email.work == "probe@bücher.example"
    assert cli(root, "check", "--date", DAY)[0] == 0


# --------------------------------------------------------------------------- 9. one address twice

TWICE = (
    JANE
    + "  - id: jane-doe\n"
    + "    name: {first: Jane, last: Doe}\n"
    + "    email: {personal: Jane@ACME.example}\n"
    + "    dates: {birthday: '--05-01'}\n"
)
TWICE_LINE = (
    "contacts.yaml:8: contacts[1].email.personal: 'Jane@acme.example' is also the address of "
    "'jane' (contacts.yaml:4); merge the two entries, or give each person their own address"
)


def test_one_address_under_two_ids_is_returned_apart(tmp_path: Path) -> None:
    """`load_book` returns the address two contacts share (any case, work or personal) as
    problems apart from the book, which still loads: `run` goes on."""
    book = load_book(folder(tmp_path, TWICE))
    assert [str(p) for p in book.shared_addresses] == [TWICE_LINE]
    assert [c.id for c in book.contacts] == ["jane", "jane-doe"]


def test_one_person_with_the_same_address_twice_is_no_problem(tmp_path: Path) -> None:
    """Work and personal may be the same address for one person."""
    contacts = JANE.replace("{work: jane@acme.example}", "{work: jane@acme.example, "
                            "personal: JANE@acme.example}")
    assert load_book(folder(tmp_path, contacts)).shared_addresses == ()


def test_a_shared_address_is_listed_with_the_other_problems(tmp_path: Path) -> None:
    """When the folder has other problems, `check` lists the shared address among them."""
    root = folder(tmp_path, TWICE)
    text = (root / "campaigns.yaml").read_text(encoding="utf-8")
    (root / "campaigns.yaml").write_text(text + "  priority: high\n", encoding="utf-8")
    code, _, err = cli(root, "check", "--date", DAY)
    assert (code, err.splitlines()) == (
        2,
        [
            TWICE_LINE,
            "campaigns.yaml:7: campaigns[0].priority: 'high' is not a whole number; "
            "write a number such as 7",
        ],
    )


def test_a_shared_address_does_not_stop_the_run(tmp_path: Path) -> None:
    """`run` still makes the night's drafts when two entries share an address."""
    root = folder(tmp_path, TWICE)
    code, _, _ = cli(root, "run", "--date", DAY)
    assert code == 0
    assert drafts(root)


def test_check_reports_a_shared_address(tmp_path: Path) -> None:
    """`check` reports one address under two ids: one line naming both entries, exit 2."""
    code, _, err = cli(folder(tmp_path, TWICE), "check", "--date", DAY)
    assert (code, err.splitlines()) == (2, [TWICE_LINE])


def test_fixtures_are_what_they_say(tmp_path: Path) -> None:
    """The corpus files hold what their first line says (guard against an edited fixture)."""
    bomb = (DATA / "billion-laughs.yaml").read_text(encoding="utf-8")
    assert bomb.count("*") == 8 * 9
    assert (DATA / "nul-in-quotes.yaml").read_bytes().count(b"\x00") == 1
    assert (DATA / "deep-flow.yaml").read_text(encoding="utf-8").count("[") == 990
