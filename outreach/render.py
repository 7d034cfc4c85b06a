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

The address keys (cc, bcc, reply_to) become (name, address) pairs whose structure is the
template's, never the data's (`outreach.addresses`). Every render runs in the bounded sandbox
(`outreach.sandbox`, `outreach.limits`), and so does turning the body into its two parts.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from outreach import addresses, markup, skeleton
from outreach.addresses import Pair
from outreach.errors import Problem, RenderError
from outreach.filters import Missing, fallback, friendly_date, join_and, ordinal, possessive
from outreach.frontmatter import parse_front, split_front_matter
from outreach.limits import TemplateLimit, bounded, out_of_memory, template_line
from outreach.model import PartialDate
from outreach.sandbox import BoundedEnvironment

ADDRESS_KEYS = ("cc", "bcc", "reply_to")
_SURROGATE = re.compile("[\ud800-\udfff]")  # (only broken data holds one: not UTF-8)
_EMPTY_GREETING = re.compile(
    # a greeting word, then a gap where the name should be, then punctuation: "Dear ," / "Hi !"
    r"^[ \t]*(dear|hi|hello|hey|happy birthday|congratulations)[ \t]+[,!.:;]",
    re.I | re.M,
)


class _Loader(jinja2.FileSystemLoader):
    """Serves the body of each template; the front matter lines are blanked so line numbers
    in Jinja's errors are the file's line numbers. Files are UTF-8, with or without a BOM."""

    def __init__(self, searchpath: str) -> None:
        super().__init__(searchpath, encoding="utf-8-sig")
        # each file as last read, while its modification time stays the same (one stat a note)
        self._read: dict[str, tuple[str, str, Callable[[], bool]]] = {}

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = self.whole_source(environment, template)
        return split_front_matter(source)[1], filename, uptodate

    def whole_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        """The file as it is, front matter included. Raises TemplateNotFound, and RenderError
        for a file that cannot be read or is not UTF-8."""
        kept = self._read.get(template)
        if kept is not None and kept[2]():
            return kept
        where = _short(str(Path(self.searchpath[0]) / template), environment)
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except jinja2.TemplateNotFound:  # (an OSError too)
            raise
        except UnicodeDecodeError:
            raise RenderError(
                "the template is not UTF-8 text", "save it as UTF-8", template=where
            ) from None
        except OSError as exc:
            raise RenderError(
                f"cannot read the template: {exc.strerror or exc}",
                "check the file and its permissions",
                template=where,
            ) from None
        self._read[template] = (source, filename or template, uptodate)
        return self._read[template]


# what becomes of each {{ value }} while a body renders (marked and escaped for the plain-text
# part) or an address header (a placeholder, see addresses.Slots); never in a subject or follow-up
_marking: contextvars.ContextVar[Callable[[str], str] | None] = contextvars.ContextVar(
    "outreach_marking", default=None
)


def _mark_body(text: str) -> str:
    if markup.VALUE_START in text:
        return text  # the output of a macro or a {% set %} block: already marked inside
    return markup.mark(text)


# pass_context: evaluated at render time, also for constants (Jinja would otherwise finalize a
# constant {{ 'text' }} once, when it compiles the template, whether marking or not)
@jinja2.pass_context
def _finalize(context: Any, value: Any) -> Any:
    if value is None:
        raise Missing("a value in {{ }} is None (missing)")
    if isinstance(value, str) and not value.strip():
        raise Missing("a value in {{ }} is empty")
    if isinstance(value, PartialDate):
        value = friendly_date(value)
    mark = _marking.get()
    return value if mark is None else mark(str(value))


