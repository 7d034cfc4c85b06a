"""The sandbox every template runs in: Jinja's immutable sandbox, bounded.

A template is the user's own file, but it may come from anywhere (a colleague, a web page), and
the values it is given come from contacts, calendars and feeds. Whatever either holds, one render
(a subject, a cc, a body, a follow-up title) ends quickly with text of a sensible size, or raises
a :class:`TemplateLimit` that says what went too far; the night goes on with the other touches.

- Time and memory: every render runs inside `limits.bounded`.
- Size: a render writes at most MAX_CHARS characters (counted as it writes them), and an operator,
  method or filter that would build a longer string, a list of more than MAX_ITEMS items or an
  integer of more than MAX_INT_BITS bits is refused *before* it builds it: ``"x" * 3000000000``,
  ``"x".ljust(10**9)``, ``"%0999999999d" | format(1)``, ``(9**9)**(9**9)``. ``range()`` gives at
  most MAX_ITEMS numbers.
- Compiling: the operators the sandbox intercepts are not folded at compile time, so loading a
  template cannot hang either; a template nested too deeply for Jinja or Python to compile is a
  TemplateSyntaxError like any other (line 1).

A template that ran out of time once is refused at once for the other contacts of the same
environment (one night, one ``check``): a loop that runs for seconds is a broken template.
"""

from __future__ import annotations

import functools
import re
import string
from collections import ChainMap
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from types import CodeType
from typing import Any, overload

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum

from outreach.limits import (
    MAX_CHARS,
    MAX_INT_BITS,
    MAX_ITEMS,
    Stalled,
    TemplateLimit,
    bounded,
    built,
    out_of_memory,
    template_line,
    tick,
    too_long,
)

# --------------------------------------------------------------------------- estimates


def _size(value: Any) -> int:
    """What a value weighs written out: a string its length, a list its items (one at least)."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple):
        return len(value) + sum(_size(v) for v in value)
    return 1


def _check(what: str, chars: int, items: int = 0) -> None:
    if chars > MAX_CHARS:
        raise built(what, chars)
    if items > MAX_ITEMS:
        raise built(what, items, "items", MAX_ITEMS)


def _checked(what: str, value: Any) -> Any:
    """The value, unless it is longer than a template may build."""
    if isinstance(value, str | bytes) and len(value) > MAX_CHARS:
        raise built(what, len(value))
    if isinstance(value, list | tuple):
        _check(what, _size(value), len(value))
    return value


def _collect(what: str, items: Iterable[Any]) -> list[Any]:
    """An iterator as a list, stopped as soon as it grows too long."""
    out: list[Any] = []
    size = 0
    for item in items:
        tick()
        out.append(item)
        size += _size(item)
        _check(what, size, len(out))
    return out


_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent(fmt: str, args: Any) -> None:
    """``fmt % args`` (the ``%`` operator, the ``format`` filter): no field wider than allowed."""
    if isinstance(args, Mapping):
        values = list(args.values())
    else:
        values = list(args) if isinstance(args, tuple) else [args]
    for width, precision in _PERCENT.findall(fmt):
        for n in (width, precision):
            if n == "*":
                for v in values:
                    if isinstance(v, int) and v > MAX_CHARS:
                        raise built("'%' formatting", v)
            elif n and int(n) > MAX_CHARS:
                raise built("'%' formatting", int(n))


def _check_format(fmt: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """``fmt.format(...)``: no field wider than allowed, also when the width is an argument."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # format() says what is wrong
    for _, _, spec, _ in fields:
        for n in re.findall(r"\d+", spec or ""):
            if int(n) > MAX_CHARS:
                raise built("format()", int(n))
        if spec and "{" in spec:
            for v in (*args, *kwargs.values()):
                if isinstance(v, int) and v > MAX_CHARS:
                    raise built("format()", v)


def _check_binop(op: str, left: Any, right: Any) -> None:
    if op == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            bits = left.bit_length() * right
            if bits > MAX_INT_BITS:
                raise built(f"'{op}'", bits, "bits", MAX_INT_BITS)
    elif op == "*":
        if isinstance(left, int) and isinstance(right, int):
            bits = left.bit_length() + right.bit_length()
            if bits > MAX_INT_BITS:
                raise built(f"'{op}'", bits, "bits", MAX_INT_BITS)
            return
        seq, n = (left, right) if isinstance(right, int) else (right, left)
        if isinstance(seq, str | bytes | list | tuple) and isinstance(n, int) and n > 0:
            _check(f"'{op}'", _size(seq) * n, 0 if isinstance(seq, str | bytes) else len(seq) * n)
    elif op == "+":
        for kind in (str, bytes, list, tuple):
            if isinstance(left, kind) and isinstance(right, kind):
                items = 0 if kind in (str, bytes) else len(left) + len(right)
                _check(f"'{op}'", _size(left) + _size(right), items)
    elif op == "%" and isinstance(left, str):
        _check_percent(left, right)


