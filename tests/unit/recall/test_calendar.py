"""The compiled blackout answers exactly as the datetime-based reference, in any zone.

:class:`DailyBlackout` keeps UTC offsets and the last reopening between calls; these
properties ask it about moments in every order, across daylight-saving changes, and compare
each answer with :func:`blackout_reopens_at`, which works the local time out afresh.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from hongbao.platform.clock import from_datetime
from hongbao.recall.calendar import DailyBlackout, blackout_reopens_at, daily_blackout

SECOND_US = 1_000_000
DAY_US = 24 * 3600 * SECOND_US
# Fixed and daylight-saving zones, one with a half-hour change and one south of the equator.
ZONES = (
    "Asia/Shanghai",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "UTC",
)
CLOCK_TIMES = st.builds(
    lambda hour, minute: f"{hour:02d}:{minute:02d}", st.integers(0, 23), st.integers(0, 59)
)
# 2020 to 2030, around which the tz database has changes in every zone above.
MOMENTS = st.integers(
    from_datetime(datetime(2020, 1, 1, tzinfo=UTC)), from_datetime(datetime(2030, 1, 1, tzinfo=UTC))
)


@settings(max_examples=300, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    start=CLOCK_TIMES,
    end=CLOCK_TIMES,
    first=MOMENTS,
    steps=st.lists(st.integers(-3 * DAY_US, 3 * DAY_US), min_size=1, max_size=40),
)
def test_the_compiled_blackout_answers_as_the_reference_in_any_order(
    zone_name: str, start: str, end: str, first: int, steps: list[int]
) -> None:
    """Moments near each other (the kept offsets and reopening are used) and far apart (they
    are replaced) give the reference's answer every time."""
    blackout = DailyBlackout(start, end, zone_name)
    moment = first
    for step in steps:
        moment += step
        expected = blackout_reopens_at(moment, start, end, zone_name)
        assert blackout.reopens_at(moment) == expected, (zone_name, start, end, moment)


@settings(max_examples=200, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    start=CLOCK_TIMES,
    end=CLOCK_TIMES,
    moment=MOMENTS,
    offsets=st.lists(st.integers(0, 7200 * SECOND_US), min_size=1, max_size=20),
)
def test_every_second_around_a_moment_reads_as_the_reference(
    zone_name: str, start: str, end: str, moment: int, offsets: list[int]
) -> None:
    """Within the hours kept after a first answer, each moment still gets the reference's."""
    blackout = DailyBlackout(start, end, zone_name)
    blackout.reopens_at(moment)
    for offset in offsets:
        later = moment + offset
        assert blackout.reopens_at(later) == blackout_reopens_at(later, start, end, zone_name)


def test_daylight_saving_changes_move_the_blackout_with_the_local_clock() -> None:
    """London springs forward on 2026-03-29 at 01:00 UTC: a 01:30-02:30 local blackout that day
    is the hour that does not exist, and the next day it is 00:30-01:30 UTC."""
    blackout = DailyBlackout("01:30", "02:30", "Europe/London")
    for day in (28, 29, 30):
        for hour in range(24):
            for minute in (0, 29, 30, 59):
                moment = from_datetime(datetime(2026, 3, day, hour, minute, tzinfo=UTC))
                expected = blackout_reopens_at(moment, "01:30", "02:30", "Europe/London")
                assert blackout.reopens_at(moment) == expected
    inside = from_datetime(datetime(2026, 3, 30, 0, 45, tzinfo=UTC))
    assert blackout.reopens_at(inside) == from_datetime(datetime(2026, 3, 30, 1, 30, tzinfo=UTC))


def test_one_blackout_is_shared_by_every_policy_with_the_same_window() -> None:
    """Compiling a policy again reuses the window's kept offsets instead of starting over."""
    assert daily_blackout("23:50", "00:10", "Asia/Shanghai") is daily_blackout(
        "23:50", "00:10", "Asia/Shanghai"
    )
