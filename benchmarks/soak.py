"""Availability and crash soak: a mixed load on PostgreSQL while processes are killed.

Run from the project root (not part of the test suite)::

    .venv/bin/python benchmarks/soak.py --seconds 600

It wipes and migrates the PostgreSQL database of ``--database-url`` (its name must contain
``soak``), writes http_bench's policy (class I recalls ask for no SMS code), and prepares
through the services: ``--users`` class I users in one group, each with a phone, a bearer
token bound to it, a balance funded by a ledger top-up and a debit card; packets sent a day ago
whose expiry falls due during the run, and card-funded packets sent 15 minutes ago whose
capture falls due during the run. Then it starts two API processes (``hongbao serve`` on two
ports) and two ``hongbao worker`` processes, each in a session (process group) of its own, and
for ``--seconds``:

- ``--clients`` threads drive a mixed load: sends from the balance and from the card, claims
  on open packets, recalls of the caller's own fresh packets, reads. The load generator plays
  the load balancer: a request that finds no connection, or loses it, goes to the other API.
  Every money request carries an Idempotency-Key and is repeated with the same key until it is
  answered (anything but 5xx, 409 ``idempotency.in_progress``, 429 or no answer);
- a killer sends SIGKILL to the process group of a random process about every
  ``--kill-every`` seconds (exponentially distributed) and restarts it at once; an API is only
  killed while the other one answers ``/healthz`` (one API stays up, as a load balancer's pool
  would keep one);
- every ``--restart-every`` seconds one API in turn is restarted gracefully: SIGTERM, wait for
  it to exit, start it again, wait until it is ready. The requests that start in that window
  are counted apart: a graceful restart should lose none.

At the end it stops the load, lets the workers drain, and reports: operations by kind and
answer, kills by process, availability (requests answered without 5xx and without a lost
connection, over all requests, the load balancer's retry on the other API included; also per
attempt), separately for the SIGTERM windows (target >= 99.95 %); every key's convergence (each
key asked again answers what it answered first); money conservation per user (a user's balance
plus what their balance-funded packets paid out or still hold in escrow equals what was funded
plus the shares they claimed; a card packet's charge plus its open hold equals its amount, or
its claimed amount once a recall released it); and ``hongbao ledger verify``. Any difference
is printed; any broken check exits non-zero.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from hongbao.bootstrap import POLICY_VARIABLE, open_services
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.funding.sources import DebitCardSource, mask_card_number
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import ManualClock, SystemClock
from http_bench import (
    CLAIM_GROUP,
    CURRENCY,
    base_setup,
    free_port,
    hongbao_command,
    in_blackout,
    issue_tokens,
    ledger_verify,
    register_people,
    setup_url,
    top_up,
    write_policy,
)
from ledger_bench import ensure_database, reset_postgres, server_settings
from packets_bench import _chunks, in_processes, progress, source_state
from recall_bench import database_name, phone_of

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/hongbao_soak"
HOST = "127.0.0.1"
FUNDED_MINOR = 10_000_000  # 100,000.00 a user: nobody runs short in a run
SINCE_SECONDS = 365 * 24 * 3600  # users registered a year ago: no new-account rules
DAY_US = 24 * 3600 * 1_000_000
CARD_WINDOW_US = 15 * 60 * 1_000_000
SHARES = 5
MIN_SEND_MINOR, MAX_SEND_MINOR = 1_00, 200_00  # face verification is asked above 200.00
HOT_SHARES = 100  # the policy file's group lucky limit stays the default
TARGET_AVAILABILITY = 99.95
STARTUP_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0
READY_POLL_SECONDS = 0.1
REQUEST_TIMEOUT_SECONDS = 15.0
RETRY_BASE_SECONDS = 0.05
RETRY_MAX_SECONDS = 1.0
MAX_KEY_SECONDS = 300.0  # a key unanswered this long is reported as not converged
DRAIN_TIMEOUT_SECONDS = 120.0
OPEN_PACKETS_KEPT = 2_000  # the claimable packets the load picks from (most recent)
RETRYABLE = frozenset({429, 503})
IN_PROGRESS = "idempotency.in_progress"
# The mix: weights of each operation in every pick.
MIX = {
    "send_balance": 20,
    "send_card": 8,
    "claim": 45,
    "recall": 10,
    "read": 17,
}


# ------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class Options:
    seconds: float
    kill_every: float
    restart_every: float
    clients: int
    users: int
    expiries: int
    captures: int
    seed: int
    database_url: str
    keep_database: bool


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--seconds", type=float, default=600.0, help="how long the load and the kills run")
    add("--kill-every", type=float, default=0.5, help="mean seconds between SIGKILLs (0: none)")
    add("--restart-every", type=float, default=60.0, help="seconds between graceful restarts")
    add("--clients", type=int, default=6, help="load threads")
    add("--users", type=int, default=400, help="users (senders, claimers, recallers)")
    add("--expiries", type=int, default=300, help="packets whose expiry falls in the run")
    add("--captures", type=int, default=150, help="card packets whose capture falls in the run")
    add("--seed", type=int, default=20261205)
    add("--database-url", default=DEFAULT_DATABASE_URL)
    add("--keep-database", action="store_true", help="leave the database for inspection")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 24 * 3600 or args.kill_every < 0 or args.restart_every <= 0:
        parser.error(
            "--seconds is positive (at most a day), --kill-every >= 0, --restart-every > 0"
        )
    if not 1 <= args.clients <= 64 or not 10 <= args.users <= 100_000:
        parser.error("--clients is 1 to 64, --users 10 to 100000")
    if min(args.expiries, args.captures) < 0:
        parser.error("--expiries and --captures are at least 0")
    if "soak" not in database_name(args.database_url):
        parser.error("refusing to wipe a database whose name does not contain 'soak'")
    return Options(
        args.seconds,
        args.kill_every,
        args.restart_every,
        args.clients,
        args.users,
        args.expiries,
        args.captures,
        args.seed,
        args.database_url,
        args.keep_database,
    )


# ------------------------------------------------------------------------------ setup


def user_name(index: int) -> str:
    return f"soak-{index:05d}"


def card_of(user: str) -> str:
    return f"{user}-card"


def add_cards(url: str, users: Sequence[str]) -> int:
    """Setup task: a debit card (no maintenance window) for each of ``users``."""
    services = open_services(url)
    try:
        for user in users:
            services.funding.add_funding_source(
                DebitCardSource(
                    card_of(user), user, "Soak Bank", mask_card_number("6222020000000000000")
                )
            )
    finally:
        services.close()
    return len(users)


def send_backdated(url: str, commands: Sequence[tuple[int, SendPacket]]) -> int:
    """Setup task: each (sent at, command) sent on a clock set to that moment, so its expiry or
    its card capture falls due at the moment chosen for it."""
    clock = ManualClock(0)
    services = open_services(url, clock=clock)
    try:
        for sent_at_us, command in commands:
            clock.advance(microseconds=sent_at_us - clock.now_us())
            services.packets.send(command)
    finally:
        services.close()
    return len(commands)


def backdated_packets(url: str, options: Options, users: Sequence[str], start_us: int) -> list[Any]:
    """Packets whose expiry (a day after the send) or capture (15 minutes after) falls due
    spread over the run; by sender, so no two setup processes send from one balance at once."""
    rng = random.Random(options.seed)
    span_us = int(options.seconds * 1_000_000)
    planned: list[tuple[str, int, SendPacket]] = []
    for kind, count, lag_us in (
        ("expire", options.expiries, DAY_US),
        ("capture", options.captures, CARD_WINDOW_US),
    ):
        for index in range(count):
            sender = users[rng.randrange(len(users))]
            due_us = start_us + (index + 1) * span_us // (count + 1)
            source = f"{sender}-balance" if kind == "expire" else card_of(sender)
            command = SendPacket(
                f"soak-{kind}-{index:05d}",
                PacketType.GROUP_LUCKY,
                sender,
                Money.of(rng.randint(MIN_SEND_MINOR, MAX_SEND_MINOR), CURRENCY),
                SHARES,
                source,
                group_id=CLAIM_GROUP,
                device=phone_of(sender),
            )
            planned.append((sender, due_us - lag_us, command))
    by_sender: dict[str, list[tuple[int, SendPacket]]] = {}
    for sender, sent_at_us, command in sorted(planned, key=lambda item: item[1]):
        by_sender.setdefault(sender, []).append((sent_at_us, command))
    groups = list(by_sender.values())
    batches = [[item for group in groups[part::4] for item in group] for part in range(4)]
    return [(url, sorted(batch, key=lambda item: item[0])) for batch in batches]  # clock order


def run_setup(options: Options, users: list[str], start_us: int) -> float:
    began = time.perf_counter()
    url = setup_url(options.database_url)
    since_us = SystemClock().now_us() - SINCE_SECONDS * 1_000_000
    base_setup(url, since_us)
    people = [(user, CLAIM_GROUP) for user in users]
    in_processes(
        "postgresql",
        register_people,
        [(url, chunk, since_us) for chunk in _chunks(people)],
        "people",
    )
    in_processes("postgresql", add_cards, [(url, chunk) for chunk in _chunks(users, 100)], "cards")
    top_up(url, [(user, FUNDED_MINOR) for user in users])
    batches = [batch for batch in backdated_packets(url, options, users, start_us) if batch[1]]
    in_processes("postgresql", send_backdated, batches, "backdated packets")
    return time.perf_counter() - began


# ------------------------------------------------------------------------------ processes


@dataclass
class Slot:
    """One process of the fleet: an API on its port, or a worker."""

    name: str
    command: list[str]
    port: int | None
    log: Path
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    spared: int = 0  # kills not made: the other API was not up
    graceful: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


class Fleet:
    """Two APIs and two workers, each the leader of its own process group, so a kill reaches
    every process it started."""

    def __init__(self, url: str, environment: dict[str, str], scratch: Path) -> None:
        hongbao = hongbao_command()
        self.environment = environment
        self.lock = threading.Lock()
        self.slots: list[Slot] = []
        for index in range(2):
            port = free_port()
            serve = [hongbao, "serve", "--database-url", url, "--host", HOST, "--port", str(port)]
            self.slots.append(Slot(f"api-{index}", serve, port, scratch / f"api-{index}.log"))
        for index in range(2):
            worker = [hongbao, "worker", "--database-url", url]
            self.slots.append(
                Slot(f"worker-{index}", worker, None, scratch / f"worker-{index}.log")
            )
        self.restarting: Slot | None = None  # the API in a graceful restart

    @property
    def apis(self) -> list[Slot]:
        return [slot for slot in self.slots if slot.port is not None]

    def start(self, slot: Slot) -> None:
        with slot.log.open("ab") as log:
            slot.process = subprocess.Popen(
                slot.command,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_all(self) -> None:
        for slot in self.slots:
            self.start(slot)
        for slot in self.apis:
            self.wait_ready(slot)

    def ready(self, slot: Slot) -> bool:
        if slot.process is None or slot.process.poll() is not None:
            return False
        try:
            # /healthz, not /readyz: an API in degrade mode (likely under this load on two
            # cores) still serves every money path, and a load balancer keeps it in its pool.
            return httpx.get(f"{slot.base_url}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, slot: Slot) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.ready(slot):
                return
            time.sleep(READY_POLL_SECONDS)
        raise SystemExit(f"{slot.name} was not ready in {STARTUP_TIMEOUT_SECONDS:g} s")

    def signal_group(self, slot: Slot, number: int) -> None:
        if slot.process is not None:
            with contextlib.suppress(ProcessLookupError):  # it exited by itself meanwhile
                os.killpg(slot.process.pid, number)

    def kill(self, slot: Slot) -> None:
        """SIGKILL to the slot's process group, then the same command again at once."""
        self.signal_group(slot, signal.SIGKILL)
        if slot.process is not None:
            slot.process.wait()
        slot.kills += 1
        self.start(slot)

    def graceful_restart(self, slot: Slot) -> None:
        """SIGTERM, wait for the exit, start again, wait until ready."""
        self.signal_group(slot, signal.SIGTERM)
        if slot.process is not None:
            try:
                slot.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.signal_group(slot, signal.SIGKILL)
                slot.process.wait()
        slot.graceful += 1
        self.start(slot)
        self.wait_ready(slot)

    def stop_all(self) -> None:
        for slot in self.slots:
            self.signal_group(slot, signal.SIGTERM)
        for slot in self.slots:
            if slot.process is None:
                continue
            try:
                slot.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.signal_group(slot, signal.SIGKILL)
                slot.process.wait()


