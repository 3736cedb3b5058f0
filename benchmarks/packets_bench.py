"""Red-packet benchmark: claims/s, sends/s and the expiry sweep on SQLite and PostgreSQL.

Run from the project root::

    .venv/bin/python benchmarks/packets_bench.py --seconds 15 --expire-count 100000

Everything goes through the public services (``PacketService.send``/``claim``, the worker's
scheduler pass), never through repositories. For every backend and worker count there are
three measured runs, each on a fresh database:

- ``hot``: every worker claims the same group lucky packet of ``--shares`` shares (the group
  limit, 100). When a claimer hears "empty" it moves to the next packet of a series sent during
  setup, and tells the others, so all workers stay on one hot packet at a time. Sends are not
  measured; the "empty" replies are counted as calls, not claims.
- ``spread``: each claim picks one of ``--open-packets`` open group lucky packets (same share
  count) at random.
- ``send``: every worker sends group lucky packets of ``--send-shares`` shares from its own
  balance to the group.

Workers are *processes* (threads would measure the GIL), each with its own database
(``pool_size=1``); claimers use their own 100 group members, so no user claims twice. Then one
worker process sweeps ``--expire-count`` packets (sent during setup on a ``ManualClock``,
``--expire-spacing-us`` apart) with ``hongbao.entrypoints.worker.run_pass`` on a clock
24 h + 1 s after the last send, sampling its RSS from ``/proc/self/status`` after every pass.

After every run ``Ledger.verify()`` must be clean, the ledger must hold exactly the transfers
the workers were told happened, and the money must agree three ways: claims acknowledged to
workers = credits on the claimers' balances = packets' ``claimed_minor`` (with every escrow
holding its packet's remainder); sends acknowledged = debits of the senders; after the sweep,
every packet is expired and every sender's balance is whole again. With ``--pgbench`` the same
server's TPC-B-like ``pgbench`` figure is measured for the targets.

The output is Markdown, ready to paste into ``benchmarks/RESULTS.md``. The PostgreSQL database
named by ``--database-url`` is wiped (``DROP SCHEMA public CASCADE``) before each run, so its
name must contain ``bench``.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

import hongbao
from hongbao.bootstrap import open_services
from hongbao.entrypoints.worker import PassReport, build_relay, build_scheduler, run_pass
from hongbao.funding.service import open_balance
from hongbao.identity.service import IdentityService
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType
from hongbao.identity.verification import SimulatedProvider
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.model import PacketState, PacketType
from hongbao.packets.service import ClaimResult, PacketService, SendPacket
from hongbao.platform.clock import Clock, ManualClock, SystemClock
from hongbao.platform.errors import InvalidInput, StorageError
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.social.service import SocialService
from hongbao.storage import migrate
from hongbao.storage.factory import open_database
from hongbao.storage.urls import parse_url
from ledger_bench import (
    PGBENCH_CLIENTS,
    PGBENCH_SCALE,
    analyze_postgres,
    ensure_database,
    percentile,
    reset_postgres,
    run_pgbench,
    server_settings,
)

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/hongbao_packets_bench"
SCENARIOS = ("hot", "spread", "send")
SCENARIO_LABELS = {
    "hot": "claim, one hot packet",
    "spread": "claim, random open packet",
    "send": "send",
}
CURRENCY = "CNY"
GROUP_ID = "bench-group"
OWNER_ID = "bench-owner"
RECIPIENT_ID = "bench-recipient"
BANK_ID = "bench-bank"
TOP_UP_CODE = 1
SENDER_FUNDING = 10_000_000_000  # fen: a hundred million yuan, far more than a run sends
SHARE_MINOR = 100  # claim packets hold one yuan per share on average (a lucky split)
EXPIRE_PACKETS_PER_SENDER = 1_000  # PacketService.sent_by lists up to 1,000: all of them
HOT_CEILING_CLAIMS_PER_SECOND = 1_500  # hot packets sent during setup cover this rate
# The product's limits (the packet policy's defaults): shares of a group packet, yuan a share.
MAX_GROUP_SHARES = 100
MAX_SHARE_MINOR = 200_00
EXPIRY_LIFETIME_SECONDS = 24 * 3600 + 1
# 100,000 packets sent over 100 s. Packets due at one same microsecond are a worst case of
# their own: the scheduler orders due work by (due_at_us, id) and its index holds due_at_us only.
EXPIRE_SPACING_US = 1_000
EXPIRY_TARGET_COUNT = 100_000
EXPIRY_TARGET_SECONDS = 60.0
FLAT_TOLERANCE_KIB = 10 * 1024  # "flat": peak and end RSS within 10 MiB of the start
PGBENCH_TARGET_RATIO = 0.8
HOT_TARGET_RATIO = 0.5
PGBENCH_COMPARED_WORKERS = 8
SETUP_PROCESSES_POSTGRES = 4  # SQLite has one writer: its setup runs in one process
SETUP_CHUNK = 250
STARTUP_TIMEOUT_SECONDS = 300.0
RESULT_MARGIN_SECONDS = 120.0
SIMULATOR_KEY = b"packets benchmark simulated provider key"


# ------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class Options:
    seconds: float
    warmup: float
    backends: list[str]
    workers: list[int]
    scenarios: list[str]
    shares: int
    open_packets: int
    send_shares: int
    hot_packets: int | None
    expire_count: int
    expire_spacing_us: int
    pgbench: bool
    analyze: bool
    database_url: str


def _int_list(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers like 1,8, got {text!r}")
    return values


def _choices(allowed: Iterable[str], aliases: dict[str, str]) -> Callable[[str], list[str]]:
    known = set(allowed)

    def parse(text: str) -> list[str]:
        if text == "none" and "none" in aliases:
            return []
        values = [aliases.get(part.strip(), part.strip()) for part in text.split(",")]
        values = [value for value in values if value]
        unknown = set(values) - known
        if not values or unknown:
            raise argparse.ArgumentTypeError(f"expected some of {sorted(known)}, got {text!r}")
        return values

    return parse


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time per run")
    parser.add_argument(
        "--backends",
        type=_choices(("sqlite", "postgresql"), {"postgres": "postgresql"}),
        default=["sqlite", "postgresql"],
    )
    parser.add_argument("--workers", type=_int_list, default=[1, 8, 32], help="processes")
    parser.add_argument(
        "--scenarios",
        type=_choices(SCENARIOS, {"none": ""}),
        default=list(SCENARIOS),
        help="hot,spread,send (none: only the expiry sweep)",
    )
    parser.add_argument("--shares", type=int, default=MAX_GROUP_SHARES, help="per claim packet")
    parser.add_argument("--open-packets", type=int, default=1_000, help="spread: open packets")
    parser.add_argument("--send-shares", type=int, default=10, help="shares per sent packet")
    parser.add_argument(
        "--hot-packets",
        type=int,
        default=None,
        help=f"hot packets sent in setup (default: {HOT_CEILING_CLAIMS_PER_SECOND} claims/s)",
    )
    parser.add_argument(
        "--expire-count", type=int, default=EXPIRY_TARGET_COUNT, help="packets to expire (0: skip)"
    )
    parser.add_argument(
        "--expire-spacing-us",
        type=int,
        default=EXPIRE_SPACING_US,
        help="ManualClock time between expiring packets' sends (0: all sent at one instant)",
    )
    parser.add_argument("--pgbench", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--analyze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ANALYZE the PostgreSQL tables after setup, as autovacuum would on a live database",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args(argv)
    if not 1 <= args.shares <= MAX_GROUP_SHARES or not 1 <= args.send_shares <= MAX_GROUP_SHARES:
        parser.error(f"--shares and --send-shares are 1 to {MAX_GROUP_SHARES}")
    if args.open_packets < 1 or args.expire_count < 0 or args.expire_spacing_us < 0:
        parser.error("--open-packets must be positive, --expire-* not negative")
    return Options(
        seconds=args.seconds,
        warmup=args.warmup,
        backends=args.backends,
        workers=args.workers,
        scenarios=args.scenarios,
        shares=args.shares,
        open_packets=args.open_packets,
        send_shares=args.send_shares,
        hot_packets=args.hot_packets,
        expire_count=args.expire_count,
        expire_spacing_us=args.expire_spacing_us,
        pgbench=args.pgbench,
        analyze=args.analyze,
        database_url=args.database_url,
    )


# ------------------------------------------------------------------------------ names


def claimer_id(worker: int, index: int) -> str:
    return f"bench-w{worker:03d}-u{index:03d}"


def sender_id(index: int) -> str:
    return f"bench-sender-{index:04d}"


def hot_packet_id(index: int) -> str:
    return f"hot-{index:05d}"


def open_packet_id(index: int) -> str:
    return f"open-{index:05d}"


def expiring_packet_id(sender: int, index: int) -> str:
    return f"exp-{sender:04d}-{index:04d}"


def balance_account(user: str) -> str:
    return f"user:{user}:balance"


def _chunks(items: Sequence[Any], size: int = SETUP_CHUNK) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ setup


def fresh_database_url(backend: str, options: Options, scratch: Path, run: str) -> str:
    """An empty, migrated database for one run."""
    if backend == "sqlite":
        url = f"sqlite:///{scratch / f'packets-{run}.db'}"
        migrate.upgrade(parse_url(url))
        return url
    reset_postgres(options.database_url)
    return options.database_url


@dataclass(frozen=True)
class Setup:
    """What a run's database holds before the workers start (known to the verifier)."""

    senders: int
    claimers_per_worker: int
    workers: int
    packets: list[str]  # the claim packets sent during setup
    sent_minor: int  # what they hold in total


