"""The commands as plain functions, one module each: they return typed reports (each carrying
its exit code) or raise our errors. :mod:`outreach.output` prints the reports; only ``cli.py``
parses arguments and exits.

``check`` (check.py), ``plan`` (plan.py), ``run`` (run.py), ``preview`` (preview.py),
``calendar`` (calendar.py), ``log`` (log.py); ``init``, ``import``, ``auth gmail`` and ``serve``
(setup.py); what they share (common.py). Drafting itself is :mod:`outreach.executor`'s.
"""

from __future__ import annotations

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
from outreach.executor import WATCH_DAYS as WATCH_DAYS
from outreach.executor import Failed as Failed
from outreach.executor import Made as Made
from outreach.executor import Progress as Progress
from outreach.executor import Threads as Threads
from outreach.executor import failure_problem as failure_problem
