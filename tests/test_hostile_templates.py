"""Hostile templates and data (issue 9): every case ends in one line naming the template's line and
the contact, with the right exit code, no traceback, no hang; `check` says it (exit 2), `run` fails
only that touch (exit 1) and makes the others."""

from __future__ import annotations

import resource
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import campaign_data, contact_data, write_folder

from outreach import limits, markup, render
from outreach.cli import main
from outreach.errors import RenderError
from outreach.ledger import Ledger

DATE = "2026-11-22"
NOTE = "---\nsubject: Hi {{ contact.first }}\n---\nHi {{ contact.first }},\n"
HINT = "templates write short text: use smaller numbers"


def cli(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def hostile_folder(tmp_path: Path, body: str, **campaign: Any) -> Path:
    """Jane Doe (birthday on DATE) with two campaigns due: 'birthday' (a plain note) and
    'hostile', whose template has ``body`` on line 6."""
    return write_folder(
        tmp_path / "book",
        [contact_data(dates={"birthday": "--11-22"})],
        [campaign_data(), campaign_data("hostile", template="hostile.md", **campaign)],
        {"note.md": NOTE,
         "hostile.md": f"---\nsubject: Hi\n---\nHi {{{{ contact.first }}}},\n\n{body}\n"},
        limits={"per_contact_per_day": 2},
    )


def line(message: str, hint: str = HINT, at: str = "templates/hostile.md:6") -> str:
    return f"{at}: hostile/jane-doe/2026: {message} (contact jane-doe at contacts.yaml:2); {hint}"


CORPUS = [
    pytest.param(
        "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
        "range() would make 99,999 items (at most 10,000)", HINT, id="range"),
    pytest.param("{{ (9**9)**(9**9) }}", "'**' would make 11,235,194,181 bits (at most 20,000)",
                 HINT, id="power"),
    pytest.param('{{ "x" * 3000000000 }}',
                 "'*' would make 3,000,000,000 characters (at most 100,000)", HINT, id="times"),
    pytest.param('{{ "x".ljust(10**9) }}',
                 "ljust() would make 1,000,000,000 characters (at most 100,000)", HINT, id="ljust"),
    pytest.param('{{ "%0999999999d"|format(1) }}',
                 "'%' formatting would make 999,999,999 characters (at most 100,000)", HINT,
                 id="format-filter"),
    pytest.param('{{ "%0999999999d" % 1 }}',
                 "'%' formatting would make 999,999,999 characters (at most 100,000)", HINT,
                 id="percent"),
    pytest.param('{{ "{:>999999999}".format(1) }}',
                 "format() would make 999,999,999 characters (at most 100,000)", HINT,
                 id="str-format"),
    pytest.param('{{ "x"|center(10**9) }}',
                 "'|center' would make 1,000,000,000 characters (at most 100,000)", HINT,
                 id="center"),
    pytest.param('{{ range(10000)|join("x" * 1000) }}',
                 "'|join' would make 10,037,890 characters (at most 100,000)", HINT, id="join"),
    pytest.param('{{ range(10000)|map("center", 50000)|list }}',
                 "'|list' would make 150,000 characters (at most 100,000)", HINT, id="map-list"),
    pytest.param('{{ ("x" * 1000)|replace("x", "y" * 100000) }}',
                 "'|replace' would make 100,000,000 characters (at most 100,000)", HINT,
                 id="replace"),
    pytest.param("{{ lipsum(100000) }}",
                 "lipsum() would make 120,000,000 characters (at most 100,000)", HINT, id="lipsum"),
    pytest.param('{% set ns = namespace(x="x") %}{% for i in range(40) %}'
                 "{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x }}",
                 "'~' would make 131,072 characters (at most 100,000)", HINT, id="doubling"),
    pytest.param('{% macro d(s, n) %}{{ d(s ~ s, n - 1) if n else s }}{% endmacro %}'
                 '{{ d("x", 60) }}',
                 "'~' would make 131,072 characters (at most 100,000)", HINT, id="recursion"),
    pytest.param('{% for i in range(10000) %}{{ "x" * 1000 }}{% endfor %}',
                 "the template writes more than 100,000 characters",
                 "a note is short: look for a loop or a filter that repeats text", id="output"),
]


@pytest.mark.parametrize(("body", "message", "hint"), CORPUS)
def test_check_names_each_hostile_template_in_one_line(
    tmp_path: Path, body: str, message: str, hint: str
) -> None:
    """`outreach check` reports the bound that stopped the template, one line, exit 2."""
    code, _, err = cli(hostile_folder(tmp_path, body), "check", "--date", DATE)
    assert (code, err.splitlines()) == (2, [line(message, hint)])


@pytest.mark.parametrize(("body", "message", "hint"), CORPUS)
def test_run_fails_only_the_hostile_touch(
    tmp_path: Path, body: str, message: str, hint: str
) -> None:
    """`outreach run` fails that touch with the same line (exit 1) and drafts the other; the
    ledger records no draft that was not written."""
    root = hostile_folder(tmp_path, body)
    code, _, err = cli(root, "run", "--date", DATE)
    assert code == 1
    assert err.splitlines() == [
        line(message, hint),
        "outreach: 1 of 2 touches failed; fix the lines above, the next run retries them",
    ]
    assert [p.name for p in (root / "drafts").glob("*.eml")] == ["birthday--jane-doe--2026.eml"]
    ledger = Ledger.open(root / ".outreach" / "state.db")
    try:
        assert [r.key for r in ledger.rows("drafted")] == ["birthday/jane-doe/2026"]
    finally:
        ledger.close()


def test_a_template_that_runs_too_long_is_stopped(tmp_path: Path) -> None:
    """A loop inside a loop that would run for minutes stops after 3 seconds: check and run
    name its line; run makes the other draft."""
    root = hostile_folder(
        tmp_path, "{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}")
    slow = ("the template ran for more than 3 seconds and was stopped",
            "look for a loop inside a loop, or a loop over a long range()")
    started = time.monotonic()
    assert cli(root, "check", "--date", DATE)[::2] == (2, line(*slow) + "\n")
    code, _, err = cli(root, "run", "--date", DATE)
    assert (code, err.splitlines()[0]) == (1, line(*slow))
    assert time.monotonic() - started < 15
    assert (root / "drafts" / "birthday--jane-doe--2026.eml").is_file()


def test_a_slow_template_is_stopped_once_a_night(tmp_path: Path) -> None:
    """Ten people, one template that runs out of time: it is stopped once and refused at once for
    the other nine (the same line each), and the night ends in seconds with the ten other drafts
    made."""
    root = write_folder(
        tmp_path / "book",
        [contact_data(f"p{i}-doe", dates={"birthday": "--11-22"}) for i in range(10)],
        [campaign_data(), campaign_data("hostile", template="hostile.md")],
        {"note.md": NOTE, "hostile.md": "---\nsubject: Hi\n---\n{% for i in range(9999) %}"
         "{% for j in range(9999) %}{% endfor %}{% endfor %}Hi,\n"},
        limits={"per_contact_per_day": 2},
    )
    started = time.monotonic()
    code, _, err = cli(root, "run", "--date", DATE)
    assert time.monotonic() - started < 20
    assert code == 1
    failed = [ln for ln in err.splitlines() if ln.startswith("templates/hostile.md:4: hostile/")]
    assert len(failed) == 10
    assert all("the template ran for more than 3 seconds and was stopped" in ln for ln in failed)
    assert len(list((root / "drafts").glob("birthday--*.eml"))) == 10


@pytest.mark.parametrize("where", ["subject", "title"])
def test_a_huge_power_cannot_hang_loading(tmp_path: Path, where: str) -> None:
    """Jinja folds constant expressions when it compiles a template: (9**9)**(9**9) in a subject
    or a follow-up title is not folded, so check ends at once with one line (exit 2)."""
    expr = "{{ (9**9)**(9**9) }}"
    if where == "subject":
        root = hostile_folder(tmp_path, "Hi.")
        (root / "templates" / "hostile.md").write_text(f'---\nsubject: "{expr}"\n---\nHi,\n')
        expected = line("'**' would make 11,235,194,181 bits (at most 20,000)",
                        at="templates/hostile.md:2")
    else:
        root = hostile_folder(tmp_path, "Hi.", followups=[{"kind": "card", "title": expr}])
        expected = line("'**' would make 11,235,194,181 bits (at most 20,000)",
                        at="campaigns.yaml:14")
    started = time.monotonic()
    code, _, err = cli(root, "check", "--date", DATE)
    assert (code, err.splitlines()) == (2, [expected])
    assert time.monotonic() - started < 10


DEEP = "the template nests brackets, filters or blocks too deeply"


@pytest.mark.parametrize(
    ("body", "message"),
    [pytest.param("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", DEEP, id="brackets"),
     pytest.param("{% if 1 %}" * 200 + "x" + "{% endif %}" * 200, DEEP, id="blocks"),
     pytest.param("{{ 1" + "|string" * 5000 + " }}", DEEP, id="filters"),
     pytest.param("{% set a = 1 %}" * 20000, "the template is longer than 100,000 characters",
                  id="long")],
)
def test_a_template_too_deep_or_too_long_is_a_syntax_error(
    tmp_path: Path, body: str, message: str
) -> None:
    """Nesting too deep for Jinja's parser or Python's compiler, or a template so long that it
    would take long to compile, is a syntax error like any other: one line, exit 2 for check and
    for run, nothing drafted."""
    root = hostile_folder(tmp_path, body)
    expected = (f"templates/hostile.md:1: template syntax error: {message}; "
                "fix the {{ }} / {% %} tags on this line")
    for command in ("check", "run"):
        code, _, err = cli(root, command, "--date", DATE)
        assert (code, err.splitlines()) == (2, [expected])
    assert not (root / "drafts").exists() or not list((root / "drafts").iterdir())


# --------------------------------------------------------------------------- files


def test_a_template_saved_with_a_bom_works(tmp_path: Path) -> None:
    """Editors on Windows save UTF-8 with a byte order mark: the front matter is still read."""
    root = hostile_folder(tmp_path, "Hi.")
    (root / "templates" / "hostile.md").write_bytes(
        "\ufeff---\nsubject: Hi from a BOM\n---\nHi {{ contact.first }},\n".encode())
    assert cli(root, "check", "--date", DATE)[0] == 0
    assert cli(root, "run", "--date", DATE)[0] == 0
    eml = root / "drafts" / "hostile--jane-doe--2026.eml"
    assert b"Subject: Hi from a BOM" in eml.read_bytes()


def test_a_template_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    """A template in Latin-1 is named with the fix, exit 2, for check and run."""
    root = hostile_folder(tmp_path, "Hi.")
    (root / "templates" / "hostile.md").write_bytes(b"---\nsubject: Gr\xfc\xdfe\n---\nHi,\n")
    for command in ("check", "run"):
        code, _, err = cli(root, command, "--date", DATE)
        assert (code, err.splitlines()) == (
            2, ["templates/hostile.md: the template is not UTF-8 text; save it as UTF-8"])


# --------------------------------------------------------------------------- header values


def render_with(tmp_path: Path, text: str, **context: object) -> render.Rendered:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "t.md").write_text(text, encoding="utf-8")
    return render.render(render.environment(tmp_path / "templates", tmp_path), "t.md", context)


