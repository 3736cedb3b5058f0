"""Budgets as a service (R-F5): open, allocate, top up, close and inspect, each one transaction.

Every operation is idempotent on its id: a budget's funding transfer is ``budget:{id}:fund``,
its closing transfer ``budget:{id}:close`` and a top-up ``budget:{id}:top-up:{key}``, so a retry
moves money once and returns the first result. The same id with other arguments is refused
with ``distribution.budget_exists`` (``distribution.transfer_key_reused`` for a top-up).

Opening or allocating a budget opens its ledger account, moves its money there and registers a
:class:`~hongbao.funding.sources.BudgetSource` for its holder (``budget:{id}``), so the holder
sends red packets from it like from any other source. The root's holder is the enterprise.

**Closing** returns what a budget holds to its parent, or to the enterprise's balance for the
root. A budget with open children cannot close (``distribution.has_open_children``): close
them first. Refusing, instead of closing the subtree silently, keeps every close one visible
decision, and it keeps the tree's shape simple: an open budget's ancestors are all open, which
is what refunds clear back through (see ``unwinding``). A closed budget's source stays
registered but holds nothing, so sends from it are refused for lack of money.

Locks: the budget row first (the parent's for an allocation), then the ledger accounts, the
order ``unwinding`` follows too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final, TypeVar

from hongbao.distribution.errors import DistributionCode
from hongbao.distribution.model import (
    BUDGET_CURRENCY,
    MAX_LEVELS,
    Budget,
    BudgetState,
    DistributionError,
    TransferCode,
    check_budget_id,
)
from hongbao.distribution.ports import Database, UnitOfWork
from hongbao.funding.service import register_budget_source
from hongbao.funding.sources import BudgetSource
from hongbao.identity.reads import find_user
from hongbao.identity.users import User, UserStatus, UserType
from hongbao.ledger import operations as ledger_operations
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.results import TransferResultCode
from hongbao.money import Money
from hongbao.platform.clock import Clock
from hongbao.platform.ids import is_valid_id
from hongbao.platform.invariants import invariant, present

__all__ = ["MAX_CHILDREN_LISTED", "DistributionService"]

MAX_CHILDREN_LISTED: Final = 1_000
Result = TypeVar("Result")


def unknown_budget(budget_id: str) -> DistributionError:
    return DistributionError(
        f"no budget {budget_id!r}", code=DistributionCode.UNKNOWN_BUDGET, budget_id=budget_id
    )


def funding_transfer_id(budget_id: str) -> str:
    return f"budget:{budget_id}:fund"


def closing_transfer_id(budget_id: str) -> str:
    return f"budget:{budget_id}:close"


def top_up_transfer_id(budget_id: str, transfer_key: str) -> str:
    return f"budget:{budget_id}:top-up:{transfer_key}"


def check_amount(amount: object) -> int:
    """The amount in fen: positive CNY :class:`Money`, or refused."""
    if not isinstance(amount, Money):
        raise DistributionError("amounts are Money values", code=DistributionCode.NOT_MONEY)
    if amount.currency.code != BUDGET_CURRENCY:
        raise DistributionError(
            f"budgets are in {BUDGET_CURRENCY}, got {amount.currency.code}",
            code=DistributionCode.CURRENCY_NOT_SUPPORTED,
        )
    if not amount.is_positive():
        raise DistributionError(
            f"an amount must be positive, got {amount.format()}",
            code=DistributionCode.AMOUNT_NOT_POSITIVE,
        )
    return amount.minor


@dataclass
class DistributionService:
    database: Database
    clock: Clock

    def _write(self, work: Callable[[UnitOfWork], Result]) -> Result:
        return self.database.transact(work)

    # ---------------------------------------------------------------------------- opening

    def open_root(self, budget_id: str, enterprise_id: str, amount: Money) -> Budget:
        """A root budget (level 0) held by the enterprise, funded from its balance."""
        check_budget_id(budget_id)
        amount_minor = check_amount(amount)

        def work(uow: UnitOfWork) -> Budget:
            existing = uow.distribution.budgets.get(budget_id)
            if existing is not None:
                return _repeated(
                    uow,
                    existing,
                    enterprise_id=enterprise_id,
                    holder_id=enterprise_id,
                    parent_id=None,
                    amount_minor=amount_minor,
                )
            enterprise = _usable_user(uow, enterprise_id)
            if enterprise.user_type is not UserType.ENTERPRISE:
                raise DistributionError(
                    f"only enterprise accounts fund a root budget; {enterprise_id!r} is "
                    f"{enterprise.user_type.value}",
                    code=DistributionCode.NOT_ENTERPRISE,
                    user_id=enterprise_id,
                )
            now_us = self.clock.now_us()
            budget = Budget(
                budget_id,
                enterprise_id,
                enterprise_id,
                None,
                0,
                BUDGET_CURRENCY,
                BudgetState.OPEN,
                now_us,
                None,
            )
            _open(uow, budget, amount_minor, TransferCode.FUND_ROOT, now_us)
            return budget

        return self._write(work)

    def allocate(self, budget_id: str, parent_id: str, holder_id: str, amount: Money) -> Budget:
        """A child budget one level below ``parent_id``, for ``holder_id``, funded from the
        parent budget."""
        check_budget_id(budget_id)
        amount_minor = check_amount(amount)

        def work(uow: UnitOfWork) -> Budget:
            existing = uow.distribution.budgets.get(budget_id)
            if existing is not None:
                return _repeated(
                    uow,
                    existing,
                    enterprise_id=existing.enterprise_id,
                    holder_id=holder_id,
                    parent_id=parent_id,
                    amount_minor=amount_minor,
                )
            parent = _open_budget(uow, parent_id)
            if parent.level + 1 >= MAX_LEVELS:
                raise DistributionError(
                    f"budget {parent.id!r} is at level {parent.level}, the deepest of "
                    f"{MAX_LEVELS} levels; it cannot allocate further",
                    code=DistributionCode.TOO_DEEP,
                    budget_id=parent.id,
                )
            _usable_user(uow, holder_id)
            now_us = self.clock.now_us()
            budget = Budget(
                budget_id,
                parent.enterprise_id,
                holder_id,
                parent.id,
                parent.level + 1,
                BUDGET_CURRENCY,
                BudgetState.OPEN,
                now_us,
                None,
            )
            _open(uow, budget, amount_minor, TransferCode.ALLOCATE, now_us)
            return budget

        return self._write(work)

    def top_up(self, transfer_key: str, budget_id: str, amount: Money) -> Money:
        """More money for an open budget from its parent (the enterprise's balance for the
        root), idempotent on ``transfer_key``. Returns the budget's balance afterwards."""
        check_budget_id(budget_id)
        amount_minor = check_amount(amount)
        transfer_id = top_up_transfer_id(budget_id, transfer_key)
        if not is_valid_id(transfer_key) or not is_valid_id(transfer_id):
            raise DistributionError(
                "a top-up key is a short id of letters, digits or ':._-/'",
                code=DistributionCode.ID_INVALID,
            )

        def work(uow: UnitOfWork) -> Money:
            budget = uow.distribution.budgets.lock(budget_id)
            if budget is None:
                raise unknown_budget(budget_id)
            request = TransferRequest(
                transfer_id,
                TransferCode.TOP_UP,
                amount_minor,
                budget.parent_account_id,
                budget.account_id,
                budget.currency,
                reference=budget.id,
            )
            done = uow.ledger.get_transfers([transfer_id]).get(transfer_id)
            if done is None:
                _require_open(budget)
                _move(uow, request, self.clock.now_us())
            elif (done.amount, done.debit_account_id, done.credit_account_id) != (
                amount_minor,
                request.debit_account_id,
                request.credit_account_id,
            ):
                raise DistributionError(
                    f"top-up key {transfer_key!r} was used for another top-up",
                    code=DistributionCode.TRANSFER_KEY_REUSED,
                    budget_id=budget_id,
                )
            return _balance(uow, budget)

        return self._write(work)

    # ---------------------------------------------------------------------------- closing

    def close(self, budget_id: str) -> Budget:
        """Close an open budget with no open children; what it holds returns one level up.
        Closing a closed budget returns it as it is."""

        def work(uow: UnitOfWork) -> Budget:
            budget = uow.distribution.budgets.lock(budget_id)
            if budget is None:
                raise unknown_budget(budget_id)
            if not budget.is_open:
                return budget
            open_children = uow.distribution.open_children_of(budget.id, limit=1)
            if open_children:
                raise DistributionError(
                    f"budget {budget.id!r} has open children (e.g. {open_children[0].id!r}); "
                    "close them first",
                    code=DistributionCode.HAS_OPEN_CHILDREN,
                    budget_id=budget.id,
                    child_id=open_children[0].id,
                )
            now_us = self.clock.now_us()
            _return_remainder(uow, budget, now_us)
            closed = replace(budget, state=BudgetState.CLOSED, closed_at_us=now_us)
            uow.distribution.budgets.replace(closed)
            return closed

        return self._write(work)

    # ---------------------------------------------------------------------------- reading

    def budget(self, budget_id: str) -> Budget:
        return self.database.read(lambda uow: _existing(uow, budget_id))

    def children(self, budget_id: str) -> list[Budget]:
        def read(uow: UnitOfWork) -> list[Budget]:
            _existing(uow, budget_id)
            return _children(uow, budget_id)

        return self.database.read(read)

    def balance(self, budget_id: str) -> Money:
        return self.database.read(lambda uow: _balance(uow, _existing(uow, budget_id)))

    def tree(self, budget_id: str) -> list[tuple[Budget, Money]]:
        """The budget and everything below it, depth first, with balances, on one snapshot."""

        def read(uow: UnitOfWork) -> list[tuple[Budget, Money]]:
            found: list[tuple[Budget, Money]] = []
            pending = [_existing(uow, budget_id)]
            while pending:
                budget = pending.pop()
                found.append((budget, _balance(uow, budget)))
                pending.extend(reversed(_children(uow, budget.id)))
            return found

        return self.database.read(read)


