"""HTTP load benchmark: wrk against ``hongbao serve`` on PostgreSQL (claims, sends, recalls).

Run from the project root, with wrk installed (``make bench-deps``)::

    .venv/bin/python benchmarks/http_bench.py --seconds 10

It wipes and migrates the PostgreSQL database of ``--database-url`` (its name must contain
``bench``), writes a policy file (the default policy, except that class I recalls ask for no
SMS code and group lucky packets may hold ``--hot-shares`` shares, so one hot packet outlasts
a run) and prepares, through the Python services (``hongbao.bootstrap.open_services``) in a
few processes: claimers, senders and recallers, each with a phone and a bearer token bound to
it (signed with the server's secret), balances funded by ledger top-ups, a series of hot
packets, many open group lucky packets of 100 shares, and for every recall run its own
packets (personal and group_normal alternately, 1.00 to 200.00, each recaller at most
``--recalls-per-user`` a day). Then it starts ``hongbao serve --workers N`` on a free port and
``hongbao worker`` processes beside it, and drives wrk (not Python) with the Lua scripts of
``benchmarks/wrk`` through the scenarios:

- ``hot``: claims on one hot packet, each request another claimer (round-robin); the next
  packet of the series when it is empty;
- ``spread``: claims on a random one of the open packets, each request another claimer;
- ``send``: group lucky packets of 10 shares from senders taken round-robin;
- ``recall``: every recall packet recalled once by its sender, from the sending phone;
- ``mix``: 12 spread claims, 3 sends, 2 recalls and 3 reads in every 20 requests.

Every POST carries a unique Idempotency-Key made in Lua. Each scenario runs ``--warmup``
seconds unmeasured, then ``--seconds`` measured. wrk's latency histogram gives p50/p90/p99/max;
the Lua ``response()`` hook counts statuses (with the error code of every non-2xx) and the
``result``/``state`` of each body, and ``done()`` prints them.

After every measured run the database must agree with what wrk was told: the claimed shares,
the packets and the recalled packets grew by at least the claims, sends and recalls answered
as done, and by at most that plus the connections (requests in flight when wrk stops are
carried out, their answers never read). A run also fails on any 5xx (503 ``api.overloaded`` is
admission control shedding load: its limits are settings) and on socket errors or timeouts.
At the end ``hongbao ledger verify`` must be clean. Any failure exits non-zero.

Cost is CPU per request across every process (API, workers, PostgreSQL backends, wrk) over
the CPU of one pgbench TPC-B transaction (16 clients) run on the same server just before and
after the scenarios: the machine's speed drifts during a day, the ratio much less.

The output is Markdown for ``benchmarks/RESULTS.md``: the date, the exact command, the
machine, every wrk command, the figures and the targets, each met or not met.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psycopg

import hongbao.policy
from hongbao.bootstrap import POLICY_VARIABLE, open_services
from hongbao.entrypoints.http.auth.tokens import Role, TokenSigner
from hongbao.entrypoints.ops.operations import OperationsSettings
from hongbao.identity.devices import Device, FormFactor, Platform, VendorSkin
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import SystemClock
from hongbao.platform.limits import MAX_BATCH_SIZE, MAX_SPLIT_PARTS
from hongbao.policy.document import DEFAULT_POLICY, Policy, parse_policy
from hongbao.recall.calendar import blackout_reopens_at
from hongbao.social.groups import Group, GroupMember, GroupType
from ledger_bench import (
    analyze_postgres,
    ensure_database,
    reset_postgres,
    run_pgbench,
    server_settings,
)
from packets_bench import _chunks, _require, in_processes, new_user, progress, source_state
from recall_bench import balance_account, database_name, phone_of

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/hongbao_http_bench"
SCENARIOS = ("hot", "spread", "send", "recall", "mix")
LABELS = {
    "hot": "claim, one hot packet",
    "spread": "claim, spread over many packets",
    "send": "send",
    "recall": "recall",
    "mix": "mix (12 claims, 3 sends, 2 recalls, 3 reads in 20)",
}
SCRIPTS = {
    "hot": "claim_hot.lua",
    "spread": "claim_spread.lua",
    "send": "send.lua",
    "recall": "recall.lua",
    "mix": "mix.lua",
}
WRK_DIR = Path(__file__).resolve().parent / "wrk"
# Shares of the mix's 20-request cycle (benchmarks/wrk/mix.lua).
MIX_CLAIMS, MIX_RECALLS, MIX_CYCLE = 12, 2, 20
RECALL_SCENARIOS = ("recall", "mix")
CLAIM_SCENARIOS = ("hot", "spread", "mix")
SEND_SCENARIOS = ("send", "mix")

# Targets on this machine, load generator included. Rates drift with the machine's speed, so
# the cost targets are CPU per request over the CPU of one pgbench TPC-B transaction measured
# in the same run; the latency targets are closed-loop p99s at the stated connections.
TARGET_TPCB_RATIO = {"hot": 1.2, "spread": 1.2, "send": 4.0, "recall": 5.0}
TARGET_P99_MS = 50.0
TARGET_CONNECTIONS = {"hot": 64, "spread": 64, "send": 16, "recall": 16}
# pgbench's reference run: TPC-B-like, 16 clients, its CPU taken as the whole machine's.
PGBENCH_REFERENCE_CLIENTS = 16

CURRENCY = "CNY"
HOST = "127.0.0.1"
BANK_ID = "bench-bank"
OWNER_ID = "bench-owner"
RECIPIENT_ID = "bench-recipient"
CLAIM_GROUP = "bench-claim-group"
RECALL_GROUP = "bench-recall-group"
TOP_UP_CODE = 1
RICH_MINOR = 1_000_000_000  # ten million yuan: senders and funders never run short
SHARE_MINOR = 100  # claim packets hold one yuan a share on average (a lucky split)
SPREAD_SHARES = 100  # the product's limit for group packets
RECALL_GROUP_SHARES = 5
MIN_RECALL_MINOR, MAX_RECALL_MINOR = 1_00, 200_00  # face verification is asked above 200.00
CLASS_I_DAILY_RECALLS = 5  # the default policy's daily count for class I
FUNDERS = 4  # senders of the claim packets, one setup process each
RECALLERS_PER_BATCH = 100
SINCE_SECONDS = 365 * 24 * 3600  # users registered a year ago: no new-account rules
TOKEN_LIFETIME_SECONDS = 6 * 3600
STARTUP_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0
WRK_MARGIN_SECONDS = 60.0
SETTLE_INTERVAL_SECONDS = 0.5
SETTLE_TIMEOUT_SECONDS = 60.0
VERIFY_TIMEOUT_SECONDS = 1_800.0
BLACKOUT_MARGIN_SECONDS = 120.0
POLL_SECONDS = 0.25
LOG_TAIL_LINES = 40
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class Options:
    seconds: float
    warmup: float
    scenarios: list[str]
    connections: int
    money_connections: int
    threads: int
    timeout: float
    api_workers: int
    bg_workers: int
    claimers: int
    senders: int
    hot_shares: int
    spread_packets: int | None
    claim_ceiling: float
    recall_ceiling: float
    mix_ceiling: float
    recalls_per_user: int
    server_env: dict[str, str]
    analyze: bool
    database_url: str
    pgbench_seconds: float

    def connections_for(self, scenario: str) -> int:
        """Sends and recalls run at the money path's own connection count."""
        return self.money_connections if scenario in ("send", "recall") else self.connections


