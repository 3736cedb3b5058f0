"""The database clock: the server's time read now and then, extrapolated with monotonic time."""

from __future__ import annotations

import threading

import pytest

from hongbao.platform.clock import MAX_DRIFT_PPM, ClockReading, DatabaseClock

MS = 1_000_000  # nanoseconds
SERVER_START_US = 1_796_000_000_000_000


class Monotonic:
    """A monotonic clock moved by hand, in nanoseconds."""

    def __init__(self) -> None:
        self.ns = 5_000 * MS

    def __call__(self) -> int:
        return self.ns


class Server:
    """A database server whose clock runs ``offset_us`` ahead of the fake monotonic clock;
    each reading takes ``round_trip_ns``, the server reading its clock ``at`` of the way."""

    def __init__(self, monotonic: Monotonic, *, round_trip_ns: int = 2 * MS) -> None:
        self.monotonic = monotonic
        self.offset_us = SERVER_START_US - monotonic.ns // 1_000
        self.round_trips = [round_trip_ns]
        self.at = 0.5
        self.readings = 0
        self.closed = False
        self.failing = False

    def true_us(self) -> int:
        return self.monotonic.ns // 1_000 + self.offset_us

    def __call__(self) -> int:
        if self.failing:
            raise ConnectionError("the server is gone")
        round_trip = self.round_trips[min(self.readings, len(self.round_trips) - 1)]
        self.readings += 1
        self.monotonic.ns += int(round_trip * self.at)
        answer = self.true_us()
        self.monotonic.ns += round_trip - int(round_trip * self.at)
        return answer

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


def test_now_is_the_servers_time_whatever_the_process_clock_says(monotonic: Monotonic) -> None:
    server = Server(monotonic)
    clock = DatabaseClock(server, monotonic_ns=monotonic)
    assert clock.now_us() == server.true_us()


def test_between_readings_now_runs_on_monotonic_time_without_asking_the_server(
    monotonic: Monotonic,
) -> None:
    server = Server(monotonic)
    clock = DatabaseClock(server, monotonic_ns=monotonic, first_readings=1)
    monotonic.ns += 3_700 * MS
    assert clock.now_us() == server.true_us()
    assert server.readings == 1


def test_a_reading_is_taken_as_of_the_middle_of_its_round_trip(monotonic: Monotonic) -> None:
    """Half the round trip is added: a server that answers at the middle of a 40 ms round
    trip is matched exactly, and one that answers at either end is off by at most 20 ms."""
    server = Server(monotonic, round_trip_ns=40 * MS)
    clock = DatabaseClock(server, monotonic_ns=monotonic, first_readings=1)
    assert clock.now_us() == server.true_us()
    assert clock.reading.round_trip_us == 40_000
    assert clock.error_bound_us() == 20_000
    for at in (0.0, 1.0):
        late = Server(monotonic, round_trip_ns=40 * MS)
        late.at = at
        off = DatabaseClock(late, monotonic_ns=monotonic, first_readings=1).now_us()
        assert abs(off - late.true_us()) <= 20_000


def test_the_first_answer_comes_from_the_fastest_of_the_first_readings(
    monotonic: Monotonic,
) -> None:
    server = Server(monotonic)
    server.round_trips = [30 * MS, 1 * MS, 12 * MS]
    clock = DatabaseClock(server, monotonic_ns=monotonic, first_readings=3)
    assert server.readings == 3
    assert clock.reading.round_trip_us == 1_000


def test_a_slow_refresh_keeps_the_better_reading_and_a_fast_one_replaces_it(
    monotonic: Monotonic,
) -> None:
    server = Server(monotonic)
    server.round_trips = [2 * MS, 50 * MS, 1 * MS]
    clock = DatabaseClock(server, monotonic_ns=monotonic, first_readings=1)
    monotonic.ns += 5_000 * MS
    assert not clock.refresh()  # 25 ms of uncertainty against 1 ms + 2.5 ms of drift
    assert clock.reading.round_trip_us == 2_000
    assert clock.refresh()
    assert clock.reading.round_trip_us == 1_000
    assert clock.now_us() == server.true_us()


def test_a_reading_is_trusted_less_the_longer_it_is_extrapolated() -> None:
    reading = ClockReading(SERVER_START_US, 0, 4 * MS)
    assert reading.error_bound_us(4 * MS) == 2_000
    ten_seconds = 10_000 * MS
    assert reading.error_bound_us(4 * MS + ten_seconds) == 2_000 + 10 * MAX_DRIFT_PPM


def test_now_never_goes_backwards_when_the_server_clock_is_stepped_back(
    monotonic: Monotonic,
) -> None:
    server = Server(monotonic)
    clock = DatabaseClock(server, monotonic_ns=monotonic, first_readings=1)
    before = clock.now_us()
    server.offset_us -= 1_000_000  # the server's clock stepped back by a second
    monotonic.ns += 100 * MS
    assert clock.refresh()
    assert clock.now_us() == before  # held at the last answer, not a second back
    monotonic.ns += 400 * MS
    assert clock.now_us() == before
    monotonic.ns += 1_000 * MS
    assert clock.now_us() == server.true_us()  # caught up, on the server's time again


def test_the_background_refresh_outlives_a_failing_server_and_stops_when_closed(
    monotonic: Monotonic,
) -> None:
    refreshed = threading.Event()

    class Flaky(Server):
        def __call__(self) -> int:
            answer = super().__call__()
            if self.readings > 1:
                refreshed.set()
            return answer

    server = Flaky(monotonic)
    clock = DatabaseClock(server, monotonic_ns=monotonic, refresh_seconds=0.01, first_readings=1)
    server.failing = True
    clock.start()
    for _ in range(500):
        if clock.refresh_failures:
            break
        threading.Event().wait(0.01)
    assert clock.refresh_failures > 0
    monotonic.ns += 1_000 * MS
    assert clock.now_us() == server.true_us()  # the last reading still answers
    server.failing = False
    assert refreshed.wait(5)
    clock.close()
    assert server.closed
    readings = server.readings
    monotonic.ns += 1_000 * MS
    threading.Event().wait(0.05)
    assert server.readings == readings  # closed: nothing refreshes any more


def test_a_database_clock_is_refused_a_refresh_period_that_is_not_positive(
    monotonic: Monotonic,
) -> None:
    with pytest.raises(ValueError, match="positive"):
        DatabaseClock(Server(monotonic), monotonic_ns=monotonic, refresh_seconds=0)
