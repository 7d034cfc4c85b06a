"""Contact sync: what changed in an address book since the last pull, into contacts.yaml, without
ever overwriting what the person wrote.

Each source (:mod:`outreach.sources.carddav`, :mod:`outreach.sources.google_people`) gives the
people that changed, as the importers read them; the importers' one mapping makes them
contacts.yaml data (:func:`outreach.importers.mapping.contact_data`). Then, per remote person:

* **matched** by the remote id the ledger remembers, else by e-mail, else by name; a contact
  is one remote person of a source at most (never one entry for two people: a new person whose
  address another contact has is reported, not merged, and not added);
* **new** people are added with a new id and the source's ``tag``;
* a field that is **empty** in contacts.yaml is filled; a field the **sync wrote** before and
  nobody changed since is updated when it changed remotely (a new work address: the old one
  becomes ``personal`` when that slot is empty); a field the **person wrote** is never changed;
* a person **deleted** remotely stays, and is reported once, with the id to remove.

contacts.yaml keeps its comments, order and formatting (the importers' writer), is written
atomically, and only when the result passes ``outreach check`` (else nothing is written and
the problems are shown). The ledger then keeps, per source, where the next pull starts and the
fields it wrote for each person (:mod:`outreach.ledger_sync`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from outreach.importers.contacts_yaml import ContactsYaml, display_name
from outreach.importers.mapping import contact_data, keep_greeting, new_id, validated
from outreach.importers.text import fold, is_empty, one_line
from outreach.ledger_sync import Link
from outreach.sources.contactsync import Pulled, RemoteContact

Path_ = tuple[str, ...]
_LEAVES = {("family", "spouse"), ("family", "children"), ("tags",), ("profile", "hobbies")}


@dataclass
class Change:
    """What the sync did (or would do) for one person: one line of the report."""

    contact: str
    action: str  # added, updated, kept, deleted remotely, not added
    what: str = ""


@dataclass
class Merged:
    """One source's pull merged into contacts.yaml (in memory until it is saved)."""

    source: str
    changes: list[Change] = field(default_factory=list)
    links: dict[str, Link] = field(default_factory=dict)  # remote id -> link, to save
    state: str = ""
    notes: list[str] = field(default_factory=list)


