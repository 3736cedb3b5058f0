"""Local-time questions of the recall rules: the settlement blackout and the local day.

Times are microseconds since the epoch (UTC); the policy names the zone (Asia/Shanghai).
China has no daylight saving, but nothing here assumes a fixed offset.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from hongbao.platform.clock import from_datetime
from hongbao.platform.invariants import present


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


# No time zone changes its offset twice within an hour (the tz database's closest transitions
# are days apart), so equal offsets at both ends of an hour hold for every second inside it.
OFFSET_SPAN_SECONDS = 3600
SECONDS_PER_DAY = 24 * 3600
MINUTES_PER_DAY = 24 * 60
_NO_SPAN = (0, 0, 0)


class DailyBlackout:
    """One policy's blackout, resolved once: its minutes, its zone, the UTC offsets of the last
    two hours asked about (the evaluation's moment and a retry time are often apart) and the
    last reopening, so that most answers are integer arithmetic on the moment.

    Answers exactly as :func:`blackout_reopens_at`.
    """

    __slots__ = (
        "_begins",
        "_crosses_midnight",
        "_end",
        "_ends",
        "_reopening",
        "_spans",
        "_start",
        "_zone",
    )

    def __init__(self, start: str, end: str, zone_name: str) -> None:
        self._start, self._end, self._zone = start, end, zone_name
        self._begins, self._ends = _minutes(start), _minutes(end)
        self._crosses_midnight = self._ends <= self._begins
        # Each is replaced whole, never edited, so a reader on another thread sees one
        # consistent value: ([first second, past the last second), offset in seconds) twice,
        # and (local day of the reopening, the reopening).
        self._spans = (_NO_SPAN, _NO_SPAN)
        self._reopening: tuple[int | None, int] = (None, 0)

    def reopens_at(self, moment_us: int) -> int | None:
        """When recall reopens if ``moment_us`` is inside the blackout, else None."""
        seconds = moment_us // 1_000_000
        latest, earlier = self._spans
        first, past, offset = latest
        if not first <= seconds < past:
            first, past, offset = earlier
            if not first <= seconds < past:
                offset = self._offset_seconds(seconds)
        local_seconds = seconds + offset
        minute = local_seconds // 60 % MINUTES_PER_DAY
        begins, ends = self._begins, self._ends
        if self._crosses_midnight:
            inside = minute >= begins or minute < ends
        else:
            inside = begins <= minute < ends
        if not inside:
            return None
        # The blackout ends on the local day it began, or the next one if it crosses midnight.
        day = local_seconds // SECONDS_PER_DAY + (
            1 if self._crosses_midnight and minute >= begins else 0
        )
        known_day, reopens = self._reopening
        if known_day != day:
            reopens = present(
                blackout_reopens_at(moment_us, self._start, self._end, self._zone),
                "the reference agrees the moment is inside",
            )
            self._reopening = (day, reopens)
        return reopens

    def _offset_seconds(self, seconds: int) -> int:
        """The offset at ``seconds``, kept for the hour from it when the hour's end agrees."""
        here = zone(self._zone)
        offset = present(
            datetime.fromtimestamp(seconds, here).utcoffset(), "an aware datetime has an offset"
        )
        whole = offset // timedelta(seconds=1)
        try:
            later = datetime.fromtimestamp(seconds + OFFSET_SPAN_SECONDS, here).utcoffset()
        except (OverflowError, OSError, ValueError):  # the hour runs past what datetime holds
            return whole
        if later == offset and offset == timedelta(seconds=whole):
            self._spans = ((seconds, seconds + OFFSET_SPAN_SECONDS, whole), self._spans[0])
        return whole


MAX_BLACKOUTS = 64  # distinct windows kept; a policy change rarely moves the blackout


@lru_cache(maxsize=MAX_BLACKOUTS)
def daily_blackout(start: str, end: str, zone_name: str) -> DailyBlackout:
    """One shared :class:`DailyBlackout` per window (policies rarely change it)."""
    return DailyBlackout(start, end, zone_name)
