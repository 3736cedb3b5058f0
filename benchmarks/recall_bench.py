"""Recall benchmark: the policy engine alone, then whole recalls on PostgreSQL and SQLite.

Run from the project root::

    .venv/bin/python benchmarks/recall_bench.py --seconds 20

Part 1 times ``hongbao.recall.engine.evaluate`` alone (facts already loaded, no I/O) in this
process over a fixed mix of snapshots under the default policy: 60 % allowed, 20 % asking for
a verification, 20 % denied, each case checked to give its expected result before timing.
Every call is timed with ``time.perf_counter_ns``; a second loop times the same calls as one
batch, without the per-call timers.

Part 2 times ``RecallService.recall`` end to end (lock, gather, evaluate, record, execute, in
one transaction). For every backend and worker count it starts a fresh database; each worker
*process* (threads would measure the GIL) opens its own database with ``--pool-size``,
registers its own senders (a phone each) and sends them balance-funded packets from that
phone during setup, unmeasured. Then every worker recalls its own packets, one new
idempotency key each, round-robin over its senders, so no sender recalls more than
``--recalls-per-user`` times a day (class I's daily count is 5). The policy is the default
except that class I asks for no SMS code (the benchmark measures recalls, not SMS). Packets
hold at most 200.00 (above that, face verification is asked) and are either personal or
group_normal with 5 shares, none claimed.

After every run: ``Ledger.verify()`` and ``PacketService.verify()`` must be clean, every key a
worker used must be stored as exactly one DONE recall of its own packet for the packet's whole
amount, every recalled packet must be RECALLED and every other one OPEN, and every sender's
balance must be exactly its top-up less its packets not recalled. Any failure exits non-zero.

With PostgreSQL, a last single-process pass (``--anatomy``) shows where a recall's time goes:
plain recalls (wall-clock against this process's CPU time), then the same with the parts of
``RecallService`` wrapped in timers, then with psycopg's cursor wrapped to count statements and
round trips. The wrappers live in this process only; nothing in ``src`` is changed. With
``--http-anatomy`` a last pass posts recalls to the HTTP route (``POST /v1/packets/{id}/recalls``,
the ASGI app driven in this process by the test client, on the same database) and counts the
whole path's statements and round trips with the same wrapper: the token's revocation, the
caller's checks and the Idempotency-Key included.

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
import queue
import random
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from hongbao.funding.service import open_balance
from hongbao.funding.sources import FundingKind
from hongbao.identity.devices import Device, DeviceFingerprint, FormFactor, Platform, VendorSkin
from hongbao.identity.service import IdentityService
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserStatus, UserType
from hongbao.identity.verification import ChallengeKind, SimulatedProvider
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.model import PacketState, PacketType
from hongbao.packets.service import PacketService, SendPacket
from hongbao.platform.clock import SystemClock
from hongbao.platform.limits import MAX_BATCH_SIZE
from hongbao.policy.document import Policy, default_policy
from hongbao.policy.store import PolicyStore
from hongbao.recall.engine import evaluate
from hongbao.recall.facts import (
    DeviceFacts,
    EscrowFacts,
    PacketFacts,
    RecallFacts,
    RequesterFacts,
    UsageFacts,
)
from hongbao.recall.model import DecisionResult
from hongbao.recall.records import Recall, RecallState
from hongbao.recall.rules import RULES
from hongbao.recall.service import RecallCommand, RecallService
from hongbao.risk.model import RiskAction, RiskAssessment
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.social.service import SocialService
from hongbao.storage import migrate
from hongbao.storage.factory import open_database
from hongbao.storage.unit_of_work import Database
from hongbao.storage.urls import parse_url
from ledger_bench import (
    _int_list,
    analyze_postgres,
    ensure_database,
    percentile,
    reset_postgres,
    server_settings,
)
from packets_bench import source_state

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/hongbao_recall_bench"
CURRENCY = "CNY"
ZONE = ZoneInfo("Asia/Shanghai")
SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US

EVALUATION_TARGET_P99_US = 50.0
RECALL_TARGET_P99_MS = 20.0
TARGET_WORKERS = 8
EVALUATION_MIX = {DecisionResult.ALLOW: 60, DecisionResult.CHALLENGE: 20, DecisionResult.DENY: 20}
EVALUATION_SNAPSHOTS = 1_000  # distinct snapshots cycled through (realistic cache footprint)
EVALUATION_WARMUP = 5_000
RULE_SAMPLE = 50_000  # evaluations per rule for the per-rule breakdown

BANK_ID = "bench-bank"
GROUP_ID = "bench-group"
OWNER_ID = "bench-owner"
RECIPIENT_ID = "bench-recipient"
TOP_UP_CODE = 1
MAX_PACKET_MINOR = 200_00  # face verification is asked above 200.00 (R-A2)
MIN_PACKET_MINOR = 1_00
GROUP_SHARES = 5
SIMULATOR_KEY = b"recall benchmark simulated provider key"
SETUP_TIMEOUT_SECONDS = 3_600.0
RESULT_MARGIN_SECONDS = 300.0
FAIRNESS_MARGIN = 3  # a worker may recall up to 3x its fair share of the ceiling
ANATOMY_SAMPLE = 300  # recalls in each pass of the one-process anatomy
ANATOMY_WARMUP = 20
# Local hours at which a run could reach the 23:50-00:10 settlement blackout (R-T3), where every
# recall is refused by design; runs then use a clock this far behind the system clock.
BLACKOUT_RISK_HOURS = frozenset({21, 22, 23, 0})
BLACKOUT_SHIFT_US = -6 * HOUR_US


# ------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class Options:
    seconds: float
    warmup: float
    backends: list[str]
    workers: list[int]
    evaluations: int
    recalls_per_user: int
    ceiling: float
    pool_size: int
    anatomy: bool
    http_anatomy: bool
    analyze: bool
    database_url: str


def _backend_list(text: str) -> list[str]:
    aliases = {"postgres": "postgresql", "pg": "postgresql", "none": ""}
    values = [aliases.get(part.strip(), part.strip()) for part in text.split(",")]
    values = [value for value in values if value]
    unknown = set(values) - {"sqlite", "postgresql"}
    if unknown:
        raise argparse.ArgumentTypeError(f"backends are sqlite, postgresql or none, got {text!r}")
    return values


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time per run")
    parser.add_argument(
        "--backends", type=_backend_list, default=["postgresql", "sqlite"], help="or none"
    )
    parser.add_argument("--workers", type=_int_list, default=[1, 8], help="worker processes")
    parser.add_argument(
        "--evaluations", type=int, default=200_000, help="timed engine evaluations (0: skip)"
    )
    parser.add_argument(
        "--recalls-per-user",
        type=int,
        default=5,
        help="packets per sender (class I may recall 5 a day; more raises the daily count)",
    )
    parser.add_argument(
        "--ceiling",
        type=float,
        default=450.0,
        help="recalls/s of a whole run that the packets sent during setup cover",
    )
    parser.add_argument("--pool-size", type=int, default=1, help="connections per worker")
    parser.add_argument(
        "--anatomy",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="PostgreSQL: time the parts of a recall and count its statements, in one process",
    )
    parser.add_argument(
        "--http-anatomy",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="with --anatomy: also count the statements of recalls posted to the HTTP route",
    )
    parser.add_argument(
        "--analyze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ANALYZE the PostgreSQL tables after setup, as autovacuum would on a live database",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args(argv)
    if args.evaluations < 0 or args.recalls_per_user < 1 or args.ceiling <= 0:
        parser.error("--evaluations >= 0, --recalls-per-user >= 1 and --ceiling > 0")
    if args.pool_size < 1:
        parser.error("--pool-size must be at least 1")
    return Options(
        seconds=args.seconds,
        warmup=args.warmup,
        backends=args.backends,
        workers=args.workers,
        evaluations=args.evaluations,
        recalls_per_user=args.recalls_per_user,
        ceiling=args.ceiling,
        pool_size=args.pool_size,
        anatomy=args.anatomy,
        http_anatomy=args.http_anatomy,
        analyze=args.analyze,
        database_url=args.database_url,
    )


def progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def local_us(day: datetime, hour: int, minute: int = 0) -> int:
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)
    return int(moment.timestamp()) * SECOND_US


def _local_date(now_us: int) -> str:
    return datetime.fromtimestamp(now_us / SECOND_US, tz=ZONE).date().isoformat()


def _local_day(now_us: int) -> tuple[int, int]:
    local = datetime.fromtimestamp(now_us / SECOND_US, tz=ZONE)
    start = datetime(local.year, local.month, local.day, tzinfo=ZONE)
    following = start.date() + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=ZONE)
    return int(start.timestamp()) * SECOND_US, int(end.timestamp()) * SECOND_US


def allowed_facts(now_us: int, total_minor: int = 50_00) -> RecallFacts:
    """A personal packet sent an hour ago from the sender's phone, recalled by the sender
    (class I, SMS passed) from that phone: the default policy allows it."""
    created = now_us - HOUR_US
    day_start, next_day = _local_day(now_us)
    return RecallFacts(
        now_us=now_us,
        packet=PacketFacts(
            packet_id="p-bench",
            packet_type=PacketType.PERSONAL,
            sender_id="alice",
            state=PacketState.OPEN,
            currency=CURRENCY,
            total_minor=total_minor,
            share_count=1,
            claimed_count=0,
            claimed_minor=0,
            created_at_us=created,
            expires_at_us=created + DAY_US,
            first_claim_at_us=None,
            sender_device_id="alice-phone",
            sender_sim_id="alice-sim",
            funding_kind=FundingKind.BALANCE,
            card_window_ends_at_us=None,
        ),
        requester=RequesterFacts(
            "alice", AccountTier.CLASS_I, UserType.NORMAL, UserStatus.NORMAL, now_us - 365 * DAY_US
        ),
        device=DeviceFacts("alice-phone", "alice-sim", True, False, "ios", 17),
        escrow=EscrowFacts(total_minor, 0, 0),
        usage=UsageFacts(
            day_start_us=day_start,
            next_day_start_us=next_day,
            executed_count=1,
            executed_minor=20_00,
            key=f"alice@{_local_date(now_us)}",
        ),
        exemptions=(),
        passed_challenges=(ChallengeKind.SMS_CODE,),
        risk=RiskAssessment(level=0, actions=(), assessor="default", reasons=("no risk rules",)),
        other_recall_in_progress=False,
    )


def _packet(facts: RecallFacts, **changes: Any) -> RecallFacts:
    """Change the packet; escrow follows its remainder (balance-funded packets)."""
    packet = replace(facts.packet, **changes)
    escrow = replace(facts.escrow, escrow_balance_minor=packet.remainder_minor)
    return replace(facts, packet=packet, escrow=escrow)


def _group(
    facts: RecallFacts, kind: PacketType, total: int, shares: int, **more: Any
) -> RecallFacts:
    return _packet(facts, packet_type=kind, total_minor=total, share_count=shares, **more)


def _claimed(facts: RecallFacts, count: int, minor: int, first_ago_us: int) -> RecallFacts:
    return _packet(
        facts,
        claimed_count=count,
        claimed_minor=minor,
        first_claim_at_us=facts.now_us - first_ago_us,
    )


def evaluation_cases(now_us: int) -> list[tuple[str, DecisionResult, RecallFacts]]:
    """Named snapshots with the result the default policy must give each."""
    base = allowed_facts(now_us)
    group = _group(base, PacketType.GROUP_NORMAL, 100_00, 10)
    lucky = _group(base, PacketType.GROUP_LUCKY, 100_00, 10)
    card_created = now_us - 5 * MINUTE_US
    card = replace(
        base,
        packet=replace(
            base.packet,
            funding_kind=FundingKind.DEBIT_CARD,
            created_at_us=card_created,
            expires_at_us=card_created + DAY_US,
            card_window_ends_at_us=card_created + 15 * MINUTE_US,
        ),
        escrow=EscrowFacts(0, open_hold_minor=50_00, expected_hold_minor=50_00),
    )
    late = datetime.fromtimestamp(now_us / SECOND_US, tz=ZONE)
    blackout_now = local_us(late, 23, 55)
    allow, challenge, deny = DecisionResult.ALLOW, DecisionResult.CHALLENGE, DecisionResult.DENY
    return [
        ("personal, unclaimed", allow, base),
        ("group_normal, 3 of 10 claimed", allow, _claimed(group, 3, 30_00, 10 * MINUTE_US)),
        (
            "group_lucky, 2 of 10 claimed 10 min ago",
            allow,
            _claimed(lucky, 2, 20_00, 10 * MINUTE_US),
        ),
        ("debit card, inside the void window", allow, card),
        (
            "android phone, 200.00 exactly",
            allow,
            replace(
                _packet(base, total_minor=200_00),
                device=replace(base.device, platform="android", os_major=14),
            ),
        ),
        ("class I, SMS not yet passed", challenge, replace(base, passed_challenges=())),
        (
            "300.00 left: face verification",
            challenge,
            _group(group, PacketType.GROUP_NORMAL, 300_00, 3),
        ),
        (
            "HarmonyOS 3: security environment",
            challenge,
            replace(base, device=replace(base.device, platform="harmonyos", os_major=3)),
        ),
        (
            "risk level 1",
            challenge,
            replace(base, risk=RiskAssessment(1, (RiskAction.CHALLENGE,), "bench", ("velocity",))),
        ),
        (
            "not the sender",
            deny,
            replace(base, requester=replace(base.requester, user_id="mallory")),
        ),
        (
            "another device",
            deny,
            replace(base, device=replace(base.device, device_id="alice-tablet")),
        ),
        (
            "expired",
            deny,
            _packet(base, created_at_us=now_us - 25 * HOUR_US, expires_at_us=now_us - HOUR_US),
        ),
        ("settlement blackout", deny, allowed_facts(blackout_now)),
        ("daily count reached", deny, replace(base, usage=replace(base.usage, executed_count=5))),
        ("remainder below 30 %", deny, _claimed(group, 9, 90_00, 10 * MINUTE_US)),
        (
            "watch, 300.00 packet",
            deny,
            _group(
                replace(base, device=replace(base.device, is_watch=True, platform="watchos")),
                PacketType.GROUP_NORMAL,
                300_00,
                3,
            ),
        ),
        ("escrow mismatch", deny, replace(base, escrow=EscrowFacts(49_99, 0, 0))),
        ("group_lucky, first claim 40 min ago", deny, _claimed(lucky, 2, 20_00, 40 * MINUTE_US)),
        (
            "account frozen",
            deny,
            replace(base, requester=replace(base.requester, status=UserStatus.FROZEN)),
        ),
    ]


@dataclass
class EvaluationResult:
    evaluations: int
    snapshots: int
    mix: Counter[str]
    cases: int
    timer_overhead_ns: float
    mean_us: float
    p50_us: float
    p99_us: float
    p999_us: float
    max_us: float
    batch_mean_us: float
    by_result: dict[str, tuple[float, float]]  # result -> (p50, p99) in us
    slowest_cases: list[tuple[str, float]]  # case -> p99 in us
    rule_means: list[tuple[str, float]]  # rule -> batch-timed mean in us, costliest first

    @property
    def met(self) -> bool:
        return self.p99_us <= EVALUATION_TARGET_P99_US


def evaluation_snapshots(policy: Policy) -> list[tuple[str, DecisionResult, RecallFacts]]:
    """A shuffled, fixed sequence of snapshots in the 60/20/20 mix, each checked first."""
    now_us = local_us(datetime(2026, 11, 30, tzinfo=ZONE), 15)
    cases = evaluation_cases(now_us)
    for name, expected, facts in cases:
        got = evaluate(facts, policy, "check").result
        if got is not expected:
            raise SystemExit(f"evaluation case {name!r}: expected {expected}, got {got}")
    rng = random.Random(20261130)
    by_result: dict[DecisionResult, list[tuple[str, DecisionResult, RecallFacts]]] = {}
    for case in cases:
        by_result.setdefault(case[1], []).append(case)
    results = list(EVALUATION_MIX)
    weights = [EVALUATION_MIX[result] for result in results]
    sequence = []
    for _ in range(EVALUATION_SNAPSHOTS):
        name, expected, facts = rng.choice(by_result[rng.choices(results, weights)[0]])
        # A slightly different moment each time, so the snapshots are distinct objects.
        jitter = rng.randrange(0, 60 * SECOND_US)
        sequence.append((name, expected, _shifted(facts, jitter)))
    return sequence


def _shifted(facts: RecallFacts, delta_us: int) -> RecallFacts:
    """The same snapshot ``delta_us`` later: every time in it moves, so no rule changes."""
    packet = facts.packet
    return replace(
        facts,
        now_us=facts.now_us + delta_us,
        packet=replace(
            packet,
            created_at_us=packet.created_at_us + delta_us,
            expires_at_us=packet.expires_at_us + delta_us,
            first_claim_at_us=None
            if packet.first_claim_at_us is None
            else packet.first_claim_at_us + delta_us,
            card_window_ends_at_us=None
            if packet.card_window_ends_at_us is None
            else packet.card_window_ends_at_us + delta_us,
        ),
    )


def timer_overhead_ns(samples: int = 100_000) -> float:
    clock = time.perf_counter_ns
    gaps = []
    for _ in range(samples):
        began = clock()
        gaps.append(clock() - began)
    return statistics.median(gaps)


def rule_means(snapshots: list[RecallFacts], policy: Policy, count: int) -> list[tuple[str, float]]:
    """Each rule's check, compiled for ``policy``, alone over the same snapshots, batch-timed,
    less the cost of the same loop calling a check that does nothing: where the evaluation's
    time goes."""

    def nothing(facts: RecallFacts) -> tuple[()]:
        del facts
        return ()

    def mean_us(check: Callable[[RecallFacts], Any]) -> float:
        size = len(snapshots)
        began = time.perf_counter_ns()
        for index in range(count):
            check(snapshots[index % size])
        return (time.perf_counter_ns() - began) / count / 1_000

    loop = min(mean_us(nothing) for _ in range(3))
    means = [(rule.name, mean_us(rule.compile(policy)) - loop) for rule in RULES]
    return sorted(means, key=lambda item: -item[1])


def run_evaluations(count: int) -> EvaluationResult:
    """Time ``evaluate`` call by call, then as one batch."""
    policy = default_policy()
    sequence = evaluation_snapshots(policy)
    for name, expected, facts in sequence:
        got = evaluate(facts, policy, "check").result
        if got is not expected:
            raise SystemExit(f"shifted evaluation case {name!r}: expected {expected}, got {got}")
    size = len(sequence)
    snapshots = [facts for _, _, facts in sequence]
    ids = [f"d-bench-{index:06d}" for index in range(size)]
    for index in range(EVALUATION_WARMUP):
        evaluate(snapshots[index % size], policy, ids[index % size])
    clock = time.perf_counter_ns
    timings = [0] * count
    for index in range(count):
        facts, decision_id = snapshots[index % size], ids[index % size]
        began = clock()
        evaluate(facts, policy, decision_id)
        timings[index] = clock() - began
    began = clock()
    for index in range(count):
        evaluate(snapshots[index % size], policy, ids[index % size])
    batch_ns = clock() - began
    ordered = sorted(timings)
    per_result: dict[str, list[int]] = {}
    per_case: dict[str, list[int]] = {}
    for index, elapsed in enumerate(timings):
        name, expected, _ = sequence[index % size]
        per_result.setdefault(expected.value, []).append(elapsed)
        per_case.setdefault(name, []).append(elapsed)

    def p(values: list[int], fraction: float) -> float:
        return percentile(sorted(values), fraction) / 1_000

    case_p99 = sorted(
        ((name, p(values, 0.99)) for name, values in per_case.items()), key=lambda item: -item[1]
    )
    return EvaluationResult(
        evaluations=count,
        snapshots=size,
        mix=Counter(expected.value for _, expected, _ in sequence),
        cases=len(per_case),
        timer_overhead_ns=timer_overhead_ns(),
        mean_us=sum(timings) / count / 1_000,
        p50_us=percentile(ordered, 0.50) / 1_000,
        p99_us=percentile(ordered, 0.99) / 1_000,
        p999_us=percentile(ordered, 0.999) / 1_000,
        max_us=ordered[-1] / 1_000,
        batch_mean_us=batch_ns / count / 1_000,
        by_result={
            result: (p(values, 0.5), p(values, 0.99))
            for result, values in sorted(per_result.items())
        },
        slowest_cases=case_p99[:3],
        rule_means=rule_means(snapshots, policy, min(count, RULE_SAMPLE)),
    )


# ------------------------------------------------------------------------------ PostgreSQL


# ---------------------------------------------------------------------- part 2: recalls


class BenchClock:
    """The system clock, shifted by a fixed offset chosen once per benchmark (see main)."""

    def __init__(self, offset_us: int) -> None:
        self.offset_us = offset_us

    def now_us(self) -> int:
        return time.time_ns() // 1_000 + self.offset_us


def clock_offset_us(now_us: int) -> int:
    """Zero, unless the run could reach the settlement blackout in Asia/Shanghai."""
    local = datetime.fromtimestamp(now_us / SECOND_US, tz=ZONE)
    return BLACKOUT_SHIFT_US if local.hour in BLACKOUT_RISK_HOURS else 0


def recall_policy(recalls_per_user: int) -> PolicyStore:
    """The default policy, except that class I asks for no SMS code; its daily caps grow only
    if a sender is to recall more than the default count a day."""
    policy = default_policy()
    class_i = policy.recall.tiers.class_i
    tier = class_i.model_copy(
        update={
            "verification": (),
            "daily_count": max(class_i.daily_count, recalls_per_user),
            "daily_amount_minor": max(
                class_i.daily_amount_minor, recalls_per_user * MAX_PACKET_MINOR
            ),
        }
    )
    tiers = policy.recall.tiers.model_copy(update={"class_i": tier})
    recall = policy.recall.model_copy(update={"tiers": tiers})
    return PolicyStore.fixed(policy.model_copy(update={"recall": recall, "version": "bench@1"}))


def sender_id(run: str, worker: int, index: int) -> str:
    return f"s-{run}-w{worker:02d}-{index:05d}"


def phone_of(user: str) -> DeviceFingerprint:
    return DeviceFingerprint(f"{user}-phone", f"{user}-sim")


def balance_account(user: str) -> str:
    return f"user:{user}:balance"


def packet_id(run: str, worker: int, index: int) -> str:
    return f"p-{run}-w{worker:02d}-{index:06d}"


def recall_key(run: str, worker: int, index: int) -> str:
    return f"rk-{run}-w{worker:02d}-{index:06d}"


@dataclass(frozen=True)
class WorkerConfig:
    url: str
    run: str
    worker: int
    packets: int
    recalls_per_user: int
    pool_size: int
    clock_offset_us: int
    since_us: int
    warmup: float
    seconds: float

    @property
    def senders(self) -> int:
        return math.ceil(self.packets / self.recalls_per_user)

    @property
    def top_up_minor(self) -> int:
        return self.recalls_per_user * MAX_PACKET_MINOR


@dataclass(frozen=True)
class PlannedPacket:
    packet_id: str
    sender: str
    command: SendPacket


def plan_packets(config: WorkerConfig) -> list[PlannedPacket]:
    """The worker's packets in recall order: sender by sender in turn, personal and
    group_normal alternately, 1.00 to 200.00 each."""
    rng = random.Random(f"{config.run}-{config.worker}")
    planned = []
    for index in range(config.packets):
        sender = sender_id(config.run, config.worker, index % config.senders)
        minor = rng.randint(MIN_PACKET_MINOR, MAX_PACKET_MINOR)
        pid = packet_id(config.run, config.worker, index)
        if index % 2:
            command = SendPacket(
                pid,
                PacketType.GROUP_NORMAL,
                sender,
                Money.of(minor, CURRENCY),
                GROUP_SHARES,
                f"{sender}-balance",
                group_id=GROUP_ID,
                device=phone_of(sender),
            )
        else:
            command = SendPacket(
                pid,
                PacketType.PERSONAL,
                sender,
                Money.of(minor, CURRENCY),
                1,
                f"{sender}-balance",
                recipient_id=RECIPIENT_ID,
                device=phone_of(sender),
            )
        planned.append(PlannedPacket(pid, sender, command))
    return planned


def base_setup(url: str, clock: BenchClock, since_us: int) -> None:
    """The bank, the group owner, the group and the recipient of personal packets."""
    database = open_database(url, pool_size=1)
    try:
        identity = IdentityService(
            database, clock, SimulatedProvider(SIMULATOR_KEY), on_register=(open_balance,)
        )
        social = SocialService(database, clock)
        for user in (OWNER_ID, RECIPIENT_ID):
            identity.register_user(new_user(user, since_us))
        social.create_group(Group(GROUP_ID, "Bench", GroupType.FAMILY, OWNER_ID, since_us))
        (opened,) = Ledger(database, clock).create_accounts(
            [NewAccount(BANK_ID, AccountKind.DEBIT_CARD, CURRENCY)]
        )
        _require(opened.succeeded, "open the bank account")
    finally:
        database.close()


def new_user(user: str, since_us: int) -> User:
    return User(user, user, AccountTier.CLASS_I, UserType.NORMAL, since_us, RealNameStatus.VERIFIED)


def setup_worker(
    database: Database, clock: BenchClock, config: WorkerConfig
) -> list[PlannedPacket]:
    """Register the worker's senders with a phone each, top them up, send their packets."""
    identity = IdentityService(
        database, clock, SimulatedProvider(SIMULATOR_KEY), on_register=(open_balance,)
    )
    social = SocialService(database, clock)
    senders = [sender_id(config.run, config.worker, index) for index in range(config.senders)]
    for user in senders:
        identity.register_user(new_user(user, config.since_us))
        phone = phone_of(user)
        identity.register_device(
            Device(
                phone.device_id,
                user,
                phone.sim_id,
                Platform.IOS,
                "17.1",
                VendorSkin.NONE,
                "iPhone 15",
                FormFactor.PHONE,
                config.since_us,
            )
        )
        social.add_member(GroupMember(GROUP_ID, user, config.since_us))
    top_ups = [
        TransferRequest(
            f"top-up:{user}",
            TOP_UP_CODE,
            config.top_up_minor,
            BANK_ID,
            balance_account(user),
            CURRENCY,
        )
        for user in senders
    ]
    ledger = Ledger(database, clock)
    for start in range(0, len(top_ups), MAX_BATCH_SIZE):
        results = ledger.create_transfers(top_ups[start : start + MAX_BATCH_SIZE])
        _require(all(result.succeeded for result in results), "top up the senders")
    planned = plan_packets(config)
    packets = PacketService(database, clock)
    for item in planned:
        packets.send(item.command)
    return planned


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark setup failed: could not {what}")


