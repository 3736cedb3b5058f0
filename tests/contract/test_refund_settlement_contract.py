"""Refund plans carried out in the ledger on every adapter: the balance at once, cards through
refund clearing when they are due, money-market refunds frozen until the confirmation time."""

from __future__ import annotations

import pytest

from hongbao.identity.funding import (
    CreditCardSource,
    DebitCardSource,
    FundingSource,
    MoneyMarketSource,
    TimeOfDay,
    mask_card_number,
)
from hongbao.identity.service import IdentityService, funding_from_stored
from hongbao.identity.users import UserStatus
from hongbao.identity.verification import SimulatedProvider
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import CAPTURE_KIND, EXPIRE_KIND, PacketService, SendPacket
from hongbao.platform.clock import ManualClock
from hongbao.platform.scheduler import Scheduler
from hongbao.refunds.records import RefundState
from hongbao.refunds.routes import RefundPlan, RefundRoute, plan_refund
from hongbao.refunds.settlement import SETTLE_KIND, settle_handler, start_refund

HOUR = 3600
CARD = mask_card_number("4111111111111111")


@pytest.fixture
def sources(world: PacketService) -> dict[str, FundingSource]:
    identity = IdentityService(world.database, world.clock, SimulatedProvider(b"r" * 32))
    added = [
        DebitCardSource("alice-debit", "alice", "ICBC", CARD),
        CreditCardSource("alice-credit", "alice", "CMB", CARD, 28),
        MoneyMarketSource("alice-mm", "alice", (TimeOfDay(15, 0),)),
    ]
    return {source.id: identity.add_funding_source(source) for source in added}


def scheduler_for(world: PacketService) -> Scheduler:
    scheduler = Scheduler(world.database, world.clock)
    scheduler.register(SETTLE_KIND, settle_handler)
    scheduler.register(CAPTURE_KIND, world.capture_handler)
    # These tests refund the escrow themselves, standing in for the packet's expiry.
    scheduler.register(EXPIRE_KIND, lambda uow, payload, now_us: None)
    return scheduler


def funded_packet(world: PacketService, source: str, clock: ManualClock) -> str:
    """A 30.00 packet from ``source``, its card window (if any) closed: escrow holds 30.00."""
    world.send(SendPacket(f"p-{source}", PacketType.GROUP_NORMAL, "alice", Money.of(30_00, "CNY"),
                          3, source, group_id="friends"))  # fmt: skip
    clock.advance(seconds=15 * 60)
    scheduler_for(world).run_due()
    return f"p-{source}"


def refund(world: PacketService, packet_id: str, plan: RefundPlan, destination: str) -> None:
    world.database.transact(
        lambda uow: start_refund(
            uow, refund_id=f"r-{packet_id}", packet_id=packet_id, owner_id="alice",
            from_account_id=f"escrow:{packet_id}", destination_account_id=destination,
            plan=plan, now_us=world.clock.now_us(),
        )
    )  # fmt: skip


def balance_of(world: PacketService, account: str) -> int:
    return Ledger(world.database, world.clock).account(account).credit_balance


def state_of(world: PacketService, refund_id: str) -> RefundState:
    found = world.database.read(lambda uow: uow.recalls.refunds.get(refund_id))
    assert found is not None
    return found.state


def plan_for(world: PacketService, source: FundingSource) -> RefundPlan:
    now = world.clock.now_us()
    plan = plan_refund(source, UserStatus.NORMAL, Money.of(30_00, "CNY"), charged_at_us=now,
                       now_us=now)  # fmt: skip
    assert isinstance(plan, RefundPlan)
    return plan


def test_a_balance_refund_arrives_at_once(
    world: PacketService, sources: dict[str, FundingSource], clock: ManualClock
) -> None:
    del sources
    packet_id = funded_packet(world, "alice-balance", clock)
    before = balance_of(world, "user:alice:balance")
    balance_source = world.database.read(lambda uow: uow.identity.funding.get("alice-balance"))
    assert balance_source is not None
    plan = plan_for(world, funding_from_stored(balance_source))
    refund(world, packet_id, plan, "user:alice:balance")
    assert balance_of(world, "user:alice:balance") == before + 30_00
    assert state_of(world, f"r-{packet_id}") is RefundState.SETTLED
    assert Ledger(world.database, world.clock).verify().ok


@pytest.mark.parametrize("source_id", ["alice-debit", "alice-credit"])
def test_a_card_refund_waits_in_clearing_and_arrives_when_due(
    world: PacketService, sources: dict[str, FundingSource], clock: ManualClock, source_id: str
) -> None:
    """Debit: two hours; credit: three business days, less its fee to fee revenue."""
    destination = f"card:{source_id}"
    packet_id = funded_packet(world, source_id, clock)
    plan = plan_for(world, sources[source_id])
    assert plan.route in (RefundRoute.DEBIT_CARD, RefundRoute.CREDIT_CARD)
    refund(world, packet_id, plan, destination)
    assert balance_of(world, "clearing:CNY") == 30_00
    assert state_of(world, f"r-{packet_id}") is RefundState.IN_CLEARING
    scheduler = scheduler_for(world)
    clock.advance(microseconds=plan.arrives_at_us - clock.now_us() - 1)
    scheduler.run_due()
    assert state_of(world, f"r-{packet_id}") is RefundState.IN_CLEARING  # one microsecond early
    clock.advance(microseconds=1)
    scheduler.run_due()
    assert state_of(world, f"r-{packet_id}") is RefundState.SETTLED
    card = Ledger(world.database, world.clock).account(destination)
    assert card.credits_posted == plan.net.minor
    assert balance_of(world, "fees:CNY") == plan.fee.minor
    assert balance_of(world, "clearing:CNY") == 0
    assert Ledger(world.database, world.clock).verify().ok


def test_a_money_market_refund_is_frozen_until_the_confirmation_time(
    world: PacketService, sources: dict[str, FundingSource], clock: ManualClock
) -> None:
    packet_id = funded_packet(world, "alice-balance", clock)
    plan = plan_for(world, sources["alice-mm"])
    assert plan.frozen_until_us is not None
    refund(world, packet_id, plan, "user:alice:money_market")
    assert state_of(world, f"r-{packet_id}") is RefundState.FROZEN
    assert balance_of(world, "user:alice:money_market") == 0
    clock.advance(microseconds=plan.frozen_until_us - clock.now_us())
    assert scheduler_for(world).run_due().done == 1
    assert state_of(world, f"r-{packet_id}") is RefundState.RELEASED
    assert balance_of(world, "user:alice:money_market") == 30_00
    assert Ledger(world.database, world.clock).verify().ok
