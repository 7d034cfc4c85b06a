"""outreach import: Google Contacts CSV, vCard 3/4 and LinkedIn Connections.csv into contacts.yaml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from factories import campaign_data, contact_data, write_folder

from outreach.cli import main
from outreach.config import load_book
from outreach.errors import InvalidInput, UsageError
from outreach.importers import ImportReport, Kind, import_contacts, slug
from outreach.model import Contact

# --------------------------------------------------------------------------- fixtures

EXPORTS = Path(__file__).parent / "data" / "imports"  # files shaped as each exporter writes them


def export(name: str) -> bytes:
    """The bytes of tests/data/imports/NAME."""
    return (EXPORTS / name).read_bytes()


GOOGLE_CSV = (
    "First Name,Middle Name,Last Name,Phonetic First Name,Nickname,File As,Organization Name,"
    "Organization Title,Organization Department,Birthday,Notes,Photo,Labels,"
    "E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,"
    "Phone 1 - Label,Phone 1 - Value,Relation 1 - Label,Relation 1 - Value,"
    "Relation 2 - Label,Relation 2 - Value,Event 1 - Label,Event 1 - Value,"
    "Favourite Wine,Assistant\n"
    # a full record: year-less birthday, labels, two e-mail groups (one with two addresses),
    # a spouse, two children in one cell, a wedding anniversary, a note on two lines
    'Jane,,Doe,,JD,,Acme Corp,CFO,Finance,--04-12,"Met at the 2024 CFO Forum.\nLikes Napa cabernet.",,'
    "* myContacts ::: Golf Buddies ::: VIP,* Work,jane@acme.example,Home,"
    "jane@home.example ::: jd@old.example,Mobile,+1 312 555 0100,Spouse,Chris,"
    "Child,Sam ::: Lily,Anniversary,2009-08-08,Napa cabernet,\n"
    # an impossible birthday: imported without it
    "Bob,,Smith,,,,Initech,,,1985-02-30,,,* myContacts,Work,bob@initech.example,,,,,,,,,,,,\n"
    # no name at all
    ",,,,,,,,,,,,* myContacts,Work,nobody@example.com,,,,,,,,,,,,\n"
    # an address that is not one: imported without it
    "Carol,,Ng,,,,Ng Dental,,,,,,* myContacts ::: Dentists,Other,carol@@example,,,,,,,,,,,,\n"
    # Jane again (another copy Google kept): a duplicate in the file
    "Jane,,Doe,,,,,,,,,,,,,,,,,,,,,,,,\n"
    # an unlabeled address goes to work; the name folds to ASCII for the id
    "José,,Núñez,,,,Núñez & Hijos,Owner,,1972-10-05,,,,,jose@nunez.example,,,,,,,,,,,,\n"
)

GOOGLE_LEGACY_CSV = (
    "Name,Given Name,Additional Name,Family Name,Nickname,Birthday,Notes,Hobby,Group Membership,"
    "E-mail 1 - Type,E-mail 1 - Value,Organization 1 - Type,Organization 1 - Name,"
    "Organization 1 - Title,Event 1 - Type,Event 1 - Value,Relation 1 - Type,Relation 1 - Value\n"
    "Grace Hopper,Grace,,Hopper,Amazing Grace,1906-12-09,Navy.,sailing ::: cobol,"
    "* myContacts ::: * Friends,* Home,grace@navy.example,,Navy,Rear Admiral,Anniversary,"
    "1930-06-15,Husband,Vincent\n"
)

APPLE_VCARD3 = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "PRODID:-//Apple Inc.//macOS 14.5//EN\r\n"
    "N:Hartley;Zoë;;;\r\n"
    "FN:Zoë Hartley\r\n"
    "NICKNAME:Zo\r\n"
    "ORG:Lakeshore Logistics;Operations\r\n"
    "TITLE:VP of Operations\r\n"
    "EMAIL;type=INTERNET;type=WORK;type=pref:zoe.hartley@lakeshorelogistics.example\r\n"
    "item1.EMAIL;type=INTERNET:zoe.h@fastmail.example\r\n"
    "item1.X-ABLabel:_$!<Other>!$_\r\n"
    "TEL;type=CELL;type=VOICE;type=pref:+1 312 555 0101\r\n"
    "BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-12\r\n"
    "item2.X-ABDATE;type=pref:2010-06-19\r\n"
    "item2.X-ABLabel:_$!<Anniversary>!$_\r\n"
    "item3.X-ABRELATEDNAMES;type=pref:Marcus\r\n"
    "item3.X-ABLabel:_$!<Spouse>!$_\r\n"
    "item4.X-ABRELATEDNAMES:Maya\r\n"
    "item4.X-ABLabel:_$!<Child>!$_\r\n"
    "item5.X-ABRELATEDNAMES:Theo\r\n"
    "item5.X-ABLabel:_$!<Child>!$_\r\n"
    "item6.X-ABDATE:2018-05-14\r\n"
    "item6.X-ABLabel:client since\r\n"
    "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Met at the fleet expo =E2=80=94 ask about =\r\n"
    "her woodshop.\r\n"
    "CATEGORIES:Fleet,Referral Source\r\n"
    "X-ABUID:5C2A1D7E-0000-4000-8000-000000000001:ABPerson\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:;;;;\r\n"
    "FN:Lakeshore Logistics\r\n"
    "ORG:Lakeshore Logistics;\r\n"
    "X-ABShowAs:COMPANY\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:O'Brien;Siobhán;;;\r\n"
    "FN:Siobhán O'Brien\r\n"
    "EMAIL;type=INTERNET;type=HOME:siobhan@mail.example\r\n"
    "BDAY:19850412\r\n"
    "NOTE:Runs the Dublin office. A long note that Apple folds at seventy-five charact\r\n"
    " ers\\, continued on the next line.\\nSecond line.\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQN\r\n"
    " SEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgy\r\n"
    "END:VCARD\r\n"
)

VCARD4 = (
    "BEGIN:VCARD\n"
    "VERSION:4.0\n"
    "KIND:individual\n"
    "FN:Priya Raman\n"
    "N:Raman;Priya;;;\n"
    "NICKNAME:Pri,PR\n"
    "EMAIL;TYPE=work;PREF=1:priya@quantix.example\n"
    'EMAIL;TYPE="home":priya.raman@mail.example\n'
    "ORG:Quantix Analytics\n"
    "TITLE:Head of Data\n"
    "BDAY:--0723\n"
    "ANNIVERSARY:20120505\n"
    "RELATED;TYPE=spouse;VALUE=text:Arjun\n"
    "RELATED;TYPE=child;VALUE=text:Anika\n"
    "RELATED;TYPE=child:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6\n"
    "CATEGORIES:diwali,Tech Leaders\n"
    "NOTE:Prefers calls after 4pm\\, IST.\\nAsked about the Q3 report.\n"
    "END:VCARD\n"
    "BEGIN:VCARD\n"
    "VERSION:4.0\n"
    "KIND:org\n"
    "FN:Quantix Analytics\n"
    "ORG:Quantix Analytics\n"
    "END:VCARD\n"
    "BEGIN:VCARD\n"
    "VERSION:4.0\n"
    "FN:Tomás Ruiz\n"
    "N:Ruiz;Tomás;;;\n"
    "EMAIL:tomas@ruiz.example\n"
    "BDAY:1979-02-30\n"
    "END:VCARD\n"
)

LINKEDIN_CSV = (
    "Notes:\r\n"
    '"When exporting your connection data, you may notice that some of the email addresses are '
    "missing. You will only see email addresses for connections who have allowed their "
    "connections to see or download their email address using this setting "
    "https://www.linkedin.com/psettings/privacy/email. You can learn more here "
    'https://www.linkedin.com/help/linkedin/answer/261"\r\n'
    "\r\n"
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
    "François,Müller,https://www.linkedin.com/in/francois-muller,,Alpine Freight AG,"
    "Head of Procurement,01 Sep 2026\r\n"
    "Dana,Whitfield,https://www.linkedin.com/in/danawhitfield,dana@whitfield.example,"
    '"Whitfield & Co, LLP",Partner,15 Aug 2026\r\n'
    ",,https://www.linkedin.com/in/ghost,,,,03 Mar 2025\r\n"
    "Ola,Nordmann,https://www.linkedin.com/in/olanordmann,,Fjord AS,CEO,sometime in May\r\n"
)

COMMENTED_CONTACTS = """\
# contacts.yaml: my people. Keep this comment!
contacts:

  # ---------------------------------------------------------------- customers
  - id: jane-doe                     # Jane, since 2019
    name: {first: Jane, last: Doe}
    email:
      work: jane@acme.example        # her assistant reads this one
    title: Chief Financial Officer   # not "CFO"
    tags: [golf]
    stage: customer
    interactions:
      - {date: 2026-05-02, kind: meeting, summary: Q2 review}

  # ---------------------------------------------------------------- prospects
  - id: bob-smith
    name: {first: Robert, last: Smith}
    email: {work: rob@smith.example}
    dates:
      birthday: '--07-19'            # year unknown