@dataclass
class Windows:
    """The graceful restarts' windows (monotonic seconds), from SIGTERM to ready again."""

    spans: list[tuple[float, float]] = field(default_factory=list)
    open_since: float | None = None

    def contains(self, moment: float) -> bool:
        if self.open_since is not None and moment >= self.open_since:
            return True
        return any(start <= moment <= end for start, end in self.spans)


def killer(fleet: Fleet, options: Options, stop: threading.Event, rng: random.Random) -> None:
    if options.kill_every <= 0:
        return
    while not stop.wait(rng.expovariate(1 / options.kill_every)):
        slot = rng.choice(fleet.slots)
        with fleet.lock:
            if slot.port is not None:
                other = next(api for api in fleet.apis if api is not slot)
                if fleet.restarting is not None or not fleet.ready(other):
                    slot.spared += 1
                    continue  # the pool keeps one API
            fleet.kill(slot)


def restarter(fleet: Fleet, options: Options, stop: threading.Event, windows: Windows) -> None:
    turn = 0
    while not stop.wait(options.restart_every):
        slot = fleet.apis[turn % 2]
        other = fleet.apis[(turn + 1) % 2]
        turn += 1
        while not stop.is_set():
            with fleet.lock:
                # Checked under the lock the killer takes: the other API cannot be killed
                # between this check and the window's start.
                if fleet.ready(other):
                    fleet.restarting = slot
                    break
            time.sleep(READY_POLL_SECONDS)  # a graceful restart waits for the other API
        if stop.is_set():
            break
        with fleet.lock:
            if not fleet.ready(slot):
                fleet.wait_ready(slot)  # a kill's restart still starting: let it finish
            windows.open_since = time.monotonic()
        fleet.graceful_restart(slot)
        with fleet.lock:
            windows.spans.append((windows.open_since, time.monotonic()))
            windows.open_since = None
            fleet.restarting = None


