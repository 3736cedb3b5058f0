"""Budget records: their tree position, states, ledger accounts and refusals with stable codes."""

from __future__ import annotations

import dataclasses

import pytest

from hongbao.distribution.model import (
    MAX_BUDGET_ID_LENGTH,
    MAX_LEVELS,
    Budget,
    BudgetState,
    DistributionError,
    TransferCode,
    budget_account_id,
    budget_source_id,
)
from hongbao.funding.sources import BudgetSource, FundingKind, ledger_account_for
from hongbao.ledger.model import AccountKind, NewAccount
from hongbao.platform.errors import InvalidInput

OPEN = BudgetState.OPEN


def root(budget_id: str = "b-0") -> Budget:
    return Budget(budget_id, "acme", "acme", None, 0, "CNY", OPEN, 1, None)


def child(budget_id: str = "b-1", parent_id: str = "b-0", level: int = 1) -> Budget:
    return Budget(budget_id, "acme", "alice", parent_id, level, "CNY", OPEN, 1, None)


def test_a_root_comes_from_and_returns_to_the_enterprise_balance() -> None:
    budget = root()
    assert budget.is_root
    assert budget.is_open
    assert budget.account_id == "budget:b-0" == budget_account_id("b-0")
    assert budget.parent_account_id == "user:acme:balance"


def test_a_child_comes_from_and_returns_to_its_parent_budget() -> None:
    budget = child()
    assert not budget.is_root
    assert budget.parent_account_id == "budget:b-0"
    assert budget.source_id == budget_source_id("b-1")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"level": MAX_LEVELS}, "distribution.too_deep"),
        ({"level": -1}, "distribution.too_deep"),
        ({"level": True}, "distribution.too_deep"),
        ({"parent_id": None}, "distribution.invalid_budget"),
        ({"currency": "USD"}, "distribution.currency_not_supported"),
        ({"state": BudgetState.CLOSED}, "distribution.invalid_budget"),
        ({"closed_at_us": 5}, "distribution.invalid_budget"),
        ({"state": "open"}, "distribution.invalid_budget"),
        ({"id": "x" * (MAX_BUDGET_ID_LENGTH + 1)}, "distribution.id_invalid"),
        ({"id": "has space"}, "distribution.id_invalid"),
    ],
)
def test_an_inconsistent_budget_is_refused_with_its_code(
    changes: dict[str, object], code: str
) -> None:
    with pytest.raises(DistributionError) as refused:
        dataclasses.replace(child(), **changes)  # type: ignore[arg-type]
    assert refused.value.code == code
    assert isinstance(refused.value, InvalidInput)


def test_a_root_with_a_parent_is_refused() -> None:
    with pytest.raises(DistributionError) as refused:
        dataclasses.replace(root(), parent_id="b-9")
    assert refused.value.code == "distribution.invalid_budget"


def test_a_closed_budget_has_its_closing_time() -> None:
    closed = dataclasses.replace(child(), state=BudgetState.CLOSED, closed_at_us=7)
    assert not closed.is_open


def test_the_deepest_level_is_max_levels_minus_one() -> None:
    assert child(level=MAX_LEVELS - 1).level == 3


def test_distribution_transfer_codes_are_in_their_own_range() -> None:
    codes = [value for name, value in vars(TransferCode).items() if name.isupper()]
    assert len(codes) == len(set(codes))
    assert all(121 <= code <= 129 for code in codes)


def test_a_budget_source_spends_from_the_budget_account() -> None:
    source = BudgetSource(budget_source_id("b-1"), "alice", "b-1")
    assert (source.kind, source.currency) == (FundingKind.BUDGET, "CNY")
    reference = ledger_account_for(source)
    assert reference.account_id == budget_account_id("b-1") == child().account_id
    assert reference.to_new_account() == NewAccount(
        "budget:b-1", AccountKind.DISTRIBUTION_BUDGET, "CNY"
    )
