"""Red packets under concurrency and crashes on real PostgreSQL (R-P5, R-P4, R-M2).

* A hot packet: 500 members released together by a barrier on a 100-share lucky packet.
* One impatient user: 40 taps of "open" at the same instant.
* A worker process killed with SIGKILL while it holds a due expiry in an open transaction
  (made to wait there by a row lock this test holds), then the scheduler run again.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hongbao.bootstrap import open_services
from hongbao.entrypoints.worker import build_scheduler
from hongbao.funding.service import open_balance
from hongbao.identity.service import IdentityService
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType
from hongbao.identity.verification import SimulatedProvider
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.model import Packet, PacketState, PacketType
from hongbao.packets.service import ClaimOutcome, ClaimResult, PacketService, SendPacket
from hongbao.platform.clock import MICROSECONDS_PER_SECOND, Clock, ManualClock, SystemClock
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.social.service import SocialService
from hongbao.storage.unit_of_work import Database

SENDER = "sender"
GROUP = "hot-group"
HOUR_US = 3600 * MICROSECONDS_PER_SECOND


@dataclass
class World:
    database: Database
    clock: Clock
    ledger: Ledger
    packets: PacketService

    def balance(self, account: str) -> int:
        return self.ledger.account(account).credit_balance


def build_world(database: Database, clock: Clock, members: list[str], funds: int) -> World:
    """The sender owns GROUP, every member joined it an hour before ``clock``'s now; the
    sender's balance holds ``funds``. Registration runs on a few threads: it is only setup."""
    since = clock.now_us() - HOUR_US
    identity = IdentityService(
        database, clock, SimulatedProvider(b"c" * 32), on_register=(open_balance,)
    )
    social = SocialService(database, clock)

    def person(user_id: str) -> User:
        return User(
            user_id, user_id, AccountTier.CLASS_I, UserType.NORMAL, since, RealNameStatus.VERIFIED
        )

    identity.register_user(person(SENDER))
    social.create_group(Group(GROUP, "Hot", GroupType.ENTERTAINMENT, SENDER, since))

    def join(user_id: str) -> None:
        identity.register_user(person(user_id))
        social.add_member(GroupMember(GROUP, user_id, since))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(join, members))
    ledger = Ledger(database, clock)
    ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    top_up = TransferRequest("top-up", 1, funds, "bank", f"user:{SENDER}:balance", "CNY")
    assert ledger.transfer(top_up).succeeded
    return World(database, clock, ledger, PacketService(database, clock))


def lucky(packet_id: str, total: int, shares: int) -> SendPacket:
    return SendPacket(
        packet_id,
        PacketType.GROUP_LUCKY,
        SENDER,
        Money.of(total, "CNY"),
        shares,
        f"{SENDER}-balance",
        group_id=GROUP,
    )


