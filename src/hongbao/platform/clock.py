"""The one source of time. Everything that needs "now" is handed a :class:`Clock`.

Timestamps inside hongbao are integer microseconds since the Unix epoch (UTC): exact,
comparable in SQL on every engine, and free of time-zone surprises. Deadlines are compared
only through :func:`is_due`, so there is one place that decides whether a moment has passed.

Processes that share a database must agree on "now", or one process's card window closes
before another's: :class:`DatabaseClock` follows the database server's clock, read every few
seconds, so every process of a deployment answers the same time whatever its own wall clock
says. A decision reads its clock once and hands that moment down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

MICROSECONDS_PER_SECOND = 1_000_000
NANOSECONDS_PER_MICROSECOND = 1_000
DEFAULT_REFRESH_SECONDS = 5.0
FIRST_READINGS = 3
# How fast a process's monotonic clock may run against the server's: NTP slews a clock by at
# most 500 ppm, so a reading's error grows by at most this much per second of extrapolation.
MAX_DRIFT_PPM = 500

logger = logging.getLogger(__name__)


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


class ServerTime(Protocol):
    """Reads a database server's clock: microseconds since the epoch, one round trip."""

    def __call__(self) -> int: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ClockReading:
    """One reading of the database's clock: the server's time, taken halfway through a round
    trip that started and ended at the given monotonic moments (nanoseconds)."""

    server_us: int
    sent_ns: int
    received_ns: int

    @property
    def round_trip_us(self) -> int:
        return (self.received_ns - self.sent_ns) // NANOSECONDS_PER_MICROSECOND

    @property
    def midpoint_ns(self) -> int:
        # The server read its clock somewhere inside the round trip; the middle is the best
        # guess, wrong by at most half the round trip.
        return (self.sent_ns + self.received_ns) // 2

    def error_bound_us(self, at_ns: int) -> int:
        """How far this reading's answer may be off at monotonic ``at_ns``: half the round
        trip, plus what the monotonic clock may have drifted since."""
        drift = max(0, at_ns - self.received_ns) * MAX_DRIFT_PPM // 1_000_000
        return self.round_trip_us // 2 + drift // NANOSECONDS_PER_MICROSECOND

    def now_us(self, at_ns: int) -> int:
        return self.server_us + (at_ns - self.midpoint_ns) // NANOSECONDS_PER_MICROSECOND


class DatabaseClock:
    """The database server's time, without a round trip per question.

    ``read_server_us`` asks the server for its clock (``clock_timestamp()`` on PostgreSQL). It
    is read at start (the best of a few readings) and then every ``refresh_seconds`` by
    :meth:`refresh`, on a thread of this clock's own once :meth:`start` ran. In between, now is
    the last reading plus the monotonic time since, so a process whose wall clock is wrong, or
    is stepped, still answers the database's time. A reading replaces the one in use only when
    its error bound is smaller than the drifted bound of the one in use, so one slow round trip
    does not make the clock worse. Answers never go backwards within a process.
    """

    def __init__(
        self,
        read_server_us: ServerTime,
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
        first_readings: int = FIRST_READINGS,
    ) -> None:
        if refresh_seconds <= 0 or first_readings < 1:
            raise ValueError("a database clock refreshes after a positive time, from readings")
        self._read_server_us = read_server_us
        self._monotonic_ns = monotonic_ns
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._last_us = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refresh_failures = 0
        readings = [self._take_reading() for _ in range(first_readings)]
        self._reading = min(readings, key=lambda reading: reading.round_trip_us)

    @property
    def reading(self) -> ClockReading:
        """The reading in use."""
        with self._lock:
            return self._reading

    def error_bound_us(self) -> int:
        """How far now may be from the server's clock, at most (half a round trip plus drift)."""
        with self._lock:
            return self._reading.error_bound_us(self._monotonic_ns())

    def now_us(self) -> int:
        with self._lock:
            estimate = self._reading.now_us(self._monotonic_ns())
            # A better reading may land a little earlier than the extrapolation of the last
            # one; time then stands still until it catches up instead of running backwards.
            self._last_us = max(self._last_us, estimate)
            return self._last_us

    def refresh(self) -> bool:
        """Read the server's clock again; True when the new reading is now the one in use."""
        reading = self._take_reading()
        with self._lock:
            if reading.error_bound_us(reading.received_ns) > self._reading.error_bound_us(
                reading.received_ns
            ):
                return False
            self._reading = reading
            return True

    def _take_reading(self) -> ClockReading:
        sent = self._monotonic_ns()
        server_us = self._read_server_us()
        return ClockReading(server_us, sent, self._monotonic_ns())

    def start(self) -> None:
        """Refresh every ``refresh_seconds`` on a daemon thread until :meth:`close`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="hongbao-clock", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            try:
                self.refresh()
            except Exception:
                # The last reading keeps answering (off by at most its drift bound, which grows
                # slowly); an unreachable database fails the money path on its own.
                self.refresh_failures += 1
                logger.warning("reading the database clock failed", exc_info=True)

    def close(self) -> None:
        """Stop refreshing and let go of the server's connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._read_server_us.close()


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