@pytest.mark.parametrize(
    ("char", "what"),
    [("\u2028", "a line break (U+2028)"), ("\u2029", "a line break (U+2029)"),
     ("\x85", "a line break (U+0085)"), ("\x0b", "a line break (U+000B)"),
     ("\x0c", "a line break (U+000C)"), ("\x1c", "a line break (U+001C)"),
     ("\x1d", "a line break (U+001D)"), ("\x1e", "a line break (U+001E)"),
     ("\r", "a line break (U+000D)"), ("\x00", "a control character (U+0000)"),
     ("\x1b", "a control character (U+001B)"), ("\x7f", "a control character (U+007F)"),
     ("\t", "a control character (U+0009)"),
     ("\ud800", "a character that is not text (U+D800)")],
)
def test_a_subject_with_any_line_break_is_refused(tmp_path: Path, char: str, what: str) -> None:
    """A subject whose value holds a line break of any kind (the ones str.splitlines knows) or a
    control character fails the touch at the front matter's line, like CR/LF, instead of an
    exit 3 from the email package later."""
    with pytest.raises(RenderError) as exc:
        render_with(tmp_path, '---\nsubject: "Thought of you: {{ title }}"\n---\nHi,\n',
                    title=f"Fleet{char}Bcc: eve@attacker.example")
    assert (exc.value.line, exc.value.message, exc.value.hint) == (
        2, f"the rendered subject holds {what}",
        "a header must be one line of text; check the front matter and the data")


