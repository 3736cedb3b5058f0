"""Card-funded packets on every adapter: a 15-minute hold, claims paid while it is open, and a
card charged only for what was taken until the window closes (R-P2, R-X1)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from hongbao.funding.service import FundingService
from hongbao.funding.sources import (
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    mask_card_number,
)
from hongbao.fx import FxError
from hongbao.ledger.model import Account
from hongbao.ledger.service import Ledger
from hongbao.money import Money, convert
from hongbao.packets.authorization import AuthorizationState
from hongbao.packets.model import PacketState, PacketType
from hongbao.packets.service import (
    CAPTURE_KIND,
    EXPIRE_KIND,
    ClaimResult,
    PacketService,
    SendPacket,
)
from hongbao.platform.clock import ManualClock
from hongbao.platform.scheduler import Scheduler
from hongbao.refunds.records import RefundState
from hongbao.refunds.routes import RefundRoute
from hongbao.testing import FixedRates

WINDOW_SECONDS = 15 * 60
CARD_NUMBER = "4111111111111111"


@pytest.fixture
def rates(clock: ManualClock) -> FixedRates:
    published = FixedRates()
    published.publish("CNY", "USD", "0.1403", clock.now_us())
    return published


@pytest.fixture
def cards(world: PacketService, rates: FixedRates) -> PacketService:
    """Alice holds a debit card, a credit card and a US-dollar card."""
    funding = FundingService(world.database, world.clock)
    masked = mask_card_number(CARD_NUMBER)
    funding.add_funding_source(DebitCardSource("alice-debit", "alice", "ICBC", masked))
    funding.add_funding_source(CreditCardSource("alice-credit", "alice", "CMB", masked, 5))
    funding.add_funding_source(ForeignCardSource("alice-usd", "alice", "USD", masked))
    return PacketService(world.database, world.clock, rates=rates)


def scheduler_for(service: PacketService) -> Scheduler:
    scheduler = Scheduler(service.database, service.clock)
    scheduler.register(EXPIRE_KIND, service.expire_handler)
    scheduler.register(CAPTURE_KIND, service.capture_handler)
    return scheduler


def account(service: PacketService, account_id: str) -> Account:
    return Ledger(service.database, service.clock).account(account_id)


def group_packet(source: str, amount: int = 30_00, shares: int = 3) -> SendPacket:
    return SendPacket(
        f"card-{source}",
        PacketType.GROUP_NORMAL,
        "alice",
        Money.of(amount, "CNY"),
        shares,
        source,
        group_id="friends",
    )


def event_types(service: PacketService, packet_id: str) -> list[str]:
    def read(uow: object) -> list[str]:
        outbox = uow.outbox  # type: ignore[attr-defined]
        count = outbox.last_sequence(f"packet:{packet_id}")
        return [outbox.get_event(f"packet:{packet_id}#{n}").event_type for n in range(1, count + 1)]

    return service.database.read(read)


@pytest.mark.parametrize("source", ["alice-debit", "alice-credit"])
def test_a_card_packet_holds_the_card_and_charges_only_what_is_claimed_in_the_window(
    cards: PacketService, source: str
) -> None:
    packet = cards.send(group_packet(source))
    card = account(cards, f"card:{source}")
    assert (card.debits_pending, card.debits_posted) == (30_00, 0)
    assert account(cards, packet.escrow_account_id).credit_balance == 0

    assert cards.claim(packet.id, "bob").result is ClaimResult.CLAIMED
    card = account(cards, f"card:{source}")
    assert (card.debits_pending, card.debits_posted) == (20_00, 10_00)
    assert account(cards, packet.escrow_account_id).credit_balance == 0
    assert account(cards, "user:bob:balance").credit_balance == 10_00
    held = cards.authorization(packet.id)
    assert held is not None
    assert (held.state, held.charged_minor, held.sequence) == (AuthorizationState.HELD, 10_00, 1)
    assert Ledger(cards.database, cards.clock).verify().ok
    assert cards.verify().ok


def test_at_15_minutes_the_hold_is_captured_and_escrow_holds_the_remainder(
    cards: PacketService, clock: ManualClock
) -> None:
    packet = cards.send(group_packet("alice-debit"))
    cards.claim(packet.id, "bob")
    scheduler = scheduler_for(cards)
    clock.advance(seconds=WINDOW_SECONDS - 1)
    assert scheduler.run_due().ran == 0
    clock.advance(seconds=1)
    assert scheduler.run_due().done == 1

    card = account(cards, "card:alice-debit")
    assert (card.debits_pending, card.debits_posted) == (0, 30_00)
    assert account(cards, packet.escrow_account_id).credit_balance == 20_00
    captured = cards.authorization(packet.id)
    assert captured is not None
    assert (captured.state, captured.charged_minor) == (AuthorizationState.CAPTURED, 30_00)
    assert event_types(cards, packet.id) == ["PacketSent", "PacketClaimed", "AuthorizationCaptured"]
    assert cards.claim(packet.id, "carol").amount == Money.of(10_00, "CNY")
    assert Ledger(cards.database, cards.clock).verify().ok
    assert cards.verify().ok


def test_a_claim_after_the_window_captures_first_even_if_the_job_has_not_run(
    cards: PacketService, clock: ManualClock
) -> None:
    packet = cards.send(group_packet("alice-credit"))
    clock.advance(seconds=WINDOW_SECONDS)
    assert cards.claim(packet.id, "bob").result is ClaimResult.CLAIMED
    card = account(cards, "card:alice-credit")
    assert (card.debits_pending, card.debits_posted) == (0, 30_00)
    assert account(cards, packet.escrow_account_id).credit_balance == 20_00
    assert scheduler_for(cards).run_due().done == 1  # the late job finds nothing left to do
    assert event_types(cards, packet.id).count("AuthorizationCaptured") == 1
    assert Ledger(cards.database, cards.clock).verify().ok
    assert cards.verify().ok


def test_a_packet_emptied_inside_the_window_closes_its_hold_at_the_last_claim(
    cards: PacketService,
) -> None:
    packet = cards.send(group_packet("alice-debit", amount=20_00, shares=2))
    cards.claim(packet.id, "bob")
    cards.claim(packet.id, "carol")
    card = account(cards, "card:alice-debit")
    assert (card.debits_pending, card.debits_posted) == (0, 20_00)
    closed = cards.authorization(packet.id)
    assert closed is not None
    assert closed.state is AuthorizationState.CAPTURED
    assert cards.packet(packet.id).state is PacketState.EXHAUSTED
    assert Ledger(cards.database, cards.clock).verify().ok
    assert cards.verify().ok


def test_a_card_packet_expires_back_to_the_card_capturing_a_missed_window(
    cards: PacketService, clock: ManualClock
) -> None:
    """R-F1: the unclaimed 20.00 goes back to the debit card it came from, through refund
    clearing, arriving two hours after the expiry."""
    packet = cards.send(group_packet("alice-debit"))
    cards.claim(packet.id, "bob")
    clock.advance(seconds=24 * 3600)
    scheduler = Scheduler(cards.database, clock)  # only expiry: the capture job never ran
    scheduler.register(EXPIRE_KIND, cards.expire_handler)
    assert scheduler.run_due().done == 1
    assert cards.packet(packet.id).state is PacketState.EXPIRED
    assert account(cards, "card:alice-debit").debits_posted == 30_00
    assert account(cards, packet.escrow_account_id).credit_balance == 0
    refund = cards.database.read(lambda uow: uow.refunds.get(f"expiry:{packet.id}"))
    assert refund is not None
    assert (refund.route, refund.state, refund.amount_minor) == (
        RefundRoute.DEBIT_CARD,
        RefundState.IN_CLEARING,
        20_00,
    )
    assert refund.arrives_at_us == clock.now_us() + 2 * 3600 * 1_000_000
    assert account(cards, "clearing:CNY").credit_balance == 20_00


def test_a_foreign_card_is_charged_in_its_currency_at_the_send_time_rate(
    cards: PacketService, rates: FixedRates, clock: ManualClock
) -> None:
    packet = cards.send(group_packet("alice-usd", amount=10_01, shares=3))
    held = cards.authorization(packet.id)
    assert held is not None
    assert (held.charge_currency, held.fx_rate, held.fx_rate_as_of_us) == (
        "USD",
        "0.1403",
        clock.now_us(),
    )
    whole = convert(Money.of(10_01, "CNY"), Decimal("0.1403"), "USD", ROUND_HALF_UP).target
    assert held.authorized_minor == whole.minor == 1_40
    rates.publish("CNY", "USD", "0.2000", clock.now_us())  # a later rate changes nothing
    cards.claim(packet.id, "bob")  # 3.34 CNY
    assert account(cards, "card:alice-usd").debits_posted == 47  # round_half_up(334 * 0.1403)
    clock.advance(seconds=WINDOW_SECONDS)
    scheduler_for(cards).run_due()
    usd_card = account(cards, "card:alice-usd")
    assert (usd_card.debits_pending, usd_card.debits_posted) == (0, 1_40)
    assert account(cards, packet.escrow_account_id).credit_balance == 10_01 - 3_34
    assert account(cards, "fx:USD").credit_balance == 1_40
    assert account(cards, "fx:CNY").credit_balance == -10_01
    assert Ledger(cards.database, cards.clock).verify().ok
    assert cards.verify().ok


@pytest.mark.parametrize(
    ("rate_age_minutes", "code"), [(61, "fx.rate_stale"), (None, "fx.rate_missing")]
)
def test_a_foreign_card_without_a_fresh_rate_is_refused_and_nothing_is_written(
    cards: PacketService, clock: ManualClock, rate_age_minutes: int | None, code: str
) -> None:
    rates = FixedRates()
    if rate_age_minutes is not None:
        rates.publish("CNY", "USD", "0.1403", clock.now_us() - rate_age_minutes * 60_000_000)
    service = PacketService(cards.database, cards.clock, rates=rates)
    with pytest.raises(FxError) as refused:
        service.send(group_packet("alice-usd"))
    assert refused.value.code == code
    assert service.database.read(lambda uow: uow.packets.packets.get("card-alice-usd")) is None
    assert account(cards, "card:alice-usd").debits_pending == 0
