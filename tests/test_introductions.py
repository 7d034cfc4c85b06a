"""Introductions (introductions.yaml, trigger introduction): one note to both (together), one to
each (apart, an entry may override), a colleague in Cc; each once, on its night; both names right
in the text and the headers; do-not-contact on one side: no draft and a reason; an unknown id or
a person without an address is a file:line problem."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from factories import campaign_data, contact_data, write_folder

from outreach.cli import main

TEMPLATES = {
    "together.md": (
        "---\nsubject: \"{{ contact.first }}, meet {{ intro.other.first }}\"\n---\n"
        "{{ contact.greet }} and {{ intro.other.greet }}, you should meet: {{ intro.why }}.\n"
    ),
    "apart.md": (
        "---\nsubject: \"{% if intro.role == 'from' %}Call {{ intro.other.full_name }}"
        "{% elif intro.colleague %}Meet {{ intro.colleague.name }}"
        "{% else %}{{ intro.other.full_name }} will call you{% endif %}\"\n---\n"
        "Hi {{ contact.greet }},\n\n"
        "{% if intro.role == 'from' %}Please call {{ intro.other.full_name }} at "
        "{{ intro.other.address }} and mention my name: {{ intro.why }}."
        "{% elif intro.colleague %}{{ intro.colleague.name }} "
        "({{ intro.colleague.role | fallback('our team') }}) "
        "will help with {{ intro.why }}."
        "{% else %}{{ intro.other.full_name }} will call you: {{ intro.why }}.{% endif %}\n"
    ),
}
PEOPLE = [contact_data("dan-okafor"), contact_data("aisha-karim"), contact_data("zoe-hartley"),
          contact_data("tom-no", preferences={"do_not_contact": True}),
          contact_data("nomail-x", email={})]


def folder(tmp_path: Path, intros: list[dict[str, Any]], mode: str = "together") -> Path:
    root = write_folder(
        tmp_path / "book", PEOPLE,
        [campaign_data("intro", {"kind": "introduction", "mode": mode},
                       template=f"{'together' if mode == 'together' else 'apart'}.md",
                       priority=85)],
        templates=TEMPLATES,
    )
    (root / "introductions.yaml").write_text(yaml.safe_dump({"introductions": intros},
                                                            sort_keys=False))
    return root


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def drafts(root: Path) -> dict[str, email.message.EmailMessage]:
    return {p.name: email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted((root / "drafts").glob("*.eml"))}


DAN_AISHA = {"date": "2026-12-03", "from": "dan-okafor", "to": "aisha-karim",
             "why": "Dan needs a fleet telematics partner"}


def test_together_one_note_to_both_once(tmp_path: Path) -> None:
    """Together: on 3 Dec one draft to Dan and Aisha (both in To), both names in the text and
    the subject; not before, and not again the next night."""
    root = folder(tmp_path, [DAN_AISHA])
    assert invoke(root, "run", "--date", "2026-12-02")[0] == 0 and not (root / "drafts").exists()
    code, _, err = invoke(root, "run", "--date", "2026-12-03")
    assert (code, err) == (0, "")
    (msg,) = drafts(root).values()
    assert msg["To"] == "Dan Doe <dan-okafor@acme.example>, Aisha Doe <aisha-karim@acme.example>"
    assert msg["Subject"] == "Dan, meet Aisha"
    assert "Dan and Aisha, you should meet: Dan needs a fleet telematics partner." in msg.get_body(('plain',)).get_content()
    assert invoke(root, "run", "--date", "2026-12-04")[0] == 0
    assert len(drafts(root)) == 1


def test_apart_one_note_each_with_the_right_roles(tmp_path: Path) -> None:
    """Apart: Dan (who will call) gets Aisha's details and "mention my name"; Aisha learns that
    Dan will call; each note to one person."""
    root = folder(tmp_path, [DAN_AISHA], mode="apart")
    assert invoke(root, "run", "--date", "2026-12-03")[0] == 0
    got = {str(m["To"]): m for m in drafts(root).values()}
    dan = got["Dan Doe <dan-okafor@acme.example>"]
    aisha = got["Aisha Doe <aisha-karim@acme.example>"]
    assert dan["Subject"] == "Call Aisha Doe" and "aisha-karim@acme.example and mention my name" in dan.get_body(('plain',)).get_content()
    assert aisha["Subject"] == "Dan Doe will call you"
    assert len(got) == 2


def test_an_entry_overrides_the_mode_and_a_colleague_is_in_cc(tmp_path: Path) -> None:
    """An entry with mode: apart in a together campaign makes two notes; a colleague's
    introduction goes to Zoë with the colleague in Cc."""
    colleague = {"date": "2026-12-05", "to": "zoe-hartley", "why": "your first invoice run",
                 "colleague": {"name": "Sam Ortiz", "email": "sam@rivera.example",
                               "role": "receivables"}}
    root = folder(tmp_path, [dict(DAN_AISHA, mode="apart"), colleague], mode="apart")
    invoke(root, "run", "--date", "2026-12-03")
    assert len(drafts(root)) == 2
    invoke(root, "run", "--date", "2026-12-05")
    zoe = [m for m in drafts(root).values() if "zoe" in str(m["To"])]
    assert len(zoe) == 1 and zoe[0]["Cc"] == "Sam Ortiz <sam@rivera.example>"
    assert zoe[0]["Subject"] == "Meet Sam Ortiz"
    assert "Sam Ortiz (receivables) will help with your first invoice run." in zoe[0].get_body(('plain',)).get_content()


def test_do_not_contact_on_one_side_cancels_with_a_reason(tmp_path: Path) -> None:
    """Tom is do-not-contact: his introduction to Aisha makes no draft at all, and plan says
    why."""
    root = folder(tmp_path, [{"date": "2026-12-03", "from": "tom-no", "to": "aisha-karim",
                              "why": "x"}], mode="apart")
    out = invoke(root, "plan", "--date", "2026-12-03")[1]
    assert "introduction of tom-no and aisha-karim on Thu 3 Dec cancelled: tom-no is " \
           "do-not-contact" in out
    invoke(root, "run", "--date", "2026-12-03")
    assert not (root / "drafts").exists()


def test_bad_entries_are_file_line_problems(tmp_path: Path) -> None:
    """An unknown id and a person without an address: one line each with introductions.yaml and
    the line, exit 2."""
    root = folder(tmp_path, [{"date": "2026-12-03", "from": "dan-okafr", "to": "aisha-karim",
                              "why": "x"},
                             {"date": "2026-12-03", "from": "dan-okafor", "to": "nomail-x",
                              "why": "y"}])
    code, _, err = invoke(root, "check")
    assert code == 2
    assert ("introductions.yaml:3: introductions[0].from: no contact has the id 'dan-okafr'; "
            "did you mean 'dan-okafor'?") in err
    assert "introductions.yaml:8: introductions[1].to: nomail-x has no email address" in err


def test_check_renders_every_shape_of_an_introduction(tmp_path: Path) -> None:
    """Without any entry in introductions.yaml, check renders the template as each shape would
    (both in To, the one who calls, the one who benefits, a colleague without a role): a
    template that breaks only for a colleague without a role is found."""
    root = folder(tmp_path, [], mode="apart")
    assert invoke(root, "check")[0] == 0
    broken = TEMPLATES["apart.md"].replace("({{ intro.colleague.role | fallback('our team') }})",
                                           "({{ intro.colleague.role }})")
    (root / "templates" / "apart.md").write_text(broken)
    code, _, err = invoke(root, "check")
    assert code == 2 and "a colleague without a role" in err