def identity_service(database: Any, clock: Clock) -> IdentityService:
    return IdentityService(
        database, clock, SimulatedProvider(SIMULATOR_KEY), on_register=(open_balance,)
    )


def new_user(user: str, since_us: int) -> User:
    return User(user, user, AccountTier.CLASS_I, UserType.NORMAL, since_us, RealNameStatus.VERIFIED)


def register_users(url: str, users: Sequence[str], since_us: int, group: bool) -> int:
    """Setup task: register ``users`` (opening their balances) and add them to the group."""
    database = open_database(url, pool_size=1)
    try:
        identity = identity_service(database, SystemClock())
        social = SocialService(database, SystemClock())
        for user in users:
            identity.register_user(new_user(user, since_us))
            if group:
                social.add_member(GroupMember(GROUP_ID, user, since_us))
    finally:
        database.close()
    return len(users)


def send_packets(
    url: str, commands: Sequence[SendPacket], clock_us: int | None, spacing_us: int = 0
) -> int:
    """Setup task: send ``commands`` at wall time, or on a ManualClock from ``clock_us`` that
    moves ``spacing_us`` after each send.

    Setup gives each task the packets of one sender, so no two processes send from one
    balance at once: such sends queue on the balance and can deadlock on PostgreSQL (the
    packet row's foreign key takes a share lock on the balance before the send locks it).
    """
    database = open_database(url, pool_size=1)
    clock: Clock = SystemClock() if clock_us is None else ManualClock(clock_us)
    try:
        packets = PacketService(database, clock)
        for command in commands:
            packets.send(command)
            if isinstance(clock, ManualClock) and spacing_us:
                clock.advance(microseconds=spacing_us)
    finally:
        database.close()
    return sum(command.amount.minor for command in commands)


