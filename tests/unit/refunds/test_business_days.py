"""Chinese business days for refunds: weekends, the 2026 holidays, make-up days and fallback.

Holiday dates below are those of chinesecalendar 1.11 (State Council announcement for 2026):
Spring Festival off 2026-02-15..02-23 with make-up working Saturdays 02-14 and 02-28;
Mid-Autumn off 09-25..09-27; National Day off 10-01..10-07 with make-up working days
Sunday 09-20 and Saturday 10-10.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hongbao.platform.clock import from_datetime, to_datetime
from hongbao.platform.errors import InvalidInput
from hongbao.refunds.business_days import (
    FALLBACK_CALENDAR,
    KNOWN_YEARS,
    MAX_BUSINESS_DAYS,
    PACKAGE_CALENDAR,
    BusinessDayAnswer,
    add_business_days,
    calendar_for,
    is_business_day,
    reset_fallback_warnings,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LOGGER_NAME = "hongbao.refunds.business_days"
DAY_US = 86_400 * 1_000_000
# Far beyond any published year, so these tests keep meaning the same after an upgrade.
FAR_FUTURE_YEAR = 2099


def shanghai_us(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, microsecond: int = 0
) -> int:
    """A wall-clock moment in Asia/Shanghai, as microseconds since the epoch."""
    moment = datetime(year, month, day, hour, minute, 0, microsecond, tzinfo=SHANGHAI)
    return from_datetime(moment)


def local(moment_us: int) -> datetime:
    """A moment as a Shanghai datetime, for readable comparisons."""
    return to_datetime(moment_us).astimezone(SHANGHAI)


def arrival(start_us: int, days: int) -> datetime:
    """Where add_business_days lands, as a Shanghai datetime, checking it used package data."""
    answer = add_business_days(start_us, days)
    assert answer.calendar == PACKAGE_CALENDAR
    assert answer.fallback_years == ()
    return local(answer.arrives_at_us)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock datetime, the expected side of arrival comparisons."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _fresh_fallback_warnings() -> Iterator[None]:
    """Each test starts with no year warned about, so warning counts are its own."""
    reset_fallback_warnings()
    yield
    reset_fallback_warnings()


# --- the calendar -----------------------------------------------------------------------------


def test_the_package_calendar_is_named_with_its_version_and_covers_2026() -> None:
    """The label a refund plan records names the installed package version."""
    assert f"chinesecalendar {chinese_calendar.__version__}" == PACKAGE_CALENDAR
    assert 2026 in KNOWN_YEARS
    assert FAR_FUTURE_YEAR not in KNOWN_YEARS
    assert calendar_for(date(2026, 2, 16)) == PACKAGE_CALENDAR
    assert calendar_for(date(FAR_FUTURE_YEAR, 1, 5)) == FALLBACK_CALENDAR


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 4), True),  # Wednesday
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 8), False),  # Sunday
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # Saturday, make-up working day
        (date(2026, 2, 16), False),  # Monday, Spring Festival
        (date(2026, 2, 23), False),  # Monday, last day of the Spring Festival holiday
        (date(2026, 2, 24), True),  # Tuesday, back to work
        (date(2026, 2, 28), True),  # Saturday, make-up working day
        (date(2026, 9, 20), True),  # Sunday, make-up working day for National Day
        (date(2026, 9, 25), False),  # Friday, Mid-Autumn Festival
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),  # last day of the golden week
        (date(2026, 10, 8), True),  # Thursday, back to work
        (date(2026, 10, 10), True),  # Saturday, make-up working day
    ],
)
def test_is_business_day_follows_weekends_holidays_and_make_up_days(
    day: date, expected: bool
) -> None:
    """Weekends and public holidays are off; make-up working weekend days (调休) are on."""
    assert is_business_day(day) is expected


def test_every_day_of_the_2026_spring_festival_holiday_is_off() -> None:
    """All nine days from 02-15 to 02-23 are off, including the weekdays among them."""
    holiday = [date(2026, 2, 15) + timedelta(days=offset) for offset in range(9)]
    assert [is_business_day(day) for day in holiday] == [False] * 9


def test_a_datetime_is_refused_where_a_local_date_is_expected() -> None:
    """A datetime could be a UTC moment read as a Shanghai date, so it is refused."""
    with pytest.raises(InvalidInput) as raised:
        is_business_day(datetime(2026, 3, 4, tzinfo=SHANGHAI))
    assert raised.value.code == "refunds.invalid_day"


# --- arrival ----------------------------------------------------------------------------------


def test_three_business_days_from_a_monday_arrive_on_thursday() -> None:
    """A normal week: Monday 10:15 plus 3 business days is Thursday 10:15."""
    assert arrival(shanghai_us(2026, 3, 2, 10, 15), 3) == at(2026, 3, 5, 10, 15)


def test_three_business_days_from_a_friday_skip_the_weekend() -> None:
    """Friday 16:00 plus 3 business days is Wednesday 16:00; Saturday and Sunday are skipped."""
    assert arrival(shanghai_us(2026, 3, 6, 16, 0), 3) == at(2026, 3, 11, 16, 0)


def test_a_start_on_a_weekend_counts_from_the_next_business_day() -> None:
    """A Saturday start is treated as a Monday start at the same time: arrival Thursday."""
    assert arrival(shanghai_us(2026, 3, 7, 11, 0), 3) == at(2026, 3, 12, 11, 0)
    assert arrival(shanghai_us(2026, 3, 8, 11, 0), 3) == at(2026, 3, 12, 11, 0)


def test_zero_days_is_the_start_itself_on_a_business_day() -> None:
    """Zero business days from a business day arrive at the very start."""
    start = shanghai_us(2026, 3, 4, 9, 30)
    assert add_business_days(start, 0).arrives_at_us == start


def test_zero_days_from_a_weekend_is_the_next_business_day_at_the_same_time() -> None:
    """Zero business days from a Saturday arrive on Monday at the start's time of day."""
    assert arrival(shanghai_us(2026, 3, 7, 9, 30), 0) == at(2026, 3, 9, 9, 30)


