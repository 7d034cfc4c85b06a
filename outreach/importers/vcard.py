"""vCard 2.1, 3.0 and 4.0, with Apple's ``itemN.X-ABDATE`` / ``X-ABRELATEDNAMES`` /
``X-ABLabel`` grouping and the older programs' anniversary, spouse and child properties."""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass

from outreach.errors import UsageError
from outreach.importers.records import WEDDING_LABELS, Record, as_tag, email_kind, plain_label

# The wedding anniversary: vCard 4's property and the ones programs used before it (KDE,
# Evolution, Outlook)
_ANNIVERSARY_PROPS = {"ANNIVERSARY", "X-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY", "X-MS-ANNIVERSARY"}


@dataclass
class _Prop:
    group: str
    name: str
    params: dict[str, list[str]]
    value: str

    def types(self) -> set[str]:
        return {t.strip().casefold() for v in self.params.get("TYPE", []) for t in v.split(",")}


def _is_quoted_printable(line: str) -> bool:
    head = line.split(":", 1)[0]
    return "QUOTED-PRINTABLE" in head.upper()


def _unfold(text: str) -> list[str]:
    """Logical lines: folded lines (a leading space or tab) joined, and quoted-printable soft
    line breaks (a value ending in '=') joined."""
    out: list[str] = []
    for line in re.split(r"\r\n|\r|\n", text):
        if out and out[-1].endswith("=") and _is_quoted_printable(out[-1]):
            out[-1] = out[-1][:-1] + line
        elif line[:1] in (" ", "\t") and out:
            out[-1] += line[1:]
        elif line.strip():
            out.append(line)
    return out