# ------------------------------------------------------------------------------ the load


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str
    body: dict[str, Any] | None = None
    key: str | None = None


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class Tally:
    """What the load saw: load-balancer requests and attempts by outcome, in and out of the
    graceful restart windows, and every key's first answer."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter[str] = field(default_factory=Counter)  # "all|window" x "ok|failed"
    attempts: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)  # "kind status"
    keys: dict[str, tuple[Request, Answer]] = field(default_factory=dict)
    unconverged: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)  # what failed requests met

    def request(self, in_window: bool, answered: bool, attempts: list[str]) -> None:
        with self.lock:
            verdict = "ok" if answered else "failed"
            self.requests[f"all {verdict}"] += 1
            if in_window:
                self.requests[f"window {verdict}"] += 1
            for outcome in attempts:
                self.attempts[outcome] += 1
                if in_window:
                    self.attempts[f"window {outcome}"] += 1


def _outcome(answer: Answer | None) -> str:
    if answer is None:
        return "no answer"
    return "5xx" if answer.status >= 500 else "answered"


class Balancer:
    """The load balancer's part: the first API in turn, the other one on a connection error."""

    def __init__(self, fleet: Fleet, tally: Tally, windows: Windows, first: int) -> None:
        self.clients = [
            httpx.Client(base_url=api.base_url, timeout=REQUEST_TIMEOUT_SECONDS)
            for api in fleet.apis
        ]
        self.tally = tally
        self.windows = windows
        self.turn = first

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def send(self, request: Request) -> Answer | None:
        started = time.monotonic()
        self.turn += 1
        outcomes: list[str] = []
        answer: Answer | None = None
        for step in range(2):
            client = self.clients[(self.turn + step) % 2]
            answer = self._attempt(client, request)
            outcomes.append(_outcome(answer))
            if answer is not None:
                break
        answered = answer is not None and answer.status < 500
        self.tally.request(self.windows.contains(started), answered, outcomes)
        if not answered:
            with self.tally.lock:
                status = f" {answer.status}" if answer is not None else ""
                what = f"{request.method} {_route(request.path)}: {_outcome(answer)}{status}"
                self.tally.failures[what] += 1
        return answer

    def _attempt(self, client: httpx.Client, request: Request) -> Answer | None:
        headers = {"Authorization": f"Bearer {request.token}"}
        if request.key is not None:
            headers["Idempotency-Key"] = request.key
        try:
            response = client.request(
                request.method,
                request.path,
                json=request.body,
                headers=headers,
            )
        except httpx.TransportError:
            return None
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return Answer(response.status_code, body)