def _scenario_list(text: str) -> list[str]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(values) - set(SCENARIOS)
    if not values or unknown:
        raise argparse.ArgumentTypeError(f"scenarios are some of {','.join(SCENARIOS)}")
    return [name for name in SCENARIOS if name in values]


def _environment_entry(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.startswith("HONGBAO_"):
        raise argparse.ArgumentTypeError(f"expected HONGBAO_NAME=VALUE, got {text!r}")
    return name, value


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--seconds", type=float, default=10.0, help="measured time per scenario")
    add("--warmup", type=float, default=2.0, help="unmeasured time per scenario (0: none)")
    add("--scenarios", type=_scenario_list, default=list(SCENARIOS), help=",".join(SCENARIOS))
    add("--connections", type=int, default=64, help="wrk connections (-c): claims and mix")
    add("--money-connections", type=int, default=16, help="wrk connections (-c): send, recall")
    add("--threads", type=int, default=2, help="wrk threads (-t)")
    add("--timeout", type=float, default=10.0, help="wrk request timeout, seconds")
    add("--api-workers", type=int, default=2, help="hongbao serve --workers")
    add("--bg-workers", type=int, default=1, help="hongbao worker processes beside the API")
    add("--claimers", type=int, default=2_500, help="distinct claimers (group members)")
    add("--senders", type=int, default=400, help="distinct senders of the send runs")
    add("--hot-shares", type=int, default=2_000, help="shares of each hot packet")
    add("--spread-packets", type=int, default=None, help="open packets (default: from ceilings)")
    add("--claim-ceiling", type=float, default=3_000.0, help="claims/s the hot packets cover")
    add("--recall-ceiling", type=float, default=400.0, help="recalls/s the recall packets cover")
    add("--mix-ceiling", type=float, default=1_500.0, help="requests/s the mix's data covers")
    add("--recalls-per-user", type=int, default=4, help="recall packets per recaller")
    add(
        "--server-env",
        type=_environment_entry,
        action="append",
        default=[],
        help="HONGBAO_NAME=VALUE for the server and workers (limits: HONGBAO_USER_RATE, ...)",
    )
    add(
        "--analyze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ANALYZE after setup, as autovacuum would on a live database",
    )
    add("--database-url", default=DEFAULT_DATABASE_URL)
    add(
        "--pgbench-seconds",
        type=float,
        default=10.0,
        help="TPC-B reference run before and after the scenarios, seconds each (0: none)",
    )
    args = parser.parse_args(argv)
    _validate(parser, args)
    return Options(
        seconds=args.seconds,
        warmup=args.warmup,
        scenarios=args.scenarios,
        connections=args.connections,
        money_connections=args.money_connections,
        threads=args.threads,
        timeout=args.timeout,
        api_workers=args.api_workers,
        bg_workers=args.bg_workers,
        claimers=args.claimers,
        senders=args.senders,
        hot_shares=args.hot_shares,
        spread_packets=args.spread_packets,
        claim_ceiling=args.claim_ceiling,
        recall_ceiling=args.recall_ceiling,
        mix_ceiling=args.mix_ceiling,
        recalls_per_user=args.recalls_per_user,
        server_env=dict(args.server_env),
        analyze=args.analyze,
        database_url=args.database_url,
        pgbench_seconds=args.pgbench_seconds,
    )


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not 0 < args.seconds <= 3_600 or not 0 <= args.warmup <= 600:
        parser.error("--seconds is 0 to 3600 (exclusive), --warmup 0 to 600")
    for connections in (args.connections, args.money_connections):
        if args.threads < 1 or connections < args.threads or connections % args.threads:
            parser.error("--connections and --money-connections are multiples of --threads")
    if not 0 <= args.pgbench_seconds <= 600:
        parser.error("--pgbench-seconds is 0 to 600")
    if not 1 <= args.recalls_per_user <= CLASS_I_DAILY_RECALLS:
        parser.error(f"--recalls-per-user is 1 to {CLASS_I_DAILY_RECALLS} (class I's day)")
    if not SPREAD_SHARES <= args.hot_shares <= min(MAX_SPLIT_PARTS, args.claimers):
        parser.error(
            f"--hot-shares is {SPREAD_SHARES} to {MAX_SPLIT_PARTS} and at most --claimers (a hot "
            "packet's claims are all by distinct users)"
        )
    counts = (args.claimers, args.senders, args.api_workers, args.bg_workers + 1)
    if min(counts) < 1 or max(args.claimers, args.senders) > 100_000:
        parser.error("--claimers and --senders are 1 to 100000, --*-workers at least 1 (bg: 0)")
    ceilings = (args.claim_ceiling, args.recall_ceiling, args.mix_ceiling)
    if min(ceilings) <= 0 or max(ceilings) > 100_000 or args.timeout <= 0:
        parser.error("--*-ceiling are 0 to 100000 (exclusive), --timeout positive")


# ------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class RecallPacket:
    packet_id: str
    sender: str


@dataclass(frozen=True)
class Plan:
    """Who and what the setup creates (names only; tokens come later)."""

    claimers: list[str]
    senders: list[str]
    funders: list[str]
    recallers: dict[str, list[str]]  # recall scenario -> its recallers
    hot_packets: list[str]  # warm-up first
    spread_packets: list[str]
    recall_packets: dict[str, list[RecallPacket]]  # in recall order, warm-up first
    warmup_hot: int  # how many hot packets the warm-up gets (the measured run starts afresh)
    warmup_recalls: dict[str, int]  # how many recall packets the warm-up gets

    def segment(self, scenario: str, warmup: bool) -> tuple[list[str], list[RecallPacket]]:
        """The hot packets and the recall packets of the warm-up or of the measured run."""
        recalls = self.recall_packets.get(scenario, [])
        split = self.warmup_recalls.get(scenario, 0)
        if warmup:
            return self.hot_packets[: self.warmup_hot], recalls[:split]
        return self.hot_packets[self.warmup_hot :], recalls[split:]


def _round_up(value: int, multiple: int) -> int:
    return math.ceil(value / multiple) * multiple


def _hot_packets(options: Options, seconds: float) -> int:
    """Enough hot packets for ``--claim-ceiling`` claims/s, and one more."""
    if seconds <= 0:
        return 0
    return math.ceil(options.claim_ceiling * seconds / options.hot_shares) + 1


def make_plan(options: Options) -> Plan:
    span = options.warmup + options.seconds
    wanted = set(options.scenarios)
    claim_rate = options.claim_ceiling if wanted & {"hot", "spread"} else 0.0
    mix_claims = options.mix_ceiling * MIX_CLAIMS / MIX_CYCLE if "mix" in wanted else 0.0
    hot_warmup = _hot_packets(options, options.warmup) if "hot" in wanted else 0
    hot = hot_warmup + _hot_packets(options, options.seconds) if "hot" in wanted else 0
    spread = options.spread_packets or math.ceil(
        2 * (claim_rate + mix_claims) * span / SPREAD_SHARES
    )
    rates = {"recall": options.recall_ceiling, "mix": options.mix_ceiling * MIX_RECALLS / MIX_CYCLE}
    recallers, packets, warmups = {}, {}, {}
    for scenario in RECALL_SCENARIOS:
        if scenario in wanted:
            warmups[scenario] = math.ceil(rates[scenario] * options.warmup)
            total = warmups[scenario] + math.ceil(rates[scenario] * options.seconds)
            count = _round_up(math.ceil(total / options.recalls_per_user), options.threads)
            recallers[scenario] = [f"hr-{scenario}-{index:05d}" for index in range(count)]
            packets[scenario] = [
                RecallPacket(f"rp-{scenario}-{index:06d}", recallers[scenario][index % count])
                for index in range(total)
            ]
    return Plan(
        claimers=[f"hc-{index:05d}" for index in range(options.claimers)],
        senders=[f"hs-{index:05d}" for index in range(options.senders)],
        funders=[f"hf-{index}" for index in range(FUNDERS)],
        recallers=recallers,
        hot_packets=[f"hot-{index:04d}" for index in range(hot)],
        spread_packets=[f"spread-{index:05d}" for index in range(max(spread, 1))],
        recall_packets=packets,
        warmup_hot=hot_warmup,
        warmup_recalls=warmups,
    )


# ------------------------------------------------------------------------------ policy


def bench_policy_text(hot_shares: int) -> str:
    """The default policy, renamed, with class I recalls asking for no SMS code and group lucky
    packets of up to ``hot_shares`` shares. Each edit must hit its line exactly once."""
    source = Path(hongbao.policy.__file__).with_name(DEFAULT_POLICY).read_text()
    edits = {
        (None, 'name = "default"'): 'name = "http-bench"',
        ("[recall.tiers.class_i]", 'verification = ["sms_code"]'): "verification = []",
        ("[packets.types.group_lucky]", "max_shares = 100"): f"max_shares = {hot_shares}",
    }
    done: Counter[tuple[str | None, str]] = Counter()
    section: str | None = None
    lines = []
    for line in source.splitlines():
        if line.startswith("["):
            section = line.split("#")[0].strip()
        key = (section, line.strip())
        if key in edits:
            done[key] += 1
        lines.append(edits.get(key, line))
    _require(all(done[key] == 1 for key in edits), "edit the default policy (has it changed?)")
    return "\n".join(lines) + "\n"


def write_policy(scratch: Path, hot_shares: int) -> tuple[Path, Policy]:
    text = bench_policy_text(hot_shares)
    policy = parse_policy(text.encode(), source="http-bench policy")
    _require(policy.recall.tiers.class_i.verification == (), "turn off class I's SMS check")
    _require(
        policy.packets.limits(PacketType.GROUP_LUCKY).max_shares == hot_shares,
        "raise the group lucky share limit",
    )
    path = scratch / "http-bench-policy.toml"
    path.write_text(text)
    return path, policy


# ------------------------------------------------------------------------------ setup


def base_setup(url: str, since_us: int) -> None:
    """The bank, the group owner, the recipient of personal packets and the two groups."""
    services = open_services(url)
    try:
        identity = services.identity
        social = services.social
        for user in (OWNER_ID, RECIPIENT_ID):
            identity.register_user(new_user(user, since_us))
        for group, kind in (
            (CLAIM_GROUP, GroupType.ENTERTAINMENT),
            (RECALL_GROUP, GroupType.FAMILY),
        ):
            social.create_group(Group(group, group, kind, OWNER_ID, since_us))
        (opened,) = services.ledger.create_accounts(
            [NewAccount(BANK_ID, AccountKind.DEBIT_CARD, CURRENCY)]
        )
        _require(opened.succeeded, "open the bank account")
    finally:
        services.close()


def register_people(url: str, people: Sequence[tuple[str, str]], since_us: int) -> int:
    """Setup task: register each (user, group) with a phone and make them a group member."""
    services = open_services(url)
    try:
        identity = services.identity
        social = services.social
        for user, group in people:
            identity.register_user(new_user(user, since_us))
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
                    since_us,
                )
            )
            social.add_member(GroupMember(group, user, since_us))
    finally:
        services.close()
    return len(people)


