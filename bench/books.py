"""A seeded, realistic book for the benchmarks: the same seed gives the same files, byte for byte.

    from books import write_book
    root = write_book(Path("book"), contacts=1000, night=dt.date(2026, 11, 22), due=1000)

People have accented names (Zoë, Søren, José, Nguyễn...), most a work and a personal address,
a third children with birthdays, several countries, tags, tiers, stages, a start date and a
client-since date, some an interaction or a last-contacted date. Exactly `due` of them have their
birthday on `night` (nobody else does), so a birthday campaign makes `due` touches that night.
The campaigns are the scaffold's kinds: a birthday on the day, children's birthdays a week ahead,
a work anniversary, a holiday (Christmas Day, two weeks ahead), a quarterly schedule and a
45-day keep-in-touch interval. `rows()` gives the same people as flat rows (a mail-merge CSV).

The helpers in tests/factories.py write the folder (imported, not copied).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import campaign_data, write_folder

#: (display name, ascii slug) pairs: accents, ligatures and diacritics on purpose.
FIRST = [
    ("Zoë", "zoe"), ("Søren", "soren"), ("José", "jose"), ("Anaïs", "anais"), ("Jürgen", "jurgen"),
    ("Ingrid", "ingrid"), ("Chloé", "chloe"), ("Łukasz", "lukasz"), ("Siobhán", "siobhan"),
    ("Thảo", "thao"), ("Mei", "mei"), ("Óscar", "oscar"), ("Amélie", "amelie"), ("Björn", "bjorn"),
    ("Noémie", "noemie"), ("Raúl", "raul"), ("Priya", "priya"), ("Jane", "jane"),
    ("Tomás", "tomas"), ("Åsa", "asa"), ("Dương", "duong"), ("François", "francois"),
    ("Kateřina", "katerina"), ("Michael", "michael"),
]
LAST = [
    ("Nguyễn", "nguyen"), ("García", "garcia"), ("Müller", "muller"), ("Sørensen", "sorensen"),
    ("O'Brien", "obrien"), ("Lefèvre", "lefevre"), ("Kowalski", "kowalski"), ("Trần", "tran"),
    ("Núñez", "nunez"), ("Schröder", "schroder"), ("Smith", "smith"), ("Dubois", "dubois"),
    ("Lindqvist", "lindqvist"), ("Peña", "pena"), ("Ødegaard", "odegaard"), ("Patel", "patel"),
]
NICK = {"michael": "Mike", "katerina": "Katka", "francois": "Franz"}
COUNTRIES = ["US", "US", "US", "GB", "DE", "FR", "DK", "ES", "MX", "CA", "VN", "SE"]
TAGS = ["client", "prospect", "golf", "vip", "conference-2025", "newsletter", "wine"]
COMPANIES = ["Acme Corp", "Globex", "Initech", "Société Générale de Test", "Björk & Søn",
             "Umbrella"]
DOMAINS = ["acme.example", "globex.example", "initech.example", "sgt.example", "bjork.example"]
HOBBIES = ["golf", "sailing", "gardening", "cycling", "jazz", "chess", "running"]
CHILDREN = ["Sam", "Léa", "Noah", "Maja", "Emil", "Inès", "Bảo"]

NIGHT = dt.date(2026, 11, 22)

BIRTHDAY_TEMPLATE = """---
subject: Happy birthday, {{ contact.greet }}!
---
Hi {{ contact.greet }},

**Happy birthday!** I hope today is a good one, and that *{{ contact.company or "work" }}* gives you
the afternoon off.

A few things I'd love to hear about when we next talk:

- how the year has been
- what's next for you
- your plans for the holidays

All the best,

{{ sender.signature }}
"""

NOTE_TEMPLATE = """---
subject: "{{ campaign.name or campaign.id }}: a note for {{ contact.greet }}"
---
Hi {{ contact.greet }},

I was thinking of you: *{{ occasion.label }}* on {{ occasion.date | friendly_date }}.