@dataclass
class Tally:
    """What one worker measured; ``issued`` counts every recall including the warm-up."""

    worker: int = 0
    recalls: int = 0
    issued: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time during measured recalls
    ran_out: bool = False
    setup_seconds: float = 0.0
    error: str | None = None


def drive(
    service: RecallService, planned: list[PlannedPacket], config: WorkerConfig, start: Event
) -> Tally:
    """Wait for the go (every worker set up, tables analyzed), warm up, then recall until the
    time is up."""
    tally = Tally(worker=config.worker)
    if not start.wait(SETUP_TIMEOUT_SECONDS):
        raise TimeoutError("no go from the benchmark")
    measure_from = time.perf_counter() + config.warmup
    stop = measure_from + config.seconds
    for index, item in enumerate(planned):
        began, cpu_began = time.perf_counter(), time.process_time()
        if began >= stop:
            break
        command = RecallCommand(
            recall_key(config.run, config.worker, index),
            item.packet_id,
            item.sender,
            phone_of(item.sender),
        )
        outcome = service.recall(command)
        ended = time.perf_counter()
        tally.issued = index + 1
        state = outcome.recall.state.value
        if began >= measure_from:
            tally.recalls += 1
            tally.latencies_ms.append((ended - began) * 1_000)
            tally.cpu_seconds += time.process_time() - cpu_began
            tally.states[state] = tally.states.get(state, 0) + 1
            tally.elapsed = ended - measure_from
        elif state != RecallState.DONE:
            tally.states[f"warm-up {state}"] = tally.states.get(f"warm-up {state}", 0) + 1
    else:
        tally.ran_out = True
    return tally