def top_up(url: str, amounts: Sequence[tuple[str, int]]) -> None:
    services = open_services(url)
    try:
        requests = [
            TransferRequest(
                f"top-up:{user}", TOP_UP_CODE, minor, BANK_ID, balance_account(user), CURRENCY
            )
            for user, minor in amounts
        ]
        for chunk in _chunks(requests, MAX_BATCH_SIZE):
            results = services.ledger.create_transfers(list(chunk))
            _require(all(result.succeeded for result in results), "top up the balances")
    finally:
        services.close()


def send_all(url: str, commands: Sequence[SendPacket]) -> int:
    """Setup task: send ``commands`` in order (one sender's packets go to one task, so no two
    processes send from one balance at once)."""
    services = open_services(url)
    try:
        for command in commands:
            services.packets.send(command)
    finally:
        services.close()
    return sum(command.amount.minor for command in commands)


def claim_packets(plan: Plan, hot_shares: int) -> list[list[SendPacket]]:
    """The hot series and the open packets, by funder: one funder's packets in one batch."""
    by_funder: list[list[SendPacket]] = [[] for _ in plan.funders]
    wanted = [(pid, hot_shares) for pid in plan.hot_packets]
    wanted += [(pid, SPREAD_SHARES) for pid in plan.spread_packets]
    for index, (packet_id, shares) in enumerate(wanted):
        funder = plan.funders[index % len(plan.funders)]
        by_funder[index % len(plan.funders)].append(
            SendPacket(
                packet_id,
                PacketType.GROUP_LUCKY,
                funder,
                Money.of(shares * SHARE_MINOR, CURRENCY),
                shares,
                f"{funder}-balance",
                group_id=CLAIM_GROUP,
            )
        )
    return [commands for commands in by_funder if commands]


