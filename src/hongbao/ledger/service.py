"""The ledger as a service: each call is its own unit of work on a :class:`Database`."""

from __future__ import annotations

from collections.abc import Sequence

from hongbao.ledger import operations
from hongbao.ledger.errors import LedgerCode
from hongbao.ledger.model import Account, NewAccount, Posting, TransferRequest
from hongbao.ledger.ports import Database, UnitOfWork
from hongbao.ledger.results import AccountResult, TransferResult
from hongbao.ledger.verification import VerificationReport, verify
from hongbao.platform.clock import Clock
from hongbao.platform.errors import InvalidInput
from hongbao.platform.limits import MAX_EXPIRY_SWEEP

MAX_HISTORY = 1_000


class UnknownAccount(InvalidInput):
    code = LedgerCode.UNKNOWN_ACCOUNT


class Ledger:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def create_accounts(self, requests: Sequence[NewAccount]) -> list[AccountResult]:
        return self.database.transact(
            lambda uow: operations.create_accounts(uow.ledger, requests, self.clock.now_us())
        )

    def create_transfers(self, requests: Sequence[TransferRequest]) -> list[TransferResult]:
        operations.check_batch_size(len(requests))

        def work(uow: UnitOfWork) -> list[TransferResult]:
            # "now" is read inside the transaction, after the database has handed it a turn.
            return operations.create_transfers(uow.ledger, requests, self.clock.now_us())

        return self.database.transact(work)

    def transfer(self, request: TransferRequest) -> TransferResult:
        (result,) = self.create_transfers([request])
        return result

    def expire_due(self, limit: int = MAX_EXPIRY_SWEEP) -> int:
        """Release every pending transfer whose timeout has passed, up to ``limit``."""
        limit = min(limit, MAX_EXPIRY_SWEEP)
        due = self.database.read(lambda uow: uow.ledger.due_pending(self.clock.now_us(), limit))
        if not due:
            return 0
        ids = [record.transfer_id for record in due]
        return self.database.transact(
            lambda uow: operations.expire_pending(uow.ledger, ids, self.clock.now_us())
        )

    def accounts(self, ids: Sequence[str]) -> dict[str, Account]:
        return self.database.read(lambda uow: uow.ledger.get_accounts(ids))

    def account(self, account_id: str) -> Account:
        found = self.accounts([account_id]).get(account_id)
        if found is None:
            raise UnknownAccount(f"no account {account_id!r}", account_id=account_id)
        return found

    def history(self, account_id: str, limit: int = 50) -> list[Posting]:
        limit = max(1, min(limit, MAX_HISTORY))
        return self.database.read(lambda uow: uow.ledger.account_postings(account_id, limit))

    def verify(self) -> VerificationReport:
        """Check every invariant on one consistent snapshot of the ledger."""
        return self.database.read(verify_ledger)


def verify_ledger(uow: UnitOfWork) -> VerificationReport:
    """Every ledger invariant, inside the caller's unit of work (to share its snapshot)."""
    repository = uow.ledger
    return verify(
        repository.iter_accounts(),
        repository.iter_transfers(),
        repository.iter_pending(),
        repository.iter_postings(),
    )
