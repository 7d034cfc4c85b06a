"""The README's YAML reference, generated from the models.

Each of outreach.yaml, contacts.yaml and campaigns.yaml is written out key by key in the models'
order: the value shown is the field's example (``Field(examples=[...])``) or its default, the
comment its ``description``, preceded by ``required:`` for a required key and by the choices of a
``Literal`` or an enum, and followed by ``(default: ...)`` where the example is not the default.
Nested models are nested mappings; a list of models shows its example items, or (when empty by
default) one item commented out. ``tests/test_reference.py`` fails when the README and the models
disagree.

``python -m outreach.reference`` prints the blocks; ``python -m outreach.reference --write
README.md`` rewrites them in place (the first ```yaml block after each "## Reference: `file`"
heading).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import sys
import textwrap
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from outreach.campaigns import Campaign
from outreach.contacts import Contact
from outreach.fields import PartialDate
from outreach.settings import Settings

WIDTH = 100  # the longest line a block has, comments wrapped


@dataclass(frozen=True)
class Reference:
    """One file's block: its model, the top-level list key (None: the model is the file), the
    column its comments start at."""

    file: str
    model: type[BaseModel]
    list_key: str | None
    column: int

    @property
    def heading(self) -> str:
        return f"## Reference: `{self.file}`"


REFERENCES = (
    Reference("outreach.yaml", Settings, None, 31),
    Reference("contacts.yaml", Contact, "contacts", 41),
    Reference("campaigns.yaml", Campaign, "campaigns", 27),
)

_MISSING: Any = object()


# --------------------------------------------------------------------------- types


def _strip_none(annotation: Any) -> Any:
    """``X | None`` -> ``X`` (other unions are left as they are)."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _model_of(annotation: Any) -> type[BaseModel] | None:
    base = _strip_none(annotation)
    return base if isinstance(base, type) and issubclass(base, BaseModel) else None


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a ``tuple[Model, ...]``."""
    base = _strip_none(annotation)
    if get_origin(base) in (tuple, list):
        args = [a for a in get_args(base) if a is not Ellipsis]
        if len(args) == 1:
            return _model_of(args[0])
    return None


def _choices(annotation: Any) -> list[str]:
    """The values a ``Literal`` or an enum (also of a list's items) allows."""
    base = _strip_none(annotation)
    if get_origin(base) in (tuple, list):
        args = [a for a in get_args(base) if a is not Ellipsis]
        base = _strip_none(args[0]) if len(args) == 1 else base
    if get_origin(base) is Literal:
        return [str(a) for a in get_args(base)]
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return [str(m.value) for m in base]
    return []


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return _MISSING if info.default is PydanticUndefined else info.default


def _shown(info: FieldInfo, given: Any) -> Any:
    """What the reference shows: the value given (an enclosing example's), the field's example,
    else its default."""
    if given is not _MISSING:
        return given
    if info.examples:
        return info.examples[0]
    default = _default(info)
    if default is _MISSING and _model_of(info.annotation) is not None:
        return {}  # a required mapping: its own keys' examples
    if default is _MISSING:
        raise ValueError(f"a required field needs an example: {info}")
    return default


# --------------------------------------------------------------------------- values


def _plain_ok(text: str, in_flow: bool) -> bool:
    if re.fullmatch(r"\d{4}-\d\d-\d\d|--\d\d-\d\d", text):
        return True  # a date (a date field reads it so), or a date without the year
    if not text or text != text.strip() or re.fullmatch(r"[\d:.+-]+", text):
        return False
    doc = f"k: [{text}]" if in_flow else f"k: {text}"
    try:
        loaded = yaml.safe_load(doc)
    except yaml.YAMLError:
        return False
    return bool(loaded == {"k": [text] if in_flow else text})


def flow(value: Any, in_flow: bool = False) -> str:
    """A value as YAML on one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return flow(value.value, in_flow)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date | PartialDate):
        return str(value)
    if isinstance(value, str):
        return value if _plain_ok(value, in_flow) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, BaseModel):
        return flow(value.model_dump(mode="json", exclude_defaults=True), in_flow)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v, True) for v in value) + "]"
    raise TypeError(f"no YAML spelling for {value!r}")


def _comment(info: FieldInfo, shown: Any, nested: bool) -> str:
    text = info.description or ""
    choices = _choices(info.annotation)
    if choices:
        text = f"{' | '.join(choices)}: {text}"
    default = _default(info)
    if default is _MISSING:
        return f"required: {text}"
    plain_default = default not in (None, (), {}) and not isinstance(default, BaseModel)
    if not nested and plain_default and flow(shown) != flow(default):
        text += f" (default: {flow(default)})"
    return text


# --------------------------------------------------------------------------- lines

Line = tuple[str, str | None]  # the YAML text (indented), its comment


def _fields(model: type[BaseModel], given: dict[str, Any], indent: int) -> list[Line]:
    """The lines of a mapping of ``model``'s keys, each at ``indent``."""
    pad = " " * indent
    out: list[Line] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        value = _shown(info, given.get(name, _MISSING))
        sub = _model_of(info.annotation)
        item = _item_model(info.annotation)
        if sub is not None and (isinstance(value, dict | BaseModel)):
            out.append((f"{pad}{key}:", _comment(info, value, True)))
            over = value if isinstance(value, dict) else {}
            out += _fields(sub, over, indent + 2)
        elif item is not None:
            items = list(value)
            if items:
                out.append((f"{pad}{key}:", _comment(info, value, True)))
                for one in items:
                    out += _item(item, one if isinstance(one, dict) else {}, indent + 2)
            else:
                out.append((f"{pad}{key}: []", _comment(info, value, True) + ", for example:"))
                out += [
                    (f"{pad}  # {text[indent + 2 :]}", note)
                    for text, note in _item(item, {}, indent + 2)
                ]
        elif isinstance(value, str) and "\n" in value:
            out.append((f"{pad}{key}: |", _comment(info, value, False)))
            out += [(f"{pad}  {ln}", None) for ln in value.rstrip("\n").split("\n")]
        else:
            out.append((f"{pad}{key}: {flow(value)}", _comment(info, value, False)))
    return out


def _item(model: type[BaseModel], given: dict[str, Any], indent: int) -> list[Line]:
    """One ``- `` item of a list of ``model``s, its dash at ``indent``."""
    lines = _fields(model, given, indent + 2)
    text, note = lines[0]
    return [(" " * indent + "- " + text[indent + 2 :], note), *lines[1:]]


def _format(lines: Sequence[Line], column: int) -> str:
    out: list[str] = []
    for text, note in lines:
        if not note:
            out.append(text)
            continue
        start = max(column, len(text) + 2)
        indent = text[: len(text) - len(text.lstrip())]
        at = start if start + 20 <= WIDTH else len(indent) + 2  # else: the comment goes below
        if at != start:
            out.append(text)
            text = ""
        chunks = textwrap.wrap(
            note, WIDTH - at - 2, break_long_words=False, break_on_hyphens=False
        )
        for i, chunk in enumerate(chunks):
            head = text if i == 0 else ""
            if head.strip().startswith("#"):  # a commented-out line: its notes stay comments
                head = head if i == 0 else head[: head.index("#") + 1]
            out.append(f"{head.ljust(at)}# {chunk}")
    return "\n".join(out) + "\n"


def render(ref: Reference) -> str:
    """The YAML block of one file (without the ``` fence)."""
    if ref.list_key is None:
        return _format(_fields(ref.model, {}, 0), ref.column)
    return _format([(f"{ref.list_key}:", None), *_item(ref.model, {}, 2)], ref.column)


# --------------------------------------------------------------------------- the README

_FENCE = re.compile(r"```yaml\n(.*?)```", re.S)


def block_span(readme: str, ref: Reference) -> tuple[int, int]:
    """Where the block's text is in the README: the first ```yaml block after the heading."""
    m = _FENCE.search(readme, readme.index(ref.heading))
    if m is None:
        raise ValueError(f"no ```yaml block after {ref.heading}")
    return m.start(1), m.end(1)


def rewrite(readme: str) -> str:
    """The README with every reference block generated anew."""
    for ref in REFERENCES:
        start, end = block_span(readme, ref)
        readme = readme[:start] + render(ref) + readme[end:]
    return readme


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["--write"] and len(argv) == 2:
        path = Path(argv[1])
        text = path.read_text(encoding="utf-8")
        new = rewrite(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote the reference in {path}")
        return 0
    if argv:
        print("usage: python -m outreach.reference [--write README.md]", file=sys.stderr)
        return 2
    for ref in REFERENCES:
        print(f"{ref.heading}\n\n```yaml\n{render(ref)}```\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
