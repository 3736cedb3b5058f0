"""Ledger throughput benchmark: transfers per second on SQLite and PostgreSQL.

Run from the project root::

    .venv/bin/python benchmarks/ledger_bench.py --seconds 10

For every backend, worker count and batch size it starts a fresh database, opens ``--accounts``
user balance accounts funded from one debit card, and lets worker *processes* (threads would
measure the GIL, not the ledger) move small random amounts between random pairs of users.
Each worker opens its own database with ``pool_size=1``. After every run ``Ledger.verify()``
checks every invariant and that the ledger holds exactly the transfers the workers were told
succeeded: a benchmark that corrupts money is worthless. With ``--pgbench`` the same server's
TPC-B-like ``pgbench`` figure is measured for comparison.

The output is Markdown, ready to paste into ``benchmarks/RESULTS.md``. The PostgreSQL database
named by ``--database-url`` is wiped (``DROP SCHEMA public CASCADE``) before each run, so its
name must contain ``bench``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.results import TransferResultCode
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import SystemClock
from hongbao.platform.errors import StorageError
from hongbao.platform.limits import MAX_BATCH_SIZE
from hongbao.storage import migrate
from hongbao.storage.factory import open_database
from hongbao.storage.urls import parse_url

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/hongbao_bench"
PGBENCH_DATABASE = "pgbench_bench"
PGBENCH_SCALE = 10
PGBENCH_CLIENTS = 8
PGBENCH_THREADS = 2
PGBENCH_TARGET_RATIO = 0.8
PGBENCH_COMPARED_WORKERS = 8
CURRENCY = "CNY"
TRANSFER_CODE = 1
FUNDING_PER_ACCOUNT = 1_000_000  # fen: ten thousand yuan each, far more than a run moves
MIN_AMOUNT, MAX_AMOUNT = 1, 100
CARD_ID = "bench-card"
STARTUP_TIMEOUT_SECONDS = 180.0
RESULT_MARGIN_SECONDS = 120.0
SUCCEEDED_CODES = frozenset(code.value for code in TransferResultCode if code.succeeded)
TPS_PATTERN = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)


# ------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class Options:
    seconds: float
    warmup: float
    backends: list[str]
    workers: list[int]
    batches: list[int]
    accounts: int
    pgbench: bool
    analyze: bool
    database_url: str


def _int_list(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers like 1,8, got {text!r}")
    return values


def _backend_list(text: str) -> list[str]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(values) - {"sqlite", "postgresql"}
    if not values or unknown:
        raise argparse.ArgumentTypeError(f"backends are sqlite and postgresql, got {text!r}")
    return values


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time per run")
    parser.add_argument("--backends", type=_backend_list, default=["sqlite", "postgresql"])
    parser.add_argument("--workers", type=_int_list, default=[1, 8], help="worker processes")
    parser.add_argument("--batch", type=_int_list, default=[1, 10], help="transfers per call")
    parser.add_argument("--accounts", type=int, default=1_000, help="user balance accounts")
    parser.add_argument("--pgbench", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--analyze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ANALYZE the PostgreSQL tables after setup, as autovacuum would on a live database",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args(argv)
    if args.accounts < 2:
        parser.error("--accounts must be at least 2 (a transfer needs two accounts)")
    if max(args.batch) > MAX_BATCH_SIZE:
        parser.error(f"--batch may not exceed the ledger's batch limit {MAX_BATCH_SIZE}")
    return Options(
        seconds=args.seconds,
        warmup=args.warmup,
        backends=args.backends,
        workers=args.workers,
        batches=args.batch,
        accounts=args.accounts,
        pgbench=args.pgbench,
        analyze=args.analyze,
        database_url=args.database_url,
    )


# ------------------------------------------------------------------------------ PostgreSQL


def _database_name(url: str) -> str:
    return str(conninfo_to_dict(url).get("dbname", ""))


def _admin_conninfo(url: str) -> str:
    """The same server, connected to the ``postgres`` maintenance database."""
    return make_conninfo(url, dbname="postgres")


def ensure_database(url: str, name: str) -> None:
    """Create database ``name`` on the server of ``url`` unless it exists."""
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def server_settings(url: str) -> dict[str, str]:
    """Server version and the durability settings that decide commit cost."""
    names = ("server_version", "fsync", "synchronous_commit", "max_connections")
    settings = {}
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as connection:
        for name in names:
            row = connection.execute(f"SHOW {name}").fetchone()
            settings[name] = str(row[0]) if row else "?"
    return settings


def reset_postgres(url: str) -> None:
    """Empty the benchmark database and migrate it to the current schema."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")
    migrate.upgrade(parse_url(url))