def test_the_spring_festival_2026_holiday_is_skipped_and_the_make_up_saturday_counts() -> None:
    """Fri 02-13 + 3: Sat 02-14 (make-up) is day 1, 02-15..02-23 are off, 02-24, 02-25."""
    assert arrival(shanghai_us(2026, 2, 13, 9, 0), 3) == at(2026, 2, 25, 9, 0)


def test_a_start_inside_the_spring_festival_holiday_counts_from_the_first_day_back() -> None:
    """A start on 02-18 (holiday) counts from Tuesday 02-24; one business day is 02-25."""
    assert arrival(shanghai_us(2026, 2, 18, 20, 0), 1) == at(2026, 2, 25, 20, 0)
    assert arrival(shanghai_us(2026, 2, 18, 20, 0), 0) == at(2026, 2, 24, 20, 0)


def test_a_refund_can_arrive_on_a_make_up_working_saturday() -> None:
    """Thu 02-26 + 2: Fri 02-27, then Saturday 02-28, a make-up working day, is the arrival."""
    assert arrival(shanghai_us(2026, 2, 26, 14, 0), 2) == at(2026, 2, 28, 14, 0)


def test_a_start_on_a_make_up_working_sunday_counts_that_sunday_as_the_base_day() -> None:
    """Sunday 2026-09-20 is a working day, so zero days arrive at once and one day is Monday."""
    start = shanghai_us(2026, 9, 20, 10, 0)
    assert add_business_days(start, 0).arrives_at_us == start
    assert arrival(start, 1) == at(2026, 9, 21, 10, 0)
    # The Saturday before is a rest day: counting starts on the make-up Sunday.
    assert arrival(shanghai_us(2026, 9, 19, 10, 0), 0) == at(2026, 9, 20, 10, 0)


def test_the_national_day_golden_week_2026_is_skipped() -> None:
    """Wed 09-30 + 3: 10-01..10-07 are off; Thu 10-08, Fri 10-09, Sat 10-10 (make-up)."""
    assert arrival(shanghai_us(2026, 9, 30, 12, 0), 3) == at(2026, 10, 10, 12, 0)


def test_mid_autumn_2026_friday_and_the_weekend_after_are_skipped() -> None:
    """Thu 09-24 + 1: Fri 09-25 is the Mid-Autumn holiday, so the arrival is Mon 09-28."""
    assert arrival(shanghai_us(2026, 9, 24, 8, 0), 1) == at(2026, 9, 28, 8, 0)


def test_the_arrival_keeps_the_start_time_of_day_to_the_microsecond() -> None:
    """The arrival is at exactly the start's local wall-clock time, microseconds included."""
    start = shanghai_us(2026, 3, 2, 23, 59, microsecond=999_999)
    answer = add_business_days(start, 3)
    assert local(answer.arrives_at_us) == datetime(2026, 3, 5, 23, 59, 0, 999_999, tzinfo=SHANGHAI)
    assert answer.arrives_at_us - start == 3 * DAY_US


def test_the_local_shanghai_date_decides_not_the_utc_date() -> None:
    """Sat 00:30 in Shanghai is still Friday in UTC; the Shanghai Saturday is what counts."""
    start = shanghai_us(2026, 3, 7, 0, 30)
    assert to_datetime(start).date() == date(2026, 3, 6)  # Friday in UTC
    assert arrival(start, 1) == at(2026, 3, 10, 0, 30)


