"""The bytes of a draft do not change between releases: a varied set of drafts (accents, IDNA
domains, long subjects that fold, encoded words, cc/bcc/reply-to, the notes of a sequence with
In-Reply-To and References, bodies that go out as 7bit, 8bit, quoted-printable and base64) is
composed and compared byte for byte with the files under tests/data/golden-drafts/, which were
written by the code before the message builder was made fast.

To write the files again (only when a change of the bytes is intended and said in the README)::

    .venv/bin/python tests/test_golden_drafts.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from factories import book, campaign, contact

from outreach import render
from outreach.drafts.dir import DirStore
from outreach.message import Draft, compose, thread_for
from outreach.model import History, Touch
from outreach.planner import plan

GOLDEN = Path(__file__).parent / "data" / "golden-drafts"
TODAY = dt.date(2026, 4, 12)

MARKDOWN = """---
subject: Happy birthday, {{ contact.greet }}! A long subject line that goes on so that it has to fold
cc: "{{ contact.spouse.name | fallback('Friend') }} <{{ contact.email.personal | fallback(contact.email.work) }}>"
bcc: crm@rivera.example
reply_to: "Alex (home) <alex.home@rivera.example>"
---
# Happy birthday, {{ contact.first }}

Hi {{ contact.greet }},

Happy **birthday** to you! I hope today is a *good* one at {{ contact.company | fallback('work') }}.

