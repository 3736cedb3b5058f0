"""What the funding context asks storage for: its funding sources, and the unit of work its
services run in (a source belongs to a registered user and opens a ledger account)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeAlias

from hongbao.funding.sources import FundingKind
from hongbao.identity.ports import IdentityRepository
from hongbao.ledger.ports import LedgerRepository
from hongbao.platform.records import RecordTable
from hongbao.platform.unit_of_work import Database as DatabasePort


@dataclass(frozen=True, slots=True)
class StoredFunding:
    """A funding source as stored: the columns every kind shares, its own fields as JSON."""

    id: str
    user_id: str
    kind: FundingKind
    ledger_account_id: str
    currency: str
    details: str


class FundingTables(Protocol):
    @property
    def sources(self) -> RecordTable[StoredFunding]: ...

    def sources_of(self, user_id: str, *, limit: int) -> list[StoredFunding]: ...


class UnitOfWork(Protocol):
    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def identity(self) -> IdentityRepository: ...

    @property
    def funding(self) -> FundingTables: ...


Database: TypeAlias = DatabasePort[UnitOfWork]
