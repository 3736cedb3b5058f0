"""The one source of time. Everything that needs "now" is handed a :class:`Clock`.

Timestamps inside hongbao are integer microseconds since the Unix epoch (UTC): exact,
comparable in SQL on every engine, and free of time-zone surprises. Deadlines are compared
only through :func:`is_due`, so there is one place that decides whether a moment has passed.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

MICROSECONDS_PER_SECOND = 1_000_000


class Clock(Protocol):
    def now_us(self) -> int:
        """Current time in microseconds since the epoch, UTC."""
        ...


class SystemClock:
    """Wall-clock time from the operating system."""

    def now_us(self) -> int:
        return time.time_ns() // 1_000


class ManualClock:
    """A clock that moves only when told to: for tests, drills and the demo."""

    def __init__(self, start_us: int | None = None) -> None:
        self._now_us = start_us if start_us is not None else SystemClock().now_us()
        self._lock = threading.Lock()

    def now_us(self) -> int:
        with self._lock:
            return self._now_us

    def advance(self, *, seconds: int = 0, microseconds: int = 0) -> int:
        if seconds < 0 or microseconds < 0:
            raise ValueError("a clock never moves backwards")
        with self._lock:
            self._now_us += seconds * MICROSECONDS_PER_SECOND + microseconds
            return self._now_us


def is_due(deadline_us: int | None, now_us: int) -> bool:
    """True when ``deadline_us`` has been reached. ``None`` means "never"."""
    return deadline_us is not None and now_us >= deadline_us


def to_datetime(timestamp_us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=timestamp_us)


def from_datetime(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused: give a time zone")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * MICROSECONDS_PER_SECOND + delta.microseconds
