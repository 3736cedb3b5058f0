"""What the distribution context asks storage for: its budgets, and the unit of work its
services run in."""

from __future__ import annotations

from typing import Protocol, TypeAlias

from hongbao.distribution.model import Budget
from hongbao.funding.ports import FundingTables
from hongbao.identity.ports import IdentityRepository
from hongbao.ledger.ports import LedgerRepository
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database as DatabasePort


class DistributionTables(Protocol):
    @property
    def budgets(self) -> RecordTable[Budget]: ...

    def children_of(self, budget_id: str, *, limit: int) -> list[Budget]:
        """A budget's children, oldest first."""
        ...

    def open_children_of(self, budget_id: str, *, limit: int) -> list[Budget]:
        """A budget's open children, in id order."""
        ...


class UnitOfWork(Protocol):
    """The tables a budget's funding, spending and unwinding touch, in one transaction."""

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def identity(self) -> IdentityRepository: ...

    @property
    def funding(self) -> FundingTables: ...

    @property
    def distribution(self) -> DistributionTables: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