def in_processes(
    backend: str, task: Callable[..., int], batches: Sequence[tuple[Any, ...]], what: str
) -> int:
    """Run setup ``task`` over ``batches``: several processes on PostgreSQL, one on SQLite."""
    if not batches:
        return 0
    processes = SETUP_PROCESSES_POSTGRES if backend == "postgresql" else 1
    total = 0
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(processes, len(batches)), mp_context=context) as pool:
        for done, value in enumerate(pool.map(task, *zip(*batches, strict=True)), start=1):
            total += value
            if done % max(1, len(batches) // 10) == 0 or done == len(batches):
                progress(f"setup: {what} {done}/{len(batches)} batches")
    return total


def base_setup(url: str, senders: int, since_us: int, group: bool) -> None:
    """The bank, the group and its owner, and ``senders`` funded senders (group members)."""
    database = open_database(url, pool_size=1)
    try:
        clock = SystemClock()
        identity = identity_service(database, clock)
        social = SocialService(database, clock)
        identity.register_user(new_user(OWNER_ID, since_us))
        identity.register_user(new_user(RECIPIENT_ID, since_us))
        if group:
            group_record = Group(GROUP_ID, "Bench", GroupType.ENTERTAINMENT, OWNER_ID, since_us)
            social.create_group(group_record)
        ledger = Ledger(database, clock)
        (opened,) = ledger.create_accounts([NewAccount(BANK_ID, AccountKind.DEBIT_CARD, CURRENCY)])
        _require(opened.succeeded, "open the bank account")
    finally:
        database.close()
    users = [sender_id(index) for index in range(senders)]
    for chunk in _chunks(users):
        register_users(url, chunk, since_us, group)
    top_ups = [
        TransferRequest(
            f"top-up:{user}", TOP_UP_CODE, SENDER_FUNDING, BANK_ID, balance_account(user), CURRENCY
        )
        for user in users
    ]
    database = open_database(url, pool_size=1)
    try:
        ledger = Ledger(database, SystemClock())
        for chunk in _chunks(top_ups, 1_000):
            _require(all(r.succeeded for r in ledger.create_transfers(chunk)), "fund the senders")
    finally:
        database.close()


def lucky_packet(packet_id: str, sender: str, shares: int, minor: int) -> SendPacket:
    return SendPacket(
        packet_id,
        PacketType.GROUP_LUCKY,
        sender,
        Money.of(minor, CURRENCY),
        shares,
        f"{sender}-balance",
        group_id=GROUP_ID,
    )


def hot_packet_count(options: Options) -> int:
    if options.hot_packets is not None:
        return options.hot_packets
    claims = HOT_CEILING_CLAIMS_PER_SECOND * (options.warmup + options.seconds)
    return math.ceil(claims / options.shares) + 1


def setup_run(backend: str, url: str, scenario: str, workers: int, options: Options) -> Setup:
    """Users, group, funded senders and (for claim runs) the packets to claim."""
    since_us = SystemClock().now_us() - 1_000_000
    processes = SETUP_PROCESSES_POSTGRES if backend == "postgresql" else 1
    senders = max(workers, processes)
    base_setup(url, senders, since_us, group=True)
    claimers = options.shares if scenario != "send" else 0
    users = [claimer_id(w, i) for w in range(workers) for i in range(claimers)]
    in_processes(
        backend,
        register_users,
        [(url, chunk, since_us, True) for chunk in _chunks(users)],
        "claimers",
    )
    if scenario == "send":
        packet_ids: list[str] = []
    elif scenario == "hot":
        packet_ids = [hot_packet_id(index) for index in range(hot_packet_count(options))]
    else:
        packet_ids = [open_packet_id(index) for index in range(options.open_packets)]
    minor = options.shares * SHARE_MINOR
    by_sender: list[list[SendPacket]] = [[] for _ in range(processes)]
    for index, packet_id in enumerate(packet_ids):
        sender = index % processes
        by_sender[sender].append(lucky_packet(packet_id, sender_id(sender), options.shares, minor))
    batches = [(url, commands, None) for commands in by_sender if commands]
    sent = in_processes(backend, send_packets, batches, "claim packets")
    _require(sent == minor * len(packet_ids), "send the claim packets")
    if backend == "postgresql" and options.analyze:
        analyze_postgres(url)
    return Setup(senders, claimers, workers, packet_ids, sent)


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark setup failed: could not {what}")


# ------------------------------------------------------------------------------ workers


@dataclass(frozen=True)
class WorkerConfig:
    url: str
    run: str
    scenario: str
    worker: int
    warmup: float
    seconds: float
    packets: int  # hot: packets in the series; spread: open packets
    claimers: int  # members of the group this worker claims as
    send_shares: int


@dataclass
class Tally:
    """What one worker measured; ``*_total`` include the warm-up."""

    worker: int = 0
    calls: int = 0
    ops: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)
    ok_total: int = 0
    minor_total: int = 0
    elapsed: float = 0.0
    ran_out: bool = False
    error: str | None = None

    def record(self, code: str, minor: int, latency: float, *, measured: bool) -> None:
        succeeded = code == "ok"
        self.ok_total += succeeded
        self.minor_total += minor if succeeded else 0
        if not measured:
            return
        self.calls += 1
        self.ops += succeeded
        self.latencies_ms.append(latency * 1_000)
        if not succeeded:
            self.codes[code] = self.codes.get(code, 0) + 1


