"""The funding context as a service: a user's funding sources and the ledger accounts they map
to, opened in the same transaction as the stored source."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hongbao.funding.ports import Database, FundingTables, StoredFunding, UnitOfWork
from hongbao.funding.sources import (
    BalanceSource,
    BudgetSource,
    CreditCardSource,
    DebitCardSource,
    ForeignCardSource,
    FundingKind,
    FundingSource,
    MoneyMarketSource,
    ledger_account_for,
)
from hongbao.identity.errors import IdentityCode
from hongbao.identity.service import put_once, require_user, unknown
from hongbao.identity.users import IdentityError, User
from hongbao.ledger import operations as ledger_operations
from hongbao.platform.clock import Clock
from hongbao.platform.invariants import invariant
from hongbao.platform.records import from_json, to_json

MAX_SOURCES_LISTED = 100

FUNDING_CLASSES: dict[FundingKind, type[Any]] = {
    FundingKind.BALANCE: BalanceSource,
    FundingKind.MONEY_MARKET: MoneyMarketSource,
    FundingKind.DEBIT_CARD: DebitCardSource,
    FundingKind.CREDIT_CARD: CreditCardSource,
    FundingKind.FOREIGN_CARD: ForeignCardSource,
    FundingKind.BUDGET: BudgetSource,
}


def stored_funding(source: FundingSource) -> StoredFunding:
    reference = ledger_account_for(source)
    return StoredFunding(
        id=source.id,
        user_id=source.user_id,
        kind=source.kind,
        ledger_account_id=reference.account_id,
        currency=reference.currency,
        details=to_json(source),
    )


def funding_from_stored(stored: StoredFunding) -> FundingSource:
    source: FundingSource = from_json(FUNDING_CLASSES[stored.kind], stored.details)
    invariant(source.id == stored.id, "stored details belong to their row", id=stored.id)
    return source


def read_stored_source(
    funding: FundingTables, source_id: str
) -> Callable[[], StoredFunding | None]:
    """The funding source ``source_id`` as stored: the read sent now, answered by the returned
    function (so it travels with a caller's other reads)."""
    found = funding.sources.read_many([(source_id,)])
    return lambda: found().get((source_id,))


def find_stored_source(funding: FundingTables, source_id: str) -> StoredFunding | None:
    """The funding source ``source_id`` as stored, or None."""
    return funding.sources.get(source_id)


def register_budget_source(funding: FundingTables, source: BudgetSource) -> None:
    """Store a budget's funding source for its holder, inside the caller's unit of work; the
    budget's ledger account is the distribution context's, opened with the budget."""
    funding.sources.insert(stored_funding(source))


def open_funding(uow: UnitOfWork, source: FundingSource, now_us: int) -> FundingSource:
    """Open the ledger account ``source`` maps to and store it, inside the caller's unit of
    work; the same source again is fine, another under its id is refused."""
    # The ledger account first: the stored source refers to it.
    account = ledger_account_for(source).to_new_account()
    (result,) = ledger_operations.create_accounts(uow.ledger, [account], now_us)
    if not result.succeeded:
        raise IdentityError(
            f"the ledger account {account.id!r} for {source.id!r} exists with other details",
            code=IdentityCode.LEDGER_ACCOUNT_CONFLICT,
            result=result.code.value,
        )
    stored = put_once(uow.funding.sources, stored_funding(source), (source.id,), "funding source")
    return funding_from_stored(stored)


def open_balance(uow: UnitOfWork, user: User, now_us: int) -> None:
    """A registration step: every user has a balance (零钱) from the moment they register."""
    open_funding(uow, BalanceSource(id=f"{user.id}-balance", user_id=user.id), now_us)


@dataclass
class FundingService:
    database: Database
    clock: Clock

    def add_funding_source(self, source: FundingSource) -> FundingSource:
        """Store a money source and open the ledger account it maps to, in one transaction."""
        if isinstance(source, BudgetSource):
            # Anyone naming a budget here could spend it; hongbao.distribution registers a
            # budget's source for its holder when it opens the budget.
            raise IdentityError(
                "budget sources are registered by opening or allocating the budget",
                code=IdentityCode.BUDGET_SOURCE_NOT_DIRECT,
                source_id=source.id,
            )

        def work(uow: UnitOfWork) -> FundingSource:
            require_user(uow.identity, source.user_id)
            return open_funding(uow, source, self.clock.now_us())

        return self.database.transact(work)

    def funding_sources(self, user_id: str) -> list[FundingSource]:
        rows = self.database.read(
            lambda uow: uow.funding.sources_of(user_id, limit=MAX_SOURCES_LISTED)
        )
        return [funding_from_stored(row) for row in rows]

    def funding_source(self, source_id: str) -> FundingSource:
        row = self.database.read(lambda uow: uow.funding.sources.get(source_id))
        if row is None:
            raise unknown(IdentityCode.UNKNOWN_FUNDING_SOURCE, "funding_source", source_id)
        return funding_from_stored(row)