# --- inside a unit of work --------------------------------------------------------------------


def _existing(uow: UnitOfWork, budget_id: str) -> Budget:
    budget = uow.distribution.budgets.get(budget_id)
    if budget is None:
        raise unknown_budget(budget_id)
    return budget


def _children(uow: UnitOfWork, budget_id: str) -> list[Budget]:
    return uow.distribution.children_of(budget_id, limit=MAX_CHILDREN_LISTED)


def _require_open(budget: Budget) -> None:
    if not budget.is_open:
        raise DistributionError(
            f"budget {budget.id!r} is closed",
            code=DistributionCode.BUDGET_CLOSED,
            budget_id=budget.id,
        )


def _open_budget(uow: UnitOfWork, budget_id: str) -> Budget:
    budget = uow.distribution.budgets.lock(budget_id)
    if budget is None:
        raise unknown_budget(budget_id)
    _require_open(budget)
    return budget


def _usable_user(uow: UnitOfWork, user_id: str) -> User:
    user = find_user(uow.identity, user_id)
    if user is None:
        raise DistributionError(
            f"no user {user_id!r}", code=DistributionCode.UNKNOWN_USER, user_id=user_id
        )
    if user.status is not UserStatus.NORMAL:
        raise DistributionError(
            f"user {user_id!r} is {user.status.value}; a budget needs a user in good standing",
            code=DistributionCode.USER_RESTRICTED,
            user_id=user_id,
        )
    return user