def analyze_postgres(url: str) -> None:
    """Give the planner statistics; without them cached generic plans can scan whole tables."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")


# ------------------------------------------------------------------------------ setup


def user_id(index: int) -> str:
    return f"bench-user-{index:06d}"


def _chunks(items: Sequence[Any], size: int = MAX_BATCH_SIZE) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def fresh_database_url(backend: str, options: Options, scratch: Path, run: str) -> str:
    """An empty, migrated database for one run."""
    if backend == "sqlite":
        path = scratch / f"ledger-{run}.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(parse_url(url))
        return url
    reset_postgres(options.database_url)
    return options.database_url


def fund_accounts(url: str, count: int) -> None:
    """Open ``count`` user balances and the card, and give every user the same balance."""
    accounts = [NewAccount(CARD_ID, AccountKind.DEBIT_CARD, CURRENCY)]
    accounts += [NewAccount(user_id(i), AccountKind.USER_BALANCE, CURRENCY) for i in range(count)]
    fundings = [
        TransferRequest(
            id=f"bench-fund-{i:06d}",
            code=TRANSFER_CODE,
            amount=FUNDING_PER_ACCOUNT,
            debit_account_id=CARD_ID,
            credit_account_id=user_id(i),
            currency=CURRENCY,
        )
        for i in range(count)
    ]
    database = open_database(url, pool_size=1)
    try:
        ledger = Ledger(database, SystemClock())
        for chunk in _chunks(accounts):
            _require(all(r.succeeded for r in ledger.create_accounts(chunk)), "open accounts")
        for chunk in _chunks(fundings):
            _require(all(r.succeeded for r in ledger.create_transfers(chunk)), "fund accounts")
    finally:
        database.close()


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark setup failed: could not {what}")


# ------------------------------------------------------------------------------ workers


@dataclass(frozen=True)
class WorkerConfig:
    url: str
    run: str
    worker: int
    batch: int
    accounts: int
    warmup: float
    seconds: float


@dataclass
class Tally:
    """What one worker measured; ``succeeded_total`` includes the warm-up."""

    worker: int = 0
    calls: int = 0
    transfers: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)
    succeeded_total: int = 0
    elapsed: float = 0.0
    error: str | None = None


def make_batch(config: WorkerConfig, rng: random.Random, first: int) -> list[TransferRequest]:
    """``config.batch`` transfers between random distinct users, with unique ids."""
    requests = []
    for n in range(first, first + config.batch):
        debit = rng.randrange(config.accounts)
        credit = rng.randrange(config.accounts - 1)
        credit += credit >= debit
        requests.append(
            TransferRequest(
                id=f"bench-{config.run}-{config.worker}-{n}",
                code=TRANSFER_CODE,
                amount=rng.randint(MIN_AMOUNT, MAX_AMOUNT),
                debit_account_id=user_id(debit),
                credit_account_id=user_id(credit),
                currency=CURRENCY,
            )
        )
    return requests


def call_ledger(ledger: Ledger, requests: list[TransferRequest]) -> list[str]:
    """One ``create_transfers`` call; a conflict that outlived its retries counts as a code."""
    try:
        return [result.code.value for result in ledger.create_transfers(requests)]
    except StorageError as error:
        return [f"error:{error.code}"] * len(requests)


def record(tally: Tally, codes: list[str], latency: float, *, measured: bool) -> None:
    succeeded = sum(1 for code in codes if code in SUCCEEDED_CODES)
    tally.succeeded_total += succeeded
    if not measured:
        return
    tally.calls += 1
    tally.transfers += succeeded
    tally.latencies_ms.append(latency * 1_000)
    for code in codes:
        if code != TransferResultCode.OK:
            tally.codes[code] = tally.codes.get(code, 0) + 1


def drive(ledger: Ledger, config: WorkerConfig, barrier: Barrier) -> Tally:
    """Wait for every worker, warm up, then call the ledger until the time is up."""
    rng = random.Random(f"{config.run}-{config.worker}")
    tally = Tally(worker=config.worker)
    barrier.wait(STARTUP_TIMEOUT_SECONDS)
    measure_from = time.perf_counter() + config.warmup
    stop = measure_from + config.seconds
    issued = 0
    while (began := time.perf_counter()) < stop:
        requests = make_batch(config, rng, issued)
        issued += len(requests)
        codes = call_ledger(ledger, requests)
        ended = time.perf_counter()
        record(tally, codes, ended - began, measured=began >= measure_from)
        tally.elapsed = max(0.0, ended - measure_from)
    return tally


def worker_main(config: WorkerConfig, barrier: Barrier, results: Any) -> None:
    """Process entry point: open a database of its own, drive it, report the tally."""
    try:
        database = open_database(config.url, pool_size=1)
        try:
            tally = drive(Ledger(database, SystemClock()), config, barrier)
        finally:
            database.close()
    except BaseException as error:
        barrier.abort()
        results.put(asdict(Tally(worker=config.worker, error=repr(error))))
        raise
    results.put(asdict(tally))


# ------------------------------------------------------------------------------ runs


@dataclass
class RunResult:
    backend: str
    workers: int
    batch: int
    transfers_per_second: float
    calls_per_second: float
    p50_ms: float
    p99_ms: float
    codes: Counter[str]
    succeeded_total: int
    verified: str = "not run"
    verified_ok: bool = False


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def spawn_workers(url: str, run: str, workers: int, batch: int, options: Options) -> list[Tally]:
    """Start ``workers`` processes together and collect their tallies."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    results = context.Queue()
    processes = []
    for worker in range(workers):
        config = WorkerConfig(
            url, run, worker, batch, options.accounts, options.warmup, options.seconds
        )
        process = context.Process(target=worker_main, args=(config, barrier, results))
        process.start()
        processes.append(process)
    timeout = STARTUP_TIMEOUT_SECONDS + options.warmup + options.seconds + RESULT_MARGIN_SECONDS
    tallies = [Tally(**results.get(timeout=timeout)) for _ in processes]
    for process in processes:
        process.join()
    failed = [tally.error for tally in tallies if tally.error]
    if failed:
        raise SystemExit(f"a worker failed: {failed[0]}")
    return tallies


