"""Distribution budgets (多级分销, R-F5): a tree of budgets funded by one enterprise.

An enterprise funds a *root* budget (level 0) from its balance; a budget's holder allocates
*child* budgets to distributors and sub-distributors, at most :data:`MAX_LEVELS` levels deep
(levels 0 to 3). Each budget holds its money in its own ledger account,
:func:`budget_account_id`, and its holder can send red packets from it.

A budget is open until it is closed; closing returns what it holds to its parent (or the
enterprise's balance for the root). A budget with open children cannot close, so an open
budget's ancestors are always open: closed budgets are always a run from a leaf upwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hongbao.distribution.errors import DistributionCode
from hongbao.funding.sources import budget_account_id
from hongbao.platform.errors import InvalidInput
from hongbao.platform.ids import is_valid_id

__all__ = [
    "BUDGET_CURRENCY",
    "MAX_BUDGET_ID_LENGTH",
    "MAX_LEVELS",
    "Budget",
    "BudgetState",
    "DistributionError",
    "TransferCode",
    "budget_account_id",
    "budget_source_id",
    "check_budget_id",
    "enterprise_balance_id",
]

MAX_LEVELS: Final = 4  # root (0), distributor (1), sub-distributor (2), and one more (3)
BUDGET_CURRENCY: Final = "CNY"
# Room for the ledger ids derived from it ("budget:<id>", "budget:<id>:top-up:<key>") in 128.
MAX_BUDGET_ID_LENGTH: Final = 64


class DistributionError(InvalidInput):
    """A budget request hongbao refuses; ``code`` says which rule it broke. Nothing was written."""

    code = DistributionCode.INVALID


class TransferCode:
    """Why money moved, on every ledger transfer of the distribution context (121..129)."""

    FUND_ROOT = 121  # the enterprise's balance -> its root budget
    ALLOCATE = 122  # a parent budget -> a new child budget
    TOP_UP = 123  # the parent budget (the enterprise's balance for the root) -> a budget
    CLOSE = 124  # a closing budget's remainder -> its parent (the enterprise for the root)
    UNWIND_TO_BUDGET = 125  # a refund: packet escrow -> the budget that funded the packet
    UNWIND_UP = 126  # a refund passing a closed budget: up one level
    UNWIND_TO_ENTERPRISE = 127  # a refund passing the closed root: the enterprise's balance


class BudgetState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def budget_source_id(budget_id: str) -> str:
    """The funding source through which a budget's holder sends packets from it."""
    return f"budget:{budget_id}"


def enterprise_balance_id(enterprise_id: str) -> str:
    """Where a root budget's money comes from, and goes back to once the root is closed."""
    return f"user:{enterprise_id}:balance"


def check_budget_id(value: object) -> str:
    if not is_valid_id(value) or len(str(value)) > MAX_BUDGET_ID_LENGTH:
        raise DistributionError(
            f"budget ids are 1 to {MAX_BUDGET_ID_LENGTH} letters, digits or ':._-/', "
            f"got {repr(value)[:40]}",
            code=DistributionCode.ID_INVALID,
        )
    return str(value)


@dataclass(frozen=True, slots=True)
class Budget:
    """One budget of the tree. ``holder_id`` spends it; ``enterprise_id`` funded the root.

    ``parent_id`` is ``None`` exactly for the root (level 0); ``closed_at_us`` is set exactly
    when the budget is closed.
    """

    id: str
    enterprise_id: str
    holder_id: str
    parent_id: str | None
    level: int
    currency: str
    state: BudgetState
    created_at_us: int
    closed_at_us: int | None

    def __post_init__(self) -> None:
        check_budget_id(self.id)
        self._check_level()
        if self.currency != BUDGET_CURRENCY:
            raise DistributionError(
                f"budgets are in {BUDGET_CURRENCY}, got {self.currency!r:.10}",
                code=DistributionCode.CURRENCY_NOT_SUPPORTED,
                budget_id=self.id,
            )
        if not isinstance(self.state, BudgetState) or (
            (self.state is BudgetState.CLOSED) != (self.closed_at_us is not None)
        ):
            raise DistributionError(
                "a budget has a closing time exactly when it is closed",
                code=DistributionCode.INVALID_BUDGET,
                budget_id=self.id,
            )

    def _check_level(self) -> None:
        if type(self.level) is not int or not 0 <= self.level < MAX_LEVELS:
            raise DistributionError(
                f"budget levels are 0 (root) to {MAX_LEVELS - 1}, got {self.level!r:.20}",
                code=DistributionCode.TOO_DEEP,
                budget_id=self.id,
            )
        if (self.parent_id is None) != (self.level == 0):
            raise DistributionError(
                "the root (level 0) alone has no parent",
                code=DistributionCode.INVALID_BUDGET,
                budget_id=self.id,
            )

    @property
    def is_open(self) -> bool:
        return self.state is BudgetState.OPEN

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def account_id(self) -> str:
        return budget_account_id(self.id)

    @property
    def source_id(self) -> str:
        return budget_source_id(self.id)

    @property
    def parent_account_id(self) -> str:
        """Where this budget's money came from and where it returns when it closes."""
        if self.parent_id is None:
            return enterprise_balance_id(self.enterprise_id)
        return budget_account_id(self.parent_id)


@dataclass(frozen=True, slots=True)
class RefundHop:
    """One step of a refund's path through the ledger, in the order it happened."""

    transfer_id: str
    from_account_id: str
    to_account_id: str
    amount_minor: int
    currency: str
    note: str  # why this hop, e.g. "budget b-2 is closed: up one level"