def _repeated(
    uow: UnitOfWork,
    existing: Budget,
    *,
    enterprise_id: str,
    holder_id: str,
    parent_id: str | None,
    amount_minor: int,
) -> Budget:
    """A retry returns the budget as it stands; other arguments under its id are refused."""
    funding = uow.ledger.get_transfers([funding_transfer_id(existing.id)])
    transfer = present(
        funding.get(funding_transfer_id(existing.id)),
        "every budget was funded",
        budget_id=existing.id,
    )
    asked = (enterprise_id, holder_id, parent_id, amount_minor)
    if asked != (existing.enterprise_id, existing.holder_id, existing.parent_id, transfer.amount):
        raise DistributionError(
            f"budget id {existing.id!r} was used for another budget",
            code=DistributionCode.BUDGET_EXISTS,
            budget_id=existing.id,
        )
    return existing


def _open(uow: UnitOfWork, budget: Budget, amount_minor: int, code: int, now_us: int) -> None:
    """Open the budget's account, fund it, then store the budget and its holder's source."""
    # Money first: the rows written after it take foreign-key locks on rows the ledger locks.
    account = NewAccount(
        budget.account_id, AccountKind.DISTRIBUTION_BUDGET, budget.currency, reference=budget.id
    )
    (opened,) = ledger_operations.create_accounts(uow.ledger, [account], now_us)
    invariant(opened.succeeded, "a new budget's account opens", budget_id=budget.id)
    _move(
        uow,
        TransferRequest(
            funding_transfer_id(budget.id),
            code,
            amount_minor,
            budget.parent_account_id,
            budget.account_id,
            budget.currency,
            reference=budget.id,
        ),
        now_us,
    )
    uow.distribution.budgets.insert(budget)
    source = BudgetSource(budget.source_id, budget.holder_id, budget.id)
    register_budget_source(uow.funding, source)


def _move(uow: UnitOfWork, request: TransferRequest, now_us: int) -> None:
    (result,) = ledger_operations.create_transfers(uow.ledger, [request], now_us)
    if result.code is TransferResultCode.EXCEEDS_CREDITS:
        raise DistributionError(
            f"not enough money in {request.debit_account_id!r}",
            code=DistributionCode.INSUFFICIENT_FUNDS,
            account_id=request.debit_account_id,
        )
    if result.code is not TransferResultCode.OK:
        raise DistributionError(
            f"the ledger refused the transfer: {result.message}",
            code=DistributionCode.LEDGER_REFUSED,
            result=result.code.value,
            transfer_id=request.id,
        )


def _return_remainder(uow: UnitOfWork, budget: Budget, now_us: int) -> None:
    # Locked before it is read: a packet sent from the budget meanwhile waits, then finds it
    # empty, so the amount moved here is exactly what the budget holds.
    account = present(
        uow.ledger.lock_accounts([budget.account_id]).get(budget.account_id),
        "a budget has its account",
        budget_id=budget.id,
    )
    invariant(account.debits_pending == 0, "budgets hold no pending debits", budget_id=budget.id)
    if account.credit_balance == 0:
        return
    _move(
        uow,
        TransferRequest(
            closing_transfer_id(budget.id),
            TransferCode.CLOSE,
            account.credit_balance,
            budget.account_id,
            budget.parent_account_id,
            budget.currency,
            reference=budget.id,
        ),
        now_us,
    )


def _balance(uow: UnitOfWork, budget: Budget) -> Money:
    account = present(
        uow.ledger.get_accounts([budget.account_id]).get(budget.account_id),
        "a budget has its account",
        budget_id=budget.id,
    )
    return Money.of(account.credit_balance, budget.currency)
