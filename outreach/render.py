"""Templates: sandboxed Jinja with StrictUndefined, front matter, Markdown -> text + HTML.

A template file is Markdown with a YAML front matter block::

    ---
    subject: Happy birthday, {{ contact.greet }}!
    cc: "{{ contact.family.spouse.name }} <...>"      # optional: cc, bcc, reply_to
    ---
    Hi {{ contact.greet }},
    ...

Contact data is only ever a value inside the context; it is never compiled as a template. A
``{{ expression }}`` that comes out as None or empty text is an error (no "Dear ,"); use an
explicit fallback such as ``{{ contact.nickname or contact.first }}`` or ``| fallback('there')``.

The body becomes two parts. The HTML part is the rendered body as Markdown. The plain-text part
is the same Markdown rendered as plain text (`markdown_to_text`): the template's own markup
becomes plain-text conventions (``Title <url>``, no ``**``), and every ``{{ value }}`` comes out
exactly as it is, whatever Markdown characters it holds: the body is rendered with each value
between two marks and backslash-escaped, so that CommonMark reads it as literal text.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from outreach import markup
from outreach.errors import Problem, RenderError
from outreach.markup import markdown_to_html, markdown_to_text
from outreach.model import PartialDate

FRONT_KEYS = ("subject", "cc", "bcc", "reply_to")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)
_EMPTY_GREETING = re.compile(
    # a greeting word, then a gap where the name should be, then punctuation: "Dear ," / "Hi !"
    r"^[ \t]*(dear|hi|hello|hey|happy birthday|congratulations)[ \t]+[,!.:;]",
    re.I | re.M,
)


def split_front_matter(source: str) -> tuple[str, str, int]:
    """(front matter text, body with the front matter blanked out, lines in front matter)."""
    m = _FRONT.match(source)
    if not m:
        return "", source, 0
    head = m.group(0)
    n = head.count("\n")
    return m.group(1), "\n" * n + source[m.end() :], n


class _Loader(jinja2.FileSystemLoader):
    """Serves the body of each template; the front matter lines are blanked so line numbers
    in Jinja's errors are the file's line numbers."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        return split_front_matter(source)[1], filename, uptodate


class _Finalized(ValueError):
    pass


# while a body renders: mark and escape its values (never the front matter or follow-up titles)
_marking: contextvars.ContextVar[bool] = contextvars.ContextVar("outreach_marking", default=False)


# pass_context: evaluated at render time, also for constants (Jinja would otherwise finalize a
# constant {{ 'text' }} once, when it compiles the template, whether marking or not)
@jinja2.pass_context
def _finalize(context: Any, value: Any) -> Any:
    if value is None:
        raise _Finalized("a value in {{ }} is None (missing)")
    if isinstance(value, str) and not value.strip():
        raise _Finalized("a value in {{ }} is empty")
    if isinstance(value, PartialDate):
        value = friendly_date(value)
    if not _marking.get():
        return value
    text = str(value)
    if markup.VALUE_START in text:
        return text  # the output of a macro or a {% set %} block: already marked inside
    return markup.mark(text)


# --------------------------------------------------------------------------- helpers for notes