def worker_main(config: WorkerConfig, start: Event, messages: Any) -> None:
    """Process entry point: a database of its own, its own senders and packets, then recalls.
    Sends ``("ready", worker, None)`` once set up, then ``("tally", worker, tally)`` or
    ``("error", worker, text)``."""
    try:
        clock = BenchClock(config.clock_offset_us)
        database = open_database(config.url, pool_size=config.pool_size)
        try:
            began = time.perf_counter()
            planned = setup_worker(database, clock, config)
            setup_seconds = time.perf_counter() - began
            messages.put(("ready", config.worker, None))
            packets = PacketService(database, clock)
            service = RecallService(
                database, clock, packets, recall_policy(config.recalls_per_user)
            )
            tally = drive(service, planned, config, start)
            tally.setup_seconds = setup_seconds
        finally:
            database.close()
    except BaseException as error:
        messages.put(("error", config.worker, repr(error)))
        raise
    messages.put(("tally", config.worker, asdict(tally)))


@dataclass
class RunResult:
    backend: str
    workers: int
    recalls: int
    recalls_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    client_cpu_ms: float  # per recall, in the worker process
    states: Counter[str]
    issued: list[int]  # per worker, warm-up included
    per_worker: list[int]  # measured recalls of each worker
    ran_out: int
    setup_seconds: float
    packets_per_worker: int
    verified: str = "not run"
    verified_ok: bool = False

    @property
    def all_done(self) -> bool:
        return set(self.states) <= {RecallState.DONE.value}