def _route(path: str) -> str:
    parts = path.split("/")
    return "/".join("{id}" if index == 3 else part for index, part in enumerate(parts))


def _retryable(answer: Answer | None) -> bool:
    if answer is None or answer.status >= 500 or answer.status in RETRYABLE:
        return True
    code = answer.body.get("error", {}).get("code") if isinstance(answer.body, dict) else None
    return answer.status == 409 and code == IN_PROGRESS


def until_answered(balancer: Balancer, request: Request, rng: random.Random) -> Answer | None:
    """Repeat ``request`` (same key) until it is answered; None after MAX_KEY_SECONDS."""
    deadline = time.monotonic() + MAX_KEY_SECONDS
    attempt = 0
    while True:
        answer = balancer.send(request)
        if not _retryable(answer):
            return answer
        if time.monotonic() > deadline:
            return None
        attempt += 1
        ceiling = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2**attempt)
        time.sleep(ceiling / 2 + rng.uniform(0, ceiling / 2))


@dataclass
class Shared:
    """What the load threads share: open packets to claim, each user's fresh packets."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    open_packets: list[str] = field(default_factory=list)
    fresh: dict[str, list[str]] = field(default_factory=dict)  # sender -> packets to recall

    def sent(self, sender: str, packet_id: str) -> None:
        with self.lock:
            self.open_packets.append(packet_id)
            del self.open_packets[:-OPEN_PACKETS_KEPT]
            self.fresh.setdefault(sender, []).append(packet_id)

    def claimable(self, rng: random.Random) -> str | None:
        with self.lock:
            return rng.choice(self.open_packets) if self.open_packets else None

    def recallable(self, sender: str) -> str | None:
        with self.lock:
            packets = self.fresh.get(sender)
            return packets.pop(0) if packets else None


def one_operation(
    *,
    balancer: Balancer,
    tally: Tally,
    shared: Shared,
    users: list[str],
    tokens: dict[str, str],
    rng: random.Random,
) -> None:
    kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    user = users[rng.randrange(len(users))]
    token = tokens[user]
    request: Request
    if kind in ("send_balance", "send_card"):
        source = f"{user}-balance" if kind == "send_balance" else card_of(user)
        amount = Money.of(rng.randint(MIN_SEND_MINOR, MAX_SEND_MINOR), CURRENCY)
        body = {
            "type": "group_lucky",
            "amount": amount.format(),
            "currency": CURRENCY,
            "shares": SHARES,
            "funding_source_id": source,
            "group_id": CLAIM_GROUP,
        }
        request = Request("POST", "/v1/packets", token, body, str(uuid.uuid4()))
    elif kind == "claim":
        packet = shared.claimable(rng)
        if packet is None:
            return
        request = Request("POST", f"/v1/packets/{packet}/claims", token, None, str(uuid.uuid4()))
    elif kind == "recall":
        packet = shared.recallable(user)
        if packet is None:
            return
        body = {"challenge_ids": [], "accept_balance": False}
        request = Request("POST", f"/v1/packets/{packet}/recalls", token, body, str(uuid.uuid4()))
    else:
        packet = shared.claimable(rng)
        if packet is None:
            return
        request = Request("GET", f"/v1/packets/{packet}", token)
    answer = until_answered(balancer, request, rng) if request.key else balancer.send(request)
    status = "unanswered" if answer is None else str(answer.status)
    with tally.lock:
        tally.operations[f"{kind} {status}"] += 1
        if request.key is not None:
            if answer is None:
                tally.unconverged.append(f"{request.key}: unanswered after {MAX_KEY_SECONDS:g} s")
            else:
                tally.keys[request.key] = (request, answer)
    if answer is not None and kind.startswith("send") and answer.status == 201:
        shared.sent(user, answer.body["id"])


def load_thread(
    *,
    fleet: Fleet,
    tally: Tally,
    windows: Windows,
    shared: Shared,
    users: list[str],
    tokens: dict[str, str],
    stop: threading.Event,
    seed: int,
) -> None:
    rng = random.Random(seed)
    balancer = Balancer(fleet, tally, windows, seed)
    try:
        while not stop.is_set():
            one_operation(
                balancer=balancer, tally=tally, shared=shared, users=users, tokens=tokens, rng=rng
            )
    finally:
        balancer.close()


# ------------------------------------------------------------------------------ the checks


def converge(fleet: Fleet, tally: Tally, windows: Windows) -> list[str]:
    """Ask every key again (same request): it must answer what it answered first."""
    differences: list[str] = []
    balancer = Balancer(fleet, Tally(), windows, 0)
    rng = random.Random(0)
    try:
        for key, (request, first) in tally.keys.items():
            again = until_answered(balancer, request, rng)
            if again is None or (again.status, again.body) != (first.status, first.body):
                shown = (
                    "no answer"
                    if again is None
                    else f"{again.status} {json.dumps(again.body)[:300]}"
                )
                told = f"{first.status} {json.dumps(first.body)[:300]}"
                differences.append(f"{key} {request.path}: first {told}; again {shown}")
    finally:
        balancer.close()
    return differences


def drained(url: str) -> bool:
    """Nothing left for the workers: no outbox delivery pending, no due work overdue."""
    now_us = SystemClock().now_us()
    with psycopg.connect(url, autocommit=True) as connection:
        pending = connection.execute(
            "SELECT count(*) FROM platform_outbox_deliveries WHERE state = 'pending'"
        ).fetchone()
        due = connection.execute(
            "SELECT count(*) FROM platform_due_work WHERE state = 'pending' AND due_at_us <= %s",
            (now_us,),
        ).fetchone()
    return (pending or (0,))[0] == 0 and (due or (0,))[0] == 0


def wait_drained(url: str) -> bool:
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if drained(url):
            return True
        time.sleep(1.0)
    return False


CONSERVATION_SQL = """
WITH users AS (SELECT unnest(%(users)s::text[]) AS id),
received AS (
    SELECT claimed_by AS id, sum(amount_minor) AS minor FROM packet_shares
    WHERE claimed_by IS NOT NULL GROUP BY claimed_by
),
paid_out AS (
    SELECT p.sender_id AS id,
           sum(p.claimed_minor + coalesce(e.credits_posted - e.debits_posted, 0)) AS minor
    FROM packets p LEFT JOIN ledger_accounts e ON e.id = 'escrow:' || p.id
    WHERE p.funding_source_id = p.sender_id || '-balance'
    GROUP BY p.sender_id
),
-- Refunds of balance packets not arrived yet: held by risk control for a review (delayed
-- arrival) or released and waiting in clearing to be planned again.
waiting AS (
    SELECT owner_id AS id, sum(amount_minor) AS minor FROM refunds
    WHERE state IN ('risk_held', 'held') GROUP BY owner_id
),
balances AS (
    SELECT u.id, b.credits_posted - b.debits_posted AS posted,
           b.debits_pending AS held
    FROM users u JOIN ledger_accounts b ON b.id = 'user:' || u.id || ':balance'
)
SELECT b.id, b.posted, b.held, coalesce(o.minor, 0) + coalesce(w.minor, 0), coalesce(r.minor, 0)
FROM balances b LEFT JOIN paid_out o ON o.id = b.id LEFT JOIN received r ON r.id = b.id
LEFT JOIN waiting w ON w.id = b.id
ORDER BY b.id
"""

CARD_SQL = """
SELECT p.sender_id, p.id, p.total_minor, p.claimed_minor, a.state, a.authorized_minor,
       a.charged_minor
