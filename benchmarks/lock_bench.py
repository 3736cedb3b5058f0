"""Row-lock hold times and outbox delivery delays under the HTTP benchmark's load.

Run from the project root, on the machine of the PostgreSQL server (its log file is read)::

    .venv/bin/python benchmarks/lock_bench.py -- --seconds 10 --scenarios hot,recall,mix

Everything after ``--`` goes to ``benchmarks/http_bench.py``, which runs as it always does and
prints its own report. Nothing in hongbao is instrumented; what is measured comes from
PostgreSQL and from timestamps hongbao already stores:

- **lock hold**: for the benchmark's database only, PostgreSQL logs every statement of a sample
  of transactions (``ALTER DATABASE ... SET log_transaction_sample_rate``, reset at the end),
  each line when the statement ends, stamped to the millisecond. A transaction's hold is from
  the end of its statement that locks a packet row (``SELECT ... FROM packets ... FOR UPDATE``:
  the lock is held from then on) to the end of its COMMIT. Claims (a hot claim batch) and
  recalls are told apart by their statements. The log is written in milliseconds, so a hold is
  known to about 1 ms.
- **outbox delivery delay**: each outbox event's ``created_at_us`` (written in the sending
  transaction) and each delivery's ``delivered_at_us`` (the relay in ``hongbao worker``), for
  the events written while the API served the benchmark.

Targets: lock hold p99 < 5 ms, outbox delivery p99 < 1 s.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

import http_bench
from ledger_bench import ensure_database
from recall_bench import database_name

DEFAULT_LOG = Path("/var/log/postgresql/postgresql-15-main.log")
DEFAULT_SAMPLE_RATE = 0.05
TARGET_HOLD_P99_MS = 5.0
TARGET_DELIVERY_P99_S = 1.0
# "2026-12-05 13:24:56.418 UTC [12967] postgres@db LOG:  duration: 0.052 ms  execute x: SQL"
LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \S+ \[(?P<pid>\d+)\] \S*@(?P<db>\S+) "
    r"LOG:  duration: [\d.]+ ms  execute [^:]+: (?P<statement>.*)$"
)
PACKET_LOCK = re.compile(r"FROM packets\b.*FOR UPDATE", re.IGNORECASE)


@dataclass(frozen=True)
class Options:
    database_url: str
    log_file: Path
    sample_rate: float
    bench_argv: list[str]


def parse_options(argv: Sequence[str] | None = None) -> Options:
    arguments = list(sys.argv[1:] if argv is None else argv)
    split = arguments.index("--") if "--" in arguments else len(arguments)
    ours, theirs = arguments[:split], arguments[split + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-file", type=Path, default=DEFAULT_LOG, help="the server's log")
    parser.add_argument(
        "--sample-rate",
        type=float,
        default=DEFAULT_SAMPLE_RATE,
        help="the share of transactions PostgreSQL logs whole",
    )
    args = parser.parse_args(ours)
    if not 0 < args.sample_rate <= 1:
        parser.error("--sample-rate is above 0, at most 1")
    url = http_bench.parse_options(theirs).database_url
    return Options(url, args.log_file, args.sample_rate, theirs)


# ------------------------------------------------------------------------------ lock holds


@dataclass
class Transaction:
    statements: list[tuple[float, str]] = field(default_factory=list)  # (ended at, SQL)

    def kind(self) -> str:
        text = " ".join(statement for _, statement in self.statements)
        if "recalls" in text:
            return "recall"
        if "packet_shares" in text and "claimed_by" in text:
            return "claim"
        return "other"

    def hold_ms(self) -> float | None:
        """From the end of the packet-locking statement to the end of COMMIT."""
        locked = next((at for at, text in self.statements if PACKET_LOCK.search(text)), None)
        if locked is None:
            return None
        return (self.statements[-1][0] - locked) * 1_000


def sampled_transactions(
    lines: Iterator[str], database: str, zone: ZoneInfo, since: float
) -> Iterator[Transaction]:
    """The logged transactions of ``database`` that began after ``since`` (epoch seconds)."""
    open_by_pid: dict[str, Transaction] = {}
    for line in lines:
        found = LINE.match(line)
        if found is None or found["db"] != database:
            continue
        at = datetime.strptime(found["at"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=zone)
        moment, statement, pid = at.timestamp(), found["statement"].strip(), found["pid"]
        keyword = statement.split(" ", 1)[0].upper()
        if keyword == "BEGIN":
            open_by_pid[pid] = Transaction([(moment, statement)])
            continue
        current = open_by_pid.get(pid)
        if current is None:
            continue
        current.statements.append((moment, statement))
        if keyword in ("COMMIT", "ROLLBACK"):
            del open_by_pid[pid]
            if keyword == "COMMIT" and current.statements[0][0] >= since:
                yield current


def read_from(path: Path, offset: int) -> Iterator[str]:
    with path.open("r", errors="replace") as log:
        log.seek(offset)
        yield from log


# ------------------------------------------------------------------------------ outbox

DELAYS_SQL = """
SELECT d.delivered_at_us - e.created_at_us
FROM platform_outbox_deliveries d JOIN platform_outbox_events e ON e.id = d.event_id
WHERE d.state = 'delivered' AND e.created_at_us >= %s
"""
UNDELIVERED_SQL = """
SELECT count(*) FROM platform_outbox_deliveries d
JOIN platform_outbox_events e ON e.id = d.event_id
WHERE d.state <> 'delivered' AND e.created_at_us >= %s
"""


def outbox_delays(url: str, since_us: int) -> tuple[list[float], int]:
    """Delivery delays in seconds of the events written since ``since_us``; undelivered."""
    with psycopg.connect(url, autocommit=True) as connection:
        delays = [row[0] / 1e6 for row in connection.execute(DELAYS_SQL, (since_us,))]
        row = connection.execute(UNDELIVERED_SQL, (since_us,)).fetchone()
    return delays, int(row[0]) if row else 0


# ------------------------------------------------------------------------------ figures


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def summary(values: Sequence[float], unit: str, scale: float = 1.0) -> str:
    if not values:
        return "none sampled"
    shown = [value * scale for value in values]
    return (
        f"n={len(shown):,}, p50 {percentile(shown, 0.5):.1f} {unit}, "
        f"p99 {percentile(shown, 0.99):.1f} {unit}, max {max(shown):.1f} {unit}"
    )


def verdict(values: Sequence[float], target: float) -> str:
    return "met" if values and percentile(values, 0.99) < target else "not met"


# ------------------------------------------------------------------------------ main


@contextmanager
def sampling(url: str, rate: float) -> Iterator[str]:
    """Log a sample of the benchmark database's transactions whole, for the sessions opened
    inside this block (the setting is the database's, never the server's)."""
    name = database_name(url)
    ensure_database(url, name)
    with psycopg.connect(url, autocommit=True) as connection:
        zone = str((connection.execute("SHOW log_timezone").fetchone() or ("UTC",))[0])
        connection.execute(
            sql.SQL("ALTER DATABASE {} SET log_transaction_sample_rate = {}").format(
                sql.Identifier(name), sql.Literal(rate)
            )
        )
    try:
        yield zone
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("ALTER DATABASE {} RESET log_transaction_sample_rate").format(
                    sql.Identifier(name)
                )
            )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    served_since: list[float] = []
    original = http_bench.running_service

    @contextmanager
    def timed_service(*arguments: Any) -> Iterator[http_bench.Service]:
        with original(*arguments) as service:
            served_since.append(time.time())
            yield service

    http_bench.running_service = timed_service  # type: ignore[assignment]
    offset = options.log_file.stat().st_size
    with sampling(options.database_url, options.sample_rate) as zone:
        code = http_bench.main(options.bench_argv)
    if not served_since:
        raise SystemExit("the benchmark never started its service")
    since = served_since[0]
    holds: dict[str, list[float]] = {"claim": [], "recall": []}
    for transaction in sampled_transactions(
        read_from(options.log_file, offset),
        database_name(options.database_url),
        ZoneInfo(zone),
        since,
    ):
        hold, kind = transaction.hold_ms(), transaction.kind()
        if hold is not None and kind in holds:
            holds[kind].append(hold)
    delays, undelivered = outbox_delays(options.database_url, int(since * 1e6))

    print("## Lock hold and outbox delivery (`benchmarks/lock_bench.py`)")
    print()
    print(f"- command: `{shlex.join(sys.orig_argv)}`")
    print(
        f"- lock hold: PostgreSQL's log of {options.sample_rate:.0%} of the benchmark "
        "database's transactions (log_transaction_sample_rate), from the end of the statement "
        "locking a packet row to the end of COMMIT, to the log's millisecond"
    )
    print(
        "- outbox: delivered_at_us - created_at_us of every delivery of the events written "
        f"while the API served the benchmark; {undelivered:,} not delivered at the end"
    )
    print()
    print("| figure | measured | target | |")
    print("|---|---|---|---|")
    for kind, label in (
        ("claim", "lock hold, claims (hot packets)"),
        ("recall", "lock hold, recalls"),
    ):
        print(
            f"| {label} | {summary(holds[kind], 'ms')} | p99 < {TARGET_HOLD_P99_MS:g} ms | "
            f"{verdict(holds[kind], TARGET_HOLD_P99_MS)} |"
        )
    print(
        f"| outbox delivery delay | {summary(delays, 'ms', 1_000)} | p99 < "
        f"{TARGET_DELIVERY_P99_S:g} s | {verdict(delays, TARGET_DELIVERY_P99_S)} |"
    )
    print()
    return code


if __name__ == "__main__":
    sys.exit(main())