def collect(kind: str, processes: list[Any], messages: Any, timeout: float) -> dict[int, Any]:
    """One ``kind`` message from every worker; fail loudly if one reports an error, dies
    without a word, or the time runs out (the others are then stopped)."""
    received: dict[int, Any] = {}
    deadline = time.monotonic() + timeout
    while len(received) < len(processes):
        try:
            got, worker, payload = messages.get(timeout=1.0)
        except queue.Empty:
            silent = [n for n, p in enumerate(processes) if n not in received and not p.is_alive()]
            problem = (
                f"worker {silent[0]} exited with {processes[silent[0]].exitcode}"
                if silent
                else None
            )
            if problem is None and time.monotonic() > deadline:
                problem = (
                    f"no {kind} from {len(processes) - len(received)} workers in {timeout:g} s"
                )
            if problem is not None:
                stop_all(processes)
                raise SystemExit(f"benchmark failed: {problem}") from None
            continue
        if got == "error":
            stop_all(processes)
            raise SystemExit(f"benchmark failed: worker {worker}: {payload}")
        if got == kind:
            received[worker] = payload
    return received


def stop_all(processes: list[Any]) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)


def spawn_workers(configs: list[WorkerConfig], analyze: Callable[[], None]) -> list[Tally]:
    """Start the workers; when all are set up, ``analyze``, then let them recall."""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    messages = context.Queue()
    processes = [
        context.Process(target=worker_main, args=(config, start, messages)) for config in configs
    ]
    for process in processes:
        process.start()
    collect("ready", processes, messages, SETUP_TIMEOUT_SECONDS)
    progress("workers set up")
    analyze()
    start.set()
    config = configs[0]
    timeout = config.warmup + config.seconds + RESULT_MARGIN_SECONDS
    tallies = [
        Tally(**payload) for payload in collect("tally", processes, messages, timeout).values()
    ]
    for process in processes:
        process.join()
    return sorted(tallies, key=lambda tally: tally.worker)