class Environment(BoundedEnvironment):
    """The bounded sandbox, plus the user's folder so that messages name templates relative
    to it."""

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
    env.add_filters(
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
        source, filename, _ = loader.whole_source(env, name)
    except RenderError as exc:
        return [Problem(exc.template, None, "", exc.message, exc.hint)]
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
    return _relative(filename, root) if root else filename


@functools.lru_cache(maxsize=256)
def _relative(filename: str, root: Path) -> str:
    try:
        return str(Path(filename).resolve().relative_to(root))
    except ValueError:
        return filename


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    """A rendered template: ``text`` is the text/plain part (the body as plain text), ``html``
    the text/html part (the body rendered as Markdown)."""

    subject: str
    text: str
    html: str
    cc: tuple[Pair, ...] = ()  # (display name, address): exactly those the template wrote
    bcc: tuple[Pair, ...] = ()
    reply_to: tuple[Pair, ...] = ()
    file: str = ""  # the template, as messages name it


def fail(
    exc: BaseException, tfile: str, filename: str | None, line: int | None = None
) -> RenderError:
    if line is None:
        line = template_line(sys.exc_info()[2], filename)
    if isinstance(exc, RenderError):  # an included template that cannot be read
        return exc
    if isinstance(exc, TemplateLimit):
        return RenderError(exc.message, exc.hint, template=tfile, line=line or exc.line)
    if isinstance(exc, MemoryError):
        limit = out_of_memory()
        return RenderError(limit.message, limit.hint, template=tfile, line=line)
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
    if isinstance(exc, Missing):
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
        source, filename, _ = loader.whole_source(env, name)
    except jinja2.TemplateNotFound:
        raise RenderError(
            f"template '{name}' not found", "create the file or fix the campaign", template=name
        ) from None
    tfile = _short(filename, env)
    values, pairs = _front(env, name, source, tfile, context)
    marking = _marking.set(_mark_body)
    try:
        marked = env.get_template(name).render(context)
    except Exception as exc:
        raise fail(exc, tfile, filename) from None
    finally:
        _marking.reset(marking)
    note = skeleton.Note(marked)
    written = note.unmarked  # the front matter's lines blank: lines are the file's
    body = written.strip("\n") + "\n"
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
    m = _SURROGATE.search(written)
    if m:
        raise RenderError(
            f"the note holds U+{ord(m.group(0)):04X}, which is not a character",
            "check the data the template quotes (a description, a title, a note)",
            template=tfile,
            line=written[: m.start()].count("\n") + 1,
        )
    m = _EMPTY_GREETING.search(written)
    if m:
        line = written[: m.start()].count("\n") + 1
        raise RenderError(
            f"the greeting '{m.group(0).strip()}' names nobody",
            "give the name an explicit fallback",
            template=tfile,
            line=line,
        )
    try:
        # = markdown_to_text(marked), markdown_to_html(body); each parse bounded
        text, html = note.parts(lambda: bounded(_SLOW_MARKDOWN))
    except (TemplateLimit, MemoryError) as exc:
        limit = exc if isinstance(exc, TemplateLimit) else out_of_memory()
        raise RenderError(limit.message, limit.hint, template=tfile) from None
    return Rendered(
        subject, text, html, pairs.get("cc", ()), pairs.get("bcc", ()), pairs.get("reply_to", ()),
        tfile,
    )


_SLOW_MARKDOWN = TemplateLimit(
    "the note is too long or too intricate to format as text and HTML in time",
    "look for a very long value in the data (a description, a note) and shorten it",
)


def _front(
    env: jinja2.Environment, name: str, source: str, tfile: str, context: dict[str, Any]
) -> tuple[dict[str, str], dict[str, tuple[Pair, ...]]]:
    """The rendered front matter: text values, and (name, address) pairs of the address keys,
    whose structure comes from the template alone (see `addresses`)."""
    cache = env.front_cache if isinstance(env, Environment) else {}
    cached = cache.get(name)
    if cached is None or cached[0] != source:
        front = {}
        for key, (text, line) in parse_front(source, tfile).items():
            try:
                front[key] = (env.from_string(text), line)
            except Exception as exc:
                raise fail(exc, tfile, None, line) from None
        cache[name] = cached = (source, front)
    values: dict[str, str] = {}
    pairs: dict[str, tuple[Pair, ...]] = {}
    for key, (template, line) in cached[1].items():
        slots = addresses.Slots() if key in ADDRESS_KEYS else None
        marking = _marking.set(slots.mark if slots else None)
        try:
            value = template.render(context).strip()
        except Exception as exc:
            raise fail(exc, tfile, None, line) from None
        finally:
            _marking.reset(marking)
        bad = addresses.bad_character(slots.fill(value) if slots else value)
        if bad:
            raise RenderError(
                f"the rendered {key} holds {bad}",
                "a header must be one line of text; check the front matter and the data",
                template=tfile,
                line=line,
            )
        if slots is None:
            values[key] = value
            continue
        try:
            pairs[key] = addresses.parse(value, slots, key)
        except addresses.AddressRefused as exc:
            raise RenderError(exc.message, exc.hint, template=tfile, line=line) from None
    return values, pairs


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
