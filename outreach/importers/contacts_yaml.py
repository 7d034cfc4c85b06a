"""contacts.yaml edited with ruamel.yaml's round trip: the user's comments, key order and quotes
stay as they were, filled-in fields go where the model orders them, new contacts at the end of
the ``contacts:`` list; the text is checked to read back as outreach reads it, and replaced
atomically."""

from __future__ import annotations

import codecs
import difflib
import io
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError

from outreach import yamlsrc
from outreach.errors import InvalidInput, Problem, UsageError
from outreach.fsutil import write_atomic
from outreach.importers.nodes import KEY_ORDER, as_node, put_key
from outreach.importers.text import MISSING, fold, is_empty


def display_name(name: Any) -> str:
    if not isinstance(name, dict):
        return ""
    parts = [name.get("first"), name.get("last")]
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def _full_name(name: Any) -> str:
    """For matching: the full name, case and spacing folded."""
    return fold(display_name(name))


def _addresses(item: Any) -> list[str]:
    email = item.get("email") if isinstance(item, dict) else None
    if not isinstance(email, dict):
        return []
    return [v.strip().casefold() for v in email.values() if isinstance(v, str) and "@" in v]


_HEADER = """\
# {name}: the people you keep in touch with, one entry per person under "contacts:".
# Started by 'outreach import'. Edit it freely: importing again keeps your comments and changes.
# Only "id" and "name.first" are required; the README's "Reference: contacts.yaml" lists every
# key. Dates are YYYY-MM-DD, or '--MM-DD' when the year is unknown.
"""