def summarise(backend: str, configs: list[WorkerConfig], tallies: list[Tally]) -> RunResult:
    window = max(tally.elapsed for tally in tallies) or 1.0
    latencies = sorted(latency for tally in tallies for latency in tally.latencies_ms)
    states: Counter[str] = Counter()
    for tally in tallies:
        states.update(tally.states)
    recalls = sum(tally.recalls for tally in tallies)
    return RunResult(
        backend=backend,
        workers=len(tallies),
        recalls=recalls,
        recalls_per_second=recalls / window,
        p50_ms=percentile(latencies, 0.50),
        p90_ms=percentile(latencies, 0.90),
        p99_ms=percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else 0.0,
        client_cpu_ms=sum(tally.cpu_seconds for tally in tallies) / max(1, recalls) * 1_000,
        states=states,
        issued=[tally.issued for tally in tallies],
        per_worker=[tally.recalls for tally in tallies],
        ran_out=sum(tally.ran_out for tally in tallies),
        setup_seconds=max(tally.setup_seconds for tally in tallies),
        packets_per_worker=configs[0].packets,
    )


# ------------------------------------------------------------------------------ checking


def _all_records(database: Database, table: Callable[[Any], Any]) -> list[Any]:
    """Every record of one table, page by page, in one read (one snapshot)."""

    def read(uow: Any) -> list[Any]:
        records: list[Any] = []
        after: tuple[Any, ...] | None = None
        while True:
            page = table(uow).page(after, limit=5_000)
            records += page
            if len(page) < 5_000:
                return records
            after = _key_of(page[-1])

    result: list[Any] = database.read(read)
    return result


def _key_of(record: Any) -> tuple[Any, ...]:
    if isinstance(record, Recall):
        return (record.idempotency_key,)
    return (record.id,)


def money_and_recall_problems(
    database: Database, configs: list[WorkerConfig], result: RunResult
) -> list[str]:
    """Every issued key is one DONE recall of its own packet for all of it; nothing else."""
    problems: list[str] = []
    recalls = {r.idempotency_key: r for r in _all_records(database, lambda u: u.recalls.recalls)}
    packets = {p.id: p for p in _all_records(database, lambda u: u.packets.packets)}
    expected_keys: set[str] = set()
    not_recalled: Counter[str] = Counter()  # sender -> fen still in packets
    for config, issued in zip(configs, result.issued, strict=True):
        for index, item in enumerate(plan_packets(config)):
            packet = packets.get(item.packet_id)
            if packet is None:
                problems.append(f"packet {item.packet_id} was never stored")
                continue
            if index >= issued:
                if packet.state is not PacketState.OPEN:
                    problems.append(f"{item.packet_id} was not recalled but is {packet.state}")
                not_recalled[item.sender] += packet.total_minor
                continue
            key = recall_key(config.run, config.worker, index)
            expected_keys.add(key)
            recall = recalls.get(key)
            if recall is None or recall.state is not RecallState.DONE:
                problems.append(f"{key}: {recall.state if recall else 'missing'}, not done")
            elif recall.packet_id != item.packet_id or recall.recalled_minor != packet.total_minor:
                problems.append(f"{key}: recalled {recall.recalled_minor} of {item.packet_id}")
            if packet.state is not PacketState.RECALLED:
                problems.append(f"{item.packet_id} was recalled but is {packet.state}")
    extra = set(recalls) - expected_keys
    if extra:
        problems.append(f"{len(extra)} recalls nobody asked for, e.g. {sorted(extra)[0]}")
    done_by_packet = Counter(r.packet_id for r in recalls.values() if r.state is RecallState.DONE)
    twice = [packet for packet, count in done_by_packet.items() if count > 1]
    if twice:
        problems.append(f"{len(twice)} packets recalled twice, e.g. {twice[0]}")
    problems += balance_problems(database, configs, not_recalled)
    return problems


def balance_problems(
    database: Database, configs: list[WorkerConfig], not_recalled: Counter[str]
) -> list[str]:
    """Each sender holds its top-up less what is still in its unrecalled packets."""
    expected = {
        balance_account(sender_id(config.run, config.worker, index)): config.top_up_minor
        - not_recalled[sender_id(config.run, config.worker, index)]
        for config in configs
        for index in range(config.senders)
    }
    ids = sorted(expected)
    problems = []
    for start in range(0, len(ids), 1_000):
        chunk = ids[start : start + 1_000]

        def read(uow: Any, chunk: list[str] = chunk) -> dict[str, Any]:
            found: dict[str, Any] = uow.ledger.get_accounts(chunk)
            return found

        accounts = database.read(read)
        for account_id in chunk:
            account = accounts.get(account_id)
            balance = None if account is None else account.credit_balance
            if balance != expected[account_id]:
                problems.append(f"{account_id} holds {balance}, expected {expected[account_id]}")
    return problems[:5] + ([f"... {len(problems) - 5} more"] if len(problems) > 5 else [])


def verify_run(url: str, clock: BenchClock, configs: list[WorkerConfig], result: RunResult) -> None:
    database = open_database(url, pool_size=1)
    try:
        ledger = Ledger(database, clock).verify()
        packets = PacketService(database, clock).verify()
        problems = money_and_recall_problems(database, configs, result)
    finally:
        database.close()
    if not ledger.ok:
        first = ledger.violations[0]
        problems.insert(
            0, f"ledger: {ledger.violation_count} violations, first {first.check}: {first.detail}"
        )
    if not packets.ok:
        problems.insert(0, f"packets: {packets}")
    if not result.all_done:
        problems.append(f"recalls not done: {_format_counts(result.states)}")
    done = sum(result.issued)
    result.verified_ok = not problems
    result.verified = "; ".join(problems[:6]) or (
        f"ok: Ledger.verify and PacketService.verify clean ({ledger.transfers} transfers); "
        f"{done} keys, each one DONE recall of its own whole packet; balances exact"
    )


# ------------------------------------------------------------------------------ runs


def fresh_database_url(backend: str, options: Options, scratch: Path, run: str) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{scratch / f'recall-{run}.db'}"
        migrate.upgrade(parse_url(url))
        return url
    reset_postgres(options.database_url)
    return options.database_url


def packets_per_worker(options: Options, workers: int) -> int:
    """Enough packets for ``--ceiling`` recalls/s over warm-up and measurement, at least 50;
    with several workers each may do up to ``FAIRNESS_MARGIN`` times its fair share (SQLite's
    busy handler is not fair: some processes wait seconds while others go on)."""
    total = options.ceiling * (options.warmup + options.seconds)
    return max(50, math.ceil(total * min(workers, FAIRNESS_MARGIN) / workers))