"""


def run(
    tmp_path: Path,
    kind: Kind,
    content: str | bytes,
    contacts: str | None = None,
    **options: Any,
) -> tuple[ImportReport, Path]:
    """Import ``content`` (written to a file) into tmp_path/contacts.yaml (``contacts`` if
    given, else none yet)."""
    suffix = {"google-csv": "csv", "vcard": "vcf", "linkedin": "csv"}[kind]
    source = tmp_path / f"export.{suffix}"
    if isinstance(content, bytes):
        source.write_bytes(content)
    else:
        source.write_bytes(content.encode("utf-8"))
    target = tmp_path / "contacts.yaml"
    if contacts is not None:
        target.write_text(contacts, encoding="utf-8")
    return import_contacts(kind, source, target, **options), target


def people(path: Path) -> dict[str, dict[str, Any]]:
    """contacts.yaml as outreach reads it (PyYAML), by id; every entry must be a valid Contact."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for item in data["contacts"]:
        Contact.model_validate(item)
    return {item["id"]: item for item in data["contacts"]}


# --------------------------------------------------------------------------- Google CSV


def test_google_csv_summary_word_for_word(tmp_path: Path) -> None:
    """The summary counts what happened, names the ignored columns once, and gives one line per
    skipped or partly imported row, rows counted with the header as row 1."""
    report, _ = run(tmp_path, "google-csv", GOOGLE_CSV)
    assert report.summary() == (
        "4 added, 2 skipped (contacts.yaml)\n"
        "ignored columns: Favourite Wine, Assistant\n"
        "row 2: added jane-doe: nickname 'JD' kept; greeted as 'Jane' (set name.greeting to "
        "change it); jd@old.example: not imported (contacts.yaml keeps one work and "
        "one personal address)\n"
        "row 3: added bob-smith: birthday '1985-02-30' is not a date: imported without it\n"
        "row 4: skipped: no name\n"
        "row 5: added carol-ng: personal email 'carol@@example' is not an email address: "
        "imported without it\n"
        "row 6: skipped: duplicate of row 2"
    )
    assert report.written
    assert [(o.source, o.id, o.action) for o in report.outcomes] == [
        ("row 2", "jane-doe", "added"),
        ("row 3", "bob-smith", "added"),
        ("row 4", "", "skipped"),
        ("row 5", "carol-ng", "added"),
        ("row 6", "jane-doe", "skipped"),
        ("row 7", "jose-nunez", "added"),
    ]


def test_google_csv_maps_every_field(tmp_path: Path) -> None:
    """Names, labelled addresses, company, title, year-less birthday, wedding anniversary, spouse,
    children, labels as tags (Google's own groups dropped) and notes land in contacts.yaml."""
    _, path = run(tmp_path, "google-csv", GOOGLE_CSV, tags=["cfo-forum"])
    got = people(path)
    assert got["jane-doe"] == {
        "id": "jane-doe",
        "name": {"first": "Jane", "last": "Doe", "nickname": "JD", "greeting": "Jane"},
        "email": {"work": "jane@acme.example", "personal": "jane@home.example"},
        "company": "Acme Corp",
        "title": "CFO",
        "tags": ["golf-buddies", "vip", "cfo-forum"],
        "dates": {"birthday": "--04-12", "wedding": dt.date(2009, 8, 8)},
        "family": {"spouse": {"name": "Chris"}, "children": [{"name": "Sam"}, {"name": "Lily"}]},
        "notes": "Met at the 2024 CFO Forum.\nLikes Napa cabernet.\n",
    }
    assert got["bob-smith"] == {
        "id": "bob-smith",
        "name": {"first": "Bob", "last": "Smith"},
        "email": {"work": "bob@initech.example"},
        "company": "Initech",
        "tags": ["cfo-forum"],
    }
    assert got["carol-ng"]["tags"] == ["dentists", "cfo-forum"]
    assert "email" not in got["carol-ng"]
    assert got["jose-nunez"]["email"] == {"work": "jose@nunez.example"}
    assert got["jose-nunez"]["name"] == {"first": "José", "last": "Núñez"}
    assert got["jose-nunez"]["dates"] == {"birthday": dt.date(1972, 10, 5)}


