"""Local-time questions of the recall rules: the settlement blackout and the local day.

Times are microseconds since the epoch (UTC); the policy names the zone (Asia/Shanghai).
China has no daylight saving, but nothing here assumes a fixed offset.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hongbao.platform.clock import from_datetime, is_due, to_datetime


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(moment_us: int, zone_name: str) -> datetime:
    return to_datetime(moment_us).astimezone(zone(zone_name))


def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def local_day(moment_us: int, zone_name: str) -> tuple[int, int]:
    """The start of the local day holding ``moment_us`` and the start of the next one."""
    day = _local(moment_us, zone_name).date()
    start = datetime.combine(day, time(0, 0), tzinfo=zone(zone_name))
    following = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone(zone_name))
    return from_datetime(start), from_datetime(following)


def blackout_reopens_at(moment_us: int, start: str, end: str, zone_name: str) -> int | None:
    """When recall reopens if ``moment_us`` is inside the daily blackout [start, end), else None.

    A blackout may cross midnight (23:50 to 00:10); the start is inside, the end is not.
    """
    local = _local(moment_us, zone_name)
    begins, ends = _clock_time(start), _clock_time(end)
    occurrences = []
    for offset in (-1, 0):
        day = local.date() + timedelta(days=offset)
        opening = datetime.combine(day, begins, tzinfo=zone(zone_name))
        closing_day = day if ends > begins else day + timedelta(days=1)
        closing = datetime.combine(closing_day, ends, tzinfo=zone(zone_name))
        occurrences.append((from_datetime(opening), from_datetime(closing)))
    for opening_us, closing_us in occurrences:
        if is_due(opening_us, moment_us) and not is_due(closing_us, moment_us):
            return closing_us
    return None