def run_one(
    backend: str, workers: int, options: Options, scratch: Path, offset_us: int
) -> RunResult:
    run = f"{backend[:2]}{workers}"
    count = packets_per_worker(options, workers)
    progress(f"running {backend} workers={workers}: setting up {count} packets per worker ...")
    url = fresh_database_url(backend, options, scratch, run)
    clock = BenchClock(offset_us)
    since_us = clock.now_us() - 30 * DAY_US
    base_setup(url, clock, since_us)
    configs = [
        WorkerConfig(
            url,
            run,
            worker,
            count,
            options.recalls_per_user,
            options.pool_size,
            offset_us,
            since_us,
            options.warmup,
            options.seconds,
        )
        for worker in range(workers)
    ]

    def analyze() -> None:
        if backend == "postgresql" and options.analyze:
            analyze_postgres(url)

    tallies = spawn_workers(configs, analyze)
    result = summarise(backend, configs, tallies)
    progress(f"verifying {backend} workers={workers} ...")
    verify_run(url, clock, configs, result)
    return result


# ------------------------------------------------------------------ statements per recall


@dataclass
class StatementCount:
    recalls: int
    statements: Counter[str]  # normalised statement -> executions
    waited: Counter[str]  # normalised statement -> times its result was waited for

    def per_recall(self, count: int) -> float:
        return count / self.recalls

    @property
    def round_trips(self) -> int:
        """Waits for a statement's result, plus the commit, which waits for the server too."""
        return sum(self.waited.values()) + self.recalls


_WHITESPACE = re.compile(r"\s+")


def _normalise(statement: object) -> str:
    text = statement.as_string() if isinstance(statement, sql.Composable) else str(statement)
    text = _WHITESPACE.sub(" ", text).strip()
    return text if len(text) <= 110 else text[:107] + "..."


@contextmanager
def counting_statements() -> Iterator[tuple[Counter[str], Counter[str]]]:
    """Count every statement psycopg sends from this process, and which ones the client waited
    for: in pipeline mode statements are queued and sent together, and the client waits for the
    server only when it reads a result that has not arrived (one round trip each)."""
    statements: Counter[str] = Counter()
    waited: Counter[str] = Counter()
    last: dict[int, str] = {}  # id(cursor) -> its latest statement
    original_execute = psycopg.Cursor.execute
    original_fetch = psycopg.Cursor._fetch_pipeline  # where psycopg waits for results

    def execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        name = _normalise(query)
        statements[name] += 1
        last[id(self)] = name
        return original_execute(self, query, params, **kwargs)

    def fetch_pipeline(self: Any) -> None:
        # The condition under which psycopg 3 flushes the pipeline and waits for results.
        pending = self._execmany_returning is not False and not self.pgresult
        if pending and self._conn._pipeline:
            waited[last.get(id(self), "?")] += 1
        original_fetch(self)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    psycopg.Cursor._fetch_pipeline = fetch_pipeline  # type: ignore[method-assign]
    try:
        yield statements, waited
    finally:
        psycopg.Cursor.execute = original_execute  # type: ignore[method-assign]
        psycopg.Cursor._fetch_pipeline = original_fetch  # type: ignore[method-assign]


@dataclass
class Phase:
    label: str
    calls: int = 0
    wall_ns: int = 0
    cpu_ns: int = 0


def phase_targets() -> list[tuple[str, Any, str]]:
    """(label, owner, attribute) of the parts of a recall timed by ``timing_phases``; the
    top-level parts of ``_recall`` do not overlap, indented ones are inside the one above."""
    import hongbao.ledger.operations as ledger_operations  # noqa: PLC0415 - only this pass
    import hongbao.recall.service as recall_service  # noqa: PLC0415

    return [
        ("recall(), the whole call", RecallService, "recall"),
        ("recall_in(), the work inside the transaction", RecallService, "recall_in"),
        ("send the first reads (the packet locked)", RecallService, "read_in"),
        ("gather the facts", recall_service, "gather"),
        ("evaluate the rules", recall_service, "evaluate"),
        ("record the decision", RecallService, "_record"),
        ("  of which to_json (facts, outcomes)", recall_service, "to_json"),
        ("append the recall's and the packet's events", recall_service, "append_batch"),
        ("execute: close the packet, refund", RecallService, "_execute"),
        ("  of which ledger create_transfers", ledger_operations, "create_transfers"),
        ("  of which mark recalled", PacketService, "_mark_recalled"),
    ]


@contextmanager
def timing_phases() -> Iterator[list[Phase]]:
    """Wrap each target with a wall-clock and CPU-time timer, in this process only."""
    phases: list[Phase] = []
    restore: list[tuple[Any, str, Any]] = []
    for label, owner, attribute in phase_targets():
        original = getattr(owner, attribute, None)
        if original is None:
            progress(f"phase {label!r}: {attribute} not found, not timed")
            continue
        phase = Phase(label)
        phases.append(phase)

        def timed(
            *args: Any, _original: Any = original, _phase: Phase = phase, **kwargs: Any
        ) -> Any:
            wall, cpu = time.perf_counter_ns(), time.process_time_ns()
            try:
                return _original(*args, **kwargs)
            finally:
                _phase.calls += 1
                _phase.wall_ns += time.perf_counter_ns() - wall
                _phase.cpu_ns += time.process_time_ns() - cpu

        restore.append((owner, attribute, original))
        setattr(owner, attribute, timed)
    try:
        yield phases
    finally:
        for owner, attribute, original in reversed(restore):
            setattr(owner, attribute, original)


@dataclass
class Anatomy:
    recalls: int
    wall_ms: list[float]  # uninstrumented recalls, sorted
    cpu_ms: float  # mean CPU time of this process per uninstrumented recall
    phases: list[Phase]
    statements: StatementCount
    http: HttpAnatomy | None = None


@dataclass
class HttpAnatomy:
    recalls: int
    cpu_ms: float  # this process's CPU per recall: client, ASGI app, hongbao and psycopg
    wall_ms: list[float]  # uncounted recalls, sorted
    statements: StatementCount


HTTP_SECRET = b"recall benchmark token secret, 32 bytes or more"


def http_sample(
    client: Any, tokens: dict[str, str], items: Sequence[tuple[int, PlannedPacket]]
) -> None:
    for index, item in items:
        answer = client.post(
            f"/v1/packets/{item.packet_id}/recalls",
            headers={
                "Authorization": f"Bearer {tokens[item.sender]}",
                "Idempotency-Key": recall_key("http", 0, index),
            },
        )
        if answer.status_code != 200 or answer.json().get("state") != "done":
            raise SystemExit(f"http anatomy: {item.packet_id}: {answer.status_code} {answer.text}")