def test_google_legacy_headers(tmp_path: Path) -> None:
    """The older export (Given Name, Family Name, Group Membership, 'E-mail 1 - Type',
    'Organization 1 - Name', Hobby) is read as well."""
    report, path = run(tmp_path, "google-csv", GOOGLE_LEGACY_CSV)
    assert report.summary() == (
        "1 added (contacts.yaml)\n"
        "row 2: added grace-hopper: nickname 'Amazing Grace' kept; greeted as 'Grace' (set "
        "name.greeting to change it)"
    )
    assert people(path)["grace-hopper"] == {
        "id": "grace-hopper",
        "name": {
            "first": "Grace",
            "last": "Hopper",
            "nickname": "Amazing Grace",
            "greeting": "Grace",
        },
        "email": {"personal": "grace@navy.example"},
        "company": "Navy",
        "title": "Rear Admiral",
        "tags": ["friends"],
        "dates": {"birthday": dt.date(1906, 12, 9), "wedding": dt.date(1930, 6, 15)},
        "family": {"spouse": {"name": "Vincent"}},
        "profile": {"hobbies": ["sailing", "cobol"]},
        "notes": "Navy.",
    }


def test_utf8_bom_is_not_mentioned(tmp_path: Path) -> None:
    """A UTF-8 file with a byte order mark (as Excel saves it) is read as UTF-8, header intact."""
    report, path = run(tmp_path, "google-csv", b"\xef\xbb\xbf" + GOOGLE_LEGACY_CSV.encode())
    assert report.summary() == (
        "1 added (contacts.yaml)\n"
        "row 2: added grace-hopper: nickname 'Amazing Grace' kept; greeted as 'Grace' (set "
        "name.greeting to change it)"
    )
    assert "grace-hopper" in people(path)


def test_not_a_google_csv(tmp_path: Path) -> None:
    """A file that is not a Google CSV (here LinkedIn's) is refused with a hint, and nothing is
    written."""
    with pytest.raises(UsageError) as err:
        run(tmp_path, "google-csv", LINKEDIN_CSV)
    assert err.value.message == (
        "export.csv does not look like a Google Contacts CSV (no 'First Name' column)"
    )
    assert not (tmp_path / "contacts.yaml").exists()


def test_missing_file(tmp_path: Path) -> None:
    """A file that does not exist is a usage error naming it."""
    with pytest.raises(UsageError, match=r"cannot read .*nope\.csv: No such file or directory"):
        import_contacts("google-csv", tmp_path / "nope.csv", tmp_path / "contacts.yaml")


# --------------------------------------------------------------------------- vCard


def test_apple_vcard3(tmp_path: Path) -> None:
    """Apple's vCard 3: X-ABDATE anniversary and X-ABRELATEDNAMES by their X-ABLabel, the 1604
    year-less birthday, an 'Other' address as personal, a quoted-printable note with a soft line
    break, a folded note, a photo ignored; a company card is skipped."""
    report, path = run(tmp_path, "vcard", APPLE_VCARD3)
    assert report.summary() == (
        "2 added, 1 skipped (contacts.yaml)\n"
        "card 1: added zoe-hartley: nickname 'Zo' kept; greeted as 'Zoë' (set name.greeting to "
        "change it)\n"
        "card 2: skipped: no name (a company card: Lakeshore Logistics)"
    )
    got = people(path)
    assert got["zoe-hartley"] == {
        "id": "zoe-hartley",
        "name": {"first": "Zoë", "last": "Hartley", "nickname": "Zo", "greeting": "Zoë"},
        "email": {
            "work": "zoe.hartley@lakeshorelogistics.example",
            "personal": "zoe.h@fastmail.example",
        },
        "company": "Lakeshore Logistics",
        "title": "VP of Operations",
        "tags": ["fleet", "referral-source"],
        "dates": {"birthday": "--04-12", "wedding": dt.date(2010, 6, 19)},
        "family": {"spouse": {"name": "Marcus"}, "children": [{"name": "Maya"}, {"name": "Theo"}]},
        "notes": "Met at the fleet expo — ask about her woodshop.",
    }
    assert got["siobhan-o-brien"] == {
        "id": "siobhan-o-brien",
        "name": {"first": "Siobhán", "last": "O'Brien"},
        "email": {"personal": "siobhan@mail.example"},
        "dates": {"birthday": dt.date(1985, 4, 12)},
        "notes": "Runs the Dublin office. A long note that Apple folds at seventy-five "
        "characters, continued on the next line.\nSecond line.\n",
    }


def test_vcard4(tmp_path: Path) -> None:
    """vCard 4: TYPE=work/home, RELATED;TYPE=spouse/child as text (a card reference is left
    alone), ANNIVERSARY in basic format, BDAY --MMDD, CATEGORIES, escaped NOTE; KIND:org is not a
    person; an impossible BDAY is left out and said."""
    report, path = run(tmp_path, "vcard", VCARD4)
    assert report.summary() == (
        "2 added, 1 skipped (contacts.yaml)\n"
        "card 1: added priya-raman: nickname 'Pri' kept; greeted as 'Priya' (set name.greeting "
        "to change it)\n"
        "card 2: skipped: not a person (KIND:org)\n"
        "card 3: added tomas-ruiz: birthday '1979-02-30' is not a date: imported without it"
    )
    got = people(path)
    assert got["priya-raman"] == {
        "id": "priya-raman",
        "name": {"first": "Priya", "last": "Raman", "nickname": "Pri", "greeting": "Priya"},
        "email": {"work": "priya@quantix.example", "personal": "priya.raman@mail.example"},
        "company": "Quantix Analytics",
        "title": "Head of Data",
        "tags": ["diwali", "tech-leaders"],
        "dates": {"birthday": "--07-23", "wedding": dt.date(2012, 5, 5)},
        "family": {"spouse": {"name": "Arjun"}, "children": [{"name": "Anika"}]},
        "notes": "Prefers calls after 4pm, IST.\nAsked about the Q3 report.\n",
    }
    assert got["tomas-ruiz"] == {
        "id": "tomas-ruiz",
        "name": {"first": "Tomás", "last": "Ruiz"},
        "email": {"work": "tomas@ruiz.example"},
    }


@pytest.mark.parametrize(
    ("line", "birthday"),
    [
        ("BDAY:1985-04-12", dt.date(1985, 4, 12)),
        ("BDAY:19850412", dt.date(1985, 4, 12)),
        ("BDAY;VALUE=date:1985-04-12T00:00:00Z", dt.date(1985, 4, 12)),
        ("BDAY:--0412", "--04-12"),
        ("BDAY:--04-12", "--04-12"),
        ("BDAY:1604-04-12", "--04-12"),
        ("BDAY;X-APPLE-OMIT-YEAR=1604:1604-02-29", "--02-29"),
    ],
)
def test_vcard_birthday_forms(tmp_path: Path, line: str, birthday: object) -> None:
    """Every birthday spelling vCards use becomes YYYY-MM-DD, or --MM-DD when the year is
    unknown (Apple's 1604 included)."""
    card = f"BEGIN:VCARD\nVERSION:3.0\nN:Doe;Jane;;;\nFN:Jane Doe\n{line}\nEND:VCARD\n"
    _, path = run(tmp_path, "vcard", card)
    assert people(path)["jane-doe"]["dates"] == {"birthday": birthday}