def claim_code(packets: PacketService, packet_id: str, user: str) -> tuple[str, int]:
    """One claim: ("ok", amount) when paid, else the result (or error) code and 0."""
    try:
        outcome = packets.claim(packet_id, user)
    except (StorageError, InvalidInput) as error:
        return f"error:{error.code}", 0
    if outcome.result is ClaimResult.CLAIMED and outcome.amount is not None:
        return "ok", outcome.amount.minor
    return outcome.result.value, 0


class Driver:
    """One worker's loop for one scenario: ``step`` makes one call and records it."""

    def __init__(self, config: WorkerConfig, packets: PacketService, hot: Synchronized[int]):
        self.config = config
        self.packets = packets
        self.hot = hot
        self.rng = random.Random(f"{config.run}-{config.worker}")
        self.tally = Tally(worker=config.worker)
        self.hot_index = 0
        self.mine: Counter[int] = Counter()  # claims this worker made, per packet index
        self.empty: set[int] = set()
        self.sent = 0

    def step(self, measured: bool) -> None:
        began = time.perf_counter()
        if self.config.scenario == "hot":
            code, minor = self.claim_hot()
        elif self.config.scenario == "spread":
            code, minor = self.claim_spread()
        else:
            code, minor = self.send()
        self.tally.record(code, minor, time.perf_counter() - began, measured=measured)

    def claim_hot(self) -> tuple[str, int]:
        index = max(self.hot_index, self.hot.value)
        if index >= self.config.packets:
            self.tally.ran_out = True
            return "ran_out", 0
        self.hot_index = index
        code, minor = claim_code(
            self.packets, hot_packet_id(index), claimer_id(self.config.worker, self.mine[index])
        )
        if code == "ok":
            self.mine[index] += 1
        # Empty, or every share taken by this worker's members: everyone moves to the next one.
        if code == ClaimResult.PACKET_EMPTY.value or self.mine[index] >= self.config.claimers:
            with self.hot.get_lock():
                self.hot.value = max(self.hot.value, index + 1)
        return code, minor

    def claim_spread(self) -> tuple[str, int]:
        index = self.rng.randrange(self.config.packets)
        while index in self.empty:  # never picks twice a packet it knows to be empty
            if len(self.empty) == self.config.packets:
                self.tally.ran_out = True
                return "ran_out", 0
            index = self.rng.randrange(self.config.packets)
        user = claimer_id(self.config.worker, self.mine[index])
        code, minor = claim_code(self.packets, open_packet_id(index), user)
        if code == "ok":
            self.mine[index] += 1
        if code == ClaimResult.PACKET_EMPTY.value or self.mine[index] >= self.config.claimers:
            self.empty.add(index)
        return code, minor

    def send(self) -> tuple[str, int]:
        shares = self.config.send_shares
        minor = shares * self.rng.randint(1, 500)
        packet_id = f"s-{self.config.run}-{self.config.worker}-{self.sent}"
        self.sent += 1
        command = lucky_packet(packet_id, sender_id(self.config.worker), shares, minor)
        try:
            self.packets.send(command)
        except (StorageError, InvalidInput) as error:
            return f"error:{error.code}", 0
        return "ok", minor


def drive(driver: Driver, barrier: Barrier) -> Tally:
    """Wait for every worker, warm up, then call the service until the time is up."""
    config, tally = driver.config, driver.tally
    barrier.wait(STARTUP_TIMEOUT_SECONDS)
    measure_from = time.perf_counter() + config.warmup
    stop = measure_from + config.seconds
    while (began := time.perf_counter()) < stop and not tally.ran_out:
        driver.step(measured=began >= measure_from)
        tally.elapsed = max(0.0, time.perf_counter() - measure_from)
    return tally


def worker_main(
    config: WorkerConfig, barrier: Barrier, hot: Synchronized[int], results: Any
) -> None:
    """Process entry point: open a database of its own, drive it, report the tally."""
    try:
        database = open_database(config.url, pool_size=1)
        try:
            driver = Driver(config, PacketService(database, SystemClock()), hot)
            tally = drive(driver, barrier)
        finally:
            database.close()
    except BaseException as error:
        barrier.abort()
        results.put(asdict(Tally(worker=config.worker, error=repr(error))))
        raise
    results.put(asdict(tally))


def spawn_workers(
    url: str, run: str, setup: Setup, options: Options, *, scenario: str, workers: int
) -> list[Tally]:
    """Start ``workers`` processes together and collect their tallies."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    hot = context.Value("i", 0)
    results = context.Queue()
    processes = []
    for worker in range(workers):
        config = WorkerConfig(
            url,
            run,
            scenario,
            worker,
            options.warmup,
            options.seconds,
            len(setup.packets),
            setup.claimers_per_worker,
            options.send_shares,
        )
        process = context.Process(target=worker_main, args=(config, barrier, hot, results))
        process.start()
        processes.append(process)
    timeout = STARTUP_TIMEOUT_SECONDS + options.warmup + options.seconds + RESULT_MARGIN_SECONDS
    tallies = [Tally(**results.get(timeout=timeout)) for _ in processes]
    for process in processes:
        process.join()
    failed = [tally.error for tally in tallies if tally.error]
    if failed:
        raise SystemExit(f"a worker failed: {failed[0]}")
    if any(tally.ran_out for tally in tallies):
        raise SystemExit(
            f"{run}: the workers ran out of packets to claim; raise --hot-packets or "
            "--open-packets so the measured window is not cut short"
        )
    return tallies


# ------------------------------------------------------------------------------ runs


@dataclass
class RunResult:
    backend: str
    workers: int
    scenario: str
    ops_per_second: float
    calls_per_second: float
    p50_ms: float
    p99_ms: float
    codes: Counter[str]
    ok_total: int
    minor_total: int
    verified: str = "not run"
    verified_ok: bool = False


def summarise(backend: str, workers: int, scenario: str, tallies: list[Tally]) -> RunResult:
    """Sum the workers' counts over the longest measured window."""
    window = max(tally.elapsed for tally in tallies) or 1.0
    latencies = sorted(latency for tally in tallies for latency in tally.latencies_ms)
    codes: Counter[str] = Counter()
    for tally in tallies:
        codes.update(tally.codes)
    return RunResult(
        backend=backend,
        workers=workers,
        scenario=scenario,
        ops_per_second=sum(tally.ops for tally in tallies) / window,
        calls_per_second=sum(tally.calls for tally in tallies) / window,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        codes=codes,
        ok_total=sum(tally.ok_total for tally in tallies),
        minor_total=sum(tally.minor_total for tally in tallies),
    )