FROM packets p JOIN packet_authorizations a ON a.packet_id = p.id
WHERE p.sender_id = ANY(%(users)s::text[])
ORDER BY p.sender_id, p.id
"""


def conservation(url: str, users: list[str]) -> tuple[int, list[str]]:
    """Per user: balance + balance-funded packets' claimed money and escrow == funded + shares
    claimed; per card packet: charge + open hold == amount (claimed amount once released)."""
    differences = []
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(CONSERVATION_SQL, {"users": users}).fetchall()
        cards = connection.execute(CARD_SQL, {"users": users}).fetchall()
    for user, posted, held, paid_out, received in rows:
        left = posted + paid_out  # a pending debit (held) is still in the posted balance
        right = FUNDED_MINOR + received
        if left != right:
            differences.append(
                f"{user}: balance {posted} (held {held}) + paid out, in escrow or on its way "
                f"back {paid_out} = "
                f"{left}, funded {FUNDED_MINOR} + claimed {received} = {right}"
            )
    for sender, packet, total, claimed, state, authorized, charged in cards:
        open_minor = authorized - charged if state == "held" else 0
        expected = claimed if state == "released" else total
        if charged + open_minor != expected or authorized != total:
            differences.append(
                f"{sender} {packet} ({state}): charged {charged} + open hold {open_minor} != "
                f"{expected} (authorized {authorized}, amount {total}, claimed {claimed})"
            )
    return len(rows) + len(cards), differences


# ------------------------------------------------------------------------------ report


def percent(ok: int, total: int) -> float:
    return 100.0 * ok / total if total else 100.0


@dataclass
class Report:
    options: Options
    setup_seconds: float
    seconds: float
    fleet: Fleet
    tally: Tally
    windows: Windows
    convergence: list[str]
    checked_users: int
    conservation: list[str]
    drained: bool
    verified: tuple[bool, str]
    database: dict[str, int]

    @property
    def availability(self) -> float:
        return percent(
            self.tally.requests["all ok"],
            self.tally.requests["all ok"] + self.tally.requests["all failed"],
        )

    @property
    def window_availability(self) -> float:
        ok, failed = self.tally.requests["window ok"], self.tally.requests["window failed"]
        return percent(ok, ok + failed)

    @property
    def ok(self) -> bool:
        return (
            not self.convergence
            and not self.tally.unconverged
            and not self.conservation
            and self.verified[0]
            and self.window_availability >= TARGET_AVAILABILITY
        )


def print_header(options: Options, settings: dict[str, str]) -> None:
    print("# Availability and crash soak (`benchmarks/soak.py`)")
    print()
    print(f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"- command: `{shlex.join(sys.orig_argv)}`")
    print(f"- source: {source_state()}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"- machine: nproc={os.cpu_count()}, {platform.platform()}; load average at start {load}")
    print(f"- PostgreSQL: {', '.join(f'{name}={value}' for name, value in settings.items())}")
    print(
        f"- parameters: {options.seconds:g} s; SIGKILL about every {options.kill_every:g} s "
        f"(exponential) to a random one of 2 APIs and 2 workers, an API only while the other "
        f"is ready; a graceful restart (SIGTERM) of one API in turn every "
        f"{options.restart_every:g} s; {options.clients} load threads; {options.users} users; "
        f"{options.expiries} expiries and {options.captures} card captures due during the run; "
        f"seed {options.seed}; mix {', '.join(f'{k} {v}' for k, v in MIX.items())} (weights)"
    )
    print()


def _verdict(met: bool) -> str:
    return "met" if met else "not met"


def _format(counts: Counter[str]) -> str:
    return ", ".join(f"{key}: {count:,}" for key, count in sorted(counts.items()) if count) or "-"


def print_report(report: Report) -> None:
    tally, fleet = report.tally, report.fleet
    operations = sum(tally.operations.values())
    print(f"Setup {report.setup_seconds:.0f} s; load {report.seconds:.0f} s.")
    print()
    print("| figure | value | |")
    print("|---|---|---|")
    print(f"| operations | {operations:,} ({operations / report.seconds:,.1f}/s) | |")
    kills = sum(slot.kills for slot in fleet.slots)
    by_slot = ", ".join(f"{slot.name} {slot.kills}" for slot in fleet.slots)
    by_slot += f"; {sum(slot.spared for slot in fleet.slots)} spared: the other API was down"
    print(f"| SIGKILLs | {kills:,} ({by_slot}) | |")
    graceful = sum(slot.graceful for slot in fleet.slots)
    windowed = sum(end - start for start, end in report.windows.spans)
    print(f"| graceful restarts (SIGTERM) | {graceful} ({windowed:.1f} s in all) | |")
    total = tally.requests["all ok"] + tally.requests["all failed"]
    failed = tally.requests["all failed"]
    print(
        f"| availability, all requests | {report.availability:.3f} % ({failed:,} of {total:,} "
        "failed) | |"
    )
    window = tally.requests["window ok"] + tally.requests["window failed"]
    failed = tally.requests["window failed"]
    met = _verdict(report.window_availability >= TARGET_AVAILABILITY)
    print(
        f"| availability, SIGTERM windows (target >= {TARGET_AVAILABILITY} %) | "
        f"{report.window_availability:.3f} % ({failed:,} of {window:,} failed) | {met} |"
    )
    differ = len(report.convergence) + len(tally.unconverged)
    print(
        f"| keys asked again | {len(tally.keys):,}, {differ} differ or unanswered | "
        f"{_verdict(differ == 0)} |"
    )
    print(
        f"| money conservation | {report.checked_users:,} users and card packets, "
        f"{len(report.conservation)} differ | {_verdict(not report.conservation)} |"
    )
    print(f"| workers drained after the load | {'yes' if report.drained else 'no'} | |")
    clean = report.verified[0]
    print(f"| `hongbao ledger verify` | {'clean' if clean else 'NOT CLEAN'} | {_verdict(clean)} |")
    print()
    print(f"Operations by kind and final status: {_format(tally.operations)}")
    print()
    print(f"Attempts (one API each) by outcome: {_format(tally.attempts)}")
    print()
    print(f"Failed requests (after the other API was tried): {_format(tally.failures)}")
    print()
    print(f"Database after the run: {', '.join(f'{k} {v:,}' for k, v in report.database.items())}")
    print()
    for title, lines in (
        ("Keys that answered differently", report.convergence + tally.unconverged),
        ("Money conservation differences", report.conservation),
    ):
        if lines:
            print(f"{title} ({len(lines)}):")
            print()
            print("```")
            print("\n".join(lines[:50]))
            print("```")
            print()
    print("`hongbao ledger verify`:")
    print()
    print("```")
    print("\n".join(report.verified[1].splitlines()[-30:]))
    print("```")


def database_figures(url: str) -> dict[str, int]:
    queries = {
        "packets": "SELECT count(*) FROM packets",
        "recalled": "SELECT count(*) FROM packets WHERE state = 'recalled'",
        "expired": "SELECT count(*) FROM packets WHERE state = 'expired'",
        "claims": "SELECT count(*) FROM packet_shares WHERE claimed_by IS NOT NULL",
        "card captures": "SELECT count(*) FROM packet_authorizations WHERE state = 'captured'",
        "card holds released": (
            "SELECT count(*) FROM packet_authorizations WHERE state = 'released'"
        ),
        "dead due work": "SELECT count(*) FROM platform_due_work WHERE state = 'dead'",
        "dead deliveries": "SELECT count(*) FROM platform_outbox_deliveries WHERE state = 'dead'",
    }
    with psycopg.connect(url, autocommit=True) as connection:
        return {
            name: int((connection.execute(sql).fetchone() or (0,))[0])
            for name, sql in queries.items()
        }


# ------------------------------------------------------------------------------ main


@contextmanager
def scratch_directory() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hongbao-soak-") as directory:
        yield Path(directory)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    url = options.database_url
    users = [user_name(index) for index in range(options.users)]
    with scratch_directory() as scratch:
        ensure_database(url, database_name(url))
        reset_postgres(url)
        settings = server_settings(url)
        policy_path, policy = write_policy(scratch, HOT_SHARES)
        os.environ[POLICY_VARIABLE] = str(policy_path)
        blackout = in_blackout(policy, options.seconds, SystemClock().now_us())
        if blackout:
            raise SystemExit(f"not now: {blackout}")
        secret = secrets.token_hex(32)
        environment = {**os.environ, "HONGBAO_TOKEN_SECRET": secret}
        print_header(options, settings)
        progress("setup")
        start_us = SystemClock().now_us() + 60 * 1_000_000  # setup and start-up take a minute
        setup_seconds = run_setup(options, users, start_us)
        tokens = issue_tokens(TokenSigner(secret.encode()), users)
        fleet = Fleet(url, environment, scratch)
        tally, windows, shared, stop = Tally(), Windows(), Shared(), threading.Event()
        try:
            fleet.start_all()
            progress(f"load, kills and restarts for {options.seconds:g} s")
            rng = random.Random(options.seed)
            threads = [
                threading.Thread(
                    target=load_thread,
                    kwargs={
                        "fleet": fleet,
                        "tally": tally,
                        "windows": windows,
                        "shared": shared,
                        "users": users,
                        "tokens": tokens,
                        "stop": stop,
                        "seed": options.seed + index,
                    },
                )
                for index in range(options.clients)
            ]
            threads.append(threading.Thread(target=killer, args=(fleet, options, stop, rng)))
            threads.append(threading.Thread(target=restarter, args=(fleet, options, stop, windows)))
            began = time.monotonic()
            for thread in threads:
                thread.start()
            stop.wait(options.seconds)
            stop.set()
            for thread in threads:
                thread.join()
            seconds = time.monotonic() - began
            for api in fleet.apis:
                fleet.wait_ready(api)
            progress("draining the workers")
            is_drained = wait_drained(url)
            progress(f"asking {len(tally.keys):,} keys again")
            differences = converge(fleet, tally, windows)
        finally:
            fleet.stop_all()
        progress("checking money and the ledger")
        checked, money = conservation(url, users)
        verified = ledger_verify(url)
        report = Report(
            options,
            setup_seconds,
            seconds,
            fleet,
            tally,
            windows,
            differences,
            checked,
            money,
            is_drained,
            verified,
            database_figures(url),
        )
        print_report(report)
        if not options.keep_database:
            reset_postgres(url)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
