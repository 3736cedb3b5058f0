"""Distribution budgets on every adapter (R-F5): a budget tree funded by an enterprise, packets
sent from it, and refunds cleared back level by level, with the books balanced after each."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hongbao.distribution.model import (
    Budget,
    BudgetState,
    DistributionError,
    RefundHop,
    TransferCode,
)
from hongbao.distribution.service import DistributionService
from hongbao.distribution.unwinding import destination_of, unwind
from hongbao.funding.service import FundingService, open_balance
from hongbao.funding.sources import BudgetSource, FundingKind
from hongbao.identity.service import IdentityService
from hongbao.identity.users import AccountTier, IdentityError, RealNameStatus, User, UserType
from hongbao.identity.verification import SimulatedProvider
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.service import Ledger
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import ClaimResult, PacketService, SendPacket
from hongbao.packets.split import PacketError
from hongbao.storage.unit_of_work import UnitOfWork
from tests.conftest import START_US

ENTERPRISE_FUNDS = 10_000_00


def cny(minor: int) -> Money:
    return Money.of(minor, "CNY")


@pytest.fixture
def budgets(world: PacketService) -> DistributionService:
    """The packet world plus an enterprise, acme, with 10,000.00 in its balance."""
    identity = IdentityService(
        world.database, world.clock, SimulatedProvider(b"p" * 32), on_register=(open_balance,)
    )
    identity.register_user(
        User(
            "acme",
            "Acme Ltd",
            AccountTier.ENTERPRISE,
            UserType.ENTERPRISE,
            START_US,
            RealNameStatus.VERIFIED,
        )
    )
    Ledger(world.database, world.clock).transfer(
        TransferRequest("acme-top-up", 1, ENTERPRISE_FUNDS, "bank", "user:acme:balance", "CNY")
    )
    return DistributionService(world.database, world.clock)


def balance_of(service: DistributionService, account_id: str) -> int:
    return Ledger(service.database, service.clock).account(account_id).credit_balance


def books_balance(service: DistributionService) -> bool:
    return Ledger(service.database, service.clock).verify().ok


def three_levels(budgets: DistributionService) -> None:
    """b-0 (acme, 1,000.00) -> b-1 (alice, 300.00) -> b-2 (bob, 100.00)."""
    budgets.open_root("b-0", "acme", cny(1_000_00))
    budgets.allocate("b-1", "b-0", "alice", cny(300_00))
    budgets.allocate("b-2", "b-1", "bob", cny(100_00))


def spend_into_escrow(budgets: DistributionService, budget_id: str, minor: int) -> str:
    """What a packet send does to a budget: its money moves to a packet escrow."""
    ledger = Ledger(budgets.database, budgets.clock)
    escrow = f"escrow:from-{budget_id}"
    ledger.create_accounts([NewAccount(escrow, AccountKind.PACKET_ESCROW, "CNY")])
    sent = ledger.transfer(
        TransferRequest(f"send:from-{budget_id}", 101, minor, f"budget:{budget_id}", escrow, "CNY")
    )
    assert sent.succeeded
    return escrow


def unwind_refund(
    budgets: DistributionService, refund_id: str, budget_id: str, escrow: str, minor: int
) -> tuple[RefundHop, ...]:
    def work(uow: UnitOfWork) -> tuple[RefundHop, ...]:
        return unwind(
            uow,
            refund_id=refund_id,
            budget_id=budget_id,
            amount_minor=minor,
            currency="CNY",
            from_account_id=escrow,
            reference="p-1",
            now_us=budgets.clock.now_us(),
        )

    return budgets.database.transact(work)


# --- opening, allocating, closing ------------------------------------------------------------


def test_a_tree_is_opened_allocated_and_closed_and_every_retry_moves_money_once(
    budgets: DistributionService,
) -> None:
    root = budgets.open_root("b-0", "acme", cny(1_000_00))
    assert (root.level, root.parent_id, root.holder_id, root.state) == (
        0,
        None,
        "acme",
        BudgetState.OPEN,
    )
    assert budgets.open_root("b-0", "acme", cny(1_000_00)) == root
    child = budgets.allocate("b-1", "b-0", "alice", cny(300_00))
    assert budgets.allocate("b-1", "b-0", "alice", cny(300_00)) == child
    grandchild = budgets.allocate("b-2", "b-1", "bob", cny(100_00))
    assert (child.level, grandchild.level, grandchild.enterprise_id) == (1, 2, "acme")
    assert balance_of(budgets, "user:acme:balance") == ENTERPRISE_FUNDS - 1_000_00
    assert [budgets.balance(b).minor for b in ("b-0", "b-1", "b-2")] == [700_00, 200_00, 100_00]
    assert budgets.children("b-0") == [child]
    assert [budget.id for budget, _ in budgets.tree("b-0")] == ["b-0", "b-1", "b-2"]

    closed = budgets.close("b-2")
    assert (closed.state, closed.closed_at_us) == (BudgetState.CLOSED, budgets.clock.now_us())
    assert budgets.close("b-2") == closed
    assert (budgets.balance("b-2").minor, budgets.balance("b-1").minor) == (0, 300_00)
    budgets.close("b-1")
    budgets.close("b-0")
    assert balance_of(budgets, "user:acme:balance") == ENTERPRISE_FUNDS
    assert budgets.budget("b-0").state is BudgetState.CLOSED
    assert books_balance(budgets)


def test_another_request_under_a_used_budget_id_is_refused(budgets: DistributionService) -> None:
    three_levels(budgets)
    retries: list[Callable[[], Budget]] = [
        lambda: budgets.open_root("b-0", "acme", cny(999_00)),
        lambda: budgets.allocate("b-1", "b-0", "bob", cny(300_00)),
        lambda: budgets.allocate("b-2", "b-0", "bob", cny(100_00)),
        lambda: budgets.allocate("b-0", "b-1", "acme", cny(1_000_00)),
    ]
    for retry in retries:
        with pytest.raises(DistributionError) as refused:
            retry()
        assert refused.value.code == "distribution.budget_exists"
    assert [budgets.balance(b).minor for b in ("b-0", "b-1", "b-2")] == [700_00, 200_00, 100_00]
    assert books_balance(budgets)


def test_a_budget_with_open_children_cannot_close(budgets: DistributionService) -> None:
    three_levels(budgets)
    with pytest.raises(DistributionError) as refused:
        budgets.close("b-1")
    assert refused.value.code == "distribution.has_open_children"
    assert budgets.budget("b-1").is_open
    assert budgets.balance("b-1").minor == 200_00
    assert books_balance(budgets)


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (lambda s: s.open_root("r", "alice", cny(1_00)), "distribution.not_enterprise"),
        (lambda s: s.open_root("r", "nobody", cny(1_00)), "distribution.unknown_user"),
        (
            lambda s: s.open_root("r", "acme", cny(ENTERPRISE_FUNDS + 1)),
            "distribution.insufficient_funds",
        ),
        (lambda s: s.open_root("r", "acme", cny(0)), "distribution.amount_not_positive"),
        (
            lambda s: s.open_root("r", "acme", Money.of(1_00, "USD")),
            "distribution.currency_not_supported",
        ),
        (lambda s: s.allocate("x", "nope", "alice", cny(1_00)), "distribution.unknown_budget"),
        (lambda s: s.allocate("x", "b-0", "nobody", cny(1_00)), "distribution.unknown_user"),
        (lambda s: s.allocate("x", "b-2", "carol", cny(100_01)), "distribution.insufficient_funds"),
        (lambda s: s.close("nope"), "distribution.unknown_budget"),
        (lambda s: s.balance("nope"), "distribution.unknown_budget"),
    ],
    ids=[
        "not-enterprise",
        "unknown-enterprise",
        "enterprise-short",
        "zero",
        "usd",
        "unknown-parent",
        "unknown-holder",
        "parent-short",
        "close-unknown",
        "unknown",
    ],
)
def test_refusals_name_their_rule_and_move_nothing(
    budgets: DistributionService, request_: Callable[[DistributionService], object], code: str
) -> None:
    three_levels(budgets)
    with pytest.raises(DistributionError) as refused:
        request_(budgets)
    assert refused.value.code == code
    assert [budgets.balance(b).minor for b in ("b-0", "b-1", "b-2")] == [700_00, 200_00, 100_00]
    assert balance_of(budgets, "user:acme:balance") == ENTERPRISE_FUNDS - 1_000_00
    assert books_balance(budgets)


def test_a_tree_is_at_most_four_levels_deep_and_closed_budgets_allocate_nothing(
    budgets: DistributionService,
) -> None:
    three_levels(budgets)
    deepest = budgets.allocate("b-3", "b-2", "carol", cny(10_00))
    assert deepest.level == 3
    with pytest.raises(DistributionError) as too_deep:
        budgets.allocate("b-4", "b-3", "dave", cny(1_00))
    assert too_deep.value.code == "distribution.too_deep"
    budgets.close("b-3")
    with pytest.raises(DistributionError) as closed:
        budgets.allocate("b-3a", "b-3", "dave", cny(1_00))
    assert closed.value.code == "distribution.budget_closed"
    assert books_balance(budgets)


def test_a_top_up_is_idempotent_on_its_key(budgets: DistributionService) -> None:
    three_levels(budgets)
    assert budgets.top_up("t-1", "b-2", cny(50_00)).minor == 150_00
    assert budgets.top_up("t-1", "b-2", cny(50_00)).minor == 150_00
    assert budgets.balance("b-1").minor == 150_00
    assert budgets.top_up("t-1", "b-0", cny(10_00)).minor == 710_00  # from acme's balance
    with pytest.raises(DistributionError) as reused:
        budgets.top_up("t-1", "b-2", cny(60_00))
    assert reused.value.code == "distribution.transfer_key_reused"
    budgets.close("b-2")
    with pytest.raises(DistributionError) as closed:
        budgets.top_up("t-2", "b-2", cny(1_00))
    assert closed.value.code == "distribution.budget_closed"
    assert books_balance(budgets)


def test_each_holder_gets_a_budget_source_that_nobody_can_register_directly(
    budgets: DistributionService,
) -> None:
    three_levels(budgets)
    funding = FundingService(budgets.database, budgets.clock)
    source = funding.funding_source("budget:b-1")
    assert source == BudgetSource("budget:b-1", "alice", "b-1")
    assert (source.kind, source.ledger_account_id) == (FundingKind.BUDGET, "budget:b-1")
    assert funding.funding_source("budget:b-0").user_id == "acme"
    with pytest.raises(IdentityError) as refused:
        funding.add_funding_source(BudgetSource("mine", "dave", "b-1"))
    assert refused.value.code == "identity.budget_source_not_direct"
    account = Ledger(budgets.database, budgets.clock).account("budget:b-1")
    assert (account.kind, account.flags.debits_must_not_exceed_credits) == (
        AccountKind.DISTRIBUTION_BUDGET,
        True,
    )


# --- packets from a budget --------------------------------------------------------------------


def test_a_group_packet_funded_by_a_budget_is_sent_and_claimed(
    budgets: DistributionService, world: PacketService
) -> None:
    three_levels(budgets)
    packet = world.send(
        SendPacket(
            "p-b", PacketType.GROUP_NORMAL, "alice", cny(30_00), 3, "budget:b-1", group_id="friends"
        )
    )
    assert (packet.funding_kind, packet.source_account_id) == (FundingKind.BUDGET, "budget:b-1")
    assert not packet.is_card_funded
    assert budgets.balance("b-1").minor == 170_00
    assert balance_of(budgets, "user:alice:balance") == 1_000_00  # her own money is untouched
    claimed = world.claim("p-b", "bob")
    assert (claimed.result, claimed.amount) == (ClaimResult.CLAIMED, cny(10_00))
    assert balance_of(budgets, "user:bob:balance") == 10_00
    assert balance_of(budgets, packet.escrow_account_id) == 20_00
    assert books_balance(budgets)
    assert world.verify().ok


def test_only_the_holder_sends_from_a_budget(
    budgets: DistributionService, world: PacketService
) -> None:
    three_levels(budgets)
    with pytest.raises(PacketError) as refused:
        world.send(
            SendPacket(
                "p-x",
                PacketType.GROUP_NORMAL,
                "bob",
                cny(3_00),
                3,
                "budget:b-1",
                group_id="friends",
            )
        )
    assert refused.value.code == "packets.unknown_funding_source"
    assert budgets.balance("b-1").minor == 200_00


# --- refunds cleared back level by level ------------------------------------------------------


def test_a_refund_passes_a_closed_budget_and_lands_on_its_nearest_open_ancestor(
    budgets: DistributionService,
) -> None:
    three_levels(budgets)
    escrow = spend_into_escrow(budgets, "b-2", 40_00)
    budgets.close("b-2")  # its remaining 60.00 went back to b-1
    assert budgets.balance("b-1").minor == 260_00
    assert budgets.database.read(lambda uow: destination_of(uow, "b-2")) == "budget:b-1"

    hops = unwind_refund(budgets, "r-1", "b-2", escrow, 40_00)

    assert [(hop.transfer_id, hop.from_account_id, hop.to_account_id) for hop in hops] == [
        ("refund:r-1:hop:1", escrow, "budget:b-2"),
        ("refund:r-1:hop:2", "budget:b-2", "budget:b-1"),
    ]
    assert hops[1].note == "budget b-2 (level 2) is closed: up one level to b-1"
    transfers = budgets.database.read(
        lambda uow: uow.ledger.get_transfers([hop.transfer_id for hop in hops])
    )
    for hop, code in zip(
        hops, (TransferCode.UNWIND_TO_BUDGET, TransferCode.UNWIND_UP), strict=True
    ):
        moved = transfers[hop.transfer_id]
        assert (moved.debit_account_id, moved.credit_account_id, moved.amount, moved.code) == (
            hop.from_account_id,
            hop.to_account_id,
            40_00,
            code,
        )
    assert balance_of(budgets, escrow) == 0
    assert budgets.balance("b-2").minor == 0
    assert budgets.balance("b-1").minor == 300_00
    assert budgets.balance("b-0").minor == 700_00
    assert books_balance(budgets)


def test_a_refund_to_an_open_budget_is_one_hop(budgets: DistributionService) -> None:
    three_levels(budgets)
    escrow = spend_into_escrow(budgets, "b-2", 40_00)
    (hop,) = unwind_refund(budgets, "r-1", "b-2", escrow, 25_00)
    assert (hop.from_account_id, hop.to_account_id, hop.amount_minor) == (
        escrow,
        "budget:b-2",
        25_00,
    )
    assert (balance_of(budgets, escrow), budgets.balance("b-2").minor) == (15_00, 85_00)
    assert books_balance(budgets)


def test_past_a_closed_root_a_refund_returns_to_the_enterprise_balance(
    budgets: DistributionService,
) -> None:
    three_levels(budgets)
    escrow = spend_into_escrow(budgets, "b-2", 40_00)
    for budget_id in ("b-2", "b-1", "b-0"):
        budgets.close(budget_id)
    acme_before = balance_of(budgets, "user:acme:balance")
    assert acme_before == ENTERPRISE_FUNDS - 40_00
    assert budgets.database.read(lambda uow: destination_of(uow, "b-2")) == "user:acme:balance"

    hops = unwind_refund(budgets, "r-1", "b-2", escrow, 40_00)

    assert [hop.to_account_id for hop in hops] == [
        "budget:b-2",
        "budget:b-1",
        "budget:b-0",
        "user:acme:balance",
    ]
    assert hops[-1].note == "root budget b-0 is closed: back to the balance of enterprise acme"
    assert balance_of(budgets, "user:acme:balance") == ENTERPRISE_FUNDS
    assert [budgets.balance(b).minor for b in ("b-0", "b-1", "b-2")] == [0, 0, 0]
    assert balance_of(budgets, escrow) == 0
    assert books_balance(budgets)


def test_a_refund_is_unwound_once_and_only_with_the_callers_transaction(
    budgets: DistributionService,
) -> None:
    three_levels(budgets)
    escrow = spend_into_escrow(budgets, "b-2", 40_00)
    budgets.close("b-2")

    def unwind_then_fail(uow: UnitOfWork) -> None:
        unwind(
            uow,
            refund_id="r-1",
            budget_id="b-2",
            amount_minor=40_00,
            currency="CNY",
            from_account_id=escrow,
            reference="p-1",
            now_us=budgets.clock.now_us(),
        )
        raise RuntimeError("the caller's refund failed after the hops")

    with pytest.raises(RuntimeError):
        budgets.database.transact(unwind_then_fail)
    assert (balance_of(budgets, escrow), budgets.balance("b-1").minor) == (40_00, 260_00)

    unwind_refund(budgets, "r-1", "b-2", escrow, 40_00)
    with pytest.raises(DistributionError) as again:
        unwind_refund(budgets, "r-1", "b-2", escrow, 40_00)
    assert again.value.code == "distribution.refund_already_unwound"
    assert budgets.balance("b-1").minor == 300_00
    assert books_balance(budgets)


@pytest.mark.parametrize(
    ("budget_id", "minor", "currency", "code"),
    [
        ("nope", 1_00, "CNY", "distribution.unknown_budget"),
        ("b-2", 0, "CNY", "distribution.amount_not_positive"),
        ("b-2", 1_00, "USD", "distribution.currency_mismatch"),
    ],
)
def test_an_unwinding_that_cannot_be_done_is_refused_before_anything_moves(
    budgets: DistributionService, budget_id: str, minor: int, currency: str, code: str
) -> None:
    three_levels(budgets)
    escrow = spend_into_escrow(budgets, "b-2", 40_00)

    def work(uow: UnitOfWork) -> tuple[RefundHop, ...]:
        return unwind(
            uow,
            refund_id="r-1",
            budget_id=budget_id,
            amount_minor=minor,
            currency=currency,
            from_account_id=escrow,
            reference="p-1",
            now_us=budgets.clock.now_us(),
        )

    with pytest.raises(DistributionError) as refused:
        budgets.database.transact(work)
    assert refused.value.code == code
    assert balance_of(budgets, escrow) == 40_00
    assert books_balance(budgets)


def test_budgets_are_stored_as_they_were_written(budgets: DistributionService) -> None:
    three_levels(budgets)
    budgets.close("b-2")
    stored: Budget = budgets.budget("b-2")
    assert stored == Budget(
        "b-2",
        "acme",
        "bob",
        "b-1",
        2,
        "CNY",
        BudgetState.CLOSED,
        budgets.clock.now_us(),
        budgets.clock.now_us(),
    )