def balances(ledger: Ledger, users: Sequence[str]) -> dict[str, int]:
    """Each user's balance account's credit balance (credits minus debits posted)."""
    found: dict[str, int] = {}
    for chunk in _chunks([balance_account(user) for user in users], 1_000):
        for account_id, account in ledger.accounts(chunk).items():
            found[account_id] = account.credit_balance
    return found


def money_problems(database: Any, result: RunResult, setup: Setup) -> list[str]:
    """Claimed totals against money paid (claim runs), or sends against debits (send runs)."""
    clock = SystemClock()
    ledger = Ledger(database, clock)
    packets = PacketService(database, clock)
    problems = []
    if result.scenario == "send":
        senders = [sender_id(index) for index in range(setup.senders)]
        debited = sum(SENDER_FUNDING - held for held in balances(ledger, senders).values())
        if debited != result.minor_total:
            problems.append(f"senders debited {debited}, workers sent {result.minor_total}")
        return problems
    claimers = [
        claimer_id(w, i) for w in range(setup.workers) for i in range(setup.claimers_per_worker)
    ]
    paid = sum(balances(ledger, claimers).values())
    stored = [packets.packet(packet_id) for packet_id in setup.packets]
    claimed_minor = sum(packet.claimed_minor for packet in stored)
    claimed_count = sum(packet.claimed_count for packet in stored)
    if not result.minor_total == paid == claimed_minor:
        problems.append(
            f"claims acknowledged {result.minor_total}, paid to claimers {paid}, "
            f"packets claimed {claimed_minor}"
        )
    if claimed_count != result.ok_total:
        problems.append(f"{claimed_count} shares claimed, {result.ok_total} claims acknowledged")
    escrows = ledger.accounts([packet.escrow_account_id for packet in stored])
    wrong = [
        packet.id
        for packet in stored
        if escrows[packet.escrow_account_id].credit_balance != packet.remainder_minor
    ]
    if wrong:
        problems.append(f"{len(wrong)} escrows do not hold their packet's remainder ({wrong[0]})")
    return problems


def verify_run(url: str, result: RunResult, setup: Setup) -> None:
    """Check every ledger invariant, the transfer count, and that the money agrees."""
    database = open_database(url, pool_size=1)
    try:
        report = Ledger(database, SystemClock()).verify()
        problems = money_problems(database, result, setup)
    finally:
        database.close()
    # The senders' top-ups, the claim packets sent in setup, and what the workers were told.
    expected = setup.senders + len(setup.packets) + result.ok_total
    if not report.ok:
        first = report.violations[0]
        problems.insert(
            0, f"{report.violation_count} violations, first {first.check}: {first.detail}"
        )
    if report.transfers != expected:
        problems.append(f"{report.transfers} transfers stored, {expected} acknowledged")
    errors = sum(count for code, count in result.codes.items() if code.startswith("error:"))
    if errors:
        problems.append(f"{errors} calls failed with errors (see the table)")
    result.verified_ok = not problems
    result.verified = "; ".join(problems) or (
        f"ok ({report.transfers} transfers, {report.postings} postings; "
        f"{result.ok_total} {'sends' if result.scenario == 'send' else 'claims'} "
        f"= {result.minor_total} fen agree with the ledger)"
    )
    if problems:
        progress(f"INVARIANTS BROKEN in {result.backend} {result.scenario}: {result.verified}")


def run_one(
    backend: str, workers: int, scenario: str, options: Options, scratch: Path
) -> RunResult:
    """A fresh database, its setup, the measured run, then verification."""
    run = f"{backend[:2]}{scenario}w{workers}"
    progress(f"running {backend} {scenario} workers={workers} ...")
    url = fresh_database_url(backend, options, scratch, run)
    setup = setup_run(backend, url, scenario, workers, options)
    tallies = spawn_workers(url, run, setup, options, scenario=scenario, workers=workers)
    result = summarise(backend, workers, scenario, tallies)
    verify_run(url, result, setup)
    return result


# ------------------------------------------------------------------------------ expiry


