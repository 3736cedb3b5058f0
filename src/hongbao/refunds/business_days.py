"""Chinese business days in Asia/Shanghai, for refunds that take "3 business days" (R-F2).

A **business day** (工作日) is a date on which people in mainland China work:

* Monday to Friday, unless it is a statutory public holiday (法定节假日, including the days
  taken off in lieu around it);
* a Saturday or Sunday that is an official make-up working day (调休上班日).

The dates come from the maintained package ``chinesecalendar`` (import name
``chinese_calendar``), which follows the State Council's yearly announcement. Its *known years*
(:data:`KNOWN_YEARS`) run from the first to the last year in its holiday table.

**Fallback.** For a date outside the known years (the package has not published that year
yet, or the date is very old) the rule is *weekends off only*: Monday to Friday are business
days, Saturday and Sunday are not, and no holiday or make-up day is known. The first time a
process applies the fallback to a year it logs one warning for that year (logger
``hongbao.refunds.business_days``); every answer that relied on it says so (see
:class:`BusinessDayAnswer`), so a refund plan can record which calendar decided its date.

**Arrival rule** (:func:`add_business_days`). Let *D* be the local date and *T* the local
wall-clock time (to the microsecond) of the start in Asia/Shanghai.

1. The *base day* is *D* if *D* is a business day, otherwise the first business day after
   *D*: a refund started on a Saturday, a holiday or a rest day is treated as started on the
   next business day, at the same time *T*.
2. The refund arrives at time *T* on the ``days``-th business day after the base day.
   Days that are not business days are skipped and not counted.
3. ``days == 0`` therefore means: at the start itself when *D* is a business day, otherwise
   at time *T* on the next business day.

Examples (2026, package data): Monday 2026-03-02 10:15 + 3 -> Thursday 2026-03-05 10:15;
Friday 2026-03-06 16:00 + 3 -> Wednesday 2026-03-11 16:00; Friday 2026-02-13 09:00 + 3 ->
Saturday 2026-02-14 (make-up working day) is day 1, the Spring Festival holiday 02-15..02-23
is skipped, Tuesday 02-24 is day 2 and Wednesday 2026-02-25 09:00 is the arrival.

Asia/Shanghai has had no daylight-saving time since 1991, so the arrival is always a whole
number of 24-hour days after the start. ``days`` is limited to 0..:data:`MAX_BUSINESS_DAYS`.
Everything here is pure: no clock, no database; the caller passes the start.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from typing import Final

import chinese_calendar

from hongbao.funding.sources import LOCAL_TIME_ZONE
from hongbao.platform.clock import from_datetime, to_datetime
from hongbao.platform.errors import InvalidInput
from hongbao.platform.invariants import invariant
from hongbao.refunds.errors import RefundCode

__all__ = [
    "FALLBACK_CALENDAR",
    "KNOWN_YEARS",
    "MAX_BUSINESS_DAYS",
    "PACKAGE_CALENDAR",
    "BusinessDayAnswer",
    "add_business_days",
    "calendar_for",
    "is_business_day",
    "reset_fallback_warnings",
]

logger = logging.getLogger(__name__)

# Refund routes take hours or a few business days; 60 business days is about three months.
MAX_BUSINESS_DAYS: Final = 60
# The longest run of days off (Spring Festival plus weekends) is about nine days, so 60
# business days never span more than about 90 calendar days; the cap only guards the loop.
_MAX_CALENDAR_DAYS: Final = 366
# Starts are moments from the epoch up to a year far enough from 9999 that date arithmetic
# on the arrival can never overflow.
MIN_START_US: Final = 0
MAX_START_US: Final = from_datetime(datetime(9000, 1, 1, tzinfo=UTC))

PACKAGE_CALENDAR: Final = f"chinesecalendar {version('chinesecalendar')}"
"""The ``calendar`` of an answer decided entirely by the package's data."""
FALLBACK_CALENDAR: Final = "fallback: weekends only"
"""The ``calendar`` of an answer for which at least one date used the fallback rule."""

_holiday_years = [int(day.year) for day in chinese_calendar.holidays]
KNOWN_YEARS: Final = range(min(_holiday_years), max(_holiday_years) + 1)
"""Years for which the package has holiday data (the same range it accepts itself)."""
del _holiday_years

_SATURDAY: Final = 5
_ONE_DAY: Final = timedelta(days=1)