def ordinal(n: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def possessive(name: str) -> str:
    """Jane -> Jane's, James -> James'."""
    name = str(name)
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"


def friendly_date(value: dt.date | PartialDate | None, style: str = "long") -> str:
    """'Sunday, April 12' (long), 'April 12' (short), '12 April' (day-first)."""
    if value is None:
        raise _Finalized("friendly_date got None")
    if isinstance(value, PartialDate):
        value = value.in_year(value.year or 2000)
        if style == "long":
            style = "short"
    if isinstance(value, dt.datetime):
        value = value.date()
    if style == "short":
        return f"{value:%B} {value.day}"
    if style == "day-first":
        return f"{value.day} {value:%B}"
    return f"{value:%A}, {value:%B} {value.day}"


def fallback(value: Any, default: Any) -> Any:
    """The value, or ``default`` when it is missing, None or empty."""
    if isinstance(value, jinja2.Undefined) or value is None:
        return default
    if isinstance(value, str | list | tuple | dict) and not value:
        return default
    return value


def join_and(items: Any, word: str = "and") -> str:
    """['a','b','c'] -> 'a, b and c'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


class Environment(ImmutableSandboxedEnvironment):
    """The sandbox, plus the user's folder so that messages name templates relative to it."""

    root: Path | None = None
    # compiled front matter per template name, with the source it was compiled from
    front_cache: dict[str, tuple[str, dict[str, tuple[jinja2.Template, int]]]]


def environment(templates_dir: Path, root: Path | None = None) -> Environment:
    """The sandboxed environment for one templates folder; names in messages are relative to
    ``root`` (the user's folder)."""
    env = Environment(
        loader=_Loader(str(templates_dir)),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        ordinal=ordinal,
        possessive=possessive,
        friendly_date=friendly_date,
        fallback=fallback,
        join_and=join_and,
    )
    env.globals.update(ordinal=ordinal, possessive=possessive, friendly_date=friendly_date)
    env.root = (root or templates_dir.parent).resolve()
    env.front_cache = {}
    return env


# --------------------------------------------------------------------------- checking


def check_template(
    env: jinja2.Environment, name: str, file: str, line: int | None, path: str
) -> list[Problem]:
    """Problems with one template file: missing, front matter, Jinja syntax."""
    loader = env.loader
    assert isinstance(loader, _Loader)
    try:
        source, filename, _ = jinja2.FileSystemLoader.get_source(loader, env, name)
    except jinja2.TemplateNotFound:
        folder = _short(loader.searchpath[0], env)
        return [
            Problem(
                file,
                line,
                path,
                f"template '{name}' not found in {folder}",
                "create the file or fix the name",
            )
        ]
    tfile = _short(filename or name, env)
    problems: list[Problem] = []
    try:
        front = parse_front(source, tfile)
    except RenderError as exc:
        return [Problem(tfile, exc.line, "", exc.message, exc.hint)]
    if "subject" not in front:
        problems.append(
            Problem(
                tfile,
                1,
                "front matter",
                "no 'subject:' in the front matter",
                "start the file with ---, subject: ..., ---",
            )
        )
    for key, (value, vline) in front.items():
        try:
            env.from_string(value)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(
                Problem(
                    tfile,
                    vline,
                    f"front matter {key}",
                    f"template syntax error: {exc.message}",
                    "fix the {{ }} / {% %} tags",
                )
            )
    try:
        env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        where = _short(exc.filename or filename or name, env)
        problems.append(
            Problem(
                where,
                exc.lineno,
                "",
                f"template syntax error: {exc.message}",
                "fix the {{ }} / {% %} tags on this line",
            )
        )
    return problems


def _short(filename: str, env: jinja2.Environment) -> str:
    """A template path as the user sees it: relative to their folder."""
    root = getattr(env, "root", None)
    try:
        return str(Path(filename).resolve().relative_to(root)) if root else filename
    except ValueError:
        return filename


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


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    """A rendered template: ``text`` is the text/plain part (the body as plain text), ``html``
    the text/html part (the body rendered as Markdown)."""

    subject: str
    text: str
    html: str
    cc: str = ""
    bcc: str = ""
    reply_to: str = ""


def _template_line(tb: TracebackType | None, filename: str | None) -> int | None:
    line = None
    while tb is not None:
        code = tb.tb_frame.f_code
        ours = filename and code.co_filename == filename
        if ours or (code.co_filename == "<template>" and filename is None):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def fail(
    exc: BaseException, tfile: str, filename: str | None, line: int | None = None
) -> RenderError:
    if line is None:
        line = _template_line(sys.exc_info()[2], filename)
    if isinstance(exc, jinja2.UndefinedError):
        msg = str(exc.message or exc)
        m = re.search(r"has no attribute '([^']+)'|'([^']+)' is undefined", msg)
        name = (m.group(1) or m.group(2)) if m else ""
        return RenderError(
            f"unknown variable '{name}' ({msg})" if name else msg,
            "check the name against the README's template context, "
            "or give a fallback: {{ x | fallback('...') }}",
            template=tfile,
            line=line,
        )
    if isinstance(exc, _Finalized):
        return RenderError(
            f"{exc} for this contact",
            "give an explicit fallback, e.g. {{ contact.nickname or contact.first }} "
            "or {{ value | fallback('friend') }}",
            template=tfile,
            line=line,
        )
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return RenderError(
            f"template syntax error: {exc.message}",
            "fix the {{ }} / {% %} tags",
            template=tfile,
            line=exc.lineno,
        )
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return RenderError(
            f"not allowed in the sandbox: {exc}",
            "templates may only read values",
            template=tfile,
            line=line,
        )
    return RenderError(
        f"{type(exc).__name__}: {exc}", "fix the expression on this line", template=tfile, line=line
    )


def render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> Rendered:
    """Render template ``name`` with ``context``. Raises :class:`RenderError` with file and line."""
    loader = env.loader
    assert isinstance(loader, _Loader)
    try:
        source, filename, _ = jinja2.FileSystemLoader.get_source(loader, env, name)
    except jinja2.TemplateNotFound:
        raise RenderError(
            f"template '{name}' not found", "create the file or fix the campaign", template=name
        ) from None
    tfile = _short(filename or name, env)
    cache = env.front_cache if isinstance(env, Environment) else {}
    cached = cache.get(name)
    if cached is None or cached[0] != source:
        front = {
            key: (env.from_string(text), line)
            for key, (text, line) in parse_front(source, tfile).items()
        }
        cache[name] = cached = (source, front)
    values: dict[str, str] = {}
    for key, (template, line) in cached[1].items():
        try:
            value = template.render(context).strip()
        except Exception as exc:
            raise fail(exc, tfile, None, line) from None
        if "\r" in value or "\n" in value:
            raise RenderError(
                f"the rendered {key} holds a line break",
                "a header must be one line; check the front matter and the data",
                template=tfile,
                line=line,
            )
        values[key] = value
    marking = _marking.set(True)
    try:
        marked = env.get_template(name).render(context)
    except Exception as exc:
        raise fail(exc, tfile, filename) from None
    finally:
        _marking.reset(marking)
    body = markup.unmark(marked).strip("\n") + "\n"
    subject = values.get("subject", "")
    if not subject:
        raise RenderError(
            "the subject is empty", "give 'subject:' in the front matter", template=tfile, line=1
        )
    for text, what in ((subject, "subject"), (body, "body")):
        if "{{" in text or "{%" in text or "}}" in text:
            raise RenderError(
                f"the rendered {what} still holds '{{{{' or '{{%'",
                "check the template's tags and the contact's data",
                template=tfile,
            )
    m = _EMPTY_GREETING.search(body)
    if m:
        line = body[: m.start()].count("\n") + 1
        raise RenderError(
            f"the greeting '{m.group(0).strip()}' names nobody",
            "give the name an explicit fallback",
            template=tfile,
            line=line,
        )
    return Rendered(
        subject=subject,
        text=markdown_to_text(marked),
        html=markdown_to_html(body),
        cc=values.get("cc", ""),
        bcc=values.get("bcc", ""),
        reply_to=values.get("reply_to", ""),
    )


# --------------------------------------------------------------------------- the context


def contact_context(contact: Any, address: str | None, today: dt.date) -> dict[str, Any]:
    data: dict[str, Any] = contact.model_dump(mode="python")
    name = contact.name
    data.update(
        first=name.first,
        last=name.last,
        nickname=name.nickname,
        greet=name.greet,
        full_name=name.full,
        address=address,
        children=data["family"]["children"],
        spouse=data["family"]["spouse"],
        last_interaction=contact.last_interaction(today),
    )
    return data