@dataclass
class ExpiryResult:
    backend: str
    count: int
    setup_seconds: float
    sweep_seconds: float
    passes: int
    expired: int
    failed: int
    rss_kib: list[tuple[int, int]]  # (packets expired so far, VmRSS) before and after each pass
    hwm_kib: int  # VmHWM at the end: the process's peak RSS since it started
    verified: str = "not run"
    verified_ok: bool = False

    @property
    def start_kib(self) -> int:
        return self.rss_kib[0][1]

    @property
    def first_pass_kib(self) -> int:
        return self.rss_kib[min(1, len(self.rss_kib) - 1)][1]

    @property
    def peak_kib(self) -> int:
        return max(rss for _, rss in self.rss_kib)

    @property
    def end_kib(self) -> int:
        return self.rss_kib[-1][1]

    @property
    def flat(self) -> bool:
        return self.peak_kib - self.start_kib <= FLAT_TOLERANCE_KIB

    def trace(self, points: int = 10) -> list[tuple[int, int]]:
        """RSS when about each tenth of the packets had been expired."""
        marks = [self.count * step // points for step in range(points + 1)]
        chosen = []
        for mark in marks:
            found = next((sample for sample in self.rss_kib if sample[0] >= mark), None)
            if found is not None and found not in chosen:
                chosen.append(found)
        return chosen


def memory_kib() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in KiB, from ``/proc/self/status``."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            values[name] = int(rest.split()[0])
    return values


def sweep(url: str, now_us: int) -> dict[str, Any]:
    """Worker process: run scheduler passes at ``now_us`` until one finds nothing to do."""
    services = open_services(url, clock=ManualClock(now_us))  # as `hongbao worker` wires it
    try:
        scheduler, relay = build_scheduler(services), build_relay(services)
        total = PassReport()
        samples = [(0, memory_kib()["VmRSS"])]
        passes = 0
        began = time.perf_counter()
        while True:
            report = run_pass(services, scheduler, relay)
            passes += 1
            total = total.plus(report)
            samples.append((total.work_done, memory_kib()["VmRSS"]))
            if report.idle:
                break
        elapsed = time.perf_counter() - began
    finally:
        services.close()
    return {
        "seconds": elapsed,
        "passes": passes,
        "expired": total.work_done,
        "failed": total.work_failed,
        "rss_kib": samples,
        "hwm_kib": memory_kib()["VmHWM"],
    }


def expiring_packets(count: int) -> list[list[SendPacket]]:
    """Personal packets of 0.01..200.00 yuan to one recipient, up to 1,000 per sender."""
    senders: list[list[SendPacket]] = []
    for sender in range(math.ceil(count / EXPIRE_PACKETS_PER_SENDER)):
        rng = random.Random(f"expire-{sender}")
        first = sender * EXPIRE_PACKETS_PER_SENDER
        senders.append(
            [
                SendPacket(
                    expiring_packet_id(sender, index),
                    PacketType.PERSONAL,
                    sender_id(sender),
                    Money.of(rng.randint(1, MAX_SHARE_MINOR), CURRENCY),
                    1,
                    f"{sender_id(sender)}-balance",
                    recipient_id=RECIPIENT_ID,
                )
                for index in range(min(EXPIRE_PACKETS_PER_SENDER, count - first))
            ]
        )
    return senders


def verify_expiry(url: str, result: ExpiryResult, by_sender: list[list[SendPacket]]) -> None:
    """Every packet expired, every sender whole again, every ledger invariant intact."""
    database = open_database(url, pool_size=1)
    try:
        clock = SystemClock()
        ledger = Ledger(database, clock)
        report = ledger.verify()
        packets = PacketService(database, clock)
        senders = [sender_id(index) for index in range(len(by_sender))]
        held = balances(ledger, senders)
        states: Counter[str] = Counter()
        for sender, commands in zip(senders, by_sender, strict=True):
            listed = packets.sent_by(sender, limit=EXPIRE_PACKETS_PER_SENDER)
            states.update(packet.state.value for packet in listed)
            states["missing"] += len(commands) - len(listed)
    finally:
        database.close()
    problems = []
    if not report.ok:
        first = report.violations[0]
        problems.append(f"{report.violation_count} violations, first {first.check}: {first.detail}")
    expected = len(senders) + 2 * result.count  # top-ups, sends, refunds
    if report.transfers != expected:
        problems.append(f"{report.transfers} transfers stored, {expected} expected")
    if result.expired != result.count or result.failed:
        problems.append(f"the sweep ran {result.expired} expiries, {result.failed} failed")
    if states[PacketState.EXPIRED.value] != result.count:
        problems.append(f"packet states after the sweep: {dict(states)}")
    short = [sender for sender in senders if held[balance_account(sender)] != SENDER_FUNDING]
    if short:
        problems.append(f"{len(short)} senders not refunded in full (first {short[0]})")
    result.verified_ok = not problems
    refunded = sum(command.amount.minor for commands in by_sender for command in commands)
    result.verified = "; ".join(problems) or (
        f"ok ({report.transfers} transfers, {report.postings} postings; {result.count} packets "
        f"expired, {refunded} fen refunded = sent)"
    )
    if problems:
        progress(f"INVARIANTS BROKEN in {result.backend} expiry: {result.verified}")


def run_expiry(backend: str, options: Options, scratch: Path) -> ExpiryResult:
    """Send ``--expire-count`` packets on a ManualClock, then sweep them 24 h + 1 s later."""
    count = options.expire_count
    progress(f"running {backend} expiry of {count} packets: setup ...")
    url = fresh_database_url(backend, options, scratch, "expiry")
    began = time.perf_counter()
    by_sender = expiring_packets(count)
    base_setup(url, len(by_sender), SystemClock().now_us() - 1_000_000, group=False)
    # Packet n of the whole set is sent at first_us + n x spacing, whichever process sends it.
    first_us, spacing = SystemClock().now_us(), options.expire_spacing_us
    batches = [
        (url, commands, first_us + sender * EXPIRE_PACKETS_PER_SENDER * spacing, spacing)
        for sender, commands in enumerate(by_sender)
    ]
    in_processes(backend, send_packets, batches, "expiring packets")
    if backend == "postgresql" and options.analyze:
        analyze_postgres(url)
    setup_seconds = time.perf_counter() - began
    progress(f"setup took {setup_seconds:.0f} s; sweeping ...")
    last_sent_us = first_us + (count - 1) * spacing
    due_us = ManualClock(last_sent_us).advance(seconds=EXPIRY_LIFETIME_SECONDS)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        swept = pool.submit(sweep, url, due_us).result()
    result = ExpiryResult(
        backend=backend,
        count=count,
        setup_seconds=setup_seconds,
        sweep_seconds=swept["seconds"],
        passes=swept["passes"],
        expired=swept["expired"],
        failed=swept["failed"],
        rss_kib=[tuple(sample) for sample in swept["rss_kib"]],
        hwm_kib=swept["hwm_kib"],
    )
    verify_expiry(url, result, by_sender)
    return result


# ------------------------------------------------------------------------------ report


def source_state() -> str:
    """Which hongbao was measured: its directory, commit, and any uncommitted changes."""
    package = Path(hongbao.__file__).resolve().parent
    try:
        top = _git(package, "rev-parse", "--show-toplevel")
        commit = _git(package, "rev-parse", "--short", "HEAD")
        changed = _git(package, "status", "--porcelain", "--", ".").splitlines()
    except (OSError, subprocess.CalledProcessError):
        return f"hongbao from {package} (not a git checkout)"
    where = f"hongbao from {package.relative_to(top)} at {commit}"
    if not changed:
        return f"{where}, no uncommitted changes"
    return f"{where} plus {len(changed)} uncommitted changes (measured as they were)"


def _git(directory: Path, *arguments: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(directory), *arguments], check=True, capture_output=True, text=True
    )
    return completed.stdout.strip()