def test_a_lone_surrogate_in_the_body_is_one_line(tmp_path: Path) -> None:
    """A value that is no text (a lone surrogate, from broken data) fails the touch instead of
    crashing the email package."""
    with pytest.raises(RenderError) as exc:
        render_with(tmp_path, "---\nsubject: Hi\n---\nHi,\n\n{{ note }}\n", note="a\ud800b")
    assert (exc.value.line, exc.value.message) == (
        6, "the note holds U+D800, which is not a character")


def test_formatting_a_note_is_bounded_in_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Markdown that takes too long to format (markdown-it is quadratic on some input) stops the
    touch after 3 seconds with one line."""
    monkeypatch.setattr(markup, "markdown_to_html", lambda text: time.sleep(30) or text)
    started = time.monotonic()
    with pytest.raises(RenderError) as exc:
        render_with(tmp_path, "---\nsubject: Hi\n---\nHi, this one takes long to format.\n")
    assert time.monotonic() - started < 10
    assert (exc.value.message, exc.value.hint) == (
        "the note is too long or too intricate to format as text and HTML in time",
        "look for a very long value in the data (a description, a note) and shorten it")


# --------------------------------------------------------------------------- the bounds themselves

SLOW = "{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}"


def test_the_timer_puts_back_the_previous_handler_and_timer() -> None:
    """After a bounded render, stopped or not, SIGALRM has its previous handler again and a timer
    set before goes on; one that fell due meanwhile fires right after."""
    calls: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: calls.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 60)
        env = render.environment(Path("/nonexistent"))
        assert env.from_string("{{ 1 + 1 }}").render() == "2"
        with pytest.raises(limits.TemplateLimit):
            env.from_string(SLOW).render()
        remaining = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 45 < remaining <= 60
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(limits.TemplateLimit):
            env.from_string(SLOW).render()  # the old timer falls due inside
        time.sleep(0.2)
        assert calls == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_bounds_hold_outside_the_main_thread() -> None:
    """Rendered in another thread (no timer there), the size bounds and the clock still stop a
    template, and the main thread's SIGALRM handler is left alone."""
    before = signal.getsignal(signal.SIGALRM)
    env = render.environment(Path("/nonexistent"))
    outcome: list[str] = []

    def work() -> None:
        for source in ('{{ "x" * 3000000000 }}', SLOW):
            try:
                env.from_string(source).render()
            except limits.TemplateLimit as exc:
                outcome.append(exc.message)

    started = time.monotonic()
    worker = threading.Thread(target=work)
    worker.start()
    worker.join(30)
    assert outcome == ["'*' would make 3,000,000,000 characters (at most 100,000)",
                       "the template ran for more than 3 seconds and was stopped"]
    assert time.monotonic() - started < 10
    assert signal.getsignal(signal.SIGALRM) is before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_memory_is_bounded_while_a_render_runs_and_given_back_after(tmp_path: Path) -> None:
    """While a template renders, memory past the budget is a MemoryError (not the kernel's OOM
    killer), which fails the touch with one line naming the template's line; afterwards the
    process's limit is what it was."""
    before = resource.getrlimit(resource.RLIMIT_AS)
    with pytest.raises(RenderError) as exc:
        render_with(tmp_path, "---\nsubject: Hi\n---\nHi,\n\n{{ grow() }}\n",
                    grow=lambda: len(bytearray(2 * limits.MEMORY_BYTES)))
    assert (exc.value.line, exc.value.message, exc.value.hint) == (
        6, "the template needs more memory than a note may take",
        "look for a loop or a filter that builds long text")
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert len(bytearray(2 * limits.MEMORY_BYTES)) == 2 * limits.MEMORY_BYTES


