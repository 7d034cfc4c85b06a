"""The commands as plain functions, one module each: they return typed reports (each carrying
its exit code) or raise our errors. :mod:`outreach.output` prints the reports; only ``cli.py``
parses arguments and exits.

``check`` (check.py), ``plan`` (plan.py), ``run`` (run.py), ``preview`` (preview.py),
``calendar`` (calendar.py), ``log`` (log.py), ``sync`` (sync.py), ``status`` (status.py);
``init``, ``import``,
``auth gmail`` and ``serve``
(setup.py); what they share (common.py). Drafting itself is :mod:`outreach.executor`'s.

The names below are imported when first asked for (``commands.plan_report`` imports plan.py
alone): ``outreach plan`` does not load the calendar feed, the run or the importers. A command
function keeps its name when its module, of the same name, is imported (``commands.calendar`` is
the function, as it always was, also after ``import outreach.commands.calendar``).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from outreach.commands.calendar import CalendarReport as CalendarReport
    from outreach.commands.calendar import calendar as calendar
    from outreach.commands.calendar import write_calendar as write_calendar
    from outreach.commands.check import CheckReport as CheckReport
    from outreach.commands.check import check as check
    from outreach.commands.common import Warn as Warn
    from outreach.commands.common import load_with_sources as load_with_sources
    from outreach.commands.common import meeting_window as meeting_window
    from outreach.commands.common import read_history as read_history
    from outreach.commands.common import remember_meetings as remember_meetings
    from outreach.commands.common import settings_only as settings_only
    from outreach.commands.common import store_for as store_for
    from outreach.commands.log import LOG_HEADER as LOG_HEADER
    from outreach.commands.log import LogReport as LogReport
    from outreach.commands.log import log as log
    from outreach.commands.log import log_interaction as log_interaction
    from outreach.commands.plan import Planned as Planned
    from outreach.commands.plan import PlanReport as PlanReport
    from outreach.commands.plan import plan as plan
    from outreach.commands.plan import plan_report as plan_report
    from outreach.commands.preview import Preview as Preview
    from outreach.commands.preview import PreviewReport as PreviewReport
    from outreach.commands.preview import preview as preview
    from outreach.commands.run import RunReport as RunReport
    from outreach.commands.run import limited as limited
    from outreach.commands.run import run as run
    from outreach.commands.setup import ImportedReport as ImportedReport
    from outreach.commands.setup import InitReport as InitReport
    from outreach.commands.setup import auth_gmail as auth_gmail
    from outreach.commands.setup import import_contacts as import_contacts
    from outreach.commands.setup import init as init
    from outreach.commands.setup import serve as serve
    from outreach.commands.status import StatusReport as StatusReport
    from outreach.commands.status import status as status
    from outreach.commands.sync import SyncReport as SyncReport
    from outreach.commands.sync import sync as sync
    from outreach.executor import WATCH_DAYS as WATCH_DAYS
    from outreach.executor import Failed as Failed
    from outreach.executor import Made as Made
    from outreach.executor import Progress as Progress
    from outreach.executor import Threads as Threads
    from outreach.executor import failure_problem as failure_problem

_FROM: dict[str, str] = {  # name -> the module that defines it
    **dict.fromkeys(("CalendarReport", "calendar", "write_calendar"), "outreach.commands.calendar"),
    **dict.fromkeys(("CheckReport", "check"), "outreach.commands.check"),
    **dict.fromkeys(
        (
            "Warn",
            "load_with_sources",
            "meeting_window",
            "read_history",
            "remember_meetings",
            "settings_only",
            "store_for",
        ),
        "outreach.commands.common",
    ),
    **dict.fromkeys(("LOG_HEADER", "LogReport", "log", "log_interaction"), "outreach.commands.log"),
    **dict.fromkeys(("Planned", "PlanReport", "plan", "plan_report"), "outreach.commands.plan"),
    **dict.fromkeys(("Preview", "PreviewReport", "preview"), "outreach.commands.preview"),
    **dict.fromkeys(("RunReport", "limited", "run"), "outreach.commands.run"),
    **dict.fromkeys(
        ("ImportedReport", "InitReport", "auth_gmail", "import_contacts", "init", "serve"),
        "outreach.commands.setup",
    ),
    **dict.fromkeys(("StatusReport", "status"), "outreach.commands.status"),
    **dict.fromkeys(("SyncReport", "sync"), "outreach.commands.sync"),
    **dict.fromkeys(
        ("WATCH_DAYS", "Failed", "Made", "Progress", "Threads", "failure_problem"),
        "outreach.executor",
    ),
}

__all__ = sorted(_FROM)


def __getattr__(name: str) -> Any:
    """``commands.X``: imported from its module the first time it is asked for."""
    where = _FROM.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM})


class _Commands(types.ModuleType):
    """This package: importing the submodule ``outreach.commands.plan`` does not bind the name
    ``plan`` here to it (the import system would); ``commands.plan`` stays the command."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _FROM.get(name, "").rpartition(".")[2] == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Commands