def print_header(options: Options, settings: dict[str, str] | None) -> None:
    print("# Red-packet benchmark")
    print()
    print(f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"- command: `{shlex.join(sys.orig_argv)}`")
    print(f"- source: {source_state()}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"- machine: nproc={os.cpu_count()}, {platform.machine()}, {platform.platform()}; "
        f"load average at start {load} (the machine is shared)"
    )
    print(f"- python: {platform.python_version()} ({platform.python_implementation()})")
    if settings is not None:
        described = ", ".join(f"{name}={value}" for name, value in settings.items())
        print(f"- PostgreSQL: {described}")
    print(
        f"- claims: group lucky packets of {options.shares} shares ({SHARE_MINOR} fen a share on "
        f"average); hot = all workers on one packet at a time (the next one of a series sent "
        f"in setup when it empties); spread = a random one of {options.open_packets} open "
        f"packets per claim; every worker claims as its own {options.shares} group members"
    )
    print(
        f"- sends: group lucky packets of {options.send_shares} shares, random totals of "
        f"{options.send_shares}..{options.send_shares * 500} fen, each worker from its own "
        "balance (funded by a ledger top-up)"
    )
    print(
        f"- runs: {options.warmup:g} s warm-up, {options.seconds:g} s measured; worker "
        "processes (one process per worker, also for 32), each with its own database "
        "(pool_size=1); fresh database per run"
    )
    if options.expire_count:
        print(
            f"- expiry: {options.expire_count} personal packets (1 share, 0.01..200.00 yuan, "
            f"{EXPIRE_PACKETS_PER_SENDER} per sender) sent on a ManualClock "
            f"{options.expire_spacing_us} µs apart, then one worker process runs "
            f"`hongbao.entrypoints.worker.run_pass` {EXPIRY_LIFETIME_SECONDS} s after the "
            "last send until a pass finds nothing; RSS read from /proc/self/status before and "
            "after every pass"
        )
    analyzed = "ANALYZE after setup" if options.analyze else "no ANALYZE (no planner statistics)"
    print(f"- PostgreSQL database: fresh schema per run, {analyzed}")
    print("- SQLite: file in a temp dir, WAL, synchronous=FULL (the adapter's settings)")
    print()


def _format_codes(codes: Counter[str]) -> str:
    return ", ".join(f"{code}={count}" for code, count in sorted(codes.items())) or "-"


def _label(result: RunResult, options: Options) -> str:
    if result.scenario == "send":
        return f"send ({options.send_shares} shares)"
    if result.scenario == "spread":
        return f"claim, random of {options.open_packets} packets"
    return SCENARIO_LABELS[result.scenario]