_warned_years: set[int] = set()
_warned_years_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class BusinessDayAnswer:
    """When a refund arrives, and which calendar decided it.

    ``calendar`` is :data:`PACKAGE_CALENDAR` (``"chinesecalendar 1.11.0"``) when every date
    examined, from the start's local date to the arrival date, had package data, and
    :data:`FALLBACK_CALENDAR` as soon as one of them used the weekends-only fallback;
    ``fallback_years`` then names the years concerned, in order.
    """

    arrives_at_us: int
    calendar: str
    fallback_years: tuple[int, ...] = ()

    @property
    def used_fallback(self) -> bool:
        """True when at least one date was decided by the weekends-only fallback."""
        return bool(self.fallback_years)


def is_business_day(day: date) -> bool:
    """True when ``day`` (a local Asia/Shanghai date) is a Chinese business day.

    Weekends and public holidays are off, make-up working days (调休) are on. Outside
    :data:`KNOWN_YEARS` the weekends-only fallback decides and a warning is logged once per
    year. A ``datetime`` is refused: convert a moment to its Shanghai date first, otherwise a
    UTC date would silently be read as a Shanghai one.
    """
    _check_day(day)
    return _is_business_day(day)


def calendar_for(day: date) -> str:
    """The rule that decides ``day``: :data:`PACKAGE_CALENDAR` or :data:`FALLBACK_CALENDAR`."""
    _check_day(day)
    return PACKAGE_CALENDAR if day.year in KNOWN_YEARS else FALLBACK_CALENDAR


def add_business_days(start_us: int, days: int) -> BusinessDayAnswer:
    """The moment a refund started at ``start_us`` arrives when it takes ``days`` business days.

    The arrival is at the start's local time of day on the ``days``-th business day after the
    base day, the base day being the start's local date if that is a business day and the
    next business day otherwise (the full rule is in the module docstring). ``start_us`` is
    microseconds since the epoch, ``days`` an int from 0 to :data:`MAX_BUSINESS_DAYS`.
    """
    _check_start(start_us)
    _check_days(days)
    local_start = to_datetime(start_us).astimezone(LOCAL_TIME_ZONE)
    start_day = local_start.date()
    fallback_years: set[int] = set()

    def business(day: date) -> bool:
        if day.year not in KNOWN_YEARS:
            fallback_years.add(day.year)
        return _is_business_day(day)

    day = start_day
    while not business(day):
        day += _ONE_DAY
    remaining = days
    while remaining > 0:
        day += _ONE_DAY
        if business(day):
            remaining -= 1
        invariant(
            (day - start_day).days <= _MAX_CALENDAR_DAYS,
            "business days are found within a year of the start",
            start_us=start_us,
            days=days,
        )
    arrival = datetime.combine(day, local_start.time(), tzinfo=LOCAL_TIME_ZONE)
    return BusinessDayAnswer(
        arrives_at_us=from_datetime(arrival),
        calendar=FALLBACK_CALENDAR if fallback_years else PACKAGE_CALENDAR,
        fallback_years=tuple(sorted(fallback_years)),
    )


def reset_fallback_warnings() -> None:
    """Forget which years were warned about, so that the next fallback warns again (tests)."""
    with _warned_years_lock:
        _warned_years.clear()


def _is_business_day(day: date) -> bool:
    if day.year in KNOWN_YEARS:
        return bool(chinese_calendar.is_workday(day))
    _warn_fallback_once(day.year)
    return day.weekday() < _SATURDAY


def _warn_fallback_once(year: int) -> None:
    with _warned_years_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    logger.warning(
        "%s has no Chinese holiday data for %d (known years %d-%d): business days in %d "
        "count weekends only, public holidays and make-up working days are not known",
        PACKAGE_CALENDAR,
        year,
        KNOWN_YEARS.start,
        KNOWN_YEARS.stop - 1,
        year,
        extra={"year": year, "calendar": FALLBACK_CALENDAR},
    )


def _check_day(day: object) -> None:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise InvalidInput(
            f"A business-day question takes a local Asia/Shanghai date, got {type(day).__name__}.",
            code=RefundCode.INVALID_DAY,
            value=repr(day)[:40],
        )


def _check_start(start_us: object) -> None:
    if type(start_us) is not int or not MIN_START_US <= start_us < MAX_START_US:
        raise InvalidInput(
            f"A refund start is an int of microseconds since the epoch from {MIN_START_US} "
            f"to below {MAX_START_US}, got {start_us!r:.40}.",
            code=RefundCode.INVALID_START,
            start_us=repr(start_us)[:40],
        )


def _check_days(days: object) -> None:
    if type(days) is not int or not 0 <= days <= MAX_BUSINESS_DAYS:
        raise InvalidInput(
            f"A refund takes from 0 to {MAX_BUSINESS_DAYS} business days, got {days!r:.20}.",
            code=RefundCode.BUSINESS_DAYS_OUT_OF_RANGE,
            days=repr(days)[:20],
            limit=MAX_BUSINESS_DAYS,
        )
