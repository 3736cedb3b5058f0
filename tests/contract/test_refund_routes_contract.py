"""Every row of the fund-return table, end to end on every adapter: expiry and recall plan the
refund, the scheduler carries it to arrival, and the ledger and packet invariants (R-M2) hold
after every test.

The clock starts on Thursday 2026-02-12 10:00 Beijing time, just before the 2026 Spring
Festival: Saturday 02-14 is a make-up working day, 02-15..02-23 are holidays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hongbao.funding.service import FundingService, open_balance
from hongbao.funding.sources import (
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    MaintenanceWindow,
    MoneyMarketSource,
    TimeOfDay,
    mask_card_number,
)
from hongbao.identity.devices import Device, DeviceFingerprint, FormFactor, Platform, VendorSkin
from hongbao.identity.service import IdentityService
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserStatus, UserType
from hongbao.identity.verification import SimulatedProvider
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import CAPTURE_KIND, EXPIRE_KIND, PacketService, SendPacket
from hongbao.platform.clock import ManualClock, from_datetime, to_datetime
from hongbao.platform.scheduler import Scheduler
from hongbao.policy.document import default_policy
from hongbao.policy.store import PolicyStore
from hongbao.recall.model import DecisionResult, NextStepKind
from hongbao.recall.reasons import ReasonCode
from hongbao.recall.records import RecallState
from hongbao.recall.service import RecallCommand, RecallOutcome, RecallService
from hongbao.refunds.desk import RefundDesk
from hongbao.refunds.network import PayoutOutcome, SimulatedCardNetwork
from hongbao.refunds.records import Refund, RefundState, RefundTrigger
from hongbao.refunds.routes import RefundRoute
from hongbao.refunds.settlement import RECHECK_KIND, SETTLE_KIND
from hongbao.refunds.verification import verify_refunds
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.social.service import SocialService
from hongbao.storage.unit_of_work import Database
from hongbao.testing import FixedRates

BEIJING = ZoneInfo("Asia/Shanghai")
PHONE = DeviceFingerprint("alice-phone", "alice-sim")
MINUTE = 60
HOUR = 60 * MINUTE


def beijing_us(month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return from_datetime(datetime(2026, month, day, hour, minute, tzinfo=BEIJING))


def beijing(moment_us: int) -> datetime:
    return to_datetime(moment_us).astimezone(BEIJING)


START = beijing_us(2, 12, 10)


def policies(*, smart_routing: bool = False) -> PolicyStore:
    """The default policy, without tier SMS checks (these tests are about money)."""
    policy = default_policy()
    tier = policy.recall.tiers.class_i.model_copy(update={"verification": ()})
    tiers = policy.recall.tiers.model_copy(update={"class_i": tier})
    recall = policy.recall.model_copy(update={"tiers": tiers})
    refunds = policy.refunds.model_copy(update={"smart_routing": smart_routing})
    return PolicyStore.fixed(
        policy.model_copy(
            update={"recall": recall, "refunds": refunds, "version": f"test-{smart_routing}@1"}
        )
    )


@dataclass
class Bank:
    """Everything one test drives: the services, the scheduler, the card network, the rates."""

    clock: ManualClock
    database: Database
    identity: IdentityService
    packets: PacketService
    recalls: RecallService
    desk: RefundDesk
    network: SimulatedCardNetwork
    rates: FixedRates
    scheduler: Scheduler

    def send(self, packet_id: str, source: str, amount: int = 100_00) -> str:
        self.packets.send(
            SendPacket(
                packet_id,
                PacketType.GROUP_NORMAL,
                "alice",
                Money.of(amount, "CNY"),
                2,
                source,
                group_id="friends",
                device=PHONE,
            )
        )
        return packet_id

    def recall(
        self, packet_id: str, key: str | None = None, *, accept_balance: bool = False
    ) -> RecallOutcome:
        command = RecallCommand(
            key or f"k-{packet_id}", packet_id, "alice", PHONE, accept_balance=accept_balance
        )
        return self.recalls.recall(command)

    def run_until(self, moment_us: int) -> None:
        """Advance to ``moment_us`` and run whatever became due."""
        self.clock.advance(microseconds=moment_us - self.clock.now_us())
        self.scheduler.run_due()

    def refund(self, refund_id: str) -> Refund:
        return self.desk.refund(refund_id)

    def balance(self, account_id: str) -> int:
        return Ledger(self.database, self.clock).account(account_id).credit_balance

    def card_credits(self, account_id: str) -> int:
        return Ledger(self.database, self.clock).account(account_id).credits_posted


def open_bank(database: Database, *, smart_routing: bool = False) -> Bank:
    clock = ManualClock(START)
    identity = IdentityService(
        database, clock, SimulatedProvider(b"r" * 32), on_register=(open_balance,)
    )
    funding = FundingService(database, clock)
    social = SocialService(database, clock)
    registered = START - 30 * 24 * HOUR * 1_000_000
    for name in ("alice", "bob"):
        identity.register_user(
            User(
                name,
                name.title(),
                AccountTier.CLASS_I,
                UserType.NORMAL,
                registered,
                RealNameStatus.VERIFIED,
            )
        )
    social.create_group(Group("friends", "Friends", GroupType.FAMILY, "alice", START))
    social.add_member(GroupMember("friends", "bob", START))
    identity.register_device(
        Device(
            "alice-phone",
            "alice",
            "alice-sim",
            Platform.IOS,
            "17.1",
            VendorSkin.NONE,
            "iPhone 15",
            FormFactor.PHONE,
            START,
        )
    )
    card = mask_card_number("4111111111111111")
    for source in (
        # Thursdays 14:00-16:00 the bank is down for maintenance.
        DebitCardSource(
            "alice-debit",
            "alice",
            "ICBC",
            card,
            (MaintenanceWindow(TimeOfDay(14, 0), TimeOfDay(16, 0), weekday=4),),
        ),
        CreditCardSource("alice-credit", "alice", "CMB", card, 28),
        CreditCardSource("alice-billed", "alice", "CMB", card, 12),  # statement at 02-13 00:00
        MoneyMarketSource("alice-mm", "alice", (TimeOfDay(15, 0),)),
        ForeignCardSource("alice-usd", "alice", "USD", card),
    ):
        funding.add_funding_source(source)
    ledger = Ledger(database, clock)
    ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    for target in ("user:alice:balance", "user:alice:money_market"):
        ledger.transfer(TransferRequest(f"top-up-{target}", 1, 1_000_00, "bank", target, "CNY"))
    store, rates, network = (
        policies(smart_routing=smart_routing),
        FixedRates(),
        SimulatedCardNetwork(),
    )
    rates.publish("CNY", "USD", "0.1405", START - 10 * MINUTE * 1_000_000)
    packets = PacketService(database, clock, store, rates)
    desk = RefundDesk(database, clock, store, rates, network)
    scheduler = Scheduler(database, clock)
    scheduler.register(EXPIRE_KIND, packets.expire_handler)
    scheduler.register(CAPTURE_KIND, packets.capture_handler)
    scheduler.register(SETTLE_KIND, desk.settle_handler)
    scheduler.register(RECHECK_KIND, packets.recheck_handler)
    return Bank(
        clock,
        database,
        identity,
        packets,
        RecallService(database, clock, packets, store),
        desk,
        network,
        rates,
        scheduler,
    )


@pytest.fixture
def bank(database: Database) -> Iterator[Bank]:
    opened = open_bank(database)
    yield opened
    assert_invariants(opened)


@pytest.fixture
def smart_bank(database: Database) -> Iterator[Bank]:
    opened = open_bank(database, smart_routing=True)
    yield opened
    assert_invariants(opened)


def assert_invariants(bank: Bank) -> None:
    """R-M2 after every test: the ledger, the packets and the refunds agree."""
    assert Ledger(bank.database, bank.clock).verify().ok
    assert bank.packets.verify().ok
    report = bank.database.read(verify_refunds)
    assert report.ok, report.problems


def after_card_window(bank: Bank) -> None:
    bank.run_until(bank.clock.now_us() + 15 * MINUTE * 1_000_000)


def refund_outcome(decision_outcomes: RecallOutcome) -> dict[str, object]:
    (outcome,) = [
        o for o in decision_outcomes.decision.outcomes if o.rule == "refund_route_available"
    ]
    return dict(outcome.facts)


# --- balance -------------------------------------------------------------------------------


def test_an_expired_balance_packet_is_refunded_to_the_balance_at_once(bank: Bank) -> None:
    before = bank.balance("user:alice:balance")
    bank.send("p-1", "alice-balance")
    bank.run_until(START + 24 * HOUR * 1_000_000)
    refund = bank.refund("expiry:p-1")
    assert (refund.route, refund.state, refund.trigger) == (
        RefundRoute.BALANCE,
        RefundState.SETTLED,
        RefundTrigger.EXPIRY,
    )
    assert bank.balance("user:alice:balance") == before
    assert [hop.to_account_id for hop in refund.hops] == ["user:alice:balance"]


def test_an_expiry_refund_waits_while_the_senders_account_is_frozen(bank: Bank) -> None:
    """R-F2: the balance cannot take money while the account is abnormal; the refund is held
    in clearing and lands once the account is normal again."""
    bank.send("p-1", "alice-balance")
    after_send = bank.balance("user:alice:balance")
    bank.identity.set_status("alice", UserStatus.FROZEN, "investigation")
    bank.run_until(START + 24 * HOUR * 1_000_000)
    held = bank.refund("expiry:p-1")
    assert held.state is RefundState.HELD
    assert held.last_error == "refunds.account_abnormal"
    assert bank.balance("clearing:CNY") == 100_00
    assert bank.balance("user:alice:balance") == after_send
    bank.run_until(held.next_attempt_at_us or 0)  # still frozen: checked again later
    assert bank.refund("expiry:p-1").state is RefundState.HELD
    bank.identity.set_status("alice", UserStatus.NORMAL, None)
    bank.run_until(bank.refund("expiry:p-1").next_attempt_at_us or 0)
    assert bank.refund("expiry:p-1").state is RefundState.SETTLED
    assert bank.balance("user:alice:balance") == after_send + 100_00
    assert bank.balance("clearing:CNY") == 0


# --- debit card ----------------------------------------------------------------------------


def test_a_recalled_debit_card_packet_arrives_on_the_card_two_hours_later(bank: Bank) -> None:
    bank.send("p-1", "alice-debit")
    after_card_window(bank)
    eligibility = bank.recalls.eligibility("p-1", "alice", PHONE)
    assert eligibility.result is DecisionResult.ALLOW
    outcome = bank.recall("p-1")
    assert outcome.recall.state is RecallState.DONE
    assert outcome.recall.refund_id == "recall:p-1"
    facts = refund_outcome(outcome)
    assert (facts["route"], facts["available"], facts["fee"]) == ("debit_card", True, 0)
    refund = bank.refund("recall:p-1")
    assert refund.state is RefundState.IN_CLEARING
    assert refund.arrives_at_us == bank.clock.now_us() + 2 * HOUR * 1_000_000
    assert facts["arrives_at"] == refund.arrives_at_us  # what the answer showed is what runs
    bank.run_until(refund.arrives_at_us - 1)
    assert bank.refund("recall:p-1").state is RefundState.IN_CLEARING
    bank.run_until(refund.arrives_at_us)
    assert bank.refund("recall:p-1").state is RefundState.SETTLED
    assert bank.card_credits("card:alice-debit") == 100_00


def test_a_debit_card_recall_during_maintenance_is_denied_until_the_window_ends(
    bank: Bank,
) -> None:
    """The window is Thursday 14:00-16:00: refused from its first instant, allowed at its end."""
    bank.run_until(beijing_us(2, 12, 13, 30))
    bank.send("p-1", "alice-debit")
    bank.run_until(beijing_us(2, 12, 14))
    denied = bank.recall("p-1", "k-1")
    assert denied.decision.result is DecisionResult.DENY
    assert denied.decision.reasons == (ReasonCode.REFUND_BANK_MAINTENANCE,)
    (failure,) = denied.decision.failures
    assert failure.next_step is not None
    assert failure.next_step.kind is NextStepKind.RETRY_AT
    assert failure.next_step.retry_at_us == beijing_us(2, 12, 16)
    bank.run_until(beijing_us(2, 12, 16))
    assert bank.recall("p-1", "k-2").recall.state is RecallState.DONE
    assert bank.refund("recall:p-1").route is RefundRoute.DEBIT_CARD


def test_an_expiry_during_maintenance_waits_in_clearing_for_the_window_to_end(bank: Bank) -> None:
    """Sent Wednesday 14:30, expires Thursday 14:30 inside the window: held until 16:00, then
    on its way to the card for two hours."""
    bank.run_until(beijing_us(2, 18, 14, 30))
    bank.send("p-1", "alice-debit")
    bank.run_until(beijing_us(2, 19, 14, 30))
    held = bank.refund("expiry:p-1")
    assert (held.state, held.last_error) == (RefundState.HELD, "refunds.bank_maintenance")
    assert held.next_attempt_at_us == beijing_us(2, 19, 16)
    bank.run_until(beijing_us(2, 19, 16))
    moving = bank.refund("expiry:p-1")
    assert moving.state is RefundState.IN_CLEARING
    assert moving.arrives_at_us == beijing_us(2, 19, 18)
    assert [hop.transfer_id for hop in moving.hops] == ["refund:expiry:p-1:hold"]
    bank.run_until(beijing_us(2, 19, 18))
    assert bank.refund("expiry:p-1").state is RefundState.SETTLED


def test_smart_routing_offers_the_balance_and_records_the_senders_acceptance(
    smart_bank: Bank,
) -> None:
    bank = smart_bank
    bank.run_until(beijing_us(2, 12, 13, 30))
    bank.send("p-1", "alice-debit")
    bank.run_until(beijing_us(2, 12, 14, 30))
    asked = bank.recall("p-1")
    assert asked.decision.result is DecisionResult.CHALLENGE
    assert asked.decision.reasons == (ReasonCode.REFUND_BALANCE_INSTEAD,)
    assert asked.recall.state is RecallState.CHALLENGED
    assert bank.desk.of_packet("p-1") == []  # nothing moved before the sender accepted
    before = bank.balance("user:alice:balance")
    accepted = bank.recall("p-1", accept_balance=True)
    assert accepted.recall.state is RecallState.DONE
    facts = refund_outcome(accepted)
    assert (facts["accepted"], facts["refusal"]) == (True, "refunds.bank_maintenance")
    refund = bank.refund("recall:p-1")
    assert (refund.route, refund.substituted, refund.state) == (
        RefundRoute.BALANCE,
        True,
        RefundState.SETTLED,
    )
    assert bank.balance("user:alice:balance") == before + 100_00


# --- credit card ---------------------------------------------------------------------------


def test_a_credit_card_refund_arrives_after_three_business_days_across_the_spring_festival(
    bank: Bank,
) -> None:
    """Thursday 02-12 10:15: Friday 02-13 (1), make-up Saturday 02-14 (2), holidays 02-15..23,
    Tuesday 02-24 (3). The 0.1 % fee (0.10 of 100.00) goes to fee revenue."""
    bank.send("p-1", "alice-credit")
    after_card_window(bank)
    bank.recall("p-1")
    refund = bank.refund("recall:p-1")
    assert (refund.fee_minor, refund.net_minor) == (10, 99_90)
    assert beijing(refund.arrives_at_us) == datetime(2026, 2, 24, 10, 15, tzinfo=BEIJING)
    assert "chinesecalendar" in (refund.calendar or "")
    bank.run_until(beijing_us(2, 23, 23, 59))
    assert bank.refund("recall:p-1").state is RefundState.IN_CLEARING
    bank.run_until(refund.arrives_at_us)
    assert bank.refund("recall:p-1").state is RefundState.SETTLED
    assert bank.card_credits("card:alice-credit") == 99_90
    assert bank.balance("fees:CNY") == 10


@pytest.mark.parametrize(
    ("sent_at", "arrives"),
    [
        pytest.param((3, 6, 10), (3, 11, 10, 15), id="Friday: over the weekend to Wednesday"),
        pytest.param(
            (2, 13, 10),
            (2, 25, 10, 15),
            id="Friday before the festival: make-up Saturday, then the holiday",
        ),
    ],
)
def test_a_credit_card_refund_counts_business_days_only(
    bank: Bank, sent_at: tuple[int, int, int], arrives: tuple[int, int, int, int]
) -> None:
    bank.run_until(beijing_us(*sent_at))
    bank.send("p-1", "alice-credit")
    after_card_window(bank)
    bank.recall("p-1")
    refund = bank.refund("recall:p-1")
    assert refund.arrives_at_us == beijing_us(*arrives)
    bank.run_until(refund.arrives_at_us)
    assert bank.refund("recall:p-1").state is RefundState.SETTLED


def test_a_billed_credit_card_charge_is_not_recalled_and_expiry_returns_it_to_the_balance(
    bank: Bank,
) -> None:
    """Statement day 12: issued at 02-13 00:00. Before it the card can take the refund, from
    it a recall is denied; the expiry then pays the balance, the card never will."""
    bank.send("p-1", "alice-billed")
    after_card_window(bank)
    assert bank.recalls.eligibility("p-1", "alice", PHONE).result is DecisionResult.ALLOW
    bank.run_until(beijing_us(2, 13, 8))  # after the 00:00 statement (and the night blackout)
    denied = bank.recall("p-1")
    assert denied.decision.reasons == (ReasonCode.REFUND_STATEMENT_ISSUED,)
    before = bank.balance("user:alice:balance")
    bank.run_until(START + 24 * HOUR * 1_000_000)
    refund = bank.refund("expiry:p-1")
    assert (refund.route, refund.substituted, refund.state) == (
        RefundRoute.BALANCE,
        True,
        RefundState.SETTLED,
    )
    assert bank.balance("user:alice:balance") == before + 100_00


# --- money market --------------------------------------------------------------------------


def test_a_money_market_refund_is_frozen_until_the_next_confirmation_then_released(
    bank: Bank,
) -> None:
    """R-F3: expiry on Friday 10:00, confirmation at 15:00; the sender sees both."""
    bank.send("p-1", "alice-mm")
    bank.run_until(START + 24 * HOUR * 1_000_000)
    (frozen,) = [r for r in bank.desk.of_owner("alice") if r.state is RefundState.FROZEN]
    assert frozen.amount_minor == 100_00
    assert frozen.frozen_until_us == beijing_us(2, 13, 15)
    bank.run_until(beijing_us(2, 13, 15))
    released = bank.refund("expiry:p-1")
    assert released.state is RefundState.RELEASED
    assert bank.balance("user:alice:money_market") == 1_000_00


# --- foreign card --------------------------------------------------------------------------


def test_a_foreign_card_is_refunded_at_the_rate_of_the_recall_with_both_rates_recorded(
    bank: Bank,
) -> None:
    """100.00 CNY charged at 0.1405 (14.05 USD); recalled at 0.1398: 13.98 USD back to the
    card, 0.07 USD kept by the FX position."""
    bank.send("p-1", "alice-usd")
    after_card_window(bank)
    bank.rates.publish("CNY", "USD", "0.1398", bank.clock.now_us())
    outcome = bank.recall("p-1")
    assert outcome.recall.state is RecallState.DONE
    refund = bank.refund("recall:p-1")
    assert (refund.card_currency, refund.card_amount_minor) == ("USD", 13_98)
    assert (refund.rate_at_send, refund.rate_at_refund) == ("0.1405", "0.1398")
    assert (refund.amount_at_send_rate_minor, refund.fx_difference_minor) == (14_05, 7)
    fx_before = bank.balance("fx:USD")
    bank.run_until(refund.arrives_at_us)
    assert bank.refund("recall:p-1").state is RefundState.SETTLED
    assert bank.card_credits("card:alice-usd") == 13_98
    assert bank.balance("fx:USD") == fx_before


def test_a_foreign_card_without_a_fresh_rate_is_denied_and_an_expiry_waits_for_one(
    bank: Bank,
) -> None:
    bank.send("p-1", "alice-usd")
    bank.run_until(START + 2 * HOUR * 1_000_000)  # the send-time rate is now too old
    denied = bank.recall("p-1")
    assert denied.decision.reasons == (ReasonCode.REFUND_FX_RATE_UNAVAILABLE,)
    bank.run_until(START + 24 * HOUR * 1_000_000)
    held = bank.refund("expiry:p-1")
    assert (held.state, held.last_error) == (RefundState.HELD, "refunds.fx_rate_unavailable")
    bank.rates.publish("CNY", "USD", "0.1410", bank.clock.now_us())
    bank.run_until(held.next_attempt_at_us or 0)
    resumed = bank.refund("expiry:p-1")
    assert resumed.state is RefundState.IN_CLEARING
    assert (resumed.card_amount_minor, resumed.rate_at_refund) == (14_10, "0.1410")


# --- tracking, retries and the operator ----------------------------------------------------


def test_a_declined_payout_is_retried_with_backoff_until_it_arrives(bank: Bank) -> None:
    bank.send("p-1", "alice-debit")
    after_card_window(bank)
    bank.recall("p-1")
    bank.network.decline("card:alice-debit", times=2)
    due = bank.refund("recall:p-1").arrives_at_us
    bank.run_until(due)
    first = bank.refund("recall:p-1")
    assert (first.state, first.attempts) == (RefundState.FAILED_RETRYING, 1)
    assert first.next_attempt_at_us == due + 5 * MINUTE * 1_000_000
    bank.run_until(first.next_attempt_at_us or 0)
    second = bank.refund("recall:p-1")
    assert (second.state, second.attempts) == (RefundState.FAILED_RETRYING, 2)
    assert second.next_attempt_at_us == bank.clock.now_us() + 10 * MINUTE * 1_000_000
    bank.run_until(second.next_attempt_at_us or 0)
    assert bank.refund("recall:p-1").state is RefundState.SETTLED
    assert bank.card_credits("card:alice-debit") == 100_00


def test_a_permanently_failed_payout_is_credited_to_the_balance_by_an_operator(
    bank: Bank,
) -> None:
    bank.send("p-1", "alice-credit")
    after_card_window(bank)
    bank.recall("p-1")
    bank.network.close_card("card:alice-credit")
    with pytest.raises(Exception, match="only a failed refund"):
        bank.desk.credit_to_balance("recall:p-1", "ops-1")
    bank.run_until(bank.refund("recall:p-1").arrives_at_us)
    failed = bank.refund("recall:p-1")
    assert (failed.state, failed.last_error) == (RefundState.FAILED, "the card is closed")
    assert [r.id for r in bank.desk.in_state(RefundState.FAILED)] == ["recall:p-1"]
    before = bank.balance("user:alice:balance")
    credited = bank.desk.credit_to_balance("recall:p-1", "ops-1")
    assert (credited.state, credited.destination_account_id) == (
        RefundState.CREDITED,
        "user:alice:balance",
    )
    assert bank.balance("user:alice:balance") == before + 100_00  # the whole amount, no fee
    assert bank.balance("clearing:CNY") == 0


class CrashingNetwork(SimulatedCardNetwork):
    """Accepts the payout, then the worker dies before its transaction commits (twice: the
    scheduler's batch attempt and its one-by-one attempt both crash)."""

    def __init__(self) -> None:
        super().__init__()
        self.crashes_left = 2
        self.accepted = 0

    def pay_out(self, refund: Refund) -> PayoutOutcome:
        outcome = super().pay_out(refund)
        self.accepted += 1
        if self.crashes_left:
            self.crashes_left -= 1
            raise RuntimeError("worker killed mid-settlement")
        return outcome


def test_a_crash_mid_settlement_is_retried_and_moves_the_money_once(bank: Bank) -> None:
    crashing = CrashingNetwork()
    bank.desk.network = crashing
    bank.send("p-1", "alice-debit")
    after_card_window(bank)
    bank.recall("p-1")
    bank.run_until(bank.refund("recall:p-1").arrives_at_us)
    assert bank.refund("recall:p-1").state is RefundState.IN_CLEARING  # rolled back
    assert bank.card_credits("card:alice-debit") == 0
    bank.run_until(bank.clock.now_us() + HOUR * 1_000_000)  # the scheduler's own retry
    assert bank.refund("recall:p-1").state is RefundState.SETTLED
    assert bank.card_credits("card:alice-debit") == 100_00
    assert crashing.accepted == 3  # asked three times, paid once (idempotent on the refund id)