def test_vcard_quoted_printable_in_latin1(tmp_path: Path) -> None:
    """A vCard 2.1-style quoted-printable value is decoded in its CHARSET."""
    card = (
        "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen\n"
        "EMAIL;WORK;INTERNET:juergen@mueller.example\nEND:VCARD\n"
    )
    _, path = run(tmp_path, "vcard", card)
    assert people(path)["jurgen-muller"]["name"] == {"first": "Jürgen", "last": "Müller"}
    assert people(path)["jurgen-muller"]["email"] == {"work": "juergen@mueller.example"}


def test_not_a_vcard(tmp_path: Path) -> None:
    """A file without BEGIN:VCARD is refused."""
    with pytest.raises(UsageError, match=r"export\.vcf holds no vCard"):
        run(tmp_path, "vcard", GOOGLE_CSV)


# --------------------------------------------------------------------------- LinkedIn


def test_linkedin_preamble_and_windows_1252(tmp_path: Path) -> None:
    """LinkedIn's Connections.csv: the 'Notes:' preamble is skipped (the header is row 1), a
    Windows-1252 file is read as such and said so; each connection is a prospect tagged linkedin
    with a note of when you connected; a date LinkedIn did not write is reported."""
    report, path = run(tmp_path, "linkedin", LINKEDIN_CSV.encode("cp1252"), tags=["emea"])
    assert report.summary() == (
        "3 added, 1 skipped (contacts.yaml)\n"
        "read as Windows-1252 (the file is not UTF-8)\n"
        "row 4: skipped: no name\n"
        "row 5: added ola-nordmann: connected on 'sometime in May' is not a date: imported "
        "without it"
    )
    got = people(path)
    assert got["francois-muller"] == {
        "id": "francois-muller",
        "name": {"first": "François", "last": "Müller"},
        "company": "Alpine Freight AG",
        "title": "Head of Procurement",
        "tags": ["linkedin", "emea"],
        "stage": "prospect",
        "notes": "Connected on LinkedIn 2026-09-01 (https://www.linkedin.com/in/francois-muller)",
    }
    assert got["dana-whitfield"]["email"] == {"work": "dana@whitfield.example"}
    assert got["dana-whitfield"]["company"] == "Whitfield & Co, LLP"
    assert got["ola-nordmann"]["notes"] == "On LinkedIn (https://www.linkedin.com/in/olanordmann)"


def test_linkedin_without_header(tmp_path: Path) -> None:
    """A CSV without LinkedIn's header line is refused with where to get the right file."""
    with pytest.raises(UsageError) as err:
        run(tmp_path, "linkedin", GOOGLE_LEGACY_CSV)
    assert err.value.hint == "use Connections.csv from LinkedIn's 'Get a copy of your data'"


# --------------------------------------------------------------------------- contacts.yaml


def test_ids_unique_against_existing_and_within_file(tmp_path: Path) -> None:
    """Ids are slugs of the name made unique with -2, -3 against contacts.yaml and earlier rows:
    a different person with a taken id, and two names that fold to the same slug."""
    csv_text = (
        "First Name,Last Name,E-mail 1 - Label,E-mail 1 - Value\n"
        "Bob,Smith,Work,bob@initech.example\n"  # bob-smith is Robert Smith, another person
        "José,Núñez,Work,jose@one.example\n"
        "Jose,Nunez,Work,jose@two.example\n"
        "JOSÉ,NÚÑEZ,Work,jose@three.example\n"  # the first José again: same full name
    )
    report, path = run(tmp_path, "google-csv", csv_text, COMMENTED_CONTACTS)
    assert [(o.id, o.action, o.why) for o in report.outcomes] == [
        ("bob-smith-2", "added", ""),
        ("jose-nunez", "added", ""),
        ("jose-nunez-2", "added", ""),
        ("jose-nunez", "skipped", "duplicate of row 3"),
    ]
    ids = list(people(path))
    assert ids == ["jane-doe", "bob-smith", "bob-smith-2", "jose-nunez", "jose-nunez-2"]


def test_comments_and_text_survive(tmp_path: Path) -> None:
    """Adding contacts keeps the user's file as it was, comments, quotes and blank lines
    included; the new contacts follow at the end, in the same style."""
    _, path = run(tmp_path, "vcard", VCARD4, COMMENTED_CONTACTS)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(COMMENTED_CONTACTS)
    assert text[len(COMMENTED_CONTACTS) :] == (
        "\n"
        "  - id: priya-raman\n"
        "    name: {first: Priya, last: Raman, nickname: Pri, greeting: Priya}\n"
        "    email:\n"
        "      work: priya@quantix.example\n"
        "      personal: priya.raman@mail.example\n"
        "    company: Quantix Analytics\n"
        "    title: Head of Data\n"
        "    tags: [diwali, tech-leaders]\n"
        "    dates:\n"
        "      birthday: '--07-23'\n"
        "      wedding: 2012-05-05\n"
        "    family:\n"
        "      spouse: {name: Arjun}\n"
        "      children:\n"
        "        - {name: Anika}\n"
        "    notes: |\n"
        "      Prefers calls after 4pm, IST.\n"
        "      Asked about the Q3 report.\n"
        "\n"
        "  - id: tomas-ruiz\n"
        "    name: {first: Tomás, last: Ruiz}\n"
        "    email:\n"
        "      work: tomas@ruiz.example\n"
    )


def test_existing_contacts_untouched_without_update(tmp_path: Path) -> None:
    """Someone already in contacts.yaml (same address, any case; else same full name) is skipped
    and the file is not written at all."""
    csv_text = (
        "First Name,Last Name,Organization Title,E-mail 1 - Label,E-mail 1 - Value\n"
        "Jane,Doe,CFO,Work,JANE@ACME.EXAMPLE\n"
        "robert,SMITH,Owner,Work,robert@other.example\n"
    )
    report, path = run(tmp_path, "google-csv", csv_text, COMMENTED_CONTACTS)
    assert report.summary() == (
        "0 added, 2 skipped (contacts.yaml not changed)\n"
        "row 2: skipped: already in contacts.yaml (id jane-doe; use --update)\n"
        "row 3: skipped: already in contacts.yaml (id bob-smith; use --update)"
    )
    assert not report.written
    assert path.read_text(encoding="utf-8") == COMMENTED_CONTACTS