def _split(text: str, sep: str | None, *, quotes: bool = False, escapes: bool = False) -> list[str]:
    """Split ``text`` on ``sep`` (None: do not split). ``quotes``: not inside double quotes (the
    quotes are kept). ``escapes``: not after a backslash, and the escapes are undone in each part
    (``\\n`` is a line break, ``\\,`` a comma, ...)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    chars = iter(text)
    for ch in chars:
        if escapes and ch == "\\":
            nxt = next(chars, "")
            current.append("\n" if nxt in ("n", "N") else nxt)
            continue
        if quotes and ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _parse_prop(line: str) -> _Prop | None:
    quoted = False
    for i, ch in enumerate(line):  # the first ':' outside quotes ends the name and parameters
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, value = line[:i], line[i + 1 :]
            break
    else:
        return None
    name_part, *param_parts = _split(head, ";", quotes=True)
    group, _, name = name_part.rpartition(".")
    params: dict[str, list[str]] = {}
    for p in param_parts:
        key, eq, val = p.partition("=")
        if not eq:  # vCard 2.1: EMAIL;WORK;QUOTED-PRINTABLE
            key, val = ("ENCODING" if p.upper() in ("QUOTED-PRINTABLE", "BASE64") else "TYPE"), p
        params.setdefault(key.strip().upper(), []).extend(
            v.strip().strip('"') for v in _split(val, ",", quotes=True)
        )
    return _Prop(group.strip().casefold(), name.strip().upper(), params, value)


def _decoded(prop: _Prop) -> str:
    """The raw value with quoted-printable decoded in its CHARSET (escapes still in)."""
    if "QUOTED-PRINTABLE" not in (e.upper() for e in prop.params.get("ENCODING", [])):
        return prop.value
    data = quopri.decodestring(prop.value.encode("utf-8"))
    charset = (prop.params.get("CHARSET") or ["utf-8"])[0]
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return data.decode("utf-8", errors="replace")


def _text(prop: _Prop) -> str:
    return _split(_decoded(prop), None, escapes=True)[0]


def _parts(prop: _Prop, sep: str) -> list[str]:
    return [p.strip() for p in _split(_decoded(prop), sep, escapes=True)]


_SKIP_PROPS = {"PHOTO", "LOGO", "SOUND", "KEY"}
# The phonetic name (Apple, Google and Android write these), in the order it is read out
_READING_PROPS = ("X-PHONETIC-FIRST-NAME", "X-PHONETIC-LAST-NAME")


def parse_vcard(text: str, name: str) -> tuple[list[Record], list[str]]:
    cards: list[tuple[int, list[_Prop]]] = []
    current: list[_Prop] | None = None
    depth = count = 0
    for line in _unfold(text):
        prop = _parse_prop(line)
        if prop is None:
            continue
        if prop.name == "BEGIN" and prop.value.strip().upper() == "VCARD":
            depth += 1
            if depth == 1:
                count += 1
                current = []
        elif prop.name == "END" and prop.value.strip().upper() == "VCARD":
            depth = max(0, depth - 1)
            if depth == 0 and current is not None:
                cards.append((count, current))
                current = None
        elif depth == 1 and current is not None and prop.name not in _SKIP_PROPS:
            current.append(prop)
    if current is not None:  # a file cut off before END:VCARD
        cards.append((count, current))
    if count == 0:
        raise UsageError(
            f"{name} holds no vCard (no BEGIN:VCARD line)", "export the contacts as vCard (.vcf)"
        )
    return [_card_record(n, props) for n, props in cards], []


def _card_record(number: int, props: list[_Prop]) -> Record:
    rec = Record(f"card {number}")
    labels = {p.group: plain_label(_text(p)) for p in props if p.name == "X-ABLABEL" and p.group}
    readings = {p.name: _text(p).strip() for p in props if p.name in _READING_PROPS}
    rec.reading = " ".join(readings[n] for n in _READING_PROPS if readings.get(n))
    company_card = False
    for p in props:
        label = labels.get(p.group, "")
        types = p.types()
        if p.name == "N":
            n = [*_parts(p, ";"), "", ""]
            rec.last, rec.first = n[0], n[1]
        elif p.name == "FN":
            rec.full = _text(p)
        elif p.name == "NICKNAME":
            rec.nickname = rec.nickname or next(iter(_parts(p, ",")), "")
        elif p.name == "EMAIL":
            address = re.sub(r"(?i)^mailto:", "", _text(p).strip())
            rec.emails.append((email_kind([*types, label]), address))
        elif p.name == "ORG":
            rec.company = rec.company or _parts(p, ";")[0]
        elif p.name == "TITLE":
            rec.title = rec.title or _text(p)
        elif p.name == "NOTE":
            rec.notes.append(_text(p))
        elif p.name == "BDAY":
            rec.birthday = rec.birthday or _text(p)
        elif p.name in _ANNIVERSARY_PROPS or (p.name == "X-ABDATE" and label in WEDDING_LABELS):
            rec.wedding = rec.wedding or _text(p)
        elif p.name in ("RELATED", "X-ABRELATEDNAMES"):
            value = _text(p).strip()
            is_uri = re.match(r"[a-z][a-z0-9+.-]*:", value, re.I) and "text" not in {
                v.casefold() for v in p.params.get("VALUE", [])
            }
            kinds = types | {label}
            if not value or is_uri:
                continue  # a reference to another card: no name to take
            rec.relate(kinds, [value])
        elif p.name in ("X-SPOUSE", "X-MS-SPOUSE", "X-EVOLUTION-SPOUSE"):
            rec.spouse = rec.spouse or _text(p).strip()
        elif p.name in ("X-CHILD", "X-MS-CHILD"):
            rec.children.append(_text(p).strip())
        elif p.name == "CATEGORIES":
            rec.tags += [t for t in map(as_tag, _parts(p, ",")) if t]
        elif p.name == "KIND" and _text(p).strip().casefold() in ("org", "group", "location"):
            rec.not_person = f"not a person (KIND:{_text(p).strip()})"
        elif p.name == "X-ABSHOWAS" and _text(p).strip().upper() == "COMPANY":
            company_card = True
    if company_card and not (rec.first or rec.last):
        rec.not_person = f"no name (a company card: {rec.company or rec.full})"
    return rec