def test_ordinary_templates_are_untouched(tmp_path: Path) -> None:
    """The bounds leave room for what notes do: loops over ranges and lists, filters, macros,
    string methods, formatting and arithmetic."""
    r = render_with(
        tmp_path,
        "---\nsubject: \"{{ '%s, %d' % (name, 3) }} {{ '{:>5}'.format('x') }}\"\n---\n"
        "{% macro greet(n) %}Hi {{ n|title }}{% endmacro %}{{ greet(name) }},\n\n"
        "{% for i in range(3) %}{{ loop.index }}: {{ ('a' * 2).rjust(4) }}\n{% endfor %}"
        "{{ range(5)|join(', ') }} {{ 2 ** 10 }} {{ [1, 2] + [3] }} {{ names|join_and }}\n",
        name="jo", names=["a", "b", "c"],
    )
    assert r.subject == "jo, 3     x"
    assert r.text == (
        "Hi Jo,\n\n1:   aa\n2:   aa\n3:   aa\n0, 1, 2, 3, 4 1024 [1, 2, 3] a, b and c\n")


def test_a_night_with_hostile_templates_ends_in_time(tmp_path: Path) -> None:
    """Five people, a plain birthday note and three hostile templates (one that runs too long,
    one that writes too much, one that would build ten billion bytes): the run ends well within a
    minute, the five notes are made, each hostile touch is one line, exit 1."""
    hostile = {
        "slow.md": "---\nsubject: Hi\n---\nHi,\n" + SLOW + "\n",
        "long.md": "---\nsubject: Hi\n---\nHi,\n"
        "{% for i in range(10000) %}{{ 'x' * 99 }}{% endfor %}\n",
        "huge.md": "---\nsubject: Hi\n---\nHi,\n{{ 'x'.encode() * 10**10 }}\n",
    }
    root = write_folder(
        tmp_path / "book",
        [contact_data(f"p{i}-doe", dates={"birthday": "--11-22"}) for i in range(5)],
        [campaign_data(), *(campaign_data(n[:-3], template=n) for n in hostile)],
        {"note.md": NOTE, **hostile},
        limits={"per_contact_per_day": 4},
    )
    started = time.monotonic()
    code, _, err = cli(root, "run", "--date", DATE)
    elapsed = time.monotonic() - started
    assert code == 1
    assert elapsed < 60
    assert len(list((root / "drafts").glob("birthday--*.eml"))) == 5
    assert len(err.splitlines()) == 15 + 1
    assert err.splitlines()[-1] == (
        "outreach: 15 of 20 touches failed; fix the lines above, the next run retries them")
    assert "Traceback" not in err
