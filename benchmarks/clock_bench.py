"""Database clock benchmark: what following the PostgreSQL server's clock costs and how close
it stays.

Run from the project root::

    .venv/bin/python benchmarks/clock_bench.py --readings 200 --processes 4

It opens the clock every hongbao process opens on PostgreSQL
(``hongbao.storage.factory.open_clock``) and prints:

- the round trip of a reading (``Database clock refresh``), whose half bounds a reading's
  error;
- the cost of one ``now_us()`` beside the process's own clock (``SystemClock``);
- how far ``now_us()`` is from the server: ``clock_timestamp()`` read just before and just
  after it on another connection brackets the true time, and the distance outside the bracket
  is the error (0 when inside), over ``--readings`` samples spread over ``--seconds``;
- with ``--processes N``, N processes each opening the clock: the spread of their answers at
  the same monotonic instant is bounded by comparing each to the server as above.

Nothing is written to the database.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
import timeit

import psycopg

from hongbao.platform.clock import DatabaseClock, SystemClock
from hongbao.storage.factory import open_clock
from hongbao.storage.postgres_clock import SERVER_TIME_SQL, PostgresServerTime
from hongbao.storage.urls import parse_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_now_us(connection: psycopg.Connection[tuple[int]]) -> int:
    row = connection.execute(SERVER_TIME_SQL).fetchone()
    return 0 if row is None else int(row[0])


def errors_us(url: str, readings: int, seconds: float) -> list[int]:
    """Distance of the clock's answers outside the server's bracket, one per sample."""
    clock = open_clock(url)
    if not isinstance(clock, DatabaseClock):
        raise SystemExit("the database clock is for PostgreSQL URLs")
    found = []
    with psycopg.connect(url, autocommit=True) as connection:
        for _ in range(readings):
            before = server_now_us(connection)
            now = clock.now_us()
            after = server_now_us(connection)
            found.append(max(0, before - now, now - after))
            time.sleep(seconds / readings)
    clock.close()
    return found


def _process(url: str, readings: int, seconds: float, queue: multiprocessing.Queue[int]) -> None:
    queue.put(max(errors_us(url, readings, seconds)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--readings", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=12.0, help="spread the samples over")
    parser.add_argument("--processes", type=int, default=0)
    options = parser.parse_args()
    url = options.database_url

    server = PostgresServerTime(parse_url(url))
    trips = []
    for _ in range(options.readings):
        sent = time.monotonic_ns()
        server()
        trips.append((time.monotonic_ns() - sent) // 1_000)
    server.close()
    trips.sort()
    clock = open_clock(url)
    if not isinstance(clock, DatabaseClock):
        raise SystemExit("the database clock is for PostgreSQL URLs")
    median, p99 = statistics.median(trips), trips[int(len(trips) * 0.99) - 1]
    print(f"reading round trip: median {median:.0f} us, p99 {p99} us, max {trips[-1]} us")
    calls = 200_000
    ours = timeit.timeit(clock.now_us, number=calls) / calls * 1e9
    system = timeit.timeit(SystemClock().now_us, number=calls) / calls * 1e9
    print(f"now_us(): {ours:.0f} ns a call (SystemClock: {system:.0f} ns)")
    clock.close()

    found = errors_us(url, options.readings, options.seconds)
    print(
        f"outside the server's bracket over {options.seconds:.0f} s: "
        f"max {max(found)} us, mean {statistics.fmean(found):.1f} us"
    )
    if options.processes:
        queue: multiprocessing.Queue[int] = multiprocessing.Queue()
        workers = [
            multiprocessing.Process(
                target=_process, args=(url, options.readings, options.seconds, queue)
            )
            for _ in range(options.processes)
        ]
        for worker in workers:
            worker.start()
        worst = [queue.get() for _ in workers]
        for worker in workers:
            worker.join()
        print(
            f"{options.processes} processes, each within {max(worst)} us of the server: "
            f"any two within {2 * max(worst)} us of each other"
        )


if __name__ == "__main__":
    main()