def test_update_fills_only_empty_fields(tmp_path: Path) -> None:
    """With update, an existing contact gets only what it lacks (here a personal address, a
    company, a birthday, a spouse); what the user wrote (title, tags, the year-less birthday) and
    every comment stay. Importing again changes nothing."""
    csv_text = (
        "First Name,Last Name,Organization Name,Organization Title,Birthday,Labels,"
        "E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,"
        "Relation 1 - Label,Relation 1 - Value\n"
        "Jane,Doe,Acme Corp,CFO,1980-05-17,Tennis,Work,jane@acme.example,Home,jane@home.example,"
        "Spouse,Chris\n"
        "Robert,Smith,Smith Bakery,,1961-07-19,,Work,ROB@smith.example,,,,\n"
    )
    report, path = run(tmp_path, "google-csv", csv_text, COMMENTED_CONTACTS, update=True)
    assert report.summary() == (
        "0 added, 2 updated (contacts.yaml)\n"
        "row 2: updated jane-doe: filled email.personal, company, dates, family\n"
        "row 3: updated bob-smith: filled company"
    )
    assert path.read_text(encoding="utf-8") == (
        "# contacts.yaml: my people. Keep this comment!\n"
        "contacts:\n"
        "\n"
        "  # ---------------------------------------------------------------- customers\n"
        "  - id: jane-doe                     # Jane, since 2019\n"
        "    name: {first: Jane, last: Doe}\n"
        "    email:\n"
        "      work: jane@acme.example        # her assistant reads this one\n"
        "      personal: jane@home.example\n"
        "    company: Acme Corp\n"
        '    title: Chief Financial Officer   # not "CFO"\n'
        "    tags: [golf]\n"
        "    stage: customer\n"
        "    dates:\n"
        "      birthday: 1980-05-17\n"
        "    family:\n"
        "      spouse: {name: Chris}\n"
        "    interactions:\n"
        "      - {date: 2026-05-02, kind: meeting, summary: Q2 review}\n"
        "\n"
        "  # ---------------------------------------------------------------- prospects\n"
        "  - id: bob-smith\n"
        "    name: {first: Robert, last: Smith}\n"
        "    email: {work: rob@smith.example}\n"
        "    company: Smith Bakery\n"
        "    dates:\n"
        "      birthday: '--07-19'            # year unknown\n"
    )
    again = import_contacts("google-csv", tmp_path / "export.csv", path, update=True)
    assert again.summary() == "0 added, 2 unchanged (contacts.yaml not changed)"
    assert not again.written


def test_update_also_adds_new_people(tmp_path: Path) -> None:
    """With update, people not in contacts.yaml are added as usual."""
    report, path = run(tmp_path, "vcard", VCARD4, COMMENTED_CONTACTS, update=True)
    assert [o.action for o in report.outcomes] == ["added", "skipped", "added"]
    assert list(people(path)) == ["jane-doe", "bob-smith", "priya-raman", "tomas-ruiz"]


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    """A dry run reports exactly what an import would do and leaves contacts.yaml as it was (or
    absent)."""
    report, path = run(tmp_path, "vcard", APPLE_VCARD3, dry_run=True)
    assert not path.exists()
    assert not report.written
    assert report.summary().splitlines()[0] == (
        "2 added, 1 skipped (dry run: contacts.yaml not written)"
    )
    path.write_text(COMMENTED_CONTACTS, encoding="utf-8")
    report = import_contacts("vcard", tmp_path / "export.vcf", path, dry_run=True)
    assert path.read_text(encoding="utf-8") == COMMENTED_CONTACTS
    assert [o.id for o in report.outcomes] == ["zoe-hartley", "", "siobhan-o-brien"]


def test_new_contacts_file_has_a_comment_header(tmp_path: Path) -> None:
    """A contacts.yaml that does not exist yet is created, starting with a comment that says what
    it is."""
    _, path = run(tmp_path, "google-csv", GOOGLE_LEGACY_CSV)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(
        "# contacts.yaml: the people you keep in touch with, one entry per person under "
        '"contacts:".\n'
    )
    assert "\ncontacts:\n\n  - id: grace-hopper\n" in text


def test_values_yaml_would_misread_are_quoted(tmp_path: Path) -> None:
    """Text that YAML 1.1 would read as something else (yes, null, a number, a date) is quoted,
    so outreach reads back exactly what the export said."""
    csv_text = (
        "First Name,Last Name,Nickname,Organization Name,Organization Title,Notes\n"
        "Yes,No,On,null,2024,2026-01-01\n"
    )
    _, path = run(tmp_path, "google-csv", csv_text)
    assert people(path)["yes-no"] == {
        "id": "yes-no",
        "name": {"first": "Yes", "last": "No", "nickname": "On", "greeting": "Yes"},
        "company": "null",
        "title": "2024",
        "notes": "2026-01-01",
    }


