"""Dates: month-day recurrences, holidays by country, business days. Pure, cached lookups."""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache
from typing import Any, Literal

ONE_DAY = dt.timedelta(days=1)
Direction = Literal["none", "previous", "next"]  # which way a day moves to a business day


NAME_LANGUAGE = "en_US"  # holiday names are matched in English and in the country's own language


def _languages(cls: Any) -> tuple[str | None, ...]:
    """The languages to read holiday names in. Always explicit: left to itself, the ``holidays``
    package picks the language from the process locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), so
    cron's bare environment and a German terminal would plan different holidays."""
    supported = tuple(getattr(cls, "supported_languages", ()) or ())
    default = getattr(cls, "default_language", None)
    wanted = [lang for lang in (default, NAME_LANGUAGE) if lang and lang in supported]
    return tuple(dict.fromkeys(wanted)) or (default,)


PUBLIC: tuple[str, ...] = ("public",)


@lru_cache(maxsize=1)
def categories() -> tuple[str, ...]:
    """Every holiday category the ``holidays`` package knows (public, government, optional,
    unofficial, bank, school, religious ones such as catholic or hindu, ...), except ``workday``
    (special working days are no holidays)."""
    import holidays.constants as c

    names = {
        v
        for k, v in vars(c).items()
        if k.isupper() and isinstance(v, str) and v.isidentifier() and v == k.lower()
    }
    return tuple(sorted(names - {"workday", "weekend"}))


def _one_country_at_a_time() -> None:
    """Let the ``holidays`` package import the module of the country asked for alone. Its
    ``holidays.countries`` package imports every one of its 250 country modules (80 ms) as soon
    as one is asked for; it stands here as that package not yet run, its submodules importable
    one by one (each imports what it builds on, e.g. American Samoa the United States). The first
    name asked of the package itself (``from holidays.countries import Germany``) runs it
    whole, so nothing that uses it sees a difference but the time."""
    import importlib.util
    import sys

    if "holidays.countries" in sys.modules:
        return
    spec = importlib.util.find_spec("holidays.countries")
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return  # pragma: no cover - another layout of the package: imported whole, as before
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def run_whole(name: str) -> Any:
        if name.startswith("__") and name != "__all__":  # `import *` asks for __all__
            raise AttributeError(name)
        vars(package).pop("__getattr__")
        loader.exec_module(package)
        return getattr(package, name)

    vars(package)["__getattr__"] = run_whole
    sys.modules["holidays.countries"] = package
    vars(sys.modules["holidays"])["countries"] = package  # as an import of it would bind it


@lru_cache(maxsize=512)
def _holidays(
    country: str, year: int, wanted: tuple[str, ...] = ()
) -> dict[dt.date, tuple[str, ...]]:
    """The holidays of ``country`` in ``year``, date -> names, in the ``wanted`` categories (the
    ones the country has); none wanted: every category the package has for the country, except
    special working days (Canada's Thanksgiving is "government", the US Mother's Day
    "unofficial")."""
    import holidays

    _one_country_at_a_time()
    probe = holidays.country_holidays(country)
    supported = tuple(getattr(probe, "supported_categories", ()) or ("public",))
    cats = tuple(c for c in supported if (c in wanted if wanted else c != "workday"))
    if not cats:
        return {}
    kwargs: dict[str, Any] = {"years": year, "categories": cats}
    languages = _languages(probe)
    if wanted == PUBLIC:
        languages = languages[:1]  # business days: only the dates matter
    out: dict[dt.date, tuple[str, ...]] = {}
    for language in languages:
        for day, names in holidays.country_holidays(country, language=language, **kwargs).items():
            more = (n.strip() for n in str(names).split(";") if n.strip())
            out[day] = tuple(dict.fromkeys((*out.get(day, ()), *more)))
    return out


def _norm(name: str) -> str:
    n = " ".join(name.lower().replace("’", "'").split())
    return n[:-4] if n.endswith(" day") else n


def holiday_dates(
    name: str, country: str, year: int, categories: tuple[str, ...] = ()
) -> list[dt.date]:
    """Dates of the named holiday in ``country`` and ``year`` ("Thanksgiving" finds "Thanksgiving
    Day"; the "(observed)" days are not the holiday itself), searched in ``categories`` (none:
    every category, see ``_holidays``)."""
    return list(_holiday_dates(name, country, year, tuple(sorted(categories))))


@lru_cache(maxsize=4096)
def _holiday_dates(
    name: str, country: str, year: int, categories: tuple[str, ...]
) -> tuple[dt.date, ...]:
    want = _norm(name)
    return tuple(
        sorted(
            day
            for day, names in _holidays(country, year, categories).items()
            if any(_norm(n) == want for n in names)
        )
    )


def holiday_known(name: str, country: str, categories: tuple[str, ...] = ()) -> bool:
    today = dt.date(2026, 1, 1)
    return any(holiday_dates(name, country, today.year + k, categories) for k in range(0, 3))


def is_business_day(day: dt.date, country: str | None) -> bool:
    """Not a weekend day, nor a public holiday of ``country``."""
    if day.weekday() >= 5:
        return False
    return not (country and day in _holidays(country, day.year, PUBLIC))


def shift_business(
    day: dt.date, country: str | None, direction: Direction
) -> dt.date:
    if direction == "none":
        return day
    step = ONE_DAY if direction == "next" else -ONE_DAY
    for _ in range(30):
        if is_business_day(day, country):
            return day
        day += step
    return day


def add_days(day: dt.date, days: int, country: str | None, business: bool) -> dt.date:
    """``day`` moved ``days`` days on (back, when negative); counting business days only when
    ``business`` (weekends and ``country``'s public holidays skipped)."""
    if not business:
        return day + dt.timedelta(days=days)
    step = 1 if days >= 0 else -1
    for _ in range(abs(days)):
        day += dt.timedelta(days=step)
        while not is_business_day(day, country):
            day += dt.timedelta(days=step)
    return day


def clamp_day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def schedule_days(months: tuple[int, ...], day: int, start: dt.date, end: dt.date) -> list[dt.date]:
    """Every scheduled day (the ``day`` of each listed month, clamped) in [start, end]."""
    out: list[dt.date] = []
    for year in range(start.year, end.year + 1):
        for month in sorted(set(months)):
            d = clamp_day(year, month, day)
            if start <= d <= end:
                out.append(d)
    return out


def years_between(start: dt.date | int | None, year: int) -> int | None:
    if start is None:
        return None
    y = start if isinstance(start, int) else start.year
    n = year - y
    return n if n > 0 else None