def plain(value: Any) -> Any:
    """A contacts.yaml value as plain data (ruamel nodes, dates), for comparing."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)
    return value


def leaves(data: dict[str, Any], path: Path_ = ()) -> dict[Path_, Any]:
    """contacts.yaml data as field paths and their values (lists and the spouse are one value)."""
    out: dict[Path_, Any] = {}
    for key, value in data.items():
        here = (*path, str(key))
        if isinstance(value, dict) and here not in _LEAVES:
            out.update(leaves(value, here))
        else:
            out[here] = plain(value)
    return out


def _get(item: Any, path: Path_) -> Any:
    for key in path:
        if not isinstance(item, dict):
            return None
        item = item.get(key)
    return plain(item)


def _shown(path: Path_) -> str:
    return ".".join(path)


class Merger:
    """Takes one source's pulled people into ``book`` (contacts.yaml), with the ledger's links."""

    def __init__(self, book: ContactsYaml, source: str, tag: str | None, links: dict[str, Link]):
        self.book = book
        self.source = source
        self.tag = one_line(tag or "")
        self.links = links
        self.merged = Merged(source, links=dict(links))
        self.ids = book.by_id()
        self.taken = set(book.ids())
        self.linked = {k.contact for k in links.values()}  # contacts of this source's people
        self.added: dict[str, str] = {}  # address -> id, of the people added by this pull

    def take(self, pulled: Pulled) -> Merged:
        m = self.merged
        m.state, m.notes = pulled.state, list(pulled.notes)
        seen = set()
        for rc in pulled.changed:
            seen.add(rc.remote_id)
            self._one(rc)
        gone = list(pulled.deleted)
        if pulled.complete:
            gone += [r for r in self.links if r not in seen]
        for remote_id in dict.fromkeys(gone):
            link = m.links.get(remote_id)
            if link is None or link.gone:
                continue
            link.gone = True
            if link.contact in self.ids:
                m.changes.append(
                    Change(
                        link.contact,
                        "deleted remotely",
                        f"kept in contacts.yaml; remove the entry with id {link.contact} if "
                        "they are gone for you too",
                    )
                )
        return m

    def _match(self, rc: RemoteContact, addresses: list[str], full: str) -> tuple[Any, str]:
        """The contact this remote person is, and how it was found ("" when none)."""
        link = self.merged.links.get(rc.remote_id)
        if link is not None and link.contact in self.ids:
            return self.ids[link.contact], "id"
        for a in addresses:
            if a.casefold() in self.added:
                return None, f"shared:{self.added[a.casefold()]}:{a}"
        item, by = self.book.find(addresses, full)
        if item is None:
            return None, ""
        ident = str(item.get("id", ""))
        if ident in self.linked:  # another person of this source: a shared address or name
            return None, f"shared:{ident}:{by}"
        if by and not _same_first_name(item.get("name"), rc.record.first or full):
            return None, f"shared:{ident}:{by}"  # a family's address: Sam is not Jane
        return item, "e-mail" if by else "name"

    def _one(self, rc: RemoteContact) -> None:
        m = self.merged
        extra = [self.tag] if self.tag else []
        data, problems, addresses = contact_data(rc.record, extra)
        if data is None:
            m.notes.append(f"{self.source}: {rc.remote_id}: no name: not synced")
            return
        full = fold(f"{data['name']['first']} {data['name'].get('last', '')}".strip())
        item, how = self._match(rc, addresses, full)
        if how.startswith("shared:"):
            _, other, by = how.split(":", 2)
            m.changes.append(
                Change(
                    other,
                    "not added",
                    f"{display_name(data['name'])} shares "
                    f"{'the address ' + by if by else 'the name'} with {other}; add them by "
                    "hand with their own address if they are someone else",
                )
            )
            return
        if item is None:
            self._add(rc, data, addresses, problems)
            return
        ident = str(item.get("id"))
        link = m.links.get(rc.remote_id) or Link(rc.remote_id, ident)
        link.contact, link.gone = ident, False
        m.links[rc.remote_id] = link
        self.linked.add(ident)
        done = self._update(item, data, link)
        if done:
            changed = any(" kept as you wrote it" not in d for d in done)
            m.changes.append(Change(ident, "updated" if changed else "kept", "; ".join(done)))

    def _add(
        self,
        rc: RemoteContact,
        data: dict[str, Any],
        addresses: list[str],
        problems: list[str],
    ) -> None:
        name = f"{data['name']['first']} {data['name'].get('last', '')}"
        base = new_id(name, one_line(rc.record.reading), addresses)
        ident, n = base, 1
        while ident in self.taken:
            n += 1
            ident = f"{base}-{n}"
        record = {"id": ident, **data}
        contact, invalid, skip = validated(record)
        if contact is None:
            self.merged.notes.append(f"{self.source}: {rc.remote_id}: {skip}: not synced")
            return
        greeting = keep_greeting(record["name"])
        self.taken.add(ident)
        self.book.append(record)
        written = _keyed(leaves({k: v for k, v in record.items() if k != "id"}))
        written.update({"@" + k: v for k, v in _keyed(leaves(data)).items()})
        self.merged.links[rc.remote_id] = Link(rc.remote_id, ident, written)
        self.linked.add(ident)
        for a in addresses:
            self.added.setdefault(a.casefold(), ident)
        why = "; ".join(x for x in [greeting, *problems, *invalid] if x)
        self.merged.changes.append(Change(ident, "added", why))

    def _update(self, item: Any, data: dict[str, Any], link: Link) -> list[str]:
        """Fill what is empty, update what the sync wrote and nobody changed since; the rest
        (what the person wrote) stays. What was done, one phrase each."""
        contact, invalid, _ = validated({"id": str(item.get("id")), **data})
        if contact is None:
            return []
        del invalid
        remote = leaves(data)
        done: list[str] = []
        kept: list[str] = []
        written = link.written  # path -> what the sync wrote; "@" + path -> what the source had
        for path, value in remote.items():
            key = _shown(path)
            here = _get(item, path)
            before, written["@" + key] = written.get("@" + key), value
            if here == value:
                written[key] = value  # the same on both sides: the sync may follow it
                continue
            if is_empty(here):
                if path == ("email", "personal") and value in _addresses_of(item):
                    continue
                self.book.put(item, path, value)
                written[key] = value
                done.append(f"{key} set to {_fmt(value)}")
            elif written.get(key) == here:
                if path == ("email", "work") and is_empty(_get(item, ("email", "personal"))):
                    self.book.put(item, ("email", "personal"), here)
                    written["email.personal"] = here
                    done.append(f"the old work address {here} kept as email.personal")
                self.book.put(item, path, value)
                written[key] = value
                done.append(f"{key} {_fmt(here)} -> {_fmt(value)}")
            elif before != value:  # said once, when the source's value changes
                kept.append(
                    f"{key} kept as you wrote it ({_fmt(here)}; the source has {_fmt(value)})"
                )
        return done + kept


def _same_first_name(name: Any, first: str) -> bool:
    """Whether a contact named ``name`` (contacts.yaml) can be the person whose first name is
    ``first``: the same first name, or one a short form of the other (Jane, Janie; Rob, Robert:
    they agree but for at most one letter of the shorter), or their nickname or greeting."""
    if not isinstance(name, dict):
        return True  # nothing to tell them apart by
    theirs = fold(one_line(first)).split(" ")[0] if first else ""
    if not theirs:
        return True
    for key in ("first", "nickname", "greeting"):
        value = name.get(key)
        ours = fold(one_line(value)).split(" ")[0] if isinstance(value, str) else ""
        if ours and _short_form(ours, theirs):
            return True
    return False


def _short_form(a: str, b: str) -> bool:
    common = next(
        (n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return a == b or (common >= 3 and common >= min(len(a), len(b)) - 1)


def _keyed(paths: dict[Path_, Any]) -> dict[str, Any]:
    return {_shown(p): v for p, v in paths.items()}


def _addresses_of(item: Any) -> set[str]:
    email = item.get("email") if isinstance(item, dict) else None
    if not isinstance(email, dict):
        return set()
    return {str(v) for v in email.values() if isinstance(v, str)}


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v.get("name", v)) if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("name", value))
    return str(value)