def recall_commands(packets: Sequence[RecallPacket], seed: str) -> list[SendPacket]:
    """Personal and group_normal packets alternately, 1.00 to 200.00, from the sender's phone."""
    rng = random.Random(seed)
    commands = []
    for index, packet in enumerate(packets):
        amount = Money.of(rng.randint(MIN_RECALL_MINOR, MAX_RECALL_MINOR), CURRENCY)
        source, phone = f"{packet.sender}-balance", phone_of(packet.sender)
        if index % 2:
            commands.append(
                SendPacket(
                    packet.packet_id,
                    PacketType.GROUP_NORMAL,
                    packet.sender,
                    amount,
                    RECALL_GROUP_SHARES,
                    source,
                    group_id=RECALL_GROUP,
                    device=phone,
                )
            )
        else:
            commands.append(
                SendPacket(
                    packet.packet_id,
                    PacketType.PERSONAL,
                    packet.sender,
                    amount,
                    1,
                    source,
                    recipient_id=RECIPIENT_ID,
                    device=phone,
                )
            )
    return commands


def _by_sender_batches(commands: list[SendPacket]) -> list[list[SendPacket]]:
    """Batches of whole senders (RECALLERS_PER_BATCH senders each)."""
    senders = sorted({command.sender_id for command in commands})
    batch_of = {sender: index // RECALLERS_PER_BATCH for index, sender in enumerate(senders)}
    batches: list[list[SendPacket]] = [[] for _ in range(max(batch_of.values(), default=-1) + 1)]
    for command in commands:
        batches[batch_of[command.sender_id]].append(command)
    return batches


def setup_url(url: str) -> str:
    """The database for setup sessions only: commits that do not wait for the disk (the data
    is the same; the server and the workers use ``url`` and the server's settings)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote('-csynchronous_commit=off')}"


def run_setup(database_url: str, plan: Plan, options: Options) -> float:
    """Everything the scenarios need, in the database; returns the seconds it took."""
    began = time.perf_counter()
    url = setup_url(database_url)
    since_us = SystemClock().now_us() - SINCE_SECONDS * 1_000_000
    base_setup(url, since_us)
    people = [(user, CLAIM_GROUP) for user in plan.claimers + plan.senders + plan.funders]
    people += [(user, RECALL_GROUP) for users in plan.recallers.values() for user in users]
    batches = [(url, chunk, since_us) for chunk in _chunks(people)]
    in_processes("postgresql", register_people, batches, "people")
    recall_top_up = options.recalls_per_user * MAX_RECALL_MINOR
    amounts = [(user, RICH_MINOR) for user in plan.senders + plan.funders]
    amounts += [(user, recall_top_up) for users in plan.recallers.values() for user in users]
    top_up(url, amounts)
    claim_batches = [(url, commands) for commands in claim_packets(plan, options.hot_shares)]
    in_processes("postgresql", send_all, claim_batches, "claim packets")
    recalls = [
        command
        for scenario, packets in plan.recall_packets.items()
        for command in recall_commands(packets, scenario)
    ]
    recall_batches = [(url, batch) for batch in _by_sender_batches(recalls)]
    in_processes("postgresql", send_all, recall_batches, "recall packets")
    if options.analyze:
        analyze_postgres(database_url)
    return time.perf_counter() - began


# ------------------------------------------------------------------------------ tokens, data


def issue_tokens(signer: TokenSigner, users: Sequence[str]) -> dict[str, str]:
    now_us = SystemClock().now_us()
    tokens = {}
    for user in users:
        phone = phone_of(user)
        tokens[user], _ = signer.issue(
            user,
            Role.USER,
            now_us=now_us,
            lifetime_seconds=TOKEN_LIFETIME_SECONDS,
            device=(phone.device_id, phone.sim_id),
        )
    return tokens


def data_lines(scenario: str, plan: Plan, tokens: dict[str, str], warmup: bool) -> list[str]:
    """The records of one wrk run (see benchmarks/wrk/common.lua for the format)."""
    hot, recalls = plan.segment(scenario, warmup)
    lines = []
    if scenario in CLAIM_SCENARIOS:
        lines += [f"claimer\t{tokens[user]}" for user in plan.claimers]
    if scenario == "hot":
        lines += [f"hot\t{packet}" for packet in hot]
    if scenario in ("spread", "mix"):
        lines += [f"packet\t{packet}" for packet in plan.spread_packets]
    if scenario in SEND_SCENARIOS:
        lines += [f"sender\t{user}\t{tokens[user]}" for user in plan.senders]
        lines.append(f"group\t{CLAIM_GROUP}")
    if scenario in RECALL_SCENARIOS:
        lines += [f"recall\t{item.packet_id}\t{tokens[item.sender]}" for item in recalls]
    return lines


def write_data(scratch: Path, name: str, lines: list[str]) -> Path:
    path = scratch / f"{name}.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------------------ processes


@dataclass
class Service:
    base_url: str
    log_path: Path
    environment: dict[str, str]
    api_pid: int  # hongbao serve (the uvicorn supervisor; its worker processes are its children)
    worker_pids: list[int]


def hongbao_command() -> str:
    beside = Path(sys.executable).with_name("hongbao")
    found = str(beside) if beside.exists() else shutil.which("hongbao")
    if found is None:
        raise SystemExit("hongbao is not installed: pip install -e . first")
    return found


def wrk_command() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: run `make bench-deps`")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a graceful stop), then SIGKILL to the process group it leads."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT_SECONDS)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(base_url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"hongbao serve exited ({server.returncode}):\n{log_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=2) as answer:  # noqa: S310 - our own server on 127.0.0.1
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"hongbao serve did not answer in {STARTUP_TIMEOUT_SECONDS:g} s")


@contextmanager
def running_service(
    url: str, options: Options, environment: dict[str, str], scratch: Path
) -> Iterator[Service]:
    """``hongbao serve --workers N`` on a free port and ``hongbao worker`` processes."""
    hongbao, port = hongbao_command(), free_port()
    base_url = f"http://{HOST}:{port}"
    log_path = scratch / "serve.log"
    serve = [
        hongbao,
        "serve",
        "--database-url",
        url,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(options.api_workers),
    ]
    processes: list[subprocess.Popen[bytes]] = []
    with log_path.open("wb") as log:
        try:
            processes.append(
                subprocess.Popen(
                    serve,
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            for _ in range(options.bg_workers):
                processes.append(
                    subprocess.Popen(
                        [hongbao, "worker", "--database-url", url],
                        env=environment,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            _wait_ready(base_url, processes[0], log_path)
            pids = [process.pid for process in processes]
            yield Service(base_url, log_path, environment, pids[0], pids[1:])
        finally:
            for process in processes:
                _stop(process)


# ------------------------------------------------------------------------------ wrk


@dataclass
class WrkRun:
    command: str
    requests: int = 0
    duration_s: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    tallies: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    ran_out: int = 0

    def per_second(self, count: int) -> float:
        return count / self.duration_s if self.duration_s else 0.0

    def count_status(self, low: int, high: int) -> int:
        return sum(n for key, n in self.statuses.items() if low <= int(key.split()[0]) <= high)


def parse_wrk(stdout: str, command: str) -> WrkRun:
    run = WrkRun(command)
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or parts[0] != "HTTPBENCH":
            continue
        _, name, key, value = parts
        number = float(value)
        if name == "summary" and key == "requests":
            run.requests = int(number)
        elif name == "summary" and key == "duration_us":
            run.duration_s = number / 1e6
        elif name == "summary" and key == "threads_ran_out":
            run.ran_out = int(number)
        elif name == "latency_us":
            run.latency_ms[key] = number / 1_000
        elif name in ("status", "tally", "errors"):
            {"status": run.statuses, "tally": run.tallies, "errors": run.errors}[name][key] += int(
                number
            )
    _require(run.duration_s > 0, f"read wrk's results (no summary in its output):\n{stdout}")
    return run


def run_wrk(
    service: Service, scenario: str, data: Path, seconds: float, options: Options
) -> WrkRun:
    run_id = f"{scenario}-{secrets.token_hex(4)}"
    script = WRK_DIR / SCRIPTS[scenario]
    arguments = [
        f"-t{options.threads}",
        f"-c{options.connections_for(scenario)}",
        f"-d{seconds:g}s",
        "--timeout",
        f"{options.timeout:g}s",
        "--latency",
        "-s",
        str(script),
        service.base_url,
        "--",
        str(data),
        run_id,
        str(options.threads),
    ]
    shown = shlex.join(["wrk", *arguments]).replace(str(WRK_DIR.parent.parent) + "/", "")
    completed = subprocess.run(
        [wrk_command(), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + WRK_MARGIN_SECONDS,
    )
    if completed.returncode != 0 or "HTTPBENCH" not in completed.stdout:
        raise SystemExit(
            f"wrk failed ({completed.returncode}): {completed.stderr}{completed.stdout}"
        )
    return parse_wrk(completed.stdout, shown)


# ------------------------------------------------------------------------------ the database


@dataclass(frozen=True)
class Counts:
    packets: int
    claimed: int
    recalled: int


def database_counts(url: str) -> Counts:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*), coalesce(sum(claimed_count), 0), "
            "count(*) FILTER (WHERE state = 'recalled') FROM packets"
        ).fetchone()
    _require(row is not None, "count the packets")
    assert row is not None  # noqa: S101 - narrows the type; _require() checked it
    return Counts(int(row[0]), int(row[1]), int(row[2]))


def settled_counts(url: str) -> Counts:
    """The counts once requests still in flight when wrk stopped have finished."""
    previous = database_counts(url)
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(SETTLE_INTERVAL_SECONDS)
        current = database_counts(url)
        if current == previous:
            return current
        previous = current
    raise SystemExit(f"the packets kept changing {SETTLE_TIMEOUT_SECONDS:g} s after wrk stopped")


def ledger_verify(url: str) -> tuple[bool, str]:
    completed = subprocess.run(
        [hongbao_command(), "ledger", "verify", "--database-url", url],
        capture_output=True,
        text=True,
        check=False,
        timeout=VERIFY_TIMEOUT_SECONDS,
    )
    return completed.returncode == 0, (completed.stdout + completed.stderr).strip()


# ------------------------------------------------------------------------------ CPU


def _cpu_of(stat: str) -> tuple[int, float]:
    """(parent pid, CPU seconds) from a /proc/PID/stat line."""
    fields = stat[stat.rindex(")") + 2 :].split()  # from the state on: the name may hold spaces
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # ppid, utime+stime


def _processes() -> dict[int, tuple[int, float, bytes]]:
    """pid -> (parent pid, CPU seconds, command line) of every live process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent, cpu = _cpu_of((entry / "stat").read_text())
                found[int(entry.name)] = (parent, cpu, (entry / "cmdline").read_bytes())
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    return found


def _tree_cpu(processes: dict[int, tuple[int, float, bytes]], roots: Sequence[int]) -> float:
    total, pending = 0.0, list(roots)
    while pending:
        pid = pending.pop()
        if pid in processes:
            total += processes[pid][1]
            pending += [child for child, (parent, _, _) in processes.items() if parent == pid]
    return total


def cpu_seconds(service: Service, database: str) -> dict[str, float]:
    """CPU used so far by the API processes, the hongbao workers, this database's PostgreSQL
    backends and the finished wrk runs (live processes only: a closed backend's CPU is gone)."""
    processes = _processes()
    backend = f" {database} ".encode()
    postgres = sum(
        cpu
        for _, cpu, command in processes.values()
        if command.startswith(b"postgres: ") and backend in command
    )
    wrk = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "API": _tree_cpu(processes, [service.api_pid]),
        "hongbao worker": _tree_cpu(processes, service.worker_pids),
        "PostgreSQL": postgres,
        "wrk": wrk.ru_utime + wrk.ru_stime,
    }