def test_crlf_and_bom_of_contacts_yaml_are_kept(tmp_path: Path) -> None:
    """A contacts.yaml saved with Windows line breaks and a byte order mark keeps both."""
    target = tmp_path / "contacts.yaml"
    original = b"\xef\xbb\xbf" + COMMENTED_CONTACTS.replace("\n", "\r\n").encode()
    target.write_bytes(original)
    run(tmp_path, "google-csv", GOOGLE_LEGACY_CSV)
    data = target.read_bytes()
    assert data.startswith(original)
    assert b"\r\n  - id: grace-hopper\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_result_loads_and_checks(tmp_path: Path) -> None:
    """After importing all four kinds of file into a working folder, load_book reads every
    contact and `outreach check` passes."""
    root = write_folder(
        tmp_path / "book",
        [contact_data("jane-doe", email={"work": "jane@acme.example"})],
        [campaign_data()],
    )
    target = root / "contacts.yaml"
    files = {
        "google-csv": (tmp_path / "google.csv", GOOGLE_CSV.encode()),
        "vcard": (tmp_path / "apple.vcf", APPLE_VCARD3.encode()),
        "linkedin": (tmp_path / "Connections.csv", LINKEDIN_CSV.encode("cp1252")),
    }
    for kind, (path, data) in files.items():
        path.write_bytes(data)
        import_contacts(kind, path, target, tags=["imported"])  # type: ignore[arg-type]
    (tmp_path / "v4.vcf").write_text(VCARD4, encoding="utf-8")
    report = import_contacts("vcard", tmp_path / "v4.vcf", target, update=True)
    assert report.written
    book = load_book(root)
    assert [c.id for c in book.contacts] == [
        "jane-doe",
        "bob-smith",
        "carol-ng",
        "jose-nunez",
        "zoe-hartley",
        "siobhan-o-brien",
        "francois-muller",
        "dana-whitfield",
        "ola-nordmann",
        "priya-raman",
        "tomas-ruiz",
    ]
    jane = book.contact("jane-doe")
    assert jane.company is None  # the existing Jane was matched by address, not overwritten
    assert str(book.contact("zoe-hartley").dates.birthday) == "--04-12"
    result = CliRunner().invoke(main, ["-C", str(root), "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 11 contacts")


def test_fill_at_the_end_of_a_contact_stays_above_the_next_section(tmp_path: Path) -> None:
    """A field added after a contact's last key goes right below it, above the blank line and
    the section comment that open the next contact."""
    contacts = (
        "contacts:\n"
        "  - id: ann-lee\n"
        "    name: {first: Ann, last: Lee}\n"
        "    email:\n"
        "      work: ann@lee.example  # main\n"
        "\n"
        "  # ---- partners\n"
        "  - id: max-ray\n"
        "    name: {first: Max, last: Ray}\n"
    )
    csv_text = "First Name,Last Name,Notes,E-mail 1 - Label,E-mail 1 - Value\nAnn,Lee,Met at CES.,Work,ann@lee.example\n"
    report, path = run(tmp_path, "google-csv", csv_text, contacts, update=True)
    assert report.summary() == (
        "0 added, 1 updated (contacts.yaml)\nrow 2: updated ann-lee: filled notes"
    )
    assert path.read_text(encoding="utf-8") == contacts.replace(
        "# main\n", "# main\n    notes: Met at CES.\n"
    )


def test_update_through_a_shared_address_is_pointed_out(tmp_path: Path) -> None:
    """When an update matched someone by an address they share (a household mailbox) but the
    names differ, the summary says whom it matched."""
    contacts = (
        "contacts:\n  - id: chris-doe\n    name: {first: Chris, last: Doe}\n"
        "    email: {personal: home@doe.example}\n"
    )
    csv_text = (
        "First Name,Last Name,E-mail 1 - Label,E-mail 1 - Value\nJane,Doe,Home,home@doe.example\n"
    )
    report, _ = run(tmp_path, "google-csv", csv_text, contacts, update=True)
    assert report.summary() == (
        "0 added, 1 unchanged (contacts.yaml not changed)\n"
        "row 2: unchanged chris-doe: matched by home@doe.example (named Chris Doe in "
        "contacts.yaml)"
    )


def test_vcard_with_only_a_display_name(tmp_path: Path) -> None:
    """A card without N takes first and last name from FN."""
    card = "BEGIN:VCARD\nVERSION:3.0\nFN:Ada King Lovelace\nEMAIL:ada@engine.example\nEND:VCARD\n"
    _, path = run(tmp_path, "vcard", card)
    assert people(path)["ada-king-lovelace"]["name"] == {"first": "Ada King", "last": "Lovelace"}


def test_mostly_utf8_file_with_a_stray_byte(tmp_path: Path) -> None:
    """A UTF-8 file with one byte that is not UTF-8 stays UTF-8 (accents intact) and the summary
    says what was replaced."""
    data = ("First Name,Last Name,Notes\nZoë,Hartley,café\n").encode() + b"Ana,Lima,caf\xe9\n"
    report, path = run(tmp_path, "google-csv", data)
    assert report.summary() == (
        "2 added (contacts.yaml)\n1 byte(s) that are not UTF-8 replaced by \ufffd"
    )
    assert people(path)["zoe-hartley"]["name"]["first"] == "Zoë"


def test_broken_contacts_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    """A contacts.yaml that is not valid YAML is reported as in `outreach check` (file:line) and
    left alone."""
    broken = "contacts:\n  - id: jane\n    name: {first: Jane\n"
    with pytest.raises(InvalidInput) as err:
        run(tmp_path, "vcard", VCARD4, broken)
    assert err.value.lines()[0].startswith("contacts.yaml:4: YAML syntax error")
    assert (tmp_path / "contacts.yaml").read_text(encoding="utf-8") == broken


# --------------------------------------------------------------------------- real exports


@pytest.mark.parametrize(
    ("name", "starts", "newline"),
    [
        ("google-legacy-whole-name.csv", b"\xff\xfeN\x00", "\r\n"),  # UTF-16 LE, as Gmail wrote it
        ("google-non-latin.csv", b"\xef\xbb\xbfFirst Name,", "\n"),
        ("google-nicknames.csv", b"\xef\xbb\xbfFirst Name,", "\n"),
        ("android-2.1.vcf", b"BEGIN:VCARD\r\nVERSION:2.1\r\n", "\r\n"),
        ("whole-name-in-family-3.0.vcf", b"BEGIN:VCARD\r\nVERSION:3.0\r\n", "\r\n"),
        ("outlook-2003.vcf", b"BEGIN:VCARD\r\nVERSION:2.1\r\n", "\r\n"),
        ("outlook-2010.vcf", b"BEGIN:VCARD\r\nVERSION:2.1\r\n", "\r\n"),
        ("evolution-3.0.vcf", b"BEGIN:VCARD\r\nVERSION:3.0\r\n", "\r\n"),
        ("google-3.0.vcf", b"BEGIN:VCARD\r\nVERSION:3.0\r\n", "\r\n"),
        (
            "linkedin-2018.csv",
            b"First Name,Last Name,Email Address,Company,Position,Connected On\r\n",
            "\r\n",
        ),
        (
            "linkedin-2017-tags.csv",
            b"First Name,Last Name,Email Address,Company,Position,Connected On,Tags\r\n",
            "\r\n",
        ),
    ],
)
def test_export_fixtures_are_as_exported(name: str, starts: bytes, newline: str) -> None:
    """The fixture files keep the encoding and line breaks of the program that wrote them (a
    checkout that converted line breaks would test something else)."""
    data = export(name)
    assert data.startswith(starts)
    text = data.decode("utf-16" if data.startswith(b"\xff\xfe") else "utf-8-sig")
    if newline == "\r\n":
        assert "\n" not in text.replace("\r\n", "")
    else:
        assert "\r" not in text


def test_google_legacy_whole_name_in_one_field(tmp_path: Path) -> None:
    """Gmail's old Google CSV often has the whole name in "Family Name" (and in "Name") and no
    "Given Name": the first name is taken from "Name", the family name what follows it; a
    one-word name is the first name only, never also the last. A row with a family name and no
    "Name" still has no first name."""
    report, path = run(tmp_path, "google-csv", export("google-legacy-whole-name.csv"))
    assert report.summary() == "5 added, 1 skipped (contacts.yaml)\nrow 7: skipped: no first name"
    assert {i: c["name"] for i, c in people(path).items()} == {
        "priya-raman": {"first": "Priya", "last": "Raman"},
        "grace-hopper": {"first": "Grace", "last": "Hopper"},
        "ana-maria-lopez": {"first": "Ana María", "last": "López"},
        "cher": {"first": "Cher"},
        "li-wei": {"first": "Li", "last": "Wei"},
    }


def test_android_vcard21_names(tmp_path: Path) -> None:
    """Android's 2.1 export writes a name it has only as a display name into N's family part
    (``N:Rohan Das;;;;``) or its given part (``N:;Arjun Mehta;;;``), or fills only the family
    part: first and last name come from FN, and a one-word FN is the first name. A display
    name in Devanagari (quoted-printable) gets a transliterated id."""
    report, path = run(tmp_path, "vcard", export("android-2.1.vcf"))
    assert report.summary() == "6 added (contacts.yaml)"
    assert {i: c["name"] for i, c in people(path).items()} == {
        "kavya-iyer": {"first": "Kavya", "last": "Iyer"},
        "arjun-mehta": {"first": "Arjun", "last": "Mehta"},
        "rohan-das": {"first": "Rohan", "last": "Das"},
        "lakshmi-nair": {"first": "Lakshmi", "last": "Nair"},
        "meera": {"first": "Meera"},
        "sures-kumar": {"first": "सुरेश", "last": "कुमार"},
    }


def test_vcard_whole_name_family_first_in_n(tmp_path: Path) -> None:
    """``N:Raman Priya;;;;`` with ``FN:Priya Raman``: the display name says which is the first
    name."""
    report, path = run(tmp_path, "vcard", export("whole-name-in-family-3.0.vcf"))
    assert report.summary() == "1 added (contacts.yaml)"
    assert people(path)["priya-raman"]["name"] == {"first": "Priya", "last": "Raman"}


@pytest.mark.parametrize(
    ("n", "fn", "name"),
    [
        ("N:Raman;Priya Raman;;;", "FN:Priya Raman", {"first": "Priya", "last": "Raman"}),
        ("N:Raman;;;;", "FN:Raman", {"first": "Raman"}),
        ("N:Raman;;;;", "FN:Priya", {"first": "Priya", "last": "Raman"}),
        ("N:López;;;;", "FN:Ana María LÓPEZ", {"first": "Ana María", "last": "López"}),
        ("N:;Priya;;;", "FN:Priya Raman", {"first": "Priya"}),  # a given name is kept as it is
    ],
)
def test_vcard_names_are_never_doubled_or_empty(
    tmp_path: Path, n: str, fn: str, name: dict[str, str]
) -> None:
    """However N and FN overlap, the first name is never empty and the family name never
    appears twice ("Priya Raman Raman")."""
    card = f"BEGIN:VCARD\r\nVERSION:3.0\r\n{n}\r\n{fn}\r\nEND:VCARD\r\n"
    _, path = run(tmp_path, "vcard", card)
    assert [c["name"] for c in people(path).values()] == [name]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "outlook-2003.vcf",
            {"birthday": dt.date(1975, 2, 14), "wedding": dt.date(2009, 8, 8)},
        ),
        (
            "outlook-2010.vcf",
            {"birthday": dt.date(1980, 7, 23), "wedding": dt.date(2009, 8, 8)},
        ),
        (
            "evolution-3.0.vcf",
            {"birthday": dt.date(1978, 11, 2), "wedding": dt.date(2006, 6, 17)},
        ),
    ],
)
def test_outlook_and_evolution_anniversaries(
    tmp_path: Path, name: str, expected: dict[str, dt.date]
) -> None:
    """Outlook's ``X-MS-ANNIVERSARY`` (2003: ``20090808``; 2007/2010: ``;VALUE=DATE:2009-08-08``)
    and Evolution's ``X-EVOLUTION-ANNIVERSARY`` are the wedding anniversary, next to the spouse
    from ``X-MS-SPOUSE`` / ``X-EVOLUTION-SPOUSE``."""
    report, path = run(tmp_path, "vcard", export(name))
    assert report.summary() == "1 added (contacts.yaml)"
    (contact,) = people(path).values()
    assert contact["dates"] == expected
    if name != "outlook-2003.vcf":
        assert contact["family"] == {"spouse": {"name": "Erik" if "evolution" in name else "Arjun"}}


