"""Which article fits whom: an article's tags against a contact's interests.

Domain: the planner shares an article with the contacts it matches, and reports articles that
match nobody; ``outreach.sources.articles`` (which reads articles) re-exports :func:`matches`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from typing import Protocol

from outreach.model import Contact


class _Tagged(Protocol):
    @property
    def tags(self) -> tuple[str, ...]: ...


def interests_of(contact: Contact) -> set[str]:
    """What an article may match for this contact: interests, hobbies and tags, lowercased."""
    p = contact.profile
    return {x.lower() for x in (*p.interests, *p.hobbies, *contact.tags)}


_WORD = re.compile(r"\w+")


@functools.lru_cache(maxsize=16384)
def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.casefold()))


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def matches(article: _Tagged, interests: Collection[str]) -> bool:
    """True when a tag of the article is one of ``interests`` (case-insensitive), or a whole-word
    run inside one: tag ``trucks`` or ``electric trucks`` matches interest ``Electric trucks``,
    tag ``art`` does not match ``martial arts``."""
    return _matches(tuple(article.tags), frozenset(interests))


@functools.lru_cache(maxsize=16384)
def _matches(tags: tuple[str, ...], interests: frozenset[str]) -> bool:
    """``matches`` for one article's tags and one set of interests (a pure lookup, cached: many
    people share their interests)."""
    wanted = [w for w in (_words(i) for i in interests) if w]
    for tag in tags:
        words = _words(tag)
        if words and any(_contains(w, words) for w in wanted):
            return True
    return False