# ------------------------------------------------------------------------------ scenarios


@dataclass
class Check:
    what: str
    ok: bool


@dataclass
class ScenarioResult:
    scenario: str
    skipped: str | None = None
    warmup: WrkRun | None = None
    measured: WrkRun | None = None
    checks: list[Check] = field(default_factory=list)
    load_before: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # by part, the measured run

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def recall_route_missing(service: Service, token: str) -> str | None:
    """Why the recall scenarios cannot run yet, when POST /v1/packets/{id}/recalls is not there
    (an unknown packet answers 404 with a domain code when it is)."""
    request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
        f"{service.base_url}/v1/packets/http-bench-no-such-packet/recalls",
        data=b'{"challenge_ids":[],"accept_balance":false}',
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": "http-bench-probe",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - as above
            status, body = answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode(errors="replace")
    domain_404 = status == 404 and ('"packets.' in body or '"recalls.' in body)
    if status in (404, 405) and not domain_404:
        return f"POST /v1/packets/{{id}}/recalls answered {status}: the recall route is not there"
    return None


def in_blackout(policy: Policy, seconds: float, now_us: int) -> str | None:
    """Why recalls would be refused by design during the ``seconds`` from ``now_us`` (R-T3)."""
    recall = policy.recall
    span = math.ceil(seconds + BLACKOUT_MARGIN_SECONDS)
    for step in [*range(0, span, 30), span]:  # the blackout lasts minutes: 30 s steps see it
        moment = now_us + step * 1_000_000
        if blackout_reopens_at(moment, recall.blackout_start, recall.blackout_end, recall.timezone):
            return (
                f"the run would reach the settlement blackout {recall.blackout_start}-"
                f"{recall.blackout_end} {recall.timezone}, where every recall is refused"
            )
    return None