def test_linkedin_2018_export(tmp_path: Path) -> None:
    """LinkedIn's 2018 Connections.csv (no "Notes:" lines, no URL column, "Connected On" as
    ``1/8/18, 6:14 PM``): every date is read, month first, the time left out."""
    report, path = run(tmp_path, "linkedin", export("linkedin-2018.csv"))
    assert report.summary() == "4 added (contacts.yaml)"
    assert {i: c["notes"] for i, c in people(path).items()} == {
        "dana-whitfield": "Connected on LinkedIn 2018-01-08",
        "francois-muller": "Connected on LinkedIn 2017-12-19",
        "ola-nordmann": "Connected on LinkedIn 2017-11-03",
        "kenji-watanabe": "Connected on LinkedIn 2017-10-25",
    }
    assert people(path)["kenji-watanabe"]["title"] == "VP, Operations"


def test_linkedin_older_export_with_tags(tmp_path: Path) -> None:
    """An older Connections.csv with a "Tags" column: read like the 2018 one, the column named
    as ignored."""
    report, path = run(tmp_path, "linkedin", export("linkedin-2017-tags.csv"))
    assert report.summary() == "2 added (contacts.yaml)\nignored columns: Tags"
    assert people(path)["ola-nordmann"]["notes"] == "Connected on LinkedIn 2016-02-14"


@pytest.mark.parametrize(
    ("connected", "note"),
    [
        ("1/8/18, 6:14 PM", "Connected on LinkedIn 2018-01-08"),
        ("1/8/18, 6:14\u202fPM", "Connected on LinkedIn 2018-01-08"),  # ICU's narrow space
        ("1/8/2018", "Connected on LinkedIn 2018-01-08"),
        ("08 Jan 2018", "Connected on LinkedIn 2018-01-08"),
        ("01 Sep 2026", "Connected on LinkedIn 2026-09-01"),
        ("2018-01-08", "Connected on LinkedIn 2018-01-08"),
    ],
)
def test_linkedin_connected_on_forms(tmp_path: Path, connected: str, note: str) -> None:
    """Every form of "Connected On" LinkedIn has written is read as the same date."""
    text = export("linkedin-2018.csv").decode().replace("1/8/18, 6:14 PM", connected)
    _, path = run(tmp_path, "linkedin", text)
    assert people(path)["dana-whitfield"]["notes"] == note