# Starts whose 60 business days stay inside 2026, the last year with data in 1.11.
@given(
    start_us=st.integers(shanghai_us(2025, 1, 1), shanghai_us(2026, 8, 1)),
    days=st.integers(0, MAX_BUSINESS_DAYS),
)
def test_every_arrival_is_exactly_days_business_days_after_the_base_day(
    start_us: int, days: int
) -> None:
    """Property: the arrival is a business day at the start's time of day, `days` after base."""
    answer = add_business_days(start_us, days)
    start, end = local(start_us), local(answer.arrives_at_us)
    assert answer.calendar == PACKAGE_CALENDAR
    assert end.time() == start.time()
    assert (answer.arrives_at_us - start_us) % DAY_US == 0
    assert is_business_day(end.date())
    base = start.date()
    while not is_business_day(base):
        base += timedelta(days=1)
    between = [base + timedelta(days=offset) for offset in range(1, (end.date() - base).days + 1)]
    assert sum(is_business_day(day) for day in between) == days


# --- fallback outside the package's years -----------------------------------------------------


def test_a_year_beyond_the_package_data_uses_weekends_only_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """2099: weekdays count, weekends do not, the answer says so, and one warning is logged."""
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    # Friday 2099-01-02 + 3 business days -> Wednesday 2099-01-07 (weekend skipped).
    first = add_business_days(shanghai_us(FAR_FUTURE_YEAR, 1, 2, 10, 0), 3)
    second = add_business_days(shanghai_us(FAR_FUTURE_YEAR, 3, 2, 10, 0), 5)
    assert is_business_day(date(FAR_FUTURE_YEAR, 1, 1))  # a Thursday: New Year is not known
    assert not is_business_day(date(FAR_FUTURE_YEAR, 1, 3))  # a Saturday

    assert first == BusinessDayAnswer(
        arrives_at_us=shanghai_us(FAR_FUTURE_YEAR, 1, 7, 10, 0),
        calendar=FALLBACK_CALENDAR,
        fallback_years=(FAR_FUTURE_YEAR,),
    )
    assert first.used_fallback
    assert second.calendar == FALLBACK_CALENDAR
    warnings = [record for record in caplog.records if record.name == LOGGER_NAME]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert str(FAR_FUTURE_YEAR) in warnings[0].getMessage()
    assert "weekends only" in warnings[0].getMessage()


def test_each_fallback_year_warns_once_of_its_own(caplog: pytest.LogCaptureFixture) -> None:
    """A second unknown year gets its own single warning; a known year gets none."""
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    for _ in range(3):
        is_business_day(date(FAR_FUTURE_YEAR, 5, 5))
        is_business_day(date(FAR_FUTURE_YEAR + 1, 5, 5))
        is_business_day(date(2026, 5, 5))
    messages = [record.getMessage() for record in caplog.records if record.name == LOGGER_NAME]
    assert len(messages) == 2
    assert str(FAR_FUTURE_YEAR) in messages[0]
    assert str(FAR_FUTURE_YEAR + 1) in messages[1]


def test_a_year_before_the_package_data_also_uses_the_fallback() -> None:
    """Dates before the first known year are decided by weekends only, and the answer says so."""
    year = KNOWN_YEARS.start - 1
    answer = add_business_days(shanghai_us(year, 6, 2, 9, 0), 1)
    assert answer.calendar == FALLBACK_CALENDAR
    assert answer.fallback_years == (year,)


def test_a_refund_running_past_the_last_known_year_records_the_fallback_year() -> None:
    """Starting on 12-30 of the last known year, the days in the next year use the fallback."""
    last_year = KNOWN_YEARS.stop - 1
    answer = add_business_days(shanghai_us(last_year, 12, 30, 8, 0), 3)
    assert answer.calendar == FALLBACK_CALENDAR
    assert answer.fallback_years == (last_year + 1,)
    assert local(answer.arrives_at_us).year == last_year + 1
    assert local(answer.arrives_at_us).weekday() < 5


# --- limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [-1, MAX_BUSINESS_DAYS + 1, 1000, True, 3.0, "3"])
def test_business_days_outside_zero_to_sixty_are_refused(days: object) -> None:
    """Negative, too many, or not an int: refused with a stable code, nothing computed."""
    with pytest.raises(InvalidInput) as raised:
        add_business_days(shanghai_us(2026, 3, 2), days)  # type: ignore[arg-type]
    assert raised.value.code == "refunds.business_days_out_of_range"


def test_sixty_business_days_is_the_largest_accepted() -> None:
    """The limit itself is allowed: 60 business days from 2026-03-02 is a business day."""
    answer = add_business_days(shanghai_us(2026, 3, 2, 10, 0), MAX_BUSINESS_DAYS)
    assert is_business_day(local(answer.arrives_at_us).date())


@pytest.mark.parametrize("start", [-1, 1.5e15, True, "1772676900000000", 10**20])
def test_a_start_that_is_not_a_sane_epoch_microsecond_int_is_refused(start: object) -> None:
    """Floats, bools, text, negative and absurdly far moments are refused."""
    with pytest.raises(InvalidInput) as raised:
        add_business_days(start, 3)  # type: ignore[arg-type]
    assert raised.value.code == "refunds.invalid_start"