- [A post on fleets](https://example.com/fleets?x=1&y=2)
- *The* book on `supply chains`
- <https://example.org/autolink> and <mailto:someone@example.org>

1. First
2. Second, with a line that is long enough to be longer than seventy-eight characters in all

> A quote to close.
> Second line of it.

    code block line

Setext heading
--------------

All the best,
{{ sender.signature }}
"""

PLAIN = """---
subject: "Hi {{ contact.first }}"
---
Hi {{ contact.first }},

Short and ASCII.

{{ sender.signature }}
"""

LONG_LINES = """---
subject: "{{ contact.first }}: Thought of you: Napa cabernets under $50 that punch above their weight"
---
Hi {{ contact.first }}, this line is well over seventy-eight characters long and all of it is in ASCII only.

Zweite Zeile für {{ contact.first }}, mit Umlauten: äöü ÄÖÜ ß, und sie ist auch länger als eine Zeile sein darf.
"""

CJK = """---
subject: "{{ contact.first }}さん、お誕生日おめでとうございます。素敵な一年になりますように。今年もよろしくお願いします"
---
{{ contact.first }}さん、お誕生日おめでとうございます。素敵な一年になりますように。今年もよろしくお願いします。今年もよろしくお願いします。

[リンク](https://例え.example/パス) and **強調** with {{ contact.company }}.
"""

ENCODED_WORD = """---
subject: "Hello {{ contact.last }}"
cc: "{{ contact.last }} <{{ contact.email.work }}>"
---
Hi {{ contact.last }}, *{{ contact.company }}* & [{{ contact.first }}](https://x.example/{{ contact.first }})
"""

STEP_1 = """---
subject: "Quick question, {{ contact.first }}"
---
Hi {{ contact.first }},

Is this still a good address?
"""

STEP_2 = """---
subject: ignored for a later note
---
Following up, {{ contact.first }}: _any_ news?
"""

STEP_3 = """---
subject: ignored
---
Last note, {{ contact.first }}.
"""

CONTACTS = {
    "zoe": dict(
        name={"first": "Zoë", "last": "Łukasiewicz", "nickname": "Zo"},
        email={"work": "zoe@bücher.example", "personal": "zoe.home@café.example"},
        company="Müller & Söhne",
        family={"spouse": {"name": "Marcus O'Brien, Jr."}},
    ),
    "pat": dict(
        name={"first": "Pat", "last": "Doe"},
        email={"work": "pat@acme.example", "personal": "pat@home.example"},
        company="Acme",
    ),
    "eve": dict(
        name={"first": "Eve", "last": "=?utf-8?q?Mallory_=3Ce=40x.example=3E?="},
        email={"work": "eve@x.example"},
        company="*Bold* <b>Corp</b> [x](y)",
    ),
    "long": dict(
        name={"first": "Maximiliane", "last": "von und zu Hohenzollern-Sigmaringen-Württemberg"},
        email={"work": "maximiliane.hohenzollern@whitfield-advisory-partners-international.example"},
        company="Hohenzollern",
    ),
    "kenji": dict(
        name={"first": "健二", "last": "山田"},
        email={"work": "kenji@例え.example"},
        company="山田商事",
    ),
}
# (name, template, contacts it is written for, the sender)
CASES = [
    ("markdown", MARKDOWN, ["zoe", "pat", "eve", "long"]),
    ("plain", PLAIN, ["pat", "zoe"]),
    ("long-lines", LONG_LINES, ["pat", "zoe"]),
    ("cjk", CJK, ["kenji", "zoe"]),
    ("encoded-word", ENCODED_WORD, ["eve", "zoe"]),
]
SENDERS = {
    "ascii": {"name": "Alex Rivera", "email": "alex@rivera.example",
              "signature": "Alex\n\nAlex Rivera, CFP®\nRivera · Chicago"},
    "accents": {"name": "Ana Łopez-Müller", "email": "ana@münchen-büro.example"},
}


def _contact(cid: str):  # type: ignore[no-untyped-def]
    return contact(f"{cid}-x", dates={"birthday": "1985-04-12"}, **CONTACTS[cid])


def golden_drafts(tmp_path: Path) -> dict[str, Draft]:
    """Every draft of the golden set, by the name of its file."""
    out: dict[str, Draft] = {}
    for sender_name, sender in SENDERS.items():
        for case, text, who in CASES:
            root = tmp_path / f"{sender_name}-{case}"
            (root / "templates").mkdir(parents=True)
            (root / "templates" / "note.md").write_text(text, encoding="utf-8")
            env = render.environment(root / "templates", root)
            b = book([_contact(c) for c in who], [campaign(to="personal")], root=root,
                     sender=sender, limits={"per_contact_per_day": 5})
            for touch in plan(b, History(), today=TODAY).touches:
                out[f"{sender_name}-{case}-{touch.contact_id}.eml"] = compose(b, env, touch, TODAY)
        out.update(_sequence(tmp_path / f"{sender_name}-sequence", sender))
    return out


def _sequence(root: Path, sender: dict[str, str]) -> dict[str, Draft]:
    """The three notes of a sequence: the later ones in the first one's thread."""
    (root / "templates").mkdir(parents=True)
    for name, text in (("s1.md", STEP_1), ("s2.md", STEP_2), ("s3.md", STEP_3)):
        (root / "templates" / name).write_text(text, encoding="utf-8")
    env = render.environment(root / "templates", root)
    camp = campaign("seq", template="s1.md", steps=[{"template": "s2.md", "after": 3},
                                                    {"template": "s3.md", "after": 4}])
    b = book([_contact("zoe"), _contact("pat")], [camp], root=root, sender=sender)
    out: dict[str, Draft] = {}
    first: Touch
    for first in plan(b, History(), today=TODAY).touches:
        one = compose(b, env, first, TODAY)
        out[f"{root.name}-{first.contact_id}-1.eml"] = one
        for step in (2, 3):
            touch = first.as_step(step)
            thread = thread_for(b, touch.key, one.subject, "thread-1")
            day = TODAY + dt.timedelta(days=step * 3)
            out[f"{root.name}-{first.contact_id}-{step}.eml"] = compose(b, env, touch, day, thread)
    return out


def _dir_bytes(draft: Draft, folder: Path) -> bytes:
    """The file the dir store writes for ``draft``."""
    stored = DirStore(folder).create(draft)
    return Path(stored.ref).read_bytes()


def test_golden_drafts_are_byte_identical(tmp_path: Path) -> None:
    """Every draft of the golden set has exactly the bytes of its golden file, as the Gmail store
    uploads it (``message.as_bytes()``) and as the dir store writes it (with ``X-Unsent: 1``)."""
    drafts = golden_drafts(tmp_path / "books")
    names = sorted(p.name for p in GOLDEN.glob("*.eml"))
    assert sorted(drafts) == [n for n in names if not n.startswith("dir-")]
    for name, draft in drafts.items():
        assert draft.message.as_bytes() == (GOLDEN / name).read_bytes(), name
    for name, draft in drafts.items():
        written = _dir_bytes(draft, tmp_path / "dir" / name)
        assert written == (GOLDEN / f"dir-{name}").read_bytes(), name


@pytest.mark.parametrize("name", ["markdown", "sequence"])
def test_the_golden_set_covers_what_it_says(tmp_path: Path, name: str) -> None:
    """The golden set holds folded subjects, encoded words, IDNA domains, cc/bcc/reply-to, the
    thread headers and every transfer encoding: a test that can fail when one goes missing."""
    blob = b"".join((GOLDEN / n).read_bytes() for n in sorted(p.name for p in GOLDEN.glob("*.eml")))
    for needle in (b"\r\n ", b"=?utf-8?", b"xn--", b"Cc: ", b"Bcc: ", b"Reply-To: ",
                   b"In-Reply-To: ", b"References: ", b"Content-Transfer-Encoding: 7bit",
                   b"Content-Transfer-Encoding: 8bit",
                   b"Content-Transfer-Encoding: quoted-printable",
                   b"Content-Transfer-Encoding: base64", b"X-Unsent: 1"):
        assert needle in blob, needle
    assert any(n.name.startswith(f"ascii-{name}") for n in GOLDEN.glob("*.eml"))


def _write() -> None:
    """Write the golden files from the code as it is (see the module docstring)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        drafts = golden_drafts(Path(tmp) / "books")
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN.glob("*.eml"):
            old.unlink()
        for name, draft in drafts.items():
            (GOLDEN / name).write_bytes(draft.message.as_bytes())
            (GOLDEN / f"dir-{name}").write_bytes(_dir_bytes(draft, Path(tmp) / "dir" / name))
    print(f"wrote {2 * len(drafts)} files to {GOLDEN}")


if __name__ == "__main__":
    _write()