def check_run(scenario: str, run: WrkRun, before: Counts, after: Counts, slack: int) -> list[Check]:
    """What the database must show after a measured run, and what wrk must not have seen."""
    checks = []

    def within(what: str, grew: int, told: int) -> None:
        checks.append(
            Check(
                f"{what}: database +{grew:,}, answered {told:,} (+ up to {slack} in flight)",
                told <= grew <= told + slack,
            )
        )

    if scenario in CLAIM_SCENARIOS:
        within("claimed shares", after.claimed - before.claimed, run.tallies["result=claimed"])
    if scenario in SEND_SCENARIOS:
        within("packets sent", after.packets - before.packets, run.count_status(201, 201))
    if scenario in RECALL_SCENARIOS:
        within("packets recalled", after.recalled - before.recalled, run.tallies["state=done"])
    if scenario == "recall":
        answered = run.count_status(200, 299)
        checks.append(
            Check(
                f"every recall answered was done ({run.tallies['state=done']:,} of {answered:,})",
                run.tallies["state=done"] == answered,
            )
        )
    server_errors = run.count_status(500, 599)
    checks.append(Check(f"no 5xx ({server_errors:,})", server_errors == 0))
    socket_errors = sum(run.errors.values())
    checks.append(Check(f"no socket errors or timeouts ({socket_errors:,})", socket_errors == 0))
    return checks


@dataclass
class Bench:
    """What every scenario needs."""

    url: str
    options: Options
    plan: Plan
    tokens: dict[str, str]
    policy: Policy
    scratch: Path


def run_scenario(bench: Bench, service: Service, scenario: str) -> ScenarioResult:
    options, plan = bench.options, bench.plan
    result = ScenarioResult(scenario, load_before=os.getloadavg()[0])
    if scenario in RECALL_SCENARIOS:
        probe_token = bench.tokens[plan.recallers[scenario][0]]
        result.skipped = recall_route_missing(service, probe_token) or in_blackout(
            bench.policy, options.warmup + options.seconds, SystemClock().now_us()
        )
        if result.skipped:
            progress(f"{scenario}: skipped: {result.skipped}")
            return result
    if options.warmup > 0:
        progress(f"{scenario}: warm-up {options.warmup:g} s")
        lines = data_lines(scenario, plan, bench.tokens, warmup=True)
        data = write_data(bench.scratch, f"{scenario}-warmup", lines)
        result.warmup = run_wrk(service, scenario, data, options.warmup, options)
    before = settled_counts(bench.url)
    cpu_before = cpu_seconds(service, database_name(bench.url))
    progress(f"{scenario}: measuring {options.seconds:g} s")
    lines = data_lines(scenario, plan, bench.tokens, warmup=False)
    data = write_data(bench.scratch, scenario, lines)
    result.measured = run_wrk(service, scenario, data, options.seconds, options)
    after = settled_counts(bench.url)
    cpu_after = cpu_seconds(service, database_name(bench.url))
    result.cpu_seconds = {part: cpu_after[part] - cpu_before[part] for part in cpu_after}
    slack = options.connections_for(scenario)
    result.checks = check_run(scenario, result.measured, before, after, slack)
    return result


# ------------------------------------------------------------------------------ TPC-B reference


@dataclass(frozen=True)
class TpcbReference:
    """pgbench's TPC-B-like rate on the same server, before and after the scenarios: the yard
    stick for CPU per request, since this machine's speed drifts by up to 2x over a day."""

    command: str
    tps: tuple[float, ...]

    @property
    def milliseconds(self) -> float:
        """CPU of one TPC-B transaction: the whole machine's CPU over the mean rate."""
        mean = sum(self.tps) / len(self.tps)
        return 1_000 * (os.cpu_count() or 1) / mean

    def ratio(self, milliseconds: float) -> float:
        return milliseconds / self.milliseconds