def summarise(backend: str, workers: int, batch: int, tallies: list[Tally]) -> RunResult:
    """Sum the workers' counts over the longest measured window."""
    window = max(tally.elapsed for tally in tallies) or 1.0
    latencies = sorted(latency for tally in tallies for latency in tally.latencies_ms)
    codes: Counter[str] = Counter()
    for tally in tallies:
        codes.update(tally.codes)
    return RunResult(
        backend=backend,
        workers=workers,
        batch=batch,
        transfers_per_second=sum(tally.transfers for tally in tallies) / window,
        calls_per_second=sum(tally.calls for tally in tallies) / window,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        codes=codes,
        succeeded_total=sum(tally.succeeded_total for tally in tallies),
    )


def verify_run(url: str, result: RunResult, accounts: int) -> None:
    """Check every ledger invariant, and that exactly the acknowledged transfers are stored."""
    database = open_database(url, pool_size=1)
    try:
        report = Ledger(database, SystemClock()).verify()
    finally:
        database.close()
    expected = accounts + result.succeeded_total  # the fundings plus what workers were told
    problems = []
    if not report.ok:
        first = report.violations[0]
        problems.append(f"{report.violation_count} violations, first {first.check}: {first.detail}")
    if report.transfers != expected:
        problems.append(f"{report.transfers} transfers stored, {expected} acknowledged")
    result.verified_ok = not problems
    result.verified = "; ".join(problems) or (
        f"ok ({report.transfers} transfers, {report.postings} postings)"
    )


def run_one(backend: str, workers: int, batch: int, options: Options, scratch: Path) -> RunResult:
    """A fresh database, funded accounts, the measured run, then verification."""
    run = f"{backend[:2]}w{workers}b{batch}"
    print(f"  running {backend} workers={workers} batch={batch} ...", file=sys.stderr, flush=True)
    url = fresh_database_url(backend, options, scratch, run)
    fund_accounts(url, options.accounts)
    if backend == "postgresql" and options.analyze:
        analyze_postgres(url)
    result = summarise(backend, workers, batch, spawn_workers(url, run, workers, batch, options))
    verify_run(url, result, options.accounts)
    return result


# ------------------------------------------------------------------------------ pgbench


def pgbench_arguments(url: str) -> list[str]:
    """Host, port and user of the benchmark server, as pgbench options."""
    info = conninfo_to_dict(url)
    arguments = ["-h", str(info.get("host", "127.0.0.1")), "-U", str(info.get("user", "postgres"))]
    if "port" in info:
        arguments += ["-p", str(info["port"])]
    return arguments


def run_pgbench(url: str, seconds: float, *, clients: int = PGBENCH_CLIENTS) -> tuple[str, float]:
    """Initialise and run TPC-B-like pgbench; return the command and its tps."""
    ensure_database(url, PGBENCH_DATABASE)
    server = pgbench_arguments(url)
    initialise = ["pgbench", "-i", "-s", str(PGBENCH_SCALE), "-q", *server, PGBENCH_DATABASE]
    subprocess.run(initialise, check=True, capture_output=True, text=True)
    command = [
        "pgbench",
        *("-c", str(clients), "-j", str(PGBENCH_THREADS)),
        *("-T", str(max(1, round(seconds)))),
        *server,
        PGBENCH_DATABASE,
    ]
    completed = subprocess.run(command, check=True, capture_output=True, text=True)
    match = TPS_PATTERN.search(completed.stdout)
    if match is None:
        raise SystemExit(f"could not read tps from pgbench output:\n{completed.stdout}")
    return shlex.join(command), float(match.group(1))


