"""A template's front matter: the YAML block between ``---`` lines at the top of the file.

Its keys are the headers of the draft (subject, cc, bcc, reply_to), each a template text. A value
that YAML does not read as text (one that begins with ``{{``, ``{%`` or ``[``) is named with the
fix: quote it.
"""

from __future__ import annotations

import re

import yaml

from outreach.errors import RenderError

FRONT_KEYS = ("subject", "cc", "bcc", "reply_to")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)

def split_front_matter(source: str) -> tuple[str, str, int]:
    """(front matter text, body with the front matter blanked out, lines in front matter)."""
    m = _FRONT.match(source)
    if not m:
        return "", source, 0
    head = m.group(0)
    n = head.count("\n")
    return m.group(1), "\n" * n + source[m.end() :], n


def parse_front(source: str, tfile: str) -> dict[str, tuple[str, int]]:
    """Front matter keys -> (template text, line)."""
    front, _, _ = split_front_matter(source)
    if not front.strip():
        return {}
    lines = front.splitlines()
    try:
        data = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        braced = _braced_value(lines)
        if braced is not None:
            n, key, value = braced
            quoted = f"'{value}'" if '"' in value else f'"{value}"'
            raise RenderError(
                f"the value of '{key}' begins with '{_opening(value)}', which YAML does not read "
                "as text",
                f"quote the value: {key}: {quoted}",
                template=tfile,
                line=n + 2,
            ) from None
        raise RenderError(
            "front matter is not valid YAML",
            "check the lines between the --- markers (quote a value that holds ': ' or '#')",
            template=tfile,
            line=(mark.line + 2) if mark else 1,
        ) from None
    if not isinstance(data, dict):
        raise RenderError(
            "front matter must be 'key: value' lines", "see the README", template=tfile, line=2
        )
    out: dict[str, tuple[str, int]] = {}
    for key, value in data.items():
        if key not in FRONT_KEYS:
            raise RenderError(
                f"unknown front matter key '{key}'",
                f"use one of: {', '.join(FRONT_KEYS)}",
                template=tfile,
                line=next((i + 2 for i, ln in enumerate(lines) if ln.startswith(f"{key}:")), 2),
            )
        line = next((i + 2 for i, ln in enumerate(lines) if ln.startswith(f"{key}:")), 2)
        if isinstance(value, dict | list | set):  # `subject: {x: y}` or `[a, b]`: not text
            raise RenderError(
                f"the value of '{key}' is not text",
                f"quote the value: {key}: \"...\"",
                template=tfile,
                line=line,
            )
        out[str(key)] = (str(value) if value is not None else "", line)
    return out


def _braced_value(lines: list[str]) -> tuple[int, str, str] | None:
    """The first front matter line whose unquoted value begins with a character YAML gives a
    meaning to (``{{`` and ``{%`` open a mapping, ``[`` a list, ``*`` an alias, ...):
    (index, key, value)."""
    for n, line in enumerate(lines):
        m = re.match(r"([A-Za-z_]+):[ \t]+([{\[&*!%@`].*?)\s*$", line)
        if m:
            return n, m.group(1), m.group(2)
    return None


def _opening(value: str) -> str:
    return value[:2] if value[:2] in ("{{", "{%") else value[:1]
