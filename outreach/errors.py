"""One exception tree. Each error carries a one-line message, a hint and an exit code.

Exit codes (documented in the README):
  0  everything due was drafted
  1  some touches failed (the rest were made), or the mailbox could not be reached (nothing lost)
  2  invalid input or usage, nothing drafted
  3  unexpected error (a crash log path is printed)
  4  another run holds the lock; nothing was drafted
  5  the mailbox refused our credentials (expired or revoked token): run `outreach auth gmail`
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_TOUCH_FAILED = 1
EXIT_INVALID = 2
EXIT_CRASH = 3
EXIT_BUSY = 4
EXIT_AUTH = 5


@dataclass(frozen=True)
class Problem:
    """One problem in the user's files, printed as one line: ``file:line: path: message; hint``."""

    file: str
    line: int | None
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text


class OutreachError(Exception):
    """Base of every error we expect; never shown with a traceback."""

    exit_code = EXIT_CRASH

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        return [f"{self.message}; {self.hint}" if self.hint else self.message]


class UsageError(OutreachError):
    """Bad command-line use (e.g. an unknown touch key for preview)."""

    exit_code = EXIT_INVALID


class InvalidInput(OutreachError):
    """The user's folder has problems; nothing may be drafted."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) found")
        files: dict[str, int] = {}
        for p in problems:
            files.setdefault(p.file, len(files))
        # file by file in the order first seen, then by line
        self.problems = sorted(problems, key=lambda p: (files[p.file], p.line or 0))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class Busy(OutreachError):
    """Another run holds the lock."""

    exit_code = EXIT_BUSY


class StoreError(OutreachError):
    """A draft store could not do what was asked (one touch fails, not the night)."""

    exit_code = EXIT_TOUCH_FAILED


class RenderError(OutreachError):
    """A template could not be rendered for one contact."""

    exit_code = EXIT_TOUCH_FAILED

    def __init__(
        self, message: str, hint: str = "", *, template: str = "", line: int | None = None
    ) -> None:
        super().__init__(message, hint)
        self.template = template
        self.line = line


class AuthError(OutreachError):
    """The mailbox refused our credentials: nothing more can be drafted tonight."""

    exit_code = EXIT_AUTH


NOTHING_LOST = "nothing was lost; the next run retries"


class MailboxUnreachable(OutreachError):
    """The mailbox (or its token endpoint) gave no answer at all, several times in a row: refused
    or dropped connections, DNS failures, timeouts. The night stops with one line.

    Not a :class:`StoreError`: it must not fail one touch after another, it ends the run. What was
    drafted is recorded; what was pending stays pending, and the next run looks each one up by its
    Message-ID before creating it.
    """

    exit_code = EXIT_TOUCH_FAILED

    def __init__(self, message: str, hint: str = NOTHING_LOST) -> None:
        super().__init__(message, hint)