# ------------------------------------------------------------------------------ report


def print_header(options: Options, settings: dict[str, str] | None) -> None:
    print("# Ledger benchmark")
    print()
    print(f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"- command: `{shlex.join(sys.orig_argv)}`")
    print(f"- machine: nproc={os.cpu_count()}, {platform.machine()}, {platform.platform()}")
    print(f"- python: {platform.python_version()} ({platform.python_implementation()})")
    if settings is not None:
        described = ", ".join(f"{name}={value}" for name, value in settings.items())
        print(f"- PostgreSQL: {described}")
    print(
        f"- workload: {options.accounts} user_balance accounts funded with "
        f"{FUNDING_PER_ACCOUNT} fen each; transfers of {MIN_AMOUNT}..{MAX_AMOUNT} fen between "
        f"random distinct users; {options.warmup:g} s warm-up, {options.seconds:g} s measured; "
        "worker processes, each with its own database (pool_size=1); fresh database per run"
    )
    analyzed = "ANALYZE after setup" if options.analyze else "no ANALYZE (no planner statistics)"
    print(f"- PostgreSQL database: fresh schema per run, {analyzed}")
    print("- SQLite: file in a temp dir, WAL, synchronous=FULL (the adapter's settings)")
    print()


def _format_codes(codes: Counter[str]) -> str:
    return ", ".join(f"{code}={count}" for code, count in sorted(codes.items())) or "-"


def print_table(results: list[RunResult]) -> None:
    print("## Throughput")
    print()
    print("| backend | workers | batch | transfers/s | calls/s | p50 ms | p99 ms | non-ok codes |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r.backend} | {r.workers} | {r.batch} | {r.transfers_per_second:,.0f} | "
            f"{r.calls_per_second:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
            f"{_format_codes(r.codes)} |"
        )
    print()


def print_verification(results: list[RunResult]) -> None:
    print("## Invariants (Ledger.verify after each run)")
    print()
    for r in results:
        mark = "hold" if r.verified_ok else "BROKEN"
        print(f"- {r.backend} workers={r.workers} batch={r.batch}: {mark}: {r.verified}")
    every = all(r.verified_ok for r in results)
    print()
    print(f"All invariants hold: {'yes' if every else 'NO'}")
    print()


def print_pgbench(command: str, tps: float, results: list[RunResult]) -> None:
    print("## pgbench (TPC-B-like, same server)")
    print()
    print(f"- command: `{command}` (after `pgbench -i -s {PGBENCH_SCALE} -q`)")
    print(f"- tps: {tps:,.1f}")
    for r in results:
        if r.backend == "postgresql" and r.workers == PGBENCH_COMPARED_WORKERS:
            ratio = r.transfers_per_second / tps
            verdict = "met" if ratio >= PGBENCH_TARGET_RATIO else "NOT met"
            print(
                f"- ledger PostgreSQL {r.workers} workers batch {r.batch}: "
                f"{r.transfers_per_second:,.0f} transfers/s / {tps:,.1f} tps = {ratio:.2f} "
                f"(target {PGBENCH_TARGET_RATIO}: {verdict})"
            )
    print()


# ------------------------------------------------------------------------------ main


def prepare_postgres(options: Options) -> dict[str, str] | None:
    """Create the benchmark database if needed; refuse to wipe one not meant for benchmarks."""
    if "postgresql" not in options.backends and not options.pgbench:
        return None
    name = _database_name(options.database_url)
    if "postgresql" in options.backends:
        if "bench" not in name:
            raise SystemExit(f"refusing to wipe database {name!r}: its name must contain 'bench'")
        ensure_database(options.database_url, name)
    return server_settings(options.database_url)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    settings = prepare_postgres(options)
    print_header(options, settings)
    results = []
    with tempfile.TemporaryDirectory(prefix="hongbao-bench-") as scratch:
        for backend in options.backends:
            for workers in options.workers:
                for batch in options.batches:
                    results.append(run_one(backend, workers, batch, options, Path(scratch)))
    print_table(results)
    print_verification(results)
    if options.pgbench and settings is not None:
        print(f"  running pgbench for {options.seconds:g} s ...", file=sys.stderr, flush=True)
        print_pgbench(*run_pgbench(options.database_url, options.seconds), results)
    return 0 if all(r.verified_ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