def _padded(s: str, width: Any, *_: Any) -> int:
    return max(len(s), int(width))


def _replaced(s: str, old: str, new: str, count: int = -1) -> int:
    times = s.count(old) if old else len(s) + 1
    if count >= 0:
        times = min(times, count)
    return len(s) + times * max(len(new) - len(old), 0)


def _translated(s: str, table: Any) -> int:
    longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
    return len(s) * max(longest, 1)


# str methods that make longer strings than they are given: their result's length, estimated
_METHODS: dict[str, Callable[..., int]] = {
    "ljust": _padded,
    "rjust": _padded,
    "center": _padded,
    "zfill": _padded,
    "expandtabs": lambda s, tabsize=8: len(s) + s.count("\t") * int(tabsize),
    "replace": _replaced,
    "translate": _translated,
}


def _indented(s: Any, width: Any = 4, *_: Any, **__: Any) -> int:
    text = str(s)
    indent = len(width) if isinstance(width, str) else int(width)
    return len(text) + (text.count("\n") + 1) * indent


def _wrapped(s: Any, width: Any = 79, _: Any = True, wrapstring: Any = None, **__: Any) -> int:
    n = len(str(s))
    return n + (n // max(int(width), 1) + 1) * len(wrapstring or "\n")


# filters that make longer text than they are given: their result's length, estimated; and
# those that make lists of a given length
_FILTERS: dict[str, Callable[..., int]] = {
    "center": lambda s, width=80: _padded(str(s), width),
    "indent": _indented,
    "wordwrap": _wrapped,
    "replace": lambda s, old, new, count=None: _replaced(
        str(s), str(old), str(new), -1 if count is None else int(count)
    ),
}
_FILTER_ITEMS: dict[str, Callable[..., int]] = {
    "batch": lambda value, linecount, *a, **k: int(linecount),
    "slice": lambda value, slices, *a, **k: int(slices),
}


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """The filter, with its estimate checked first, an iterator given to it collected with a
    bound, and its result checked."""
    skip = 1 if hasattr(func, "jinja_pass_arg") else 0  # it takes the context or environment

    @functools.wraps(func)
    def bounded_filter(*args: Any, **kwargs: Any) -> Any:
        tick()
        if len(args) > skip and isinstance(args[skip], Iterator):
            args = (*args[:skip], _collect(f"'|{name}'", args[skip]), *args[skip + 1 :])
        value = args[skip:]
        try:
            chars = _FILTERS[name](*value, **kwargs) if name in _FILTERS else 0
            items = _FILTER_ITEMS[name](*value, **kwargs) if name in _FILTER_ITEMS else 0
            if name == "format" and value:
                _check_percent(str(value[0]), kwargs or tuple(value[1:]))
        except (TypeError, ValueError, AttributeError):
            chars = items = 0  # the filter itself says what is wrong with its arguments
        _check(f"'|{name}'", chars, items)
        return _checked(f"'|{name}'", func(*args, **kwargs))

    return bounded_filter


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    _check("lipsum()", int(n) * int(max) * 12)
    return str(generate_lorem_ipsum(n, html, min, max))


class _Range(Sequence[int]):
    """``range()`` in a template: at most MAX_ITEMS numbers, and a loop over it looks at the
    clock at each step (a loop inside a loop stops in time in any thread)."""

    def __init__(self, *args: int) -> None:
        self.numbers = range(*args)
        _check("range()", 0, len(self.numbers))

    def __len__(self) -> int:
        return len(self.numbers)

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> range: ...

    def __getitem__(self, index: int | slice) -> int | range:
        return self.numbers[index]

    def __iter__(self) -> Iterator[int]:
        for n in self.numbers:
            tick()
            yield n

    def __repr__(self) -> str:
        return repr(self.numbers)


# --------------------------------------------------------------------------- the environment


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator; ``a ~ b`` is checked like the operators."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.joined(")
        super().visit_Concat(node, frame)
        self.write(")")


def _too_nested(name: str | None, filename: str | None) -> jinja2.TemplateSyntaxError:
    return jinja2.TemplateSyntaxError(
        "the template nests brackets, filters or blocks too deeply",
        1,
        name,
        None if filename == "<template>" else filename,
    )