def print_table(results: list[RunResult], options: Options) -> None:
    print("## Claims and sends")
    print()
    print("| backend | workers | operation | ops/s | calls/s | p50 ms | p99 ms | other results |")
    print("|---|---:|---|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r.backend} | {r.workers} | {_label(r, options)} | {r.ops_per_second:,.0f} | "
            f"{r.calls_per_second:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
            f"{_format_codes(r.codes)} |"
        )
    print()
    print("ops/s counts claims paid (or packets sent); calls/s also counts the other results.")
    print()


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def print_expiry(results: list[ExpiryResult]) -> None:
    print("## Expiry sweep (one worker process)")
    print()
    print(
        "| backend | packets | setup s | sweep s | expiries/s | passes | RSS MiB start | "
        "after 1st pass | peak | end | VmHWM | flat |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        rate = r.expired / r.sweep_seconds if r.sweep_seconds else 0.0
        print(
            f"| {r.backend} | {r.count:,} | {r.setup_seconds:.0f} | {r.sweep_seconds:.1f} | "
            f"{rate:,.0f} | {r.passes} | {_mib(r.start_kib)} | {_mib(r.first_pass_kib)} | "
            f"{_mib(r.peak_kib)} | {_mib(r.end_kib)} | {_mib(r.hwm_kib)} | "
            f"{'yes' if r.flat else 'NO'} |"
        )
    print()
    for r in results:
        trace = ", ".join(f"{done:,}: {_mib(rss)}" for done, rss in r.trace())
        print(f"- {r.backend} RSS MiB by packets expired: {trace}")
    print()
    print(f"flat: peak RSS at most {FLAT_TOLERANCE_KIB // 1024} MiB above the RSS at the start.")
    print()


def print_verification(results: list[RunResult], expiries: list[ExpiryResult]) -> None:
    print("## Invariants (Ledger.verify and money checks after each run)")
    print()
    for r in results:
        mark = "hold" if r.verified_ok else "BROKEN"
        print(f"- {r.backend} {r.scenario} workers={r.workers}: {mark}: {r.verified}")
    for e in expiries:
        mark = "hold" if e.verified_ok else "BROKEN"
        print(f"- {e.backend} expiry: {mark}: {e.verified}")
    every = all(r.verified_ok for r in results) and all(e.verified_ok for e in expiries)
    print()
    print(f"All invariants hold: {'yes' if every else 'NO'}")
    print()


def _find(results: list[RunResult], backend: str, workers: int, scenario: str) -> RunResult | None:
    return next(
        (r for r in results if (r.backend, r.workers, r.scenario) == (backend, workers, scenario)),
        None,
    )


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def print_targets(
    results: list[RunResult], expiries: list[ExpiryResult], pgbench: tuple[str, float] | None
) -> None:
    print("## Targets")
    print()
    if pgbench is not None:
        command, tps = pgbench
        print(
            f"- pgbench (same server, {PGBENCH_CLIENTS} clients): `{command}` after "
            f"`pgbench -i -s {PGBENCH_SCALE} -q`: {tps:,.1f} tps"
        )
        spread = _find(results, "postgresql", PGBENCH_COMPARED_WORKERS, "spread")
        if spread is not None:
            ratio = spread.ops_per_second / tps
            print(
                f"- spread claims/s, PostgreSQL, {PGBENCH_COMPARED_WORKERS} workers: "
                f"{spread.ops_per_second:,.0f} / {tps:,.1f} tps = {ratio:.2f} "
                f"(target ≥ {PGBENCH_TARGET_RATIO}: {_verdict(ratio >= PGBENCH_TARGET_RATIO)})"
            )
    for hot in (r for r in results if r.scenario == "hot"):
        spread = _find(results, hot.backend, hot.workers, "spread")
        if spread is None or not spread.ops_per_second:
            continue
        ratio = hot.ops_per_second / spread.ops_per_second
        print(
            f"- hot / spread claims/s, {hot.backend}, {hot.workers} workers: "
            f"{hot.ops_per_second:,.0f} / {spread.ops_per_second:,.0f} = {ratio:.2f} "
            f"(target ≥ {HOT_TARGET_RATIO}: {_verdict(ratio >= HOT_TARGET_RATIO)})"
        )
    for e in expiries:
        fast = e.sweep_seconds < EXPIRY_TARGET_SECONDS
        if e.count >= EXPIRY_TARGET_COUNT:
            verdict = _verdict(fast and e.flat)
        else:
            estimate = e.sweep_seconds * EXPIRY_TARGET_COUNT / max(1, e.count)
            verdict = f"not measured at {EXPIRY_TARGET_COUNT:,}; about {estimate:.0f} s by rate"
        print(
            f"- expiry, {e.backend}: {e.count:,} packets in {e.sweep_seconds:.1f} s "
            f"({'under' if fast else 'over'} {EXPIRY_TARGET_SECONDS:g} s), RSS "
            f"{_mib(e.start_kib)} → peak {_mib(e.peak_kib)} → end {_mib(e.end_kib)} MiB "
            f"({'flat' if e.flat else 'NOT flat'}); target {EXPIRY_TARGET_COUNT:,} in < "
            f"{EXPIRY_TARGET_SECONDS:g} s with flat memory: {verdict}"
        )
    print()


# ------------------------------------------------------------------------------ main


def prepare_postgres(options: Options) -> dict[str, str] | None:
    """Create the benchmark database if needed; refuse to wipe one not meant for benchmarks."""
    if "postgresql" not in options.backends and not options.pgbench:
        return None
    name = str(conninfo_to_dict(options.database_url).get("dbname", ""))
    if "postgresql" in options.backends:
        if "bench" not in name:
            raise SystemExit(f"refusing to wipe database {name!r}: its name must contain 'bench'")
        ensure_database(options.database_url, name)
    return server_settings(options.database_url)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    settings = prepare_postgres(options)
    print_header(options, settings)
    results: list[RunResult] = []
    expiries: list[ExpiryResult] = []
    with tempfile.TemporaryDirectory(prefix="hongbao-packets-bench-") as scratch:
        for backend in options.backends:
            for workers in options.workers:
                for scenario in options.scenarios:
                    results.append(run_one(backend, workers, scenario, options, Path(scratch)))
            if options.expire_count:
                expiries.append(run_expiry(backend, options, Path(scratch)))
    pgbench = None
    if options.pgbench and settings is not None:
        progress(f"running pgbench for {options.seconds:g} s ...")
        pgbench = run_pgbench(options.database_url, options.seconds)
    if results:
        print_table(results, options)
    if expiries:
        print_expiry(expiries)
    print_verification(results, expiries)
    print_targets(results, expiries, pgbench)
    print(f"Load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    every = all(r.verified_ok for r in results) and all(e.verified_ok for e in expiries)
    return 0 if every else 1


if __name__ == "__main__":
    sys.exit(main())