def http_anatomy(
    database: Database,
    clock: BenchClock,
    policies: PolicyStore,
    planned: Sequence[tuple[int, PlannedPacket]],
) -> HttpAnatomy:
    """Recalls posted to the HTTP route in this process: plain, then with statements counted."""
    from fastapi.testclient import TestClient  # noqa: PLC0415 - only this pass

    from hongbao.bootstrap import services_for  # noqa: PLC0415
    from hongbao.entrypoints.http.app import create_app  # noqa: PLC0415
    from hongbao.entrypoints.http.auth.tokens import Role, TokenSigner  # noqa: PLC0415
    from hongbao.entrypoints.http.context import ApiContext, ApiSettings  # noqa: PLC0415
    from hongbao.entrypoints.ops.operations import OperationsSettings  # noqa: PLC0415

    progress("anatomy of a recall over HTTP (one process, the app in process) ...")
    settings = ApiSettings(
        operations=OperationsSettings(
            user_rate_per_second=1_000_000.0,
            user_burst=1_000_000,
            device_rate_per_second=1_000_000.0,
            device_burst=1_000_000,
            backlog_refresh_seconds=0.0,
        )
    )
    services = services_for(
        database, clock, policies=policies, provider=SimulatedProvider(SIMULATOR_KEY)
    )
    context = ApiContext(services, TokenSigner(HTTP_SECRET), settings)
    tokens: dict[str, str] = {}
    for _index, item in planned:
        if item.sender not in tokens:
            phone = phone_of(item.sender)
            tokens[item.sender], _ = context.signer.issue(
                item.sender,
                Role.USER,
                now_us=clock.now_us(),
                lifetime_seconds=3_600,
                device=(phone.device_id, phone.sim_id),
            )
    sample = (len(planned) - ANATOMY_WARMUP) // 2
    with TestClient(create_app(context), raise_server_exceptions=True) as client:
        http_sample(client, tokens, planned[:ANATOMY_WARMUP])  # device labels, caches
        plain = planned[ANATOMY_WARMUP : ANATOMY_WARMUP + sample]
        wall_ms = []
        cpu_began = time.process_time()
        for item in plain:
            began = time.perf_counter()
            http_sample(client, tokens, [item])
            wall_ms.append((time.perf_counter() - began) * 1_000)
        cpu_ms = (time.process_time() - cpu_began) / sample * 1_000
        with counting_statements() as (statements, waited):
            http_sample(client, tokens, planned[ANATOMY_WARMUP + sample :])
    counted = len(planned) - ANATOMY_WARMUP - sample
    return HttpAnatomy(sample, cpu_ms, sorted(wall_ms), StatementCount(counted, statements, waited))


def recall_sample(service: RecallService, items: Sequence[tuple[int, PlannedPacket]]) -> None:
    for index, item in items:
        command = RecallCommand(
            recall_key("an", 0, index), item.packet_id, item.sender, phone_of(item.sender)
        )
        if service.recall(command).recall.state is not RecallState.DONE:
            raise SystemExit(f"anatomy: {command.idempotency_key} not done")


def anatomy(options: Options, offset_us: int) -> Anatomy:
    """One process on a fresh PostgreSQL database: plain recalls, then the same with each part
    timed, then with every statement counted (the wrappers cost a little; each runs alone)."""
    progress("anatomy of a recall on PostgreSQL (one process) ...")
    url = fresh_database_url("postgresql", options, Path(), "anatomy")
    clock = BenchClock(offset_us)
    since_us = clock.now_us() - 30 * DAY_US
    base_setup(url, clock, since_us)
    sample = ANATOMY_SAMPLE
    config = WorkerConfig(
        url,
        "an",
        0,
        ANATOMY_WARMUP + 3 * sample + (ANATOMY_WARMUP + 2 * sample if options.http_anatomy else 0),
        options.recalls_per_user,
        1,
        offset_us,
        since_us,
        0.0,
        0.0,
    )
    database = open_database(url, pool_size=1)
    try:
        planned = list(enumerate(setup_worker(database, clock, config)))
        if options.analyze:
            analyze_postgres(url)
        service = RecallService(
            database, clock, PacketService(database, clock), recall_policy(config.recalls_per_user)
        )
        recall_sample(service, planned[:ANATOMY_WARMUP])  # prepared statements, caches
        plain = planned[ANATOMY_WARMUP : ANATOMY_WARMUP + sample]
        wall_ms = []
        cpu_began = time.process_time()
        for item in plain:
            began = time.perf_counter()
            recall_sample(service, [item])
            wall_ms.append((time.perf_counter() - began) * 1_000)
        cpu_ms = (time.process_time() - cpu_began) / sample * 1_000
        with timing_phases() as phases:
            recall_sample(service, planned[ANATOMY_WARMUP + sample : ANATOMY_WARMUP + 2 * sample])
        with counting_statements() as (statements, waited):
            recall_sample(
                service, planned[ANATOMY_WARMUP + 2 * sample : ANATOMY_WARMUP + 3 * sample]
            )
        http = None
        if options.http_anatomy:
            http = http_anatomy(
                database,
                clock,
                recall_policy(config.recalls_per_user),
                planned[ANATOMY_WARMUP + 3 * sample :],
            )
        ledger_ok = (
            Ledger(database, clock).verify().ok and PacketService(database, clock).verify().ok
        )
        if not ledger_ok:
            raise SystemExit("anatomy: invariants broken after the sample")
    finally:
        database.close()
    return Anatomy(
        sample, sorted(wall_ms), cpu_ms, phases, StatementCount(sample, statements, waited), http
    )


# ------------------------------------------------------------------------------ report


def database_name(url: str) -> str:
    return str(conninfo_to_dict(url).get("dbname", ""))


