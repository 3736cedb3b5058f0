"""Many concurrent clients on one ledger: money is conserved and every id applies once.

32 threads x 200 transfers among 10 accounts on real PostgreSQL (and a smaller run on SQLite).
Threads come in pairs; at every fifth step both threads of a pair send the *same* transfer at
the same moment (a barrier releases them together), as a client retrying on a lossy network
would. Amounts are large enough that some transfers fail for lack of money.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

from hongbao.funding.service import open_balance
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.results import TransferResultCode
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import SystemClock
from hongbao.social.service import SocialService
from hongbao.storage.unit_of_work import Database

Code = TransferResultCode
ACCOUNTS = [f"user-{n}" for n in range(10)]
OPENING_BALANCE = 100_000
DUPLICATE_EVERY = 5


@dataclass
class Outcomes:
    by_id: dict[str, list[TransferResultCode]] = field(default_factory=lambda: defaultdict(list))
    requests: dict[str, TransferRequest] = field(default_factory=dict)
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: TransferRequest, code: TransferResultCode) -> None:
        with self.lock:
            self.by_id[request.id].append(code)
            self.requests[request.id] = request


def open_accounts(ledger: Ledger) -> None:
    ledger.create_accounts(
        [NewAccount("card", AccountKind.DEBIT_CARD, "CNY")]
        + [NewAccount(name, AccountKind.USER_BALANCE, "CNY") for name in ACCOUNTS]
    )
    funding = [
        TransferRequest(f"fund-{name}", 1, OPENING_BALANCE, "card", name, "CNY")
        for name in ACCOUNTS
    ]
    assert all(result.code is Code.OK for result in ledger.create_transfers(funding))


def make_request(pair: int, thread: int, step: int) -> TransferRequest:
    # Duplicate steps are drawn from the pair's seed so both threads build the same request.
    shared = step % DUPLICATE_EVERY == 0
    chooser = random.Random(f"{pair}-{step}" if shared else f"{pair}-{thread}-{step}")
    debit, credit = chooser.sample(ACCOUNTS, 2)
    transfer_id = f"p{pair}-s{step}" if shared else f"p{pair}-t{thread}-s{step}"
    return TransferRequest(transfer_id, 7, chooser.randint(1, 30_000), debit, credit, "CNY")


def run_clients(ledger: Ledger, threads: int, per_thread: int) -> Outcomes:
    outcomes = Outcomes()
    barriers = [threading.Barrier(2) for _ in range(threads // 2)]

    def client(index: int) -> None:
        pair, member = divmod(index, 2)
        try:
            for step in range(per_thread):
                request = make_request(pair, member, step)
                if step % DUPLICATE_EVERY == 0:
                    barriers[pair].wait(timeout=60)
                outcomes.record(request, ledger.transfer(request).code)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread, which fails
            outcomes.errors.append(error)
            for barrier in barriers:
                barrier.abort()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not any(worker.is_alive() for worker in workers), "a client hung"
    return outcomes


def check(ledger: Ledger, outcomes: Outcomes, threads: int, per_thread: int) -> None:
    assert not outcomes.errors, outcomes.errors
    submissions = sum(len(codes) for codes in outcomes.by_id.values())
    assert submissions == threads * per_thread
    applied: dict[str, TransferRequest] = {}
    for transfer_id, codes in outcomes.by_id.items():
        applied_here = codes.count(Code.OK)
        assert applied_here <= 1, (transfer_id, codes)
        if applied_here:
            # Every other submission of an applied id must say it exists.
            assert sorted(codes) == sorted([Code.OK] + [Code.EXISTS] * (len(codes) - 1))
            applied[transfer_id] = outcomes.requests[transfer_id]
        else:
            assert set(codes) <= {Code.EXCEEDS_CREDITS, Code.ID_ALREADY_FAILED}, codes
            assert codes.count(Code.EXCEEDS_CREDITS) == 1, codes
    expected = dict.fromkeys(ACCOUNTS, OPENING_BALANCE)
    for request in applied.values():
        expected[str(request.debit_account_id)] -= int(request.amount or 0)
        expected[str(request.credit_account_id)] += int(request.amount or 0)
    accounts = ledger.accounts([*ACCOUNTS, "card"])
    assert {name: accounts[name].credit_balance for name in ACCOUNTS} == expected
    assert all(accounts[name].credit_balance >= 0 for name in ACCOUNTS)
    assert sum(expected.values()) == -accounts["card"].credit_balance
    stored = ledger.database.read(lambda uow: uow.ledger.get_transfers(list(outcomes.by_id)))
    assert set(stored) == set(applied)
    report = ledger.verify()
    assert report.ok, report.violations
    assert report.transfers == len(applied) + len(ACCOUNTS)


@pytest.mark.postgres
@pytest.mark.slow
def test_32_clients_on_postgresql_conserve_money_and_apply_each_id_once(
    postgres_database: Database,
) -> None:
    ledger = Ledger(postgres_database, SystemClock())
    open_accounts(ledger)
    outcomes = run_clients(ledger, threads=32, per_thread=200)
    check(ledger, outcomes, threads=32, per_thread=200)


def test_8_clients_on_sqlite_conserve_money_and_apply_each_id_once(
    sql_database: Database,
) -> None:
    ledger = Ledger(sql_database, SystemClock())
    open_accounts(ledger)
    outcomes = run_clients(ledger, threads=8, per_thread=100)
    check(ledger, outcomes, threads=8, per_thread=100)


def race_round(ledger: Ledger, transfer_id: str) -> list[TransferResultCode]:
    """Every account sends ``transfer_id`` to its neighbour at the same moment."""
    barrier = threading.Barrier(len(ACCOUNTS))
    codes: list[TransferResultCode] = []
    lock = threading.Lock()

    def client(debit: str, credit: str) -> None:
        barrier.wait(timeout=30)
        code = ledger.transfer(TransferRequest(transfer_id, 9, 100, debit, credit, "CNY")).code
        with lock:
            codes.append(code)

    pairs = zip(ACCOUNTS, ACCOUNTS[1:] + ACCOUNTS[:1], strict=True)
    workers = [threading.Thread(target=client, args=pair) for pair in pairs]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return codes


def race_one_id_with_different_fields(ledger: Ledger, rounds: int) -> None:
    """Ten clients use one id for ten different transfers at once: exactly one applies."""
    for round_number in range(rounds):
        codes = race_round(ledger, f"race-{round_number}")
        assert sorted(codes) == sorted(
            [Code.OK] + [Code.EXISTS_WITH_DIFFERENT_FIELDS] * (len(ACCOUNTS) - 1)
        ), codes
    assert ledger.verify().ok


@pytest.mark.postgres
def test_one_id_raced_with_different_fields_on_postgresql_applies_once(
    postgres_database: Database,
) -> None:
    ledger = Ledger(postgres_database, SystemClock())
    open_accounts(ledger)
    race_one_id_with_different_fields(ledger, rounds=10)


def test_one_id_raced_with_different_fields_on_sqlite_applies_once(
    sql_database: Database,
) -> None:
    ledger = Ledger(sql_database, SystemClock())
    open_accounts(ledger)
    race_one_id_with_different_fields(ledger, rounds=5)


@pytest.mark.postgres
def test_two_users_racing_for_one_device_id_leave_it_with_exactly_one(
    postgres_database: Database,
) -> None:
    """The owners table's primary key decides; the loser is told the device is taken."""
    from hongbao.identity.devices import Device, FormFactor, Platform, VendorSkin  # noqa: PLC0415
    from hongbao.identity.service import IdentityService  # noqa: PLC0415
    from hongbao.identity.users import (  # noqa: PLC0415
        AccountTier,
        IdentityError,
        RealNameStatus,
        User,
        UserType,
    )
    from hongbao.identity.verification import SimulatedProvider  # noqa: PLC0415

    clock = SystemClock()
    identity = IdentityService(
        postgres_database, clock, SimulatedProvider(b"r" * 32), on_register=(open_balance,)
    )
    users = [f"racer-{n}" for n in range(8)]
    for user_id in users:
        identity.register_user(
            User(
                user_id,
                user_id,
                AccountTier.CLASS_I,
                UserType.NORMAL,
                clock.now_us(),
                RealNameStatus.VERIFIED,
            )
        )
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []
    lock = threading.Lock()

    def register(user_id: str) -> None:
        device = Device(
            "shared-phone",
            user_id,
            f"sim-{user_id}",
            Platform.ANDROID,
            "14",
            VendorSkin.MIUI,
            "Xiaomi 14",
            FormFactor.PHONE,
            clock.now_us(),
        )
        barrier.wait(timeout=30)
        try:
            identity.register_device(device)
            outcome = "registered"
        except IdentityError as error:
            outcome = error.code
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=register, args=(user_id,)) for user_id in users]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(outcomes) == ["identity.device_taken"] * 7 + ["registered"]
    owners = {user_id for user_id in users if identity.devices_of(user_id)}
    assert len(owners) == 1