class BoundedTemplate(jinja2.Template):
    """A template whose ``render`` keeps the bounds."""

    stalled: TemplateLimit | None = None  # it ran out of time once: refused at once

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> Context:
        """Jinja's context for a render, its globals (a ChainMap over the template's and the
        environment's) merged once by dict updates, where Jinja iterates the ChainMap twice
        (``dict()`` and ``set()`` of it) for every render: the same context."""
        g = self.globals
        if shared or locals or type(g) is not ChainMap or any(type(m) is not dict for m in g.maps):
            return super().new_context(vars, shared, locals)
        merged: dict[str, Any] = {}
        for mapping in reversed(g.maps):
            merged.update(mapping)
        parent = dict(merged, **(vars or {}))
        return self.environment.context_class(
            self.environment, parent, self.name, self.blocks, globals=merged
        )

    def render(self, *args: Any, **kwargs: Any) -> str:
        if self.stalled is not None:
            raise TemplateLimit(self.stalled.message, self.stalled.hint, self.stalled.line)
        try:
            with bounded():
                return _written(self.generate(*args, **kwargs))
        except MemoryError as exc:
            limit = out_of_memory()
            limit.line = template_line(exc.__traceback__, self.filename)
            raise limit from None
        except Stalled as exc:
            line = template_line(exc.__traceback__, self.filename)
            self.stalled = TemplateLimit(exc.message, exc.hint, line)
            raise


def _written(chunks: Iterator[str]) -> str:
    """Output joined, stopped once it is too long; a template's output (a generator) gets the
    error thrown in, so that it names the line that wrote too much."""
    out: list[str] = []
    size = 0
    for chunk in chunks:
        tick()
        size += len(chunk)
        if size > MAX_CHARS:
            if isinstance(chunks, Generator):
                chunks.throw(too_long())
            raise too_long()
        out.append(chunk)
    return "".join(out)


_DICT_ATTRIBUTES = frozenset(dir({}))  # what getattr() finds on a plain dict


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the bounds of this module."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _CodeGenerator
    template_class = BoundedTemplate

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals.update(range=_Range, lipsum=_lipsum)
        self.filters.update({k: _bounded_filter(k, f) for k, f in self.filters.items()})

    def add_filters(self, **filters: Callable[..., Any]) -> None:
        """Add our own filters, bounded like Jinja's."""
        self.filters.update({k: _bounded_filter(k, f) for k, f in filters.items()})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        tick()
        _check_binop(operator, left, right)
        return _checked(f"'{operator}'", super().call_binop(context, operator, left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        tick()
        name = getattr(obj, "__name__", "")
        if isinstance(getattr(obj, "__self__", None), str):
            if name == "join" and args:
                args = (_collect("join()", args[0]), *args[1:])
                _check("join()", sum(_size(a) for a in args[0]) + len(obj.__self__) * len(args[0]))
            elif name in _METHODS:
                try:
                    chars = _METHODS[name](obj.__self__, *args, **kwargs)
                except (TypeError, ValueError, AttributeError):
                    chars = 0  # the method itself says what is wrong with its arguments
                _check(f"{name}()", chars)
        return _checked(f"{name or 'the call'}()", super().call(context, obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        tick()
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            # what Jinja gives for ``contact.greet``: the item, after getattr() failed (the
            # template context is dicts: a draft reads a few of them, each one an exception)
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        tick()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        fmt, format_map = str(value.__self__), value.__name__ == "format_map"

        @functools.wraps(wrapper)
        def bounded_format(*args: Any, **kwargs: Any) -> str:
            mapping = args[0] if format_map and args and isinstance(args[0], Mapping) else kwargs
            _check_format(fmt, () if format_map else args, dict(mapping))
            return str(_checked("format()", wrapper(*args, **kwargs)))

        return bounded_format

    def concat(self, parts: Iterable[str]) -> str:
        """The output of macros, ``{% set %}`` blocks and ``{% filter %}`` blocks, bounded."""
        return _written(iter(parts))

    def joined(self, text: str) -> str:
        """``a ~ b``: checked after the join (each side is already within bounds)."""
        return str(_checked("'~'", text))

    # compiling: too long, or too deep for Jinja's parser or Python's compiler, is a syntax error

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        if len(source) > MAX_CHARS:  # (compiling takes time in proportion)
            raise jinja2.TemplateSyntaxError(
                f"the template is longer than {MAX_CHARS:,} characters", 1, name, filename
            )
        try:
            return super()._parse(source, name, filename)
        except (RecursionError, MemoryError):
            raise _too_nested(name, filename) from None

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        try:
            return super()._generate(source, name, filename, defer_init)
        except (RecursionError, MemoryError):
            raise _too_nested(name, filename) from None

    def _compile(self, source: str, filename: str) -> CodeType:
        try:
            return super()._compile(source, filename)
        except (SyntaxError, RecursionError, MemoryError):
            raise _too_nested(None, filename) from None
