"""What a packet's hash chain costs a claim and a send on PostgreSQL: statements, round trips
and CPU, measured in one process through the public services.

Run from the project root (any source tree: the script uses only ``PacketService``, so the
same file measures the source before the chain and after it)::

    .venv/bin/python benchmarks/history_cost.py --packets 20 --sends 300

One sender and 100 claimers in one group. Claims: ``--packets`` group lucky packets of 100
shares are sent during setup and each claimer takes one share of each, one claim per
transaction (``PacketService.claim``, the path the claim lane batches); one pass counts the
statements psycopg sends and the round trips it waits for, another (on as many further
packets) times them. Sends: ``--sends`` group lucky packets of 3 shares from the sender's
balance, counted then timed the same way. CPU is this process's (hongbao and psycopg; the
server's is not in it), wall-clock is per operation with one connection. With
``--pgbench-seconds`` pgbench's TPC-B-like rate with one client on the same server is measured
right after, for a ratio to one claim and one send done one at a time.

The database of ``--database-url`` is wiped first (its name must contain ``bench``). The
output is Markdown for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hongbao.packets.service import ClaimResult, PacketService
from hongbao.platform.clock import SystemClock
from hongbao.storage.factory import open_database
from ledger_bench import ensure_database, reset_postgres, run_pgbench
from packets_bench import (
    base_setup,
    lucky_packet,
    register_users,
    sender_id,
    source_state,
)
from recall_bench import counting_statements, database_name

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hongbao_history_bench"
CLAIMERS = 100
SHARES = 100
SEND_SHARES = 3
REPEATS = 5


@dataclass(frozen=True)
class Options:
    packets: int
    sends: int
    database_url: str
    pgbench_seconds: float


@dataclass(frozen=True)
class Measured:
    """One kind of operation: counted in one pass, timed in another."""

    what: str
    count: int
    statements: int
    round_trips: int
    cpu_seconds: float
    wall_seconds: float


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20, help="100-share packets per pass")
    parser.add_argument("--sends", type=int, default=300, help="sends per pass")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--pgbench-seconds", type=float, default=0.0)
    args = parser.parse_args(argv)
    if not 1 <= args.packets <= 200 or not 1 <= args.sends <= 10_000:
        parser.error("--packets is 1 to 200, --sends 1 to 10000")
    if "bench" not in database_name(args.database_url):
        parser.error("the database is wiped: its name must contain 'bench'")
    return Options(args.packets, args.sends, args.database_url, args.pgbench_seconds)


def claimer(index: int) -> str:
    return f"history-claimer-{index:03d}"


def measure(what: str, count: int, run: Callable[[str], None]) -> Measured:
    """``run(pass name)`` does ``count`` operations; once counted, once timed."""
    with counting_statements() as (statements, waited):
        run("count")
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    run("time")
    cpu = time.process_time() - started_cpu
    wall = time.perf_counter() - started_wall
    # A round trip is a wait for a result not yet arrived, plus the commit's.
    trips = sum(waited.values()) + count
    return Measured(what, count, sum(statements.values()), trips, cpu, wall)


def hashing_alone(events: int = 20_000) -> tuple[float, float] | None:
    """CPU per event of numbering events for a chained stream and for an unchained one (the
    outbox's own step, no I/O); None on a source without chains."""
    try:
        from hongbao.platform.chain import EMPTY  # noqa: PLC0415 - absent before the chain
    except ImportError:
        return None
    from hongbao.platform.outbox import NewEvent, number_events  # noqa: PLC0415

    def cost(stream: str) -> float:
        batch = [
            (
                NewEvent(
                    stream, "PacketClaimed", {"packet_id": "p", "user": f"u-{n}", "amount": n}
                ),
                n,
                ("user-feed",),
            )
            for n in range(events)
        ]
        started = time.process_time()
        number_events(batch, {stream: EMPTY}, max_attempts=10)  # type: ignore[arg-type]
        return (time.process_time() - started) / events

    # Interleaved, the best of five each: the machine is shared, the least disturbed run wins.
    pairs = [(cost("packet:p-bench"), cost("user:u-bench")) for _ in range(REPEATS)]
    return min(chained for chained, _ in pairs), min(plain for _, plain in pairs)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    url = options.database_url
    ensure_database(url, database_name(url))
    reset_postgres(url)
    since_us = SystemClock().now_us() - 3_600_000_000
    base_setup(url, 1, since_us, group=True)
    register_users(url, [claimer(n) for n in range(CLAIMERS)], since_us, group=True)
    database = open_database(url, pool_size=1)
    packets = PacketService(database, SystemClock())
    sender = sender_id(0)
    for run in ("warm", "count", "time"):
        for number in range(options.packets):
            packets.send(lucky_packet(f"hot-{run}-{number}", sender, SHARES, SHARES * 100))
    for number in range(CLAIMERS):  # warm: prepared statements and caches
        packets.claim("hot-warm-0", claimer(number))

    def claims(run: str) -> None:
        for number in range(options.packets):
            for index in range(CLAIMERS):
                outcome = packets.claim(f"hot-{run}-{number}", claimer(index))
                if outcome.result is not ClaimResult.CLAIMED:
                    raise SystemExit(f"claim answered {outcome.result}")

    def sends(run: str) -> None:
        for number in range(options.sends):
            packets.send(lucky_packet(f"send-{run}-{number}", sender, SEND_SHARES, 30))

    sends("warm")
    results = [
        measure("claim", options.packets * CLAIMERS, claims),
        measure("send", options.sends, sends),
    ]
    database.close()
    pgbench = (
        run_pgbench(url, options.pgbench_seconds, clients=1) if options.pgbench_seconds else None
    )
    print_report(options, results, pgbench)
    alone = hashing_alone()
    if alone is not None:
        chained, plain = alone
        print(
            f"Numbering one event in the outbox, no I/O: {1e6 * chained:.1f} µs on a packet's "
            f"(chained) stream, {1e6 * plain:.1f} µs on a user's (unchained) stream."
        )
        print()
    return 0


def print_report(
    options: Options, results: list[Measured], pgbench: tuple[str, float] | None
) -> None:
    print("## A packet's chain: cost per claim and per send (PostgreSQL, one process)")
    print()
    print(f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"- command: `{shlex.join(sys.orig_argv)}`")
    print(f"- source: {source_state()}")
    if pgbench is not None:
        print(f"- pgbench: `{pgbench[0]}`: {pgbench[1]:.0f} tps")
    print()
    header = "| per | count | statements | round trips | CPU (ms) | wall (ms) |"
    if pgbench is not None:
        header += " ops/s ÷ pgbench tps |"
    print(header)
    print("|---|---:|---:|---:|---:|---:|" + ("---:|" if pgbench is not None else ""))
    for result in results:
        row = (
            f"| {result.what} | {result.count} | {result.statements / result.count:.2f} "
            f"| {result.round_trips / result.count:.2f} "
            f"| {1_000 * result.cpu_seconds / result.count:.3f} "
            f"| {1_000 * result.wall_seconds / result.count:.3f} |"
        )
        if pgbench is not None:
            rate = result.count / result.wall_seconds
            row += f" {rate / pgbench[1]:.2f} |"
        print(row)
    print()


if __name__ == "__main__":
    sys.exit(main())
