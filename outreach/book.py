"""The user's folder as the nightly job sees it: settings, contacts and campaigns, validated.

Domain: made by ``outreach.config`` (which reads and validates the files), read by the planner,
the renderer and the commands. It imports no loader and no source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from outreach.campaigns import Campaign
from outreach.contacts import Contact
from outreach.paths import resolve
from outreach.settings import Settings

T = TypeVar("T")

if TYPE_CHECKING:
    from outreach.errors import Problem
    from outreach.yamlsrc import Source


@dataclass(frozen=True)
class Book:
    """Everything the nightly job reads from the user's folder, validated."""

    root: Path
    settings: Settings
    contacts: tuple[Contact, ...]
    campaigns: tuple[Campaign, ...]
    sources: dict[str, Source]
    meetings: tuple[Any, ...] = ()  # sources.meetings.Meeting, read by commands (I/O) when needed
    articles: tuple[Any, ...] = ()  # sources.articles.Article
    # one address under two contact ids: a problem for `check`, a warning for `run`
    shared_addresses: tuple[Problem, ...] = ()
    # what the YAML files read to (config's Snapshot): a run writes it once its night went well
    snapshot: Any = None
    introductions: tuple[Any, ...] = ()  # introduction.Introduction, from introductions.yaml

    def __post_init__(self) -> None:
        object.__setattr__(self, "_contacts", {c.id: c for c in self.contacts})
        object.__setattr__(self, "_campaigns", {c.id: c for c in self.campaigns})

    def memo(self, name: str, make: Callable[[], T]) -> T:
        """``make()``, worked out once for this book (a book never changes once loaded)."""
        memos: dict[str, Any] = self.__dict__.setdefault("_memos", {})
        if name not in memos:
            memos[name] = make()
        found: T = memos[name]
        return found

    def contact(self, contact_id: str) -> Contact:
        """The contact with this id; KeyError if there is none."""
        found: Contact = self.__dict__["_contacts"][contact_id]
        return found

    def campaign(self, campaign_id: str) -> Campaign:
        """The campaign with this id; KeyError if there is none."""
        found: Campaign = self.__dict__["_campaigns"][campaign_id]
        return found

    def path(self, relative: str) -> Path:
        return resolve(self.root, relative)

    @property
    def templates_dir(self) -> Path:
        return self.path(self.settings.templates)

    def contact_line(self, contact_id: str) -> tuple[str, int | None]:
        """(file, line) where the contact is defined, for error messages."""
        src = self.sources[self.settings.contacts]
        for i, c in enumerate(self.contacts):
            if c.id == contact_id:
                return src.name, src.line_of(("contacts", i))
        return src.name, None
