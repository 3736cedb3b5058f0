"""The refund path through a budget tree (逐层逆向清算), planned from the budgets alone."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from hongbao.distribution.model import Budget, BudgetState, TransferCode
from hongbao.distribution.unwinding import MAX_HOPS, destination, hop_transfer_id, legs
from hongbao.platform.errors import InvariantViolation

ESCROW = "escrow:p-1"


def budget(level: int, *, closed: bool = False) -> Budget:
    return Budget(
        f"b-{level}",
        "acme",
        "acme" if level == 0 else f"d-{level}",
        None if level == 0 else f"b-{level - 1}",
        level,
        "CNY",
        BudgetState.CLOSED if closed else BudgetState.OPEN,
        1,
        2 if closed else None,
    )


def test_an_open_funding_budget_takes_the_money_in_one_hop() -> None:
    chain = [budget(2)]
    (leg,) = legs(chain, ESCROW)
    assert (leg.from_account_id, leg.to_account_id) == (ESCROW, "budget:b-2")
    assert leg.code == TransferCode.UNWIND_TO_BUDGET
    assert leg.note == "back to budget b-2 (level 2), which funded the packet"
    assert destination(chain) == "budget:b-2"


def test_a_closed_budget_passes_the_money_up_to_its_open_parent() -> None:
    chain = [budget(2, closed=True), budget(1)]
    planned = legs(chain, ESCROW)
    assert [(leg.from_account_id, leg.to_account_id) for leg in planned] == [
        (ESCROW, "budget:b-2"),
        ("budget:b-2", "budget:b-1"),
    ]
    assert [leg.code for leg in planned] == [TransferCode.UNWIND_TO_BUDGET, TransferCode.UNWIND_UP]
    assert planned[1].note == "budget b-2 (level 2) is closed: up one level to b-1"
    assert "has closed since" in planned[0].note
    assert destination(chain) == "budget:b-1"


def test_past_a_closed_root_the_money_returns_to_the_enterprise_balance() -> None:
    chain = [budget(level, closed=True) for level in (3, 2, 1, 0)]
    planned = legs(chain, ESCROW)
    assert len(planned) == MAX_HOPS
    assert [leg.to_account_id for leg in planned] == [
        "budget:b-3",
        "budget:b-2",
        "budget:b-1",
        "budget:b-0",
        "user:acme:balance",
    ]
    assert planned[-1].code == TransferCode.UNWIND_TO_ENTERPRISE
    assert planned[-1].note == "root budget b-0 is closed: back to the balance of enterprise acme"
    assert destination(chain) == "user:acme:balance"
    # Each hop starts where the previous one ended: the money is never in two places.
    assert all(a.to_account_id == b.from_account_id for a, b in itertools.pairwise(planned))


@pytest.mark.parametrize(
    "chain",
    [
        [],
        [budget(2), budget(1)],  # an open budget is where the money stays: no further hop
        [budget(2, closed=True)],  # a closed non-root budget must lead on to its parent
        [budget(2, closed=True), budget(0)],  # not its parent
        [dataclasses.replace(budget(2, closed=True), parent_id="b-9"), budget(1)],
    ],
    ids=["empty", "past-an-open-budget", "stops-at-closed", "skips-a-level", "wrong-parent"],
)
def test_a_chain_that_is_not_a_path_up_the_tree_is_a_broken_invariant(
    chain: list[Budget],
) -> None:
    with pytest.raises(InvariantViolation):
        legs(chain, ESCROW)


def test_hop_transfer_ids_name_the_refund_and_count_from_one() -> None:
    assert hop_transfer_id("r-1", 1) == "refund:r-1:hop:1"
