"""Pydantic's errors as the user's problems: each one a ``file:line: path: message; hint``.

:func:`validate` checks one YAML document (or part of one) against a model; :func:`validate_items`
checks a ``key: [items]`` file item by item, so one bad item is one problem. The locations pydantic
reports are mapped back onto the data (and so onto lines), and its error types onto messages
with hints ("did you mean 'birthday'?").
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from outreach import yamlsrc
from outreach.campaigns import DATE_FIELDS, TRIGGER_KINDS
from outreach.errors import Problem
from outreach.yamlsrc import Loc, Source, format_loc

M = TypeVar("M", bound=BaseModel)


def _data_path(data: Any, loc: Sequence[str | int]) -> Loc:
    """Map a pydantic location onto the data, dropping union tags that are not in the data."""
    out: list[str | int] = []
    cur = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        in_dict = isinstance(cur, dict) and isinstance(part, str) and part in cur
        in_list = isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        if in_dict or in_list:
            out.append(part)
            cur = cur[part]
        elif last:
            out.append(part)
        elif isinstance(part, str) and part in TRIGGER_KINDS:
            continue  # the discriminated union's tag
        else:
            out.append(part)
            cur = None
    return tuple(out)


def _known_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys allowed at ``loc`` (for 'did you mean')."""
    from typing import get_args, get_origin

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            if part in TRIGGER_KINDS and part not in current.model_fields:
                continue
            fld = current.model_fields.get(part)
            if fld is None:
                return []
            current = fld.annotation
        # unwrap Optional / tuple / Annotated / unions down to a model
        for _ in range(6):
            if isinstance(current, type) and issubclass(current, BaseModel):
                break
            args = [a for a in get_args(current) if a is not type(None) and a is not Ellipsis]
            if get_origin(current) is None and not args:
                break
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            current = models[0] if models else (args[0] if args else None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _message(err: Any, model: type[BaseModel], loc: Sequence[str | int]) -> tuple[str, str]:
    kind = err["type"]
    value = err.get("input")
    key = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        allowed = _known_keys(model, loc[:-1])
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else (f"allowed keys: {', '.join(allowed)}" if allowed else "remove it")
        )
        return f"unknown key '{key}'", hint
    if kind == "missing":
        return f"required key '{key}' is missing", f"add '{key}:'"
    if kind == "union_tag_not_found":
        return "a trigger needs a 'kind'", f"add 'kind:' with one of: {', '.join(TRIGGER_KINDS)}"
    if kind == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag", value)
        return f"unknown trigger kind '{tag}'", f"use one of: {', '.join(TRIGGER_KINDS)}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        if key == "field":
            close = difflib.get_close_matches(str(value), DATE_FIELDS, n=1)
            hint = (
                f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(DATE_FIELDS)}"
            )
            return f"unknown date field '{value}'", hint
        return f"'{value}' is not allowed here", f"use {expected}"
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return f"'{value}' is not allowed here", f"use {expected}"
    if kind in (
        "email",
        "timezone",
        "country",
        "slug",
        "partial_date",
        "impossible_date",
        "header_crlf",
        "control_char",
        "email_ascii",
        "empty",
        "clock",
        "before_and_after",
        "no_output",
        "followup_id",
        "url",
        "steps_template",
        "holiday_category",
    ):
        hints = {
            "email": "write it as name@domain.tld",
            "timezone": "use an IANA name such as Europe/Berlin or America/Chicago",
            "country": "use a two-letter ISO code such as US, GB or DE",
            "slug": "use lowercase letters, digits and dashes, e.g. jane-doe",
            "partial_date": "write YYYY-MM-DD, or --MM-DD when the year is unknown",
            "impossible_date": "check the month and day",
            "header_crlf": "put it on one line",
            "control_char": "delete it: most editors do not show it",
            "email_ascii": "ask the person for an address in plain ASCII letters before the @",
            "empty": "give a value or remove the key",
            "clock": "write it as HH:MM in quotes, e.g. '08:30'",
            "before_and_after": "keep one: 'before: N' (days before) or 'after: N' (days after)",
            "no_output": "name a template, or list followups (calls, cards, gifts, reviews)",
            "followup_id": "give each follow-up its own 'id:'",
            "url": "write the whole address, e.g. https://gmail.googleapis.com/",
            "steps_template": "add 'template:' for the first note",
            "holiday_category": "leave 'categories' out to search them all",
        }
        return str(err["msg"]), hints[kind]
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"'{value}' is not a whole number", "write a number such as 7"
    if kind in ("bool_type", "bool_parsing"):
        return f"'{value}' is not true or false", "write true or false"
    if kind in (
        "date_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
    ):
        return f"'{value}' is not a date", "write YYYY-MM-DD"
    if kind in ("string_type",):
        return f"expected text, got {type(value).__name__} '{value}'", "quote the value"
    if kind in ("tuple_type", "list_type"):
        return (
            f"expected a list, got {type(value).__name__}",
            "write a YAML list: [a, b] or '- a' lines",
        )
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return (
            f"expected a mapping of keys, got {type(value).__name__}",
            "indent 'key: value' lines under it",
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{value} is out of range ({err['msg'].lower()})", "pick a value in range"
    return str(err["msg"]), "see the README reference"


def validate(model: type[M], source: Source, *, at: Loc = ()) -> tuple[M | None, list[Problem]]:
    try:
        return model.model_validate(source.data), []
    except ValidationError as exc:
        problems: list[Problem] = []
        for err in exc.errors():
            loc = _data_path(source.data, (*at, *err["loc"]))
            msg, hint = _message(err, model, err["loc"])
            path, msg = yamlsrc.printable(format_loc(loc)), yamlsrc.printable(msg)
            problems.append(Problem(source.name, source.line_of(loc), path, msg, hint))
        return None, problems


def validate_items(
    model: type[M], source: Source, key: str, known: list[Problem]
) -> tuple[list[tuple[int, M]], list[Problem]]:
    """Validate a top-level ``key: [items]`` file item by item, so one bad item is one problem.
    Problems at a place that ``known`` already reports (an impossible date) are not repeated."""
    problems: list[Problem] = []
    already = {(p.line, p.path) for p in known}
    data = source.data
    if not isinstance(data, dict):
        return [], [
            Problem(
                source.name,
                1,
                "",
                f"expected a mapping with a '{key}:' list",
                f"start the file with '{key}:'",
            )
        ]
    extra = [k for k in data if k != key]
    for k in extra:
        problems.append(
            Problem(
                source.name,
                source.line_of((k,)),
                k,
                f"unknown key '{k}'",
                f"the file holds only '{key}:'",
            )
        )
    items = data.get(key)
    if not isinstance(items, list):
        return [], [
            *problems,
            Problem(
                source.name,
                source.line_of((key,)) or 1,
                key,
                "expected a list",
                f"write '{key}:' followed by '- ' items",
            ),
        ]
    good: list[tuple[int, M]] = []
    for i in range(len(items)):
        obj, errs = validate(model, source.within((key, i)))  # lines found only for a problem
        for p in errs:
            path = f"{key}[{i}]" + (
                p.path if not p.path or p.path.startswith("[") else f".{p.path}"
            )
            if (p.line, path) not in already:
                problems.append(Problem(p.file, p.line, path, p.message, p.hint))
        if obj is not None:
            good.append((i, obj))
    return good, problems