def test_linkedin_day_first_date_is_not_guessed(tmp_path: Path) -> None:
    """A date that is not month/day (``13/1/18``) is reported, not read the other way round."""
    text = export("linkedin-2018.csv").decode().replace("1/8/18, 6:14 PM", "13/1/18, 6:14 PM")
    report, _ = run(tmp_path, "linkedin", text)
    assert report.summary() == (
        "4 added (contacts.yaml)\nrow 2: added dana-whitfield: connected on '13/1/18, 6:14 PM' "
        "is not a date: imported without it"
    )


def test_ids_for_names_without_latin_letters(tmp_path: Path) -> None:
    """Names in other scripts get an id people recognise: the phonetic name Google keeps for a
    Japanese name (たろう やまだ), else the name transliterated (Ελένη, Иван, 민준); a name with
    no letters (an emoji) gets the address's local part without its +tag. Labels are
    transliterated the same way."""
    report, path = run(tmp_path, "google-csv", export("google-non-latin.csv"))
    assert report.summary() == (
        "5 added, 1 skipped (contacts.yaml)\nrow 7: skipped: duplicate of row 4"
    )
    got = people(path)
    assert list(got) == [
        "tarou-yamada",
        "eleni-papadopoyloy",
        "ivan-petrov",
        "minjun-gim",
        "sunny-flower",
    ]
    assert got["tarou-yamada"]["name"] == {"first": "太郎", "last": "山田"}
    assert got["ivan-petrov"]["tags"] == ["druzya"]
    assert got["sunny-flower"]["name"] == {"first": "🌻"}


def test_long_transliterated_ids_are_cut_between_words(tmp_path: Path) -> None:
    """An id stays at most 40 characters, cut where a word ends; a second such name gets -2."""
    csv_text = (
        "First Name,Last Name,E-mail 1 - Label,E-mail 1 - Value\n"
        "Αικατερίνη,Παπαδημητροπούλου-Χατζηγεωργίου,Work,one@example.gr\n"
        "Αικατερίνη,Παπαδημητροπούλου-Χατζηγεωργάκη,Work,two@example.gr\n"
    )
    report, _ = run(tmp_path, "google-csv", csv_text)
    assert [o.id for o in report.outcomes] == [
        "aikaterini-papadimitropoyloy",
        "aikaterini-papadimitropoyloy-2",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sofía Pérez", "sofia-perez"),
        ("Jo Ann", "jo-ann"),
        ("Zoë O'Brien-Núñez", "zoe-o-brien-nunez"),
        ("Jürgen Groß", "jurgen-gross"),
        ("Søren Ødegård", "soren-odegard"),
        ("Łukasz Żółć", "lukasz-zolc"),
        ("Þóra Æsa", "thora-aesa"),
        ("Guðrún", "gudrun"),  # ð was dropped before ("gurun")
        ("Иван Петров", "ivan-petrov"),
        ("Дарья", "darya"),  # anyascii's ' for the soft sign is left out
        ("🌻", ""),
    ],
)
def test_slug(text: str, expected: str) -> None:
    """Ids and tags are lowercase ASCII with dashes: accents dropped as before, other letters
    transliterated, symbols left out."""
    assert slug(text) == expected


def _greets(path: Path) -> dict[str, str]:
    return {i: Contact.model_validate(c).name.greet for i, c in people(path).items()}


def test_imported_nickname_does_not_change_the_greeting(tmp_path: Path) -> None:
    """A nickname from Google CSV is kept, with a greeting of the first name, so notes still say
    "Hi Grace"; the summary says so. A nickname that is the first name changes nothing."""
    report, path = run(tmp_path, "google-csv", export("google-nicknames.csv"))
    assert report.summary() == (
        "3 added (contacts.yaml)\n"
        "row 2: added grace-hopper: nickname 'Amazing Grace' kept; greeted as 'Grace' (set "
        "name.greeting to change it)\n"
        "row 3: added bob-smith: nickname 'Bobby' kept; greeted as 'Bob' (set name.greeting to "
        "change it)"
    )
    assert people(path)["grace-hopper"]["name"] == {
        "first": "Grace",
        "last": "Hopper",
        "nickname": "Amazing Grace",
        "greeting": "Grace",
    }
    assert people(path)["tom-baker"]["name"] == {"first": "Tom", "last": "Baker", "nickname": "Tom"}
    assert _greets(path) == {"grace-hopper": "Grace", "bob-smith": "Bob", "tom-baker": "Tom"}


def test_vcard_nickname_does_not_change_the_greeting(tmp_path: Path) -> None:
    """The same for a vCard ``NICKNAME`` (Google's vCard export)."""
    report, path = run(tmp_path, "vcard", export("google-3.0.vcf"))
    assert report.summary() == (
        "1 added (contacts.yaml)\n"
        "card 1: added grace-hopper: nickname 'Amazing Grace' kept; greeted as 'Grace' (set "
        "name.greeting to change it)"
    )
    assert _greets(path) == {"grace-hopper": "Grace"}


def test_update_with_a_nickname_keeps_the_greeting(tmp_path: Path) -> None:
    """With update, a nickname filled into someone's entry comes with a greeting of the first
    name in contacts.yaml (Robert, not the export's Bob); someone who has a nickname or a
    greeting already is greeted as before."""
    report, path = run(
        tmp_path, "google-csv", export("google-nicknames.csv"), COMMENTED_CONTACTS, update=True
    )
    assert report.summary().splitlines()[2] == (
        "row 3: updated bob-smith: matched by rob@smith.example (named Robert Smith in "
        "contacts.yaml); filled name.nickname, name.greeting; nickname 'Bobby' kept; greeted as "
        "'Robert' (set name.greeting to change it)"
    )
    assert people(path)["bob-smith"]["name"] == {
        "first": "Robert",
        "last": "Smith",
        "nickname": "Bobby",
        "greeting": "Robert",
    }
    contacts = (
        "contacts:\n"
        "  - id: grace-hopper\n"
        "    name: {first: Grace, last: Hopper, nickname: Grandma COBOL}\n"
        "  - id: bob-smith\n"
        "    name: {first: Robert, last: Smith, greeting: Mr. Smith}\n"
        "    email: {work: rob@smith.example}\n"
    )
    report, path = run(
        tmp_path, "google-csv", export("google-nicknames.csv"), contacts, update=True
    )
    assert report.summary() == (
        "1 added, 2 updated (contacts.yaml)\n"
        "row 2: updated grace-hopper: filled email, company, title, tags, dates\n"
        "row 3: updated bob-smith: matched by rob@smith.example (named Robert Smith in "
        "contacts.yaml); filled name.nickname"
    )
    assert _greets(path) == {
        "grace-hopper": "Grandma COBOL",
        "bob-smith": "Mr. Smith",
        "tom-baker": "Tom",
    }
