"""A book written from the README alone works: its reference examples are checked here."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from outreach.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def block_after(heading: str, lang: str) -> str:
    """The first ```lang block after the heading."""
    start = README.index(heading)
    m = re.compile(rf"```{lang}\n(.*?)```", re.S).search(README, start)
    assert m, heading
    return m.group(1)


def readme_folder(tmp_path: Path) -> Path:
    (tmp_path / "outreach.yaml").write_text(block_after("## Reference: `outreach.yaml`", "yaml"))
    (tmp_path / "contacts.yaml").write_text(block_after("## Reference: `contacts.yaml`", "yaml"))
    (tmp_path / "campaigns.yaml").write_text(block_after("## Reference: `campaigns.yaml`", "yaml"))
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "birthday.md").write_text(block_after("## Templates", "markdown"))
    (tmp_path / "templates" / "birthday-2.md").write_text(block_after("## Templates", "markdown"))
    (tmp_path / "templates" / "_signature.md").write_text("{{ sender.signature }}\n")
    return tmp_path


def test_the_reference_examples_pass_check(tmp_path: Path) -> None:
    """outreach.yaml, contacts.yaml, campaigns.yaml and the template as the README shows them are
    valid together."""
    result = CliRunner().invoke(main, ["-C", str(readme_folder(tmp_path)), "check", "--date", "2026-04-01"])
    assert result.exit_code == 0, result.output


def test_the_reference_book_plans_the_birthday_on_the_day(tmp_path: Path) -> None:
    """The README's Jane gets her birthday greeting on April 12, to her personal address, and the
    plan --json item has the fields the README shows."""
    root = readme_folder(tmp_path)
    result = CliRunner().invoke(main, ["-C", str(root), "plan", "--date", "2026-04-12", "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert [i["key"] for i in items] == ["birthday/jane-doe/2026"]
    documented = json.loads(block_after("`plan --json` prints a JSON array", "json"))
    assert set(items[0]) == set(documented)
    assert items[0]["to"] == "jane@home.example"
    result = CliRunner().invoke(main, ["-C", str(root), "plan", "--date", "2026-04-13", "--json"])
    assert json.loads(result.stdout) == []
