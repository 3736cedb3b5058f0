"""Claims in batches (group commit) on every adapter: a batch answers each claim exactly as the
same claims one after another would, moves each share's money once and keeps R-M2."""

from __future__ import annotations

import pytest

from hongbao.funding.service import FundingService
from hongbao.funding.sources import DebitCardSource, mask_card_number
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.claims import MAX_CLAIMS_PER_BATCH, ClaimOutcome, ClaimRequest
from hongbao.packets.model import PacketState, PacketType
from hongbao.packets.service import ClaimAnswer, PacketService, SendPacket
from hongbao.packets.split import PacketError
from hongbao.platform.errors import InvariantViolation
from hongbao.storage.unit_of_work import UnitOfWork


def lucky(packet_id: str, shares: int = 3, amount: int = 10_00) -> SendPacket:
    return SendPacket(
        packet_id,
        PacketType.GROUP_LUCKY,
        "alice",
        Money.of(amount, "CNY"),
        shares,
        "alice-balance",
        group_id="friends",
    )


def claim_batch(service: PacketService, *pairs: tuple[str, str]) -> list[ClaimAnswer]:
    requests = [ClaimRequest(packet_id, user_id) for packet_id, user_id in pairs]
    return service.database.transact(lambda uow: service.claim_many_in(uow, requests))


def results(answers: list[ClaimAnswer]) -> list[str]:
    return [a.result.value if isinstance(a, ClaimOutcome) else a.code for a in answers]


def event_types(service: PacketService, packet_id: str) -> list[str]:
    def read(uow: UnitOfWork) -> list[str]:
        return [e.event_type for e in uow.outbox.events_after(f"packet:{packet_id}", 0, 100)]

    return service.database.read(read)


def assert_money_kept(service: PacketService) -> None:
    assert Ledger(service.database, service.clock).verify().ok
    assert service.verify().ok


def test_a_batch_answers_each_claim_as_if_they_queued_one_by_one(world: PacketService) -> None:
    world.send(lucky("p-1"))
    answers = claim_batch(
        world,
        ("p-1", "bob"),
        ("p-1", "carol"),
        ("p-1", "bob"),
        ("p-1", "nobody"),
        ("p-1", "dave"),
        ("p-missing", "bob"),
        ("p-1", "alice"),
    )
    assert results(answers) == [
        "claimed",
        "claimed",
        "already_claimed",
        "packets.unknown_user",
        "not_a_member",
        "packets.unknown_packet",
        "claimed",
    ]
    assert isinstance(answers[3], PacketError)
    shares = world.shares("p-1")
    assert [share.claimed_by for share in shares] == ["bob", "carol", "alice"]
    amounts = [a.amount.minor for a in answers if isinstance(a, ClaimOutcome) and a.amount]
    assert amounts == [
        shares[0].amount_minor,
        shares[1].amount_minor,
        shares[0].amount_minor,
        shares[2].amount_minor,
    ]
    assert world.packet("p-1").state is PacketState.EXHAUSTED
    assert event_types(world, "p-1") == ["PacketSent"] + ["PacketClaimed"] * 3 + ["PacketExhausted"]
    assert_money_kept(world)


def test_claims_past_the_last_share_in_a_batch_find_the_packet_empty(
    world: PacketService,
) -> None:
    world.send(lucky("p-1", shares=1))
    answers = claim_batch(world, ("p-1", "bob"), ("p-1", "carol"), ("p-1", "bob"))
    assert results(answers) == ["claimed", "packet_empty", "already_claimed"]
    assert_money_kept(world)


def test_a_batch_over_several_packets_pays_each_packet_from_its_own_escrow(
    world: PacketService,
) -> None:
    world.send(lucky("p-1", shares=2, amount=2_00))
    world.send(lucky("p-2", shares=2, amount=4_00))
    answers = claim_batch(
        world, ("p-2", "bob"), ("p-1", "bob"), ("p-1", "carol"), ("p-2", "carol"), ("p-1", "alice")
    )
    assert results(answers) == ["claimed", "claimed", "claimed", "claimed", "packet_empty"]
    paid = {
        packet_id: sum(share.amount_minor for share in world.shares(packet_id) if share.claimed_by)
        for packet_id in ("p-1", "p-2")
    }
    assert paid == {"p-1": 2_00, "p-2": 4_00}
    assert [world.packet(p).state for p in ("p-1", "p-2")] == [PacketState.EXHAUSTED] * 2
    assert_money_kept(world)


def test_a_batch_after_earlier_claims_continues_from_the_next_free_share(
    world: PacketService,
) -> None:
    world.send(lucky("p-1"))
    first = world.claim("p-1", "bob")
    answers = claim_batch(world, ("p-1", "bob"), ("p-1", "carol"))
    assert results(answers) == ["already_claimed", "claimed"]
    assert isinstance(answers[0], ClaimOutcome)
    assert answers[0].amount == first.amount
    assert [share.claimed_by for share in world.shares("p-1")] == ["bob", "carol", None]
    assert_money_kept(world)


def test_a_refusal_in_a_batch_is_returned_not_raised_and_writes_nothing(
    world: PacketService,
) -> None:
    world.send(lucky("p-1"))
    answers = claim_batch(world, ("p-1", "nobody"), ("p-none", "bob"))
    assert results(answers) == ["packets.unknown_user", "packets.unknown_packet"]
    assert [share.claimed_by for share in world.shares("p-1")] == [None, None, None]
    assert event_types(world, "p-1") == ["PacketSent"]


def test_a_single_claim_still_raises_its_refusal(world: PacketService) -> None:
    with pytest.raises(PacketError) as refused:
        world.claim("p-none", "bob")
    assert refused.value.code == "packets.unknown_packet"


def test_a_batch_is_bounded(world: PacketService) -> None:
    too_many = [("p-1", "bob")] * (MAX_CLAIMS_PER_BATCH + 1)
    with pytest.raises(InvariantViolation):
        claim_batch(world, *too_many)


def test_card_funded_claims_in_a_batch_are_funded_from_the_hold_one_by_one(
    world: PacketService,
) -> None:
    funding = FundingService(world.database, world.clock)
    funding.add_funding_source(
        DebitCardSource("alice-debit", "alice", "ICBC", mask_card_number("4111111111111111"))
    )
    card_packet = SendPacket(
        "card-1",
        PacketType.GROUP_NORMAL,
        "alice",
        Money.of(30_00, "CNY"),
        3,
        "alice-debit",
        group_id="friends",
    )
    world.send(card_packet)
    world.send(lucky("p-1", shares=2))
    answers = claim_batch(
        world, ("card-1", "bob"), ("p-1", "bob"), ("card-1", "carol"), ("card-1", "alice")
    )
    assert results(answers) == ["claimed"] * 4
    card = Ledger(world.database, world.clock).account("card:alice-debit")
    assert (card.debits_pending, card.debits_posted) == (0, 30_00)
    assert world.packet("card-1").state is PacketState.EXHAUSTED
    assert event_types(world, "card-1")[-2:] == ["PacketClaimed", "PacketExhausted"]
    assert_money_kept(world)