class ContactsYaml:
    """contacts.yaml as ruamel round-trip data, with the edits an import makes."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve() if path.is_symlink() else path
        self.name = path.name
        try:
            self.raw: bytes | None = self.path.read_bytes() if self.path.exists() else None
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        self.bom = self.crlf = False
        self.text = ""  # the file's text, line breaks as \n
        self.data: Any = None  # ruamel round-trip data; None: no file, or no data in it
        self.yaml = _yaml(2, 4, 2, explicit_start=False)
        self.offset = 2  # the column of the "- " that starts each contact
        self.new: list[CommentedMap] = []
        self.filled = False
        self._by_address: dict[str, Any] | None = None
        self._by_name: dict[str, Any] = {}
        if self.raw is None:
            return
        self.bom = self.raw.startswith(codecs.BOM_UTF8)
        self.crlf = b"\r\n" in self.raw
        try:
            text = self.raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = self.raw[: exc.start].count(b"\n") + 1
            raise InvalidInput(
                [Problem(self.name, line, "", "is not UTF-8 text", "save it as UTF-8")]
            ) from None
        self.text = text.replace("\r\n", "\n")
        source, problems = yamlsrc.loads(self.text, self.name)
        if source.data is None:
            if any(p.message.startswith("YAML") for p in problems):
                raise InvalidInput(problems)
            return  # empty, or only comments: the contacts list goes below them
        contacts = source.data.get("contacts") if isinstance(source.data, dict) else None
        if not isinstance(source.data, dict) or not isinstance(contacts, list | None):
            raise InvalidInput(
                [
                    Problem(
                        self.name,
                        source.line_of(("contacts",)) or 1,
                        "",
                        "expected a mapping with a 'contacts:' list",
                        "fix the file (see 'outreach check') before importing",
                    )
                ]
            )
        self.yaml, self.data, self.offset = _round_trip(self.text, self.name)

    @property
    def seq(self) -> Any:
        return self.data.get("contacts") if isinstance(self.data, dict) else None

    @property
    def existing(self) -> list[Any]:
        seq = self.seq
        return [i for i in seq if isinstance(i, dict)] if isinstance(seq, list) else []

    @property
    def changed(self) -> bool:
        return bool(self.new) or self.filled

    def ids(self) -> set[str]:
        return {i["id"] for i in self.existing if isinstance(i.get("id"), str)}

    def find(self, addresses: Sequence[str], full_name: str) -> tuple[Any, str]:
        """The existing contact with any of these addresses, else with this full name (the
        first such contact in the file), and the address it was found by ("" for the name)."""
        if self._by_address is None:
            self._by_address = {}
            for item in self.existing:
                for a in _addresses(item):
                    self._by_address.setdefault(a, item)
                self._by_name.setdefault(_full_name(item.get("name")), item)
        for a in addresses:
            if a.casefold() in self._by_address:
                return self._by_address[a.casefold()], a
        return (self._by_name.get(full_name) if full_name else None), ""

    def fill(self, item: Any, data: dict[str, Any]) -> list[str]:
        """Fill the contact's empty fields from ``data``; the paths filled ("email.personal").
        An address the contact already has (in either slot) is not added again."""
        known = set(_addresses(item))
        data = dict(data)
        if isinstance(data.get("email"), dict):
            email = {k: v for k, v in data["email"].items() if v.casefold() not in known}
            if email:
                data["email"] = email
            else:
                del data["email"]
        filled: list[str] = []
        self._fill(item, data, (), filled)
        self.filled = self.filled or bool(filled)
        for a in _addresses(item):
            if self._by_address is not None:
                self._by_address.setdefault(a, item)
        return filled

    def _fill(
        self, target: Any, data: dict[str, Any], path: tuple[str, ...], out: list[str]
    ) -> None:
        for key, value in data.items():
            if key == "id":
                continue
            here = (*path, key)
            current = target.get(key)
            if is_empty(current):
                put_key(target, key, as_node(value, here), KEY_ORDER.get(path, []))
                out.append(".".join(here))
            elif isinstance(current, dict) and isinstance(value, dict) and here in KEY_ORDER:
                self._fill(current, value, here, out)
            # else: what the user wrote stays as it is

    def append(self, data: dict[str, Any]) -> None:
        self.new.append(as_node(data))

    def by_id(self) -> dict[str, Any]:
        """The existing contacts by id (the contacts appended since are not among them)."""
        return {i["id"]: i for i in self.existing if isinstance(i.get("id"), str)}

    def put(self, item: Any, path: tuple[str, ...], value: Any) -> None:
        """Set the value at ``path`` in the contact ``item`` (an existing one, or one appended),
        making the mappings on the way, each key in contacts.yaml's order."""
        target = item
        for n, key in enumerate(path[:-1]):
            here = path[: n + 1]
            inner = target.get(key)
            if not isinstance(inner, dict):
                put_key(target, key, as_node({}, here), KEY_ORDER.get(path[:n], []))
                inner = target[key]
            target = inner
        put_key(target, path[-1], as_node(value, path), KEY_ORDER.get(path[:-1], []))
        if not any(item is new for new in self.new):
            self.filled = True
        self._by_address = None  # the addresses may have changed

    # ---------------------------------------------------------------- writing

    def render(self) -> str:
        """The new text: the user's text as it was, with the filled-in fields and the new
        contacts at the end. It must read back (with PyYAML, as outreach reads it) exactly like
        a plain ruamel dump of the same data; if it does not, that dump is used instead."""
        text = self.text
        if self.filled:
            dumped = self._dump(self.data)
            text = _comments_after_insertions(self.text, dumped, self.offset)
            if _load(text) != _load(dumped):
                text = dumped
        if not self.new:
            return text
        seq = self.seq
        plain_append = isinstance(seq, CommentedSeq) and len(seq) > 0 and not seq.fa.flow_style()
        plain_append = plain_append and list(self.data)[-1] == "contacts"
        snippet = self._snippet(self.new)
        if self.data is None:
            reference_data = CommentedMap([("contacts", CommentedSeq(self.new))])
            head = self.text if self.text.strip() else _HEADER.format(name=self.name)
            text = f"{head.rstrip()}\n\ncontacts:\n{snippet}"
        else:
            if not plain_append:
                self.data["contacts"] = seq = CommentedSeq(list(seq or []))
            seq.extend(self.new)
            reference_data = self.data
            text = (text if text.endswith("\n") else text + "\n") + snippet
        reference = self._dump(reference_data)
        if (self.data is not None and not plain_append) or _load(text) != _load(reference):
            text = reference
        before = _load(self.text) if self.text.strip() else None
        old = len(before.get("contacts") or []) if isinstance(before, dict) else 0
        after = _load(text)
        got = after.get("contacts") if isinstance(after, dict) else None
        if not isinstance(got, list) or len(got) != old + len(self.new):
            raise RuntimeError(f"the new {self.name} would not read back as expected")
        return text

    def save(self, text: str | None = None) -> None:
        """Write the new text (``text``: what :meth:`render` gave, which is called once) in
        place of the old, atomically, with the file's mode, BOM and line breaks; refuse if the
        file changed since it was read."""
        text = self.render() if text is None else text
        if self.crlf:
            text = text.replace("\n", "\r\n")
        data = (codecs.BOM_UTF8 if self.bom else b"") + text.encode("utf-8")
        now = self.path.read_bytes() if self.path.exists() else None
        if now != self.raw:
            raise UsageError(
                f"{self.name} changed while importing; nothing was written", "run the import again"
            )
        mode = stat.S_IMODE(self.path.stat().st_mode) if self.raw is not None else None
        write_atomic(self.path, data, mode=mode)

    def _dump(self, data: Any) -> str:
        buf = io.StringIO()
        self.yaml.dump(data, buf)
        return buf.getvalue()

    def _snippet(self, items: list[CommentedMap]) -> str:
        """The new items as lines of the contacts list, each after a blank line unless the
        file's contacts follow each other without one."""
        blank = True
        seq = self.seq
        if isinstance(seq, CommentedSeq) and len(seq) >= 2 and not seq.fa.flow_style():
            line = seq.lc.item(len(seq) - 1)[0]  # 0-based line of the last contact
            lines = self.text.split("\n")
            blank = 0 < line < len(lines) and _comment_or_blank(lines[line - 1])
        dumped = self._dump(CommentedMap([("contacts", CommentedSeq(items))]))
        body = dumped.split("contacts:\n", 1)[1]
        if not blank:
            return body
        return "".join("\n" + "".join(c) for c in _chunks(body, self.offset) if c)