def run_tpcb(url: str, seconds: float) -> tuple[str, float]:
    """pgbench's TPC-B-like script with 16 clients; its command and tps."""
    progress(f"pgbench: TPC-B {seconds:g} s")
    return run_pgbench(url, seconds, clients=PGBENCH_REFERENCE_CLIENTS)


# ------------------------------------------------------------------------------ report


def _verdict(met: bool) -> str:
    return "met" if met else "not met"


def wrk_version() -> str:
    completed = subprocess.run(
        [wrk_command(), "--version"], capture_output=True, text=True, check=False
    )
    return (completed.stdout or completed.stderr).splitlines()[0].strip()


def print_header(options: Options, settings: dict[str, str], environment: dict[str, str]) -> None:
    print("# HTTP benchmark (wrk against `hongbao serve` on PostgreSQL)")
    print()
    print(f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"- command: `{shlex.join(sys.orig_argv)}`")
    print(f"- source: {source_state()}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"- machine: nproc={os.cpu_count()}, {platform.machine()}, {platform.platform()}; "
        f"load average at start {load} (the machine is shared; wrk, the API, the worker and "
        "PostgreSQL all run on it)"
    )
    print(f"- python: {platform.python_version()}; {wrk_version()}")
    print(f"- PostgreSQL: {', '.join(f'{name}={value}' for name, value in settings.items())}")
    analyzed = ", ANALYZEd after setup" if options.analyze else ""
    print(
        f"- server: `hongbao serve --workers {options.api_workers}` and {options.bg_workers} "
        f"`hongbao worker` on a freshly migrated database{analyzed}"
    )
    ops = OperationsSettings.from_environment()
    given = {name: value for name, value in environment.items() if name in options.server_env}
    print(
        f"- operations settings: user {ops.user_rate_per_second:g}/s burst {ops.user_burst}, "
        f"device {ops.device_rate_per_second:g}/s burst {ops.device_burst}, admission "
        f"{ops.admission.max_in_flight} in flight + {ops.admission.max_waiting} waiting up to "
        f"{ops.admission.max_wait_seconds:g} s per process; set here: {given or 'nothing'}"
    )
    print(
        "- policy: the default, except class I recalls ask for no SMS code (verification = "
        f"[]) and group lucky packets may hold {options.hot_shares} shares (the hot packets)"
    )
    print(
        f"- load: wrk -t{options.threads}, -c{options.connections} for claims and the mix, "
        f"-c{options.money_connections} for sends and recalls, {options.warmup:g} s "
        f"warm-up then {options.seconds:g} s measured per scenario, --timeout "
        f"{options.timeout:g}s; every POST with its own Idempotency-Key; every claim, send and "
        "recall by another user in turn, each with a token bound to their phone"
    )
    print()


def print_setup(plan: Plan, options: Options, seconds: float) -> None:
    recallers = sum(len(users) for users in plan.recallers.values())
    recall_packets = sum(len(items) for items in plan.recall_packets.values())
    print(
        f"Setup ({seconds:.0f} s, through the services in {FUNDERS} processes whose sessions "
        "commit with synchronous_commit=off): "
        f"{len(plan.claimers):,} claimers, {len(plan.senders):,} senders, {recallers:,} "
        f"recallers (each a class I user with a phone and a token); {len(plan.hot_packets)} "
        f"hot packets of {options.hot_shares:,} shares, {len(plan.spread_packets):,} open "
        f"group lucky packets of {SPREAD_SHARES} shares, {recall_packets:,} recall packets "
        f"({options.recalls_per_user} per recaller)."
    )
    print()


def _format(counts: Counter[str]) -> str:
    return ", ".join(f"{key}: {n:,}" for key, n in sorted(counts.items()) if n) or "-"


def _done_per_second(result: ScenarioResult) -> str:
    run = result.measured
    assert run is not None  # noqa: S101 - only measured results are shown
    parts = []
    if result.scenario in CLAIM_SCENARIOS:
        parts.append(f"claims {run.per_second(run.tallies['result=claimed']):,.0f}")
    if result.scenario in SEND_SCENARIOS:
        parts.append(f"sends {run.per_second(run.count_status(201, 201)):,.0f}")
    if result.scenario in RECALL_SCENARIOS:
        parts.append(f"recalls {run.per_second(run.tallies['state=done']):,.0f}")
    return ", ".join(parts)


def print_results(results: list[ScenarioResult], reference: TpcbReference | None) -> None:
    print("## Results (measured runs)")
    print()
    print(
        "| scenario | requests/s | done/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | "
        "socket errors | load before |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---|---|---:|")
    for result in results:
        run = result.measured
        if run is None:
            print(f"| {LABELS[result.scenario]} | skipped: {result.skipped} | | | | | | | | |")
            continue
        other = Counter({key: n for key, n in run.statuses.items() if not key.startswith("2")})
        out = f" (ran out in {run.ran_out} thread(s))" if run.ran_out else ""
        lat = run.latency_ms
        print(
            f"| {LABELS[result.scenario]} | {run.per_second(run.requests):,.0f}{out} | "
            f"{_done_per_second(result)} | {lat['p50']:.1f} | {lat['p90']:.1f} | "
            f"{lat['p99']:.1f} | {lat['max']:.1f} | {_format(other)} | {_format(run.errors)} "
            f"| {result.load_before:.2f} |"
        )
    print()
    print_cpu(results, reference)
    print(
        "Answers by status and body (`result`/`state` of each body; a read or a send shows "
        "the packet's state):"
    )
    print()
    for result in results:
        if result.measured is not None:
            run = result.measured
            print(f"- {result.scenario}: {_format(run.statuses)}; {_format(run.tallies)}")
    print()
    print("wrk commands (data files and run ids differ per run):")
    print()
    for result in results:
        for run in (result.warmup, result.measured):
            if run is not None:
                print(f"- `{run.command}`")
    print()


def cpu_ms_per_request(result: ScenarioResult) -> dict[str, float]:
    """CPU milliseconds per request of the measured run, by part."""
    run = result.measured
    requests = max(run.requests, 1) if run is not None else 1
    return {part: 1_000 * cpu / requests for part, cpu in result.cpu_seconds.items()}


