"""The layers of DESIGN.md, checked on the source: what may import what, and how big a module is.

(Click only in cli.py and no probing of stores: tests/test_executor.py.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "outreach"
MODULES = sorted(PACKAGE.rglob("*.py"))

# the domain and the pure planner: no loader, no source, no store, no ledger, no command
DOMAIN = [
    "book", "campaigns", "contacts", "fields", "idents", "library", "matching", "model",
    "occasions", "settings", "slugs", "touch", "touchkey",
]
PLANNER = ["planner", "triggers", "followups", "audience", "spread", "nightly", "datefields", "replay"]
OUTSIDE_DOMAIN = ("config", "sources", "drafts", "ledger", "commands", "statefile", "cli")
GOOGLE = ("googleapiclient", "google_auth_httplib2", "google_auth_oauthlib", "google", "httplib2")


def _name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, at the top level?) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    out: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, id(node) in top))
            out += [(f"{node.module}.{a.name}", id(node) in top) for a in node.names]
    return out


def _module(short: str) -> list[Path]:
    found = [p for p in MODULES if _name(p) in (f"outreach.{short}",)]
    found += [p for p in MODULES if _name(p).startswith(f"outreach.{short}.")]
    return found


@pytest.mark.parametrize("short", DOMAIN + PLANNER)
def test_the_domain_and_the_planner_import_only_the_domain(short: str) -> None:
    """The planner is pure: it reads a Book and a History, never a file, a feed or a mailbox."""
    for path in _module(short):
        for name, _ in _imports(path):
            for outside in OUTSIDE_DOMAIN:
                assert not name.startswith(f"outreach.{outside}"), f"{_name(path)} imports {name}"


def test_google_libraries_are_imported_lazily_and_only_where_google_is_spoken() -> None:
    """`outreach plan` starts without loading Google's client libraries: only the modules that
    talk to Google import them (auth, the Gmail store, the People source), and lazily."""
    for path in MODULES:
        for name, top in _imports(path):
            if name.split(".")[0] in GOOGLE:
                assert _name(path) in ("outreach.auth", "outreach.sources.google_people") or _name(
                    path
                ).startswith("outreach.drafts.gmail"), f"{_name(path)} imports {name}"
                assert not top, f"{_name(path)} imports {name} at the top level"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_module_is_over_450_lines(path: Path) -> None:
    """Modules are split along their seams before they become hard to read."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 450