def print_header(options: Options, settings: dict[str, str] | None, offset_us: int) -> None:
    print("# Recall benchmark")
    print()
    print(f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"- command: `{shlex.join(sys.orig_argv)}`")
    print(f"- machine: nproc={os.cpu_count()}, {platform.machine()}, {platform.platform()}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"- load average at start: {load}")
    print(f"- python: {platform.python_version()} ({platform.python_implementation()})")
    print(f"- source: {source_state()}")
    if settings is not None:
        described = ", ".join(f"{name}={value}" for name, value in settings.items())
        print(f"- PostgreSQL: {described}")
    print(
        f"- recalls: {options.warmup:g} s warm-up, {options.seconds:g} s measured; worker "
        f"processes, each with its own database (pool_size={options.pool_size}); fresh database "
        f"per run; packets sent during setup cover {options.ceiling:g} recalls/s (a worker up to "
        f"{FAIRNESS_MARGIN}x its share); "
        f"{options.recalls_per_user} packets per sender, recalled round-robin; personal and "
        f"group_normal ({GROUP_SHARES} shares) alternately, {MIN_PACKET_MINOR / 100:.2f} to "
        f"{MAX_PACKET_MINOR / 100:.2f} CNY, balance-funded, unclaimed"
    )
    print("- policy: default, except class I asks for no SMS code (version bench@1)")
    if offset_us:
        print(
            f"- clock: system time {offset_us / HOUR_US:+g} h, so that no run reaches the "
            "23:50-00:10 Asia/Shanghai settlement blackout (R-T3), where recalls are refused"
        )
    analyzed = "ANALYZE after setup" if options.analyze else "no ANALYZE"
    print(f"- PostgreSQL database: fresh schema per run, {analyzed}")
    print("- SQLite: file in a temp dir, WAL, synchronous=FULL (the adapter's settings)")
    print()


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def print_evaluation(result: EvaluationResult) -> None:
    mix = ", ".join(
        f"{name} {count / result.snapshots:.0%}" for name, count in sorted(result.mix.items())
    )
    print("## Policy evaluation alone (`evaluate(facts, policy, id)`, no I/O)")
    print()
    print(
        f"{result.evaluations:,} evaluations, one process, over {result.snapshots:,} distinct "
        f"snapshots of {result.cases} cases ({mix}); default policy, all {len(RULES)} rules; "
        f"perf_counter_ns overhead {result.timer_overhead_ns:.0f} ns (not subtracted)."
    )
    print()
    print("| measure | µs |")
    print("|---|---:|")
    print(f"| mean (each call timed) | {result.mean_us:.1f} |")
    print(f"| mean (batch-timed) | {result.batch_mean_us:.1f} |")
    print(f"| p50 | {result.p50_us:.1f} |")
    print(f"| p99 | {result.p99_us:.1f} |")
    print(f"| p99.9 | {result.p999_us:.1f} |")
    print(f"| max | {result.max_us:.1f} |")
    for name, (p50, p99) in result.by_result.items():
        print(f"| {name}: p50 / p99 | {p50:.1f} / {p99:.1f} |")
    print()
    slowest = "; ".join(f"{name} {p99:.1f} µs" for name, p99 in result.slowest_cases)
    print(f"Slowest cases by p99: {slowest}.")
    print()
    rules = sum(mean for _, mean in result.rule_means)
    print(
        "Where the time goes (each rule's check alone, batch-timed over the same snapshots, "
        "less the loop's own cost): "
        f"the {len(result.rule_means)} rules {rules:.1f} µs, the engine around them "
        f"{result.batch_mean_us - rules:.1f} µs."
    )
    print()
    print("| rule | µs |")
    print("|---|---:|")
    for name, mean in result.rule_means:
        print(f"| {name} | {mean:.1f} |")
    print()
    print(
        f"Target p99 ≤ {EVALUATION_TARGET_P99_US:g} µs: **{_verdict(result.met)}** "
        f"({result.p99_us:.1f} µs)."
    )
    print()


def _format_counts(counts: Counter[str]) -> str:
    return ", ".join(f"{name}={count}" for name, count in sorted(counts.items())) or "-"


def print_recalls(results: list[RunResult]) -> None:
    print("## Full recall (`RecallService.recall`, one transaction)")
    print()
    print(
        "Latency is per call, measured in the worker; client CPU is the worker's own CPU time "
        "per recall (Python, psycopg, and for SQLite the database engine too)."
    )
    print()
    print(
        "| backend | workers | recalls/s | p50 ms | p90 ms | p99 ms | max ms | client CPU ms | "
        "recalls | per worker min-max | states | setup s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in results:
        out = f" ({r.ran_out} ran out)" if r.ran_out else ""
        print(
            f"| {r.backend} | {r.workers} | {r.recalls_per_second:,.0f}{out} | {r.p50_ms:.2f} | "
            f"{r.p90_ms:.2f} | {r.p99_ms:.2f} | {r.max_ms:.1f} | {r.client_cpu_ms:.2f} | "
            f"{r.recalls:,} | {min(r.per_worker):,}-{max(r.per_worker):,} | "
            f"{_format_counts(r.states)} | {r.setup_seconds:.0f} |"
        )
    print()
    for r in results:
        if r.backend == "postgresql" and r.workers == TARGET_WORKERS:
            print(
                f"Target p99 < {RECALL_TARGET_P99_MS:g} ms on PostgreSQL with {r.workers} "
                f"workers: **{_verdict(r.p99_ms < RECALL_TARGET_P99_MS)}** ({r.p99_ms:.2f} ms)."
            )
            print()
    if any(r.ran_out for r in results):
        print(
            '"ran out": that many workers recalled all their packets before the time was up '
            "and stopped, so the others finished with less competition; raise --ceiling."
        )
        print()


def print_verification(results: list[RunResult]) -> None:
    print("## Checks after each run")
    print()
    for r in results:
        mark = "hold" if r.verified_ok else "BROKEN"
        print(f"- {r.backend} workers={r.workers}: {mark}: {r.verified}")
    print()
    print(f"All checks hold: {'yes' if all(r.verified_ok for r in results) else 'NO'}")
    print()


def print_anatomy(result: Anatomy) -> None:
    wall = result.wall_ms
    mean = sum(wall) / len(wall)
    print("## Anatomy of one recall on PostgreSQL (one process, no other worker)")
    print()
    print(
        f"{result.recalls} plain recalls after {ANATOMY_WARMUP} unmeasured ones: mean "
        f"{mean:.2f} ms, p50 {percentile(wall, 0.5):.2f} ms, p99 {percentile(wall, 0.99):.2f} ms; "
        f"this process's CPU {result.cpu_ms:.2f} ms a recall, so about {mean - result.cpu_ms:.2f} "
        "ms waiting for PostgreSQL (its work, the round trips and the scheduler)."
    )
    print()
    print(
        f"Then {result.recalls} more with each part wrapped in a wall-clock and CPU timer "
        "(mean per recall; the wrappers add a few µs):"
    )
    print()
    print("| part | calls | wall ms | CPU ms | waiting ms |")
    print("|---|---:|---:|---:|---:|")
    for phase in result.phases:
        wall_ms = phase.wall_ns / result.recalls / 1e6
        cpu_ms = phase.cpu_ns / result.recalls / 1e6
        label = phase.label.replace("  of which", "↳")
        print(
            f"| {label} | {phase.calls / result.recalls:.0f} | {wall_ms:.3f} | {cpu_ms:.3f} | "
            f"{wall_ms - cpu_ms:.3f} |"
        )
    print()
    count = result.statements
    total = sum(count.statements.values())
    print(
        f"Then {count.recalls} more with psycopg wrapped: {count.per_recall(total):.1f} "
        f"statements and {count.per_recall(count.round_trips):.1f} round trips a recall "
        "(pipeline mode: BEGIN and writes travel with the next statement; a round trip is a "
        "read of a result not yet arrived, or the commit)."
    )
    print()
    print_statements(count)
    if result.http is not None:
        print_http_anatomy(result.http)


def print_statements(count: StatementCount) -> None:
    """The statements counted, most frequent first; the commit (not a cursor's) last."""
    print("| per recall | waited for | statement |")
    print("|---:|---:|---|")
    for statement, executions in count.statements.most_common():
        shown = statement.replace("|", "\\|")
        waits = count.per_recall(count.waited[statement])
        print(f"| {count.per_recall(executions):.2f} | {waits:.2f} | `{shown}` |")
    print("| 1.00 | 1.00 | `COMMIT` |")
    print()


def print_http_anatomy(result: HttpAnatomy) -> None:
    wall = result.wall_ms
    mean = sum(wall) / len(wall)
    count = result.statements
    total = sum(count.statements.values())
    print("### The whole HTTP path (`POST /v1/packets/{id}/recalls`, the app in process)")
    print()
    print(
        f"{result.recalls} recalls posted through the test client after {ANATOMY_WARMUP} "
        f"unmeasured ones: mean {mean:.2f} ms, p50 {percentile(wall, 0.5):.2f} ms, p99 "
        f"{percentile(wall, 0.99):.2f} ms; this process's CPU (client, app, hongbao, psycopg) "
        f"{result.cpu_ms:.2f} ms a recall. Then {count.recalls} more with psycopg wrapped: "
        f"{count.per_recall(total):.1f} statements and {count.per_recall(count.round_trips):.1f} "
        "round trips a recall (token revocation, caller checks and Idempotency-Key included)."
    )
    print()
    print_statements(count)


# ------------------------------------------------------------------------------ main


def prepare_postgres(options: Options) -> dict[str, str] | None:
    if "postgresql" not in options.backends:
        return None
    name = database_name(options.database_url)
    if "bench" not in name:
        raise SystemExit(f"refusing to wipe database {name!r}: its name must contain 'bench'")
    ensure_database(options.database_url, name)
    return server_settings(options.database_url)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    settings = prepare_postgres(options)
    offset_us = clock_offset_us(SystemClock().now_us())
    print_header(options, settings, offset_us)
    if options.evaluations:
        progress(f"timing {options.evaluations:,} evaluations ...")
        print_evaluation(run_evaluations(options.evaluations))
    results = []
    with tempfile.TemporaryDirectory(prefix="hongbao-recall-bench-") as scratch:
        for backend in options.backends:
            for workers in options.workers:
                results.append(run_one(backend, workers, options, Path(scratch), offset_us))
    if results:
        print_recalls(results)
        print_verification(results)
    if "postgresql" in options.backends and options.anatomy:
        print_anatomy(anatomy(options, offset_us))
    return 0 if all(r.verified_ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