def print_cpu(results: list[ScenarioResult], reference: TpcbReference | None) -> None:
    measured = [result for result in results if result.measured and result.cpu_seconds]
    if not measured:
        return
    parts = list(measured[0].cpu_seconds)
    print(
        "Where the CPU went, in ms per request of the measured run (from /proc: the API "
        "processes, the hongbao workers, this database's PostgreSQL backends, wrk; from the "
        "run's start until the database settled after it). At that cost the machine's "
        f"{os.cpu_count()} cores would serve at most the requests/s column; x TPC-B divides "
        "the total by the CPU of one pgbench TPC-B transaction of this run:"
    )
    print()
    print(f"| scenario | {' | '.join(parts)} | total | x TPC-B | requests/s at full CPU |")
    print(f"|---|{'---:|' * (len(parts) + 3)}")
    for result in measured:
        per = cpu_ms_per_request(result)
        total = sum(per.values())
        ceiling = 1_000 * (os.cpu_count() or 1) / total if total else 0.0
        ratio = f"{reference.ratio(total):.1f}" if reference is not None else "-"
        shown = " | ".join(f"{per[part]:.2f}" for part in parts)
        print(f"| {result.scenario} | {shown} | {total:.2f} | {ratio} | {ceiling:,.0f} |")
    print()
    if reference is not None:
        rates = " and ".join(f"{tps:,.0f}" for tps in reference.tps)
        print(
            f"TPC-B reference: `{reference.command}` before and after the scenarios: {rates} "
            f"tps, so {reference.milliseconds:.3f} ms of the machine's CPU a transaction."
        )
        print()


def print_checks(results: list[ScenarioResult], verified: tuple[bool, str]) -> None:
    print("## Checks after each run")
    print()
    for result in results:
        for check in result.checks:
            print(f"- {result.scenario}: {'hold' if check.ok else 'BROKEN'}: {check.what}")
    ok, output = verified
    print()
    print(f"`hongbao ledger verify` at the end: {'clean' if ok else 'NOT CLEAN'}")
    print()
    print("```")
    print("\n".join(output.splitlines()[-LOG_TAIL_LINES:]))
    print("```")
    print()


def _measured(results: list[ScenarioResult], scenario: str) -> WrkRun | None:
    return next((r.measured for r in results if r.scenario == scenario and r.measured), None)


def print_targets(
    results: list[ScenarioResult],
    options: Options,
    verified_ok: bool,
    reference: TpcbReference | None,
) -> None:
    print("## Targets (this machine, load generator included)")
    print()
    print("| target | figure | |")
    print("|---|---|---|")
    for scenario, ceiling in TARGET_TPCB_RATIO.items():
        result = next((r for r in results if r.scenario == scenario and r.cpu_seconds), None)
        label = f"{LABELS[scenario]}: CPU <= {ceiling:g} x TPC-B"
        if result is None or reference is None:
            print(f"| {label} | not measured | not met |")
            continue
        ratio = reference.ratio(sum(cpu_ms_per_request(result).values()))
        print(f"| {label} | {ratio:.2f} | {_verdict(ratio <= ceiling)} |")
    for scenario, connections in TARGET_CONNECTIONS.items():
        run = _measured(results, scenario)
        label = f"{LABELS[scenario]}: p99 < {TARGET_P99_MS:g} ms at {connections} connections"
        if run is None:
            print(f"| {label} | not run | not met |")
            continue
        used = options.connections_for(scenario)
        p99 = run.latency_ms["p99"]
        where = "" if used == connections else f" (run at {used})"
        met = used == connections and p99 < TARGET_P99_MS
        print(
            f"| {label} | {p99:.1f} ms, {run.per_second(run.requests):,.0f}/s{where} | "
            f"{_verdict(met)} |"
        )
    runs = [run for r in results for run in (r.warmup, r.measured) if run is not None]
    fives = sum(run.count_status(500, 599) for run in runs)
    print(f"| zero 5xx (warm-ups included) | {fives:,} | {_verdict(fives == 0)} |")
    print(
        f"| ledger verify clean | {'clean' if verified_ok else 'not clean'} | "
        f"{_verdict(verified_ok)} |"
    )
    print()


def print_server_errors(service_log: Path, results: list[ScenarioResult]) -> None:
    runs = [run for r in results for run in (r.warmup, r.measured) if run is not None]
    if not any(run.count_status(500, 599) for run in runs):
        return
    print("## Server log (last lines; 5xx were answered)")
    print()
    print("```")
    print(log_tail(service_log))
    print("```")
    print()


# ------------------------------------------------------------------------------ main


def prepare_database(options: Options) -> dict[str, str]:
    name = database_name(options.database_url)
    if "bench" not in name:
        raise SystemExit(f"refusing to wipe database {name!r}: its name must contain 'bench'")
    ensure_database(options.database_url, name)
    reset_postgres(options.database_url)
    return server_settings(options.database_url)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    wrk_command()
    url = options.database_url
    with tempfile.TemporaryDirectory(prefix="hongbao-http-bench-") as directory:
        scratch = Path(directory)
        settings = prepare_database(options)
        policy_path, policy = write_policy(scratch, options.hot_shares)
        secret = secrets.token_hex(32)
        os.environ[POLICY_VARIABLE] = str(policy_path)  # setup processes send under it too
        environment = {**os.environ, "HONGBAO_TOKEN_SECRET": secret, **options.server_env}
        print_header(options, settings, environment)
        plan = make_plan(options)
        setup_seconds = run_setup(url, plan, options)
        print_setup(plan, options, setup_seconds)
        users = plan.claimers + plan.senders + [u for us in plan.recallers.values() for u in us]
        bench = Bench(
            url, options, plan, issue_tokens(TokenSigner(secret.encode()), users), policy, scratch
        )
        rates: list[float] = []
        command = ""
        if options.pgbench_seconds > 0:
            command, rate = run_tpcb(url, options.pgbench_seconds)
            rates.append(rate)
        with running_service(url, options, environment, scratch) as service:
            results = [run_scenario(bench, service, name) for name in options.scenarios]
        if options.pgbench_seconds > 0:
            rates.append(run_tpcb(url, options.pgbench_seconds)[1])
        reference = TpcbReference(command, tuple(rates)) if rates else None
        verified = ledger_verify(url)
        print_results(results, reference)
        print_checks(results, verified)
        print_targets(results, options, verified[0], reference)
        print_server_errors(service.log_path, results)
    runs = [run for r in results for run in (r.warmup, r.measured) if run is not None]
    failed = not verified[0] or not all(r.ok for r in results)
    return 1 if failed or any(run.count_status(500, 599) for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