def claim_together(world: World, packet_id: str, claimers: list[str]) -> list[Any]:
    """One thread per claimer, all released by one barrier; each thread's outcome or error."""
    barrier = threading.Barrier(len(claimers))
    outcomes: list[Any] = [None] * len(claimers)

    def claim(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            outcomes[index] = world.packets.claim(packet_id, claimers[index])
        except BaseException as error:  # noqa: BLE001 - handed to the main thread, which fails
            outcomes[index] = error
            barrier.abort()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(claimers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a claimer hung"
    return outcomes


def claim_transfers(world: World, packet: Packet) -> dict[str, Any]:
    ids = [f"claim:{packet.id}:{position}" for position in range(packet.share_count + 1)]
    return world.database.read(lambda uow: uow.ledger.get_transfers(ids))


@pytest.mark.postgres
@pytest.mark.slow
def test_500_members_released_together_on_a_100_share_lucky_packet_win_exactly_100_shares(
    postgres_database: Database,
) -> None:
    """100 claimers are paid, 400 hear "empty", nobody gets an error, and the money is exact."""
    members = [f"member-{n:03d}" for n in range(500)]
    world = build_world(postgres_database, SystemClock(), members, funds=200_00)
    packet = world.packets.send(lucky("hot", total=123_45, shares=100))
    outcomes = claim_together(world, packet.id, members)
    errors = [outcome for outcome in outcomes if not isinstance(outcome, ClaimOutcome)]
    assert not errors, errors[:3]
    results = Counter(outcome.result for outcome in outcomes)
    assert results == {ClaimResult.CLAIMED: 100, ClaimResult.PACKET_EMPTY: 400}
    won = {
        member: outcome.amount.minor
        for member, outcome in zip(members, outcomes, strict=True)
        if outcome.result is ClaimResult.CLAIMED
    }
    assert sum(won.values()) == 123_45
    balances = world.ledger.accounts([f"user:{member}:balance" for member in members])
    paid = {m: balances[f"user:{m}:balance"].credit_balance for m in members}
    assert {m: amount for m, amount in paid.items() if amount} == won
    shares = world.packets.shares(packet.id)
    assert {share.claimed_by: share.amount_minor for share in shares} == won
    final = world.packets.packet(packet.id)
    assert (final.state, final.claimed_count, final.claimed_minor) == (
        PacketState.EXHAUSTED,
        100,
        123_45,
    )
    transfers = claim_transfers(world, packet)
    assert sorted(transfers) == sorted(f"claim:hot:{position}" for position in range(100))
    assert all(
        t.credit_account_id == f"user:{shares[int(t.id.split(':')[2])].claimed_by}:balance"
        for t in transfers.values()
    )
    assert world.balance(packet.escrow_account_id) == 0
    assert world.balance(f"user:{SENDER}:balance") == 200_00 - 123_45
    report = world.ledger.verify()
    assert report.ok, report.violations


@pytest.mark.postgres
@pytest.mark.slow
def test_one_user_tapping_claim_40_times_at_once_is_paid_one_share_once(
    postgres_database: Database,
) -> None:
    """Every tap answers CLAIMED or ALREADY_CLAIMED with the same amount; money moves once."""
    world = build_world(postgres_database, SystemClock(), ["tapper", "friend"], funds=50_00)
    packet = world.packets.send(lucky("tapped", total=20_00, shares=5))
    outcomes = claim_together(world, packet.id, ["tapper"] * 40)
    errors = [outcome for outcome in outcomes if not isinstance(outcome, ClaimOutcome)]
    assert not errors, errors[:3]
    results = Counter(outcome.result for outcome in outcomes)
    assert results == {ClaimResult.CLAIMED: 1, ClaimResult.ALREADY_CLAIMED: 39}
    amounts = {outcome.amount for outcome in outcomes}
    assert len(amounts) == 1
    (amount,) = amounts
    assert amount is not None
    assert world.balance("user:tapper:balance") == amount.minor
    assert world.balance(packet.escrow_account_id) == 20_00 - amount.minor
    final = world.packets.packet(packet.id)
    assert (final.claimed_count, final.claimed_minor) == (1, amount.minor)
    assert [s.claimed_by for s in world.packets.shares(packet.id)] == ["tapper"] + [None] * 4
    assert list(claim_transfers(world, packet)) == ["claim:tapped:0"]
    assert world.packets.claim(packet.id, "friend").result is ClaimResult.CLAIMED
    report = world.ledger.verify()
    assert report.ok, report.violations


# --- a worker killed mid-expiry -----------------------------------------------------------

# Where the test holds a lock that the expiry handler needs, so the worker stops there with the
# due row claimed and its transaction open: before the handler has done anything (the packet
# row), after it locked the packet (an account the refund credits), or after the refund was
# written to the ledger (the outbox place of the PacketExpired event).
LOCK_POINTS = {
    "packet row": "SELECT id FROM packets WHERE id = %(packet)s FOR UPDATE",
    "sender's balance": "SELECT id FROM ledger_accounts WHERE id = %(account)s FOR UPDATE",
    "outbox place": (
        "INSERT INTO platform_outbox_events"
        " (id, stream, stream_sequence, event_type, payload, created_at_us)"
        " SELECT %(stream)s || '#' || (max(stream_sequence) + 1), %(stream)s,"
        " max(stream_sequence) + 1, 'Placeholder', '{}', 0"
        " FROM platform_outbox_events WHERE stream = %(stream)s"
    ),
}


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    command = Path(sys.executable).with_name("hongbao")
    assert command.exists(), f"{command} is missing: install hongbao in this environment"
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 - fixed arguments, the installed command
            [str(command), "worker", "--database-url", url, "--poll-seconds", "0.1"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("lock_point", list(LOCK_POINTS))
def test_a_worker_killed_inside_an_expiry_leaves_it_to_run_once_later(
    postgres_database: Database, postgres_url: str, tmp_path: Path, lock_point: str
) -> None:
    """SIGKILL while the expiry is claimed and uncommitted: nothing of it stays; the next
    scheduler run refunds the remainder exactly once."""
    # The packet was sent 25 hours ago, so its expiry is due for the worker's real clock.
    sent_at = ManualClock(SystemClock().now_us() - 25 * HOUR_US)
    world = build_world(postgres_database, sent_at, ["amy", "ben", "cai"], funds=100_00)
    packet = world.packets.send(lucky("doomed", total=30_00, shares=5))
    claims = [world.packets.claim(packet.id, user) for user in ("amy", "ben")]
    claimed = sum(claim.amount.minor for claim in claims if claim.amount is not None)
    assert [claim.result for claim in claims] == [ClaimResult.CLAIMED] * 2
    remainder = 30_00 - claimed
    sender_account = f"user:{SENDER}:balance"
    assert world.balance(sender_account) == 100_00 - 30_00
    work_id = f"expire:{packet.id}"
    parameters = {"packet": packet.id, "account": sender_account, "stream": f"packet:{packet.id}"}

    with psycopg.connect(postgres_url) as locker, psycopg.connect(postgres_url) as observer:
        observer.autocommit = True
        locker.execute(LOCK_POINTS[lock_point], parameters)  # held until rolled back below
        worker = start_worker(postgres_url, tmp_path / "worker.log")
        try:
            blocked = wait_for(
                lambda: (
                    observer.execute(
                        "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                        [locker.info.backend_pid],
                    ).fetchall()
                    or worker.poll() is not None
                ),
                timeout=60,
                what="the worker to wait on the test's lock",
            )
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            ((worker_backend,),) = blocked
            # The worker has taken the due row: nobody else can claim it, and it is not done.
            with observer.transaction():
                taken = observer.execute(
                    "SELECT id FROM platform_due_work WHERE id = %s FOR UPDATE SKIP LOCKED",
                    [work_id],
                ).fetchall()
            assert taken == []
            # What the killed transaction had written so far (RowExclusiveLock: it changed rows).
            written = {
                table
                for (table,) in observer.execute(
                    "SELECT relation::regclass::text FROM pg_locks"
                    " WHERE pid = %s AND mode = 'RowExclusiveLock' AND relation IS NOT NULL",
                    [worker_backend],
                ).fetchall()
            }
            # Held at the outbox, it has moved the refund's money: the refund's progress is the
            # first event an expiry writes (before the packet's own row and event).
            wrote_refund = {"ledger_transfers", "ledger_accounts"} <= written
            assert wrote_refund is (lock_point == "outbox place"), written
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=30) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=30)
        locker.rollback()
        # The orphaned server session ends (rolling back) once it finds its client gone.
        wait_for(
            lambda: (
                not observer.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [worker_backend]
                ).fetchall()
            ),
            timeout=60,
            what="the killed worker's session to end",
        )
        row = observer.execute(
            "SELECT state, attempts FROM platform_due_work WHERE id = %s", [work_id]
        ).fetchone()
    assert row == ("pending", 0)  # the killed attempt left no trace
    assert world.packets.packet(packet.id).state is PacketState.OPEN
    assert world.balance(packet.escrow_account_id) == remainder

    services = open_services(postgres_url)
    try:
        scheduler = build_scheduler(services)
        report = scheduler.run_due()
        assert (report.done, report.failed, report.dead) == (1, 0, 0), report.failures
        assert scheduler.run_due().ran == 0
    finally:
        services.close()

    assert world.packets.packet(packet.id).state is PacketState.EXPIRED
    assert world.balance(packet.escrow_account_id) == 0
    assert world.balance(sender_account) == 100_00 - 30_00 + remainder
    refund_transfer = f"refund:expiry:{packet.id}:out"  # the balance route: one direct transfer
    refunds = world.database.read(lambda uow: uow.ledger.get_transfers([refund_transfer]))
    (refund,) = refunds.values()
    assert (refund.amount, refund.credit_account_id) == (remainder, sender_account)
    with psycopg.connect(postgres_url) as connection:
        done = connection.execute(
            "SELECT state, attempts FROM platform_due_work WHERE id = %s", [work_id]
        ).fetchone()
        expired_events = connection.execute(
            "SELECT count(*) FROM platform_outbox_events"
            " WHERE stream = %s AND event_type = 'PacketExpired'",
            [f"packet:{packet.id}"],
        ).fetchone()
    assert done == ("done", 1)
    assert expired_events == (1,)
    report = world.ledger.verify()
    assert report.ok, report.violations


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_sends_from_one_balance_never_deadlock_on_postgresql(
    postgres_database: Database,
) -> None:
    """Four clients each sending ten packets from the same balance at once: all forty succeed
    on the first try's budget (the ledger locks the balance before the packet row refers to
    it), and the balance pays exactly forty packets."""
    world = build_world(postgres_database, SystemClock(), ["m-0"], funds=400_00)
    barrier = threading.Barrier(4)

    def send_ten(client: int) -> list[Packet]:
        barrier.wait(timeout=30)
        return [world.packets.send(lucky(f"c{client}-{n}", 10_00, 1)) for n in range(10)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        sent = [packet for batch in pool.map(send_ten, range(4)) for packet in batch]
    assert len(sent) == 40
    assert world.balance(f"user:{SENDER}:balance") == 0
    assert world.ledger.verify().ok
    assert world.packets.verify().ok


@pytest.mark.postgres
@pytest.mark.slow
def test_one_packet_id_sent_by_eight_clients_at_once_is_one_packet_paid_once(
    postgres_database: Database,
) -> None:
    """The same send from eight clients released together: its escrow account and its expiry
    are written without a look-up first (their ids are as new as the packet), so the losers
    fail on those keys, are retried whole and return the winner's packet; the balance pays
    once."""
    world = build_world(postgres_database, SystemClock(), ["m-0"], funds=100_00)
    barrier = threading.Barrier(8)

    def send(_: int) -> Packet:
        barrier.wait(timeout=30)
        return world.packets.send(lucky("contested", 30_00, 3))

    with ThreadPoolExecutor(max_workers=8) as pool:
        sent = list(pool.map(send, range(8)))
    assert {packet.id for packet in sent} == {"contested"}
    assert {packet.created_at_us for packet in sent} == {sent[0].created_at_us}
    assert world.balance(f"user:{SENDER}:balance") == 70_00
    assert world.ledger.verify().ok
    assert world.packets.verify().ok
