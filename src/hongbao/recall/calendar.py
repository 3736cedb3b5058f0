"""Local-time questions of the recall rules: the settlement blackout and the local day.

Times are microseconds since the epoch (UTC); the policy names the zone (Asia/Shanghai).
China has no daylight saving, but nothing here assumes a fixed offset.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hongbao.platform.clock import from_datetime


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(moment_us: int, zone_name: str) -> datetime:
    seconds, micros = divmod(moment_us, 1_000_000)  # exact: no float touches the instant
    return datetime.fromtimestamp(seconds, zone(zone_name)).replace(microsecond=micros)


@cache
def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def local_day(moment_us: int, zone_name: str) -> tuple[int, int]:
    """The start of the local day holding ``moment_us`` and the start of the next one."""
    day = _local(moment_us, zone_name).date()
    start = datetime.combine(day, time(0, 0), tzinfo=zone(zone_name))
    following = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone(zone_name))
    return from_datetime(start), from_datetime(following)


@cache
def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def blackout_reopens_at(moment_us: int, start: str, end: str, zone_name: str) -> int | None:
    """When recall reopens if ``moment_us`` is inside the daily blackout [start, end), else None.

    A blackout may cross midnight (23:50 to 00:10); the start is inside, the end is not. Both
    are whole minutes, so the local minute of the day decides.
    """
    local = _local(moment_us, zone_name)
    minute = local.hour * 60 + local.minute
    begins, ends = _minutes(start), _minutes(end)
    crosses_midnight = ends <= begins
    inside = (minute >= begins or minute < ends) if crosses_midnight else begins <= minute < ends
    if not inside:
        return None
    day = local.date() + timedelta(days=1 if crosses_midnight and minute >= begins else 0)
    reopening = datetime.combine(day, _clock_time(end), tzinfo=zone(zone_name))
    return from_datetime(reopening)
