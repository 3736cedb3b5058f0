"""Red packets on every adapter: send, claim, exhaust and expire, with the money in the ledger."""

from __future__ import annotations

import pytest

from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.model import PacketState, PacketType
from hongbao.packets.service import (
    EXPIRE_KIND,
    ClaimResult,
    PacketService,
    SendPacket,
)
from hongbao.packets.split import PacketError
from hongbao.platform.clock import ManualClock
from hongbao.platform.scheduler import Scheduler

PEOPLE = ("alice", "bob", "carol", "dave")


def balance(service: PacketService, user: str) -> int:
    return Ledger(service.database, service.clock).account(f"user:{user}:balance").credit_balance


def lucky(packet_id: str = "p-1", amount: int = 10_00, shares: int = 3) -> SendPacket:
    return SendPacket(
        packet_id,
        PacketType.GROUP_LUCKY,
        "alice",
        Money.of(amount, "CNY"),
        shares,
        "alice-balance",
        group_id="friends",
    )


def test_a_lucky_packet_is_paid_out_exactly_and_then_empty(world: PacketService) -> None:
    packet = world.send(lucky())
    assert balance(world, "alice") == 990_00
    outcomes = [world.claim(packet.id, name) for name in ("bob", "carol", "alice", "dave")]
    results = [outcome.result for outcome in outcomes]
    assert results == [ClaimResult.CLAIMED] * 3 + [ClaimResult.NOT_A_MEMBER]
    paid = sum(outcome.amount.minor for outcome in outcomes if outcome.amount is not None)
    assert paid == 10_00
    assert world.packet(packet.id).state is PacketState.EXHAUSTED
    assert balance(world, "bob") + balance(world, "carol") + balance(world, "alice") == 1_000_00
    assert Ledger(world.database, world.clock).account(packet.escrow_account_id).credit_balance == 0
    assert Ledger(world.database, world.clock).verify().ok


def test_a_claim_retried_returns_the_same_share_and_moves_nothing(world: PacketService) -> None:
    world.send(lucky())
    first = world.claim("p-1", "bob")
    again = world.claim("p-1", "bob")
    assert (again.result, again.amount) == (ClaimResult.ALREADY_CLAIMED, first.amount)
    assert balance(world, "bob") == first.amount.minor  # type: ignore[union-attr]


def test_an_emptied_packet_says_so(world: PacketService) -> None:
    world.send(lucky(shares=1))
    world.claim("p-1", "bob")
    assert world.claim("p-1", "carol").result is ClaimResult.PACKET_EMPTY


def test_a_personal_packet_is_for_its_recipient_only(world: PacketService) -> None:
    world.send(
        SendPacket(
            "p-2",
            PacketType.PERSONAL,
            "alice",
            Money.of(52_00, "CNY"),
            1,
            "alice-balance",
            recipient_id="bob",
        )
    )
    assert world.claim("p-2", "alice").result is ClaimResult.SENDER_CANNOT_CLAIM_PERSONAL
    assert world.claim("p-2", "carol").result is ClaimResult.NOT_THE_RECIPIENT
    assert world.claim("p-2", "bob").result is ClaimResult.CLAIMED
    assert balance(world, "bob") == 52_00


def test_sending_is_idempotent_on_the_packet_id(world: PacketService) -> None:
    first = world.send(lucky())
    assert world.send(lucky()) == first
    assert balance(world, "alice") == 990_00
    with pytest.raises(PacketError) as refused:
        world.send(lucky(amount=11_00))
    assert refused.value.code == "packets.already_exists"


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (lucky(amount=2_000_00), "packets.amount_over_limit"),
        (lucky(packet_id="has space"), "packets.id_invalid"),
        (lucky(packet_id="p" * 65), "packets.id_invalid"),
        (lucky(shares=101), "packets.shares_out_of_range"),
        (lucky(amount=2, shares=3), "packets.total_too_small"),
        (
            SendPacket(
                "p-9",
                PacketType.GROUP_NORMAL,
                "dave",
                Money.of(100, "CNY"),
                1,
                "dave-balance",
                group_id="friends",
            ),
            "packets.not_a_member",
        ),
        (
            SendPacket(
                "p-9",
                PacketType.ENTERPRISE,
                "alice",
                Money.of(100, "CNY"),
                1,
                "alice-balance",
                group_id="friends",
            ),
            "packets.not_enterprise",
        ),
        (
            SendPacket(
                "p-9",
                PacketType.PERSONAL,
                "alice",
                Money.of(100, "CNY"),
                1,
                "bob-balance",
                recipient_id="bob",
            ),
            "packets.unknown_funding_source",
        ),
        (
            SendPacket(
                "p-9",
                PacketType.PERSONAL,
                "bob",
                Money.of(100, "CNY"),
                1,
                "bob-balance",
                recipient_id="carol",
            ),
            "packets.insufficient_funds",
        ),
    ],
)
def test_a_refused_send_has_a_stable_code_and_writes_nothing(
    world: PacketService, command: SendPacket, code: str
) -> None:
    before = Ledger(world.database, world.clock).verify()
    with pytest.raises(PacketError) as refused:
        world.send(command)
    assert refused.value.code == code
    after = Ledger(world.database, world.clock).verify()
    assert (after.accounts, after.transfers) == (before.accounts, before.transfers)
    with pytest.raises(PacketError):
        world.packet(command.packet_id)


def test_at_24_hours_the_remainder_goes_back_and_the_packet_closes(
    world: PacketService, clock: ManualClock
) -> None:
    packet = world.send(lucky(amount=9_00, shares=3))
    claimed = world.claim(packet.id, "bob").amount
    scheduler = Scheduler(world.database, clock)
    scheduler.register(EXPIRE_KIND, world.expire_handler)
    clock.advance(seconds=24 * 3600 - 1)
    assert scheduler.run_due().ran == 0
    assert world.claim(packet.id, "carol").result is ClaimResult.CLAIMED
    clock.advance(seconds=1)
    assert world.claim(packet.id, "alice").result is ClaimResult.PACKET_EXPIRED
    assert scheduler.run_due().done == 1
    closed = world.packet(packet.id)
    assert closed.state is PacketState.EXPIRED
    assert balance(world, "alice") == 1_000_00 - closed.claimed_minor
    assert claimed is not None
    assert Ledger(world.database, world.clock).account(packet.escrow_account_id).credit_balance == 0
    assert Ledger(world.database, world.clock).verify().ok


def test_claims_are_visible_to_the_sender_and_to_claimers_of_a_group_packet_only(
    world: PacketService,
) -> None:
    world.send(lucky())
    world.claim("p-1", "bob")
    world.claim("p-1", "carol")
    assert [s.claimed_by for s in world.claims_seen_by("p-1", "alice")] == ["bob", "carol"]
    assert [s.claimed_by for s in world.claims_seen_by("p-1", "bob")] == ["bob", "carol"]
    assert world.claims_seen_by("p-1", "dave") == []


def test_a_users_sent_and_received_history(world: PacketService) -> None:
    world.send(lucky())
    world.send(
        SendPacket(
            "p-2",
            PacketType.PERSONAL,
            "alice",
            Money.of(5_00, "CNY"),
            1,
            "alice-balance",
            recipient_id="bob",
        )
    )
    world.claim("p-1", "bob")
    world.claim("p-2", "bob")
    assert [p.id for p in world.sent_by("alice")] == ["p-1", "p-2"]
    assert {s.packet_id for s in world.received_by("bob")} == {"p-1", "p-2"}
    assert world.claims_seen_by("p-2", "carol") == []