@pytest.mark.postgres
def test_four_workers_share_due_work_on_postgresql_and_run_each_item_once(
    postgres_database: Database,
) -> None:
    """SKIP LOCKED hands each due row to one worker; effects and the done mark commit together."""
    from collections import Counter  # noqa: PLC0415

    from hongbao.ledger.operations import create_transfers  # noqa: PLC0415
    from hongbao.platform.scheduler import DueWorkState, Scheduler, schedule  # noqa: PLC0415

    clock = SystemClock()
    ledger = Ledger(postgres_database, clock)
    open_accounts(ledger)
    calls: Counter[str] = Counter()
    calls_lock = threading.Lock()

    def pay(uow: Any, payload: dict[str, Any], now_us: int) -> None:
        with calls_lock:
            calls[payload["id"]] += 1
        request = TransferRequest(payload["id"], 5, 1, "card", payload["to"], "CNY")
        (result,) = create_transfers(uow.ledger, [request], now_us)
        assert result.code is Code.OK

    items = [(f"work-{n}", ACCOUNTS[n % len(ACCOUNTS)]) for n in range(200)]

    def add_all(uow: Any) -> None:
        now_us = clock.now_us()
        for work_id, to in items:
            payload = {"id": work_id, "to": to}
            schedule(
                uow.scheduler,
                work_id=work_id,
                kind="pay",
                payload=payload,
                due_at_us=now_us,
                now_us=now_us,
            )

    postgres_database.transact(add_all)
    reports: list[int] = []

    def worker() -> None:
        scheduler = Scheduler(postgres_database, clock)
        scheduler.register("pay", pay)
        done = 0
        while (ran := scheduler.run_due(limit=20).done) > 0:
            done += ran
        reports.append(done)

    workers = [threading.Thread(target=worker) for _ in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert sum(reports) == 200
    assert set(calls.values()) == {1}
    assert len(calls) == 200
    counts = postgres_database.read(lambda uow: uow.scheduler.count_by_state())
    assert counts[DueWorkState.DONE] == 200
    assert ledger.verify().ok


@pytest.mark.postgres
def test_three_relays_on_postgresql_deliver_each_event_once_and_in_stream_order(
    postgres_database: Database,
) -> None:
    """SKIP LOCKED shares deliveries out; the stream rule keeps each packet's events in order."""
    from hongbao.platform.outbox import NewEvent, OutboxEvent, Relay, append  # noqa: PLC0415

    clock = SystemClock()
    received: list[str] = []
    received_lock = threading.Lock()

    def record(uow: Any, event: OutboxEvent) -> None:
        with received_lock:
            received.append(event.id)

    def publish(uow: Any) -> None:
        events = [NewEvent(f"packet:p-{n % 10}", "PacketClaimed", {"n": n}) for n in range(100)]
        append(uow.outbox, events, consumers=["feed"], now_us=clock.now_us())

    postgres_database.transact(publish)

    def relay_worker() -> None:
        relay = Relay(postgres_database, clock)
        relay.register("feed", record)
        while relay.deliver_due(limit=10).delivered:
            pass

    workers = [threading.Thread(target=relay_worker) for _ in range(3)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert sorted(received) == sorted(set(received))
    assert len(received) == 100
    for stream in range(10):
        order = [int(e.split("#")[1]) for e in received if e.startswith(f"packet:p-{stream}#")]
        assert order == sorted(order) == list(range(1, 11))


@pytest.mark.postgres
@pytest.mark.slow
def test_a_hot_packet_on_postgresql_pays_exactly_its_shares_to_1000_concurrent_claimers(
    postgres_database: Database,
) -> None:
    """1,000 members tap one 100-share lucky packet at once: 100 win, the rest hear "empty"."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    from hongbao.identity.service import IdentityService  # noqa: PLC0415
    from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType  # noqa: PLC0415
    from hongbao.identity.verification import SimulatedProvider  # noqa: PLC0415
    from hongbao.money import Money  # noqa: PLC0415
    from hongbao.packets.model import PacketState, PacketType  # noqa: PLC0415
    from hongbao.packets.service import ClaimResult, PacketService, SendPacket  # noqa: PLC0415
    from hongbao.social.groups import Group, GroupMember, GroupType  # noqa: PLC0415

    clock = SystemClock()
    identity = IdentityService(
        postgres_database, clock, SimulatedProvider(b"h" * 32), on_register=(open_balance,)
    )
    social = SocialService(postgres_database, clock)
    claimers = [f"member-{n:04d}" for n in range(1000)]
    since = clock.now_us() - 1_000_000
    for user_id in ["sender", *claimers]:
        identity.register_user(
            User(
                user_id,
                user_id,
                AccountTier.CLASS_I,
                UserType.NORMAL,
                since,
                RealNameStatus.VERIFIED,
            )
        )
    social.create_group(Group("hot-group", "Hot", GroupType.ENTERTAINMENT, "sender", since))
    for user_id in claimers:
        social.add_member(GroupMember("hot-group", user_id, since))
    ledger = Ledger(postgres_database, clock)
    ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    ledger.transfer(TransferRequest("top-up", 1, 200_00, "bank", "user:sender:balance", "CNY"))
    packets = PacketService(postgres_database, clock)
    packet = packets.send(
        SendPacket(
            "hot",
            PacketType.GROUP_LUCKY,
            "sender",
            Money.of(100_00, "CNY"),
            100,
            "sender-balance",
            group_id="hot-group",
        )
    )
    barrier = threading.Barrier(32)

    def claim(user_id: str) -> ClaimResult:
        if user_id in claimers[:32]:
            barrier.wait(timeout=30)  # the first wave arrives at the same instant
        return packets.claim(packet.id, user_id).result

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(claim, claimers))
    assert results.count(ClaimResult.CLAIMED) == 100
    assert results.count(ClaimResult.PACKET_EMPTY) == 900
    final = packets.packet(packet.id)
    assert (final.state, final.claimed_count, final.claimed_minor) == (
        PacketState.EXHAUSTED,
        100,
        100_00,
    )
    winners = [c for c, r in zip(claimers, results, strict=True) if r is ClaimResult.CLAIMED]
    paid = sum(ledger.account(f"user:{user_id}:balance").credit_balance for user_id in winners)
    assert paid == 100_00
    assert ledger.account(packet.escrow_account_id).credit_balance == 0
    assert ledger.verify().ok