def _yaml(mapping: int, sequence: int, offset: int, *, explicit_start: bool) -> YAML:
    y = YAML()  # round trip
    y.preserve_quotes = True
    y.width = 1_000_000  # never re-wrap a long line
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    y.explicit_start = explicit_start
    return y


def _round_trip(text: str, name: str) -> tuple[YAML, Any, int]:
    """Load with ruamel, with the indentation settings under which dumping gives the very same
    text back (ruamel does not keep the indentation it read); and the contacts' dash column."""
    try:
        data = _yaml(2, 4, 2, explicit_start=False).load(text)
    except RuamelError as exc:  # PyYAML read it and ruamel did not: rare
        raise InvalidInput(
            [Problem(name, None, "", f"YAML error: {exc}", "fix the YAML syntax")]
        ) from None
    explicit = bool(re.match(r"(\s*(#.*)?\n)*---", text))
    m = re.search(r"^( *)-( +)\S", text, re.M)
    offset, sequence = (len(m.group(1)), len(m.group(1)) + 1 + len(m.group(2))) if m else (2, 4)
    candidates = [(2, sequence, offset), (4, sequence, offset), (3, sequence, offset)]
    candidates += [(2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4)]
    for mapping, seq_indent, dash in candidates:
        if seq_indent < dash + 2:
            continue
        y = _yaml(mapping, seq_indent, dash, explicit_start=explicit)
        buf = io.StringIO()
        y.dump(data, buf)
        if buf.getvalue() == text:
            return y, data, dash
    if sequence < offset + 2:
        offset, sequence = 2, 4
    return _yaml(2, sequence, offset, explicit_start=explicit), data, offset


def _load(text: str) -> Any:
    """What outreach reads from this text (PyYAML, YAML 1.1); MISSING if it cannot."""
    try:
        return yaml.load(text, Loader=yamlsrc._Loader)
    except yaml.YAMLError:
        return MISSING


def _comment_or_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _chunks(text: str, offset: int) -> list[list[str]]:
    """The lines before the first contact, then each contact's lines (up to the next one's "- "
    line, so with the comments and blank lines that follow it)."""
    start = re.compile(" " * offset + r"-( |$)")
    chunks: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if start.match(line):
            chunks.append([])
        chunks[-1].append(line)
    return chunks


def _comments_after_insertions(before: str, after: str, offset: int) -> str:
    """ruamel keeps the blank lines and comments that follow a value with that value, so a key
    inserted after it lands below them (below the next contact's section comment). Move each
    inserted block up above such lines. Compared contact by contact (a diff of the whole file
    is too slow for a big one)."""
    old, new = _chunks(before, offset), _chunks(after, offset)
    if len(old) != len(new):
        return after
    out: list[str] = []
    for a, b in zip(old, new, strict=True):
        if a == b:
            out += b
            continue
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
            if tag == "insert":
                moved: list[str] = []
                while out and _comment_or_blank(out[-1]):
                    moved.insert(0, out.pop())
                out += b[j1:j2] + moved
            else:
                out += b[j1:j2]
    return "".join(out)
