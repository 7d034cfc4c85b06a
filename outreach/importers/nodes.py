"""contacts.yaml data as ruamel.yaml nodes in the README's style, and its key order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

from outreach.model import Contact, Dates, Emails, Family, Name, Profile

_PYYAML_RESOLVER = yaml.resolver.Resolver()
_FLOW_MAPS = {("name",), ("family", "spouse"), ("family", "children", "*")}
_FLOW_SEQS = {("tags",), ("profile", "hobbies"), ("profile", "interests")}
_DATES = {("dates", "birthday"), ("dates", "wedding")}


def _scalar(value: str) -> Any:
    """A string that PyYAML (YAML 1.1, what outreach reads with) reads back as the same string."""
    if "\n" in value:
        return LiteralScalarString(value + "\n")
    tag = _PYYAML_RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return value if tag == "tag:yaml.org,2002:str" else SingleQuotedScalarString(value)


def as_node(value: Any, path: tuple[str, ...] = ()) -> Any:
    """contacts.yaml data as ruamel nodes, in the README's style: ``name: {first: .., last: ..}``,
    ``tags: [a, b]``, children one flow mapping per line, year-less dates quoted."""
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = as_node(v, (*path, k))
        if path in _FLOW_MAPS:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(as_node(v, (*path, "*")) for v in value)
        if path in _FLOW_SEQS:
            s.fa.set_flow_style()
        return s
    if isinstance(value, str) and (path in _DATES or path[-1:] == ("birthday",)):
        if value.startswith("--"):
            return SingleQuotedScalarString(value)
        return dt.date.fromisoformat(value)
    if isinstance(value, str):
        return _scalar(value)
    return value


# Key order in contacts.yaml: the model's field order, at every level.
KEY_ORDER: dict[tuple[str, ...], list[str]] = {
    (): list(Contact.model_fields),
    ("name",): list(Name.model_fields),
    ("email",): list(Emails.model_fields),
    ("dates",): list(Dates.model_fields),
    ("family",): list(Family.model_fields),
    ("profile",): list(Profile.model_fields),
}


def put_key(target: Any, key: str, value: Any, order: list[str]) -> None:
    """Set ``key`` in a ruamel mapping: in place if it is there, else after the keys that come
    before it in contacts.yaml's order."""
    if key in target:
        target[key] = value
        return
    rank = {k: i for i, k in enumerate(order)}
    pos = 0
    for i, existing in enumerate(target):
        if rank.get(existing, -1) < rank.get(key, len(order)):
            pos = i + 1
    target.insert(pos, key, value)