- one thing I noticed
- [an article](https://example.com/read) you might like

{{ sender.signature }}
"""

#: The Markdown mailmerge 2.3 renders (`CONTENT-TYPE: text/markdown`): the birthday note above,
#: the same words and Markdown, with the CSV's columns where outreach has the contact's fields.
MAILMERGE_TEMPLATE = """TO: {{email}}
SUBJECT: Happy birthday, {{greet}}!
FROM: Alex Rivera <alex@rivera.example>
CONTENT-TYPE: text/markdown

Hi {{greet}},

**Happy birthday!** I hope today is a good one, and that *{{company}}* gives you
the afternoon off.

A few things I'd love to hear about when we next talk:

- how the year has been
- what's next for you
- your plans for the holidays

All the best,

Alex
"""


def _other_day(rng: random.Random, night: dt.date) -> tuple[int, int]:
    while True:
        m, d = rng.randint(1, 12), rng.randint(1, 28)
        if (m, d) != (night.month, night.day):
            return m, d


def people(n: int, night: dt.date = NIGHT, due: int = 0, seed: int = 7) -> list[dict[str, Any]]:
    """`n` contacts as contacts.yaml data; exactly `due` have their birthday on `night`."""
    rng = random.Random(seed)
    due_ix = set(rng.sample(range(n), min(due, n)))
    out: list[dict[str, Any]] = []
    for i in range(n):
        first, fslug = rng.choice(FIRST)
        last, lslug = rng.choice(LAST)
        m, d = (night.month, night.day) if i in due_ix else _other_day(rng, night)
        year = rng.randint(1950, 2000)
        domain = rng.choice(DOMAINS)
        cid = f"{fslug}-{lslug}-{i:06d}"
        contact: dict[str, Any] = {"id": cid, "name": {"first": first, "last": last}}
        if fslug in NICK and rng.random() < 0.5:
            contact["name"]["nickname"] = NICK[fslug]
        email: dict[str, str] = {}
        r = rng.random()
        if r < 0.8:
            email["work"] = f"{fslug}.{lslug}.{i}@{domain}"
        if r > 0.1:
            email["personal"] = f"{fslug}{i}@home.example"
        if "work" in email and "personal" in email and rng.random() < 0.3:
            email["preferred"] = "personal"
        contact["email"] = email
        contact["company"] = rng.choice(COMPANIES)
        contact["country"] = rng.choice(COUNTRIES)
        contact["tags"] = sorted(set(rng.sample(TAGS, rng.randint(1, 3))))
        contact["tier"] = rng.choice("ABC")
        contact["stage"] = rng.choice(["customer", "customer", "prospect", "former"])
        sm, sd = _other_day(rng, night)
        contact["start_date"] = f"{rng.randint(2005, 2025)}-{sm:02d}-{sd:02d}"
        birthday = f"{year}-{m:02d}-{d:02d}" if rng.random() < 0.7 else f"--{m:02d}-{d:02d}"
        dates: dict[str, str] = {"birthday": birthday}
        if rng.random() < 0.5:
            cm, cd = _other_day(rng, night)
            dates["client_since"] = f"{rng.randint(2010, 2025)}-{cm:02d}-{cd:02d}"
        contact["dates"] = dates
        if rng.random() < 0.33:
            kids = []
            for _ in range(rng.randint(1, 3)):
                km, kd = _other_day(rng, night)
                kids.append({"name": rng.choice(CHILDREN),
                             "birthday": f"{rng.randint(2005, 2022)}-{km:02d}-{kd:02d}"})
            contact["family"] = {"children": kids}
        if rng.random() < 0.4:
            contact["profile"] = {"hobbies": rng.sample(HOBBIES, rng.randint(1, 2))}
        if rng.random() < 0.3:
            when = night - dt.timedelta(days=rng.randint(1, 120))
            contact["interactions"] = [{"date": when.isoformat(), "kind": "meeting",
                                        "summary": "Coffee and a catch-up"}]
        elif rng.random() < 0.3:
            contact["last_contacted"] = (night - dt.timedelta(days=rng.randint(1, 90))).isoformat()
        out.append(contact)
    return out


def campaigns(only_birthday: bool = False) -> list[dict[str, Any]]:
    """The scaffold's kinds of campaign; `only_birthday`: the birthday note alone."""
    birthday = campaign_data("birthday", template="birthday.md", priority=90, cooldown_days=0)
    if only_birthday:
        return [birthday]
    return [
        birthday,
        campaign_data("kids", {"kind": "date", "field": "children.birthday", "days_before": 7},
                      priority=80),
        campaign_data("work-anniversary", {"kind": "date", "field": "work_anniversary"},
                      priority=70),
        campaign_data("christmas", {"kind": "holiday", "name": "Christmas Day", "days_before": 14},
                      audience={"stages": ["customer"]}, business_days="previous", priority=60),
        campaign_data("quarterly", {"kind": "schedule", "months": [1, 4, 7, 10], "day": 5},
                      audience={"stages": ["customer"]}, business_days="next", priority=40),
        campaign_data("keep-in-touch", {"kind": "interval", "days": 45},
                      audience={"stages": ["customer", "prospect"]}, priority=10),
    ]


def write_book(
    root: Path,
    contacts: int,
    night: dt.date = NIGHT,
    due: int = 0,
    *,
    only_birthday: bool = False,
    seed: int = 7,
    **settings: Any,
) -> Path:
    """Write outreach.yaml, contacts.yaml, campaigns.yaml and templates/ under `root`."""
    settings.setdefault("limits", {"nightly_cap": 25, "cooldown_days": 3})
    templates = {"birthday.md": BIRTHDAY_TEMPLATE, "note.md": NOTE_TEMPLATE}
    data = people(contacts, night, due, seed)
    write_folder(root, [], campaigns(only_birthday), templates, **settings)
    # as people write it: UTF-8 names, not the escapes safe_dump writes by default
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # the C emitter: 100,000 in seconds
    text = yaml.dump({"contacts": data}, Dumper=dumper, sort_keys=False, allow_unicode=True)
    (root / "contacts.yaml").write_text(text, encoding="utf-8")
    return root


def rows(contacts: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The people as a mail merge sees them: one flat row each, the address outreach would use."""
    out = []
    for c in contacts:
        email = c.get("email", {})
        choice = email.get("preferred") or ("work" if "work" in email else "personal")
        name = c["name"]
        out.append({"email": email.get(choice, ""), "greet": name.get("nickname") or name["first"],
                    "first": name["first"], "last": name["last"],
                    "company": c.get("company", ""), "country": c.get("country", "")})
    return out


def write_csv(path: Path, contacts: list[dict[str, Any]]) -> Path:
    """mailmerge's database: a UTF-8 CSV with a header row."""
    data = rows(contacts)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    return path
